//! The conversion pipeline: one reader cutting chunks, one worker per core decoding them and
//! encoding the output's columns (a [`Pool`]), and the calling thread putting results back in
//! order and writing them. Channels are bounded and at most [`in_flight`] chunks exist at
//! once, so memory does not grow with the input.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::sync::Arc;
use std::time::Instant;

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::SchemaRef;

use crate::decode::csv::{self, CsvOptions};
use crate::decode::json::{self, JsonOptions};
use crate::decode::xml::{self, xes, XmlOptions};
use crate::decode::{DecodeOptions, ErrorPolicy, Reject, SchemaPolicy};
use crate::detect::{Compression, Format};
use crate::error::{Error, ErrorKind, Result};
use crate::input::{self, InputOptions};
use crate::native::{self, NativeOptions, Shape};
use crate::sketch::checksum;
use crate::sketch::profile::Profile;
use crate::sketch::stage::{Checked, QualityOptions, Stage, Tally};
use crate::stream::parts::{Limits, PartBatches, PartReader, Parts};
use crate::stream::{
    prefetch, BatchReader, Chunk, ChunkOutput, Chunker, Decoder, QuarantineFormat, ReadCounts,
    Sequencer, Start,
};
use crate::work::{spawn_scoped, Pool};
use crate::write::dataset::{DatasetOptions, DatasetSink};
use crate::write::parquet::{Closed, ParquetOptions, ParquetSink};
use crate::write::quarantine::{self, QuarantineSink};
use crate::write::{conform, evolve, BatchSink, ClosedOutput};

mod many;

pub use many::{ahead, convert_sources, read_sources, SourceOptions, SourceStats};

/// Bad records kept as samples in [`ConvertStats::error_samples`].
const SAMPLES: usize = 20;
/// Bytes of a sample's raw record kept.
const SAMPLE_RAW: usize = 1024;

/// Shared between a running job and whoever watches it: progress counters and a cancel flag.
#[derive(Debug, Default)]
pub struct Control {
    /// Shared with the sinks, which look at it between long steps of their own.
    cancelled: Arc<AtomicBool>,
    /// Input bytes read so far.
    pub bytes_read: Arc<AtomicU64>,
    /// Rows decoded so far.
    pub rows_read: AtomicU64,
    /// Total input size when known (0 otherwise).
    pub bytes_total: AtomicU64,
}

impl Control {
    /// Asks the job to stop; it returns [`ErrorKind::Cancelled`] soon after.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// The cancel flag itself, for readers that must stop on their own (a Python file-like
    /// checks it before each call into Python).
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.cancelled)
    }

    /// Whether [`Control::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::new(ErrorKind::Cancelled))
        } else {
            Ok(())
        }
    }
}

/// Opens a local input file, refusing directories and other non-files with a clear error.
pub use crate::input::open_file as open_input;

/// What a conversion did. `rows_read == rows_written + rows_quarantined + rows_skipped`.
#[derive(Debug, Clone)]
pub struct ConvertStats {
    /// Data records read from the input (the header is not counted).
    pub rows_read: u64,
    /// Rows written to the output.
    pub rows_written: u64,
    /// Bad records written to the quarantine file.
    pub rows_quarantined: u64,
    /// Records dropped on purpose: bad records under the permissive policy and headers
    /// repeated mid-file.
    pub rows_skipped: u64,
    /// Values set to null by `on_cast_error = null`.
    pub values_nulled: u64,
    /// Bad records by reason.
    pub errors_by_reason: BTreeMap<&'static str, u64>,
    /// The first bad records (raw bytes cut to 1 KiB).
    pub error_samples: Vec<Reject>,
    /// Input bytes read (on disk, so compressed bytes for a compressed input).
    pub bytes_read: u64,
    /// Compression of the input (`"none"`, `"gzip"`, ...).
    pub input_compression: &'static str,
    /// Text encoding of the input (`"utf-8"`, `"utf-16-le"`, `"windows-1252"`, ...).
    pub input_encoding: String,
    /// The format read (`"csv"`, `"json"`, `"jsonl"`, ...; `"arrow"` for batches handed
    /// over as Arrow).
    pub format: &'static str,
    /// Output bytes written (data files only).
    pub bytes_written: u64,
    /// Data files written, in the order they were started.
    pub files: Vec<PathBuf>,
    /// Directories the run created for a dataset output (parents first); see
    /// [`remove_output`].
    pub created_dirs: Vec<PathBuf>,
    /// The quarantine file and the error table, when any record was quarantined.
    pub quarantine_files: Vec<PathBuf>,
    /// Output schema.
    pub schema: SchemaRef,
    /// Wall time.
    pub duration_s: f64,
    /// Per source (file, stream, archive member): its fingerprint and rows, in input
    /// order ([`convert_sources`]; empty for [`write_batches`]).
    pub sources: Vec<SourceStats>,
    /// The checksum of the rows read and kept (decoded, past every rule), when checksums
    /// are on: see [`crate::sketch::checksum`].
    pub checksum_in: Option<u64>,
    /// The checksum of the rows as written (the same rows after any change of type the
    /// schema's widening made), when checksums are on.
    pub checksum_out: Option<u64>,
    /// The profile of the rows decoded, when asked for.
    pub quality: Option<Box<Profile>>,
}

/// Options of [`convert`].
#[derive(Debug, Clone, Default)]
pub struct ConvertOptions {
    /// How to decode, whatever the format.
    pub decode: DecodeOptions,
    /// The input's format; `None` detects it from the bytes (the file's suffix breaks a
    /// tie between delimited text and another text format).
    pub format: Option<Format>,
    /// How delimited text is written, for CSV input.
    pub csv: CsvOptions,
    /// Where the records are and how nested values are laid out, for JSON input.
    pub json: JsonOptions,
    /// Where the records are, how nested elements are laid out and which XES tables to
    /// write, for XML and XES input.
    pub xml: XmlOptions,
    /// How to write the output.
    pub parquet: ParquetOptions,
    /// Decompression and transcoding of the input.
    pub input: InputOptions,
    /// Several output files (by size, by rows, by partition) in the directory `dst`;
    /// `None`: `dst` is one file.
    pub dataset: Option<DatasetOptions>,
    /// Columns to read and the sheet of a workbook, for binary inputs.
    pub native: NativeOptions,
    /// Decode workers; 0 means one per available core.
    pub threads: usize,
    /// The file-name column and content hashes of sources ([`convert_sources`]).
    pub sources: SourceOptions,
    /// Profile, checksums and validation rules.
    pub quality: QualityOptions,
    /// Read the output back before it is put in place and check that its checksum is the
    /// one written (and, unless a column was widened to text, the one read); a mismatch is
    /// an [`ErrorKind::Integrity`] error and nothing is committed. Needs checksums (turned
    /// on by it).
    pub verify: bool,
}

impl ConvertOptions {
    /// The quality stage's options in effect: `verify` needs checksums.
    fn quality(&self) -> QualityOptions {
        let mut q = self.quality.clone();
        q.checksum |= self.verify;
        q
    }

    /// The quality stage, when profile, checksums or rules are on.
    fn stage(&self) -> Option<Arc<Stage>> {
        let quality = self.quality();
        quality
            .is_active()
            .then(|| Arc::new(Stage::new(&quality, self.decode.error_policy)))
    }

    /// The decoding options in effect: rules need each row's bytes and place.
    fn decoding(&self) -> DecodeOptions {
        DecodeOptions {
            row_sources: self.decode.row_sources || !self.quality.rules.is_empty(),
            ..self.decode.clone()
        }
    }
}

/// Chunks that may exist at once (being read, decoded, or waiting to be written in order).
pub fn in_flight(workers: usize) -> usize {
    2 * workers + 2
}

/// Removes what a finished conversion wrote: its data and quarantine files, and the
/// directories it created if they are empty. For a run interrupted after its output was in
/// place (a dataset it replaced is not brought back).
pub fn remove_output(stats: &ConvertStats) {
    for f in stats.files.iter().chain(&stats.quarantine_files) {
        let _ = std::fs::remove_file(f);
    }
    for d in stats.created_dirs.iter().rev() {
        let _ = std::fs::remove_dir(d);
    }
}

/// What the data sink will be; it is made when the first rows arrive, which are the sample
/// its column encodings are chosen from.
struct SinkSpec<'a> {
    schema: SchemaRef,
    parquet: ParquetOptions,
    dataset: Option<&'a DatasetOptions>,
    /// Shared with the decode workers, which then encode columns too.
    pool: Option<Arc<Pool>>,
    /// The job's cancel flag.
    stop: Arc<AtomicBool>,
    /// Write nothing (a profile only).
    discard: bool,
}

impl SinkSpec<'_> {
    fn create(&self, dst: &Path, sample: Option<&RecordBatch>) -> Result<Box<dyn BatchSink>> {
        let schema = self.schema.clone();
        if self.discard {
            return Ok(Box::new(Discard::default()));
        }
        Ok(match self.dataset {
            None => {
                let mut s = ParquetSink::create(dst, schema, &self.parquet, sample)?;
                if let Some(pool) = &self.pool {
                    s.set_pool(Arc::clone(pool));
                }
                s.set_stop(Arc::clone(&self.stop));
                Box::new(s)
            }
            Some(d) => {
                let mut s = DatasetSink::create(dst, schema, &self.parquet, d, sample)?;
                if let Some(pool) = &self.pool {
                    s.set_pool(Arc::clone(pool));
                }
                s.set_stop(Arc::clone(&self.stop));
                Box::new(s)
            }
        })
    }
}

