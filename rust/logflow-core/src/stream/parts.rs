//! Binary inputs decoded in parallel, in order: a Parquet file's row groups, runs of an Avro
//! file's blocks, an Arrow IPC stream. Each is a [`Part`] that decodes one batch at a time;
//! [`PartReader`] runs the next batch of several parts at once as jobs on a [`Pool`] and
//! hands the outputs back in input order.
//!
//! Text formats are cut into chunks of bytes ([`Chunker`](super::Chunker)); a binary format's
//! own structure already says where independent pieces start, and its reader (the `parquet`
//! crate's, arrow-avro's) decodes them. A part's batches come one after another from one
//! reader state, so a part has at most one job at a time; different parts run side by side.
//!
//! Memory is bounded like the chunk pipeline's: at most `budget` batches exist that are being
//! decoded or wait to be taken (plus one for the part in front, so the consumer never waits
//! on parts behind it), and at most `max_parts` parts are open.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::Arc;
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, SchemaRef};

use super::{ChunkOutput, ReadCounts};
use crate::error::{Error, ErrorKind, Result};
use crate::work::Pool;

/// One independently decodable part of a binary input, decoded a batch at a time.
pub trait Part: Send + 'static {
    /// Decodes the next batch; `None` once the part is done. After an error the part is
    /// not asked again.
    fn next_batch(&mut self) -> Result<Option<RecordBatch>>;
}

/// A binary input as a sequence of parts, opened in input order on the consumer's thread.
pub trait Parts: Send {
    /// The schema of every batch.
    fn schema(&self) -> SchemaRef;

    /// The next part, `None` at the end of the input. Opening may read (an Avro part's
    /// blocks are read here, in order); decoding happens in [`Part::next_batch`].
    fn next_part(&mut self) -> Result<Option<Box<dyn Part>>>;
}

/// What happens to each decoded batch before it is handed on (projection, casts to the
/// types asked for and their error accounting): run in the decode job, so in parallel.
pub type Finish = Arc<dyn Fn(RecordBatch) -> ChunkOutput + Send + Sync>;

/// The [`Finish`] that hands batches on unchanged.
pub fn unchanged() -> Finish {
    Arc::new(|batch: RecordBatch| ChunkOutput {
        rows_read: batch.num_rows() as u64,
        batches: vec![batch],
        ..ChunkOutput::default()
    })
}

/// A part's job result.
struct Done {
    part_id: u64,
    /// The part, back for its next batch; `None` when it panicked.
    part: Option<Box<dyn Part>>,
    /// The batch's output; `None` when the part is done.
    out: Option<ChunkOutput>,
}

struct OpenPart {
    id: u64,
    /// `None` while a job has it.
    part: Option<Box<dyn Part>>,
    done: bool,
    ready: VecDeque<ChunkOutput>,
}

impl OpenPart {
    fn idle(&self) -> bool {
        !self.done && self.part.is_some()
    }
}

/// How many parts and batches a [`PartReader`] keeps going.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Parts open at once.
    pub max_parts: usize,
    /// Batches being decoded or waiting to be taken (the part in front may add one).
    pub budget: usize,
}

impl Limits {
    /// Limits for `workers` decoding threads: one part per worker and one more, and the
    /// chunk pipeline's number of batches in flight.
    pub fn for_workers(workers: usize) -> Self {
        let workers = workers.max(1);
        Limits {
            max_parts: workers + 1,
            budget: crate::pipeline::in_flight(workers),
        }
    }

    /// One part and one batch at a time, all on the consumer's thread.
    pub fn sequential() -> Self {
        Limits {
            max_parts: 1,
            budget: 1,
        }
    }
}

/// Longest the consumer waits for a batch before it checks for cancellation again.
const TICK: Duration = Duration::from_millis(50);

/// Decodes the batches of [`Parts`] as jobs on a [`Pool`] and returns their outputs in input
/// order, records numbered from 1. The consumer's thread opens parts, submits jobs and, while
/// the output it needs next is not ready, runs pool jobs itself (so a pool without workers
/// decodes everything on the consumer's thread).
pub struct PartReader {
    source: Option<Box<dyn Parts>>,
    schema: SchemaRef,
    finish: Finish,
    pool: Arc<Pool>,
    /// The pool is this reader's own: closed when the reader is dropped.
    owns_pool: bool,
    parts: VecDeque<OpenPart>,
    next_id: u64,
    limits: Limits,
    /// Batches submitted or ready, not yet taken.
    pending: usize,
    tx: Sender<Done>,
    rx: Receiver<Done>,
    records: u64,
    stop: Option<Arc<AtomicBool>>,
    /// Named in the message when a reader panics.
    format: &'static str,
}

