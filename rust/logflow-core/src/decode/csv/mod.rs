//! CSV / TSV decoding to Arrow.
//!
//! The input is cut into chunks at line feeds ([`chunk`]); each chunk is tokenized on
//! `csv-core` (with a memchr fast path for quote-free lines) and decoded into typed columns
//! under an error policy ([`decode`]); chunk results are put back in order and mis-cut chunks
//! repaired ([`sequence`]). Chunks are independent, so the pipeline decodes them on all
//! cores; [`CsvReader`] runs the same steps on the calling thread for streaming reads.

pub mod chunk;
pub mod decode;
pub(crate) mod prefetch;
pub mod sequence;
pub mod tokenize;

use std::collections::VecDeque;
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, SchemaRef};

pub use chunk::{Chunk, Chunker};
pub use decode::{ChunkDecoder, ChunkOutput};
pub use sequence::Sequencer;
pub use tokenize::{ChunkTokenizer, Dialect, RowBlock, Step};

use crate::decode::values::{DateFormat, TimeShape};
use crate::decode::{CastErrorPolicy, ErrorPolicy};
use crate::detect::Finding;
use crate::error::{Error, ErrorKind, Position, Result};
use crate::schema::{self, ColumnInference, ColumnType, NullTokens};

/// How to read delimited text.
#[derive(Debug, Clone)]
pub struct CsvOptions {
    /// Field delimiter (its last byte, for a two-byte one). `None` detects it.
    pub delimiter: Option<u8>,
    /// With [`CsvOptions::delimiter`], the first byte of a two-byte delimiter (`§`: C2 A7).
    pub delimiter_lead: Option<u8>,
    /// Quote character: `Some(None)` turns quoting off; `None` detects it.
    pub quote: Option<Option<u8>>,
    /// Escape character inside quotes (`Some(Some(b'\\'))`), or `Some(None)` for doubled
    /// quotes; `None` detects it.
    pub escape: Option<Option<u8>>,
    /// Whether spaces after a delimiter are padding to skip (`a, "b, c"`). `None` detects it.
    pub skip_initial_space: Option<bool>,
    /// Whether the first record of the table names the columns. `None` detects it.
    pub header: Option<bool>,
    /// Lines before the table (titles, comments) to skip. `None` detects them.
    pub skip_lines: Option<usize>,
    /// Column types to use instead of inferring them (one per column, in order); their
    /// number is the table's width.
    pub types: Option<Vec<ColumnType>>,
    /// Types for some columns by name; the others are inferred. A name the input does not
    /// have is a schema error.
    pub column_types: Vec<(String, ColumnType)>,
    /// Most rows in one record batch.
    pub batch_rows: usize,
    /// Size of the chunks the input is cut into (the unit of parallel work).
    pub chunk_bytes: usize,
    /// Largest record accepted; a quoted field running longer is an unterminated quote.
    pub max_record_bytes: usize,
    /// What to do with bad records.
    pub error_policy: ErrorPolicy,
    /// What to do with values that do not parse as their column's type.
    pub on_cast_error: CastErrorPolicy,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: None,
            delimiter_lead: None,
            quote: None,
            escape: None,
            skip_initial_space: None,
            header: None,
            skip_lines: None,
            types: None,
            column_types: Vec::new(),
            batch_rows: 64 * 1024,
            chunk_bytes: 4 << 20,
            max_record_bytes: 64 << 20,
            error_policy: ErrorPolicy::Strict,
            on_cast_error: CastErrorPolicy::Reject,
        }
    }
}

/// Share of values in a column that may fail to parse as the inferred type when the error
/// policy sets bad rows aside (strict inference allows none).
pub const INFER_TOLERANCE: f64 = 0.01;

