//! Streaming CSV / TSV decoding: bytes -> [`RowBlock`]s (tokenizing, on `csv-core`) ->
//! Arrow [`RecordBatch`]es (typed column building).
//!
//! The two steps are separate so the pipeline can run them on different threads: a
//! [`Tokenizer`] cuts the input into bounded blocks of records, and a [`BatchDecoder`]
//! (immutable, `Sync`) turns each block into one batch. [`CsvReader`] chains both on the
//! calling thread for streaming reads.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, PrimitiveBuilder,
};
use arrow_array::types::{TimestampMicrosecondType, TimestampNanosecondType};
use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions, StringArray};
use arrow_buffer::{NullBufferBuilder, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, SchemaRef, TimeUnit};
use csv_core::{ReadRecordResult, ReaderBuilder};

use crate::decode::values;
use crate::error::{Error, ErrorKind, Position, Result};
use crate::schema::{self, ColumnInference, ColumnType};

const FORMAT: &str = "csv";

/// How to read delimited text.
#[derive(Debug, Clone)]
pub struct CsvOptions {
    /// Field delimiter. `None` sniffs it from the first lines of the input.
    pub delimiter: Option<u8>,
    /// Quote character; `None` turns quoting off.
    pub quote: Option<u8>,
    /// Escape character inside quotes (e.g. `\`); `None` means quotes are escaped by doubling.
    pub escape: Option<u8>,
    /// Whether the first record names the columns. `None` assumes it does.
    pub header: Option<bool>,
    /// Column types to use instead of inferring them (one per column, in order).
    pub types: Option<Vec<ColumnType>>,
    /// Most rows in one record batch.
    pub batch_rows: usize,
    /// Most field bytes in one record batch (a batch closes once it holds this many).
    pub batch_bytes: usize,
    /// Largest record accepted; a longer one (often an unterminated quote) is an error.
    pub max_record_bytes: usize,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: None,
            quote: Some(b'"'),
            escape: None,
            header: None,
            types: None,
            batch_rows: 64 * 1024,
            batch_bytes: 8 << 20,
            max_record_bytes: 64 << 20,
        }
    }
}

impl CsvOptions {
    fn validate(&self) -> Result<()> {
        if self.batch_rows == 0 || self.batch_bytes == 0 {
            return Err(Error::invalid(
                "batch_rows and batch_bytes must be positive",
            ));
        }
        if let Some(d) = self.delimiter {
            if matches!(d, b'\n' | b'\r') || Some(d) == self.quote {
                return Err(Error::invalid(format!(
                    "{:?} cannot be the delimiter",
                    char::from(d)
                )));
            }
        }
        Ok(())
    }
}

/// Records tokenized from the input, ready to become one record batch.
///
/// Field bytes are stored back to back (quotes removed); `ends[k]` is the end of field `k`
/// in `data`, so field `k` spans `ends[k-1]..ends[k]`.
#[derive(Debug, Default)]
pub struct RowBlock {
    data: Vec<u8>,
    ends: Vec<usize>,
    rows: Vec<RowMeta>,
}

#[derive(Debug, Clone, Copy)]
struct RowMeta {
    first_field: usize,
    fields: usize,
    position: Position,
}

impl RowBlock {
    /// Number of records in the block.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the block holds no record.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Input bytes covered by the block's fields (a cheap size measure).
    pub fn data_len(&self) -> usize {
        self.data.len()
    }

    fn field(&self, k: usize) -> &[u8] {
        let start = if k == 0 {
            0
        } else {
            self.ends.get(k - 1).copied().unwrap_or(0)
        };
        let end = self.ends.get(k).copied().unwrap_or(start);
        self.data.get(start..end).unwrap_or_default()
    }

    fn row_field(&self, row: &RowMeta, col: usize) -> &[u8] {
        self.field(row.first_field + col)
    }
}