/// A sink that keeps nothing: [`profile`] reads and counts without writing.
#[derive(Default)]
struct Discard {
    rows: u64,
}

impl BatchSink for Discard {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    fn rows(&self) -> u64 {
        self.rows
    }

    fn close(self: Box<Self>) -> Result<Box<dyn ClosedOutput>> {
        Ok(Box::new(Discarded))
    }
}

/// What a [`Discard`] leaves: no files.
struct Discarded;

impl ClosedOutput for Discarded {
    fn files(&self) -> Vec<PathBuf> {
        Vec::new()
    }

    fn size(&self) -> u64 {
        0
    }

    fn commit(self: Box<Self>) -> Result<Vec<PathBuf>> {
        Ok(Vec::new())
    }

    fn staged(&self) -> Vec<evolve::Staged> {
        Vec::new()
    }
}

/// A sink that also sums the checksums of the batches it writes (see [`Writer::merge_segments`]).
struct Hashing {
    inner: Box<dyn BatchSink>,
    sum: u64,
}

impl BatchSink for Hashing {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.sum = self.sum.wrapping_add(checksum::batch_checksum(batch));
        self.inner.write(batch)
    }

    fn rows(&self) -> u64 {
        self.inner.rows()
    }

    fn close(self: Box<Self>) -> Result<Box<dyn ClosedOutput>> {
        self.inner.close()
    }
}

/// Where finished chunk outputs go: the data sink, the quarantine sink, and the counters.
struct Writer<'a> {
    dst: &'a Path,
    policy: ErrorPolicy,
    spec: SinkSpec<'a>,
    sink: Option<Box<dyn BatchSink>>,
    /// Output closed when the schema widened, with the schema it was written in; brought
    /// to the final schema at the end (see [`crate::write::evolve`]).
    segments: Vec<(Box<dyn ClosedOutput>, SchemaRef)>,
    quarantine: Option<QuarantineSink>,
    quarantine_format: QuarantineFormat,
    stats: ConvertStats,
    ctl: &'a Control,
    /// The quality stage's writing side, when it is on.
    tally: Option<Tally>,
    /// The checksum of the rows written so far, when checksums are on.
    checksum_out: Option<u64>,
    /// A column was widened to text: values changed type, so they hash differently.
    retyped: bool,
    /// Read the output back before committing it (see [`ConvertOptions::verify`]).
    verify: bool,
    /// Rows read before the current source (records are numbered within each source).
    source_start: u64,
}

impl Writer<'_> {
    /// The outputs taken from now on are of the next source, whose records are numbered
    /// from 1 again.
    fn start_source(&mut self) {
        self.source_start = self.stats.rows_read;
    }

    /// The data sink, made now if this is the first batch.
    fn sink(&mut self, sample: Option<&RecordBatch>) -> Result<&mut Box<dyn BatchSink>> {
        let sink = match self.sink.take() {
            Some(sink) => sink,
            None => self.spec.create(self.dst, sample)?,
        };
        Ok(self.sink.insert(sink))
    }

    fn take(&mut self, mut out: ChunkOutput) -> Result<()> {
        // Records of this output are numbered from here, within its source (the
        // sequencer numbered them so).
        let base = self.stats.rows_read - self.source_start + 1;
        let sums = match &mut self.tally {
            Some(t) => t.take(&mut out, base)?,
            None => Vec::new(),
        };
        if let Some(e) = out.error.take() {
            return Err(e);
        }
        for (i, b) in out.batches.iter().enumerate() {
            let (b, same) = self.fit(b)?;
            if let Some(sum) = &mut self.checksum_out {
                // A batch written as decoded has the checksum the worker computed.
                let c = match sums.get(i) {
                    Some(s) if same => *s,
                    _ => checksum::batch_checksum(&b),
                };
                *sum = sum.wrapping_add(c);
            }
            self.sink(Some(&b))?.write(&b)?;
        }
        if !out.overflow.is_empty() {
            if let Some(q) = &mut self.quarantine {
                q.continue_record(&out.overflow)?;
            }
        }
        self.stats.rows_read += out.rows_read;
        self.stats.rows_skipped += out.rows_skipped;
        self.stats.values_nulled += out.values_nulled;
        self.ctl
            .rows_read
            .fetch_add(out.rows_read, Ordering::Relaxed);
        for r in out.rejects {
            *self
                .stats
                .errors_by_reason
                .entry(r.reason.as_str())
                .or_insert(0) += 1;
            if self.stats.error_samples.len() < SAMPLES {
                self.stats.error_samples.push(Reject {
                    position: r.position.clone(),
                    column: r.column.clone(),
                    reason: r.reason,
                    detail: r.detail.clone(),
                    raw: r
                        .raw
                        .get(..r.raw.len().min(SAMPLE_RAW))
                        .unwrap_or_default()
                        .to_vec(),
                });
            }
            if self.policy == ErrorPolicy::Quarantine {
                if self.quarantine.is_none() {
                    let q = &self.quarantine_format;
                    let (raw, errors) = quarantine::paths_for(self.dst, &q.extension);
                    self.quarantine = Some(
                        QuarantineSink::create(&raw, &errors, &q.header)?.with_footer(&q.footer),
                    );
                    self.stats.quarantine_files = vec![raw, errors];
                }
                if let Some(q) = &mut self.quarantine {
                    q.write(r)?;
                }
                self.stats.rows_quarantined += 1;
            } else {
                self.stats.rows_skipped += 1;
            }
        }
        Ok(())
    }

    /// `batch` in the output's schema, and whether it is the batch as it came. A batch
    /// whose schema is wider (a decoder whose schema evolves) widens the output: what was
    /// written so far becomes a segment, and the rest goes on in the joined schema.
    fn fit(&mut self, batch: &RecordBatch) -> Result<(RecordBatch, bool)> {
        let target = &self.spec.schema;
        let schema = batch.schema();
        if Arc::ptr_eq(&schema, target) || schema.fields() == target.fields() {
            return Ok((batch.clone(), true));
        }
        let joined = conform::join_schemas(target, &schema, true).ok_or_else(|| {
            Error::new(ErrorKind::Schema(format!(
                "internal error: batches of schemas that do not join: {target} and {schema}"
            )))
        })?;
        if joined.fields() != target.fields() {
            // What was written in a type the join turns into text is rendered as text when
            // the segments are brought together.
            for f in target.fields() {
                if let Ok(j) = joined.field_with_name(f.name()) {
                    if retypes(f, j) {
                        self.retyped = true;
                    }
                }
            }
            if let Some(sink) = self.sink.take() {
                self.segments.push((sink.close()?, Arc::clone(target)));
            }
            let joined = Arc::new(joined);
            self.spec.schema = Arc::clone(&joined);
            self.stats.schema = joined;
        }
        for f in schema.fields() {
            if let Ok(t) = self.spec.schema.field_with_name(f.name()) {
                if retypes(f, t) {
                    self.retyped = true;
                }
            }
        }
        Ok((conform::conform(batch, &self.spec.schema)?, false))
    }

    /// Brings the segments written before the schema widened, and the last one, into one
    /// output of the final schema.
    fn merge_segments(&mut self) -> Result<()> {
        if self.segments.is_empty() {
            return Ok(());
        }
        if let Some(last) = self.sink.take() {
            self.segments
                .push((last.close()?, Arc::clone(&self.spec.schema)));
        }
        let target = Arc::clone(&self.spec.schema);
        let partition_by: Vec<String> = self
            .spec
            .dataset
            .map(|d| d.partition_by.clone())
            .unwrap_or_default();
        let partition = (!partition_by.is_empty()).then_some((self.dst, partition_by.as_slice()));
        // Every row is written again: the output's checksum is that of the copies.
        let mut sink = Hashing {
            inner: self.spec.create(self.dst, None)?,
            sum: 0,
        };
        let ctl = self.ctl;
        let stop = || ctl.check();
        for (segment, written) in &self.segments {
            evolve::copy_segment(
                segment.as_ref(),
                written,
                partition,
                &target,
                &mut sink,
                &stop,
            )?;
        }
        // The segments' temporary files go when they are dropped.
        self.segments.clear();
        if let Some(sum) = &mut self.checksum_out {
            *sum = sink.sum;
        }
        self.sink = Some(Box::new(sink));
        Ok(())
    }

    fn finish(mut self) -> Result<ConvertStats> {
        // No rows at all still makes a (valid, empty) output.
        self.sink(None)?;
        self.merge_segments()?;
        let Writer {
            dst,
            policy,
            sink,
            quarantine,
            quarantine_format,
            mut stats,
            ctl,
            tally,
            checksum_out,
            retyped,
            verify,
            spec,
            ..
        } = self;
        if let Some(t) = tally {
            let (profile, checksum_in) = t.finish();
            stats.quality = profile.map(Box::new);
            stats.checksum_in = checksum_in;
        }
        stats.checksum_out = checksum_out;
        let sink = sink.ok_or_else(|| Error::invalid("internal error: no output was made"))?;
        stats.rows_written = sink.rows();
        let accounted = stats.rows_written + stats.rows_quarantined + stats.rows_skipped;
        if accounted != stats.rows_read {
            return Err(Error::invalid(format!(
                "internal error: {} rows read but {accounted} accounted for",
                stats.rows_read
            )));
        }
        // Everything is complete on disk before anything appears under its final name. The
        // quarantine files are completed on a thread of their own meanwhile: each close
        // ends in a sync that mostly waits for the disk.
        let (data, extra) = std::thread::scope(|s| {
            let extra = quarantine.map(|q| spawn_scoped(s, move || q.close()));
            let data = sink.close().and_then(|data| {
                if verify {
                    let partition_by: Vec<String> = spec
                        .dataset
                        .map(|d| d.partition_by.clone())
                        .unwrap_or_default();
                    let partition =
                        (!partition_by.is_empty()).then_some((dst, partition_by.as_slice()));
                    let stop = || ctl.check();
                    let read_back =
                        evolve::checksum_of(data.as_ref(), &spec.schema, partition, &stop)?;
                    check_integrity(&stats, read_back, retyped)?;
                }
                Ok(data)
            });
            let extra: Result<Vec<Closed>> = match extra {
                None => Ok(Vec::new()),
                Some(Err(e)) => Err(e),
                Some(Ok(closing)) => closing.join().unwrap_or_else(|_| {
                    Err(Error::invalid(
                        "internal error: completing the quarantine files panicked",
                    ))
                }),
            };
            (data, extra)
        });
        let data = data?;
        let extra = extra?;
        ctl.check()?;
        stats.bytes_written = data.size();
        stats.files = data.files();
        if extra.is_empty() && policy == ErrorPolicy::Quarantine {
            // No bad rows this time: quarantine files left by an earlier run at these paths
            // would be taken for this output's, so they go.
            let (raw, errors) = quarantine::paths_for(dst, &quarantine_format.extension);
            let _ = std::fs::remove_file(raw);
            let _ = std::fs::remove_file(errors);
        }
        for c in extra {
            c.commit()?;
        }
        stats.created_dirs = data.commit()?;
        Ok(stats)
    }
}

