//! The bodies of the XML and XES fuzz targets, in one place.
//!
//! Compiled twice, like `fuzz_checks.rs`: by the fuzz targets (`fuzz/fuzz_targets/*.rs`
//! include this file with `#[path = ...]`) and by the `fuzz_regressions` integration test
//! (through `tests/support/mod.rs`). It may only use `logflow-core`, `arrow-array`,
//! `arrow-schema`, `arrow-select` and `std`.
//!
//! A fuzz input is one option byte followed by the document's bytes. Any `Result` from the
//! reader is acceptable; a panic (a failed assertion here, or one inside the core) is a bug.

// Each including crate uses only some of these functions.
#![allow(dead_code)]

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use logflow_core::decode::xml::{self, xes, XmlOptions};
use logflow_core::decode::{CastErrorPolicy, DecodeOptions, ErrorPolicy, SchemaPolicy};
use logflow_core::stream::{BatchReader, Decoder};

/// Chunk sizes the option byte chooses from.
pub const CHUNK_BYTES: [usize; 8] = [1, 2, 3, 5, 8, 16, 64, 4096];

/// Reading options from an option byte: bits 0-2 the chunk size ([`CHUNK_BYTES`]), bit 3
/// permissive (else strict), bit 4 `on_cast_error = null`, bit 5 flattened, bits 6-7 the
/// schema policy (merge, strict, evolve, merge) or for XES the table (events, traces).
pub fn options(b: u8) -> (DecodeOptions, XmlOptions) {
    let decode = DecodeOptions {
        batch_rows: 1 + usize::from(b % 5),
        chunk_bytes: CHUNK_BYTES.get(usize::from(b & 7)).copied().unwrap_or(1),
        error_policy: if b & 8 != 0 {
            ErrorPolicy::Permissive
        } else {
            ErrorPolicy::Strict
        },
        on_cast_error: if b & 16 != 0 {
            CastErrorPolicy::Null
        } else {
            CastErrorPolicy::Reject
        },
        schema_policy: match b >> 6 {
            1 => Some(SchemaPolicy::Strict),
            2 => Some(SchemaPolicy::Evolve),
            _ => None,
        },
        ..DecodeOptions::default()
    };
    let xml = XmlOptions {
        flatten: (b & 32 != 0).then_some(usize::MAX),
        tables: if b & 64 != 0 {
            xes::Tables::Traces
        } else {
            xes::Tables::Events
        },
        ..XmlOptions::default()
    };
    (decode, xml)
}

/// What a full read returned.
#[derive(Debug)]
pub struct Read {
    /// The schema the stream started with.
    pub schema: SchemaRef,
    /// Every batch, in order.
    pub batches: Vec<RecordBatch>,
    /// Records read.
    pub rows_read: u64,
    /// Records rejected.
    pub rows_rejected: u64,
    /// The schema of the plan at the end (the first one's unless the plan widened, also
    /// where no batch shows it).
    pub last_schema: SchemaRef,
}

fn read_to_end<R: std::io::Read + Send + 'static, D: Decoder>(
    mut reader: BatchReader<R, D>,
    threads: usize,
    schema_now: impl Fn(&D) -> SchemaRef,
) -> logflow_core::Result<Read> {
    let schema = reader.schema();
    let counts = reader.counts();
    let batches: Vec<RecordBatch> = if threads > 1 {
        reader = reader.with_threads(threads);
        reader.by_ref().collect::<logflow_core::Result<Vec<_>>>()?
    } else {
        reader.by_ref().collect::<logflow_core::Result<Vec<_>>>()?
    };
    let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
    Ok(Read {
        schema,
        batches,
        rows_read: load(&counts.rows_read),
        rows_rejected: load(&counts.rows_rejected),
        last_schema: schema_now(reader.decoder()),
    })
}

/// Reads `input` as XML to the end (or the first error), on `threads` threads.
pub fn read_xml(
    input: &[u8],
    decode: &DecodeOptions,
    opts: &XmlOptions,
    threads: usize,
) -> logflow_core::Result<Read> {
    let s = xml::start(std::io::Cursor::new(input.to_vec()), decode, opts, false)?;
    read_to_end(
        BatchReader::new(s.start),
        threads,
        xml::XmlDecoder::schema_now,
    )
}

/// Reads `input` as XES to the end (or the first error).
pub fn read_xes(
    input: &[u8],
    decode: &DecodeOptions,
    opts: &XmlOptions,
    threads: usize,
) -> logflow_core::Result<Read> {
    let s = xes::start(
        std::io::Cursor::new(input.to_vec()),
        decode,
        opts,
        opts.tables,
        false,
    )?;
    read_to_end(
        BatchReader::new(s.start),
        threads,
        xes::XesDecoder::schema_now,
    )
}

/// What every read must satisfy: batches within the batch size, never empty, and no more
/// rows (written plus rejected) than records read.
fn check_read(r: &Read, decode: &DecodeOptions) {
    let mut rows = 0u64;
    for b in &r.batches {
        assert!(b.num_rows() > 0, "empty batch");
        assert!(
            b.num_rows() <= decode.batch_rows,
            "batch of {} rows with batch_rows = {}",
            b.num_rows(),
            decode.batch_rows
        );
        rows += b.num_rows() as u64;
    }
    assert!(
        rows + r.rows_rejected <= r.rows_read,
        "{rows} rows and {} rejected, more than the {} records read",
        r.rows_rejected,
        r.rows_read
    );
}

