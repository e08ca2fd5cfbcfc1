//! Parquet output: one file, written under a temporary name and renamed into place only when
//! complete, so a failed or cancelled run leaves nothing behind. Datasets of several files
//! ([`crate::write::dataset`]) are made of these sinks.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use std::collections::HashSet;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float64Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, SchemaRef, TimeUnit};
use parquet::arrow::arrow_writer::{
    compute_leaves, ArrowColumnWriter, ArrowLeafColumn, ArrowRowGroupWriterFactory,
};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression as PqCompression, Encoding, GzipLevel, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnPath;

use crate::error::{Error, Result};
use crate::work::Pool;

/// Parquet compression codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// No compression.
    None,
    /// Snappy.
    Snappy,
    /// Gzip at a level 0-9 (`None`: the codec's default).
    Gzip(Option<u32>),
    /// LZ4 (the `LZ4_RAW` codec, which every current reader supports).
    Lz4,
    /// Zstandard at a level 1-22 (`None`: level 1, the fastest).
    Zstd(Option<i32>),
}

impl Compression {
    /// Parses a codec name (`zstd`, `snappy`, `gzip`, `lz4`, `none`) and an optional level.
    pub fn parse(name: &str, level: Option<i32>) -> Result<Self> {
        let c = match name.to_ascii_lowercase().as_str() {
            "none" | "uncompressed" => Compression::None,
            "snappy" => Compression::Snappy,
            "gzip" => Compression::Gzip(level.map(|l| u32::try_from(l).unwrap_or(u32::MAX))),
            "lz4" | "lz4_raw" => Compression::Lz4,
            "zstd" => Compression::Zstd(level),
            other => {
                return Err(Error::invalid(format!(
                    "unknown compression {other:?}: use zstd, snappy, gzip, lz4 or none"
                )))
            }
        };
        if level.is_some()
            && matches!(
                c,
                Compression::None | Compression::Snappy | Compression::Lz4
            )
        {
            return Err(Error::invalid(format!(
                "compression {name:?} takes no level"
            )));
        }
        Ok(c)
    }

    fn to_parquet(self) -> Result<PqCompression> {
        Ok(match self {
            Compression::None => PqCompression::UNCOMPRESSED,
            Compression::Snappy => PqCompression::SNAPPY,
            Compression::Lz4 => PqCompression::LZ4_RAW,
            Compression::Gzip(level) => PqCompression::GZIP(match level {
                Some(l) => GzipLevel::try_new(l).map_err(|e| Error::invalid(e.to_string()))?,
                None => GzipLevel::default(),
            }),
            Compression::Zstd(level) => PqCompression::ZSTD(match level {
                Some(l) => ZstdLevel::try_new(l).map_err(|e| Error::invalid(e.to_string()))?,
                None => ZstdLevel::default(),
            }),
        })
    }
}

/// How to write Parquet.
#[derive(Debug, Clone)]
pub struct ParquetOptions {
    /// Column codec.
    pub compression: Compression,
    /// Most rows in one row group.
    pub row_group_rows: usize,
    /// Encoded bytes at which a row group closes before `row_group_rows` (default
    /// [`ROW_GROUP_BYTES`]): a row group's encoded pages stay in memory until it closes, so
    /// this keeps memory bounded when rows are wide (long text).
    pub row_group_bytes: usize,
    /// Threads encoding a batch's columns; 0 means one per available core.
    pub threads: usize,
}

impl Default for ParquetOptions {
    fn default() -> Self {
        ParquetOptions {
            compression: Compression::Zstd(None),
            row_group_rows: 512 * 1024,
            row_group_bytes: ROW_GROUP_BYTES,
            threads: 0,
        }
    }
}

impl ParquetOptions {
    /// The writer properties: codec, row group size, statistics, and each column's encoding
    /// chosen from `sample`.
    pub(crate) fn properties(&self, sample: Option<&RecordBatch>) -> Result<WriterProperties> {
        if self.row_group_rows == 0 {
            return Err(Error::invalid("row_group_size must be positive"));
        }
        if self.row_group_bytes == 0 {
            return Err(Error::invalid("row_group_bytes must be positive"));
        }
        let mut b = WriterProperties::builder()
            .set_compression(self.compression.to_parquet()?)
            .set_max_row_group_row_count(Some(self.row_group_rows))
            .set_statistics_enabled(EnabledStatistics::Page)
            .set_dictionary_enabled(true)
            .set_created_by(format!("logflow {}", env!("CARGO_PKG_VERSION")));
        if let Some(batch) = sample {
            for (field, col) in batch.schema().fields().iter().zip(batch.columns()) {
                let path = ColumnPath::new(vec![field.name().clone()]);
                match encoding_for(col.as_ref()) {
                    ColumnEncoding::Dictionary => {}
                    ColumnEncoding::Plain => b = b.set_column_dictionary_enabled(path, false),
                    ColumnEncoding::Delta => {
                        b = b
                            .set_column_dictionary_enabled(path.clone(), false)
                            .set_column_encoding(path, Encoding::DELTA_BINARY_PACKED);
                    }
                }
            }
        }
        Ok(b.build())
    }
}