/// Converts a file to one Parquet file, or to a directory of them when
/// [`ConvertOptions::dataset`] is set. The format is detected unless given. On any error (or
/// cancellation) no output file is left behind.
pub fn convert(
    src: &Path,
    dst: &Path,
    opts: &ConvertOptions,
    ctl: &Control,
) -> Result<ConvertStats> {
    let started = Instant::now();
    let input = input::open(src, &native_ok(&opts.input), Some(ctl.bytes_read.clone()))?;
    ctl.bytes_total.store(input.size, Ordering::Relaxed);
    let format = choose_format(src, opts.format, &input)?;
    let job = Job {
        src,
        dst,
        opts,
        ctl,
        compression: input.compression.value,
        encoding: input.encoding.value.name(),
        format: format.name(),
        started,
        discard: false,
    };
    job.start(format, input)
}

/// Reads a whole file as [`convert`] does, writing nothing: the counts, the checksum of the
/// rows read and, with [`QualityOptions::profile`], their profile. The quarantine policy
/// needs an output and is refused.
pub fn profile(src: &Path, opts: &ConvertOptions, ctl: &Control) -> Result<ConvertStats> {
    profile_refuses_quarantine(opts)?;
    let started = Instant::now();
    let input = input::open(src, &native_ok(&opts.input), Some(ctl.bytes_read.clone()))?;
    ctl.bytes_total.store(input.size, Ordering::Relaxed);
    let format = choose_format(src, opts.format, &input)?;
    let job = Job {
        src,
        dst: src,
        opts,
        ctl,
        compression: input.compression.value,
        encoding: input.encoding.value.name(),
        format: format.name(),
        started,
        discard: true,
    };
    job.start(format, input)
}

/// A profile writes nothing, so it has nowhere to quarantine bad records.
fn profile_refuses_quarantine(opts: &ConvertOptions) -> Result<()> {
    if opts.decode.error_policy == ErrorPolicy::Quarantine {
        return Err(Error::invalid(
            "error_policy=\"quarantine\" needs an output to put bad records beside; a profile \
             writes nothing: use \"permissive\" (bad records are counted by reason)",
        ));
    }
    Ok(())
}

/// An XES log: the event table (or the trace table) to `dst`; with both tables, the trace
/// table is then written by a second pass over the input to `<dst stem>.traces.parquet`
/// beside it, listed in the result's files. If the second pass fails, the first output is
/// removed too.
fn convert_xes(
    src: &Path,
    dst: &Path,
    opts: &ConvertOptions,
    ctl: &Control,
    input: input::Input,
    job: Job<'_>,
) -> Result<ConvertStats> {
    let with_src = |e: Error| e.with_path(src);
    let tables = opts.xml.tables;
    let first = match tables {
        xes::Tables::Traces => xes::Tables::Traces,
        _ => xes::Tables::Events,
    };
    let decode = opts.decoding();
    let discard = job.discard;
    let s = xes::start(input.reader, &decode, &opts.xml, first, false).map_err(with_src)?;
    let mut stats = job.run(s.start)?;
    if tables != xes::Tables::Both {
        return Ok(stats);
    }
    let traces_dst = traces_path(dst);
    let second = (|| {
        let input = input::open(src, &opts.input, None)?;
        let s = xes::start(input.reader, &decode, &opts.xml, xes::Tables::Traces, false)
            .map_err(with_src)?;
        let job = Job {
            src,
            dst: &traces_dst,
            opts,
            ctl,
            compression: input.compression.value,
            encoding: input.encoding.value.name(),
            format: Format::Xes.name(),
            started: Instant::now(),
            discard,
        };
        job.run(s.start)
    })();
    match second {
        Ok(t) => {
            stats.files.extend(t.files);
            stats.bytes_written += t.bytes_written;
            stats.quarantine_files.extend(t.quarantine_files);
            Ok(stats)
        }
        Err(e) => {
            remove_output(&stats);
            Err(e)
        }
    }
}

/// Where the trace table of an XES conversion goes: `<dst stem>.traces.parquet` beside
/// `dst` (inside it, as `traces/`, for a dataset directory).
pub fn traces_path(dst: &Path) -> PathBuf {
    let stem = dst
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    dst.with_file_name(format!("{stem}.traces.parquet"))
}

/// The schema [`read`] gives a binary input in `format`: from a Parquet footer, an Avro or
/// Arrow header, or a workbook sheet's first rows (typed as its CSV decoder types them).
pub fn native_schema(src: &Path, format: Format, opts: &ConvertOptions) -> Result<SchemaRef> {
    if native::is_workbook(format) {
        let start = workbook_start(src, format, &opts.decode, opts)?;
        return Ok(start.decoder.schema());
    }
    native::schema(src, format, &opts.decode, &opts.native)
}

/// `columns=` and `sheet=` given for an input they do not apply to are refused rather than
/// ignored.
fn binary_only(format: Format, native: &NativeOptions) -> Result<()> {
    if native.columns.is_some() && !native::reads(format) && !native::is_workbook(format) {
        return Err(Error::invalid(format!(
            "columns= applies to binary inputs (Parquet, Avro, Arrow, ORC); this input is {}",
            format.title()
        )));
    }
    if native.sheet.is_some() && !native::is_workbook(format) {
        return Err(Error::invalid(format!(
            "sheet= applies to workbooks; this input is {}",
            format.title()
        )));
    }
    Ok(())
}

/// `opts` letting the binary formats logflow reads through (named, for their readers).
fn native_ok(opts: &InputOptions) -> InputOptions {
    InputOptions {
        native: true,
        ..*opts
    }
}

/// Options of text formats given for a binary input are refused rather than ignored.
fn text_only(opts: &ConvertOptions) -> Result<()> {
    let csv = &opts.csv;
    let given = [
        ("delimiter", csv.delimiter.is_some()),
        ("header", csv.header.is_some()),
        ("skip_lines", csv.skip_lines.is_some()),
        ("records_path", opts.json.records_path.is_some()),
        ("record_path", opts.xml.record_path.is_some()),
        ("encoding", opts.input.encoding.is_some()),
    ];
    match given.iter().find(|(_, set)| *set) {
        Some((name, _)) => Err(Error::invalid(format!(
            "{name} applies to text input; this input is a binary format"
        ))),
        None => Ok(()),
    }
}

/// A workbook's sheet as delimited text, started as the CSV decoder starts (header, titles,
/// column types), with the dialect fixed to how the sheet is rendered.
fn workbook_start(
    src: &Path,
    format: Format,
    decode: &DecodeOptions,
    opts: &ConvertOptions,
) -> Result<Start<native::excel::SheetText, csv::ChunkDecoder>> {
    if opts.native.columns.is_some() {
        return Err(Error::invalid(
            "columns= is not supported for workbooks yet; select columns after reading",
        ));
    }
    // calamine parses the workbook here; a panic on a damaged one is a typed error.
    let text = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        native::excel::open(src, format, &opts.native)
    }))
    .unwrap_or_else(|panic| {
        Err(crate::stream::parts::panicked(format.name(), &*panic).with_path(src))
    })?;
    let csv_opts = CsvOptions {
        delimiter: Some(b','),
        delimiter_lead: None,
        quote: Some(Some(b'"')),
        escape: Some(None),
        skip_initial_space: Some(false),
        ..opts.csv.clone()
    };
    let s = csv::start(text, decode, &csv_opts, None).map_err(|e| e.with_path(src))?;
    let mut start = s.start;
    // Bad rows are quarantined as the CSV lines they were rendered as.
    start.quarantine.input_extension = false;
    start.quarantine.extension = "csv".into();
    Ok(start)
}