/// Cuts a byte stream into [`RowBlock`]s. Push-style inside (csv-core does no I/O); this
/// type owns the buffer and the reads.
pub struct Tokenizer<R> {
    src: R,
    core: csv_core::Reader,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// Input offset of `buf[start]`.
    offset: u64,
    /// Line feeds csv-core did not see: blank lines skipped between records and records
    /// taken by the fast path.
    extra_lines: u64,
    records: u64,
    batch_rows: usize,
    batch_bytes: usize,
    max_record_bytes: usize,
    bytes_read: Option<Arc<AtomicU64>>,
    delimiter: u8,
    quote: Option<u8>,
}

impl<R: Read> Tokenizer<R> {
    /// A tokenizer over `src` with the dialect in `opts` (the delimiter must be set).
    pub fn new(src: R, opts: &CsvOptions, delimiter: u8) -> Self {
        let mut b = ReaderBuilder::new();
        b.delimiter(delimiter)
            .double_quote(opts.escape.is_none())
            .escape(opts.escape);
        match opts.quote {
            Some(q) => b.quote(q),
            None => b.quoting(false),
        };
        Tokenizer {
            src,
            core: b.build(),
            buf: vec![0; 1 << 20],
            start: 0,
            end: 0,
            eof: false,
            offset: 0,
            extra_lines: 0,
            records: 0,
            batch_rows: opts.batch_rows,
            batch_bytes: opts.batch_bytes,
            max_record_bytes: opts.max_record_bytes,
            bytes_read: None,
            delimiter,
            quote: opts.quote,
        }
    }

    /// Adds the bytes read from the source to `counter` as they are read.
    #[must_use]
    pub fn with_progress(mut self, counter: Arc<AtomicU64>) -> Self {
        self.bytes_read = Some(counter);
        self
    }

    /// Prefills the buffer with bytes already taken from the source (e.g. a detection sample).
    pub fn prime(&mut self, bytes: &[u8]) {
        if self.buf.len() < bytes.len() {
            self.buf.resize(bytes.len(), 0);
        }
        if let Some(dst) = self.buf.get_mut(..bytes.len()) {
            dst.copy_from_slice(bytes);
        }
        self.start = 0;
        self.end = bytes.len();
    }

