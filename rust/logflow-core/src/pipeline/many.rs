//! Many sources in one run: a glob, a directory, a zip archive's members, streams.
//!
//! Each unit (a file, a stream, an archive member) is opened and started (format, dialect,
//! schema from its first chunk) by a job on the pool, several units ahead of the writer;
//! a unit whose first chunk holds all of it is decoded in that same job. So many small
//! files are decoded on every core while the writing thread drains them in order, and at
//! most [`ahead`] units (each holding one chunk and its output) wait at once. A unit too big
//! for one chunk is streamed as a single file is (a reader thread cutting chunks, decode
//! jobs on the same pool), while the next units are started meanwhile.
//!
//! The writer is shared: a unit whose schema differs from what was written widens the
//! output (see [`Writer::fit`]); with `schema_policy="strict"` it is an error naming the
//! unit. Per unit, the rows read, written, quarantined and skipped and its fingerprint are
//! kept in [`ConvertStats::sources`].

use std::collections::{BTreeMap, VecDeque};
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Instant;

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions, RecordBatchReader, StringArray};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

use super::{
    choose_format, in_flight, quarantine_extension, sequential_loop, worker_count, write_in_order,
    Control, ConvertOptions, ConvertStats, Job, Reading, Writer, WAIT_TICK,
};
use crate::decode::csv;
use crate::decode::json;
use crate::decode::xml::{self, xes};
use crate::decode::{DecodeOptions, ErrorPolicy, SchemaPolicy};
use crate::detect::{Compression, Format};
use crate::error::{Error, ErrorKind, Result};
use crate::source::{self, Fingerprint, FingerprintHandle, Source, Unit};
use crate::stream::{
    prefetch, BatchReader, Chunk, ChunkOutput, Chunker, Decoder, QuarantineFormat, ReadCounts,
    Resume, Sequencer, Start, Tail,
};
use crate::work::{spawn_scoped, Pool};

/// How sources are read, besides the format's own options.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// Adds a text column of this name holding each row's source (its path, URI, or
    /// `archive.zip/member`).
    pub file_name_column: Option<String>,
    /// Computes the SHA-256 of each source's content as it is read.
    pub sha256: bool,
}

/// What one source (one unit: a file, a stream, an archive member) gave.
#[derive(Debug, Clone, Default)]
pub struct SourceStats {
    /// The source's name: its path, URI, or `archive.zip/member.csv`.
    pub name: String,
    /// Size, modification time or ETag, and the SHA-256 when asked for.
    pub fingerprint: Fingerprint,
    /// The format read.
    pub format: &'static str,
    /// The compression found.
    pub compression: &'static str,
    /// Data records read from it.
    pub rows_read: u64,
    /// Its rows written to the output.
    pub rows_written: u64,
    /// Its bad records quarantined.
    pub rows_quarantined: u64,
    /// Its records dropped on purpose.
    pub rows_skipped: u64,
}

/// Units started ahead of the writer: enough to keep every core busy on small files while
/// bounding memory (each holds at most one chunk and its decoded output).
pub fn ahead(workers: usize) -> usize {
    workers + 2
}