impl PartReader {
    /// A reader of `source` whose jobs run on `pool` (shared: its owner closes it).
    pub fn new(
        source: Box<dyn Parts>,
        finish: Finish,
        pool: Arc<Pool>,
        limits: Limits,
        format: &'static str,
    ) -> Self {
        let (tx, rx) = channel();
        PartReader {
            schema: source.schema(),
            source: Some(source),
            finish,
            pool,
            owns_pool: false,
            parts: VecDeque::new(),
            next_id: 0,
            limits,
            pending: 0,
            tx,
            rx,
            records: 0,
            stop: None,
            format,
        }
    }

    /// A reader with a pool of its own, served by `workers` background threads (none for
    /// `workers <= 1`: everything runs on the consumer's thread, one part at a time).
    pub fn with_workers(
        source: Box<dyn Parts>,
        finish: Finish,
        workers: usize,
        format: &'static str,
    ) -> Self {
        let pool = Arc::new(Pool::default());
        let limits = if workers <= 1 {
            Limits::sequential()
        } else {
            for _ in 0..workers {
                let pool = Arc::clone(&pool);
                std::thread::spawn(move || pool.work());
            }
            Limits::for_workers(workers)
        };
        let mut reader = PartReader::new(source, finish, pool, limits, format);
        reader.owns_pool = true;
        reader
    }

    /// Stops with [`ErrorKind::Cancelled`] once `stop` is set.
    #[must_use]
    pub fn with_stop(mut self, stop: Arc<AtomicBool>) -> Self {
        self.stop = Some(stop);
        self
    }

    /// The schema of every batch the parts decode (before [`Finish`]).
    pub fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    /// Records handed out so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    fn check(&self) -> Result<()> {
        match &self.stop {
            Some(s) if s.load(Ordering::Relaxed) => Err(Error::new(ErrorKind::Cancelled)),
            _ => Ok(()),
        }
    }

    /// The next output in input order; `None` at the end. A decode error comes as an output
    /// whose [`ChunkOutput::error`] is set, after every output before it.
    pub fn next_output(&mut self) -> Result<Option<ChunkOutput>> {
        loop {
            self.check()?;
            if let Some(front) = self.parts.front_mut() {
                if let Some(mut out) = front.ready.pop_front() {
                    self.pending = self.pending.saturating_sub(1);
                    self.number(&mut out);
                    return Ok(Some(out));
                }
                if front.done && front.part.is_some() {
                    self.parts.pop_front();
                    continue;
                }
            }
            self.schedule();
            if self.parts.is_empty() && self.source.is_none() {
                return Ok(None);
            }
            self.wait()?;
        }
    }

    /// Record numbers of rejects and errors: 1-based and input-wide, as the sequencer of the
    /// chunk pipeline numbers them.
    fn number(&mut self, out: &mut ChunkOutput) {
        let base = self.records + 1;
        for r in &mut out.rejects {
            r.position.record += base;
        }
        if let Some(e) = &mut out.error {
            e.shift_record(base);
        }
        self.records += out.rows_read;
    }

    /// Opens parts and submits jobs while the limits allow.
    fn schedule(&mut self) {
        loop {
            // The part in front may always go on: the consumer waits for it.
            let front_idle = self.parts.front().is_some_and(OpenPart::idle);
            if front_idle || self.pending < self.limits.budget {
                if let Some(i) = self.parts.iter().position(OpenPart::idle) {
                    self.submit(i);
                    continue;
                }
            }
            if self.pending >= self.limits.budget || self.parts.len() >= self.limits.max_parts {
                return;
            }
            let Some(source) = self.source.as_mut() else {
                return;
            };
            let id = self.next_id;
            match catch_unwind(AssertUnwindSafe(|| source.next_part())) {
                Ok(Ok(Some(part))) => {
                    self.next_id += 1;
                    self.parts.push_back(OpenPart {
                        id,
                        part: Some(part),
                        done: false,
                        ready: VecDeque::new(),
                    });
                }
                Ok(Ok(None)) => self.source = None,
                Ok(Err(e)) => self.fail_at_end(e),
                Err(panic) => self.fail_at_end(panicked(self.format, &*panic)),
            }
        }
    }

    /// Ends the input with `error`, after every part opened before it.
    fn fail_at_end(&mut self, error: Error) {
        self.source = None;
        let id = self.next_id;
        self.next_id += 1;
        self.pending += 1;
        self.parts.push_back(OpenPart {
            id,
            part: Some(Box::new(Finished)),
            done: true,
            ready: VecDeque::from([ChunkOutput {
                error: Some(error),
                ..ChunkOutput::default()
            }]),
        });
    }

    fn submit(&mut self, index: usize) {
        let Some(open) = self.parts.get_mut(index) else {
            return;
        };
        let Some(mut part) = open.part.take() else {
            return;
        };
        let part_id = open.id;
        let finish = Arc::clone(&self.finish);
        let tx = self.tx.clone();
        let format = self.format;
        self.pending += 1;
        self.pool.submit(Box::new(move || {
            // A reader that panics on bad input fails the run with a typed error, never the
            // process; its part is not asked again.
            let decoded = catch_unwind(AssertUnwindSafe(|| match part.next_batch() {
                Ok(Some(batch)) => Some(finish(batch)),
                Ok(None) => None,
                Err(e) => Some(ChunkOutput {
                    error: Some(e),
                    ..ChunkOutput::default()
                }),
            }));
            let done = match decoded {
                Ok(out) => Done {
                    part_id,
                    part: Some(part),
                    out,
                },
                Err(panic) => Done {
                    part_id,
                    part: None,
                    out: Some(ChunkOutput {
                        error: Some(panicked(format, &*panic)),
                        ..ChunkOutput::default()
                    }),
                },
            };
            let _ = tx.send(done);
        }));
    }

    /// Waits for one job to finish (running jobs meanwhile) and files its result.
    fn wait(&mut self) -> Result<()> {
        loop {
            let done = match self.rx.try_recv() {
                Ok(d) => d,
                Err(TryRecvError::Disconnected) => return Err(lost()),
                Err(TryRecvError::Empty) => {
                    if self.pool.help_any() {
                        continue;
                    }
                    match self.rx.recv_timeout(TICK) {
                        Ok(d) => d,
                        Err(RecvTimeoutError::Timeout) => {
                            self.check()?;
                            if !self.jobs_out() {
                                return Err(lost());
                            }
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => return Err(lost()),
                    }
                }
            };
            self.file(done);
            return Ok(());
        }
    }

    /// Whether any part is with a job.
    fn jobs_out(&self) -> bool {
        self.parts.iter().any(|p| !p.done && p.part.is_none())
    }

    fn file(&mut self, done: Done) {
        let Some(front) = self.parts.front().map(|p| p.id) else {
            return;
        };
        let index = usize::try_from(done.part_id.saturating_sub(front)).unwrap_or(usize::MAX);
        let Some(open) = self.parts.get_mut(index) else {
            return;
        };
        match done.out {
            Some(out) => {
                let failed = out.error.is_some();
                open.ready.push_back(out);
                if failed || done.part.is_none() {
                    open.done = true;
                    // Nothing after an error is wanted: no further part is opened.
                    self.source = None;
                }
            }
            None => {
                open.done = true;
                self.pending = self.pending.saturating_sub(1);
            }
        }
        // A finished part keeps a placeholder so `next_output` can tell it from one whose
        // job is out.
        open.part = Some(done.part.unwrap_or_else(|| Box::new(Finished)));
    }
}

