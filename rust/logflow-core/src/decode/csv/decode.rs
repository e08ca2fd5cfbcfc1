//! From a chunk to record batches under an error policy: tokenize, check each record's shape
//! and encoding, build typed columns, and set bad records aside with their raw bytes.

use std::borrow::Cow;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int64Builder,
    PrimitiveBuilder, Time64MicrosecondBuilder,
};
use arrow_array::types::{TimestampMicrosecondType, TimestampNanosecondType};
use arrow_array::{
    ArrayRef, BooleanArray, NullArray, RecordBatch, RecordBatchOptions, StringArray,
};
use arrow_buffer::{NullBufferBuilder, OffsetBuffer, ScalarBuffer};
use arrow_schema::{SchemaRef, TimeUnit};

use super::tokenize::{ChunkTokenizer, Dialect, RowBlock, RowMeta, Step};
use crate::decode::values::{self, DateFormat};
use crate::decode::{
    invalid_utf8_offsets, utf8_detail, CastErrorPolicy, ErrorPolicy, Reject, RejectReason,
};
use crate::error::{Error, ErrorKind, Position};
use crate::schema::{ColumnType, NullTokens};
use crate::stream::{count_lines, Chunk, ChunkOutput, Decoder, Resume, Tail};

const FORMAT: &str = "csv";

/// Everything needed to decode chunks of one input; immutable and shared by all workers.
#[derive(Debug, Clone)]
pub struct ChunkDecoder {
    pub(crate) schema: SchemaRef,
    pub(crate) types: Vec<ColumnType>,
    /// Per column, the words read as null besides the empty field.
    pub(crate) nulls: Vec<NullTokens>,
    /// Per column, how dates are written (for date and timestamp columns).
    pub(crate) formats: Vec<DateFormat>,
    pub(crate) dialect: Dialect,
    pub(crate) policy: ErrorPolicy,
    pub(crate) on_cast_error: CastErrorPolicy,
    pub(crate) max_record_bytes: usize,
    pub(crate) batch_rows: usize,
    /// The header's fields, to recognise a header repeated mid-file.
    pub(crate) header: Option<Vec<Vec<u8>>>,
    /// Records with more fields than the header add text columns (the merge schema
    /// policy), instead of being rejected.
    pub(crate) wider_records: bool,
    /// An empty field in a text column is null (otherwise an empty string).
    pub(crate) empty_as_null: bool,
    /// Keep each good row's bytes and place ([`ChunkOutput::sources`]).
    pub(crate) row_sources: bool,
}

/// A problem with one row found while decoding.
struct Problem {
    row: usize,
    column: Option<usize>,
    reason: RejectReason,
    detail: String,
}

/// Decoded columns, the rows they hold, and the cast failures met.
type Decoded<'r> = (Vec<ArrayRef>, Cow<'r, [RowMeta]>, CastIssues);

impl ChunkDecoder {
    /// The column types.
    pub fn types(&self) -> &[ColumnType] {
        &self.types
    }

    /// Per column, the words read as null besides the empty field.
    pub fn null_tokens(&self) -> &[NullTokens] {
        &self.nulls
    }

    /// Per column, how dates are written (meaningful for date and timestamp columns).
    pub fn date_formats(&self) -> &[DateFormat] {
        &self.formats
    }