/// Converts `sources` into one output: one Parquet file, or a dataset. One local file that
/// is not a zip archive, with no file-name column and no content hash, goes through
/// [`super::convert`] unchanged (which reads every format it knows); anything else runs
/// the many-source pipeline (text formats: CSV, TSV, JSON, JSON Lines).
pub fn convert_sources(
    sources: Vec<Source>,
    dst: &Path,
    opts: &ConvertOptions,
    ctl: &Control,
) -> Result<ConvertStats> {
    let started = Instant::now();
    let units = source::units(sources, &opts.input)?;
    if let Some(path) = single_path(&units, opts) {
        let mut stats = super::convert(&path, dst, opts, ctl)?;
        stats.sources = vec![SourceStats {
            name: path.to_string_lossy().into_owned(),
            fingerprint: path_fingerprint(&path),
            format: stats.format,
            compression: stats.input_compression,
            rows_read: stats.rows_read,
            rows_written: stats.rows_written,
            rows_quarantined: stats.rows_quarantined,
            rows_skipped: stats.rows_skipped,
        }];
        return Ok(stats);
    }
    if units.is_empty() {
        return Err(Error::new(ErrorKind::Empty));
    }
    let workers = worker_count(opts.threads);
    let pool = (workers > 1).then(|| Arc::new(Pool::default()));
    let shared = Arc::new(opts.clone());
    let total: u64 = units.iter().filter_map(Unit::known_size).sum();
    ctl.bytes_total.store(total, Ordering::Relaxed);
    let run = std::thread::scope(|s| {
        let staffed = pool
            .as_deref()
            .map(|pool| pool.staff(s, workers.saturating_sub(1), true))
            .transpose()?;
        let out = convert_units(units, dst, &shared, ctl, pool.as_ref(), workers, started);
        drop(staffed);
        out
    });
    let mut stats = run?;
    stats.bytes_read = ctl.bytes_read.load(Ordering::Relaxed);
    stats.duration_s = started.elapsed().as_secs_f64();
    Ok(stats)
}

/// The one local file to hand to the single-file path, when that is all there is to do.
fn single_path(units: &[Unit], opts: &ConvertOptions) -> Option<std::path::PathBuf> {
    if opts.sources.sha256 || opts.sources.file_name_column.is_some() {
        return None;
    }
    match units {
        [one] => one.whole_path().map(Path::to_path_buf),
        _ => None,
    }
}

fn path_fingerprint(path: &Path) -> Fingerprint {
    let meta = std::fs::metadata(path).ok();
    Fingerprint {
        size: meta.as_ref().map(std::fs::Metadata::len),
        mtime: meta
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs_f64()),
        ..Fingerprint::default()
    }
}

/// One unit opened and started.
struct Started {
    name: String,
    format: &'static str,
    compression: Compression,
    encoding: String,
    fingerprint: FingerprintHandle,
    quarantine: QuarantineFormat,
    body: Body,
}

enum Body {
    /// No data at all (an empty file): nothing to write, counted with zero rows.
    Empty,
    /// All of it was in the first chunk, decoded already.
    Whole {
        decoder: Arc<dyn Decoder>,
        out: Box<ChunkOutput>,
    },
    /// More chunks to read.
    Stream(Box<dyn Rest>),
}

impl Body {
    fn schema(&self) -> Option<SchemaRef> {
        match self {
            Body::Empty => None,
            Body::Whole { decoder, .. } => Some(decoder.schema()),
            Body::Stream(rest) => Some(rest.schema()),
        }
    }
}

/// The rest of a unit after its start step, whatever its reader and decoder types.
trait Rest: Send {
    fn schema(&self) -> SchemaRef;

    /// Decodes the rest into `writer`: on `pool` with a reader thread, or on this thread.
    fn convert(
        self: Box<Self>,
        writer: &mut Writer<'_>,
        pool: Option<&Pool>,
        workers: usize,
        ctl: &Control,
    ) -> Result<()>;

    /// The rest as a streaming reader, decoded ahead on `threads` threads.
    fn into_reader(
        self: Box<Self>,
        threads: usize,
    ) -> (Box<dyn RecordBatchReader + Send>, Arc<ReadCounts>);
}

struct StartRest<R, D>(Start<R, D>);

impl<R: Read + Send + 'static, D: Decoder> Rest for StartRest<R, D> {
    fn schema(&self) -> SchemaRef {
        self.0.decoder.schema()
    }

    fn convert(
        self: Box<Self>,
        writer: &mut Writer<'_>,
        pool: Option<&Pool>,
        workers: usize,
        ctl: &Control,
    ) -> Result<()> {
        let Start {
            mut chunker,
            decoder,
            mut first,
            ..
        } = self.0;
        first.index = 0;
        chunker.keep_overflow(writer.policy == ErrorPolicy::Quarantine);
        let decoder = Arc::new(decoder);
        match pool {
            None => sequential_loop(first, chunker, decoder.as_ref(), writer, ctl),
            Some(pool) => stream_on_pool(first, chunker, &decoder, writer, pool, workers, ctl),
        }
    }

    fn into_reader(
        self: Box<Self>,
        threads: usize,
    ) -> (Box<dyn RecordBatchReader + Send>, Arc<ReadCounts>) {
        let reader = BatchReader::new(self.0).with_threads(threads);
        let counts = reader.counts();
        (Box::new(reader.into_arrow()), counts)
    }
}

