//! The bodies of the JSON fuzz targets, in one place.
//!
//! Compiled twice, like `fuzz_checks.rs`: by the fuzz targets (`fuzz/fuzz_targets/*.rs`
//! include this file with `#[path = ...]`) and by the `fuzz_regressions` integration test
//! (through `tests/support/mod.rs`), which replays saved inputs. It may only use
//! `logflow-core`, `arrow-array`, `arrow-schema` and `std`, the dependencies both crates have,
//! and only the public API: `decode::json::start` and `stream::BatchReader`.
//!
//! A fuzz input is one or two option bytes followed by the JSON bytes. Any `Result` from the
//! decoder is acceptable; a panic (here: a failed assertion or a panic inside the core) is a
//! bug.

// Each including crate uses only some of these functions.
#![allow(dead_code)]

use std::io::{Cursor, Read};

use arrow_array::RecordBatch;
use arrow_schema::{DataType, SchemaRef};
use logflow_core::decode::json::{self, JsonOptions, Layout};
use logflow_core::decode::{CastErrorPolicy, DecodeOptions, ErrorPolicy, SchemaPolicy};
use logflow_core::detect::Format;
use logflow_core::schema::ColumnType;
use logflow_core::stream::BatchReader;

/// A JSON read's options in one value: everything `json::start` takes but the bytes.
#[derive(Debug, Clone, Default)]
pub struct JsonCase {
    /// Options every format shares.
    pub decode: DecodeOptions,
    /// Records path and flattening.
    pub json: JsonOptions,
    /// JSON, JSON Lines, or `None` to tell them apart from the bytes.
    pub format: Option<Format>,
    /// The schema may not change after the first chunk (as for a stream).
    pub fixed_schema: bool,
}

/// The streaming reader `json::start` leads to, over `R`.
pub type JsonReader<R> = BatchReader<std::io::Chain<Cursor<Vec<u8>>, R>, json::JsonDecoder>;

impl JsonCase {
    /// A streaming reader over `src` with these options, and the layout found.
    pub fn reader<R: Read>(&self, src: R) -> logflow_core::Result<(JsonReader<R>, Layout)> {
        let s = json::start(
            src,
            &self.decode,
            &self.json,
            self.format,
            self.fixed_schema,
        )?;
        Ok((BatchReader::new(s.start), s.layout))
    }
}

/// Chunk sizes the option bytes choose from: tiny ones cut every record, 4096 holds most
/// fuzz inputs whole.
pub const CHUNK_BYTES: [usize; 8] = [1, 2, 3, 5, 7, 16, 64, 4096];

/// Records paths `decode_json` chooses from (`None` finds the array, or reads lines or
/// values). `""` is the top-level array; the others name `{"items": [...]}` and
/// `{"data": {"items": [...]}}` in both spellings, and a JSON pointer with an escaped `/`.
const RECORDS_PATHS: [Option<&str>; 8] = [
    None,
    None,
    None,
    Some(""),
    Some("items"),
    Some("data.items"),
    Some("/data/items"),
    Some("/a~1b"),
];

/// `JsonOptions::flatten` values the option bytes choose from.
const FLATTEN: [Option<usize>; 4] = [None, Some(0), Some(1), Some(usize::MAX)];

/// The format hint in two bits: found from the bytes (twice as likely), JSON, JSON Lines.
fn format_of(bits: u8) -> Option<Format> {
    match bits & 3 {
        1 => Some(Format::Json),
        2 => Some(Format::Jsonl),
        _ => None,
    }
}

