//! Decoding ahead of a streaming consumer: a reader thread cuts chunks and worker threads
//! decode them while the consumer works on earlier batches. At most a fixed number of chunks
//! exist at once, so memory stays bounded however slow the consumer is.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};

use super::chunk::{Chunk, Chunker};
use super::{ChunkOutput, Decoder};
use crate::error::{Error, Result};
use crate::work::{Job, Pool};

/// Chunks decoded ahead of the consumer on background threads.
pub(crate) struct Prefetch {
    done: Receiver<ChunkOutput>,
    /// One token per chunk that may be started; the consumer hands one back for each chunk
    /// it has taken in order.
    tokens: SyncSender<()>,
    pool: Arc<Pool>,
    /// The reader's error, if reading stopped on one.
    error: Arc<Mutex<Option<Error>>>,
    /// Set when the consumer is gone: the reader reads no further chunk.
    stop: Arc<AtomicBool>,
}

impl Prefetch {
    /// Starts `workers` decode threads and a reader thread that numbers chunks from
    /// `first.index` on, with at most `in_flight` chunks in existence at once.
    pub(crate) fn start<R: Read + Send + 'static, D: Decoder>(
        first: Chunk,
        mut chunker: Chunker<R>,
        decoder: &Arc<D>,
        workers: usize,
        in_flight: usize,
    ) -> Self {
        let pool = Arc::new(Pool::default());
        let (token_tx, token_rx, done_tx, done_rx) = channels(in_flight);
        let next = first.index + 1;
        pool.submit(decode_job(decoder, first, done_tx.clone()));
        let error = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        for _ in 0..workers.max(1) {
            let pool = Arc::clone(&pool);
            std::thread::spawn(move || pool.work());
        }
        {
            let pool = Arc::clone(&pool);
            let decoder = Arc::clone(decoder);
            let error = Arc::clone(&error);
            let stop = Arc::clone(&stop);
            // Its copy of `done_tx` goes with it, so the consumer sees the end once the last
            // chunk is decoded.
            std::thread::spawn(move || {
                let go_on = || Ok(!stop.load(Ordering::Acquire));
                let fed = feed(
                    &mut chunker,
                    next,
                    &token_rx,
                    &pool,
                    &decoder,
                    &done_tx,
                    go_on,
                );
                if let Err(e) = fed {
                    *error.lock().unwrap_or_else(PoisonError::into_inner) = Some(e);
                }
            });
        }
        Prefetch {
            done: done_rx,
            tokens: token_tx,
            pool,
            error,
            stop,
        }
    }

    /// The next decoded chunk in completion order; `None` once every chunk is decoded.
    pub(crate) fn recv(&self) -> Option<ChunkOutput> {
        self.done.recv().ok()
    }

    /// Lets one more chunk start, for one the consumer has taken in order.
    pub(crate) fn release(&self) {
        let _ = self.tokens.send(());
    }

    /// The error that stopped reading, if any.
    pub(crate) fn take_error(&self) -> Option<Error> {
        self.error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl Drop for Prefetch {
    /// Stops the workers after the job in hand and drops queued chunks; the reader stops
    /// before its next chunk. No thread is waited for: one may be blocked
    /// reading a slow input, and each ends by itself.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.pool.close();
    }
}

/// The channels that bound the chunks in flight to `limit` (at least 2): tokens, one per
/// chunk that may still be started (`limit - 1` are in the sender already: the first chunk
/// holds one), and the decoded outputs.
pub(crate) fn channels(
    limit: usize,
) -> (
    SyncSender<()>,
    Receiver<()>,
    SyncSender<ChunkOutput>,
    Receiver<ChunkOutput>,
) {
    let limit = limit.max(2);
    let (token_tx, token_rx) = sync_channel::<()>(limit);
    for _ in 1..limit {
        let _ = token_tx.send(());
    }
    let (done_tx, done_rx) = sync_channel::<ChunkOutput>(limit);
    (token_tx, token_rx, done_tx, done_rx)
}

/// A pool job that decodes `chunk` and sends its output to `done`.
pub(crate) fn decode_job<D: Decoder>(
    decoder: &Arc<D>,
    chunk: Chunk,
    done: SyncSender<ChunkOutput>,
) -> Job {
    let decoder = Arc::clone(decoder);
    Box::new(move || {
        let _ = done.send(super::decode(decoder.as_ref(), chunk));
    })
}

/// The reader's loop: for each token, cuts the next chunk, numbers it (from `next` on) and
/// queues its decoding on `pool`. Ends at the end of the input, when the tokens stop (their
/// sender is gone), when `go_on` says no, or on its or the input's error.
pub(crate) fn feed<R: Read, D: Decoder>(
    chunker: &mut Chunker<R>,
    mut next: u64,
    tokens: &Receiver<()>,
    pool: &Pool,
    decoder: &Arc<D>,
    done: &SyncSender<ChunkOutput>,
    mut go_on: impl FnMut() -> Result<bool>,
) -> Result<()> {
    loop {
        if tokens.recv().is_err() || !go_on()? {
            return Ok(());
        }
        let Some(mut chunk) = chunker.next_chunk()? else {
            return Ok(());
        };
        chunk.index = next;
        next += 1;
        pool.submit(decode_job(decoder, chunk, done.clone()));
    }
}