/// One unit's chunks decoded on the shared pool (a reader thread cuts them) and written in
/// order, as [`super::run_parallel`] does for a single file, leaving the writer open.
fn stream_on_pool<R: Read + Send, D: Decoder>(
    first: Chunk,
    mut chunker: Chunker<R>,
    decoder: &Arc<D>,
    writer: &mut Writer<'_>,
    pool: &Pool,
    workers: usize,
    ctl: &Control,
) -> Result<()> {
    let (token_tx, token_rx, done_tx, done_rx) = prefetch::channels(in_flight(workers));
    pool.submit(prefetch::decode_job(decoder, first, done_tx.clone()));
    let mut sequencer = Sequencer::new();
    std::thread::scope(|s| {
        let reader = spawn_scoped(s, move || {
            let go_on = || ctl.check().map(|()| true);
            prefetch::feed(&mut chunker, 1, &token_rx, pool, decoder, &done_tx, go_on)
        })?;
        let written = write_in_order(
            pool,
            &done_rx,
            &token_tx,
            &mut sequencer,
            decoder.as_ref(),
            writer,
            ctl,
        );
        // The reader stops at its next token; queued decode jobs find no receiver.
        drop(done_rx);
        drop(token_tx);
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(Error::invalid("internal error: the reader panicked")));
        read.and(written)
    })
}

/// A decoder that appends the source's name as a column to every batch.
struct Named<D> {
    inner: D,
    column: Option<(Arc<Field>, Arc<str>)>,
    schema: SchemaRef,
}

impl<D: Decoder> Named<D> {
    fn new(inner: D, column: Option<&str>, value: &str) -> Result<Self> {
        let base = inner.schema();
        let Some(name) = column else {
            return Ok(Named {
                inner,
                column: None,
                schema: base,
            });
        };
        if base.field_with_name(name).is_ok() {
            return Err(Error::invalid(format!(
                "include_file_name: the data already has a column {name:?}; name the file \
                 column otherwise"
            )));
        }
        let field = Arc::new(Field::new(name, DataType::Utf8, true));
        let mut fields: Vec<Arc<Field>> = base.fields().iter().cloned().collect();
        fields.push(Arc::clone(&field));
        let schema = Arc::new(Schema::new_with_metadata(fields, base.metadata().clone()));
        Ok(Named {
            inner,
            column: Some((field, Arc::from(value))),
            schema,
        })
    }

    fn name_batches(&self, out: &mut ChunkOutput) {
        let Some((field, value)) = &self.column else {
            return;
        };
        for b in &mut out.batches {
            let schema = b.schema();
            // Outputs a decoder held and hands back already carry the column.
            if schema
                .fields()
                .last()
                .is_some_and(|f| f.name() == field.name())
            {
                continue;
            }
            let rows = b.num_rows();
            let values: ArrayRef = Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
                value.as_ref(),
                rows,
            )));
            let mut fields: Vec<Arc<Field>> = schema.fields().iter().cloned().collect();
            fields.push(Arc::clone(field));
            let mut columns = b.columns().to_vec();
            columns.push(values);
            let named = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
            let options = RecordBatchOptions::new().with_row_count(Some(rows));
            match RecordBatch::try_new_with_options(named, columns, &options) {
                Ok(nb) => *b = nb,
                Err(e) => {
                    out.error.get_or_insert_with(|| {
                        Error::invalid(format!("internal error: adding the file column: {e}"))
                    });
                }
            }
        }
    }
}