impl CsvOptions {
    fn validate(&self) -> Result<()> {
        if self.batch_rows == 0 || self.chunk_bytes == 0 || self.max_record_bytes == 0 {
            return Err(Error::invalid(
                "batch_rows, chunk_bytes and max_record_bytes must be positive",
            ));
        }
        if let Some(d) = self.delimiter {
            if matches!(d, b'\n' | b'\r') || Some(Some(d)) == self.quote {
                return Err(Error::invalid(format!(
                    "{:?} cannot be the delimiter",
                    char::from(d)
                )));
            }
        }
        Ok(())
    }
}

/// The width of the table: the field count shared by at least 90% of the sample's records
/// (and by at least two), when there is one.
fn table_width(block: &RowBlock) -> Option<usize> {
    let mut counts: Vec<(usize, usize)> = Vec::new();
    for r in block.rows() {
        match counts.iter_mut().find(|(w, _)| *w == r.fields) {
            Some((_, n)) => *n += 1,
            None => counts.push((r.fields, 1)),
        }
    }
    let (w, n) = counts.into_iter().max_by_key(|&(_, n)| n)?;
    (n >= 2 && n * 10 >= block.len() * 9).then_some(w)
}

/// Makes a header as wide as the table its records agree on: a header with extra empty
/// cells (`id,,name`) loses them, a short one gets generated names for the missing columns.
/// A longer header without enough empty cells is left alone (its records will not fit).
fn fit_header(fields: &mut Vec<Vec<u8>>, width: usize) {
    if fields.len() > width {
        let empty = fields.iter().filter(|f| f.is_empty()).count();
        if fields.len() - empty <= width {
            let mut extra = fields.len() - width;
            fields.retain(|f| {
                if f.is_empty() && extra > 0 {
                    extra -= 1;
                    false
                } else {
                    true
                }
            });
        }
    } else {
        fields.resize(width, Vec::new());
    }
}

/// Bytes of the first chunk that dialect detection looks at.
const SAMPLE_BYTES: usize = 64 << 10;
/// The larger sample used when detection on the usual one is not sure.
const WIDE_SAMPLE_BYTES: usize = 1 << 20;

/// The dialect to read with: what the caller gave, the rest detected from `sample`. When
/// the caller fixes the delimiter, quote or escape to something detection did not pick, the
/// preamble and header are worked out again under the caller's split.
fn detect_dialect(body: &[u8], opts: &CsvOptions) -> Finding<crate::detect::Dialect> {
    let sample = body.get(..body.len().min(SAMPLE_BYTES)).unwrap_or_default();
    let all_given = opts.delimiter.is_some()
        && opts.quote.is_some()
        && opts.escape.is_some()
        && opts.header.is_some()
        && opts.skip_lines.is_some();
    if all_given {
        let given = crate::detect::Dialect {
            delimiter: opts.delimiter.unwrap_or(b','),
            delimiter_lead: opts.delimiter_lead,
            quote: opts.quote.unwrap_or(Some(b'"')),
            escape: opts.escape.unwrap_or(None),
            header: opts.header.unwrap_or(true),
            skip_lines: opts.skip_lines.unwrap_or(0),
            skip_initial_space: opts.skip_initial_space.unwrap_or(false),
            ..crate::detect::Dialect::default()
        };
        return Finding::new(given, 1.0, "given");
    }
    let mut found = crate::detect::dialect(sample);
    let mut sample = sample;
    // Ambiguous on the usual sample, or too few lines in it to tell a header (records of
    // over 16 KiB, thousands of columns): look at more of the chunk.
    let few_lines = memchr::memchr2_iter(b'\n', b'\r', sample).take(4).count() < 4;
    if (found.confidence < 0.6 || few_lines) && body.len() > sample.len() {
        let wide = body
            .get(..body.len().min(WIDE_SAMPLE_BYTES))
            .unwrap_or_default();
        let again = crate::detect::dialect(wide);
        if few_lines || again.confidence > found.confidence {
            found = again;
            sample = wide;
        }
    }
    let detected = found.value;
    let mut d = detected;
    // "No quoting" on weak evidence while the sample has double quotes: an unclosed quote
    // in a small sample looks like that; RFC 4180 quoting is the safer reading.
    if d.quote.is_none() && found.confidence < 0.8 && memchr::memchr(b'"', sample).is_some() {
        d.quote = Some(b'"');
    }
    if let Some(delim) = opts.delimiter {
        if (delim, opts.delimiter_lead) != (d.delimiter, d.delimiter_lead) {
            (d.quote, d.escape) = crate::detect::quoting_for(sample, delim, opts.delimiter_lead);
        }
        d.delimiter = delim;
        d.delimiter_lead = opts.delimiter_lead;
    }
    if let Some(q) = opts.quote {
        d.quote = q;
    }
    if let Some(e) = opts.escape {
        d.escape = e;
    }
    let split = |d: &crate::detect::Dialect| (d.delimiter, d.delimiter_lead, d.quote, d.escape);
    if split(&d) != split(&detected) {
        d = crate::detect::layout(sample, d);
    }
    if let Some(skip) = opts.skip_initial_space {
        d.skip_initial_space = skip;
    }
    if let Some(n) = opts.skip_lines {
        if n != d.skip_lines {
            d.skip_lines = n;
            d.header = crate::detect::header(sample, &d).value;
        }
    }
    if let Some(h) = opts.header {
        d.header = h;
    }
    if d == detected {
        found
    } else {
        Finding::new(
            d,
            found.confidence,
            format!("{}; adjusted to the options given", found.evidence),
        )
    }
}