/// Splits a `decode_json` input into options (its first two bytes) and the rest.
///
/// First byte: bits 0-1 the format (found, JSON, JSON Lines, found); bits 2-3 the error
/// policy (strict; permissive; quarantine; permissive with unparsable values as nulls);
/// bits 4-5 the schema policy (merge; strict; evolve; merge with the schema fixed after the
/// first chunk); bits 6-7 flattening (none; 0 levels; 1 level; all).
///
/// Second byte: bits 0-2 the records path ([`RECORDS_PATHS`]); bits 3-5 the chunk size
/// ([`CHUNK_BYTES`]); bits 6-7 a size profile: 1-row batches; 2-row batches and records of
/// at most 16 bytes; 7-row batches and records of at most 64 bytes; the default sizes.
pub fn split_options(data: &[u8]) -> (JsonCase, &[u8]) {
    let (b0, rest) = data.split_first().map_or((0, data), |(&b, r)| (b, r));
    let (b1, input) = rest.split_first().map_or((0, rest), |(&b, r)| (b, r));
    let mut case = JsonCase {
        format: format_of(b0),
        ..JsonCase::default()
    };
    match (b0 >> 2) & 3 {
        0 => {}
        1 => case.decode.error_policy = ErrorPolicy::Permissive,
        2 => case.decode.error_policy = ErrorPolicy::Quarantine,
        _ => {
            case.decode.error_policy = ErrorPolicy::Permissive;
            case.decode.on_cast_error = CastErrorPolicy::Null;
        }
    }
    match (b0 >> 4) & 3 {
        0 => case.decode.schema_policy = Some(SchemaPolicy::Merge),
        1 => case.decode.schema_policy = Some(SchemaPolicy::Strict),
        2 => case.decode.schema_policy = Some(SchemaPolicy::Evolve),
        _ => {
            case.decode.schema_policy = Some(SchemaPolicy::Merge);
            case.fixed_schema = true;
        }
    }
    case.json.flatten = FLATTEN.get(usize::from(b0 >> 6)).copied().flatten();
    case.json.records_path = RECORDS_PATHS
        .get(usize::from(b1 & 7))
        .copied()
        .flatten()
        .map(str::to_string);
    case.decode.chunk_bytes = CHUNK_BYTES
        .get(usize::from((b1 >> 3) & 7))
        .copied()
        .unwrap_or(1);
    match b1 >> 6 {
        0 => case.decode.batch_rows = 1,
        1 => {
            case.decode.batch_rows = 2;
            case.decode.max_record_bytes = 16;
        }
        2 => {
            case.decode.batch_rows = 7;
            case.decode.max_record_bytes = 64;
        }
        _ => case.decode.chunk_bytes = DecodeOptions::default().chunk_bytes,
    }
    (case, input)
}

/// What a full read returned.
#[derive(Debug)]
pub struct Decoded {
    /// The layout `start` found.
    pub layout: Layout,
    /// The reader's schema (the first batches').
    pub schema: SchemaRef,
    /// Every batch, in order.
    pub batches: Vec<RecordBatch>,
    /// `BatchReader::rows_read` at the end.
    pub rows_read: u64,
    /// `BatchReader::rows_rejected` at the end.
    pub rows_rejected: u64,
}

impl Decoded {
    /// Rows in the batches.
    pub fn rows(&self) -> u64 {
        self.batches.iter().map(|b| b.num_rows() as u64).sum()
    }
}

/// Reads `input` to the end, or to the first error; `threads` > 1 decodes ahead on
/// background threads.
pub fn decode_all(input: &[u8], case: &JsonCase, threads: usize) -> logflow_core::Result<Decoded> {
    let (reader, layout) = case.reader(Cursor::new(input.to_vec()))?;
    let mut reader = reader.with_threads(threads);
    let schema = reader.schema();
    let batches = reader.by_ref().collect::<logflow_core::Result<Vec<_>>>()?;
    Ok(Decoded {
        layout,
        schema,
        batches,
        rows_read: reader.rows_read(),
        rows_rejected: reader.rows_rejected(),
    })
}

/// Checks what every successful read must satisfy: batches of 1..=`batch_rows` rows (with
/// the reader's schema when that cannot change), and every record read is either a row or
/// rejected (JSON skips none).
pub fn check_accounting(d: &Decoded, case: &JsonCase, what: &str) {
    let fixed = case.fixed_schema || case.decode.schema_policy == Some(SchemaPolicy::Strict);
    for (i, batch) in d.batches.iter().enumerate() {
        assert!(batch.num_rows() > 0, "batch {i} is empty, {what}");
        assert!(
            batch.num_rows() <= case.decode.batch_rows,
            "batch {i} holds {} rows with batch_rows = {}, {what}",
            batch.num_rows(),
            case.decode.batch_rows
        );
        if fixed {
            assert_eq!(
                batch.schema(),
                d.schema,
                "batch {i} changed a schema that may not change, {what}"
            );
        }
    }
    assert_eq!(
        d.rows() + d.rows_rejected,
        d.rows_read,
        "{} rows and {} rejected, but {} records read, {what}",
        d.rows(),
        d.rows_rejected,
        d.rows_read
    );
    if case.decode.error_policy == ErrorPolicy::Strict {
        assert_eq!(
            d.rows_rejected, 0,
            "rejects under the strict policy, {what}"
        );
    }
}