impl<D: Decoder> Decoder for Named<D> {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn process(&self, chunk: Chunk) -> ChunkOutput {
        let mut out = self.inner.process(chunk);
        self.name_batches(&mut out);
        out
    }

    fn resume(&self, tail: Tail, next: ChunkOutput) -> Resume {
        match self.inner.resume(tail, next) {
            Resume::Done(mut out) => {
                self.name_batches(&mut out);
                Resume::Done(out)
            }
            held @ Resume::Held(..) => held,
        }
    }

    fn in_order(&self, out: &mut ChunkOutput) -> bool {
        let again = self.inner.in_order(out);
        if again {
            self.name_batches(out);
        }
        again
    }
}

/// Opens and starts `unit` in the format given or detected; decodes its first chunk now
/// when it holds the whole input. Read streams fix their schema (`fixed`).
fn start_unit(
    unit: Unit,
    opts: &ConvertOptions,
    ctl_bytes: Option<Arc<std::sync::atomic::AtomicU64>>,
    fixed: bool,
) -> Result<Started> {
    let opened = unit.open(&opts.input, opts.sources.sha256, ctl_bytes)?;
    let fingerprint = opened.fingerprint_handle();
    let name = opened.name;
    let input = opened.input;
    let path = Path::new(&name);
    let with_src = |e: Error| e.with_path(path);
    let format = choose_format(path, opts.format, &input).map_err(with_src)?;
    let column = opts.sources.file_name_column.as_deref();
    let empty = |e: &Error| matches!(e.kind(), ErrorKind::Empty);
    // Rules need each row's bytes and place.
    let decoding = opts.decoding();
    let (body, quarantine) = match format {
        Format::Csv => {
            let decode = if fixed {
                DecodeOptions {
                    schema_policy: Some(SchemaPolicy::Strict),
                    ..decoding.clone()
                }
            } else {
                decoding.clone()
            };
            match csv::start(input.reader, &decode, &opts.csv, None) {
                Ok(s) => finish_start(s.start, column, &name)?,
                Err(e) if empty(&e) => (Body::Empty, QuarantineFormat::default()),
                Err(e) => return Err(with_src(e)),
            }
        }
        Format::Json | Format::Jsonl => {
            match json::start(input.reader, &decoding, &opts.json, opts.format, fixed) {
                Ok(s) => finish_start(s.start, column, &name)?,
                Err(e) if empty(&e) => (Body::Empty, QuarantineFormat::default()),
                Err(e) => return Err(with_src(e)),
            }
        }
        Format::Xml => match xml::start(input.reader, &decoding, &opts.xml, fixed) {
            Ok(s) => finish_start(s.start, column, &name)?,
            Err(e) if empty(&e) => (Body::Empty, QuarantineFormat::default()),
            Err(e) => return Err(with_src(e)),
        },
        // Of many event logs, the event tables (one table per run).
        Format::Xes => {
            let tables = match opts.xml.tables {
                xes::Tables::Traces => xes::Tables::Traces,
                _ => xes::Tables::Events,
            };
            match xes::start(input.reader, &decoding, &opts.xml, tables, fixed) {
                Ok(s) => finish_start(s.start, column, &name)?,
                Err(e) if empty(&e) => (Body::Empty, QuarantineFormat::default()),
                Err(e) => return Err(with_src(e)),
            }
        }
        _ => return Err(with_src(super::unsupported(&input))),
    };
    Ok(Started {
        format: format.name(),
        compression: input.compression.value,
        encoding: input.encoding.value.name(),
        fingerprint,
        quarantine,
        body,
        name,
    })
}

fn finish_start<R: Read + Send + 'static, D: Decoder>(
    start: Start<R, D>,
    column: Option<&str>,
    name: &str,
) -> Result<(Body, QuarantineFormat)> {
    let Start {
        chunker,
        decoder,
        first,
        quarantine,
    } = start;
    let decoder = Named::new(decoder, column, name)?;
    if first.last {
        let mut first = first;
        first.index = 0;
        let out = crate::stream::decode(&decoder, first);
        let decoder: Arc<dyn Decoder> = Arc::new(decoder);
        return Ok((
            Body::Whole {
                decoder,
                out: Box::new(out),
            },
            quarantine,
        ));
    }
    let rest = StartRest(Start {
        chunker,
        decoder,
        first,
        quarantine: quarantine.clone(),
    });
    Ok((Body::Stream(Box::new(rest)), quarantine))
}

