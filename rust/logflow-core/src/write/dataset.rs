//! Output as a directory of Parquet files: `part-00000.parquet`, `part-00001.parquet`, ...,
//! rolled over by row count or estimated size, optionally inside Hive-style `col=value/`
//! directories ([`crate::write::partition`]).
//!
//! Every file is written into a hidden staging directory inside the output directory
//! (`.logflow-tmp-<pid>-<n>/`, which dataset readers skip, with a `.tmp` suffix that
//! `**/*.parquet` globs do not match) and moved into place only by
//! [`ClosedDataset::commit`]; until then, an error, a cancellation or a panic removes
//! everything written, and the output directory itself if the run created it.
//!
//! The output directory must be missing, empty, or hold only a dataset logflow wrote before
//! (`part-<digits>.parquet` files, at the top or in `name=value` directories); that earlier
//! dataset is replaced when the new one is committed. Anything else there is refused rather
//! than mixed with the new files.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::file::properties::WriterProperties;

use crate::error::{Error, Result};
use crate::work::Pool;
use crate::write::parquet::{AtomicFile, Closed, ParquetOptions, ParquetSink, SinkLimits};
use crate::write::partition::Partitioner;

/// Default bound on the files open at once (partitions being written).
pub const MAX_OPEN_FILES: usize = 64;

/// Default bound on what the open files' encoders and the rows waiting for a file hold
/// together (see [`DatasetOptions::memory_budget`]).
pub const MEMORY_BUDGET: usize = 256 << 20;

/// Most rows written at a time when files roll over by size: the size is checked after
/// each step, and steps shrink as a file nears the target (see [`size_step`]).
const SIZE_STEP: usize = 8192;
/// Fewest rows written at a time when files roll over by size.
const MIN_SIZE_STEP: usize = 256;

/// Smallest row group cap set by a small `target_file_size`.
const MIN_SIZE_GROUP: usize = 64 << 10;

/// Write buffer of each file of a partitioned dataset (a single file gets 1 MiB).
const PARTITION_BUFFER: usize = 64 << 10;

/// Prefix of the staging directories.
const STAGING_PREFIX: &str = ".logflow-tmp-";

/// How to split the output into files.
#[derive(Debug, Clone)]
pub struct DatasetOptions {
    /// Start a new file once one holds this many rows.
    pub max_rows_per_file: Option<u64>,
    /// Start a new file once one's estimated size reaches this many bytes: the bytes written
    /// plus the expected encoded size of the open row group (whose page in progress counts
    /// uncompressed). Row groups then close at an eighth of the target (64 KiB at least),
    /// so the estimate is off by at most about one row group; rows go in by steps that
    /// shrink near the target (down to 256 rows). Files end between about 7/8 of the target
    /// and a little past it.
    pub target_file_size: Option<u64>,
    /// Partition columns, outermost first: `dst/a=1/b=x/part-00000.parquet`. The files do
    /// not hold these columns.
    pub partition_by: Vec<String>,
    /// Most files open at once. Rows of a partition whose file is not open wait in memory;
    /// when memory runs short the partition with the most waiting rows gets a file, and the
    /// least recently written open file is closed for it (its partition starts a new file
    /// when more rows come). Input with more partitions than this, not grouped by them,
    /// therefore gives several files per partition.
    pub max_open_files: usize,
    /// Most bytes the open files' encoders (their row groups in progress) and the waiting
    /// rows hold together. Past it, the largest waiting rows are written, or else the
    /// largest open row group is written out early (a smaller row group). Only a dataset
    /// holds more than one open file or waiting rows; a single file keeps its row groups
    /// whole.
    pub memory_budget: usize,
}

impl Default for DatasetOptions {
    fn default() -> Self {
        DatasetOptions {
            max_rows_per_file: None,
            target_file_size: None,
            partition_by: Vec::new(),
            max_open_files: MAX_OPEN_FILES,
            memory_budget: MEMORY_BUDGET,
        }
    }
}

/// Parses a size: a number of bytes (`1048576`), or a number and a unit, case-insensitive,
/// space allowed: `B`; `KB`, `MB`, `GB`, `TB` (powers of 1000); `KiB`, `MiB`, `GiB`, `TiB`
/// and the short `K`, `M`, `G`, `T` (powers of 1024). Fractions are allowed (`1.5GB`); the
/// result must be at least one byte.
pub fn parse_size(text: &str) -> Result<u64> {
    let bad = || {
        Error::invalid(format!(
            "invalid size {text:?}: use bytes or a number with a unit, like 128MB or 1GiB"
        ))
    };
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number = number.replace('_', "");
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        _ => return Err(bad()),
    };
    let bytes = if number.contains('.') {
        let x: f64 = number.parse().map_err(|_| bad())?;
        #[allow(clippy::cast_precision_loss)]
        let v = (x * scale as f64).round();
        #[allow(clippy::cast_precision_loss)]
        if !v.is_finite() || v >= u64::MAX as f64 {
            return Err(bad());
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let v = v as u64;
        v
    } else {
        let n: u64 = number.parse().map_err(|_| bad())?;
        n.checked_mul(scale).ok_or_else(bad)?
    };
    if bytes == 0 {
        return Err(Error::invalid(format!(
            "size {text:?} must be at least one byte"
        )));
    }
    Ok(bytes)
}