/// A streaming read of a file: Arrow batches decoded ahead on `opts.threads` threads, and
/// the counts of what was read, shared with whoever consumes the batches.
pub struct Reading {
    /// The batches.
    pub reader: Box<dyn RecordBatchReader + Send>,
    /// Rows read, rejected and skipped so far.
    pub counts: Arc<ReadCounts>,
}

/// Opens `src` for a streaming read in the format given or detected: the first chunk is
/// decoded now (so a missing, empty or unreadable file fails here), the rest as the
/// consumer pulls batches. The quarantine policy needs an output and is refused.
pub fn read(src: &Path, opts: &ConvertOptions) -> Result<Reading> {
    refuse_quarantine(opts)?;
    let input = input::open(src, &native_ok(&opts.input), None)?;
    let format = choose_format(src, opts.format, &input)?;
    let with_src = |e: Error| e.with_path(src);
    let threads = worker_count(opts.threads);
    binary_only(format, &opts.native)?;
    match format {
        Format::Csv => {
            // A stream's schema is fixed when it starts: wider records are bad records.
            let decode = DecodeOptions {
                schema_policy: Some(SchemaPolicy::Strict),
                ..opts.decode.clone()
            };
            let s = csv::start(input.reader, &decode, &opts.csv, None).map_err(with_src)?;
            Ok(reading(BatchReader::new(s.start), src, threads))
        }
        Format::Json | Format::Jsonl => {
            let s = json::start(
                input.reader,
                &opts.decode,
                &json_opts(src, opts),
                opts.format,
                true,
            )
            .map_err(with_src)?;
            Ok(reading(BatchReader::new(s.start), src, threads))
        }
        Format::Xml => {
            let s = xml::start(input.reader, &opts.decode, &opts.xml, true).map_err(with_src)?;
            Ok(reading(BatchReader::new(s.start), src, threads))
        }
        Format::Xes => {
            let tables = match opts.xml.tables {
                xes::Tables::Traces => xes::Tables::Traces,
                _ => xes::Tables::Events,
            };
            let s = xes::start(input.reader, &opts.decode, &opts.xml, tables, true)
                .map_err(with_src)?;
            Ok(reading(BatchReader::new(s.start), src, threads))
        }
        f if native::is_workbook(f) => {
            let decode = DecodeOptions {
                schema_policy: Some(SchemaPolicy::Strict),
                ..opts.decode.clone()
            };
            let start = workbook_start(src, f, &decode, opts)?;
            Ok(reading(BatchReader::new(start), src, threads))
        }
        f if native::reads(f) => {
            text_only(opts)?;
            let parts = native::open(src, f, &opts.decode, &opts.native, None)?;
            let shape = Shape::new(&parts.schema(), f.name(), &opts.decode, &opts.native)
                .map_err(with_src)?;
            let schema = shape.schema();
            let reader = PartReader::with_workers(parts, shape.finish(), threads, f.name());
            let batches = PartBatches::new(reader, schema).with_path(src);
            Ok(Reading {
                counts: batches.counts(),
                reader: Box::new(batches),
            })
        }
        _ => Err(unsupported(&input).with_path(src)),
    }
}

/// Streams the batches of any Arrow reader with `native.columns` and the types of `decode`
/// applied as for binary inputs (bad values dropped and counted under the permissive
/// policy); `format` names the input in errors.
pub fn read_arrow(
    reader: Box<dyn RecordBatchReader + Send>,
    format: Option<Format>,
    decode: &DecodeOptions,
    native: &NativeOptions,
) -> Result<Reading> {
    let format = format.unwrap_or(Format::ArrowStream);
    let parts = native::stream_parts(reader, decode.batch_rows, format);
    let shape = Shape::new(&parts.schema(), format.name(), decode, native)?;
    let schema = shape.schema();
    let reader = PartReader::with_workers(parts, shape.finish(), 1, format.name());
    let batches = PartBatches::new(reader, schema);
    Ok(Reading {
        counts: batches.counts(),
        reader: Box::new(batches),
    })
}

/// A stream has no output to put bad records beside.
fn refuse_quarantine(opts: &ConvertOptions) -> Result<()> {
    if opts.decode.error_policy == ErrorPolicy::Quarantine {
        return Err(Error::invalid(
            "error_policy=\"quarantine\" needs an output to put bad records beside; use convert(), \
             or \"permissive\" to drop them while streaming",
        ));
    }
    Ok(())
}

fn reading<R: Read + Send + 'static, D: Decoder>(
    reader: BatchReader<R, D>,
    src: &Path,
    threads: usize,
) -> Reading {
    let reader = reader.with_path(src).with_threads(threads);
    let counts = reader.counts();
    Reading {
        reader: Box::new(reader.into_arrow()),
        counts,
    }
}

/// The format to read `input` as: the one given, or the one detected. JSON, JSON Lines,
/// XML and XES are taken when detection is sure of them; other text (log lines included,
/// until they have decoders of their own) is delimited text, unless the file's suffix names
/// a text format (`.json`, `.jsonl`, `.ndjson`) and detection was not sure.
pub fn choose_format(src: &Path, given: Option<Format>, input: &input::Input) -> Result<Format> {
    if let Some(f) = given {
        return Ok(f);
    }
    let found = &input.format;
    let structured = matches!(
        found.value,
        Format::Json | Format::Jsonl | Format::Xml | Format::Xes
    );
    if structured && found.confidence >= 0.9 {
        return Ok(found.value);
    }
    if found.value.is_binary() {
        return Ok(found.value);
    }
    if found.confidence < 0.9 {
        if let Some(hinted) = suffix_format(src) {
            return Ok(hinted);
        }
    }
    Ok(Format::Csv)
}

/// The JSON options for `src`: what `opts` says, and whether the file's name says JSON Lines.
fn json_opts(src: &Path, opts: &ConvertOptions) -> json::JsonOptions {
    json::JsonOptions {
        named_lines: suffix_format(src) == Some(Format::Jsonl),
        ..opts.json.clone()
    }
}

/// The text format a file's suffix names (under a compression suffix): `.json`, `.jsonl`,
/// `.ndjson`; `None` for any other.
pub fn suffix_format(src: &Path) -> Option<Format> {
    let name = src.file_name()?.to_string_lossy().to_ascii_lowercase();
    let name = [".gz", ".gzip", ".zst", ".zstd", ".bz2", ".xz", ".zip"]
        .iter()
        .find_map(|c| name.strip_suffix(c))
        .unwrap_or(&name);
    let ext = Path::new(name).extension()?.to_str()?;
    match ext {
        "json" => Some(Format::Json),
        "jsonl" | "ndjson" => Some(Format::Jsonl),
        "xml" => Some(Format::Xml),
        "xes" => Some(Format::Xes),
        _ => None,
    }
}

/// The error for input in a format logflow does not read (yet).
fn unsupported(input: &input::Input) -> Error {
    let found = &input.format;
    let kind = match found.value {
        Format::Json | Format::Jsonl | Format::Xml | Format::Xes => "text",
        _ => "file",
    };
    Error::new(ErrorKind::Unsupported(format!(
        "this is {} {kind}{} ({}); {} input is not supported by this version, which reads \
         delimited text",
        found.value.name(),
        input::inside(input.compression.value),
        found.evidence,
        found.value.title(),
    )))
}

/// One conversion: where from and to, with what options, and what the input turned out to
/// be.
struct Job<'a> {
    src: &'a Path,
    dst: &'a Path,
    opts: &'a ConvertOptions,
    ctl: &'a Control,
    compression: Compression,
    encoding: String,
    format: &'static str,
    started: Instant,
    /// Write nothing (a profile).
    discard: bool,
}