/// Appends the next chunk to `first`, whose first `what` (the header, or the first record)
/// does not end in it; an error once that passes `max_record_bytes`.
fn take_next_chunk<R: Read>(
    chunker: &mut Chunker<R>,
    first: &mut Chunk,
    max_record_bytes: usize,
    what: &str,
) -> Result<()> {
    match chunker.next_chunk()? {
        Some(next) => {
            first.bytes.extend_from_slice(&next.bytes);
            first.last = next.last;
        }
        None => first.last = true,
    }
    if first.bytes.len() > max_record_bytes {
        return Err(Error::new(ErrorKind::LimitExceeded(format!(
            "the {what} is longer than {max_record_bytes} bytes"
        ))));
    }
    Ok(())
}

/// Whether a date format inferred for type `inferred` reads type `given`: the same type, or
/// dates read as timestamps.
fn same_dates(inferred: ColumnType, given: ColumnType) -> bool {
    inferred == given
        || matches!(
            (inferred, given),
            (ColumnType::Date, ColumnType::Timestamp(_))
        )
}

/// Where decoding starts: the chunker after the first chunk, the decoder with the schema,
/// and the first chunk (header skipped), not yet decoded.
pub struct CsvStart<R> {
    /// The chunker, positioned after the first chunk.
    pub chunker: Chunker<R>,
    /// Decoder with the schema.
    pub decoder: ChunkDecoder,
    /// The first chunk.
    pub first: Chunk,
    /// The header record exactly as in the input (empty without a header).
    pub header_raw: Vec<u8>,
    /// The dialect read with (detected, or given), with how sure detection was.
    pub dialect: Finding<crate::detect::Dialect>,
    /// Per column, how the sample writes the time of day of a timestamp or time column.
    pub time_shapes: Vec<Option<TimeShape>>,
}