/// Rows to write next into a file of estimated size `size` holding `rows` rows, aiming at
/// `target` bytes: the rows expected to fill it at the file's bytes per row so far (or
/// `learned` from the last file), within [`MIN_SIZE_STEP`, `SIZE_STEP`].
fn size_step(target: u64, size: u64, rows: u64, learned: Option<u64>) -> usize {
    let per_row = size.checked_div(rows).map(|b| b.max(1)).or(learned);
    match per_row {
        Some(b) => usize::try_from(target.saturating_sub(size) / b)
            .unwrap_or(usize::MAX)
            .clamp(MIN_SIZE_STEP, SIZE_STEP),
        None => SIZE_STEP,
    }
}

/// `part-00042.parquet`
fn part_name(index: u32) -> String {
    format!("part-{index:05}.parquet")
}

fn is_part_name(name: &str) -> bool {
    name.strip_prefix("part-")
        .and_then(|rest| rest.strip_suffix(".parquet"))
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// The files of a dataset logflow wrote before at `root` (empty if `root` is missing or
/// empty). Anything else found there is an error: datasets are not mixed.
fn existing_dataset(root: &Path) -> Result<Vec<PathBuf>> {
    let meta = match std::fs::metadata(root) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::output(e).with_path(root)),
    };
    if !meta.is_dir() {
        return Err(Error::invalid(format!(
            "output path {} is a file; several output files (max_rows_per_file, \
             target_file_size, partition_by) need a directory",
            root.display()
        )));
    }
    let mut found = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::output(e).with_path(&dir))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::output(e).with_path(&dir))?;
            let kind = entry
                .file_type()
                .map_err(|e| Error::output(e).with_path(&entry.path()))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if kind.is_dir() && name.starts_with(STAGING_PREFIX) {
                // Another run's staging area (running, or killed): not ours to touch.
                continue;
            }
            if kind.is_file() && is_part_name(&name) {
                found.push(entry.path());
            } else if kind.is_dir() && name.contains('=') {
                dirs.push(entry.path());
            } else {
                let path = entry.path();
                let shown = path.strip_prefix(root).unwrap_or(&path);
                return Err(Error::invalid(format!(
                    "output directory {} holds {}, which is not part of a dataset logflow \
                     wrote; use a new or empty directory (a logflow dataset there is replaced)",
                    root.display(),
                    shown.display()
                )));
            }
        }
    }
    Ok(found)
}

/// The hidden directory files are written into until the commit; removed (with the output
/// directories the run created) when dropped before [`Staging::done`].
#[derive(Debug)]
struct Staging {
    dir: PathBuf,
    /// Directories this run created, parents first.
    created: Vec<PathBuf>,
    done: bool,
}

impl Staging {
    fn create(root: &Path) -> Result<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut staging = Staging {
            dir: root.join(format!(
                "{STAGING_PREFIX}{}-{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            )),
            created: Vec::new(),
            done: false,
        };
        ensure_dir(root, &mut staging.created)?;
        std::fs::create_dir(&staging.dir).map_err(|e| Error::output(e).with_path(root))?;
        Ok(staging)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if !self.done {
            for d in self.created.iter().rev() {
                let _ = std::fs::remove_dir(d);
            }
        }
    }
}

/// Creates `dir` and its missing parents, noting each one created (parents first).
fn ensure_dir(dir: &Path, created: &mut Vec<PathBuf>) -> Result<()> {
    let mut missing = Vec::new();
    let mut p = dir;
    while !p.as_os_str().is_empty() && !p.exists() {
        missing.push(p.to_path_buf());
        match p.parent() {
            Some(parent) => p = parent,
            None => break,
        }
    }
    for d in missing.into_iter().rev() {
        match std::fs::create_dir(&d) {
            Ok(()) => created.push(d),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::output(e).with_path(&d)),
        }
    }
    Ok(())
}

/// One file being written.
struct OpenFile {
    sink: ParquetSink,
    rows: u64,
    /// Files started before this one: the order of [`ClosedDataset::files`].
    seq: u64,
    /// What its encoders held after the last write (counted in [`DatasetSink::memory`]).
    memory: usize,
}

/// A partition (or, unpartitioned, the whole output): its open file, rows waiting for one,
/// and the next file's number.
struct Partition {
    dir: String,
    open: Option<OpenFile>,
    /// Rows that arrived while too many files were open.
    pending: Vec<RecordBatch>,
    pending_bytes: usize,
    next: u32,
    /// When its file was last written (key in [`DatasetSink::lru`]).
    tick: u64,
}