impl Job<'_> {
    /// Runs the format's start step on `input`, then the job.
    fn start(mut self, format: Format, input: input::Input) -> Result<ConvertStats> {
        let (src, dst, opts, ctl) = (self.src, self.dst, self.opts, self.ctl);
        let with_src = |e: Error| e.with_path(src);
        let decode = opts.decoding();
        binary_only(format, &opts.native)?;
        match format {
            Format::Csv => {
                let s = csv::start(input.reader, &decode, &opts.csv, None).map_err(with_src)?;
                self.run(s.start)
            }
            Format::Json | Format::Jsonl => {
                let s = json::start(
                    input.reader,
                    &decode,
                    &json_opts(src, opts),
                    opts.format,
                    false,
                )
                .map_err(with_src)?;
                self.format = s.layout.format().name();
                self.run(s.start)
            }
            Format::Xml => {
                let s = xml::start(input.reader, &decode, &opts.xml, false).map_err(with_src)?;
                self.run(s.start)
            }
            Format::Xes => convert_xes(src, dst, opts, ctl, input, self),
            f if native::is_workbook(f) => {
                let start = workbook_start(src, f, &decode, opts)?;
                let size = input.size;
                let mut stats = self.run(start)?;
                stats.bytes_read = size;
                Ok(stats)
            }
            f if native::reads(f) => {
                text_only(opts)?;
                // Counted again from the start by the format's own reader.
                ctl.bytes_read.store(0, Ordering::Relaxed);
                let parts =
                    native::open(src, f, &decode, &opts.native, Some(ctl.bytes_read.clone()))?;
                self.run_parts(parts, f)
            }
            _ => Err(unsupported(&input).with_path(src)),
        }
    }

    /// Decodes the rest of the input from where a format's start step left off, and writes
    /// it: on a pool of workers, or with `threads = 1` on this thread alone.
    fn run<R: Read + Send, D: Decoder>(self, start: Start<R, D>) -> Result<ConvertStats> {
        let Job { src, opts, ctl, .. } = self;
        let quality = opts.quality();
        // Columns a rule names must exist, unless records may still add columns.
        let may_grow = match opts.decode.schema_policy {
            Some(p) => p != SchemaPolicy::Strict,
            None => self.format != "csv",
        };
        quality
            .check_schema(&start.decoder.schema(), may_grow)
            .map_err(|e| e.with_path(src))?;
        let stage = opts.stage();
        let decoder = Arc::new(Checked::new(start.decoder, stage.clone()));
        // `threads` bounds the whole job: decode workers and column encoding alike.
        let workers = worker_count(opts.threads);
        let pool = (workers > 1).then(|| Arc::new(Pool::default()));
        let mut quarantine_format = start.quarantine;
        if quarantine_format.input_extension {
            if let Some(ext) = quarantine_extension(src, self.compression) {
                quarantine_format.extension = ext;
            }
        }
        let writer = self.writer(decoder.schema(), pool.clone(), quarantine_format, stage);
        let mut chunker = start.chunker;
        // The quarantine keeps an over-long line whole: the chunker hands its rest on.
        chunker.keep_overflow(opts.decode.error_policy == ErrorPolicy::Quarantine);
        let mut first = start.first;
        first.index = 0;
        let mut stats = match pool {
            None => run_sequential(first, chunker, decoder.as_ref(), writer, src, ctl),
            Some(pool) => run_parallel(first, chunker, &decoder, writer, &pool, workers, src, ctl),
        }?;
        stats.bytes_read = ctl.bytes_read.load(Ordering::Relaxed);
        stats.duration_s = self.started.elapsed().as_secs_f64();
        Ok(stats)
    }

    fn writer(
        &self,
        schema: SchemaRef,
        pool: Option<Arc<Pool>>,
        quarantine_format: QuarantineFormat,
        stage: Option<Arc<Stage>>,
    ) -> Writer<'_> {
        let opts = self.opts;
        let quality = opts.quality();
        let tally = stage.map(|s| Tally::new(&quality, opts.decode.error_policy, s));
        Writer {
            dst: self.dst,
            policy: opts.decode.error_policy,
            spec: SinkSpec {
                schema: schema.clone(),
                parquet: ParquetOptions {
                    threads: opts.threads,
                    ..opts.parquet.clone()
                },
                dataset: opts.dataset.as_ref(),
                pool,
                stop: Arc::clone(&self.ctl.cancelled),
                discard: self.discard,
            },
            sink: None,
            segments: Vec::new(),
            quarantine: None,
            quarantine_format,
            stats: ConvertStats {
                rows_read: 0,
                rows_written: 0,
                rows_quarantined: 0,
                rows_skipped: 0,
                values_nulled: 0,
                errors_by_reason: BTreeMap::new(),
                error_samples: Vec::new(),
                bytes_read: 0,
                input_compression: self.compression.name(),
                input_encoding: self.encoding.clone(),
                format: self.format,
                bytes_written: 0,
                files: Vec::new(),
                created_dirs: Vec::new(),
                quarantine_files: Vec::new(),
                schema,
                duration_s: 0.0,
                sources: Vec::new(),
                checksum_in: None,
                checksum_out: None,
                quality: None,
            },
            ctl: self.ctl,
            tally,
            checksum_out: quality.checksum.then_some(0),
            retyped: false,
            verify: opts.verify,
            source_start: 0,
        }
    }
}

/// Whether conforming values of `from` to `to` renders them as text (plain or JSON), which
/// hashes differently from the values themselves.
fn retypes(from: &arrow_schema::Field, to: &arrow_schema::Field) -> bool {
    use arrow_schema::DataType as T;
    let text = |t: &T| matches!(t, T::Utf8 | T::LargeUtf8);
    let json = conform::is_json(to) && !conform::is_json(from);
    json || (text(to.data_type()) && !text(from.data_type()) && *from.data_type() != T::Null)
}

/// Compares the checksum of the output as read back with the checksums of the run:
/// it must be the one written, and (unless values were widened to text) the one read.
fn check_integrity(stats: &ConvertStats, read_back: u64, retyped: bool) -> Result<()> {
    let fail = |what: String| Err(Error::new(ErrorKind::Integrity(what)));
    let (Some(written), Some(read)) = (stats.checksum_out, stats.checksum_in) else {
        return fail("no checksum was computed to verify against".into());
    };
    if read_back != written {
        return fail(format!(
            "the files written read back as checksum {} but {} was written",
            checksum::format(read_back),
            checksum::format(written)
        ));
    }
    if !retyped && read != written {
        return fail(format!(
            "the rows written have checksum {} but the rows read have {}: a value changed \
             on the way (an integer past 2^53 widened to a float?)",
            checksum::format(written),
            checksum::format(read)
        ));
    }
    Ok(())
}

/// Threads for a job that asked for `threads` (0: one per available core).
fn worker_count(threads: usize) -> usize {
    if threads == 0 {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    } else {
        threads
    }
}

/// Writes the batches of any Arrow reader (a stream handed over from Python, or ORC stripes
/// pyarrow reads) to `dst` as [`convert`] writes decoded rows: one file or a dataset,
/// atomically, with the same sinks and counts. `opts.native.columns` and the types of
/// `opts.decode` apply as for binary inputs (a value that does not fit its type goes by the
/// error policy, quarantined as a line of JSON); `opts.format` names the input in the result
/// and in errors (`"arrow"` when unset).
pub fn write_batches(
    reader: &mut dyn RecordBatchReader,
    dst: &Path,
    opts: &ConvertOptions,
    ctl: &Control,
) -> Result<ConvertStats> {
    take_batches(reader, dst, opts, ctl, false)
}

/// Reads the batches of any Arrow reader as [`write_batches`] does, writing nothing, as
/// [`profile`] reads a file: the counts, the checksum and, with
/// [`QualityOptions::profile`], the profile. `src` names the input in errors.
pub fn profile_batches(
    reader: &mut dyn RecordBatchReader,
    src: &Path,
    opts: &ConvertOptions,
    ctl: &Control,
) -> Result<ConvertStats> {
    profile_refuses_quarantine(opts)?;
    take_batches(reader, src, opts, ctl, true)
}

/// [`write_batches`], or with `discard` [`profile_batches`].
fn take_batches(
    reader: &mut dyn RecordBatchReader,
    dst: &Path,
    opts: &ConvertOptions,
    ctl: &Control,
    discard: bool,
) -> Result<ConvertStats> {
    let started = Instant::now();
    let format = opts.format.map_or("arrow", Format::name);
    let shape = Shape::new(&reader.schema(), format, &opts.decoding(), &opts.native)?.for_parquet();
    // Columns a rule names must exist and hold values it can check.
    opts.quality().check_schema(&shape.schema(), false)?;
    let job = Job {
        src: dst,
        dst,
        opts,
        ctl,
        compression: Compression::None,
        encoding: "utf-8".into(),
        format,
        started,
        discard,
    };
    let workers = worker_count(opts.threads);
    let pool = (workers > 1).then(|| Arc::new(Pool::default()));
    let writer = job.writer(
        shape.schema(),
        pool.clone(),
        native_quarantine(),
        opts.stage(),
    );
    let mut stats = drive(writer, pool.as_deref(), workers, ctl, |writer| {
        // Records numbered from 1 across batches, as the other inputs number them.
        let mut records = 0u64;
        for batch in &mut *reader {
            ctl.check()?;
            let batch = batch.map_err(|e| stream_error(format, e))?;
            let mut out = shape.apply(batch);
            for r in &mut out.rejects {
                r.position.record += records + 1;
            }
            if let Some(e) = &mut out.error {
                e.shift_record(records + 1);
            }
            records += out.rows_read;
            writer.take(out)?;
        }
        Ok(())
    })?;
    stats.duration_s = started.elapsed().as_secs_f64();
    Ok(stats)
}

/// An error of a reader handed over as Arrow: ours as it is, anything else bad input.
fn stream_error(format: &'static str, e: arrow_schema::ArrowError) -> Error {
    match e {
        arrow_schema::ArrowError::ExternalError(inner) => match inner.downcast::<Error>() {
            Ok(ours) => *ours,
            Err(other) => Error::decode(
                format,
                crate::error::Position::default(),
                None,
                other.to_string(),
            ),
        },
        other => Error::decode(
            format,
            crate::error::Position::default(),
            None,
            other.to_string(),
        ),
    }
}

/// How bad rows of binary inputs are quarantined: a line of JSON each.
fn native_quarantine() -> QuarantineFormat {
    QuarantineFormat {
        header: Vec::new(),
        footer: Vec::new(),
        extension: "jsonl".into(),
        input_extension: false,
    }
}