/// Fuzz target `decode_xml`: reading arbitrary bytes as XML must not panic, and what it
/// returns must be consistent.
pub fn decode_xml(data: &[u8]) {
    let Some((&b, input)) = data.split_first() else {
        return;
    };
    let (decode, opts) = options(b);
    if let Ok(r) = read_xml(input, &decode, &opts, 1) {
        check_read(&r, &decode);
    }
}

/// Fuzz target `decode_xes`: reading arbitrary bytes as an XES log must not panic, and what
/// it returns must be consistent.
pub fn decode_xes(data: &[u8]) {
    let Some((&b, input)) = data.split_first() else {
        return;
    };
    let (decode, opts) = options(b);
    if let Ok(r) = read_xes(input, &decode, &opts, 1) {
        check_read(&r, &decode);
    }
}

/// Fuzz target `decode_xml_chunked`: reading in small chunks (bits 0-2 of the option byte)
/// gives what reading the input as one chunk gives.
///
/// Types are inferred from the first chunk, so a chunked read may start narrower and widen
/// later (the writer brings earlier rows to the wider schema, which may render values as
/// text differently). What must hold whatever the chunks: the same records are found (the
/// same number read); a document that fails to read as one chunk fails in chunks too, never
/// with a later first error, and the other way round (but under the strict schema policy,
/// where the first chunk's schema may not read later records); when no widening happened
/// and the schemas agree, the rows are the same. And reading ahead on threads changes
/// nothing.
pub fn decode_xml_chunked(data: &[u8]) {
    let Some((&b, input)) = data.split_first() else {
        return;
    };
    let (decode, opts) = options(b);
    check_chunked(input, &decode, &opts, false);
}

/// [`decode_xml_chunked`] for XES logs.
pub fn decode_xes_chunked(data: &[u8]) {
    let Some((&b, input)) = data.split_first() else {
        return;
    };
    let (decode, opts) = options(b);
    check_chunked(input, &decode, &opts, true);
}

/// See [`decode_xml_chunked`].
pub fn check_chunked(input: &[u8], decode: &DecodeOptions, opts: &XmlOptions, is_xes: bool) {
    let read = |d: &DecodeOptions, threads: usize| {
        if is_xes {
            read_xes(input, d, opts, threads)
        } else {
            read_xml(input, d, opts, threads)
        }
    };
    let whole_opts = DecodeOptions {
        chunk_bytes: input.len().max(64 << 10) + 1,
        batch_rows: usize::MAX,
        ..decode.clone()
    };
    let what = format!("chunk_bytes = {}", decode.chunk_bytes);
    let whole = read(&whole_opts, 1);
    let chunked = read(decode, 1);
    match (&whole, &chunked) {
        (Ok(w), Ok(c)) => {
            check_read(c, decode);
            let widened = c.last_schema != c.schema || w.last_schema != w.schema;
            let same_plan = !widened && c.schema == w.schema;
            // XML records are counted as records whatever the plan. An XES event table
            // counts events, and a trace the plan cannot read as one bad record: with
            // another plan (a first chunk's sample under the strict schema policy, or a
            // widening) a trace may be one bad record in one read and events in the other.
            if !is_xes || same_plan {
                assert_eq!(w.rows_read, c.rows_read, "records read, {what}");
            }
            if same_plan {
                let total: usize = c.batches.iter().map(RecordBatch::num_rows).sum();
                let whole_total: usize = w.batches.iter().map(RecordBatch::num_rows).sum();
                assert_eq!(total, whole_total, "rows, {what}");
                if let (Some(first), false) = (w.batches.first(), c.batches.is_empty()) {
                    let all = arrow_concat(&w.batches, first);
                    let mut offset = 0;
                    for batch in &c.batches {
                        let expected = all.slice(offset, batch.num_rows());
                        assert!(*batch == expected, "rows {offset}.. differ, {what}");
                        offset += batch.num_rows();
                    }
                }
                assert_eq!(w.rows_rejected, c.rows_rejected, "rows rejected, {what}");
            }
        }
        (Err(w), Err(c)) => {
            // The structural scan checks the whole input before one chunk is decoded, but
            // only up to the next cut before each of many: an error of the scan further on
            // is found later in chunks, after the records before it (which may hold an
            // error of their own). So the chunked error is never later in the input.
            if let (Some(w), Some(c)) = (w.position(), c.position()) {
                assert!(
                    c.byte <= w.byte,
                    "first error later in chunks, {what}: {c:?} vs {w:?}"
                );
            }
        }
        // Under the strict schema policy the schema is the first chunk's: a later chunk may
        // hold what it cannot read, where the one-chunk schema can.
        _ if decode.schema_policy == Some(SchemaPolicy::Strict) => {}
        (w, c) => panic!(
            "one chunk and {what} disagree: {:?} vs {:?}",
            w.as_ref().err().map(ToString::to_string),
            c.as_ref().err().map(ToString::to_string)
        ),
    }
    // Reading ahead on threads gives the same batches and counts, or the same error.
    match (&chunked, read(decode, 2)) {
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

/// `batches` as one batch (they share `first`'s schema when this is called).
fn arrow_concat(batches: &[RecordBatch], first: &RecordBatch) -> RecordBatch {
    arrow_select::concat::concat_batches(&first.schema(), batches)
        .unwrap_or_else(|e| panic!("concatenating batches: {e}"))
}