/// Writes record batches to a directory of Parquet files; see the module docs.
pub struct DatasetSink {
    root: PathBuf,
    max_rows: Option<u64>,
    target_size: Option<u64>,
    max_open: usize,
    budget: usize,
    partitioner: Option<Partitioner>,
    schema: SchemaRef,
    props: WriterProperties,
    row_group_rows: usize,
    limits: SinkLimits,
    /// Where the files' columns are encoded (see [`ParquetSink::set_pool`]).
    pool: Option<Arc<Pool>>,
    /// See [`ParquetSink::set_stop`].
    stop: Option<Arc<AtomicBool>>,
    /// Partitions in order of first appearance, and their index by directory.
    parts: Vec<Partition>,
    index: HashMap<String, usize>,
    /// Open partitions by the tick of their last write: the first is the least recent.
    lru: BTreeMap<u64, usize>,
    tick: u64,
    /// Bytes held by the encoders of the open files, and by pending rows.
    memory: usize,
    pending: usize,
    started: u64,
    closed: Vec<(u64, Closed)>,
    rows: u64,
    /// Bytes per row of the last file closed: how far a new file's first step may go.
    bytes_per_row: Option<u64>,
    previous: Vec<PathBuf>,
    /// Last, so it is dropped after the open files.
    staging: Staging,
}

impl DatasetSink {
    /// Checks the options and the output directory (see the module docs), then creates the
    /// staging directory. `sample` chooses the column encodings, as for
    /// [`ParquetSink::create`]; every file gets the same.
    pub fn create(
        root: &Path,
        schema: SchemaRef,
        parquet: &ParquetOptions,
        opts: &DatasetOptions,
        sample: Option<&RecordBatch>,
    ) -> Result<Self> {
        if root.as_os_str().is_empty() {
            return Err(Error::invalid("the output path is empty"));
        }
        if opts.max_rows_per_file == Some(0) {
            return Err(Error::invalid("max_rows_per_file must be positive"));
        }
        if opts.target_file_size == Some(0) {
            return Err(Error::invalid("target_file_size must be positive"));
        }
        if opts.max_open_files == 0 {
            return Err(Error::invalid("at least one file must be allowed open"));
        }
        if parquet.row_group_rows == 0 {
            return Err(Error::invalid("row_group_size must be positive"));
        }
        let partitioner = if opts.partition_by.is_empty() {
            None
        } else {
            Some(Partitioner::new(&schema, &opts.partition_by)?)
        };
        let (file_schema, sample, mut limits) = match &partitioner {
            Some(p) => (
                p.file_schema(),
                sample.map(|s| p.project(s)).transpose()?,
                SinkLimits {
                    buffer: PARTITION_BUFFER,
                    threads: parquet.threads,
                    ..SinkLimits::default()
                },
            ),
            None => (
                schema,
                sample.cloned(),
                SinkLimits {
                    threads: parquet.threads,
                    group_bytes: Some(parquet.row_group_bytes),
                    ..SinkLimits::default()
                },
            ),
        };
        if let Some(target) = opts.target_file_size {
            // Row groups of at most an eighth of the target: the bytes already written are
            // then most of the estimate, and they are exact.
            let cap = usize::try_from(target / 8)
                .unwrap_or(usize::MAX)
                .max(MIN_SIZE_GROUP);
            limits.group_bytes = Some(limits.group_bytes.map_or(cap, |c| c.min(cap)));
        }
        let props = parquet.properties(sample.as_ref())?;
        let previous = existing_dataset(root)?;
        let staging = Staging::create(root)?;
        Ok(DatasetSink {
            root: root.to_path_buf(),
            max_rows: opts.max_rows_per_file,
            target_size: opts.target_file_size,
            max_open: opts.max_open_files,
            budget: opts.memory_budget,
            partitioner,
            schema: file_schema,
            props,
            row_group_rows: parquet.row_group_rows,
            limits,
            pool: None,
            stop: None,
            parts: Vec::new(),
            index: HashMap::new(),
            lru: BTreeMap::new(),
            tick: 0,
            memory: 0,
            pending: 0,
            started: 0,
            closed: Vec::new(),
            rows: 0,
            bytes_per_row: None,
            previous,
            staging,
        })
    }

    /// Encodes every file's columns on `pool` (see [`ParquetSink::set_pool`]).
    pub fn set_pool(&mut self, pool: Arc<Pool>) {
        for open in self.parts.iter_mut().filter_map(|p| p.open.as_mut()) {
            open.sink.set_pool(Arc::clone(&pool));
        }
        self.pool = Some(pool);
    }