/// How a column is encoded, chosen from a sample of its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnEncoding {
    /// Dictionary + RLE (the default): few distinct values.
    Dictionary,
    /// Plain: mostly distinct values, where building a dictionary only costs time.
    Plain,
    /// Delta binary packed: mostly distinct, ascending integers (ids, timestamps).
    Delta,
}

/// Rows of the sample looked at; enough to tell "mostly distinct" from "few values".
const SAMPLE_ROWS: usize = 8192;

/// The raw `i64` values of a timestamp column, whatever its unit.
pub(crate) fn timestamp_values(col: &dyn Array) -> Option<&[i64]> {
    Some(match col.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => {
            col.as_primitive::<TimestampSecondType>().values()
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            col.as_primitive::<TimestampMillisecondType>().values()
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            col.as_primitive::<TimestampMicrosecondType>().values()
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            col.as_primitive::<TimestampNanosecondType>().values()
        }
        _ => return None,
    })
}

fn encoding_for(col: &dyn Array) -> ColumnEncoding {
    let n = col.len().min(SAMPLE_ROWS);
    if n < 64 {
        return ColumnEncoding::Dictionary;
    }
    let mostly_distinct = |distinct: usize| distinct * 2 > n;
    match col.data_type() {
        DataType::Utf8 => {
            let s = col.as_string::<i32>();
            let distinct: HashSet<&str> = s.iter().take(n).flatten().collect();
            if mostly_distinct(distinct.len()) {
                ColumnEncoding::Plain
            } else {
                ColumnEncoding::Dictionary
            }
        }
        DataType::Int64 | DataType::Timestamp(_, _) => {
            let values: &[i64] = match col.data_type() {
                DataType::Int64 => col.as_primitive::<Int64Type>().values(),
                _ => match timestamp_values(col) {
                    Some(v) => v,
                    None => return ColumnEncoding::Dictionary,
                },
            };
            let head = values.get(..n).unwrap_or_default();
            if col.null_count() > 0 {
                return ColumnEncoding::Dictionary;
            }
            let distinct: HashSet<i64> = head.iter().copied().collect();
            if !mostly_distinct(distinct.len()) {
                ColumnEncoding::Dictionary
            } else if head.windows(2).all(|w| matches!(w, [a, b] if a <= b)) {
                ColumnEncoding::Delta
            } else {
                ColumnEncoding::Plain
            }
        }
        DataType::Float64 => {
            let f = col.as_primitive::<Float64Type>();
            let distinct: HashSet<u64> = f.iter().take(n).flatten().map(f64::to_bits).collect();
            if mostly_distinct(distinct.len()) {
                ColumnEncoding::Plain
            } else {
                ColumnEncoding::Dictionary
            }
        }
        _ => ColumnEncoding::Dictionary,
    }
}

/// A file that appears at its final path only when [`AtomicFile::commit`] is called; if it is
/// dropped first, the temporary file is removed.
#[derive(Debug)]
pub struct AtomicFile {
    tmp: PathBuf,
    dst: PathBuf,
    done: bool,
}