impl Drop for PartReader {
    fn drop(&mut self) {
        if self.owns_pool {
            self.pool.close();
        }
    }
}

/// A part with nothing left.
struct Finished;

impl Part for Finished {
    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        Ok(None)
    }
}

#[cold]
fn lost() -> Error {
    Error::invalid("internal error: a decode job was lost")
}

/// The error for a reader that panicked: bad input it did not expect.
#[cold]
pub(crate) fn panicked(format: &'static str, panic: &(dyn std::any::Any + Send)) -> Error {
    let why = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into());
    Error::decode(
        format,
        crate::error::Position::default(),
        None,
        format!("the {format} reader failed on this input (corrupt file?): {why}"),
    )
}

/// A [`PartReader`] as a stream of record batches for a consumer (`read()`): bad records are
/// dropped and counted; an error is raised after the batches before it.
pub struct PartBatches {
    reader: PartReader,
    schema: SchemaRef,
    counts: Arc<ReadCounts>,
    ready: VecDeque<RecordBatch>,
    failed: bool,
    path: Option<std::path::PathBuf>,
}

impl PartBatches {
    /// Batches of `schema` (the schema after [`Finish`]) from `reader`.
    pub fn new(reader: PartReader, schema: SchemaRef) -> Self {
        PartBatches {
            reader,
            schema,
            counts: Arc::new(ReadCounts::default()),
            ready: VecDeque::new(),
            failed: false,
            path: None,
        }
    }

    /// Names `path` in errors.
    #[must_use]
    pub fn with_path(mut self, path: &std::path::Path) -> Self {
        self.path = Some(path.to_path_buf());
        self
    }