    /// Has every file stop between long steps once `flag` is set (see
    /// [`ParquetSink::set_stop`]).
    pub fn set_stop(&mut self, flag: Arc<AtomicBool>) {
        for open in self.parts.iter_mut().filter_map(|p| p.open.as_mut()) {
            open.sink.set_stop(Arc::clone(&flag));
        }
        self.stop = Some(flag);
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Appends one batch (split by partition first, when partitioned).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        match &self.partitioner {
            Some(p) => {
                for part in p.split(batch)? {
                    let i = self.partition(&part.dir);
                    self.route(i, part.batch)?;
                }
            }
            None => {
                let i = self.partition("");
                self.write_to(i, batch)?;
            }
        }
        self.rows += batch.num_rows() as u64;
        self.keep_to_budget()
    }

    /// The index of partition `dir`, added if new.
    fn partition(&mut self, dir: &str) -> usize {
        if let Some(&i) = self.index.get(dir) {
            return i;
        }
        let i = self.parts.len();
        self.parts.push(Partition {
            dir: dir.to_string(),
            open: None,
            pending: Vec::new(),
            pending_bytes: 0,
            next: 0,
            tick: 0,
        });
        self.index.insert(dir.to_string(), i);
        i
    }

    /// Writes rows of partition `i` now if its file is open or another may open; otherwise
    /// keeps them until the partition has enough to be worth a file of its own, or memory
    /// runs short.
    fn route(&mut self, i: usize, batch: RecordBatch) -> Result<()> {
        let Some(p) = self.parts.get_mut(i) else {
            return Ok(());
        };
        if p.open.is_some() || self.lru.len() < self.max_open {
            if !p.pending.is_empty() {
                self.drain(i)?; // earlier rows first: they keep their order
            }
            return self.write_to(i, &batch);
        }
        let bytes = batch.get_array_memory_size();
        p.pending_bytes += bytes;
        p.pending.push(batch);
        self.pending += bytes;
        Ok(())
    }

    /// While the open files' encoders and the pending rows hold more than the budget: write
    /// out the largest pending rows (opening their partition's file), or else the row group
    /// of the file holding the most. Stops early if that gives nothing back (encoders hold
    /// a little even when empty).
    fn keep_to_budget(&mut self) -> Result<()> {
        if self.partitioner.is_none() {
            return Ok(()); // one open file: its row groups stay whole, as in a single file
        }
        loop {
            let total = self.memory + self.pending;
            if total <= self.budget {
                return Ok(());
            }
            if self.pending >= self.memory {
                let largest = self
                    .parts
                    .iter()
                    .enumerate()
                    .max_by_key(|(_, p)| p.pending_bytes)
                    .map(|(i, _)| i);
                if let Some(i) = largest {
                    self.drain(i)?;
                }
            } else {
                let largest = self
                    .lru
                    .values()
                    .copied()
                    .max_by_key(|&i| self.open_memory(i));
                if let Some(file) = largest
                    .and_then(|i| self.parts.get_mut(i))
                    .and_then(|p| p.open.as_mut())
                {
                    file.sink.flush()?;
                    let now = file.sink.memory_size();
                    self.memory = self.memory.saturating_sub(file.memory) + now;
                    file.memory = now;
                }
            }
            if self.memory + self.pending >= total {
                return Ok(());
            }
        }
    }

    fn open_memory(&self, i: usize) -> usize {
        self.parts
            .get(i)
            .and_then(|p| p.open.as_ref())
            .map_or(0, |f| f.memory)
    }

    /// Writes the pending rows of partition `i`.
    fn drain(&mut self, i: usize) -> Result<()> {
        let Some(p) = self.parts.get_mut(i) else {
            return Ok(());
        };
        let batches = std::mem::take(&mut p.pending);
        self.pending = self
            .pending
            .saturating_sub(std::mem::take(&mut p.pending_bytes));
        for b in &batches {
            self.write_to(i, b)?;
        }
        Ok(())
    }

    fn write_to(&mut self, i: usize, batch: &RecordBatch) -> Result<()> {
        let n = batch.num_rows();
        let (max_rows, target_size) = (self.max_rows, self.target_size);
        let mut offset = 0;
        while offset < n {
            let learned = self.bytes_per_row;
            let file = self.open(i)?;
            let room = match max_rows {
                Some(m) => usize::try_from(m.saturating_sub(file.rows)).unwrap_or(usize::MAX),
                None => usize::MAX,
            };
            let step = match target_size {
                None => usize::MAX,
                Some(t) => size_step(t, file.sink.estimated_size(), file.rows, learned),
            };
            let take = (n - offset).min(room).min(step).max(1);
            file.sink.write(&batch.slice(offset, take))?;
            file.rows += take as u64;
            offset += take;
            let now = file.sink.memory_size();
            let before = std::mem::replace(&mut file.memory, now);
            let full = max_rows.is_some_and(|m| file.rows >= m)
                || target_size.is_some_and(|t| file.sink.estimated_size() >= t);
            self.memory = self.memory.saturating_sub(before) + now;
            if full {
                self.close(i)?;
            }
        }
        Ok(())
    }

