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
        0 => case.decode.schema_policy = SchemaPolicy::Merge,
        1 => case.decode.schema_policy = SchemaPolicy::Strict,
        2 => case.decode.schema_policy = SchemaPolicy::Evolve,
        _ => {
            case.decode.schema_policy = SchemaPolicy::Merge;
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
    let fixed = case.fixed_schema || case.decode.schema_policy == SchemaPolicy::Strict;
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
/// anything but JSON whitespace.
pub fn non_blank_lines(input: &[u8]) -> u64 {
    let body = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    body.split(|&c| c == b'\n')
        .filter(|line| {
            line.iter()
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
        0 => case.decode.schema_policy = SchemaPolicy::Merge,
        1 => case.decode.schema_policy = SchemaPolicy::Strict,
        2 => case.decode.schema_policy = SchemaPolicy::Evolve,
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
/// read as JSON Lines under the permissive policy. When the read succeeds, every non-blank
/// line ([`non_blank_lines`]) is exactly one record: a row or a reject, whatever it holds
/// and however the input is cut into chunks. A line longer than `max_record_bytes` is one
/// record too (cut at the limit, its rest skipped).
///
/// Inputs that hit an open core bug are skipped: `lone-carriage-return` ([`known_bug`]) and
/// `long-line-cut-in-leading-whitespace` ([`blank_start_past_limit`]); their minimal inputs
/// are in `tests/fuzz_regressions_pending/decode_jsonl_lines/`, replayed without the skip
/// by [`decode_jsonl_lines_unfiltered`].
pub fn decode_jsonl_lines(data: &[u8]) {
    let (case, input) = split_lines_options(data);
    if lone_carriage_return(input) || blank_start_past_limit(input, case.decode.max_record_bytes) {
        return;
    }
    decode_jsonl_lines_unfiltered(data);
}

/// Known core bug `long-line-cut-in-leading-whitespace`: whether a line of `input` longer
/// than `limit` starts with more than `limit` bytes of whitespace. The chunker cuts such a
/// line past the limit and skips its rest, but the JSON decoder ignores that the chunk was
/// cut (`Chunk::cut_line`) and takes the cut part, all whitespace, for a blank line: the
/// line is neither a row nor a reject. (A cut part that is a JSON value, a number cut
/// short, is even read as a good row: the ignored `json_lines_cut_at_max_record_bytes_are_
/// rejected` test in `tests/fuzz_regressions.rs`.)
/// The cut counts the byte order mark before the first line, which the decoder skips.
pub fn blank_start_past_limit(input: &[u8], limit: usize) -> bool {
    input.split(|&c| c == b'\n').enumerate().any(|(i, line)| {
        let start = line.get(..=limit).unwrap_or_default();
        let start = match start.strip_prefix(b"\xEF\xBB\xBF") {
            Some(rest) if i == 0 => rest,
            _ => start,
        };
        line.len() > limit && start.iter().all(|&c| matches!(c, b' ' | b'\t' | b'\r'))
    })
}

/// [`decode_jsonl_lines`] without skipping the known bugs.
pub fn decode_jsonl_lines_unfiltered(data: &[u8]) {
    let (case, input) = split_lines_options(data);
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
        non_blank_lines(input),
        "records read vs non-blank lines, {what}"
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
    case.decode.schema_policy = SchemaPolicy::Strict;
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
///
/// Inputs that hit an open core bug are skipped, so that the fuzzer can look for others;
/// each bug has a minimal input in `tests/fuzz_regressions_pending/<target>/`, replayed
/// without the skip ([`decode_json_chunked_unfiltered`]) by the ignored
/// `pending_fuzz_inputs` test. Skipped: see [`known_bug`].
pub fn decode_json_chunked(data: &[u8]) {
    let (case, k, chunk_bytes, input) = chunked_case(data);
    check_chunked(input, &case, k, chunk_bytes, true);
}

/// [`decode_json_chunked`] without skipping the known bugs.
pub fn decode_json_chunked_unfiltered(data: &[u8]) {
    let (case, k, chunk_bytes, input) = chunked_case(data);
    check_chunked(input, &case, k, chunk_bytes, false);
}

/// Whether a read of `input` in `layout` runs into an open core bug that makes the chunked
/// and the one-chunk decodes differ:
///
/// - `scalar-runs-into-value` (values layout): a top-level run of bytes that is no JSON
///   value (`x`, `1a`) directly followed by `{`, `[` or `"`. The framing ends the run there
///   and cuts before the bracket, but the decoder, finding no value, skips the bad record
///   by a structural scan that goes on through the bracket's value: `x{"a":1}` is one
///   rejected record in one chunk, and a rejected record and a row when the chunks are cut
///   before the `{`.
/// - `lone-carriage-return` (lines layout): a carriage return not followed by a line feed.
///   The chunker's line framing (`LineEnds`) takes it for a line end when the buffer holds
///   no line feed, so small chunks cut the line there, but the JSON Lines reader splits
///   lines at line feeds only: `1\r2\n` is one bad line (data after the value) in one
///   chunk, and two good lines, `1` and `2`, in chunks of 3 bytes.
/// - `line-of-cr`: line numbers of errors depend on the chunking in a file mixing `\r`
///   and `\n` line ends (the skip compares errors without their lines).
/// - `bad-string-swallows-chunk` (values and array layouts): a string holding a control
///   character or an invalid escape. The framing steps over it as a string, but the
///   decoder skips the bad record with a scan that reads strings with the strict lexer,
///   which rejects the string and ends the record at the end of the chunk: every record
///   after it in the same chunk is gone, counted neither as a row nor as a reject.
pub fn known_bug(input: &[u8], layout: &Layout) -> bool {
    match layout {
        Layout::Values => scalar_runs_into_value(input) || bad_string(input),
        Layout::Lines => lone_carriage_return(input),
        Layout::Array { .. } => bad_string(input),
    }
}

/// Whether a string in `input` holds a control character or an escape that is not JSON.
fn bad_string(input: &[u8]) -> bool {
    let mut in_string = false;
    let mut i = 0;
    while let Some(&c) = input.get(i) {
        i += 1;
        if !in_string {
            in_string = c == b'"';
            continue;
        }
        match c {
            b'"' => in_string = false,
            b'\\' => {
                let ok = match input.get(i) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => true,
                    Some(b'u') => input
                        .get(i + 1..i + 5)
                        .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)),
                    _ => false,
                };
                if !ok {
                    return true;
                }
                i += 1;
            }
            c if c < 0x20 => return true,
            _ => {}
        }
    }
    false
}

/// Whether `input` holds a carriage return that no line feed follows.
pub fn lone_carriage_return(input: &[u8]) -> bool {
    input
        .iter()
        .enumerate()
        .any(|(i, &c)| c == b'\r' && input.get(i + 1) != Some(&b'\n'))
}

/// Whether, outside strings and brackets, bytes that are not whitespace or brackets are
/// directly followed by `{`, `[` or `"` (after a byte order mark, which the reader skips).
fn scalar_runs_into_value(input: &[u8]) -> bool {
    let body = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let (mut depth, mut in_string, mut escape, mut scalar) = (0usize, false, false, false);
    for &c in body {
        if in_string {
            if escape {
                escape = false;
            } else if c == b'\\' {
                escape = true;
            } else if c == b'"' {
                in_string = false;
            }
            continue;
        }
        match c {
            b'"' | b'{' | b'[' => {
                if depth == 0 && scalar {
                    return true;
                }
                scalar = false;
                if c == b'"' {
                    in_string = true;
                } else {
                    depth += 1;
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                scalar = false;
            }
            // At the top level `:` and `,` are no structure to the framing: part of the run.
            b' ' | b'\t' | b'\r' | b'\n' => scalar = false,
            _ => scalar = depth == 0,
        }
    }
    false
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
///
/// `skip_known`: skips inputs that hit an open core bug ([`known_bug`]).
pub fn check_chunked(
    input: &[u8],
    case: &JsonCase,
    k: usize,
    chunk_bytes: usize,
    skip_known: bool,
) {
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
    if skip_known && whole.as_ref().is_ok_and(|w| known_bug(input, &w.layout)) {
        return;
    }
    let chunked = decode_all(input, &chunked_case, 1);
    compare(
        input,
        &whole,
        &whole_case,
        &chunked,
        &chunked_case,
        &what,
        !skip_known,
    );

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
            compare(
                input,
                &w,
                &whole_pinned,
                &c,
                &chunked_pinned,
                &what,
                !skip_known,
            );
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
    exact_errors: bool,
) {
    let (w, c) = match (whole, chunked) {
        (Err(w), Err(c)) if exact_errors => {
            assert_eq!(w.to_string(), c.to_string(), "the errors differ, {what}");
            return;
        }
        (Ok(w), Ok(c)) => (w, c),
        (Err(w), Err(c)) => {
            // The byte, not the line: line numbers of a file mixing `\r` and `\n` line
            // ends depend on the chunking (`pending/decode_json_chunked/line-of-cr`).
            assert_eq!(
                (without_position(w), w.position().map(|p| p.byte)),
                (without_position(c), c.position().map(|p| p.byte)),
                "the errors differ, {what}: {w} vs {c}"
            );
            return;
        }
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

/// An error's message without its position (` (json, line 3, byte 32)`).
fn without_position(e: &logflow_core::Error) -> String {
    let text = e.to_string();
    match (e.position(), text.rfind(" (")) {
        (Some(_), Some(at)) => text.get(..at).unwrap_or_default().to_string(),
        _ => text,
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