/// Reads the first chunk of `src`, settles dialect, header and types, and returns the pieces
/// to decode the rest.
pub fn start<R: Read>(
    src: R,
    opts: &CsvOptions,
    bytes_read: Option<Arc<AtomicU64>>,
) -> Result<CsvStart<R>> {
    opts.validate()?;
    let guess_quote = opts.quote.unwrap_or(Some(b'"'));
    let mut chunker = Chunker::new(src, opts.chunk_bytes, guess_quote, opts.max_record_bytes);
    if let Some(c) = bytes_read {
        chunker = chunker.with_progress(c);
    }
    let mut first = chunker
        .next_chunk()?
        .ok_or_else(|| Error::new(ErrorKind::Empty))?;
    // A chunk of nothing but blank lines holds no record: the table starts further on.
    while !first.last
        && first
            .bytes
            .get(first.start..)
            .unwrap_or_default()
            .iter()
            .all(|&b| b == b'\n' || b == b'\r')
    {
        match chunker.next_chunk()? {
            Some(next) => first = next,
            None => return Err(Error::new(ErrorKind::Empty)),
        }
    }
    let body = first.bytes.get(first.start..).unwrap_or_default();
    if first.last && body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::new(ErrorKind::Empty));
    }
    let found = detect_dialect(body, opts);
    let detected = found.value;
    let dialect = Dialect {
        delimiter: detected.delimiter,
        delimiter_lead: detected.delimiter_lead,
        quote: detected.quote,
        escape: detected.escape,
        skip_initial_space: detected.skip_initial_space,
    };
    chunker.set_quote(dialect.quote);
    // Preamble: skip whole lines before the table.
    for _ in 0..detected.skip_lines {
        let rest = first.bytes.get(first.start..).unwrap_or_default();
        match memchr::memchr(b'\n', rest) {
            Some(i) => first.start += i + 1,
            None => first.start = first.bytes.len(),
        }
    }

    let mut header_raw = Vec::new();
    let mut header_fields: Option<Vec<Vec<u8>>> = None;
    if detected.header {
        let fields = loop {
            let mut tok =
                ChunkTokenizer::new(&first.bytes, first.start, first.line, first.last, dialect);
            let mut block = RowBlock::default();
            match tok.next(&mut block) {
                Step::Record => {
                    let row = block
                        .rows()
                        .first()
                        .copied()
                        .ok_or_else(|| Error::new(ErrorKind::Empty))?;
                    header_raw = first
                        .bytes
                        .get(row.start..row.end)
                        .unwrap_or_default()
                        .to_vec();
                    let fields: Vec<Vec<u8>> = (0..row.fields)
                        .map(|c| block.row_field(&row, c).to_vec())
                        .collect();
                    first.start = tok.pos();
                    break fields;
                }
                Step::End => return Err(Error::new(ErrorKind::Empty)),
                Step::Unterminated { .. } => {
                    return Err(Error::decode(
                        "csv",
                        Position {
                            byte: 0,
                            line: 1,
                            record: 0,
                        },
                        None,
                        "unterminated quote in the header",
                    ))
                }
                Step::Incomplete { .. } => {
                    // A header longer than a chunk: take the next chunk too.
                    take_next_chunk(&mut chunker, &mut first, opts.max_record_bytes, "header")?;
                }
            }
        };
        header_fields = Some(fields);
    }

    // Inference sample: the first chunk's records. A first record longer than the chunk
    // (or cut inside by a misleading quote) takes the next chunks too, as the header does.
    let sample_block = loop {
        let mut block = RowBlock::default();
        let mut tok =
            ChunkTokenizer::new(&first.bytes, first.start, first.line, first.last, dialect);
        let step = loop {
            match tok.next(&mut block) {
                Step::Record => {}
                // Decoding rejects the quote's first line and reads on from the next one:
                // the sample does too, so the types and null words seen are those of the
                // rows that will be decoded.
                Step::Unterminated { start } => {
                    tok.skip_first_line(start);
                }
                step => break step,
            }
        };
        if !block.is_empty() || first.last || !matches!(step, Step::Incomplete { .. }) {
            break block;
        }
        take_next_chunk(
            &mut chunker,
            &mut first,
            opts.max_record_bytes,
            "first record",
        )?;
    };
    // Types given by the caller fix the width; otherwise the sample's records do.
    let width = match &opts.types {
        Some(t) => Some(t.len()),
        None => table_width(&sample_block),
    };
    let names = match &mut header_fields {
        Some(fields) => {
            if let Some(w) = width {
                fit_header(fields, w);
            }
            let mut names = Vec::with_capacity(fields.len());
            for (c, f) in fields.iter().enumerate() {
                let name = std::str::from_utf8(f).map_err(|_| {
                    Error::decode(
                        "csv",
                        Position {
                            byte: 0,
                            line: 1,
                            record: 0,
                        },
                        Some(format!("#{}", c + 1)),
                        "header is not valid UTF-8",
                    )
                })?;
                names.push(name.to_string());
            }
            schema::unique_names(names)
        }
        None => {
            let w = width
                .or_else(|| sample_block.rows().first().map(|r| r.fields))
                .unwrap_or(0);
            schema::unique_names((0..w).map(|_| String::new()))
        }
    };
    let ncols = names.len();
    let whole_input = first.last;
    // What the sample says of each column: type, null words, date format.
    let infer = || {
        let tolerance = if opts.error_policy == ErrorPolicy::Strict {
            0.0
        } else {
            INFER_TOLERANCE
        };
        // No column can fit a type with more misfits than the tolerance allows of
        // every sample row, so such a type is not tried further.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let limit = (sample_block.rows().len() as f64 * tolerance).floor() as u64;
        // Where the comma is not the delimiter, `1,5` may be a number.
        let comma_numbers = dialect.delimiter != b',' || dialect.delimiter_lead.is_some();
        let mut cols = vec![
            ColumnInference::with_misfit_limit(limit)
                .with_decimal_comma(comma_numbers);
            ncols
        ];
        let is_header = |row: &tokenize::RowMeta| {
            header_fields.as_ref().is_some_and(|h| {
                (0..ncols)
                    .all(|c| h.get(c).map(Vec::as_slice) == Some(sample_block.row_field(row, c)))
            })
        };
        for row in sample_block
            .rows()
            .iter()
            .filter(|r| r.fields == ncols && !is_header(r))
        {
            for (c, inf) in cols.iter_mut().enumerate() {
                inf.observe(sample_block.row_field(row, c));
            }
        }
        let mut out = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (c, name) in cols.iter().zip(&names) {
            let (mut ty, mut nulls, mut format) = c.resolve_full(tolerance);
            if whole_input && c.only_nulls() {
                // Every row of the input is in the sample, and none has a value here.
                ty = ColumnType::Null;
                nulls = c.null_tokens();
            } else if ty == ColumnType::Int64 {
                if let Some(f) = c.epoch_format(name) {
                    ty = ColumnType::Timestamp(arrow_schema::TimeUnit::Microsecond);
                    format = f;
                }
            }
            out.0.push(ty);
            out.1.push(nulls);
            out.2.push(format);
        }
        out.3 = cols;
        out
    };
    let (mut types, mut nulls, mut formats, inferences) = match &opts.types {
        Some(types) if types.len() != ncols => {
            return Err(Error::new(ErrorKind::Schema(format!(
                "{} column types given for {ncols} columns",
                types.len()
            ))))
        }
        // Types given by the caller: every usual null word reads as null, and a date
        // format found in the sample applies where the given type is the inferred one.
        Some(types) => {
            let (inferred, _, found, inferences) = infer();
            let formats = types
                .iter()
                .zip(inferred.iter().zip(found))
                .map(|(t, (i, f))| {
                    if same_dates(*i, *t) {
                        f
                    } else {
                        DateFormat::ISO
                    }
                })
                .collect();
            (
                types.clone(),
                vec![NullTokens::ALL; ncols],
                formats,
                inferences,
            )
        }
        None => infer(),
    };
    for (name, ty) in &opts.column_types {
        let Some(c) = names.iter().position(|n| n == name) else {
            return Err(Error::new(ErrorKind::Schema(format!(
                "no column {name:?} to give a type to; the columns are {}",
                schema::quoted_names(&names)
            ))));
        };
        if let (Some(t), Some(n), Some(f)) =
            (types.get_mut(c), nulls.get_mut(c), formats.get_mut(c))
        {
            // The inferred date format still applies when the given type is the inferred one.
            if !same_dates(*t, *ty) {
                *f = DateFormat::ISO;
            }
            *n = if ty.is_typed() {
                NullTokens::ALL
            } else {
                NullTokens::EMPTY_ONLY
            };
            *t = *ty;
        }
    }
    let time_shapes = types
        .iter()
        .zip(&inferences)
        .map(|(t, c)| c.time_shape(*t))
        .collect();
    let decoder = ChunkDecoder {
        schema: schema::arrow_schema(&names, &types),
        types,
        nulls,
        formats,
        dialect,
        policy: opts.error_policy,
        on_cast_error: opts.on_cast_error,
        max_record_bytes: opts.max_record_bytes,
        batch_rows: opts.batch_rows,
        header: header_fields,
    };
    Ok(CsvStart {
        chunker,
        decoder,
        first,
        header_raw,
        dialect: found,
        time_shapes,
    })
}

