//! The bodies of the CSV fuzz targets, in one place.
//!
//! Compiled twice: by the fuzz targets (`fuzz/fuzz_targets/*.rs` include this file with
//! `#[path = ...]`, because the fuzz crate cannot depend on test code) and by the
//! `fuzz_regressions` integration test (through `tests/support/mod.rs`), which replays saved
//! crash inputs and the bundled sample files. It may only use `logflow-core`, `arrow-array`,
//! `arrow-schema` and `std`, the dependencies both crates have.
//!
//! A fuzz input is one option byte (`decode_csv`) or two (`decode_csv_chunked`) followed by
//! the CSV bytes. Any `Result` from the decoder is acceptable; a panic (here: a failed
//! assertion or a panic inside the core) is a bug.

// Each including crate uses only some of these functions.
#![allow(dead_code)]

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use logflow_core::decode::csv::{self, CsvOptions, CsvReader};
use logflow_core::decode::{CastErrorPolicy, DecodeOptions, ErrorPolicy};
use logflow_core::schema::ColumnType;

/// A CSV read's options in one value: the decoding options and the dialect.
#[derive(Debug, Clone, Default)]
pub struct Opts {
    /// Options every format shares.
    pub decode: DecodeOptions,
    /// The dialect.
    pub csv: CsvOptions,
}

impl Opts {
    /// A streaming reader over `src` with these options.
    pub fn reader<R: std::io::Read>(&self, src: R) -> logflow_core::Result<CsvReader<R>> {
        csv::reader(src, &self.decode, &self.csv)
    }
}

/// Delimiters the option byte chooses from; `None` sniffs it.
const DELIMITERS: [Option<u8>; 8] = [
    None,
    Some(b','),
    Some(b';'),
    Some(b'\t'),
    Some(b'|'),
    Some(b':'),
    None,
    // `§` (C2 A7): its last byte here, its lead set below.
    Some(0xA7),
];

/// Chunk sizes the second option byte of `decode_csv_chunked` chooses from.
pub const CHUNK_BYTES: [usize; 8] = [1, 2, 3, 5, 8, 16, 64, 4096];

/// Splits a fuzz input into reader options (from its first byte) and the rest.
///
/// Bits 0-2: delimiter (or detect it; 7 is the two-byte `§`); bits 3-4: quoting (detect quote and escape; `"` with
/// doubled quotes; off; `"` with `\` escapes); bit 5: no header row (else detect it); the
/// preamble (`skip_lines`) is always detected; bits 6-7: a profile:
/// - 0: strict, 1-row batches, 1-byte chunks;
/// - 1: permissive, 2-row batches, 7-byte chunks, spaces after delimiters skipped;
/// - 2: permissive with unparsable values as nulls, 7-row batches, 64-byte chunks, records of
///   at most 32 bytes;
/// - 3: the defaults (strict, 64 Ki-row batches, 4 MiB chunks).
pub fn split_options(data: &[u8]) -> (Opts, &[u8]) {
    let Some((&b, input)) = data.split_first() else {
        return (Opts::default(), data);
    };
    let mut opts = Opts {
        decode: DecodeOptions::default(),
        csv: CsvOptions {
            delimiter: DELIMITERS.get(usize::from(b & 7)).copied().flatten(),
            delimiter_lead: (b & 7 == 7).then_some(0xC2),
            quote: match (b >> 3) & 3 {
                0 => None,
                2 => Some(None),
                _ => Some(Some(b'"')),
            },
            escape: match (b >> 3) & 3 {
                0 => None,
                3 => Some(Some(b'\\')),
                _ => Some(None),
            },
            header: if b & 32 == 0 { None } else { Some(false) },
            ..CsvOptions::default()
        },
    };
    match b >> 6 {
        0 => {
            opts.decode.batch_rows = 1;
            opts.decode.chunk_bytes = 1;
        }
        1 => {
            opts.decode.batch_rows = 2;
            opts.decode.chunk_bytes = 7;
            opts.decode.error_policy = ErrorPolicy::Permissive;
            // Spaces after delimiters as padding (the tokenizer's own state machine).
            opts.csv.skip_initial_space = Some(true);
        }
        2 => {
            opts.decode.batch_rows = 7;
            opts.decode.chunk_bytes = 64;
            opts.decode.max_record_bytes = 32;
            opts.decode.error_policy = ErrorPolicy::Permissive;
            opts.decode.on_cast_error = CastErrorPolicy::Null;
        }
        _ => {}
    }
    (opts, input)
}