/// Units started ahead on the pool (or on this thread without one), handed out in order.
struct Ahead {
    units: VecDeque<Unit>,
    next: usize,
    results: Receiver<(usize, Result<Started>)>,
    send: Sender<(usize, Result<Started>)>,
    waiting: BTreeMap<usize, Result<Started>>,
    opts: Arc<ConvertOptions>,
    bytes: Arc<std::sync::atomic::AtomicU64>,
    fixed: bool,
}

impl Ahead {
    fn new(
        units: Vec<Unit>,
        opts: Arc<ConvertOptions>,
        bytes: Arc<std::sync::atomic::AtomicU64>,
        fixed: bool,
    ) -> Self {
        let (send, results) = channel();
        Ahead {
            units: units.into(),
            next: 0,
            results,
            send,
            waiting: BTreeMap::new(),
            opts,
            bytes,
            fixed,
        }
    }

    /// Queues the start of the next unit on `pool`; false when none is left.
    fn submit(&mut self, pool: &Pool) -> bool {
        let Some(unit) = self.units.pop_front() else {
            return false;
        };
        let index = self.next;
        self.next += 1;
        let send = self.send.clone();
        let opts = Arc::clone(&self.opts);
        let bytes = Arc::clone(&self.bytes);
        let fixed = self.fixed;
        pool.submit(Box::new(move || {
            // A panic must still answer, or the writer would wait for this unit forever.
            let started = catch_unwind(AssertUnwindSafe(|| {
                start_unit(unit, &opts, Some(bytes), fixed)
            }))
            .unwrap_or_else(|_| Err(Error::invalid("internal error: starting a source panicked")));
            let _ = send.send((index, started));
        }));
        true
    }

    /// The started unit `index`, running pool jobs while it is not in; checks `stop`
    /// between waits.
    fn take(
        &mut self,
        index: usize,
        pool: &Pool,
        stop: &dyn Fn() -> Result<()>,
    ) -> Result<Started> {
        loop {
            if let Some(s) = self.waiting.remove(&index) {
                return s;
            }
            stop()?;
            match self.results.try_recv() {
                Ok((i, s)) => {
                    self.waiting.insert(i, s);
                    continue;
                }
                Err(_) if pool.help_any() => continue,
                Err(_) => {}
            }
            match self.results.recv_timeout(WAIT_TICK) {
                Ok((i, s)) => {
                    self.waiting.insert(i, s);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Error::invalid("internal error: a unit's start was lost"))
                }
            }
        }
    }

    /// The next unit started on this thread (no pool).
    fn start_here(&mut self) -> Option<Result<Started>> {
        let unit = self.units.pop_front()?;
        self.next += 1;
        Some(start_unit(
            unit,
            &self.opts,
            Some(Arc::clone(&self.bytes)),
            self.fixed,
        ))
    }
}