    /// The counters, updated as batches are produced.
    pub fn counts(&self) -> Arc<ReadCounts> {
        Arc::clone(&self.counts)
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            if let Some(b) = self.ready.pop_front() {
                return Ok(Some(b));
            }
            if self.failed {
                return Ok(None);
            }
            let Some(mut out) = self.reader.next_output()? else {
                self.failed = true;
                return Ok(None);
            };
            self.counts
                .rows_read
                .store(self.reader.records(), Ordering::Relaxed);
            if let Some(e) = out.error.take() {
                self.failed = true;
                return Err(e);
            }
            self.counts
                .rows_rejected
                .fetch_add(out.rejects.len() as u64, Ordering::Relaxed);
            self.counts
                .rows_skipped
                .fetch_add(out.rows_skipped, Ordering::Relaxed);
            self.ready.extend(out.batches);
        }
    }
}

impl Iterator for PartBatches {
    type Item = std::result::Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let res = self.next_batch().map_err(|e| match &self.path {
            Some(p) => e.with_path(p),
            None => e,
        });
        if res.is_err() {
            self.failed = true;
        }
        res.map_err(ArrowError::from).transpose()
    }
}

impl arrow_array::RecordBatchReader for PartBatches {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Int64Array;
    use arrow_schema::{DataType, Field, Schema};
    use std::sync::Mutex;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]))
    }

    /// Part `p` yields `batches` batches of 3 rows holding `p * 1000 + i`, after a delay that
    /// makes later parts finish first; `fail` makes one batch an error, `boom` a panic.
    struct Counting {
        p: i64,
        next: i64,
        batches: i64,
        fail: Option<i64>,
        boom: Option<i64>,
    }

    impl Part for Counting {
        fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
            if self.next == self.batches {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_micros(
                u64::try_from((5 - self.p).max(0) * 200).unwrap(),
            ));
            let i = self.next;
            self.next += 1;
            if self.fail == Some(i) {
                return Err(Error::invalid(format!("bad {}:{i}", self.p)));
            }
            assert_ne!(self.boom, Some(i), "boom");
            let base = self.p * 1000 + i * 3;
            let values = Int64Array::from(vec![base, base + 1, base + 2]);
            Ok(Some(
                RecordBatch::try_new(schema(), vec![Arc::new(values)]).unwrap(),
            ))
        }
    }

    struct Source {
        parts: i64,
        fail: Option<(i64, i64)>,
        boom: Option<(i64, i64)>,
        opened: Arc<Mutex<i64>>,
    }

    impl Parts for Source {
        fn schema(&self) -> SchemaRef {
            schema()
        }

        fn next_part(&mut self) -> Result<Option<Box<dyn Part>>> {
            let mut opened = self.opened.lock().unwrap();
            if *opened == self.parts {
                return Ok(None);
            }
            let p = *opened;
            *opened += 1;
            let pick = |x: Option<(i64, i64)>| x.filter(|(q, _)| *q == p).map(|(_, i)| i);
            Ok(Some(Box::new(Counting {
                p,
                next: 0,
                batches: 1 + p % 3,
                fail: pick(self.fail),
                boom: pick(self.boom),
            })))
        }
    }

    fn expected(parts: i64) -> Vec<i64> {
        (0..parts)
            .flat_map(|p| (0..(1 + p % 3) * 3).map(move |i| p * 1000 + i))
            .collect()
    }

    fn run(
        workers: usize,
        fail: Option<(i64, i64)>,
        boom: Option<(i64, i64)>,
    ) -> (Vec<i64>, Option<Error>) {
        let source = Source {
            parts: 6,
            fail,
            boom,
            opened: Arc::default(),
        };
        let mut r = PartReader::with_workers(Box::new(source), unchanged(), workers, "test");
        let mut values = Vec::new();
        loop {
            match r.next_output().unwrap() {
                None => return (values, None),
                Some(out) => {
                    if let Some(e) = out.error {
                        return (values, Some(e));
                    }
                    for b in out.batches {
                        let a = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
                        values.extend(a.values().iter().copied());
                    }
                }
            }
        }
    }

    #[test]
    fn outputs_come_in_input_order_whatever_the_workers() {
        for workers in [0, 1, 2, 4] {
            let (values, err) = run(workers, None, None);
            assert!(err.is_none());
            assert_eq!(values, expected(6), "{workers} workers");
        }
    }

    #[test]
    fn an_error_comes_after_every_batch_before_it() {
        for workers in [1, 3] {
            let (values, err) = run(workers, Some((4, 1)), None);
            assert_eq!(err.unwrap().to_string(), "bad 4:1");
            let before: Vec<i64> = expected(6).into_iter().take_while(|v| *v < 4003).collect();
            assert_eq!(values, before);
        }
    }

    #[test]
    fn a_panicking_reader_is_a_decode_error() {
        for workers in [1, 2] {
            let (values, err) = run(workers, None, Some((2, 0)));
            let err = err.unwrap();
            assert!(matches!(err.kind(), ErrorKind::Decode { .. }), "{err}");
            assert!(err.to_string().contains("boom"), "{err}");
            assert_eq!(values, expected(2));
        }
    }
}