/// What a full read returned.
pub struct Decoded {
    /// The reader's schema.
    pub schema: SchemaRef,
    /// Every batch, in order.
    pub batches: Vec<RecordBatch>,
    /// `CsvReader::rows_read` at the end.
    pub rows_read: u64,
    /// `CsvReader::rows_rejected` at the end.
    pub rows_rejected: u64,
    /// Whether every column is read in the default form (ISO dates, decimal points).
    pub iso_dates: bool,
}

/// Reads `input` to the end, or to the first error.
pub fn decode_all(input: &[u8], opts: &Opts) -> logflow_core::Result<Decoded> {
    read_to_end(opts.reader(input)?)
}

/// [`decode_all`] with chunks decoded ahead on `threads` background threads.
pub fn decode_all_threaded(
    input: &[u8],
    opts: &Opts,
    threads: usize,
) -> logflow_core::Result<Decoded> {
    let src = std::io::Cursor::new(input.to_vec());
    read_to_end(opts.reader(src)?.with_threads(threads))
}

fn read_to_end<R: std::io::Read>(mut reader: CsvReader<R>) -> logflow_core::Result<Decoded> {
    let schema = reader.schema();
    let iso_dates = reader
        .decoder()
        .date_formats()
        .iter()
        .all(|f| *f == logflow_core::decode::values::DateFormat::ISO);
    let batches = reader.by_ref().collect::<logflow_core::Result<Vec<_>>>()?;
    Ok(Decoded {
        schema,
        batches,
        rows_read: reader.rows_read(),
        rows_rejected: reader.rows_rejected(),
        iso_dates,
    })
}

/// The column types behind a decoded schema (every output type must map back to one).
pub fn column_types(schema: &SchemaRef) -> Vec<ColumnType> {
    schema
        .fields()
        .iter()
        .map(|f| {
            ColumnType::from_data_type(f.data_type()).unwrap_or_else(|| {
                panic!(
                    "column {:?} has type {} that logflow cannot decode into",
                    f.name(),
                    f.data_type()
                )
            })
        })
        .collect()
}

/// Fuzz target `decode_csv`: decoding arbitrary bytes must not panic, and what it returns
/// must be consistent (batch schema, batch bounds, no more rows than records read).
pub fn decode_csv(data: &[u8]) {
    let (opts, input) = split_options(data);
    let Ok(mut reader) = opts.reader(input) else {
        return;
    };
    let schema = reader.schema();
    column_types(&schema);
    let mut rows = 0u64;
    for batch in reader.by_ref() {
        let Ok(batch) = batch else {
            return; // the reader may go on after an error; callers stop, so do we
        };
        assert_eq!(batch.schema(), schema, "a batch changed the schema");
        assert!(batch.num_rows() > 0, "empty batch");
        assert!(
            batch.num_rows() <= opts.decode.batch_rows,
            "batch of {} rows with batch_rows = {}",
            batch.num_rows(),
            opts.decode.batch_rows
        );
        rows += batch.num_rows() as u64;
    }
    // Records read but not in a batch: rejected ones, and rows repeating the header (skipped
    // by design).
    assert!(
        rows + reader.rows_rejected() <= reader.rows_read(),
        "batches hold {rows} rows and {} were rejected, more than the {} records read",
        reader.rows_rejected(),
        reader.rows_read()
    );
}

/// Fuzz target `decode_csv_chunked`: the first byte picks the options as in
/// [`split_options`], the second `batch_rows` (1..=7, bits 0-2 mod 7) and the chunk size
/// ([`CHUNK_BYTES`], bits 3-5); see [`check_chunked`].
///
/// The first option byte's limit on record size applies too (profile 2: 32 bytes): a
/// record is held to it wherever the chunks fall (see
/// `max_record_bytes_does_not_depend_on_chunking` in `tests/fuzz_regressions.rs`).
/// When the chunks are smaller than the input, whatever the options leave to detection is
/// pinned (delimiter `,`, RFC 4180 quoting, a header row, no preamble): detection reads the
/// first chunk (up to 64 KiB), so with smaller chunks it sees less than the one-chunk decode
/// and may choose differently (`decode_csv_chunked/detection-with-tiny-chunks`).
pub fn decode_csv_chunked(data: &[u8]) {
    let (input, opts, k, chunk_bytes) = chunked_case(data);
    check_chunked(input, &opts, k, chunk_bytes);
}