    /// The dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn column_name(&self, c: usize) -> String {
        self.schema
            .fields()
            .get(c)
            .map(|f| f.name().clone())
            .unwrap_or_default()
    }

    /// Decodes one chunk.
    fn decode_chunk(&self, chunk: Chunk) -> ChunkOutput {
        let mut out = ChunkOutput {
            index: chunk.index,
            ..ChunkOutput::default()
        };
        let head = chunk.bytes.get(..chunk.start).unwrap_or_default();
        let line = chunk.line + count_lines(head);
        let mut tok =
            ChunkTokenizer::new(&chunk.bytes, chunk.start, line, chunk.last, self.dialect);
        let mut block = RowBlock::reused();
        loop {
            let mut step = tok.next(&mut block);
            if step == Step::Record {
                // A record of several lines past the size limit reads as a quote that never
                // closes, as it does when it reaches past a chunk's end (see `too_long`).
                if let Some(row) = block.rows().last().copied() {
                    if self.too_long(&chunk.bytes, &row) && spans_lines(&chunk.bytes, &row) {
                        block.pop();
                        tok.rewind(&row);
                        step = Step::Unterminated { start: row.start };
                    }
                }
            }
            match step {
                Step::Record => {}
                Step::End => break,
                Step::Incomplete { start }
                    if !chunk.cut_line && chunk.bytes.len() - start <= self.max_record_bytes =>
                {
                    let bytes = chunk.bytes.get(start..).unwrap_or_default().to_vec();
                    out.tail = Some(Tail {
                        own_len: bytes.len(),
                        bytes,
                        offset: chunk.offset + start as u64,
                        line: tok.line(),
                        held: Vec::new(),
                    });
                    break;
                }
                Step::Incomplete { start } | Step::Unterminated { start } => {
                    let rest = chunk.bytes.get(start..).unwrap_or_default();
                    // The chunk ends inside an over-long line and this record is that line.
                    let cut = chunk.cut_line && memchr::memchr2(b'\n', b'\r', rest).is_none();
                    let too_long = rest.len() > self.max_record_bytes
                        || (chunk.past_limit && start == chunk.start);
                    let (span, line, record) = tok.skip_first_line(start);
                    let position = Position {
                        byte: chunk.offset + span.start as u64,
                        line,
                        record,
                        path: None,
                    };
                    let (reason, what, mut detail) = if cut {
                        (
                            RejectReason::RecordTooLong,
                            "record too long",
                            format!("the line has no end within {} bytes", self.max_record_bytes),
                        )
                    } else if too_long {
                        (
                            RejectReason::UnterminatedQuote,
                            "unterminated quote",
                            format!(
                                "a quoted field runs past {} bytes; the quote is never closed",
                                self.max_record_bytes
                            ),
                        )
                    } else {
                        (
                            RejectReason::UnterminatedQuote,
                            "unterminated quote",
                            "the quote is never closed before the end of input".to_string(),
                        )
                    };
                    if self.policy == ErrorPolicy::Strict {
                        // Rows before it still count as earlier errors, so decode them first.
                        out.error = Some(Error::decode(
                            FORMAT,
                            position,
                            None,
                            format!("{what}: {detail}"),
                        ));
                        break;
                    }
                    if cut {
                        detail.push_str(if self.policy == ErrorPolicy::Quarantine {
                            "; the quarantine file holds the whole line"
                        } else {
                            "; the bytes past them are skipped"
                        });
                    }
                    out.rejects.push(Reject {
                        position,
                        column: None,
                        reason,
                        detail,
                        raw: chunk.bytes.get(span).unwrap_or_default().to_vec(),
                    });
                }
            }
        }
        out.rows_read = tok.records();
        if out.error.is_some() {
            // Strict: an earlier bad row in the block wins over the unterminated quote.
            if let Err(e) = self.decode_block(&block, &chunk, &mut out) {
                out.error = Some(e);
            }
            out.batches.clear();
        } else if let Err(e) = self.decode_block(&block, &chunk, &mut out) {
            out.error = Some(e);
            out.batches.clear();
        }
        block.recycle();
        // Rejects from tokenizing and from decoding interleave: keep input order.
        out.rejects.sort_by_key(|r| r.position.byte);
        split_swallowed_lines(&mut out);
        out.chunk = chunk;
        out
    }

    /// Whether `row` is longer than `max_record_bytes` (its line terminator not counted).
    /// Records are held to the limit wherever they fall: one that a chunk holds whole, as
    /// one that runs past a chunk's end (the chunker cuts an over-long line there, the
    /// decoder rejects what reaches past the limit), so results do not depend on chunk sizes.
    fn too_long(&self, bytes: &[u8], row: &RowMeta) -> bool {
        record_len(bytes.get(row.start..row.end).unwrap_or_default()) > self.max_record_bytes
    }

    fn reject_of(&self, block: &RowBlock, chunk: &Chunk, p: Problem) -> Reject {
        let row = block.rows().get(p.row).copied();
        let (position, raw) = match row {
            Some(r) => (
                Position {
                    byte: chunk.offset + r.start as u64,
                    line: r.line,
                    record: r.record,
                    path: None,
                },
                chunk.bytes.get(r.start..r.end).unwrap_or_default().to_vec(),
            ),
            None => (Position::default(), Vec::new()),
        };
        Reject {
            position,
            column: p.column.map(|c| self.column_name(c)),
            reason: p.reason,
            detail: p.detail,
            raw,
        }
    }

    fn error_of(&self, block: &RowBlock, chunk: &Chunk, p: Problem) -> Error {
        let r = self.reject_of(block, chunk, p);
        Error::decode(FORMAT, r.position, r.column, r.detail)
    }

    /// Shape and encoding checks; returns the rows to build and the problems found.
    fn screen(
        &self,
        block: &RowBlock,
        chunk: &Chunk,
        out: &mut ChunkOutput,
    ) -> (Vec<usize>, Vec<Problem>) {
        let raw = chunk.bytes.get(chunk.start..).unwrap_or_default();
        let ncols = self.types.len();
        // Valid raw input means valid fields (they are cut at ASCII bytes); the joined field
        // bytes are not enough: a delimiter can split an invalid sequence into a valid one.
        let bad_utf8 = invalid_utf8_offsets(raw, chunk.start);
        let mut next_bad = 0;
        let mut keep = Vec::with_capacity(block.len());
        let mut problems = Vec::new();
        for (i, row) in block.rows().iter().enumerate() {
            if self.too_long(&chunk.bytes, row) {
                problems.push(Problem {
                    row: i,
                    column: None,
                    reason: RejectReason::RecordTooLong,
                    detail: format!(
                        "the record is longer than {} bytes (max_record_bytes)",
                        self.max_record_bytes
                    ),
                });
                continue;
            }
            let wider = self.wider_records && row.fields > ncols && !row.multiline;
            if row.fields != ncols && !wider {
                let reason = if row.multiline {
                    RejectReason::UnterminatedQuote
                } else if row.fields > ncols {
                    RejectReason::TooManyFields
                } else {
                    RejectReason::TooFewFields
                };
                let mut detail = format!("expected {ncols} fields, found {}", row.fields);
                if row.multiline {
                    detail.push_str(
                        " in a record spanning several lines: a quote opened on this line is \
                         probably never closed",
                    );
                }
                problems.push(Problem {
                    row: i,
                    column: None,
                    reason,
                    detail,
                });
                continue;
            }
            // A row whose raw bytes are valid has valid fields, as above. Otherwise field by
            // field: bytes that are valid only when joined (a character split by a
            // delimiter) are still invalid.
            while bad_utf8.get(next_bad).is_some_and(|&b| b < row.start) {
                next_bad += 1;
            }
            let row_ok = bad_utf8.get(next_bad).is_none_or(|&b| b >= row.end);
            let bad_col = if row_ok {
                None
            } else {
                (0..ncols).find(|&c| std::str::from_utf8(block.row_field(row, c)).is_err())
            };
            if let Some(c) = bad_col {
                problems.push(Problem {
                    row: i,
                    column: bad_col,
                    reason: RejectReason::InvalidUtf8,
                    detail: utf8_detail(block.row_field(row, c)),
                });
                continue;
            }
            if let Some(h) = &self.header {
                if block.row_field(row, 0) == h.first().map(Vec::as_slice).unwrap_or_default()
                    && (0..ncols)
                        .all(|c| Some(block.row_field(row, c)) == h.get(c).map(Vec::as_slice))
                {
                    out.rows_skipped += 1;
                    continue;
                }
            }
            keep.push(i);
        }
        (keep, problems)
    }

    fn decode_block(
        &self,
        block: &RowBlock,
        chunk: &Chunk,
        out: &mut ChunkOutput,
    ) -> Result<(), Error> {
        let (mut keep, problems) = self.screen(block, chunk, out);
        let strict = self.policy == ErrorPolicy::Strict;
        if strict {
            // Only rows before the first shape problem can hold an earlier error.
            if let Some(first) = problems.first() {
                keep.retain(|&i| i < first.row);
            }
        }
        let all_rows = keep.len() == block.len();
        let rows: Cow<'_, [RowMeta]> = if all_rows {
            Cow::Borrowed(block.rows())
        } else {
            Cow::Owned(
                keep.iter()
                    .filter_map(|&i| block.rows().get(i).copied())
                    .collect(),
            )
        };
        let (columns, kept, mut cast) = self.decode_columns(block, &rows)?;
        let good_rows = kept.len();
        if self.row_sources {
            let mut sources = crate::stream::RowSources::default();
            for r in kept.iter() {
                let raw = chunk.bytes.get(r.start..r.end).unwrap_or_default();
                sources.push(raw, chunk.offset + r.start as u64, r.line, r.record);
            }
            out.sources = Some(sources);
        }
        out.values_nulled += cast.nulled;
        // One reject per row: the first failing column names it.
        cast.bad.sort_by_key(|b| (b.0, b.1));
        cast.bad.dedup_by_key(|b| b.0);
        let cast_problems: Vec<Problem> = cast
            .bad
            .iter()
            .map(|&(k, c, ref detail)| Problem {
                row: keep.get(k).copied().unwrap_or(k),
                column: Some(c),
                reason: RejectReason::CastError,
                detail: detail.clone(),
            })
            .collect();
        if strict {
            let first_cast = cast_problems.into_iter().min_by_key(|p| p.row);
            let first_shape = problems.into_iter().next();
            let first = match (first_cast, first_shape) {
                (Some(a), Some(b)) => Some(if a.row <= b.row { a } else { b }),
                (a, b) => a.or(b),
            };
            if let Some(p) = first {
                // An unterminated quote found by the tokenizer is later than every row here.
                return Err(self.error_of(block, chunk, p));
            }
            if let Some(e) = out.error.take() {
                return Err(e);
            }
        } else {
            for p in problems.into_iter().chain(cast_problems) {
                out.rejects.push(self.reject_of(block, chunk, p));
            }
        }
        let opts = RecordBatchOptions::new().with_row_count(Some(good_rows));
        let schema = if columns.len() > self.types.len() {
            self.wider_schema(columns.len())
        } else {
            self.schema.clone()
        };
        let batch = RecordBatch::try_new_with_options(schema, columns, &opts)?;
        let mut offset = 0;
        while offset < batch.num_rows() {
            let len = self.batch_rows.min(batch.num_rows() - offset);
            out.batches.push(batch.slice(offset, len));
            offset += len;
        }
        Ok(())
    }

    #[cold]
    fn cast_detail(raw: &[u8], ty: ColumnType) -> String {
        format!(
            "cannot parse {:?} as {}",
            crate::decode::shown(raw),
            ty.data_type()
        )
    }

    /// The columns of `rows` less those with a value their column cannot hold (counted in
    /// the returned [`CastIssues`], by index into `rows`), and the rows that leaves.
    /// Only typed columns can fail, so they are built first; text columns are then built
    /// from the good rows alone, and just the (fixed-width) typed columns are filtered.
    fn decode_columns<'r>(
        &self,
        block: &RowBlock,
        rows: &'r [RowMeta],
    ) -> Result<Decoded<'r>, Error> {
        let mut cast = CastIssues::default();
        let mut columns: Vec<Option<ArrayRef>> = vec![None; self.types.len()];
        for (c, slot) in columns.iter_mut().enumerate() {
            if self.types.get(c) != Some(&ColumnType::Utf8) {
                *slot = Some(self.decode_column(block, rows, c, &mut cast)?);
            }
        }
        let kept: Cow<'_, [RowMeta]> = if cast.bad.is_empty() {
            Cow::Borrowed(rows)
        } else {
            let mut mask = vec![true; rows.len()];
            for &(k, _, _) in &cast.bad {
                if let Some(m) = mask.get_mut(k) {
                    *m = false;
                }
            }
            let kept: Vec<RowMeta> = rows
                .iter()
                .zip(&mask)
                .filter(|(_, &m)| m)
                .map(|(r, _)| *r)
                .collect();
            let keep = BooleanArray::from(mask);
            for slot in &mut columns {
                if let Some(array) = slot.as_ref() {
                    *slot = Some(arrow_select::filter::filter(array, &keep)?);
                }
            }
            Cow::Owned(kept)
        };
        let mut out = Vec::with_capacity(columns.len());
        for (c, slot) in columns.into_iter().enumerate() {
            out.push(match slot {
                Some(array) => array,
                None => self.decode_column(block, &kept, c, &mut cast)?,
            });
        }
        if self.wider_records {
            // Fields past the header's: text columns, null where a record has fewer.
            let width = kept.iter().map(|r| r.fields).max().unwrap_or(0);
            for c in self.types.len()..width {
                out.push(self.decode_strings(block, &kept, c)?);
            }
        }
        Ok((out, kept, cast))
    }

    /// The schema of a block whose widest records have `width` fields: the header's columns,
    /// then text columns named after their position (`column_7`), made unique against the
    /// header's names the same way in every chunk.
    fn wider_schema(&self, width: usize) -> SchemaRef {
        let mut fields: Vec<arrow_schema::FieldRef> =
            self.schema.fields().iter().cloned().collect();
        let taken: std::collections::HashSet<&str> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        for c in self.types.len()..width {
            let mut name = format!("column_{}", c + 1);
            let mut k = 2;
            while taken.contains(name.as_str()) {
                name = format!("column_{}_{k}", c + 1);
                k += 1;
            }
            fields.push(Arc::new(arrow_schema::Field::new(
                name,
                arrow_schema::DataType::Utf8,
                true,
            )));
        }
        Arc::new(arrow_schema::Schema::new(fields))
    }

    fn decode_column(
        &self,
        block: &RowBlock,
        rows: &[RowMeta],
        c: usize,
        cast: &mut CastIssues,
    ) -> Result<ArrayRef, Error> {
        let ty = self.types.get(c).copied().unwrap_or(ColumnType::Utf8);
        let n = rows.len();
        let null_on_error = self.on_cast_error == CastErrorPolicy::Null;
        let nulls = self.nulls.get(c).copied().unwrap_or_default();
        let fmt = self.formats.get(c).copied().unwrap_or_default();
        macro_rules! typed {
            ($builder:expr, $parse:expr) => {{
                let mut b = $builder;
                for (k, row) in rows.iter().enumerate() {
                    let raw = block.row_field(row, c);
                    let v = values::trim_padding(raw);
                    if nulls.is_null(v) {
                        b.append_null();
                    } else {
                        match $parse(v) {
                            Some(v) => b.append_value(v),
                            None => {
                                b.append_null();
                                if null_on_error {
                                    cast.nulled += 1;
                                } else {
                                    cast.bad.push((k, c, Self::cast_detail(raw, ty)));
                                }
                            }
                        }
                    }
                }
                Ok(Arc::new(b.finish()) as ArrayRef)
            }};
        }
        match ty {
            ColumnType::Bool => typed!(BooleanBuilder::with_capacity(n), values::parse_bool),
            ColumnType::Int64 => typed!(Int64Builder::with_capacity(n), values::parse_i64),
            ColumnType::Float64 if fmt == DateFormat::DECIMAL_COMMA => {
                typed!(Float64Builder::with_capacity(n), values::parse_f64_comma)
            }
            ColumnType::Float64 => typed!(Float64Builder::with_capacity(n), values::parse_f64),
            ColumnType::Decimal(p, s) => typed!(
                Decimal128Builder::with_capacity(n)
                    .with_precision_and_scale(p, i8::try_from(s).unwrap_or(0))?,
                |raw| values::parse_decimal(raw, p, s)
            ),
            ColumnType::Date if fmt == DateFormat::ISO => {
                typed!(Date32Builder::with_capacity(n), values::parse_date)
            }
            ColumnType::Date => typed!(Date32Builder::with_capacity(n), |raw| fmt.parse_date(raw)),
            ColumnType::Timestamp(unit) | ColumnType::TimestampUtc(unit) => {
                let utc = matches!(ty, ColumnType::TimestampUtc(_));
                let tz = utc.then(|| Arc::<str>::from("UTC"));
                if unit == TimeUnit::Nanosecond {
                    let b = PrimitiveBuilder::<TimestampNanosecondType>::with_capacity(n);
                    typed!(b.with_timezone_opt(tz), |raw| values::timestamp_value(
                        raw, fmt, utc, true
                    ))
                } else {
                    let b = PrimitiveBuilder::<TimestampMicrosecondType>::with_capacity(n);
                    typed!(b.with_timezone_opt(tz), |raw| values::timestamp_value(
                        raw, fmt, utc, false
                    ))
                }
            }
            ColumnType::Time => typed!(
                Time64MicrosecondBuilder::with_capacity(n),
                values::parse_time
            ),
            ColumnType::Utf8 => self.decode_strings(block, rows, c),
            ColumnType::Null => {
                // Any value at all is one this column cannot hold.
                for (k, row) in rows.iter().enumerate() {
                    let raw = block.row_field(row, c);
                    if nulls.is_null(values::trim_padding(raw)) {
                        continue;
                    }
                    if null_on_error {
                        cast.nulled += 1;
                    } else {
                        cast.bad.push((k, c, Self::cast_detail(raw, ty)));
                    }
                }
                Ok(Arc::new(NullArray::new(n)) as ArrayRef)
            }
        }
    }

    fn decode_strings(
        &self,
        block: &RowBlock,
        rows: &[RowMeta],
        c: usize,
    ) -> Result<ArrayRef, Error> {
        let n = rows.len();
        let mut offsets: Vec<i32> = Vec::with_capacity(n + 1);
        offsets.push(0);
        let total: usize = rows.iter().map(|r| block.row_field(r, c).len()).sum();
        let mut values: Vec<u8> = Vec::with_capacity(total);
        let mut nulls = NullBufferBuilder::new(n);
        for row in rows {
            let raw = block.row_field(row, c);
            values.extend_from_slice(raw);
            // A field the record does not have is null; an empty one is null unless empty
            // text is kept (text mode).
            nulls.append(c < row.fields && (!raw.is_empty() || !self.empty_as_null));
            let end = i32::try_from(values.len()).map_err(|_| {
                Error::new(ErrorKind::LimitExceeded(format!(
                    "column {:?} holds more than 2 GiB in one chunk",
                    self.column_name(c)
                )))
            })?;
            offsets.push(end);
        }
        let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
        // Rows with invalid UTF-8 were screened out, so this validation cannot fail; it stays
        // because it is cheap and the crate has no unsafe code.
        let array = StringArray::try_new(offsets, values.into(), nulls.finish())?;
        Ok(Arc::new(array))
    }
}