#[allow(clippy::too_many_arguments)]
fn convert_units(
    units: Vec<Unit>,
    dst: &Path,
    opts: &Arc<ConvertOptions>,
    ctl: &Control,
    pool_arc: Option<&Arc<Pool>>,
    workers: usize,
    started: Instant,
) -> Result<ConvertStats> {
    let pool = pool_arc.map(Arc::as_ref);
    let count = units.len();
    let mut ahead_q = Ahead::new(units, Arc::clone(opts), Arc::clone(&ctl.bytes_read), false);
    if let Some(pool) = pool {
        for _ in 0..ahead(workers) {
            ahead_q.submit(pool);
        }
    }
    let stop = || ctl.check();
    let next_started = |i: usize, q: &mut Ahead| -> Result<Started> {
        match pool {
            Some(pool) => {
                let s = q.take(i, pool, &stop);
                q.submit(pool);
                s
            }
            None => q
                .start_here()
                .unwrap_or_else(|| Err(Error::invalid("internal error: too few units"))),
        }
    };
    // The writer is made with the first unit that has data: its schema and quarantine
    // format; its compression, encoding and format name the run (unless units differ).
    let mut pending: Vec<Started> = Vec::new();
    let mut first = None;
    for i in 0..count {
        let s = next_started(i, &mut ahead_q)?;
        let has_data = s.body.schema().is_some();
        pending.push(s);
        if has_data {
            first = Some(i);
            break;
        }
    }
    let Some(first_index) = first else {
        return Err(Error::new(ErrorKind::Empty));
    };
    let head = pending
        .get(first_index)
        .ok_or_else(|| Error::invalid("internal error: no first unit"))?;
    let schema = head
        .body
        .schema()
        .ok_or_else(|| Error::invalid("internal error: no first schema"))?;
    // Columns a rule names must exist (unless later sources may add them) and hold values
    // it can check.
    let may_grow = opts.decode.schema_policy != Some(SchemaPolicy::Strict);
    opts.quality().check_schema(&schema, may_grow)?;
    let mut quarantine_format = head.quarantine.clone();
    let head_path = Path::new(&head.name).to_path_buf();
    if quarantine_format.input_extension {
        if let Some(ext) = quarantine_extension(&head_path, head.compression) {
            quarantine_format.extension = ext;
        }
    }
    let job = Job {
        src: &head_path,
        dst,
        opts,
        ctl,
        compression: head.compression,
        encoding: head.encoding.clone(),
        format: head.format,
        started,
        discard: false,
    };
    let mut writer = job.writer(
        Arc::clone(&schema),
        pool_arc.cloned(),
        quarantine_format,
        opts.stage(),
    );
    let strict = opts.decode.schema_policy == Some(SchemaPolicy::Strict);
    let mut sources = Vec::with_capacity(count);
    let mut mixed = (false, false, false);
    {
        let mut write_one = |s: Started, writer: &mut Writer<'_>| -> Result<()> {
            ctl.check()?;
            writer.start_source();
            let before = (
                writer.stats.rows_read,
                writer.stats.rows_quarantined,
                writer.stats.rows_skipped,
            );
            let path = Path::new(&s.name).to_path_buf();
            if let Some(unit_schema) = s.body.schema() {
                if strict && unit_schema.fields() != schema.fields() {
                    return Err(Error::new(ErrorKind::Schema(format!(
                        "its columns ({}) differ from those of the first source ({}) and \
                     schema_policy is \"strict\"; use \"merge\" to merge them",
                        field_list(&unit_schema),
                        field_list(&schema)
                    )))
                    .with_path(&path));
                }
            }
            mixed.0 |= s.compression.name() != writer.stats.input_compression;
            mixed.1 |= s.encoding != writer.stats.input_encoding;
            mixed.2 |= s.format != writer.stats.format;
            match s.body {
                Body::Empty => {}
                Body::Whole { decoder, out } => {
                    let mut sequencer = Sequencer::new();
                    for ready in sequencer.push(*out, decoder.as_ref()) {
                        writer.take(ready).map_err(|e| e.with_path(&path))?;
                    }
                    sequencer.drained()?;
                }
                Body::Stream(rest) => rest
                    .convert(writer, pool, workers, ctl)
                    .map_err(|e| e.with_path(&path))?,
            }
            let st = &writer.stats;
            let read = st.rows_read - before.0;
            let quarantined = st.rows_quarantined - before.1;
            let skipped = st.rows_skipped - before.2;
            sources.push(SourceStats {
                name: s.name,
                fingerprint: s.fingerprint.get(),
                format: s.format,
                compression: s.compression.name(),
                rows_read: read,
                rows_written: read.saturating_sub(quarantined + skipped),
                rows_quarantined: quarantined,
                rows_skipped: skipped,
            });
            Ok(())
        };
        for s in pending {
            write_one(s, &mut writer)?;
        }
        for i in first_index + 1..count {
            let s = next_started(i, &mut ahead_q)?;
            write_one(s, &mut writer)?;
        }
    }
    let mut stats = writer.finish()?;
    if mixed.0 {
        stats.input_compression = "mixed";
    }
    if mixed.1 {
        stats.input_encoding = "mixed".into();
    }
    if mixed.2 {
        stats.format = "mixed";
    }
    stats.sources = sources;
    Ok(stats)
}

