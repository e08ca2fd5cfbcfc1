//! CSV / TSV decoding to Arrow.
//!
//! The input is cut into chunks at line feeds ([`chunk`]); each chunk is tokenized on
//! `csv-core` (with a memchr fast path for quote-free lines) and decoded into typed columns
//! under an error policy ([`decode`]); chunk results are put back in order and mis-cut chunks
//! repaired ([`sequence`]). Chunks are independent, so the pipeline decodes them on all
//! cores; [`CsvReader`] runs the same steps on the calling thread for streaming reads.

pub mod decode;
mod framing;
mod resume;
pub mod tokenize;

use std::io::Read;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

pub use decode::ChunkDecoder;
pub use framing::QuoteParity;
pub use tokenize::{ChunkTokenizer, Dialect, RowBlock, Step};

use crate::decode::values::{DateFormat, TimeShape};
use crate::decode::DecodeOptions;
use crate::detect::Finding;
use crate::error::{Error, ErrorKind, Position, Result};
use crate::schema::{self, ColumnInference, ColumnType, NullTokens};
use crate::stream::{BatchReader, Chunk, Chunker, QuarantineFormat, Start};

/// A streaming CSV reader: [`BatchReader`] over the CSV decoder.
pub type CsvReader<R> = BatchReader<R, ChunkDecoder>;

/// Opens a streaming reader over delimited text: the first chunk is read now (dialect,
/// header and types are settled), the rest as batches are pulled.
pub fn reader<R: Read>(src: R, decode: &DecodeOptions, opts: &CsvOptions) -> Result<CsvReader<R>> {
    Ok(BatchReader::new(start(src, decode, opts, None)?.start))
}

/// How delimited text is written: the dialect, and where the table starts. `None` fields
/// are detected.
#[derive(Debug, Clone, Default)]
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
}