    /// The open file of partition `i`, opening one (and closing the least recently written
    /// file if too many are open) when needed.
    fn open(&mut self, i: usize) -> Result<&mut OpenFile> {
        self.tick += 1;
        let tick = self.tick;
        let is_open = self.parts.get(i).is_some_and(|p| p.open.is_some());
        if !is_open {
            while self.lru.len() >= self.max_open {
                let Some((_, oldest)) = self.lru.pop_first() else {
                    break;
                };
                self.close(oldest)?;
            }
        }
        let Some(partition) = self.parts.get_mut(i) else {
            return Err(Error::invalid("internal error: no such partition"));
        };
        self.lru.remove(&partition.tick);
        partition.tick = tick;
        self.lru.insert(tick, i);
        if partition.open.is_none() {
            let name = part_name(partition.next);
            let rel = if partition.dir.is_empty() {
                name
            } else {
                format!("{}/{name}", partition.dir)
            };
            partition.next += 1;
            let tmp = self.staging.dir.join(format!("{rel}.tmp"));
            if let Some(parent) = tmp.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::output(e).with_path(parent))?;
            }
            let (file, handle) = AtomicFile::create_at(tmp, self.root.join(&rel))?;
            let mut sink = ParquetSink::start(
                file,
                handle,
                self.schema.clone(),
                self.props.clone(),
                self.row_group_rows,
                self.limits,
            )?;
            if let Some(pool) = &self.pool {
                sink.set_pool(Arc::clone(pool));
            }
            if let Some(stop) = &self.stop {
                sink.set_stop(Arc::clone(stop));
            }
            partition.open = Some(OpenFile {
                sink,
                rows: 0,
                seq: self.started,
                memory: 0,
            });
            self.started += 1;
        }
        partition
            .open
            .as_mut()
            .ok_or_else(|| Error::invalid("internal error: a partition file did not open"))
    }

    /// Completes the open file of partition `i`, if any.
    fn close(&mut self, i: usize) -> Result<()> {
        let Some(partition) = self.parts.get_mut(i) else {
            return Ok(());
        };
        self.lru.remove(&partition.tick);
        if let Some(file) = partition.open.take() {
            self.memory = self.memory.saturating_sub(file.memory);
            let closed = file.sink.close()?;
            if let Some(b) = closed.size.checked_div(file.rows) {
                self.bytes_per_row = Some(b.max(1));
            }
            self.closed.push((file.seq, closed));
        }
        Ok(())
    }

    /// Writes the rows still pending, then completes every file (still in the staging
    /// directory). An unpartitioned dataset with no rows gets one empty file, so its schema
    /// is kept.
    pub fn finish(mut self) -> Result<ClosedDataset> {
        // Open files first (no file has to close for them), then the rest.
        let open: Vec<usize> = self.lru.values().copied().collect();
        for i in open {
            self.drain(i)?;
        }
        for i in 0..self.parts.len() {
            self.drain(i)?;
        }
        let open: Vec<usize> = self.lru.values().copied().collect();
        for i in open {
            self.close(i)?;
        }
        if self.started == 0 && self.partitioner.is_none() {
            let i = self.partition("");
            self.open(i)?;
            self.close(i)?;
        }
        let DatasetSink {
            root,
            staging,
            mut closed,
            previous,
            ..
        } = self;
        closed.sort_by_key(|(seq, _)| *seq);
        Ok(ClosedDataset {
            root,
            staging,
            files: closed.into_iter().map(|(_, c)| c).collect(),
            previous,
        })
    }
}

/// A complete dataset still in its staging directory.
#[derive(Debug)]
pub struct ClosedDataset {
    root: PathBuf,
    files: Vec<Closed>,
    previous: Vec<PathBuf>,
    staging: Staging,
}