/// What a [`CsvReader`] has read so far, shared so that whoever holds the reader's consumer
/// can still see it. `rows_read == rows returned + rows_rejected + rows_skipped` once the
/// reader is exhausted.
#[derive(Debug, Default)]
pub struct ReadCounts {
    /// Data records read.
    pub rows_read: AtomicU64,
    /// Bad records dropped (permissive policy).
    pub rows_rejected: AtomicU64,
    /// Headers repeated mid-file, dropped.
    pub rows_skipped: AtomicU64,
}

/// Streams record batches from CSV bytes: on the calling thread, or with
/// [`CsvReader::with_threads`] decoded ahead on background threads.
///
/// Under the permissive and quarantine policies bad records are dropped here (counted in
/// [`CsvReader::rows_rejected`]); use the pipeline to keep them.
pub struct CsvReader<R> {
    /// `None` once handed to the background reader.
    chunker: Option<Chunker<R>>,
    decoder: Arc<ChunkDecoder>,
    first: Option<Chunk>,
    sequencer: Sequencer,
    chunks: u64,
    ready: VecDeque<RecordBatch>,
    rows_rejected: u64,
    counts: Arc<ReadCounts>,
    path: Option<PathBuf>,
    failed: bool,
    /// An error to raise after the batches before it.
    pending: Option<Error>,
    /// Chunks decoded ahead on other threads (which then own the chunker).
    prefetch: Option<prefetch::Prefetch>,
}