/// Fuzz target `decode_json`: two option bytes ([`split_options`]) then arbitrary bytes.
/// Decoding must not panic; when it succeeds, [`check_accounting`] holds.
pub fn decode_json(data: &[u8]) {
    let (case, input) = split_options(data);
    let Ok((mut reader, _layout)) = case.reader(input) else {
        return;
    };
    let schema = reader.schema();
    let mut batches = Vec::new();
    for batch in reader.by_ref() {
        let Ok(batch) = batch else {
            return; // the reader stops at its first error; so do we
        };
        batches.push(batch);
    }
    let d = Decoded {
        layout: Layout::Values,
        schema,
        batches,
        rows_read: reader.rows_read(),
        rows_rejected: reader.rows_rejected(),
    };
    check_accounting(&d, &case, "decode_json");
}

/// The lines a JSON Lines reader sees as records: lines split at line feeds (a carriage
/// return before one belongs to the line end), after a UTF-8 byte order mark, that hold
/// anything but JSON whitespace or are longer than `max_record_bytes` (a record too long,
/// whatever it holds: the reader does not read past the limit).
pub fn record_lines(input: &[u8], max_record_bytes: usize) -> u64 {
    let body = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    body.split(|&c| c == b'\n')
        .filter(|line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            line.len() > max_record_bytes
                || line
                    .iter()
                    .any(|&c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
        })
        .count() as u64
}

/// The options of a `decode_jsonl_lines` input (its first byte) and the rest.
///
/// Bits 0-1: the schema policy (merge; strict; evolve; merge with the schema fixed); bits
/// 2-4: the chunk size ([`CHUNK_BYTES`]); bit 5: records of at most 32 bytes (else the
/// default limit); bits 6-7: `batch_rows` 1, 2, 7 or the default. The error policy is
/// permissive (bad lines are dropped and counted), unparsable values are rejected.
pub fn split_lines_options(data: &[u8]) -> (JsonCase, &[u8]) {
    let (b, input) = data.split_first().map_or((0, data), |(&b, r)| (b, r));
    let mut case = JsonCase {
        format: Some(Format::Jsonl),
        ..JsonCase::default()
    };
    case.decode.error_policy = ErrorPolicy::Permissive;
    match b & 3 {
        0 => case.decode.schema_policy = Some(SchemaPolicy::Merge),
        1 => case.decode.schema_policy = Some(SchemaPolicy::Strict),
        2 => case.decode.schema_policy = Some(SchemaPolicy::Evolve),
        _ => case.fixed_schema = true,
    }
    case.decode.chunk_bytes = CHUNK_BYTES
        .get(usize::from((b >> 2) & 7))
        .copied()
        .unwrap_or(1);
    if b & 0x20 != 0 {
        case.decode.max_record_bytes = 32;
    }
    case.decode.batch_rows = match b >> 6 {
        0 => 1,
        1 => 2,
        2 => 7,
        _ => DecodeOptions::default().batch_rows,
    };
    (case, input)
}

/// Fuzz target `decode_jsonl_lines`: one option byte ([`split_lines_options`]) then bytes
/// read as JSON Lines under the permissive policy. When the read succeeds, every line that
/// is not blank, or is longer than `max_record_bytes` ([`record_lines`]), is exactly one
/// record: a row or a reject, whatever it holds and however the input is cut into chunks.
/// A line longer than the limit is a record too long (cut at the limit, its rest skipped).
pub fn decode_jsonl_lines(data: &[u8]) {
    let (case, input) = split_lines_options(data);
    check_lines(case, input);
}

fn check_lines(case: JsonCase, input: &[u8]) {
    let Ok(d) = decode_all(input, &case, 1) else {
        return;
    };
    let what = format!(
        "JSON Lines, chunk_bytes = {}, max_record_bytes = {}",
        case.decode.chunk_bytes, case.decode.max_record_bytes
    );
    assert_eq!(d.layout, Layout::Lines, "layout with format=jsonl, {what}");
    check_accounting(&d, &case, &what);
    assert_eq!(
        d.rows_read,
        record_lines(input, case.decode.max_record_bytes),
        "records read vs lines that are records, {what}"
    );
}

/// Inputs up to this size are read whole by `start` to find the layout, whatever the chunk
/// size (it reads at least 64 KiB), so the layout cannot depend on the chunking.
const HEAD_BYTES: usize = 64 << 10;