/// Runs `feed` (which hands outputs to the writer) with the pool's workers and I/O thread
/// running beside it, then finishes the writer while the workers are still there to encode
/// the last row group; stops them after.
fn drive(
    mut writer: Writer<'_>,
    pool: Option<&Pool>,
    workers: usize,
    ctl: &Control,
    feed: impl FnOnce(&mut Writer<'_>) -> Result<()>,
) -> Result<ConvertStats> {
    std::thread::scope(|s| {
        let staffed = pool
            .map(|pool| pool.staff(s, workers.saturating_sub(1), true))
            .transpose()?;
        let fed = feed(&mut writer).and_then(|()| ctl.check());
        let stats = fed.and_then(|()| writer.finish());
        drop(staffed);
        stats
    })
}

impl Job<'_> {
    /// Decodes a binary input's parts in parallel and in order, and writes them: the parts'
    /// decode jobs and the output's column encoding share one pool.
    fn run_parts(self, parts: Box<dyn Parts>, format: Format) -> Result<ConvertStats> {
        let Job { src, opts, ctl, .. } = self;
        let with_src = |e: Error| e.with_path(src);
        let shape = Shape::new(
            &parts.schema(),
            format.name(),
            &opts.decoding(),
            &opts.native,
        )
        .map_err(with_src)?
        .for_parquet();
        opts.quality()
            .check_schema(&shape.schema(), false)
            .map_err(with_src)?;
        let workers = worker_count(opts.threads);
        // Jobs always go through a pool; without workers the writing thread runs them.
        let pool = Arc::new(Pool::default());
        let shared = (workers > 1).then(|| Arc::clone(&pool));
        let writer = self.writer(
            shape.schema(),
            shared.clone(),
            native_quarantine(),
            opts.stage(),
        );
        let limits = if workers > 1 {
            Limits::for_workers(workers)
        } else {
            Limits::sequential()
        };
        let mut reader = PartReader::new(
            parts,
            shape.finish(),
            Arc::clone(&pool),
            limits,
            format.name(),
        )
        .with_stop(Arc::clone(&ctl.cancelled));
        let mut stats = drive(writer, shared.as_deref(), workers, ctl, |writer| {
            while let Some(out) = reader.next_output().map_err(with_src)? {
                writer.take(out).map_err(with_src)?;
            }
            Ok(())
        });
        pool.close();
        if let Ok(stats) = &mut stats {
            stats.bytes_read = ctl.bytes_read.load(Ordering::Relaxed);
            stats.duration_s = self.started.elapsed().as_secs_f64();
        }
        stats
    }
}

/// The extension of quarantine files: the input's, without a compression suffix (the
/// quarantine file holds decompressed text): `csv` for `x.csv.gz`, `tsv` for `x.tsv`;
/// `None` when it has none (the format's own is used).
fn quarantine_extension(src: &Path, compression: Compression) -> Option<String> {
    let ext = |p: &Path| {
        p.extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
    };
    let mut e = ext(src);
    if compression != Compression::None {
        if let Some(stem) = src.file_stem() {
            e = ext(Path::new(stem));
        }
    }
    e.filter(|e| !e.is_empty() && e.len() <= 8)
}

/// Chunks are decoded as jobs on `pool` by `workers` threads that also encode the output's
/// columns: `workers - 1` of the pool's own and this one, which writes results in order and
/// runs jobs while the next result is not in. A reader thread cuts chunks.
#[allow(clippy::too_many_arguments)]
fn run_parallel<R: Read + Send, D: Decoder>(
    first: Chunk,
    mut chunker: Chunker<R>,
    decoder: &Arc<D>,
    mut writer: Writer<'_>,
    pool: &Pool,
    workers: usize,
    src: &Path,
    ctl: &Control,
) -> Result<ConvertStats> {
    let (token_tx, token_rx, done_tx, done_rx) = prefetch::channels(in_flight(workers));
    pool.submit(prefetch::decode_job(decoder, first, done_tx.clone()));
    let mut sequencer = Sequencer::new();
    std::thread::scope(|s| {
        // The writing thread is the last worker: it runs jobs while it waits. The I/O
        // thread writes finished row groups back to disk while the work goes on.
        let staffed = pool.staff(s, workers.saturating_sub(1), true)?;
        // Stops when the writer does (its error wins) or on cancellation.
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
            &mut writer,
            ctl,
        );
        // Unblock everyone before joining: no more results are taken, no more tokens are
        // handed out, and after an error queued chunks go and workers stop after the job in
        // hand.
        drop(done_rx);
        drop(token_tx);
        if written.is_err() {
            pool.close();
        }
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(Error::invalid("internal error: the reader panicked")));
        // A failed read ends the input early, which the writer may report as a cut record:
        // the read error is the cause.
        let done = read.and(written).map_err(|e| e.with_path(src));
        // The workers are still there to encode the last row group's columns.
        let stats = done.and_then(|()| writer.finish());
        drop(staffed);
        stats
    })
}

/// Longest the writing thread waits for a chunk's output before checking for cancellation
/// and for jobs again.
const WAIT_TICK: std::time::Duration = std::time::Duration::from_millis(50);

