//! Streaming record batches from any format's [`Start`]: chunks are cut, decoded and put
//! back in order on the consumer's pull, or with [`BatchReader::with_threads`] decoded ahead
//! on background threads.

use std::collections::VecDeque;
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, SchemaRef};

use super::prefetch::Prefetch;
use super::{Chunk, Chunker, Decoder, Sequencer, Start};
use crate::error::{Error, Result};

/// What a [`BatchReader`] has read so far, shared so that whoever holds the reader's
/// consumer can still see it. `rows_read == rows returned + rows_rejected + rows_skipped`
/// once the reader is exhausted.
#[derive(Debug, Default)]
pub struct ReadCounts {
    /// Data records read.
    pub rows_read: AtomicU64,
    /// Bad records dropped (permissive policy).
    pub rows_rejected: AtomicU64,
    /// Records dropped on purpose (a header repeated mid-file).
    pub rows_skipped: AtomicU64,
}

/// Streams record batches decoded by `D` from the bytes of `R`: on the calling thread, or
/// with [`BatchReader::with_threads`] decoded ahead on background threads.
///
/// Under the permissive and quarantine policies bad records are dropped here (counted in
/// [`BatchReader::rows_rejected`]); use the pipeline to keep them.
pub struct BatchReader<R, D> {
    /// `None` once handed to the background reader.
    chunker: Option<Chunker<R>>,
    decoder: Arc<D>,
    schema: SchemaRef,
    first: Option<Chunk>,
    sequencer: Sequencer,
    chunks: u64,
    ready: VecDeque<RecordBatch>,
    rows_rejected: u64,
    counts: Arc<ReadCounts>,
    path: Option<PathBuf>,
    failed: bool,
    /// An error to raise after the batches before it.
    pending: Option<Error>,
    /// Chunks decoded ahead on other threads (which then own the chunker).
    prefetch: Option<Prefetch>,
}

impl<R: Read, D: Decoder> BatchReader<R, D> {
    /// A reader that goes on from where a format's start step left off.
    pub fn new(start: Start<R, D>) -> Self {
        let schema = start.decoder.schema();
        BatchReader {
            chunker: Some(start.chunker),
            decoder: Arc::new(start.decoder),
            schema,
            first: Some(start.first),
            sequencer: Sequencer::new(),
            chunks: 0,
            ready: VecDeque::new(),
            rows_rejected: 0,
            counts: Arc::new(ReadCounts::default()),
            path: None,
            failed: false,
            pending: None,
            prefetch: None,
        }
    }

    /// Names `path` in the errors of later batches.
    #[must_use]
    pub fn with_path(mut self, path: &std::path::Path) -> Self {
        self.path = Some(path.to_path_buf());
        self
    }

    /// The schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The decoder.
    pub fn decoder(&self) -> &D {
        &self.decoder
    }

    /// Records read so far.
    pub fn rows_read(&self) -> u64 {
        self.sequencer.records()
    }

    /// Bad records dropped so far (permissive and quarantine policies).
    pub fn rows_rejected(&self) -> u64 {
        self.rows_rejected
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
            if let Some(e) = self.pending.take() {
                self.failed = true;
                return Err(e);
            }
            if self.failed {
                return Ok(None);
            }
            let out = match &self.prefetch {
                Some(p) => match p.recv() {
                    Some(out) => out,
                    None => return self.prefetch_ended(),
                },
                None => {
                    let mut chunk = match self.first.take() {
                        Some(c) => c,
                        None => match self.chunker.as_mut() {
                            Some(chunker) => match chunker.next_chunk()? {
                                Some(c) => c,
                                None => return Ok(None),
                            },
                            None => return Ok(None),
                        },
                    };
                    // Sequence numbers are given here: the start step may have merged chunks.
                    chunk.index = self.chunks;
                    self.chunks += 1;
                    super::decode(self.decoder.as_ref(), chunk)
                }
            };
            let ready = self.sequencer.push(out, self.decoder.as_ref());
            self.counts
                .rows_read
                .store(self.sequencer.records(), Ordering::Relaxed);
            for mut out in ready {
                if let Some(p) = &self.prefetch {
                    p.release();
                }
                if let Some(e) = out.error.take() {
                    // Raised once the batches of earlier chunks are out; nothing more is
                    // wanted from the background threads.
                    self.pending = Some(e);
                    self.prefetch = None;
                    break;
                }
                self.rows_rejected += out.rejects.len() as u64;
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

    /// Every decoded chunk has come back: the end of the input, or the error that ended it.
    fn prefetch_ended(&mut self) -> Result<Option<RecordBatch>> {
        self.failed = true;
        let error = self.prefetch.take().and_then(|p| p.take_error());
        if let Some(e) = error {
            return Err(e);
        }
        self.sequencer.drained()?;
        Ok(None)
    }
}

impl<R: Read + Send + 'static, D: Decoder> BatchReader<R, D> {
    /// Decodes ahead of the consumer on `threads` background threads (plus one reading the
    /// input), keeping at most `2 * threads + 2` chunks in memory; `threads <= 1`, or an
    /// input read whole already, keeps everything on the calling thread. Batches, counts
    /// and errors are the same either way.
    #[must_use]
    pub fn with_threads(mut self, threads: usize) -> Self {
        if threads <= 1 || self.prefetch.is_some() {
            return self;
        }
        if self.first.as_ref().is_none_or(|f| f.last) {
            return self;
        }
        let (Some(mut first), Some(chunker)) = (self.first.take(), self.chunker.take()) else {
            return self;
        };
        first.index = self.chunks;
        self.prefetch = Some(Prefetch::start(
            first,
            chunker,
            &self.decoder,
            threads,
            crate::pipeline::in_flight(threads),
        ));
        self
    }
}

impl<R: Read, D: Decoder> Iterator for BatchReader<R, D> {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        let res = self.next_batch();
        let res = match (&self.path, res) {
            (Some(p), Err(e)) => Err(e.with_path(p)),
            (_, r) => r,
        };
        res.transpose()
    }
}

impl<R: Read, D: Decoder> BatchReader<R, D> {
    /// This reader as an Arrow [`RecordBatchReader`](arrow_array::RecordBatchReader), whose
    /// errors carry the core error inside `ArrowError::ExternalError`.
    pub fn into_arrow(self) -> ArrowBatches<R, D> {
        ArrowBatches(self)
    }
}

/// A [`BatchReader`] seen through Arrow's reader trait.
pub struct ArrowBatches<R, D>(BatchReader<R, D>);

impl<R: Read, D: Decoder> Iterator for ArrowBatches<R, D> {
    type Item = std::result::Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|r| r.map_err(ArrowError::from))
    }
}

impl<R: Read, D: Decoder> arrow_array::RecordBatchReader for ArrowBatches<R, D> {
    fn schema(&self) -> SchemaRef {
        self.0.schema()
    }
}