impl<R: Read> CsvReader<R> {
    /// Opens a streaming reader over `src`.
    pub fn new(src: R, opts: &CsvOptions) -> Result<Self> {
        let s = start(src, opts, None)?;
        Ok(CsvReader {
            chunker: Some(s.chunker),
            decoder: Arc::new(s.decoder),
            first: Some(s.first),
            sequencer: Sequencer::new(),
            chunks: 0,
            ready: VecDeque::new(),
            rows_rejected: 0,
            counts: Arc::new(ReadCounts::default()),
            path: None,
            failed: false,
            pending: None,
            prefetch: None,
        })
    }

    /// Names `path` in the errors of later batches.
    #[must_use]
    pub fn with_path(mut self, path: &std::path::Path) -> Self {
        self.path = Some(path.to_path_buf());
        self
    }

    /// The schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        self.decoder.schema()
    }

    /// Records read so far.
    pub fn rows_read(&self) -> u64 {
        self.sequencer.records()
    }

    /// How each column's dates are written (ISO unless inference found another format).
    pub fn date_formats(&self) -> &[crate::decode::values::DateFormat] {
        self.decoder.date_formats()
    }

    /// Bad records dropped so far (permissive and quarantine policies).
    pub fn rows_rejected(&self) -> u64 {
        self.rows_rejected
    }

    /// The counters, updated as batches are produced.
    pub fn counts(&self) -> Arc<ReadCounts> {
        Arc::clone(&self.counts)
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            if let Some(b) = self.ready.pop_front() {
                return Ok(Some(b));
            }
            if let Some(e) = self.pending.take() {
                self.failed = true;
                return Err(e);
            }
            if self.failed {
                return Ok(None);
            }
            let out = match &self.prefetch {
                Some(p) => match p.recv() {
                    Some(out) => out,
                    None => return self.prefetch_ended(),
                },
                None => {
                    let mut chunk = match self.first.take() {
                        Some(c) => c,
                        None => match self.chunker.as_mut() {
                            Some(chunker) => match chunker.next_chunk()? {
                                Some(c) => c,
                                None => return Ok(None),
                            },
                            None => return Ok(None),
                        },
                    };
                    // Sequence numbers are given here: the header may have merged chunks.
                    chunk.index = self.chunks;
                    self.chunks += 1;
                    self.decoder.process(chunk)
                }
            };
            let ready = self.sequencer.push(out, &self.decoder);
            self.counts
                .rows_read
                .store(self.sequencer.records(), Ordering::Relaxed);
            for mut out in ready {
                if let Some(p) = &self.prefetch {
                    p.release();
                }
                if let Some(e) = out.error.take() {
                    // Raised once the batches of earlier chunks are out; nothing more is
                    // wanted from the background threads.
                    self.pending = Some(e);
                    self.prefetch = None;
                    break;
                }
                self.rows_rejected += out.rejects.len() as u64;
                self.counts
                    .rows_rejected
                    .fetch_add(out.rejects.len() as u64, Ordering::Relaxed);
                self.counts
                    .rows_skipped
                    .fetch_add(out.rows_skipped, Ordering::Relaxed);
                self.ready.extend(out.batches);
            }
        }
    }
}