fn field_list(schema: &Schema) -> String {
    schema
        .fields()
        .iter()
        .map(|f| format!("{} {}", f.name(), f.data_type()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Opens `sources` for one streaming read: batches of every unit in order, in the schema of
/// the first unit that has data (a later unit's batches are brought to it where they fit:
/// missing columns are null, types widen to it; a unit with other columns or types that do
/// not fit is a [`ErrorKind::Schema`] error, since a stream's schema is fixed when it
/// starts). Units are started ahead on `opts.threads` threads; one too big for a chunk is
/// decoded ahead as [`super::read`] decodes a file. One plain local file goes through
/// [`super::read`] unchanged.
pub fn read_sources(sources: Vec<Source>, opts: &ConvertOptions) -> Result<Reading> {
    super::refuse_quarantine(opts)?;
    let units = source::units(sources, &opts.input)?;
    if let Some(path) = single_path(&units, opts) {
        return super::read(&path, opts);
    }
    if units.is_empty() {
        return Err(Error::new(ErrorKind::Empty));
    }
    let threads = worker_count(opts.threads);
    let reader = ManyReader::start(units, Arc::new(opts.clone()), threads)?;
    let counts = Arc::clone(&reader.counts);
    Ok(Reading {
        reader: Box::new(reader),
        counts,
    })
}

/// The streaming reader over many units.
struct ManyReader {
    schema: SchemaRef,
    /// Starts units ahead (with more than one thread).
    pool: Option<Arc<Pool>>,
    ahead: Ahead,
    next: usize,
    count: usize,
    threads: usize,
    /// The unit being streamed: its batches, counts and name.
    current: Option<(Box<dyn RecordBatchReader + Send>, Arc<ReadCounts>, String)>,
    /// Units started already, to take before the queue (the first ones, read at start).
    started: VecDeque<Started>,
    ready: VecDeque<(RecordBatch, String)>,
    pending: Option<Error>,
    done: bool,
    /// What the stream reports: finished units' counts plus the current one's.
    counts: Arc<ReadCounts>,
    base: [u64; 3],
}

impl ManyReader {
    fn start(units: Vec<Unit>, opts: Arc<ConvertOptions>, threads: usize) -> Result<Self> {
        let count = units.len();
        let bytes = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut ahead_q = Ahead::new(units, Arc::clone(&opts), bytes, true);
        let pool = (threads > 1).then(|| Arc::new(Pool::default()));
        if let Some(pool) = &pool {
            for _ in 0..threads {
                let pool = Arc::clone(pool);
                std::thread::spawn(move || pool.work());
            }
            for _ in 0..ahead(threads) {
                ahead_q.submit(pool);
            }
        }
        let mut reader = ManyReader {
            schema: Arc::new(Schema::empty()),
            pool,
            ahead: ahead_q,
            next: 0,
            count,
            threads,
            current: None,
            started: VecDeque::new(),
            ready: VecDeque::new(),
            pending: None,
            done: false,
            counts: Arc::new(ReadCounts::default()),
            base: [0; 3],
        };
        // The first unit with data fixes the schema; a unit that fails to start fails here.
        loop {
            let Some(s) = reader.take_unit()? else {
                return Err(Error::new(ErrorKind::Empty));
            };
            let schema = s.body.schema();
            reader.started.push_back(s);
            if let Some(schema) = schema {
                reader.schema = schema;
                break;
            }
        }
        Ok(reader)
    }

    /// The next unit started, in order; `None` after the last.
    fn take_unit(&mut self) -> Result<Option<Started>> {
        if self.next >= self.count {
            return Ok(None);
        }
        let index = self.next;
        self.next += 1;
        match &self.pool {
            Some(pool) => {
                let s = self.ahead.take(index, pool, &|| Ok(()))?;
                self.ahead.submit(pool);
                Ok(Some(s))
            }
            None => self.ahead.start_here().transpose(),
        }
    }

    fn publish(&self) {
        let cur = self.current.as_ref().map_or([0; 3], |(_, c, _)| {
            [
                c.rows_read.load(Ordering::Relaxed),
                c.rows_rejected.load(Ordering::Relaxed),
                c.rows_skipped.load(Ordering::Relaxed),
            ]
        });
        let c = &self.counts;
        c.rows_read.store(self.base[0] + cur[0], Ordering::Relaxed);
        c.rows_rejected
            .store(self.base[1] + cur[1], Ordering::Relaxed);
        c.rows_skipped
            .store(self.base[2] + cur[2], Ordering::Relaxed);
    }

    /// `batch` of unit `name` in the stream's schema.
    fn fit(&self, batch: RecordBatch, name: &str) -> Result<RecordBatch> {
        if batch.schema().fields() == self.schema.fields() {
            return Ok(batch);
        }
        crate::write::conform::conform(&batch, &self.schema).map_err(|e| {
            Error::new(ErrorKind::Schema(format!(
                "does not fit the stream's schema, which the first source set ({}): {}; \
                 convert() merges the schemas of many sources",
                field_list(&self.schema),
                e.kind()
            )))
            .with_path(Path::new(name))
        })
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            if let Some((b, name)) = self.ready.pop_front() {
                return self.fit(b, &name).map(Some);
            }
            if let Some(e) = self.pending.take() {
                self.done = true;
                return Err(e);
            }
            if self.done {
                return Ok(None);
            }
            if let Some((reader, counts, name)) = &mut self.current {
                match reader.next() {
                    Some(Ok(b)) => {
                        let name = name.clone();
                        self.publish();
                        return self.fit(b, &name).map(Some);
                    }
                    Some(Err(e)) => {
                        self.done = true;
                        return Err(Error::from(e).with_path(Path::new(name.as_str())));
                    }
                    None => {
                        self.base[0] += counts.rows_read.load(Ordering::Relaxed);
                        self.base[1] += counts.rows_rejected.load(Ordering::Relaxed);
                        self.base[2] += counts.rows_skipped.load(Ordering::Relaxed);
                        self.current = None;
                        self.publish();
                        continue;
                    }
                }
            }
            let unit = match self.started.pop_front() {
                Some(s) => s,
                None => match self.take_unit()? {
                    Some(s) => s,
                    None => {
                        self.done = true;
                        return Ok(None);
                    }
                },
            };
            let name = unit.name;
            match unit.body {
                Body::Empty => {}
                Body::Whole { decoder, out } => {
                    let mut sequencer = Sequencer::new();
                    for mut out in sequencer.push(*out, decoder.as_ref()) {
                        if let Some(e) = out.error.take() {
                            self.pending = Some(e.with_path(Path::new(&name)));
                            break;
                        }
                        self.base[1] += out.rejects.len() as u64;
                        self.base[2] += out.rows_skipped;
                        self.ready
                            .extend(out.batches.into_iter().map(|b| (b, name.clone())));
                    }
                    self.base[0] += sequencer.records();
                    self.publish();
                }
                Body::Stream(rest) => {
                    let (reader, counts) = rest.into_reader(self.threads);
                    self.current = Some((reader, counts, name));
                }
            }
        }
    }
}

impl Drop for ManyReader {
    fn drop(&mut self) {
        if let Some(pool) = &self.pool {
            pool.close();
        }
    }
}

impl Iterator for ManyReader {
    type Item = std::result::Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().map_err(ArrowError::from).transpose()
    }
}

impl RecordBatchReader for ManyReader {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}

#[cfg(test)]
mod tests;