impl Decoder for ChunkDecoder {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn process(&self, chunk: Chunk) -> ChunkOutput {
        self.decode_chunk(chunk)
    }

    fn resume(&self, tail: Tail, next: ChunkOutput) -> Resume {
        super::resume::resume(self, tail, next)
    }
}

/// Whether a record holds a line end (a quoted LF or CR) before its own terminator.
fn spans_lines(bytes: &[u8], row: &RowMeta) -> bool {
    let raw = bytes.get(row.start..row.end).unwrap_or_default();
    let body = raw.get(..record_len(raw)).unwrap_or_default();
    memchr::memchr2(b'\n', b'\r', body).is_some()
}

/// Bytes of a record without its line terminator.
fn record_len(raw: &[u8]) -> usize {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    raw.strip_suffix(b"\r").unwrap_or(raw).len()
}

/// Cast failures of one block: `(row in the built rows, column, detail)`.
#[derive(Default)]
struct CastIssues {
    bad: Vec<(usize, usize, String)>,
    nulled: u64,
}

/// A record spanning several lines whose field count is wrong is, most likely, a quote that
/// was never closed swallowing the lines after it. Each of its lines becomes a reject of its
/// own (the first `unterminated_quote`, the others `swallowed_by_quote`), so the quarantine
/// counts and numbers input lines, as a person fixing the file sees them; the bytes are the
/// same. Later records in the chunk are renumbered to match.
fn split_swallowed_lines(out: &mut ChunkOutput) {
    let multi_line = |r: &Reject| {
        r.reason == RejectReason::UnterminatedQuote
            && memchr::memchr(b'\n', r.raw.strip_suffix(b"\n").unwrap_or(&r.raw)).is_some()
    };
    if !out.rejects.iter().any(multi_line) {
        return;
    }
    let mut split = Vec::with_capacity(out.rejects.len());
    let mut extra = 0u64;
    for mut r in std::mem::take(&mut out.rejects) {
        r.position.record += extra;
        if !multi_line(&r) {
            split.push(r);
            continue;
        }
        let first = r.position;
        let mut byte = first.byte;
        for (i, line) in r.raw.split_inclusive(|&b| b == b'\n').enumerate() {
            let i = i as u64;
            let position = crate::error::Position {
                byte,
                line: first.line + i,
                record: first.record + i,
                path: None,
            };
            byte += line.len() as u64;
            split.push(if i == 0 {
                Reject {
                    position,
                    column: None,
                    reason: RejectReason::UnterminatedQuote,
                    detail: r.detail.clone(),
                    raw: line.to_vec(),
                }
            } else {
                extra += 1;
                Reject {
                    position,
                    column: None,
                    reason: RejectReason::SwallowedByQuote,
                    detail: format!(
                        "inside the quote opened on line {} and not closed there",
                        first.line
                    ),
                    raw: line.to_vec(),
                }
            });
        }
    }
    out.rows_read += extra;
    out.rejects = split;
}