fn write_in_order<D: Decoder>(
    pool: &Pool,
    done: &Receiver<ChunkOutput>,
    tokens: &SyncSender<()>,
    sequencer: &mut Sequencer,
    decoder: &D,
    writer: &mut Writer<'_>,
    ctl: &Control,
) -> Result<()> {
    loop {
        ctl.check()?;
        // The next output, or else a job to run meanwhile (a chunk to decode, a column to
        // encode), or else a short wait.
        let out = match done.try_recv() {
            Ok(out) => out,
            Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => {
                if pool.help_any() {
                    continue;
                }
                match done.recv_timeout(WAIT_TICK) {
                    Ok(out) => out,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        };
        for ready in sequencer.push(out, decoder) {
            writer.take(ready)?;
            let _ = tokens.send(());
        }
    }
    ctl.check()?;
    sequencer.drained()
}

/// `threads = 1`: one thread reads, decodes and writes each chunk in turn (no reader or
/// worker threads), so it is the same code as the parallel path on one core.
fn run_sequential<R: Read, D: Decoder>(
    first: Chunk,
    chunker: Chunker<R>,
    decoder: &D,
    mut writer: Writer<'_>,
    src: &Path,
    ctl: &Control,
) -> Result<ConvertStats> {
    sequential_loop(first, chunker, decoder, &mut writer, ctl).map_err(|e| e.with_path(src))?;
    writer.finish()
}

fn sequential_loop<R: Read, D: Decoder>(
    first: Chunk,
    mut chunker: Chunker<R>,
    decoder: &D,
    writer: &mut Writer<'_>,
    ctl: &Control,
) -> Result<()> {
    let mut sequencer = Sequencer::new();
    let mut next = Some(first);
    let mut index = 1u64;
    while let Some(chunk) = next {
        ctl.check()?;
        for ready in sequencer.push(crate::stream::decode(decoder, chunk), decoder) {
            writer.take(ready)?;
        }
        next = chunker.next_chunk()?.map(|mut c| {
            c.index = index;
            index += 1;
            c
        });
    }
    ctl.check()?;
    sequencer.drained()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::CastErrorPolicy;

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("logflow-pipe-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn small_chunks(policy: ErrorPolicy) -> ConvertOptions {
        ConvertOptions {
            decode: DecodeOptions {
                chunk_bytes: 512,
                error_policy: policy,
                ..DecodeOptions::default()
            },
            ..ConvertOptions::default()
        }
    }

    #[test]
    fn converts_and_counts() {
        let d = tmpdir("ok");
        let src = d.join("in.csv");
        let mut text = String::from("a,b\n");
        for i in 0..5000 {
            text.push_str(&format!("{i},\"x,{i}\"\n"));
        }
        std::fs::write(&src, &text).unwrap();
        let stats = convert(
            &src,
            &d.join("out.parquet"),
            &small_chunks(ErrorPolicy::Strict),
            &Control::default(),
        )
        .unwrap();
        assert_eq!((stats.rows_read, stats.rows_written), (5000, 5000));
        assert_eq!(stats.bytes_read, text.len() as u64);
        assert!(stats.bytes_written > 0);
        std::fs::remove_dir_all(&d).unwrap();
    }

    fn read_parquet(path: &Path) -> Vec<arrow_array::RecordBatch> {
        let file = std::fs::File::open(path).unwrap();
        parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(file, 1 << 20)
            .unwrap()
            .collect::<std::result::Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn columns_encoded_on_the_pool_give_the_same_file_as_one_thread() {
        // Batches well over the size that is encoded in parallel, and several row groups,
        // so column jobs and row-group closes run on the pool's workers.
        let d = tmpdir("pool");
        let src = d.join("in.csv");
        let mut text = String::from("id,word,amount,note\n");
        for i in 0..120_000u64 {
            let note = if i % 3 == 0 {
                format!("\"n,{i}\"")
            } else {
                format!("n{}", i * 7919 % 1000)
            };
            text.push_str(&format!("{i},w{},{}.5,{note}\n", i % 17, i % 1000));
        }
        std::fs::write(&src, &text).unwrap();
        let mut outputs = Vec::new();
        for threads in [1, 2, 3] {
            let opts = ConvertOptions {
                decode: DecodeOptions {
                    chunk_bytes: 1 << 20,
                    ..DecodeOptions::default()
                },
                parquet: ParquetOptions {
                    row_group_rows: 25_000,
                    ..ParquetOptions::default()
                },
                threads,
                ..ConvertOptions::default()
            };
            let dst = d.join(format!("out{threads}.parquet"));
            let stats = convert(&src, &dst, &opts, &Control::default()).unwrap();
            assert_eq!(stats.rows_written, 120_000);
            let batches = read_parquet(&dst);
            let schema = batches[0].schema();
            outputs.push(arrow_select::concat::concat_batches(&schema, &batches).unwrap());
        }
        assert_eq!(outputs[0], outputs[1]);
        assert_eq!(outputs[0], outputs[2]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn row_groups_close_by_encoded_bytes_before_their_row_count() {
        let d = tmpdir("groupbytes");
        let src = d.join("in.csv");
        let mut text = String::from("id,text\n");
        for i in 0..20_000u64 {
            // Little to compress: each row's text differs.
            let noise = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            text.push_str(&format!("{i},{noise:x}{:x}{:x}\n", noise >> 7, noise >> 13));
        }
        std::fs::write(&src, &text).unwrap();
        let dst = d.join("out.parquet");
        let opts = ConvertOptions {
            // The cap is checked after each batch.
            decode: DecodeOptions {
                batch_rows: 1000,
                ..DecodeOptions::default()
            },
            parquet: ParquetOptions {
                row_group_bytes: 64 << 10,
                ..ParquetOptions::default()
            },
            ..ConvertOptions::default()
        };
        let stats = convert(&src, &dst, &opts, &Control::default()).unwrap();
        assert_eq!(stats.rows_written, 20_000);
        let file = std::fs::File::open(&dst).unwrap();
        let meta = parquet::file::reader::FileReader::metadata(
            &parquet::file::reader::SerializedFileReader::new(file).unwrap(),
        )
        .clone();
        let groups = meta.num_row_groups();
        assert!(
            groups > 1,
            "one row group of 20,000 rows under a 64 KiB cap"
        );
        let rows: i64 = meta.row_groups().iter().map(|g| g.num_rows()).sum();
        assert_eq!(rows, 20_000);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn late_error_leaves_no_output() {
        let d = tmpdir("bad");
        let src = d.join("in.csv");
        let mut text = String::from("a\n");
        for i in 0..3000 {
            text.push_str(&format!("{i}\n"));
        }
        text.push_str("oops\n");
        std::fs::write(&src, &text).unwrap();
        let dst = d.join("out.parquet");
        let err = convert(
            &src,
            &dst,
            &small_chunks(ErrorPolicy::Strict),
            &Control::default(),
        )
        .unwrap_err();
        let pos = err.position().unwrap();
        assert_eq!((pos.line, pos.record), (3002, 3001));
        assert_eq!(err.path(), Some(src.as_path()));
        assert_eq!(
            std::fs::read_dir(&d).unwrap().count(),
            1,
            "only the input is left"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn quarantine_keeps_every_bad_record_byte_for_byte() {
        let d = tmpdir("quarantine");
        let src = d.join("in.csv");
        let mut text = String::from("id,amount\n");
        let mut bad = Vec::new();
        for i in 0..4000 {
            let line = match i % 500 {
                7 => format!("{i},1,2\n"),
                8 => format!("{i}\n"),
                9 => format!("{i},abc\n"),
                _ => format!("{i},{i}.25\n"),
            };
            if matches!(i % 500, 7..=9) {
                bad.push(line.clone());
            }
            text.push_str(&line);
        }
        std::fs::write(&src, &text).unwrap();
        let dst = d.join("out.parquet");
        // Chunks big enough that the inference sample sees a few bad values among many good.
        let mut opts = small_chunks(ErrorPolicy::Quarantine);
        opts.decode.chunk_bytes = 8192;
        let stats = convert(&src, &dst, &opts, &Control::default()).unwrap();
        assert_eq!(stats.rows_read, 4000);
        assert_eq!(stats.rows_quarantined, bad.len() as u64);
        assert_eq!(stats.rows_written, 4000 - bad.len() as u64);
        assert_eq!(stats.errors_by_reason.get("cast_error"), Some(&8));
        let q = std::fs::read_to_string(&stats.quarantine_files[0]).unwrap();
        assert_eq!(q, format!("id,amount\n{}", bad.concat()));
        assert!(stats.quarantine_files[1].exists());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn lines_swallowed_by_an_unclosed_quote_are_quarantined_line_by_line() {
        let d = tmpdir("swallowed");
        let src = d.join("in.csv");
        let mut text = String::from("id,name,note\n");
        for i in 0..3000 {
            let line = match i {
                1000 => format!("{i},a,\"opens here\n"),
                1001..=1003 => format!("{i},b,swallowed\n"),
                1004 => format!("{i},c,\"closes, here\"\n"),
                2000 => format!("{i},d\n"),
                _ => format!("{i},n{i},ok\n"),
            };
            text.push_str(&line);
        }
        std::fs::write(&src, &text).unwrap();
        for chunk_bytes in [512, 1 << 20] {
            let dst = d.join(format!("out{chunk_bytes}.parquet"));
            let mut opts = small_chunks(ErrorPolicy::Quarantine);
            opts.decode.chunk_bytes = chunk_bytes;
            let stats = convert(&src, &dst, &opts, &Control::default()).unwrap();
            // Every input line is a row read: 5 from the runaway quote, 1 short row.
            assert_eq!(stats.rows_read, 3000);
            assert_eq!((stats.rows_quarantined, stats.rows_written), (6, 2994));
            assert_eq!(stats.errors_by_reason.get("unterminated_quote"), Some(&1));
            assert_eq!(stats.errors_by_reason.get("swallowed_by_quote"), Some(&4));
            assert_eq!(stats.errors_by_reason.get("too_few_fields"), Some(&1));
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            let q = std::fs::read_to_string(&stats.quarantine_files[0]).unwrap();
            let bad = [1001, 1002, 1003, 1004, 1005, 2001]
                .map(|l| lines[l])
                .concat();
            assert_eq!(q, format!("id,name,note\n{bad}"));
            let table = read_parquet(&stats.quarantine_files[1]);
            let table = arrow_select::concat::concat_batches(&table[0].schema(), &table).unwrap();
            let ints = |name: &str| -> Vec<i64> {
                let col = table.column_by_name(name).unwrap();
                col.as_any()
                    .downcast_ref::<arrow_array::Int64Array>()
                    .unwrap()
                    .values()
                    .to_vec()
            };
            // Lines and records count input lines; later records are numbered to match.
            assert_eq!(ints("line"), [1002, 1003, 1004, 1005, 1006, 2002]);
            assert_eq!(ints("record"), [1001, 1002, 1003, 1004, 1005, 2001]);
            let offset = |l: usize| lines[..l].iter().map(|s| s.len() as i64).sum::<i64>();
            assert_eq!(ints("offset")[1], offset(1002));
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_quote_that_never_closes_gives_the_same_output_however_chunked() {
        // No quote character after the open one: chunks after it are decoded on their own
        // (in parallel) and kept until the quote is known never to close, at the end of the
        // input or past the record limit.
        let d = tmpdir("neverclosed");
        let src = d.join("in.csv");
        // Over 256 KiB after the quote: the chunker stops looking for a cut outside quotes
        // and cuts inside the open record.
        let mut text = String::from("id,name,amount\n");
        for i in 0..30000 {
            text.push_str(&match i {
                1000 => format!("{i},\"opens,{i}.5\n"),
                25000 => format!("{i},short\n"),
                28000 => format!("{i},n{i},abc\n"),
                _ => format!("{i},n{i},{i}.25\n"),
            });
        }
        std::fs::write(&src, &text).unwrap();
        let run = |chunk_bytes: usize, max_record_bytes: usize, threads: usize| {
            let dst = d.join(format!(
                "o{chunk_bytes}-{max_record_bytes}-{threads}.parquet"
            ));
            let mut opts = small_chunks(ErrorPolicy::Quarantine);
            opts.decode.chunk_bytes = chunk_bytes;
            opts.decode.max_record_bytes = max_record_bytes;
            opts.threads = threads;
            let stats = convert(&src, &dst, &opts, &Control::default()).unwrap();
            let rows = read_parquet(&dst);
            let errors = read_parquet(&stats.quarantine_files[1]);
            let quarantined = std::fs::read(&stats.quarantine_files[0]).unwrap();
            let counts = (stats.rows_read, stats.rows_written, stats.rows_quarantined);
            (counts, stats.errors_by_reason, rows, errors, quarantined)
        };
        let concat = |b: &[arrow_array::RecordBatch]| {
            arrow_select::concat::concat_batches(&b[0].schema(), b).unwrap()
        };
        let whole = run(1 << 20, 64 << 20, 1);
        assert_eq!(whole.0, (30000, 29997, 3));
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let bad = [1001, 25001, 28001].map(|l| lines[l]).concat();
        assert_eq!(whole.4, format!("id,name,amount\n{bad}").into_bytes());
        for (chunk_bytes, threads) in [(512, 1), (512, 2), (4096, 2)] {
            let got = run(chunk_bytes, 64 << 20, threads);
            assert_eq!(
                (&got.0, &got.1),
                (&whole.0, &whole.1),
                "{chunk_bytes} {threads}"
            );
            assert_eq!(concat(&got.2), concat(&whole.2), "{chunk_bytes} {threads}");
            assert_eq!(concat(&got.3), concat(&whole.3), "{chunk_bytes} {threads}");
            assert_eq!(got.4, whole.4);
        }
        // Past a 300 KiB limit the quote is rejected as too long, and the rest reads the
        // same.
        let limited = run(512, 300 << 10, 2);
        assert_eq!(limited.0, whole.0);
        assert_eq!(concat(&limited.2), concat(&whole.2));
        assert_eq!(limited.4, whole.4);
        let errors = concat(&limited.3);
        let detail = errors
            .column_by_name("detail")
            .unwrap()
            .as_any()
            .downcast_ref::<arrow_array::StringArray>()
            .unwrap()
            .value(0)
            .to_string();
        assert!(detail.contains("runs past 307200 bytes"), "{detail}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_line_past_the_limit_is_quarantined_whole() {
        let d = tmpdir("longline");
        for (name, head, long, after) in [
            (
                "in.csv",
                "id,text\n1,a\n",
                format!("2,{}\r\n", "x".repeat(20_000)),
                "3,c\n",
            ),
            (
                "in.jsonl",
                "{\"id\": 1}\n",
                format!("{{\"id\": 2, \"t\": \"{}\"}}\n", "y".repeat(20_000)),
                "{\"id\": 3}\n",
            ),
        ] {
            let src = d.join(name);
            std::fs::write(&src, format!("{head}{long}{after}")).unwrap();
            for threads in [1, 2] {
                let mut opts = small_chunks(ErrorPolicy::Quarantine);
                opts.decode.chunk_bytes = 256;
                opts.decode.max_record_bytes = 1000;
                opts.threads = threads;
                let dst = d.join(format!("{name}-{threads}.parquet"));
                let stats = convert(&src, &dst, &opts, &Control::default()).unwrap();
                assert_eq!(
                    (stats.rows_read, stats.rows_written, stats.rows_quarantined),
                    (3, 2, 1),
                    "{name}"
                );
                assert_eq!(
                    stats.errors_by_reason.get("record_too_long"),
                    Some(&1),
                    "{name}"
                );
                let q = std::fs::read_to_string(&stats.quarantine_files[0]).unwrap();
                let header = if name.ends_with(".csv") {
                    "id,text\n"
                } else {
                    ""
                };
                assert_eq!(q, format!("{header}{long}"), "{name} {threads}");
            }
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn wider_records_add_text_columns_under_merge() {
        let d = tmpdir("wider");
        let src = d.join("in.csv");
        let mut text = String::from("a,b\n");
        for i in 0..3000 {
            text.push_str(&format!("{i},x{i}\n"));
        }
        text.push_str("7,y,extra,more\n");
        std::fs::write(&src, &text).unwrap();
        let mut opts = small_chunks(ErrorPolicy::Strict);
        opts.decode.schema_policy = Some(SchemaPolicy::Merge);
        let dst = d.join("o.parquet");
        let stats = convert(&src, &dst, &opts, &Control::default()).unwrap();
        assert_eq!((stats.rows_read, stats.rows_written), (3001, 3001));
        let batches = read_parquet(&dst);
        let t = arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap();
        let names: Vec<String> = t
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["a", "b", "column_3", "column_4"]);
        let extra = t
            .column(2)
            .as_any()
            .downcast_ref::<arrow_array::StringArray>()
            .unwrap();
        assert_eq!(arrow_array::Array::null_count(extra), 3000);
        assert_eq!(extra.value(3000), "extra");
        // Strict (the default for delimited text) rejects the wider record.
        opts.decode.schema_policy = None;
        assert!(convert(&src, &d.join("s.parquet"), &opts, &Control::default()).is_err());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn permissive_counts_dropped_rows_as_skipped() {
        let d = tmpdir("permissive");
        let src = d.join("in.csv");
        std::fs::write(&src, "a,b\n1,2\n3\n4,5\n").unwrap();
        let mut opts = small_chunks(ErrorPolicy::Permissive);
        opts.decode.on_cast_error = CastErrorPolicy::Reject;
        let stats = convert(&src, &d.join("o.parquet"), &opts, &Control::default()).unwrap();
        assert_eq!(
            (stats.rows_read, stats.rows_written, stats.rows_skipped),
            (3, 2, 1)
        );
        assert_eq!(stats.errors_by_reason.get("too_few_fields"), Some(&1));
        assert!(stats.quarantine_files.is_empty());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn early_error_with_a_full_work_queue_does_not_hang() {
        let d = tmpdir("early");
        let src = d.join("in.csv");
        // The bad row sits in a later chunk, so workers and the reader are busy ahead of it.
        let mut text = String::from("a,b\n");
        for i in 0..200_000 {
            text.push_str(&format!("{i},{i}\n"));
            if i == 1000 {
                text.push_str("1,2,3\n");
            }
        }
        std::fs::write(&src, &text).unwrap();
        for threads in [1, 2, 4] {
            let mut opts = small_chunks(ErrorPolicy::Strict);
            opts.decode.chunk_bytes = 1024;
            opts.csv.types = Some(vec![crate::schema::ColumnType::Int64; 2]);
            opts.threads = threads;
            let err = convert(&src, &d.join("o.parquet"), &opts, &Control::default()).unwrap_err();
            assert_eq!(err.position().map(|p| p.line), Some(1003));
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn cancelled_job_stops_and_leaves_no_output() {
        let d = tmpdir("cancel");
        let src = d.join("in.csv");
        std::fs::write(&src, "a\n1\n2\n").unwrap();
        let ctl = Control::default();
        ctl.cancel();
        let err =
            convert(&src, &d.join("o.parquet"), &ConvertOptions::default(), &ctl).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Cancelled));
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
        std::fs::remove_dir_all(&d).unwrap();
    }

    fn partitioned(policy: ErrorPolicy) -> ConvertOptions {
        let mut opts = small_chunks(policy);
        opts.dataset = Some(DatasetOptions {
            partition_by: vec!["kind".into()],
            max_rows_per_file: Some(700),
            ..DatasetOptions::default()
        });
        opts
    }

    #[test]
    fn dataset_output_counts_every_file() {
        let d = tmpdir("dataset");
        let src = d.join("in.csv");
        let mut text = String::from("id,kind\n");
        for i in 0..5000 {
            text.push_str(&format!("{i},k{}\n", i % 3));
        }
        std::fs::write(&src, &text).unwrap();
        let dst = d.join("out");
        let stats = convert(
            &src,
            &dst,
            &partitioned(ErrorPolicy::Strict),
            &Control::default(),
        )
        .unwrap();
        assert_eq!((stats.rows_read, stats.rows_written), (5000, 5000));
        // 1667 + 1667 + 1666 rows, 700 a file: 3 files per partition
        assert_eq!(stats.files.len(), 9);
        assert!(stats
            .files
            .iter()
            .all(|f| f.starts_with(&dst) && f.is_file()));
        let total: u64 = stats
            .files
            .iter()
            .map(|f| f.metadata().unwrap().len())
            .sum();
        assert_eq!(stats.bytes_written, total);
        assert_eq!(stats.created_dirs.first(), Some(&dst));
        remove_output(&stats);
        assert!(!dst.exists());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn late_error_leaves_no_dataset() {
        let d = tmpdir("dataset-bad");
        let src = d.join("in.csv");
        let mut text = String::from("id,kind\n");
        for i in 0..3000 {
            text.push_str(&format!("{i},k{}\n", i % 5));
        }
        text.push_str("oops,k1\n");
        std::fs::write(&src, &text).unwrap();
        let err = convert(
            &src,
            &d.join("out"),
            &partitioned(ErrorPolicy::Strict),
            &Control::default(),
        )
        .unwrap_err();
        assert_eq!(err.position().map(|p| p.line), Some(3002));
        assert_eq!(
            std::fs::read_dir(&d).unwrap().count(),
            1,
            "only the input is left"
        );
        // an existing (empty) directory is kept, and left empty
        std::fs::create_dir(d.join("kept")).unwrap();
        convert(
            &src,
            &d.join("kept"),
            &partitioned(ErrorPolicy::Strict),
            &Control::default(),
        )
        .unwrap_err();
        assert_eq!(std::fs::read_dir(d.join("kept")).unwrap().count(), 0);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn quarantine_beside_a_partitioned_dataset() {
        let d = tmpdir("dataset-quarantine");
        let src = d.join("in.csv");
        let mut text = String::from("id,kind\n");
        for i in 0..3000 {
            text.push_str(&format!("{i},k{}\n", i % 2));
            if i % 1000 == 500 {
                text.push_str("1,2,3\n");
            }
        }
        std::fs::write(&src, &text).unwrap();
        let dst = d.join("out");
        let stats = convert(
            &src,
            &dst,
            &partitioned(ErrorPolicy::Quarantine),
            &Control::default(),
        )
        .unwrap();
        assert_eq!(
            (stats.rows_read, stats.rows_written, stats.rows_quarantined),
            (3003, 3000, 3)
        );
        assert_eq!(
            stats.quarantine_files,
            vec![d.join("out.quarantine.csv"), d.join("out.errors.parquet")]
        );
        let q = std::fs::read_to_string(&stats.quarantine_files[0]).unwrap();
        assert_eq!(q, "id,kind\n1,2,3\n1,2,3\n1,2,3\n");
        let mut dirs: Vec<String> = std::fs::read_dir(&dst)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        dirs.sort();
        assert_eq!(dirs, vec!["kind=k0", "kind=k1"]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn directory_and_missing_inputs() {
        let d = tmpdir("inputs");
        let err = convert(
            &d,
            &d.join("o.parquet"),
            &ConvertOptions::default(),
            &Control::default(),
        )
        .unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::NotAFile(_)));
        let err = convert(
            &d.join("nope.csv"),
            &d.join("o.parquet"),
            &ConvertOptions::default(),
            &Control::default(),
        )
        .unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Io(e) if e.kind() == std::io::ErrorKind::NotFound));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