    fn fill(&mut self) -> Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let n = self.buf.len();
            self.buf.resize(n * 2, 0);
        }
        loop {
            let dst = self.buf.get_mut(self.end..).unwrap_or_default();
            match self.src.read(dst) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    if let Some(c) = &self.bytes_read {
                        c.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Moves to where the next record starts: past a UTF-8 byte order mark at the very start
    /// and past blank lines.
    fn skip_blank_lines(&mut self) -> Result<()> {
        if self.offset == 0 {
            while self.end - self.start < 3 && !self.eof {
                self.fill()?;
            }
            if self
                .buf
                .get(self.start..self.end)
                .is_some_and(|b| b.starts_with(b"\xef\xbb\xbf"))
            {
                self.start += 3;
                self.offset += 3;
            }
        }
        loop {
            while let Some(&c) = self.buf.get(self.start).filter(|_| self.start < self.end) {
                if c != b'\n' && c != b'\r' {
                    return Ok(());
                }
                self.extra_lines += u64::from(c == b'\n');
                self.start += 1;
                self.offset += 1;
            }
            if self.eof {
                return Ok(());
            }
            self.fill()?;
        }
    }

    /// Reads one record into `block`; `Ok(false)` at the end of input.
    fn read_record(&mut self, block: &mut RowBlock) -> Result<bool> {
        self.skip_blank_lines()?;
        let position = Position {
            byte: self.offset,
            line: self.core.line() + self.extra_lines,
            record: self.records,
        };
        if self.fast_record(block, position) {
            return Ok(true);
        }
        let first_field = block.ends.len();
        let data_start = block.data.len();
        let mut out = data_start;
        let mut nends = first_field;
        // Spare room so most records fit in one call.
        if block.data.len() < data_start + 4096 {
            block.data.resize(data_start + 4096, 0);
        }
        if block.ends.len() < first_field + 64 {
            block.ends.resize(first_field + 64, 0);
        }
        let mut started = false;
        let mut probed_eof = false;
        loop {
            if self.start == self.end && !self.eof {
                self.fill()?;
            }
            let at_eof = self.start == self.end && self.eof;
            // At the end of input inside a record, feed a line feed first: it ends the record
            // unless the record is inside an unterminated quote, which must not pass silently.
            let input = if at_eof && started && !probed_eof {
                probed_eof = true;
                &b"\n"[..]
            } else if at_eof && probed_eof {
                return Err(self.fail_record(
                    block,
                    data_start,
                    first_field,
                    position,
                    "unterminated quote at end of input",
                ));
            } else {
                self.buf.get(self.start..self.end).unwrap_or_default()
            };
            let synthetic = probed_eof && at_eof;
            let output = block.data.get_mut(out..).unwrap_or_default();
            let ends = block.ends.get_mut(nends..).unwrap_or_default();
            let (res, nin, nout, nend) = self.core.read_record(input, output, ends);
            started |= nin > 0;
            if !synthetic {
                self.start += nin;
                self.offset += nin as u64;
            }
            out += nout;
            nends += nend;
            match res {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => {
                    if out - data_start > self.max_record_bytes {
                        let reason = format!(
                            "record is longer than {} bytes (an unterminated quote?)",
                            self.max_record_bytes
                        );
                        return Err(self.fail_record(
                            block,
                            data_start,
                            first_field,
                            position,
                            &reason,
                        ));
                    }
                    let n = block.data.len();
                    block.data.resize(n * 2, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let n = block.ends.len();
                    block.ends.resize(n * 2, 0);
                }
                ReadRecordResult::Record => {
                    block.data.truncate(out);
                    block.ends.truncate(nends);
                    // csv-core reports ends relative to the record start.
                    for e in block.ends.get_mut(first_field..).unwrap_or_default() {
                        *e += data_start;
                    }
                    block.rows.push(RowMeta {
                        first_field,
                        fields: nends - first_field,
                        position,
                    });
                    return Ok(true);
                }
                ReadRecordResult::End => {
                    block.data.truncate(data_start);
                    block.ends.truncate(first_field);
                    return Ok(false);
                }
            }
        }
    }

    /// Takes the next record without csv-core when it is one whole buffered line with no
    /// quote and no carriage return except a final one: then splitting at the delimiter is
    /// exactly what csv-core would do, several times faster.
    fn fast_record(&mut self, block: &mut RowBlock, position: Position) -> bool {
        let avail = self.buf.get(self.start..self.end).unwrap_or_default();
        let Some(nl) = memchr::memchr(b'\n', avail) else {
            return false;
        };
        let mut line = avail.get(..nl).unwrap_or_default();
        if let Some((b'\r', rest)) = line.split_last() {
            line = rest;
        }
        let special = match self.quote {
            Some(q) => memchr::memchr2(q, b'\r', line),
            None => memchr::memchr(b'\r', line),
        };
        if special.is_some() {
            return false;
        }
        let first_field = block.ends.len();
        let mut last = 0;
        for d in memchr::memchr_iter(self.delimiter, line) {
            block
                .data
                .extend_from_slice(line.get(last..d).unwrap_or_default());
            block.ends.push(block.data.len());
            last = d + 1;
        }
        block
            .data
            .extend_from_slice(line.get(last..).unwrap_or_default());
        block.ends.push(block.data.len());
        block.rows.push(RowMeta {
            first_field,
            fields: block.ends.len() - first_field,
            position,
        });
        self.start += nl + 1;
        self.offset += nl as u64 + 1;
        self.extra_lines += 1;
        true
    }

    #[cold]
    fn fail_record(
        &self,
        block: &mut RowBlock,
        data_start: usize,
        first_field: usize,
        position: Position,
        reason: &str,
    ) -> Error {
        block.data.truncate(data_start);
        block.ends.truncate(first_field);
        Error::decode(FORMAT, position, None, reason)
    }

    /// Reads one record and returns its fields as strings (for the header).
    pub fn read_header(&mut self) -> Result<Option<Vec<String>>> {
        let mut block = RowBlock::default();
        if !self.read_record(&mut block)? {
            return Ok(None);
        }
        let row = block
            .rows
            .first()
            .copied()
            .ok_or_else(|| Error::new(ErrorKind::Empty))?;
        let mut names = Vec::with_capacity(row.fields);
        for c in 0..row.fields {
            let raw = block.row_field(&row, c);
            let name = std::str::from_utf8(raw).map_err(|_| {
                Error::decode(
                    FORMAT,
                    row.position,
                    Some(format!("#{}", c + 1)),
                    "header is not valid UTF-8",
                )
            })?;
            names.push(name.to_string());
        }
        Ok(Some(names))
    }

    /// The next block of up to `batch_rows` records; `None` at the end of input.
    pub fn next_block(&mut self) -> Result<Option<RowBlock>> {
        let mut block = RowBlock {
            data: Vec::with_capacity(self.batch_bytes.min(16 << 20) + 4096),
            ends: Vec::new(),
            rows: Vec::with_capacity(self.batch_rows.min(1 << 16)),
        };
        while block.rows.len() < self.batch_rows && block.data.len() < self.batch_bytes {
            if !self.read_record(&mut block)? {
                break;
            }
            self.records += 1;
            if let Some(last) = block.rows.last_mut() {
                last.position.record = self.records;
            }
        }
        Ok(if block.rows.is_empty() {
            None
        } else {
            Some(block)
        })
    }
}

/// Turns [`RowBlock`]s into record batches of a fixed schema.
#[derive(Debug, Clone)]
pub struct BatchDecoder {
    schema: SchemaRef,
    types: Vec<ColumnType>,
}

impl BatchDecoder {
    /// A decoder for columns `names` of `types`.
    pub fn new(names: &[String], types: Vec<ColumnType>) -> Self {
        BatchDecoder {
            schema: schema::arrow_schema(names, &types),
            types,
        }
    }

    /// Infers column types from the records in `block`.
    pub fn infer(names: &[String], block: &RowBlock) -> Self {
        let mut cols = vec![ColumnInference::default(); names.len()];
        for row in &block.rows {
            if row.fields != names.len() {
                continue; // reported when the block is decoded
            }
            for (c, inf) in cols.iter_mut().enumerate() {
                inf.observe(block.row_field(row, c));
            }
        }
        Self::new(names, cols.iter().map(ColumnInference::resolve).collect())
    }

    /// The output schema.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The column types.
    pub fn types(&self) -> &[ColumnType] {
        &self.types
    }

    fn column_name(&self, c: usize) -> String {
        self.schema
            .fields()
            .get(c)
            .map(|f| f.name().clone())
            .unwrap_or_default()
    }

    /// Checks shape and encoding, then builds one record batch from `block`.
    pub fn decode(&self, block: &RowBlock) -> Result<RecordBatch> {
        let ncols = self.types.len();
        for row in &block.rows {
            if row.fields != ncols {
                return Err(Error::decode(
                    FORMAT,
                    row.position,
                    None,
                    format!("expected {ncols} fields, found {}", row.fields),
                ));
            }
        }
        if let Err(e) = std::str::from_utf8(&block.data) {
            return Err(self.utf8_error(block, e.valid_up_to()));
        }
        let columns = (0..ncols)
            .map(|c| self.decode_column(block, c))
            .collect::<Result<Vec<ArrayRef>>>()?;
        let opts = RecordBatchOptions::new().with_row_count(Some(block.rows.len()));
        Ok(RecordBatch::try_new_with_options(
            self.schema.clone(),
            columns,
            &opts,
        )?)
    }

    #[cold]
    fn utf8_error(&self, block: &RowBlock, at: usize) -> Error {
        let k = block.ends.partition_point(|&end| end <= at);
        let row = block
            .rows
            .iter()
            .rev()
            .find(|r| r.first_field <= k)
            .copied();
        match row {
            Some(r) => Error::decode(
                FORMAT,
                r.position,
                Some(self.column_name(k - r.first_field)),
                "invalid UTF-8",
            ),
            None => Error::decode(FORMAT, Position::default(), None, "invalid UTF-8"),
        }
    }

    #[cold]
    fn cast_error(&self, row: &RowMeta, c: usize, raw: &[u8], ty: ColumnType) -> Error {
        let mut shown = String::from_utf8_lossy(raw).into_owned();
        if shown.len() > 60 {
            let cut = (0..=60)
                .rev()
                .find(|&i| shown.is_char_boundary(i))
                .unwrap_or(0);
            shown.truncate(cut);
            shown.push('…');
        }
        Error::decode(
            FORMAT,
            row.position,
            Some(self.column_name(c)),
            format!("cannot parse {shown:?} as {}", ty.data_type()),
        )
    }

    fn decode_column(&self, block: &RowBlock, c: usize) -> Result<ArrayRef> {
        let ty = self.types.get(c).copied().unwrap_or(ColumnType::Utf8);
        let n = block.rows.len();
        macro_rules! typed {
            ($builder:expr, $parse:expr) => {{
                let mut b = $builder;
                for row in &block.rows {
                    let raw = block.row_field(row, c);
                    if schema::is_null_token(raw) {
                        b.append_null();
                    } else {
                        match $parse(raw) {
                            Some(v) => b.append_value(v),
                            None => return Err(self.cast_error(row, c, raw, ty)),
                        }
                    }
                }
                Ok(Arc::new(b.finish()) as ArrayRef)
            }};
        }
        match ty {
            ColumnType::Bool => typed!(BooleanBuilder::with_capacity(n), values::parse_bool),
            ColumnType::Int64 => typed!(Int64Builder::with_capacity(n), values::parse_i64),
            ColumnType::Float64 => typed!(Float64Builder::with_capacity(n), values::parse_f64),
            ColumnType::Date => typed!(Date32Builder::with_capacity(n), values::parse_date),
            ColumnType::Timestamp(unit) | ColumnType::TimestampUtc(unit) => {
                let want_offset = matches!(ty, ColumnType::TimestampUtc(_));
                let accept = |raw: &[u8]| {
                    let t = match values::parse_timestamp(raw) {
                        Some(t) => t,
                        // A bare date is midnight of that day.
                        None if !want_offset => values::Timestamp {
                            seconds: i64::from(values::parse_date(raw)?) * 86_400,
                            nanos: 0,
                            fraction_digits: 0,
                            has_offset: false,
                        },
                        None => return None,
                    };
                    (t.has_offset == want_offset).then_some(t)
                };
                let tz = want_offset.then(|| Arc::<str>::from("UTC"));
                if unit == TimeUnit::Nanosecond {
                    let b = PrimitiveBuilder::<TimestampNanosecondType>::with_capacity(n);
                    typed!(b.with_timezone_opt(tz), |raw| accept(raw)
                        .and_then(|t| t.nanos_total()))
                } else {
                    let b = PrimitiveBuilder::<TimestampMicrosecondType>::with_capacity(n);
                    typed!(b.with_timezone_opt(tz), |raw| accept(raw)
                        .and_then(|t| t.micros()))
                }
            }
            ColumnType::Utf8 => self.decode_strings(block, c),
        }
    }

    fn decode_strings(&self, block: &RowBlock, c: usize) -> Result<ArrayRef> {
        let n = block.rows.len();
        let mut offsets: Vec<i32> = Vec::with_capacity(n + 1);
        offsets.push(0);
        let total: usize = block.rows.iter().map(|r| block.row_field(r, c).len()).sum();
        let mut values: Vec<u8> = Vec::with_capacity(total);
        let mut nulls = NullBufferBuilder::new(n);
        for row in &block.rows {
            let raw = block.row_field(row, c);
            values.extend_from_slice(raw);
            nulls.append(!raw.is_empty());
            let end = i32::try_from(values.len()).map_err(|_| {
                Error::new(ErrorKind::LimitExceeded(format!(
                    "column {:?} holds more than 2 GiB in one batch",
                    self.column_name(c)
                )))
            })?;
            offsets.push(end);
        }
        let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
        // The whole block was checked to be UTF-8 and fields split at ASCII delimiters, so
        // this validation cannot fail; it is kept because it is cheap and the crate has no unsafe.
        let array = StringArray::try_new(offsets, values.into(), nulls.finish())?;
        Ok(Arc::new(array))
    }
}

/// Picks a delimiter from a sample: the candidate that splits the first lines into the most
/// consistent number (> 1) of fields. Falls back to a comma.
pub fn sniff_delimiter(sample: &[u8], quote: Option<u8>) -> u8 {
    const CANDIDATES: [u8; 5] = [b',', b'\t', b';', b'|', b':'];
    let mut best = (0.0f64, b',');
    for &d in &CANDIDATES {
        let counts = field_counts(sample, d, quote, 50);
        if counts.len() < 1 {
            continue;
        }
        let mut modal = 0usize;
        let mut modal_n = 0usize;
        for &k in &counts {
            let n = counts.iter().filter(|&&x| x == k).count();
            if n > modal_n || (n == modal_n && k > modal) {
                modal = k;
                modal_n = n;
            }
        }
        if modal < 2 {
            continue;
        }
        let consistency = modal_n as f64 / counts.len() as f64;
        let score = consistency * (1.0 + (modal as f64).ln());
        if score > best.0 {
            best = (score, d);
        }
    }
    best.1
}

fn field_counts(sample: &[u8], delimiter: u8, quote: Option<u8>, max_records: usize) -> Vec<usize> {
    let mut b = ReaderBuilder::new();
    b.delimiter(delimiter);
    match quote {
        Some(q) => b.quote(q),
        None => b.quoting(false),
    };
    let mut core = b.build();
    let mut out = vec![0u8; sample.len().max(1)];
    let mut ends = vec![0usize; 4096];
    let mut input = sample;
    let mut counts = Vec::new();
    let mut fields = 0usize;
    while counts.len() < max_records {
        let (res, nin, _, nend) = core.read_record(input, &mut out, &mut ends);
        input = input.get(nin..).unwrap_or_default();
        fields += nend;
        match res {
            ReadRecordResult::Record => {
                counts.push(fields);
                fields = 0;
            }
            // The sample ends mid-record: do not count the partial record.
            ReadRecordResult::InputEmpty | ReadRecordResult::End => break,
            ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => break,
        }
    }
    counts
}

/// Streams record batches from CSV bytes on the calling thread.
pub struct CsvReader<R> {
    tokenizer: Tokenizer<R>,
    decoder: Arc<BatchDecoder>,
    first: Option<RowBlock>,
    rows_read: u64,
    path: Option<std::path::PathBuf>,
}

/// Where decoding starts: the header, the dialect and the schema, plus the first block.
pub struct CsvStart<R> {
    /// The tokenizer, positioned after the first block.
    pub tokenizer: Tokenizer<R>,
    /// Decoder with the schema.
    pub decoder: BatchDecoder,
    /// The first block of records (the inference sample), not yet decoded.
    pub first: Option<RowBlock>,
    /// The delimiter in use.
    pub delimiter: u8,
}

/// Reads a sample from `src`, settles dialect, header and types, and returns the pieces to
/// decode the rest.
pub fn start<R: Read>(
    mut src: R,
    opts: &CsvOptions,
    bytes_read: Option<Arc<AtomicU64>>,
) -> Result<CsvStart<R>> {
    opts.validate()?;
    let mut sample = vec![0u8; 64 << 10];
    let mut n = 0;
    while n < sample.len() {
        match src.read(sample.get_mut(n..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    sample.truncate(n);
    if let Some(c) = &bytes_read {
        c.fetch_add(n as u64, Ordering::Relaxed);
    }
    if sample.iter().all(|&b| b.is_ascii_whitespace()) && sample.len() < (64 << 10) {
        return Err(Error::new(ErrorKind::Empty));
    }
    let delimiter = opts
        .delimiter
        .unwrap_or_else(|| sniff_delimiter(&sample, opts.quote));
    let mut tokenizer = Tokenizer::new(src, opts, delimiter);
    if let Some(c) = bytes_read {
        tokenizer = tokenizer.with_progress(c);
    }
    tokenizer.prime(&sample);
    let header = opts.header.unwrap_or(true);
    let (names, first) = if header {
        let names = tokenizer
            .read_header()?
            .ok_or_else(|| Error::new(ErrorKind::Empty))?;
        (schema::unique_names(names), tokenizer.next_block()?)
    } else {
        let first = tokenizer.next_block()?;
        let width = first
            .as_ref()
            .and_then(|b| b.rows.first())
            .map_or(0, |r| r.fields);
        (
            schema::unique_names((0..width).map(|_| String::new())),
            first,
        )
    };
    let decoder = match &opts.types {
        Some(types) if types.len() != names.len() => {
            return Err(Error::new(ErrorKind::Schema(format!(
                "{} column types given for {} columns",
                types.len(),
                names.len()
            ))))
        }
        Some(types) => BatchDecoder::new(&names, types.clone()),
        None => match &first {
            Some(block) => BatchDecoder::infer(&names, block),
            None => BatchDecoder::new(&names, vec![ColumnType::Utf8; names.len()]),
        },
    };
    Ok(CsvStart {
        tokenizer,
        decoder,
        first,
        delimiter,
    })
}

impl<R: Read> CsvReader<R> {
    /// Opens a streaming reader over `src`.
    pub fn new(src: R, opts: &CsvOptions) -> Result<Self> {
        let s = start(src, opts, None)?;
        Ok(CsvReader {
            tokenizer: s.tokenizer,
            decoder: Arc::new(s.decoder),
            first: s.first,
            rows_read: 0,
            path: None,
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

    /// Records decoded so far.
    pub fn rows_read(&self) -> u64 {
        self.rows_read
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        let block = match self.first.take() {
            Some(b) => b,
            None => match self.tokenizer.next_block()? {
                Some(b) => b,
                None => return Ok(None),
            },
        };
        self.rows_read += block.len() as u64;
        self.decoder.decode(&block).map(Some)
    }

    fn attach_path(&self, e: Error) -> Error {
        match &self.path {
            Some(p) => e.with_path(p),
            None => e,
        }
    }
}

impl<R: Read> Iterator for CsvReader<R> {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch()
            .map_err(|e| self.attach_path(e))
            .transpose()
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
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type};
    use arrow_schema::DataType;

    fn read(s: &str, opts: CsvOptions) -> Result<Vec<RecordBatch>> {
        CsvReader::new(s.as_bytes(), &opts)?.collect()
    }

    fn read_one(s: &str) -> RecordBatch {
        let batches = read(s, CsvOptions::default()).unwrap();
        assert_eq!(batches.len(), 1);
        batches.into_iter().next().unwrap()
    }

    #[test]
    fn infers_types_and_reads_values() {
        let b = read_one(
            "a,b,c,d,e,f\n1,1.5,true,2024-01-02,2024-01-02T03:04:05,x\n-2,,false,,,\"y,z\"\n",
        );
        let types: Vec<_> = b
            .schema()
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        assert_eq!(
            types,
            [
                DataType::Int64,
                DataType::Float64,
                DataType::Boolean,
                DataType::Date32,
                DataType::Timestamp(TimeUnit::Microsecond, None),
                DataType::Utf8
            ]
        );
        assert_eq!(b.column(0).as_primitive::<Int64Type>().values(), &[1, -2]);
        assert!(b.column(1).is_null(1));
        assert_eq!(b.column(1).as_primitive::<Float64Type>().value(0), 1.5);
        assert_eq!(b.column(5).as_string::<i32>().value(1), "y,z");
    }

    #[test]
    fn crlf_bom_blank_lines_and_no_final_newline() {
        let b = read_one("\u{feff}a;b\r\n\r\n1;x\r\n\n2;\"q\"\"q\"");
        assert_eq!(b.num_rows(), 2);
        assert_eq!(b.schema().field(0).name(), "a");
        assert_eq!(b.column(1).as_string::<i32>().value(1), "q\"q");
    }

    #[test]
    fn ragged_row_reports_line_and_byte() {
        let err = read("a,b\n1,2\n\n3,4,5\n", CsvOptions::default()).unwrap_err();
        let pos = err.position().unwrap();
        assert_eq!((pos.line, pos.byte, pos.record), (4, 9, 2));
        assert!(
            err.to_string().contains("expected 2 fields, found 3"),
            "{err}"
        );
    }

    #[test]
    fn bad_utf8_names_the_column() {
        let mut data = b"a,b\n1,ok\n2,".to_vec();
        data.extend_from_slice(b"\xff\xfe\n");
        let err = CsvReader::new(&data[..], &CsvOptions::default())
            .unwrap()
            .find_map(Result::err)
            .unwrap();
        match err.kind() {
            ErrorKind::Decode {
                position, column, ..
            } => {
                assert_eq!(position.line, 3);
                assert_eq!(column.as_deref(), Some("b"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn value_that_does_not_fit_the_inferred_type_is_an_error() {
        let opts = CsvOptions {
            batch_rows: 2,
            ..CsvOptions::default()
        };
        let err = read("n\n1\n2\nx\n", opts).unwrap_err();
        assert!(
            err.to_string().contains("cannot parse \"x\" as Int64"),
            "{err}"
        );
        assert_eq!(err.position().map(|p| p.line), Some(4));
    }

    #[test]
    fn empty_and_header_only() {
        assert!(matches!(
            read("", CsvOptions::default()).unwrap_err().kind(),
            ErrorKind::Empty
        ));
        assert!(matches!(
            read(" \n\n", CsvOptions::default()).unwrap_err().kind(),
            ErrorKind::Empty
        ));
        let r = CsvReader::new(&b"a,b\n"[..], &CsvOptions::default()).unwrap();
        assert_eq!(r.schema().fields().len(), 2);
        assert_eq!(r.count(), 0);
    }

    #[test]
    fn no_header_generates_names() {
        let b = read(
            "1,2\n3,4\n",
            CsvOptions {
                header: Some(false),
                ..CsvOptions::default()
            },
        )
        .unwrap();
        assert_eq!(b[0].schema().field(1).name(), "column_2");
        assert_eq!(b[0].num_rows(), 2);
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        let err = read("a,b\n1,\"never closed\n2,3\n4,5\n", CsvOptions::default()).unwrap_err();
        assert!(
            err.to_string()
                .contains("unterminated quote at end of input"),
            "{err}"
        );
        assert_eq!(err.position().map(|p| p.line), Some(2));
        let mut long = String::from("a,b\n1,\"open\n");
        for i in 0..2000 {
            long.push_str(&format!("{i},{i}\n"));
        }
        let opts = CsvOptions {
            max_record_bytes: 100,
            ..CsvOptions::default()
        };
        let err = read(&long, opts).unwrap_err();
        assert!(err.to_string().contains("longer than 100 bytes"), "{err}");
        // A quoted last field without a final newline is fine.
        let b = read("a,b\n1,\"x\"", CsvOptions::default()).unwrap();
        assert_eq!(b[0].num_rows(), 1);
    }

    #[test]
    fn sniffs_common_delimiters() {
        assert_eq!(sniff_delimiter(b"a\tb\tc\n1\t2\t3\n", Some(b'"')), b'\t');
        assert_eq!(sniff_delimiter(b"a;b\n1,5;2\n3,5;4\n", Some(b'"')), b';');
        assert_eq!(sniff_delimiter(b"a|b\n\"x|y\"|2\n", Some(b'"')), b'|');
        assert_eq!(sniff_delimiter(b"single\ncolumn\n", Some(b'"')), b',');
    }

    #[test]
    fn blocks_respect_row_bound_and_keep_order() {
        let mut s = String::from("i\n");
        for i in 0..1000 {
            s.push_str(&format!("{i}\n"));
        }
        let batches = read(
            &s,
            CsvOptions {
                batch_rows: 64,
                ..CsvOptions::default()
            },
        )
        .unwrap();
        assert!(batches.iter().all(|b| b.num_rows() <= 64));
        let all: Vec<i64> = batches
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
            .collect();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
    }
}