impl<R: Read> CsvReader<R> {
    /// Every decoded chunk has come back: the end of the input, or the error that ended it.
    fn prefetch_ended(&mut self) -> Result<Option<RecordBatch>> {
        self.failed = true;
        let error = self.prefetch.take().and_then(|p| p.take_error());
        if let Some(e) = error {
            return Err(e);
        }
        self.sequencer.drained()?;
        Ok(None)
    }
}

impl<R: Read + Send + 'static> CsvReader<R> {
    /// Decodes ahead of the consumer on `threads` background threads (plus one reading the
    /// input), keeping at most `2 * threads + 2` chunks in memory; `threads <= 1`, or an
    /// input read whole already, keeps everything on the calling thread. Batches, counts
    /// and errors are the same either way.
    #[must_use]
    pub fn with_threads(mut self, threads: usize) -> Self {
        if threads <= 1 || self.prefetch.is_some() {
            return self;
        }
        if self.first.as_ref().is_none_or(|f| f.last) {
            return self;
        }
        let (Some(mut first), Some(chunker)) = (self.first.take(), self.chunker.take()) else {
            return self;
        };
        first.index = self.chunks;
        self.prefetch = Some(prefetch::Prefetch::start(
            first,
            chunker,
            &self.decoder,
            threads,
            crate::pipeline::in_flight(threads),
        ));
        self
    }
}

impl<R: Read> Iterator for CsvReader<R> {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        let res = self.next_batch();
        let res = match (&self.path, res) {
            (Some(p), Err(e)) => Err(e.with_path(p)),
            (_, r) => r,
        };
        res.transpose()
    }
}

impl<R: Read> CsvReader<R> {
    /// This reader as an Arrow [`RecordBatchReader`](arrow_array::RecordBatchReader), whose
    /// errors carry the core error inside `ArrowError::ExternalError`.
    pub fn into_arrow(self) -> ArrowBatches<R> {
        ArrowBatches(self)
    }
}

/// A [`CsvReader`] seen through Arrow's reader trait.
pub struct ArrowBatches<R>(CsvReader<R>);

impl<R: Read> Iterator for ArrowBatches<R> {
    type Item = std::result::Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|r| r.map_err(ArrowError::from))
    }
}

impl<R: Read> arrow_array::RecordBatchReader for ArrowBatches<R> {
    fn schema(&self) -> SchemaRef {
        self.0.schema()
    }
}

#[cfg(test)]
mod tests;