/// The CSV, options, `batch_rows` and chunk size of a `decode_csv_chunked` input.
fn chunked_case(data: &[u8]) -> (&[u8], Opts, usize, usize) {
    let (mut opts, rest) = split_options(data);
    let (b, input) = rest.split_first().map_or((0, rest), |(&b, r)| (b, r));
    let k = 1 + usize::from(b & 7) % 7;
    let chunk_bytes = CHUNK_BYTES
        .get(usize::from((b >> 3) & 7))
        .copied()
        .unwrap_or(1);
    if chunk_bytes <= input.len() {
        opts.csv.delimiter = Some(opts.csv.delimiter.unwrap_or(b','));
        opts.csv.quote = Some(opts.csv.quote.unwrap_or(Some(b'"')));
        opts.csv.escape = Some(opts.csv.escape.unwrap_or(None));
        opts.csv.header = Some(opts.csv.header.unwrap_or(true));
        opts.csv.skip_lines = Some(opts.csv.skip_lines.unwrap_or(0));
    }
    (input, opts, k, chunk_bytes)
}

/// Decoding in batches of `k` rows from chunks of `chunk_bytes` gives the same rows (and the
/// same counts) as decoding the input as one chunk into one batch.
///
/// Types are inferred from the first chunk only, so with inference a chunked decode can
/// legitimately pick other types than the whole decode (or fail where it succeeds). Hence
/// two checks:
/// - with the column types pinned to those of the whole decode (when its dates are ISO:
///   a pinned type has no date format), the chunked decode succeeds whenever the whole
///   decode does, with the same rows, rejects and records read;
/// - with inference on both sides, when both succeed with the same schema, the rows agree.
///
/// And the chunked decode gives the same result when chunks are decoded ahead on threads.
pub fn check_chunked(input: &[u8], opts: &Opts, k: usize, chunk_bytes: usize) {
    assert!(k > 0 && chunk_bytes > 0);
    let whole_opts = Opts {
        decode: DecodeOptions {
            batch_rows: usize::MAX,
            chunk_bytes: input.len() + 1,
            ..opts.clone().decode.clone()
        },
        csv: opts.clone().csv.clone(),
    };
    let chunked_opts = Opts {
        decode: DecodeOptions {
            batch_rows: k,
            chunk_bytes,
            ..opts.clone().decode.clone()
        },
        csv: opts.clone().csv.clone(),
    };
    let what = format!("batch_rows = {k}, chunk_bytes = {chunk_bytes}");
    let whole = decode_all(input, &whole_opts);
    // Pinned types carry no value format: a column of `31/12/2024` dates or `1,5` numbers
    // cannot be pinned.
    if let Some(w) = whole.as_ref().ok().filter(|w| w.iso_dates) {
        assert!(
            w.batches.len() <= 1,
            "one-chunk unbounded decode gave {} batches",
            w.batches.len()
        );
        let pinned = Opts {
            decode: chunked_opts.clone().decode.clone(),
            csv: CsvOptions {
                types: Some(column_types(&w.schema)),
                ..chunked_opts.clone().csv.clone()
            },
        };
        match decode_all(input, &pinned) {
            Ok(c) => {
                assert_eq!(c.schema, w.schema, "pinned types changed the schema");
                assert_same_rows(w.batches.first(), &c.batches, k, &what);
                assert_eq!(c.rows_rejected, w.rows_rejected, "rows rejected, {what}");
                assert_eq!(c.rows_read, w.rows_read, "records read, {what}");
            }
            Err(e) => panic!("decodes as one chunk but fails with {what} and the same types: {e}"),
        }
    }
    let chunked = decode_all(input, &chunked_opts);
    if let (Ok(w), Ok(c)) = (&whole, &chunked) {
        if c.schema == w.schema {
            assert_same_rows(w.batches.first(), &c.batches, k, &what);
        }
    }
    // Decoding ahead on threads changes nothing: same batches, counts and first error.
    match (&chunked, decode_all_threaded(input, &chunked_opts, 2)) {
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

/// The chunks, in order, are exactly the rows of `whole` (`None`: no rows).
fn assert_same_rows(whole: Option<&RecordBatch>, chunks: &[RecordBatch], k: usize, what: &str) {
    let total: usize = chunks.iter().map(RecordBatch::num_rows).sum();
    let whole_rows = whole.map_or(0, RecordBatch::num_rows);
    assert_eq!(total, whole_rows, "row count differs with {what}");
    let Some(whole) = whole else {
        return;
    };
    let mut offset = 0;
    for (i, chunk) in chunks.iter().enumerate() {
        assert!(
            chunk.num_rows() <= k,
            "batch {i} holds {} rows with {what}",
            chunk.num_rows()
        );
        let expected = whole.slice(offset, chunk.num_rows());
        assert!(
            *chunk == expected,
            "rows {offset}..{} differ with {what}:\nwhole: {expected:?}\nchunked: {chunk:?}",
            offset + chunk.num_rows()
        );
        offset += chunk.num_rows();
    }
}

/// Encodings the `input` target's option byte chooses from (`None` detects).
const ENCODINGS: [Option<logflow_core::detect::Encoding>; 8] = {
    use logflow_core::detect::Encoding;
    [
        None,
        None,
        Some(Encoding::Utf16Le { bom: false }),
        Some(Encoding::Utf16Be { bom: false }),
        Some(Encoding::Utf32Le { bom: false }),
        Some(Encoding::Legacy("windows-1252")),
        Some(Encoding::Legacy("Shift_JIS")),
        Some(Encoding::Legacy("GB18030")),
    ]
};

/// Most decoded bytes read from one input (a tiny compressed input may expand a lot).
const INPUT_LIMIT: u64 = 32 << 20;

/// The `input` target: one option byte (encoding override in bits 0-2, a compression
/// override in bits 3-5, 0 = detect), then the bytes of a "file". The bytes go through
/// decompression and transcoding; the text must be UTF-8 except where a malformed sequence
/// was marked with `FF`, and then through the CSV decoder. Errors are fine, panics are not.
pub fn input(data: &[u8]) {
    use logflow_core::detect::Compression;
    use logflow_core::input::{open_stream, InputOptions};
    use std::io::Read;

    let Some((&opt, bytes)) = data.split_first() else {
        return;
    };
    let compression = match (opt >> 3) & 7 {
        1 => Some(Compression::None),
        2 => Some(Compression::Gzip),
        3 => Some(Compression::Zip),
        4 => Some(Compression::Xz),
        _ => None,
    };
    let opts = InputOptions {
        encoding: ENCODINGS.get(usize::from(opt & 7)).copied().flatten(),
        compression,
        binary_ok: opt & 0x40 != 0,
        delimited: opt & 0x80 != 0,
        native: opt & 0x40 != 0,
        ..InputOptions::default()
    };
    let Ok(opened) = open_stream(std::io::Cursor::new(bytes.to_vec()), &opts) else {
        return;
    };
    let transcoded = !matches!(
        opened.encoding.value,
        logflow_core::detect::Encoding::Utf8 { .. }
    );
    let mut text = Vec::new();
    if opened
        .reader
        .take(INPUT_LIMIT)
        .read_to_end(&mut text)
        .is_err()
    {
        return;
    }
    if transcoded {
        // Transcoder output is UTF-8 apart from the FF markers of malformed input.
        for piece in text.split(|&b| b == 0xFF) {
            assert!(
                std::str::from_utf8(piece).is_ok(),
                "transcoder output is not UTF-8"
            );
        }
    }
    if text.len() <= 1 << 20 {
        let _ = decode_all(&text, &Opts::default());
    }
}

/// Writes `bytes` to a file of this process's own (one per thread) and returns its path:
/// the binary readers read files by position.
fn scratch_file(bytes: &[u8]) -> Option<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("logflow-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join(format!("{:?}", std::thread::current().id()).replace(['(', ')'], ""));
    std::fs::write(&path, bytes).ok()?;
    Some(path)
}

/// Reads every batch of `path` (at most 100,000) through `pipeline::read` as `format`; the
/// error that stopped it, if any.
fn read_native(
    path: &std::path::Path,
    format: Option<logflow_core::detect::Format>,
    threads: usize,
) -> Option<logflow_core::Error> {
    let opts = logflow_core::pipeline::ConvertOptions {
        decode: DecodeOptions {
            batch_rows: 100,
            chunk_bytes: 512,
            max_record_bytes: 1 << 20,
            error_policy: ErrorPolicy::Strict,
            ..DecodeOptions::default()
        },
        format,
        threads,
        ..logflow_core::pipeline::ConvertOptions::default()
    };
    let reading = match logflow_core::pipeline::read(path, &opts) {
        Ok(r) => r,
        Err(e) => return Some(e),
    };
    for batch in reading.reader.take(100_000) {
        if let Err(e) = batch {
            return Some(logflow_core::Error::from(e));
        }
    }
    None
}

/// An error a reader's panic became (the part reader contains panics as typed errors).
fn from_panic(e: &logflow_core::Error) -> bool {
    e.to_string().contains("reader failed on this input")
}

/// `native` target: arbitrary bytes as a file in a binary format, the option byte naming it
/// (or leaving it to detection) and the threads, through `pipeline::read`. Errors are fine;
/// a panic that escapes, a hang or a memory blow-up is a bug. (A panic inside the `parquet`
/// or `arrow-ipc` crate is contained as a typed error, so it is tolerated here.)
pub fn native(data: &[u8]) {
    use logflow_core::detect::Format;
    let Some((&opt, bytes)) = data.split_first() else {
        return;
    };
    let format = match opt & 7 {
        1 => Some(Format::Parquet),
        2 => Some(Format::Avro),
        3 => Some(Format::ArrowFile),
        4 => Some(Format::ArrowStream),
        5 => Some(Format::Xlsx),
        6 => Some(Format::Ods),
        7 => Some(Format::Xls),
        _ => None,
    };
    let threads = if opt & 8 == 0 { 1 } else { 2 };
    if let Some(path) = scratch_file(bytes) {
        let _ = read_native(&path, format, threads);
        let _ = std::fs::remove_file(path);
    }
}

/// `decode_avro` target: arbitrary bytes as an Avro object container file. Any error is
/// fine except one a panic became: the container framing, block decompression and record
/// decoding must refuse bad input without panicking.
pub fn decode_avro(data: &[u8]) {
    if let Some(path) = scratch_file(data) {
        let err = read_native(&path, Some(logflow_core::detect::Format::Avro), 1);
        let _ = std::fs::remove_file(path);
        if let Some(e) = err {
            assert!(!from_panic(&e), "a panic became this error: {e}");
        }
    }
}

/// Most members of one fuzz input that are opened and read.
const SOURCE_MEMBERS: usize = 16;

/// The `sources` target: one option byte (bit 0: the bytes as a seekable stream rather than
/// bytes in memory; bit 1: hash the content; bits 2-3: the largest decompressed size of a
/// member, from 1 KiB to 64 MiB), then the bytes of an input that may be a zip archive.
/// The archive's directory is read (units), each member opened and read to its end, the
/// fingerprint taken. Errors are fine (a corrupt directory, zip slip, encryption, a bad
/// member, a limit), panics are not.
pub fn sources(data: &[u8]) {
    use logflow_core::input::{ExpansionLimits, InputOptions};
    use logflow_core::source::{units, Source, SourceData};
    use std::io::Read;
    use std::sync::Arc;

    let Some((&opt, bytes)) = data.split_first() else {
        return;
    };
    let max_bytes = [1u64 << 10, 64 << 10, 1 << 20, 64 << 20]
        .get(usize::from((opt >> 2) & 3))
        .copied();
    let opts = InputOptions {
        binary_ok: true,
        limits: ExpansionLimits {
            max_bytes,
            ..ExpansionLimits::default()
        },
        ..InputOptions::default()
    };
    let data = if opt & 1 == 0 {
        SourceData::Bytes(Arc::from(bytes))
    } else {
        SourceData::Seekable(Box::new(std::io::Cursor::new(bytes.to_vec())))
    };
    let Ok(found) = units(vec![Source::new("fuzz.zip", data)], &opts) else {
        return;
    };
    for unit in found.into_iter().take(SOURCE_MEMBERS) {
        let Ok(mut opened) = unit.open(&opts, opt & 2 != 0, None) else {
            continue;
        };
        let mut sink = Vec::new();
        let whole = opened
            .input
            .reader
            .by_ref()
            .take(INPUT_LIMIT)
            .read_to_end(&mut sink)
            .is_ok();
        let fingerprint = opened.fingerprint();
        if whole && opt & 2 != 0 && (sink.len() as u64) < INPUT_LIMIT {
            assert!(
                fingerprint.sha256.is_some(),
                "a source read to its end has a hash"
            );
        }
    }
}