impl AtomicFile {
    /// Creates the temporary file beside `dst`.
    pub fn create(dst: &Path) -> Result<(Self, File)> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = dst.file_name().ok_or_else(|| {
            Error::invalid(format!("output path {} has no file name", dst.display()))
        })?;
        if dst.is_dir() {
            return Err(Error::invalid(format!(
                "output path {} is a directory",
                dst.display()
            )));
        }
        let tmp = dst.with_file_name(format!(
            ".{}.{}-{}.logflow-tmp",
            name.to_string_lossy(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let file = File::create(&tmp).map_err(|e| Error::output(e).with_path(dst))?;
        Ok((
            AtomicFile {
                tmp,
                dst: dst.to_path_buf(),
                done: false,
            },
            file,
        ))
    }

    /// Creates `tmp`, which [`AtomicFile::commit`] will move to `dst`. The directories of
    /// both must exist by then; `tmp`'s must exist now.
    pub(crate) fn create_at(tmp: PathBuf, dst: PathBuf) -> Result<(Self, File)> {
        let file = File::create(&tmp).map_err(|e| Error::output(e).with_path(&dst))?;
        Ok((
            AtomicFile {
                tmp,
                dst,
                done: false,
            },
            file,
        ))
    }

    /// Moves the finished file into place.
    pub fn commit(mut self) -> Result<()> {
        std::fs::rename(&self.tmp, &self.dst).map_err(|e| Error::output(e).with_path(&self.dst))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Batches smaller than this (in Arrow memory) are encoded on the calling thread: splitting
/// them over threads costs more than it saves (many small slices come from partitioning).
const PARALLEL_MIN_BYTES: usize = 256 << 10;

/// How much a sink may hold in memory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SinkLimits {
    /// Capacity of the file's write buffer.
    pub buffer: usize,
    /// Close the row group early once its encoders hold this many bytes (`None`: only
    /// [`ParquetOptions::row_group_rows`] closes it).
    pub group_bytes: Option<usize>,
    /// Threads encoding columns (0: one per available core).
    pub threads: usize,
    /// A schema with more top-level columns than this is written in blocks of this many
    /// columns (see [`Blocks`]).
    pub column_block: usize,
}

/// Default [`SinkLimits::column_block`]. Each column's encoder holds about 170 KB of fixed
/// state (zstd contexts, dictionary, page buffers) for as long as its row group is open: 1,024
/// of them are ~170 MB.
pub(crate) const COLUMN_BLOCK: usize = 1024;

/// Default [`ParquetOptions::row_group_bytes`].
pub const ROW_GROUP_BYTES: usize = 64 << 20;

impl Default for SinkLimits {
    fn default() -> Self {
        SinkLimits {
            buffer: 1 << 20,
            group_bytes: None,
            threads: 0,
            column_block: COLUMN_BLOCK,
        }
    }
}

/// Writes record batches to one Parquet file, encoding the columns of each batch on several
/// threads (arrow-rs's column-writer API), so writing keeps up with parallel decoding.
pub struct ParquetSink {
    writer: SerializedFileWriter<BufWriter<File>>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    columns: Vec<ArrowColumnWriter>,
    /// For a schema wider than [`SinkLimits::column_block`]: its blocks, instead of
    /// `columns`.
    blocks: Option<Blocks>,
    /// What the open row group's encoders held before their first rows: fixed per-column
    /// state (codec contexts, empty dictionaries) that is not the group's data.
    group_base: usize,
    group_rows: usize,
    group_index: usize,
    row_group_rows: usize,
    group_bytes: Option<usize>,
    threads: usize,
    pool: Option<Arc<Pool>>,
    /// Set when the job is cancelled: checked between blocks of a wide schema, whose row
    /// group is encoded all at once when it closes.
    stop: Option<Arc<AtomicBool>>,
    /// A second handle on the file, to write finished row groups back to disk in the
    /// background (on the pool's I/O thread), so closing does not wait for all of it.
    writeback: Option<File>,
    /// Whether a writeback is queued or running.
    writeback_busy: Arc<AtomicBool>,
    file: AtomicFile,
    rows: u64,
}

impl ParquetSink {
    /// Starts a file at `dst` (under a temporary name until [`ParquetSink::finish`]).
    ///
    /// `sample`, usually the first batch, lets the sink choose each column's encoding:
    /// dictionary for repetitive columns, plain for mostly distinct ones, delta for ascending
    /// ids and timestamps.
    pub fn create(
        dst: &Path,
        schema: SchemaRef,
        opts: &ParquetOptions,
        sample: Option<&RecordBatch>,
    ) -> Result<Self> {
        let props = opts.properties(sample)?;
        let (file, handle) = AtomicFile::create(dst)?;
        Self::start(
            file,
            handle,
            schema,
            props,
            opts.row_group_rows,
            SinkLimits {
                threads: opts.threads,
                group_bytes: Some(opts.row_group_bytes),
                ..SinkLimits::default()
            },
        )
    }

    /// Starts a sink on a file already created, with properties already worked out (a
    /// dataset reuses them for every file).
    pub(crate) fn start(
        file: AtomicFile,
        handle: File,
        schema: SchemaRef,
        props: WriterProperties,
        row_group_rows: usize,
        limits: SinkLimits,
    ) -> Result<Self> {
        if row_group_rows == 0 {
            return Err(Error::invalid("row_group_size must be positive"));
        }
        let dst = file.dst.clone();
        let wrap = |e: parquet::errors::ParquetError| Error::from(e).with_path(&dst);
        let writeback = handle.try_clone().ok();
        // ArrowWriter sets up the file (schema conversion, embedded Arrow schema); its
        // low-level parts then let us encode columns in parallel.
        let arrow = ArrowWriter::try_new(
            BufWriter::with_capacity(limits.buffer, handle),
            schema.clone(),
            Some(props.clone()),
        )
        .map_err(wrap)?;
        let (writer, factory) = arrow.into_serialized_writer().map_err(wrap)?;
        let blocks = Blocks::plan(&schema, &props, limits.column_block).map_err(wrap)?;
        // Held batches of a wide schema are bounded by bytes even where the encoders of a
        // narrow one would only be bounded by rows.
        let group_bytes = match &blocks {
            Some(_) => Some(limits.group_bytes.unwrap_or(ROW_GROUP_BYTES)),
            None => limits.group_bytes,
        };
        let threads = match limits.threads {
            0 => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            n => n,
        };
        Ok(ParquetSink {
            writer,
            factory,
            schema,
            columns: Vec::new(),
            blocks,
            group_base: 0,
            group_rows: 0,
            group_index: 0,
            row_group_rows,
            group_bytes,
            threads,
            pool: None,
            stop: None,
            writeback,
            writeback_busy: Arc::default(),
            file,
            rows: 0,
        })
    }

    fn wrap(&self, e: parquet::errors::ParquetError) -> Error {
        Error::from(e).with_path(&self.file.dst)
    }

    /// Appends one batch.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let n = batch.num_rows();
        let mut offset = 0;
        while offset < n {
            let take = (n - offset).min(self.row_group_rows - self.group_rows);
            self.encode(&batch.slice(offset, take))?;
            self.group_rows += take;
            offset += take;
            let full = self.group_rows >= self.row_group_rows
                || self
                    .group_bytes
                    .is_some_and(|cap| self.memory_size().saturating_sub(self.group_base) >= cap);
            if full {
                self.flush_group()?;
            }
        }
        self.rows += n as u64;
        Ok(())
    }

    fn encode(&mut self, batch: &RecordBatch) -> Result<()> {
        if let Some(blocks) = &mut self.blocks {
            blocks.hold(batch);
            return Ok(());
        }
        if self.columns.is_empty() {
            // Made when a row group gets its first rows, not when the last one closes: a
            // file that ends there (many do, in a dataset) never pays for an unused set.
            self.columns = self
                .factory
                .create_column_writers(self.group_index)
                .map_err(|e| self.wrap(e))?;
            // Thousands of columns start out holding more than a row group's byte cap: only
            // what they hold beyond that counts towards it, else every batch would close a
            // row group (and pay for a new set of encoders).
            self.group_base = self.memory_size();
        }
        let mut leaves = Vec::with_capacity(self.columns.len());
        for (field, array) in self.schema.fields().iter().zip(batch.columns()) {
            leaves.extend(compute_leaves(field, array).map_err(|e| self.wrap(e))?);
        }
        let costs: Vec<usize> = batch
            .columns()
            .iter()
            .map(|a| a.get_array_memory_size())
            .collect();
        let parallel = costs.iter().sum::<usize>() >= PARALLEL_MIN_BYTES;
        let jobs: Vec<(usize, (ArrowColumnWriter, ArrowLeafColumn))> =
            std::mem::take(&mut self.columns)
                .into_iter()
                .zip(leaves)
                .enumerate()
                .map(|(i, job)| (costs.get(i).copied().unwrap_or(1), job))
                .collect();
        let results = self.workers().run(jobs, parallel, |(mut w, leaf)| {
            let done = w.write(&leaf);
            (w, done)
        })?;
        let mut first_error = None;
        for (w, done) in results {
            self.columns.push(w);
            if let Err(e) = done {
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            Some(e) => Err(self.wrap(e)),
            None => Ok(()),
        }
    }

    /// What encodes columns: the shared pool, or threads of the sink's own.
    fn workers(&self) -> Workers {
        Workers {
            pool: self.pool.clone(),
            threads: self.threads,
            dst: self.file.dst.clone(),
        }
    }

    fn flush_group(&mut self) -> Result<()> {
        if self.blocks.is_some() {
            return self.flush_blocks();
        }
        let jobs: Vec<(usize, ArrowColumnWriter)> = std::mem::take(&mut self.columns)
            .into_iter()
            .map(|w| (w.memory_size(), w))
            .collect();
        let parallel = jobs.iter().map(|j| j.0).sum::<usize>() >= PARALLEL_MIN_BYTES;
        let chunks = self
            .workers()
            .run(jobs, parallel, ArrowColumnWriter::close)?;
        let dst = self.file.dst.clone();
        let wrap = |e: parquet::errors::ParquetError| Error::from(e).with_path(&dst);
        let mut group = self.writer.next_row_group().map_err(wrap)?;
        for chunk in chunks {
            chunk
                .map_err(wrap)?
                .append_to_row_group(&mut group)
                .map_err(wrap)?;
        }
        group.close().map_err(wrap)?;
        self.group_index += 1;
        self.group_rows = 0;
        self.write_back();
        Ok(())
    }

    /// Writes the held batches as one row group, a block of columns at a time: each block's
    /// encoders are made, fed every batch, closed and appended before the next block's exist.
    fn flush_blocks(&mut self) -> Result<()> {
        let Some(blocks) = self.blocks.take() else {
            return Ok(());
        };
        let result = self.write_blocks(&blocks);
        self.blocks = Some(blocks.emptied());
        result?;
        self.group_index += 1;
        self.group_rows = 0;
        self.write_back();
        Ok(())
    }

    fn write_blocks(&mut self, blocks: &Blocks) -> Result<()> {
        let workers = self.workers();
        let dst = &workers.dst;
        let wrap = |e: parquet::errors::ParquetError| Error::from(e).with_path(dst);
        let mut chunks = Vec::new();
        let mut group = self.writer.next_row_group().map_err(wrap)?;
        for (fields, factory) in &blocks.blocks {
            if self
                .stop
                .as_ref()
                .is_some_and(|s| s.load(Ordering::Relaxed))
            {
                return Err(Error::new(crate::error::ErrorKind::Cancelled).with_path(dst));
            }
            let writers = factory
                .create_column_writers(self.group_index)
                .map_err(wrap)?;
            // Each leaf column's slices from every held batch, with their size as its cost.
            let mut leaves: Vec<(usize, Vec<ArrowLeafColumn>)> =
                writers.iter().map(|_| (0, Vec::new())).collect();
            for batch in &blocks.held {
                let mut slot = leaves.iter_mut();
                for i in fields.clone() {
                    let (Some(field), Some(array)) =
                        (self.schema.fields().get(i), batch.columns().get(i))
                    else {
                        continue;
                    };
                    let size = array.get_array_memory_size();
                    for leaf in compute_leaves(field, array).map_err(wrap)? {
                        if let Some((cost, list)) = slot.next() {
                            *cost += size;
                            list.push(leaf);
                        }
                    }
                }
            }
            let parallel = leaves.iter().map(|l| l.0).sum::<usize>() >= PARALLEL_MIN_BYTES;
            let jobs = writers
                .into_iter()
                .zip(leaves)
                .map(|(w, (cost, list))| (cost, (w, list)))
                .collect();
            chunks.clear();
            chunks.extend(workers.run(jobs, parallel, |(mut w, list)| {
                for leaf in &list {
                    w.write(leaf)?;
                }
                w.close()
            })?);
            for chunk in chunks.drain(..) {
                chunk
                    .map_err(wrap)?
                    .append_to_row_group(&mut group)
                    .map_err(wrap)?;
            }
        }
        group.close().map_err(wrap)?;
        Ok(())
    }

    /// With a pool, has what the file holds so far written to disk in the background (one
    /// writeback at a time). Errors are left to the final sync, which reports them.
    fn write_back(&self) {
        let (Some(pool), Some(file)) = (&self.pool, &self.writeback) else {
            return;
        };
        if self.writeback_busy.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(file) = file.try_clone() else {
            self.writeback_busy.store(false, Ordering::Release);
            return;
        };
        let busy = Arc::clone(&self.writeback_busy);
        pool.submit_io(Box::new(move || {
            let _ = file.sync_data();
            busy.store(false, Ordering::Release);
        }));
    }

    /// Encodes columns on `pool`'s workers (and the calling thread) instead of threads of
    /// the sink's own.
    pub fn set_pool(&mut self, pool: Arc<Pool>) {
        self.pool = Some(pool);
    }

    /// Stops encoding a wide schema's row group between blocks once `flag` is set, with a
    /// `Cancelled` error.
    pub fn set_stop(&mut self, flag: Arc<AtomicBool>) {
        self.stop = Some(flag);
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Writes out the open row group now, if it has rows.
    pub(crate) fn flush(&mut self) -> Result<()> {
        if self.group_rows > 0 {
            self.flush_group()?;
        }
        Ok(())
    }

    /// Bytes the encoders of the open row group hold (or, for a schema written in blocks,
    /// the batches held for it).
    pub fn memory_size(&self) -> usize {
        if let Some(blocks) = &self.blocks {
            return blocks.held_bytes;
        }
        self.columns
            .iter()
            .map(ArrowColumnWriter::memory_size)
            .sum()
    }

    /// The file's size if it were closed now, estimated: bytes written so far plus the
    /// encoded size the open row group is expected to take (the footer is not counted).
    pub fn estimated_size(&self) -> u64 {
        if let Some(blocks) = &self.blocks {
            // Arrow's in-memory size: more than the encoded size, so rolling over early.
            return (self.writer.bytes_written() + blocks.held_bytes) as u64;
        }
        let open: usize = self
            .columns
            .iter()
            .map(ArrowColumnWriter::get_estimated_total_bytes)
            .sum();
        (self.writer.bytes_written() + open) as u64
    }

    /// Writes the footer, syncs, and moves the file into place. Returns its size in bytes.
    pub fn finish(self) -> Result<u64> {
        let done = self.close()?;
        let size = done.size;
        done.commit()?;
        Ok(size)
    }

    /// Writes the footer and syncs, but leaves the file under its temporary name until
    /// [`Closed::commit`], so several outputs can appear together.
    pub fn close(mut self) -> Result<Closed> {
        if self.group_rows > 0 {
            self.flush_group()?;
        }
        let ParquetSink { writer, file, .. } = self;
        let dst = file.dst.clone();
        let wrap = |e: Error| e.with_path(&dst);
        let buffered = writer.into_inner().map_err(|e| wrap(e.into()))?;
        let size = sync_buffered(buffered).map_err(wrap)?;
        Ok(Closed { file, size })
    }
}

/// Where a sink's column encoding runs.
struct Workers {
    pool: Option<Arc<Pool>>,
    threads: usize,
    dst: PathBuf,
}

impl Workers {
    /// Runs `work` on every `(cost, job)`: on the shared pool when there is one, else on up
    /// to [`SinkLimits::threads`] threads of its own (or just here, when `parallel` is
    /// false). Results come back in the order of `jobs`.
    fn run<J, T>(&self, jobs: Vec<(usize, J)>, parallel: bool, work: fn(J) -> T) -> Result<Vec<T>>
    where
        J: Send + 'static,
        T: Send + 'static,
    {
        let mut jobs: Vec<(usize, usize, J)> = jobs
            .into_iter()
            .enumerate()
            .map(|(i, (cost, job))| (cost, i, job))
            .collect();
        let mut out = match &self.pool {
            Some(pool) if parallel => {
                // Longest first, so the longest column is not the last one started.
                jobs.sort_by_key(|j| std::cmp::Reverse(j.0));
                let tasks: Vec<_> = jobs
                    .into_iter()
                    .map(|(_, i, job)| move || (i, work(job)))
                    .collect();
                pool.run_all(tasks).ok_or_else(|| {
                    Error::invalid("internal error: a column encoder panicked").with_path(&self.dst)
                })?
            }
            _ => {
                let threads = if parallel { self.threads } else { 1 };
                run_balanced(jobs, threads, |(i, job)| Ok((i, work(job))))
                    .map_err(|e| Error::from(e).with_path(&self.dst))?
            }
        };
        out.sort_by_key(|r| r.0);
        Ok(out.into_iter().map(|r| r.1).collect())
    }
}

/// A schema too wide to keep an encoder per column open: the row group's batches are held
/// (in Arrow form) until it closes, then written a block of columns at a time, so only one
/// block's encoders exist at once.
struct Blocks {
    /// Top-level field ranges, each with a writer factory for the schema of just its fields
    /// (the column chunks it makes are the whole schema's, so they join one row group).
    blocks: Vec<(std::ops::Range<usize>, ArrowRowGroupWriterFactory)>,
    held: Vec<RecordBatch>,
    held_bytes: usize,
}

impl Blocks {
    /// Blocks of `size` fields when `schema` has more than that; `None` otherwise.
    fn plan(
        schema: &SchemaRef,
        props: &WriterProperties,
        size: usize,
    ) -> parquet::errors::Result<Option<Self>> {
        let n = schema.fields().len();
        if size == 0 || n <= size {
            return Ok(None);
        }
        let mut blocks = Vec::with_capacity(n.div_ceil(size));
        for start in (0..n).step_by(size) {
            let fields = start..(start + size).min(n);
            let part = Arc::new(schema.project(&fields.clone().collect::<Vec<_>>())?);
            // The factory needs a writer to come from; its output goes nowhere.
            let (_, factory) = ArrowWriter::try_new(std::io::sink(), part, Some(props.clone()))?
                .into_serialized_writer()?;
            blocks.push((fields, factory));
        }
        Ok(Some(Blocks {
            blocks,
            held: Vec::new(),
            held_bytes: 0,
        }))
    }

    fn hold(&mut self, batch: &RecordBatch) {
        self.held_bytes += batch
            .columns()
            .iter()
            .map(|a| {
                a.to_data()
                    .get_slice_memory_size()
                    .unwrap_or_else(|_| a.get_array_memory_size())
            })
            .sum::<usize>();
        self.held.push(batch.clone());
    }

    fn emptied(mut self) -> Self {
        self.held.clear();
        self.held_bytes = 0;
        self
    }
}

/// Runs `work` on every `(cost, key, job)`, spread over `threads` threads so each gets about
/// the same total cost; returns the results (in no particular order). The first error wins.
fn run_balanced<K: Send, J: Send, T: Send, F>(
    mut jobs: Vec<(usize, K, J)>,
    threads: usize,
    work: F,
) -> parquet::errors::Result<Vec<T>>
where
    F: Fn((K, J)) -> parquet::errors::Result<T> + Sync,
{
    let threads = threads.clamp(1, jobs.len().max(1));
    // Longest job first onto the least loaded bin.
    jobs.sort_by_key(|j| std::cmp::Reverse(j.0));
    let mut bins: Vec<(usize, Vec<(K, J)>)> = (0..threads).map(|_| (0, Vec::new())).collect();
    for (cost, k, j) in jobs {
        if let Some(bin) = bins.iter_mut().min_by_key(|b| b.0) {
            bin.0 += cost.max(1);
            bin.1.push((k, j));
        }
    }
    let work = &work;
    std::thread::scope(|s| {
        let mut bins = bins.into_iter().map(|(_, b)| b);
        let own = bins.next().unwrap_or_default();
        let handles: Vec<_> = bins
            .map(|bin| {
                s.spawn(move || {
                    bin.into_iter()
                        .map(work)
                        .collect::<parquet::errors::Result<Vec<T>>>()
                })
            })
            .collect();
        let mut out = own
            .into_iter()
            .map(work)
            .collect::<parquet::errors::Result<Vec<T>>>()?;
        for h in handles {
            let part = h.join().map_err(|_| {
                parquet::errors::ParquetError::General("a column encoder panicked".into())
            })??;
            out.extend(part);
        }
        Ok(out)
    })
}

/// Flushes and syncs a buffered file; returns its size.
pub(crate) fn sync_buffered(mut buffered: BufWriter<File>) -> Result<u64> {
    buffered.flush().map_err(Error::output)?;
    let handle = buffered
        .into_inner()
        .map_err(|e| Error::output(e.into_error()))?;
    handle.sync_all().map_err(Error::output)?;
    Ok(handle.metadata().map_err(Error::output)?.len())
}

/// A complete output file still under its temporary name.
#[derive(Debug)]
pub struct Closed {
    file: AtomicFile,
    /// Its size in bytes.
    pub size: u64,
}

impl Closed {
    /// Wraps a finished temporary file.
    pub(crate) fn new(file: AtomicFile, size: u64) -> Self {
        Closed { file, size }
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.file.dst
    }

    /// Moves the file into place.
    pub fn commit(self) -> Result<()> {
        self.file.commit()
    }

    /// Where the file is now, and where it goes.
    pub fn staged(&self) -> crate::write::evolve::Staged {
        crate::write::evolve::Staged {
            tmp: self.file.tmp.clone(),
            dst: self.file.dst.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{ArrayRef, Int64Array};
    use std::sync::Arc;

    fn batch() -> RecordBatch {
        RecordBatch::try_from_iter([("x", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef)])
            .unwrap()
    }

    #[test]
    fn encodings_follow_the_sample() {
        let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(0..1000));
        let few: ArrayRef = Arc::new(Int64Array::from_iter_values((0..1000).map(|i| i % 7)));
        let shuffled: ArrayRef = Arc::new(Int64Array::from_iter_values(
            (0..1000).map(|i| (i * 7919) % 1000),
        ));
        let words: ArrayRef = Arc::new(arrow_array::StringArray::from_iter_values(
            (0..1000).map(|i| format!("w{i}")),
        ));
        assert_eq!(encoding_for(ids.as_ref()), ColumnEncoding::Delta);
        assert_eq!(encoding_for(few.as_ref()), ColumnEncoding::Dictionary);
        assert_eq!(encoding_for(shuffled.as_ref()), ColumnEncoding::Plain);
        assert_eq!(encoding_for(words.as_ref()), ColumnEncoding::Plain);
    }

    #[test]
    fn codec_names() {
        assert_eq!(
            Compression::parse("ZSTD", Some(5)).unwrap(),
            Compression::Zstd(Some(5))
        );
        assert_eq!(Compression::parse("lz4", None).unwrap(), Compression::Lz4);
        assert!(Compression::parse("brotli2", None).is_err());
        assert!(Compression::parse("snappy", Some(1)).is_err());
    }

    /// Ten columns of several types, `rows` rows from `first` on, with nulls.
    fn wide_batch(first: i64, rows: i64) -> RecordBatch {
        let cols: Vec<(String, ArrayRef)> = (0..10)
            .map(|c| {
                let name = format!("c{c}");
                let values = first..first + rows;
                let array: ArrayRef = match c % 3 {
                    0 => Arc::new(Int64Array::from_iter(
                        values.map(|v| (v % 7 != c).then_some(v * c)),
                    )),
                    1 => Arc::new(arrow_array::StringArray::from_iter(
                        values.map(|v| (v % 5 != 0).then(|| format!("s{}", v % 13))),
                    )),
                    _ => Arc::new(arrow_array::Float64Array::from_iter_values(
                        values.map(|v| v as f64 / 4.0),
                    )),
                };
                (name, array)
            })
            .collect();
        RecordBatch::try_from_iter(cols).unwrap()
    }

    #[test]
    fn a_wide_schema_is_written_a_block_of_columns_at_a_time() {
        let dir = std::env::temp_dir().join(format!("logflow-pq-wide-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let batches: Vec<RecordBatch> = (0..5).map(|i| wide_batch(i * 300, 300)).collect();
        let schema = batches[0].schema();
        let props = ParquetOptions::default()
            .properties(Some(&batches[0]))
            .unwrap();
        let write = |name: &str, column_block: usize| {
            let dst = dir.join(name);
            let (file, handle) = AtomicFile::create(&dst).unwrap();
            let limits = SinkLimits {
                column_block,
                ..SinkLimits::default()
            };
            let mut sink =
                ParquetSink::start(file, handle, schema.clone(), props.clone(), 700, limits)
                    .unwrap();
            assert_eq!(sink.blocks.is_some(), column_block < 10);
            for b in &batches {
                sink.write(b).unwrap();
            }
            sink.finish().unwrap();
            let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                File::open(&dst).unwrap(),
            )
            .unwrap();
            let meta = reader.metadata().clone();
            let back: Vec<RecordBatch> = reader.build().unwrap().map(Result::unwrap).collect();
            (meta, back)
        };
        let (blocked_meta, blocked) = write("blocked.parquet", 3);
        let (whole_meta, whole) = write("whole.parquet", COLUMN_BLOCK);
        let all = arrow_select::concat::concat_batches(&schema, &batches).unwrap();
        assert_eq!(
            arrow_select::concat::concat_batches(&schema, &blocked).unwrap(),
            all
        );
        assert_eq!(
            arrow_select::concat::concat_batches(&schema, &whole).unwrap(),
            all
        );
        // The same row groups, and each column chunk encoded alike, with statistics.
        let groups = |m: &parquet::file::metadata::ParquetMetaData| -> Vec<Vec<_>> {
            m.row_groups()
                .iter()
                .map(|g| {
                    g.columns()
                        .iter()
                        .map(|c| {
                            (
                                g.num_rows(),
                                c.column_path().string(),
                                format!("{:?}", c.encodings_mask()),
                                c.statistics().is_some(),
                            )
                        })
                        .collect()
                })
                .collect()
        };
        assert_eq!(blocked_meta.num_row_groups(), 3);
        assert_eq!(groups(&blocked_meta), groups(&whole_meta));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_wide_row_group_stops_between_blocks_when_cancelled() {
        let dir = std::env::temp_dir().join(format!("logflow-pq-stop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let batch = wide_batch(0, 100);
        let dst = dir.join("stopped.parquet");
        let (file, handle) = AtomicFile::create(&dst).unwrap();
        let limits = SinkLimits {
            column_block: 3,
            ..SinkLimits::default()
        };
        let props = ParquetOptions::default().properties(None).unwrap();
        let mut sink =
            ParquetSink::start(file, handle, batch.schema(), props, 1 << 20, limits).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        sink.set_stop(Arc::clone(&stop));
        sink.write(&batch).unwrap();
        stop.store(true, Ordering::Relaxed);
        let err = sink.finish().unwrap_err();
        assert!(
            matches!(err.kind(), crate::error::ErrorKind::Cancelled),
            "{err}"
        );
        assert!(!dst.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_byte_cap_counts_data_not_the_encoders_own_state() {
        // 200 empty encoders hold more than the cap before their first row; the row group
        // must still take many batches, not close after each one.
        let dir = std::env::temp_dir().join(format!("logflow-pq-cap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let batch = |first: i64| {
            RecordBatch::try_from_iter((0..200).map(|c| {
                let a: ArrayRef = Arc::new(Int64Array::from_iter_values(
                    (first..first + 50).map(|v| v * 1000 + c),
                ));
                (format!("c{c}"), a)
            }))
            .unwrap()
        };
        let dst = dir.join("capped.parquet");
        let (file, handle) = AtomicFile::create(&dst).unwrap();
        let limits = SinkLimits {
            group_bytes: Some(256 << 10),
            ..SinkLimits::default()
        };
        let props = ParquetOptions::default().properties(None).unwrap();
        let mut sink =
            ParquetSink::start(file, handle, batch(0).schema(), props, 1 << 20, limits).unwrap();
        assert!(sink.blocks.is_none());
        for i in 0..20 {
            sink.write(&batch(i * 50)).unwrap();
            if i == 0 {
                assert!(sink.group_base > 256 << 10, "{}", sink.group_base);
            }
        }
        sink.finish().unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            File::open(&dst).unwrap(),
        )
        .unwrap();
        let groups = reader.metadata().num_row_groups();
        // Each batch adds ~130 KB to the encoders (values, dictionary, hash table): two
        // batches fill a group. Counting the empty encoders' state made it one per batch.
        assert!((2..=10).contains(&groups), "{groups} row groups");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn finished_file_appears_and_dropped_file_does_not() {
        let dir = std::env::temp_dir().join(format!("logflow-pq-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let done = dir.join("done.parquet");
        let mut sink =
            ParquetSink::create(&done, batch().schema(), &ParquetOptions::default(), None).unwrap();
        sink.write(&batch()).unwrap();
        assert!(sink.finish().unwrap() > 0);
        assert!(done.exists());

        let dropped = dir.join("dropped.parquet");
        let mut sink =
            ParquetSink::create(&dropped, batch().schema(), &ParquetOptions::default(), None)
                .unwrap();
        sink.write(&batch()).unwrap();
        drop(sink);
        assert!(!dropped.exists());
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("done.parquet")]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