impl CsvOptions {
    fn validate(&self) -> Result<()> {
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
/// (and by at least two, unless the sample has one record), when there is one.
fn table_width(block: &RowBlock) -> Option<usize> {
    let mut counts: Vec<(usize, usize)> = Vec::new();
    for r in block.rows() {
        match counts.iter_mut().find(|(w, _)| *w == r.fields) {
            Some((_, n)) => *n += 1,
            None => counts.push((r.fields, 1)),
        }
    }
    let (w, n) = counts.into_iter().max_by_key(|&(_, n)| n)?;
    // One record is all a short file may have: its width stands.
    ((n >= 2 || block.len() == 1) && n * 10 >= block.len() * 9).then_some(w)
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

/// Appends the next chunk to `first`, whose record at `first.start` (the header, or the
/// first record) does not end in it; returns whether that record is still within
/// `max_record_bytes`.
fn take_next_chunk<R: Read>(
    chunker: &mut Chunker<R>,
    first: &mut Chunk,
    max_record_bytes: usize,
) -> Result<bool> {
    if first.cut_line {
        // The chunker cut the record's line at the limit already (and skips its rest).
        return Ok(false);
    }
    match chunker.next_chunk()? {
        Some(next) => {
            first.bytes.extend_from_slice(&next.bytes);
            first.last = next.last;
            // Cut inside an over-long line: the chunker skips the rest of it.
            first.cut_line = next.cut_line;
        }
        None => first.last = true,
    }
    Ok(first.bytes.len().saturating_sub(first.start) <= max_record_bytes)
}

/// The error for a header longer than `max_record_bytes`.
fn header_too_long(max_record_bytes: usize) -> Error {
    Error::new(ErrorKind::LimitExceeded(format!(
        "the header is longer than {max_record_bytes} bytes"
    )))
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

/// What the CSV start step settled, besides where decoding goes on: the dialect and how
/// each column writes its times (both for `detect`).
pub struct CsvStart<R> {
    /// Where decoding goes on.
    pub start: Start<R, ChunkDecoder>,
    /// The dialect read with (detected, or given), with how sure detection was.
    pub dialect: Finding<crate::detect::Dialect>,
    /// Per column, how the sample writes the time of day of a timestamp or time column.
    pub time_shapes: Vec<Option<TimeShape>>,
}

/// Reads the first chunk of `src`, settles dialect, header and types, and returns the pieces
/// to decode the rest. The steps: [`first_chunk`], [`detect_dialect`], [`skip_preamble`],
/// [`read_header`], [`sample_records`], [`column_names`], [`infer_columns`] and
/// [`given_types`].
pub fn start<R: Read>(
    src: R,
    decode: &DecodeOptions,
    opts: &CsvOptions,
    bytes_read: Option<Arc<AtomicU64>>,
) -> Result<CsvStart<R>> {
    decode.validate()?;
    opts.validate()?;
    let guess = QuoteParity::new(opts.quote.unwrap_or(Some(b'"')));
    let mut chunker = Chunker::new(
        src,
        decode.chunk_bytes,
        Box::new(guess),
        decode.max_record_bytes,
    );
    if let Some(c) = bytes_read {
        chunker = chunker.with_progress(c);
    }
    let mut first = first_chunk(&mut chunker)?;
    let found = detect_dialect(first.bytes.get(first.start..).unwrap_or_default(), opts);
    let detected = found.value;
    let dialect = Dialect {
        delimiter: detected.delimiter,
        delimiter_lead: detected.delimiter_lead,
        quote: detected.quote,
        escape: detected.escape,
        skip_initial_space: detected.skip_initial_space,
    };
    chunker.set_framing(Box::new(QuoteParity::new(dialect.quote)));
    skip_preamble(&mut first, detected.skip_lines);
    let header = if detected.header {
        Some(read_header(&mut chunker, &mut first, dialect, decode)?)
    } else {
        None
    };
    let sample = sample_records(&mut chunker, &mut first, dialect, decode)?;
    // Types given by the caller fix the width; otherwise the sample's records do.
    let width = match &opts.types {
        Some(t) => Some(t.len()),
        None => table_width(&sample),
    };
    let mut header_fields = header.as_ref().map(|h| h.fields.clone());
    let names = column_names(header_fields.as_mut(), width, &sample)?;
    let wider_ok = matches!(
        decode.schema_policy,
        Some(crate::decode::SchemaPolicy::Merge | crate::decode::SchemaPolicy::Evolve)
    );
    check_widths(&sample, names.len(), wider_ok, &found.value)?;
    let inferred = infer_columns(
        &sample,
        &names,
        header_fields.as_deref(),
        dialect,
        decode,
        first.last,
    );
    let mut columns = match &opts.types {
        Some(types) => inferred.with_types(types)?,
        None => inferred,
    };
    given_types(&mut columns, &names, &decode.column_types)?;
    let time_shapes = columns
        .types
        .iter()
        .zip(&columns.inferences)
        .map(|(t, c)| c.time_shape(*t))
        .collect();
    let decoder = ChunkDecoder {
        schema: schema::arrow_schema(&names, &columns.types),
        types: columns.types,
        nulls: columns.nulls,
        formats: columns.formats,
        dialect,
        policy: decode.error_policy,
        on_cast_error: decode.on_cast_error,
        max_record_bytes: decode.max_record_bytes,
        batch_rows: decode.batch_rows,
        header: header_fields,
        empty_as_null: decode.empty_is_null(),
        row_sources: decode.row_sources,
        wider_records: matches!(
            decode.schema_policy,
            Some(crate::decode::SchemaPolicy::Merge | crate::decode::SchemaPolicy::Evolve)
        ),
    };
    Ok(CsvStart {
        start: Start {
            chunker,
            decoder,
            first,
            quarantine: QuarantineFormat {
                header: header.map(|h| h.raw).unwrap_or_default(),
                footer: Vec::new(),
                extension: "csv".into(),
                input_extension: true,
            },
        },
        dialect: found,
        time_shapes,
    })
}

/// Refuses a reading that makes nearly every record of the sample the wrong width: the
/// reading is wrong, not the data, and decoding would drop almost every record. (Detection
/// prefers readings that explain the records; this catches a dialect given by the caller,
/// or one detection could not do better with.)
fn check_widths(
    sample: &RowBlock,
    columns: usize,
    wider_ok: bool,
    d: &crate::detect::Dialect,
) -> Result<()> {
    let rows = sample.rows();
    if rows.len() < 5 {
        return Ok(());
    }
    let fitting = rows
        .iter()
        .filter(|r| r.fields == columns || (wider_ok && r.fields > columns))
        .count();
    if fitting * 10 >= rows.len() {
        return Ok(());
    }
    let usual = table_width(sample).map_or_else(
        || "records of varying widths".to_string(),
        |w| format!("most records have {w}"),
    );
    let delimiter = match d.delimiter_lead {
        Some(lead) => String::from_utf8_lossy(&[lead, d.delimiter]).into_owned(),
        None => char::from(d.delimiter).to_string(),
    };
    Err(Error::new(ErrorKind::Schema(format!(
        "the table read with delimiter {delimiter:?}, header={}, skip_lines={} has {columns} \
         columns but only {fitting} of the first {} records have {columns} fields ({usual}): \
         nearly every record would be rejected; give the dialect (delimiter, header, \
         skip_lines) that fits the file",
        d.header,
        d.skip_lines,
        rows.len()
    ))))
}

/// The first chunk that holds more than blank lines: a chunk of nothing but line ends holds
/// no record, and the table starts further on. An input of only whitespace is empty.
fn first_chunk<R: Read>(chunker: &mut Chunker<R>) -> Result<Chunk> {
    let mut first = chunker
        .next_chunk()?
        .ok_or_else(|| Error::new(ErrorKind::Empty))?;
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
    Ok(first)
}

/// Moves the first chunk's start past `lines` whole lines (titles, comments).
fn skip_preamble(first: &mut Chunk, lines: usize) {
    for _ in 0..lines {
        let rest = first.bytes.get(first.start..).unwrap_or_default();
        match memchr::memchr(b'\n', rest) {
            Some(i) => first.start += i + 1,
            None => first.start = first.bytes.len(),
        }
    }
}

/// The header record: its bytes as in the input, and its fields.
struct Header {
    raw: Vec<u8>,
    fields: Vec<Vec<u8>>,
}

/// The position of the header, for errors about it.
const HEADER_POSITION: Position = Position {
    byte: 0,
    line: 1,
    record: 0,
    path: None,
};

/// Reads the header record at the first chunk's start and moves the start past it; a
/// header longer than the chunk takes the next chunks too.
fn read_header<R: Read>(
    chunker: &mut Chunker<R>,
    first: &mut Chunk,
    dialect: Dialect,
    decode: &DecodeOptions,
) -> Result<Header> {
    loop {
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
                let raw = first
                    .bytes
                    .get(row.start..row.end)
                    .unwrap_or_default()
                    .to_vec();
                // Held to the limit however the input is cut into chunks.
                let len = raw.strip_suffix(b"\n").unwrap_or(&raw);
                if len.strip_suffix(b"\r").unwrap_or(len).len() > decode.max_record_bytes {
                    return Err(header_too_long(decode.max_record_bytes));
                }
                let fields = (0..row.fields)
                    .map(|c| block.row_field(&row, c).to_vec())
                    .collect();
                first.start = tok.pos();
                return Ok(Header { raw, fields });
            }
            Step::End => return Err(Error::new(ErrorKind::Empty)),
            Step::Unterminated { .. } => {
                return Err(Error::decode(
                    "csv",
                    HEADER_POSITION,
                    None,
                    "unterminated quote in the header",
                ))
            }
            Step::Incomplete { .. } => {
                // The header read so far is held to the limit, not the bytes after it that
                // the next chunk brings along (once whole, the header itself is checked).
                let so_far = first.bytes.len().saturating_sub(first.start);
                if so_far > decode.max_record_bytes || first.cut_line {
                    return Err(header_too_long(decode.max_record_bytes));
                }
                take_next_chunk(chunker, first, decode.max_record_bytes)?;
            }
        }
    }
}

/// The inference sample: the first chunk's records. A first record longer than the chunk
/// takes the next chunks too, as the header does. Decoding rejects an unterminated quote's
/// first line and reads on from the next one: the sample does too, so the types and null
/// words seen are those of the rows that will be decoded.
fn sample_records<R: Read>(
    chunker: &mut Chunker<R>,
    first: &mut Chunk,
    dialect: Dialect,
    decode: &DecodeOptions,
) -> Result<RowBlock> {
    loop {
        let mut block = RowBlock::default();
        let mut tok =
            ChunkTokenizer::new(&first.bytes, first.start, first.line, first.last, dialect);
        let step = loop {
            match tok.next(&mut block) {
                Step::Record => {}
                Step::Unterminated { start } => {
                    tok.skip_first_line(start);
                }
                step => break step,
            }
        };
        if !block.is_empty() || first.last || !matches!(step, Step::Incomplete { .. }) {
            return Ok(block);
        }
        if !take_next_chunk(chunker, first, decode.max_record_bytes)? {
            // A first record past the limit: decoding rejects it, as it would anywhere
            // else; the sample is what came before it (nothing).
            return Ok(block);
        }
    }
}

/// The column names: the header's fields fitted to `width` (or generated names for a table
/// without header), made unique.
fn column_names(
    header: Option<&mut Vec<Vec<u8>>>,
    width: Option<usize>,
    sample: &RowBlock,
) -> Result<Vec<String>> {
    match header {
        Some(fields) => {
            if let Some(w) = width {
                fit_header(fields, w);
            }
            let mut names = Vec::with_capacity(fields.len());
            for (c, f) in fields.iter().enumerate() {
                let name = std::str::from_utf8(f).map_err(|_| {
                    Error::decode(
                        "csv",
                        HEADER_POSITION,
                        Some(format!("#{}", c + 1)),
                        "header is not valid UTF-8",
                    )
                })?;
                names.push(name.to_string());
            }
            Ok(schema::unique_names(names))
        }
        None => {
            let w = width
                .or_else(|| sample.rows().first().map(|r| r.fields))
                .unwrap_or(0);
            Ok(schema::unique_names((0..w).map(|_| String::new())))
        }
    }
}

/// Per column: type, null words, value format, and what the sample said of it.
struct Columns {
    types: Vec<ColumnType>,
    nulls: Vec<NullTokens>,
    formats: Vec<DateFormat>,
    inferences: Vec<ColumnInference>,
}

impl Columns {
    /// Types given by the caller for every column, in order: every usual null word reads as
    /// null, and a date format found in the sample applies where the given type is the
    /// inferred one.
    fn with_types(self, types: &[ColumnType]) -> Result<Self> {
        if types.len() != self.types.len() {
            return Err(Error::new(ErrorKind::Schema(format!(
                "{} column types given for {} columns",
                types.len(),
                self.types.len()
            ))));
        }
        let formats = types
            .iter()
            .zip(self.types.iter().zip(self.formats))
            .map(|(t, (i, f))| {
                if same_dates(*i, *t) {
                    f
                } else {
                    DateFormat::ISO
                }
            })
            .collect();
        Ok(Columns {
            nulls: vec![NullTokens::ALL; types.len()],
            types: types.to_vec(),
            formats,
            inferences: self.inferences,
        })
    }
}

/// What the sample says of each column: type, null words, date format. `whole_input`: the
/// sample is every record of the input, so a column with no value at all is null-typed.
fn infer_columns(
    sample: &RowBlock,
    names: &[String],
    header: Option<&[Vec<u8>]>,
    dialect: Dialect,
    decode: &DecodeOptions,
    whole_input: bool,
) -> Columns {
    let ncols = names.len();
    let tolerance = decode.infer_tolerance();
    // No column can fit a type with more misfits than the tolerance allows of every
    // sample row, so such a type is not tried further.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let limit = (sample.rows().len() as f64 * tolerance).floor() as u64;
    // Where the comma is not the delimiter, `1,5` may be a number.
    let comma_numbers = dialect.delimiter != b',' || dialect.delimiter_lead.is_some();
    let mut cols =
        vec![ColumnInference::with_misfit_limit(limit).with_decimal_comma(comma_numbers); ncols];
    let is_header = |row: &tokenize::RowMeta| {
        header.is_some_and(|h| {
            (0..ncols).all(|c| h.get(c).map(Vec::as_slice) == Some(sample.row_field(row, c)))
        })
    };
    for row in sample
        .rows()
        .iter()
        .filter(|r| decode.infer_types && r.fields == ncols && !is_header(r))
    {
        for (c, inf) in cols.iter_mut().enumerate() {
            inf.observe(sample.row_field(row, c));
        }
    }
    let mut out = Columns {
        types: Vec::with_capacity(ncols),
        nulls: Vec::with_capacity(ncols),
        formats: Vec::with_capacity(ncols),
        inferences: Vec::new(),
    };
    for (c, name) in cols.iter().zip(names) {
        if !decode.infer_types {
            // Text mode: every value as written.
            out.types.push(ColumnType::Utf8);
            out.nulls.push(NullTokens::EMPTY_ONLY);
            out.formats.push(DateFormat::ISO);
            continue;
        }
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
        out.types.push(ty);
        out.nulls.push(nulls);
        out.formats.push(format);
    }
    out.inferences = cols;
    out
}

/// Applies the types the caller gave by name. A name the input does not have is a schema
/// error naming the columns it has.
fn given_types(
    columns: &mut Columns,
    names: &[String],
    given: &[(String, ColumnType)],
) -> Result<()> {
    for (name, ty) in given {
        let Some(c) = names.iter().position(|n| n == name) else {
            return Err(Error::new(ErrorKind::Schema(format!(
                "no column {name:?} to give a type to; the columns are {}",
                schema::quoted_names(names)
            ))));
        };
        if let (Some(t), Some(n), Some(f)) = (
            columns.types.get_mut(c),
            columns.nulls.get_mut(c),
            columns.formats.get_mut(c),
        ) {
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
    Ok(())
}

#[cfg(test)]
mod tests;