impl ClosedDataset {
    /// The final paths of the files, in the order they were started.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.files.iter().map(|c| c.path().to_path_buf()).collect()
    }

    /// Where each file is now, and where it goes.
    pub fn staged(&self) -> Vec<crate::write::evolve::Staged> {
        self.files.iter().map(Closed::staged).collect()
    }

    /// Bytes in all files.
    pub fn size(&self) -> u64 {
        self.files.iter().map(|c| c.size).sum()
    }

    /// Moves every file into place, then removes the files of the dataset that was there
    /// before (those not replaced by a file of the same name). Returns the directories the
    /// run created, parents first. If a move fails, the files already moved are removed.
    pub fn commit(self) -> Result<Vec<PathBuf>> {
        let ClosedDataset {
            root,
            mut staging,
            files,
            previous,
        } = self;
        let mut moved: Vec<PathBuf> = Vec::with_capacity(files.len());
        let mut result = Ok(());
        for file in files {
            let dst = file.path().to_path_buf();
            let step = match dst.parent() {
                Some(parent) => ensure_dir(parent, &mut staging.created),
                None => Ok(()),
            }
            .and_then(|()| file.commit());
            if let Err(e) = step {
                result = Err(e);
                break;
            }
            moved.push(dst);
        }
        if let Err(e) = result {
            for f in &moved {
                let _ = std::fs::remove_file(f);
            }
            return Err(e); // dropping `staging` removes the rest
        }
        let kept: HashSet<&PathBuf> = moved.iter().collect();
        for old in previous.iter().filter(|p| !kept.contains(p)) {
            let _ = std::fs::remove_file(old);
            // Prune the partition directories it leaves empty.
            let mut dir = old.parent();
            while let Some(d) = dir.filter(|d| *d != root && d.starts_with(&root)) {
                if std::fs::remove_dir(d).is_err() {
                    break;
                }
                dir = d.parent();
            }
        }
        staging.done = true;
        Ok(std::mem::take(&mut staging.created))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    use arrow_array::{ArrayRef, Int64Array, StringArray};
    use std::sync::Arc;

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("logflow-ds-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn batch(from: i64, n: i64) -> RecordBatch {
        RecordBatch::try_from_iter([
            (
                "id",
                Arc::new(Int64Array::from_iter_values(from..from + n)) as ArrayRef,
            ),
            (
                "kind",
                Arc::new(StringArray::from_iter_values(
                    (from..from + n).map(|i| ["a", "b/c", "d"][(i % 3) as usize]),
                )) as ArrayRef,
            ),
            (
                "text",
                Arc::new(StringArray::from_iter_values(
                    (from..from + n).map(|i| format!("row {i} with some text to fill pages")),
                )) as ArrayRef,
            ),
        ])
        .unwrap()
    }

    /// (path relative to `root`, row count, ids) of every data file under `root`, sorted.
    fn listing(root: &Path) -> Vec<(String, usize, Vec<i64>)> {
        let mut out = Vec::new();
        let mut dirs = vec![root.to_path_buf()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                    continue;
                }
                let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(
                    std::fs::File::open(&p).unwrap(),
                    1 << 20,
                )
                .unwrap();
                let mut ids = Vec::new();
                for b in reader {
                    let b = b.unwrap();
                    ids.extend(b.column(0).as_primitive::<Int64Type>().values().iter());
                }
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.push((rel, ids.len(), ids));
            }
        }
        out.sort();
        out
    }

    fn write_all(root: &Path, opts: &DatasetOptions, batches: &[RecordBatch]) -> Vec<PathBuf> {
        let schema = batches[0].schema();
        let mut sink = DatasetSink::create(
            root,
            schema,
            &ParquetOptions::default(),
            opts,
            batches.first(),
        )
        .unwrap();
        for b in batches {
            sink.write(b).unwrap();
        }
        let total: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
        assert_eq!(sink.rows(), total);
        let done = sink.finish().unwrap();
        let paths = done.paths();
        done.commit().unwrap();
        paths
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert_eq!(parse_size("128MB").unwrap(), 128_000_000);
        assert_eq!(parse_size("128 mb").unwrap(), 128_000_000);
        assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
        assert_eq!(parse_size("64k").unwrap(), 64 << 10);
        assert_eq!(parse_size("1.5GB").unwrap(), 1_500_000_000);
        assert_eq!(parse_size("1_000_000").unwrap(), 1_000_000);
        assert_eq!(parse_size(" 2 TiB ").unwrap(), 2 << 40);
        for bad in [
            "",
            "MB",
            "12 parsecs",
            "-5MB",
            "0",
            "0.0001B",
            "1.2.3MB",
            "99999999TB",
        ] {
            let err = parse_size(bad).unwrap_err();
            assert!(
                matches!(err.kind(), crate::ErrorKind::InvalidArgument(_)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn size_steps_shrink_near_the_target() {
        assert_eq!(size_step(1_000_000, 4, 0, None), SIZE_STEP);
        assert_eq!(size_step(1_000_000, 4, 0, Some(100)), SIZE_STEP);
        assert_eq!(size_step(1_000_000, 4, 0, Some(1000)), 999);
        assert_eq!(size_step(1_000_000, 900_000, 9000, None), 1000);
        assert_eq!(size_step(1_000_000, 999_000, 9990, None), MIN_SIZE_STEP);
        assert_eq!(size_step(1_000_000, 2_000_000, 9990, None), MIN_SIZE_STEP);
    }

    #[test]
    fn part_names() {
        assert_eq!(part_name(0), "part-00000.parquet");
        assert_eq!(part_name(123_456), "part-123456.parquet");
        assert!(is_part_name("part-00042.parquet"));
        assert!(!is_part_name("part-.parquet"));
        assert!(!is_part_name("part-0001.parquet.tmp"));
        assert!(!is_part_name("data.parquet"));
    }

    #[test]
    fn rolls_over_by_rows_without_splitting_rows() {
        let d = tmpdir("rows");
        let root = d.join("out");
        let opts = DatasetOptions {
            max_rows_per_file: Some(1000),
            ..DatasetOptions::default()
        };
        let paths = write_all(&root, &opts, &[batch(0, 2500), batch(2500, 1700)]);
        let names: Vec<String> = paths
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            (0..5).map(part_name).collect::<Vec<_>>(),
            "files in write order"
        );
        let files = listing(&root);
        let counts: Vec<usize> = files.iter().map(|f| f.1).collect();
        assert_eq!(counts, vec![1000, 1000, 1000, 1000, 200]);
        let ids: Vec<i64> = files.iter().flat_map(|f| f.2.clone()).collect();
        assert_eq!(ids, (0..4200).collect::<Vec<_>>());
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// Rows of hard-to-compress text (64 pseudo-random hex digits each).
    fn noisy(from: i64, n: i64) -> RecordBatch {
        let hex = |i: i64| {
            let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            (0..4)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    format!("{x:016x}")
                })
                .collect::<String>()
        };
        RecordBatch::try_from_iter([
            (
                "id",
                Arc::new(Int64Array::from_iter_values(from..from + n)) as ArrayRef,
            ),
            (
                "text",
                Arc::new(StringArray::from_iter_values((from..from + n).map(hex))) as ArrayRef,
            ),
        ])
        .unwrap()
    }

    #[test]
    fn rolls_over_by_estimated_size() {
        let d = tmpdir("size");
        let root = d.join("out");
        let target = 1_500_000;
        let opts = DatasetOptions {
            target_file_size: Some(target),
            ..DatasetOptions::default()
        };
        let batches: Vec<RecordBatch> = (0..10).map(|i| noisy(i * 20_000, 20_000)).collect();
        let paths = write_all(&root, &opts, &batches);
        let sizes: Vec<u64> = paths
            .iter()
            .map(|p| std::fs::metadata(p).unwrap().len())
            .collect();
        assert!(sizes.len() >= 3, "{sizes:?}");
        // Every file but the last stops near the target: past it by at most one step of
        // rows, short of it by at most the page being filled (counted uncompressed).
        for s in &sizes[..sizes.len() - 1] {
            assert!(*s > target * 2 / 3 && *s < target * 5 / 4, "{sizes:?}");
        }
        let ids: Vec<i64> = listing(&root).iter().flat_map(|f| f.2.clone()).collect();
        assert_eq!(ids, (0..200_000).collect::<Vec<_>>());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn partitions_into_hive_directories_without_the_column() {
        let d = tmpdir("hive");
        let root = d.join("out");
        let opts = DatasetOptions {
            partition_by: vec!["kind".into()],
            max_rows_per_file: Some(40),
            ..DatasetOptions::default()
        };
        write_all(&root, &opts, &[batch(0, 90), batch(90, 30)]);
        let files = listing(&root);
        let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "kind=a/part-00000.parquet",
                "kind=b%2Fc/part-00000.parquet",
                "kind=d/part-00000.parquet",
            ]
        );
        assert!(files.iter().all(|f| f.1 == 40));
        assert_eq!(files[1].2, (0..40).map(|i| i * 3 + 1).collect::<Vec<_>>());
        let file = std::fs::File::open(root.join("kind=a/part-00000.parquet")).unwrap();
        let builder =
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        let cols: Vec<&str> = builder
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(cols, vec!["id", "text"]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    fn rel_paths(root: &Path, paths: &[PathBuf]) -> Vec<String> {
        paths
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn rows_wait_for_a_file_when_too_many_are_open() {
        let d = tmpdir("wait");
        let root = d.join("out");
        let opts = DatasetOptions {
            partition_by: vec!["kind".into()],
            max_open_files: 2,
            ..DatasetOptions::default()
        };
        // a, b/c, d, a, ...: two files open, d's rows wait until the end.
        let batches: Vec<RecordBatch> = (0..6).map(|i| batch(i, 1)).collect();
        let paths = write_all(&root, &opts, &batches);
        assert_eq!(
            rel_paths(&root, &paths),
            vec![
                "kind=a/part-00000.parquet",
                "kind=b%2Fc/part-00000.parquet",
                "kind=d/part-00000.parquet",
            ]
        );
        let files = listing(&root);
        assert_eq!(files[2].2, vec![2, 5]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn waiting_rows_keep_their_order_when_a_file_frees_up() {
        let d = tmpdir("order");
        let root = d.join("out");
        let opts = DatasetOptions {
            partition_by: vec!["kind".into()],
            max_open_files: 1,
            max_rows_per_file: Some(2),
            ..DatasetOptions::default()
        };
        let one = |id: i64, kind: &str| {
            RecordBatch::try_from_iter([
                ("id", Arc::new(Int64Array::from(vec![id])) as ArrayRef),
                ("kind", Arc::new(StringArray::from(vec![kind])) as ArrayRef),
            ])
            .unwrap()
        };
        // b's first row waits (a's file is open); a's file fills and closes; b's next row
        // finds room and must not overtake the waiting one.
        let batches = [one(0, "a"), one(1, "b"), one(2, "a"), one(3, "b")];
        write_all(&root, &opts, &batches);
        let files = listing(&root);
        let got: Vec<(&str, Vec<i64>)> =
            files.iter().map(|f| (f.0.as_str(), f.2.clone())).collect();
        assert_eq!(
            got,
            vec![
                ("kind=a/part-00000.parquet", vec![0, 2]),
                ("kind=b/part-00000.parquet", vec![1, 3]),
            ]
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn memory_budget_closes_the_least_recently_written_file() {
        let d = tmpdir("lru");
        let root = d.join("out");
        let opts = DatasetOptions {
            partition_by: vec!["kind".into()],
            max_open_files: 2,
            memory_budget: 1,
            ..DatasetOptions::default()
        };
        // With no memory to spare, waiting rows go out soon: a partition whose file is not
        // open takes the place of the least recently written one, and a partition coming
        // back starts a new file. Batches of one partition each: a, b/c, d, a, ...
        let kinds = ["a", "b/c", "d"];
        let batches: Vec<RecordBatch> = (0..9i64)
            .map(|i| {
                let kind = kinds[(i % 3) as usize];
                RecordBatch::try_from_iter([
                    (
                        "id",
                        Arc::new(Int64Array::from_iter_values(i * 1000..(i + 1) * 1000))
                            as ArrayRef,
                    ),
                    (
                        "kind",
                        Arc::new(StringArray::from_iter_values((0..1000).map(|_| kind)))
                            as ArrayRef,
                    ),
                ])
                .unwrap()
            })
            .collect();
        let paths = write_all(&root, &opts, &batches);
        let rel = rel_paths(&root, &paths);
        assert!(rel.len() > 3, "{rel:?}");
        for kind in ["kind=a", "kind=b%2Fc", "kind=d"] {
            let mine: Vec<&String> = rel.iter().filter(|r| r.starts_with(kind)).collect();
            let expected: Vec<String> = (0..mine.len() as u32)
                .map(|n| format!("{kind}/{}", part_name(n)))
                .collect();
            assert_eq!(mine, expected.iter().collect::<Vec<_>>());
        }
        let mut ids: Vec<i64> = listing(&root).iter().flat_map(|f| f.2.clone()).collect();
        ids.sort_unstable();
        assert_eq!(ids, (0..9000).collect::<Vec<_>>());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn nothing_appears_before_commit_and_a_dropped_dataset_leaves_nothing() {
        let d = tmpdir("drop");
        let root = d.join("new").join("out");
        let opts = DatasetOptions {
            partition_by: vec!["kind".into()],
            ..DatasetOptions::default()
        };
        let b = batch(0, 10);
        let mut sink =
            DatasetSink::create(&root, b.schema(), &ParquetOptions::default(), &opts, None)
                .unwrap();
        sink.write(&b).unwrap();
        // only the hidden staging directory exists so far
        let names: Vec<String> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 1);
        assert!(names[0].starts_with(STAGING_PREFIX));
        let done = sink.finish().unwrap();
        drop(done);
        assert!(!d.join("new").exists(), "created directories are removed");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn an_earlier_dataset_is_replaced_and_foreign_files_refused() {
        let d = tmpdir("replace");
        let root = d.join("out");
        let by_kind = DatasetOptions {
            partition_by: vec!["kind".into()],
            ..DatasetOptions::default()
        };
        write_all(&root, &by_kind, &[batch(0, 30)]);
        let flat = DatasetOptions {
            max_rows_per_file: Some(20),
            ..DatasetOptions::default()
        };
        write_all(&root, &flat, &[batch(100, 30)]);
        let files = listing(&root);
        let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(names, vec!["part-00000.parquet", "part-00001.parquet"]);
        assert_eq!(
            std::fs::read_dir(&root).unwrap().count(),
            2,
            "old directories pruned"
        );

        std::fs::write(root.join("notes.txt"), "mine").unwrap();
        let b = batch(0, 1);
        let err = DatasetSink::create(&root, b.schema(), &ParquetOptions::default(), &flat, None)
            .err()
            .unwrap();
        assert!(matches!(err.kind(), crate::ErrorKind::InvalidArgument(_)));
        assert!(err.to_string().contains("notes.txt"), "{err}");
        let file = d.join("file.parquet");
        std::fs::write(&file, "x").unwrap();
        assert!(
            DatasetSink::create(&file, b.schema(), &ParquetOptions::default(), &flat, None)
                .is_err()
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn empty_output_keeps_the_schema_in_one_file_unless_partitioned() {
        let d = tmpdir("empty");
        let b = batch(0, 0);
        let flat = DatasetOptions {
            max_rows_per_file: Some(10),
            ..DatasetOptions::default()
        };
        let paths = write_all(&d.join("flat"), &flat, std::slice::from_ref(&b));
        assert_eq!(paths.len(), 1);
        let by_kind = DatasetOptions {
            partition_by: vec!["kind".into()],
            ..DatasetOptions::default()
        };
        assert!(write_all(&d.join("hive"), &by_kind, &[b]).is_empty());
        assert_eq!(std::fs::read_dir(d.join("hive")).unwrap().count(), 0);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
