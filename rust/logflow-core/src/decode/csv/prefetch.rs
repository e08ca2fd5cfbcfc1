//! Decoding ahead of a streaming consumer: a reader thread cuts chunks and worker threads
//! decode them while the consumer works on earlier batches. At most a fixed number of chunks
//! exist at once, so memory stays bounded however slow the consumer is.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};

use super::chunk::{Chunk, Chunker};
use super::decode::{ChunkDecoder, ChunkOutput};
use crate::error::Error;
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
    pub(crate) fn start<R: Read + Send + 'static>(
        first: Chunk,
        mut chunker: Chunker<R>,
        decoder: &Arc<ChunkDecoder>,
        workers: usize,
        in_flight: usize,
    ) -> Self {
        let in_flight = in_flight.max(2);
        let pool = Arc::new(Pool::default());
        let (token_tx, token_rx) = sync_channel::<()>(in_flight);
        // One token is the first chunk's.
        for _ in 1..in_flight {
            let _ = token_tx.send(());
        }
        let (done_tx, done_rx) = sync_channel::<ChunkOutput>(in_flight);
        let decode = {
            let decoder = Arc::clone(decoder);
            move |chunk: Chunk, done: SyncSender<ChunkOutput>| -> Job {
                let decoder = Arc::clone(&decoder);
                Box::new(move || {
                    let _ = done.send(decoder.process(chunk));
                })
            }
        };
        let mut index = first.index + 1;
        pool.submit(decode(first, done_tx.clone()));
        let error = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        for _ in 0..workers.max(1) {
            let pool = Arc::clone(&pool);
            std::thread::spawn(move || pool.work());
        }
        {
            let pool = Arc::clone(&pool);
            let error = Arc::clone(&error);
            let stop = Arc::clone(&stop);
            // Ends when the input does, on a read error, or when the consumer is gone (its
            // tokens stop); its copy of `done_tx` goes with it, so the consumer sees the
            // end once the last chunk is decoded.
            std::thread::spawn(move || loop {
                if token_rx.recv().is_err() || stop.load(Ordering::Acquire) {
                    return;
                }
                match chunker.next_chunk() {
                    Ok(Some(mut chunk)) => {
                        chunk.index = index;
                        index += 1;
                        pool.submit(decode(chunk, done_tx.clone()));
                    }
                    Ok(None) => return,
                    Err(e) => {
                        *error.lock().unwrap_or_else(PoisonError::into_inner) = Some(e);
                        return;
                    }
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