/// The options and chunking of a `decode_json_chunked` input, and the rest.
///
/// First byte: bits 0-1 the format (found, JSON, JSON Lines, found); bits 2-3 the records
/// path (found twice, `""`, `items`); bits 4-5 flattening (none, none, 1 level, all); bit
/// 6: unparsable values become nulls (else they reject their record). Second byte: bits
/// 0-2 `batch_rows` (1..=7), bits 3-5 the chunk size ([`CHUNK_BYTES`]). Always the
/// permissive error policy and the strict schema policy (the schema is the first chunk's).
pub fn chunked_case(data: &[u8]) -> (JsonCase, usize, usize, &[u8]) {
    let (b0, rest) = data.split_first().map_or((0, data), |(&b, r)| (b, r));
    let (b1, input) = rest.split_first().map_or((0, rest), |(&b, r)| (b, r));
    let mut case = JsonCase {
        format: format_of(b0),
        ..JsonCase::default()
    };
    case.json.records_path = match (b0 >> 2) & 3 {
        2 => Some(String::new()),
        3 => Some("items".into()),
        _ => None,
    };
    case.json.flatten = match (b0 >> 4) & 3 {
        2 => Some(1),
        3 => Some(usize::MAX),
        _ => None,
    };
    case.decode.error_policy = ErrorPolicy::Permissive;
    case.decode.schema_policy = Some(SchemaPolicy::Strict);
    if b0 & 0x40 != 0 {
        case.decode.on_cast_error = CastErrorPolicy::Null;
    }
    let k = 1 + usize::from(b1 & 7) % 7;
    let chunk_bytes = CHUNK_BYTES
        .get(usize::from((b1 >> 3) & 7))
        .copied()
        .unwrap_or(1);
    (case, k, chunk_bytes, input)
}

/// Fuzz target `decode_json_chunked`: see [`chunked_case`] and [`check_chunked`].
pub fn decode_json_chunked(data: &[u8]) {
    let (case, k, chunk_bytes, input) = chunked_case(data);
    check_chunked(input, &case, k, chunk_bytes);
}

/// Whether `t` holds a date, timestamp or time, at any depth.
fn temporal(t: &DataType) -> bool {
    match t {
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(..) | DataType::Time64(_) => true,
        DataType::List(f) | DataType::LargeList(f) | DataType::Map(f, _) => temporal(f.data_type()),
        DataType::Struct(fields) => fields.iter().any(|f| temporal(f.data_type())),
        _ => false,
    }
}

/// The column types to pin so that any sample gives the plan `schema` has, when it has
/// one: every top-level column a plain scalar (no dates or times, whose formats come from
/// the sample; no JSON text, which a pinned text column would not be). Not a lone `value`
/// column: that is also how records that are not objects are read, so the same schema
/// pinned onto a sample of only nulls (objects, with no fields yet) is another plan.
fn pinnable(schema: &SchemaRef) -> Option<Vec<(String, ColumnType)>> {
    if schema.fields().len() == 1 && schema.fields().iter().all(|f| f.name() == "value") {
        return None;
    }
    schema
        .fields()
        .iter()
        .map(|f| {
            let plain = matches!(
                f.data_type(),
                DataType::Boolean
                    | DataType::Int64
                    | DataType::Float64
                    | DataType::Decimal128(..)
                    | DataType::Utf8
                    | DataType::Null
            );
            if !plain || !f.metadata().is_empty() {
                return None;
            }
            Some((f.name().clone(), ColumnType::from_data_type(f.data_type())?))
        })
        .collect()
}

/// Decoding from chunks of `chunk_bytes` into batches of `k` rows against decoding the
/// input as one chunk into one batch, under the strict schema policy and the permissive
/// error policy. What may differ, and what may not:
///
/// - The plan (schema, and what values each column accepts) is inferred from the first
///   chunk, so it legitimately differs: a field the first chunk lacks is a column in one
///   decode and a rejected record in the other; a column of ints in the first chunk is
///   floats in the whole input; a sample with one date format reads another.
/// - How many records there are may not differ: the records are cut by the framing, not by
///   types. Both decodes succeed or both fail, find the same layout (inputs under 64 KiB,
///   which `start` reads whole whatever the chunk size), and read the same records.
/// - When both schemas are equal and hold no date or time (whose formats and null words
///   come from the sample and do not show in the schema), the plans are equal, so the rows
///   and the rejects are the same.
/// - The same again with the top-level column types pinned to the one-chunk decode's
///   (when all are plain scalars), which makes equal schemas far more common.
/// - Decoding ahead on two threads gives the same batches, counts and errors as one.
pub fn check_chunked(input: &[u8], case: &JsonCase, k: usize, chunk_bytes: usize) {
    assert!(k > 0 && chunk_bytes > 0);
    let whole_case = JsonCase {
        decode: DecodeOptions {
            batch_rows: usize::MAX,
            chunk_bytes: input.len() + 1,
            ..case.decode.clone()
        },
        ..case.clone()
    };
    let chunked_case = JsonCase {
        decode: DecodeOptions {
            batch_rows: k,
            chunk_bytes,
            ..case.decode.clone()
        },
        ..case.clone()
    };
    let what = format!("batch_rows = {k}, chunk_bytes = {chunk_bytes}");
    let whole = decode_all(input, &whole_case, 1);
    let chunked = decode_all(input, &chunked_case, 1);
    compare(input, &whole, &whole_case, &chunked, &chunked_case, &what);

    if let Some(types) = whole.as_ref().ok().and_then(|w| pinnable(&w.schema)) {
        let pin = |c: &JsonCase| JsonCase {
            decode: DecodeOptions {
                column_types: types.clone(),
                ..c.decode.clone()
            },
            ..c.clone()
        };
        let (whole_pinned, chunked_pinned) = (pin(&whole_case), pin(&chunked_case));
        let w = decode_all(input, &whole_pinned, 1);
        let c = decode_all(input, &chunked_pinned, 1);
        let what = format!("{what}, types pinned to {types:?}");
        // Pinning names top-level fields, which a sample of records that are not objects
        // does not have (`start` refuses it): compare only when both samples take it.
        if w.is_ok() && c.is_ok() {
            compare(input, &w, &whole_pinned, &c, &chunked_pinned, &what);
        }
    }

    match (&chunked, decode_all(input, &chunked_case, 2)) {
        (Ok(c), Ok(t)) => {
            assert_eq!(c.batches, t.batches, "batches on threads, {what}");
            assert_eq!(
                (c.rows_read, c.rows_rejected),
                (t.rows_read, t.rows_rejected),
                "counts on threads, {what}"
            );
        }
        (Err(c), Err(t)) => assert_eq!(c.to_string(), t.to_string(), "error on threads, {what}"),
        (c, t) => panic!(
            "one thread and two disagree with {what}: {:?} vs {:?}",
            c.as_ref().err().map(ToString::to_string),
            t.as_ref().err().map(ToString::to_string)
        ),
    }
}

/// The comparisons of [`check_chunked`] between one pair of decodes. `exact_errors`: the
/// error messages must be equal, line numbers included (else their kinds and bytes).
fn compare(
    input: &[u8],
    whole: &logflow_core::Result<Decoded>,
    whole_case: &JsonCase,
    chunked: &logflow_core::Result<Decoded>,
    chunked_case: &JsonCase,
    what: &str,
) {
    let (w, c) = match (whole, chunked) {
        (Err(w), Err(c)) => {
            assert_eq!(w.to_string(), c.to_string(), "the errors differ, {what}");
            return;
        }
        (Ok(w), Ok(c)) => (w, c),
        (Ok(_), Err(e)) => panic!("decodes as one chunk but fails with {what}: {e}"),
        (Err(e), Ok(_)) => panic!("fails as one chunk ({e}) but decodes with {what}"),
    };
    check_accounting(w, whole_case, "one chunk");
    check_accounting(c, chunked_case, what);
    assert!(
        w.batches.len() <= 1,
        "one-chunk unbounded decode gave {} batches",
        w.batches.len()
    );
    if input.len() < HEAD_BYTES {
        assert_eq!(c.layout, w.layout, "layout, {what}");
    }
    assert_eq!(c.rows_read, w.rows_read, "records read, {what}");
    if c.schema == w.schema && !c.schema.fields().iter().any(|f| temporal(f.data_type())) {
        assert_eq!(
            c.rows_rejected, w.rows_rejected,
            "rows rejected with the same schema, {what}"
        );
        assert_same_rows(w.batches.first(), &c.batches, what);
    }
}

/// The batches, in order, are exactly the rows of `whole` (`None`: no rows).
fn assert_same_rows(whole: Option<&RecordBatch>, batches: &[RecordBatch], what: &str) {
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(
        total,
        whole.map_or(0, RecordBatch::num_rows),
        "row count, {what}"
    );
    let Some(whole) = whole else {
        return;
    };
    let mut offset = 0;
    for batch in batches {
        let expected = whole.slice(offset, batch.num_rows());
        assert!(
            *batch == expected,
            "rows {offset}..{} differ with {what}:\none chunk: {expected:?}\nchunked: {batch:?}",
            offset + batch.num_rows()
        );
        offset += batch.num_rows();
    }
}
