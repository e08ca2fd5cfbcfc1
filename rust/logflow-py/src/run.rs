//! Running core jobs off the GIL while staying responsive to Ctrl-C.
//!
//! The job runs on a worker thread; this thread waits for it in slices of at most 100 ms with
//! the GIL released, and between slices re-attaches to run pending signal handlers
//! (`check_signals`) and report progress. A raised signal cancels the job through its
//! [`Control`], and the job's own cleanup (no partial output) runs before we return.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::Mutex;
use std::time::Duration;

use logflow_core::pipeline::Control;
use logflow_core::{Error, Result};
use pyo3::prelude::*;

use crate::error::{PyLogflowError, PyLogflowResult};

const SLICE: Duration = Duration::from_millis(100);

/// Runs `job` on a worker thread with the GIL released; see the module docs.
pub fn run_detached<T, F>(
    py: Python<'_>,
    ctl: &Control,
    progress: Option<&Bound<'_, PyAny>>,
    job: F,
) -> PyLogflowResult<T>
where
    T: Send,
    F: FnOnce(&Control) -> Result<T> + Send,
{
    run_detached_undo(py, ctl, progress, job, drop)
}

/// As [`run_detached`]; when an interrupt arrives so late that the job still succeeds, its
/// result is handed to `undo` (e.g. to remove the files it wrote) before the interrupt is
/// re-raised, so an interrupted call never leaves its effects behind.
pub fn run_detached_undo<T, F, U>(
    py: Python<'_>,
    ctl: &Control,
    progress: Option<&Bound<'_, PyAny>>,
    job: F,
    undo: U,
) -> PyLogflowResult<T>
where
    T: Send,
    F: FnOnce(&Control) -> Result<T> + Send,
    U: FnOnce(T),
{
    std::thread::scope(|s| {
        let (tx, rx) = channel();
        // `detach` needs a `Sync` closure; the receiver alone is only `Send`.
        let rx = Mutex::new(rx);
        let recv = |timeout: Option<Duration>| {
            let rx = rx.lock().map_err(|_| RecvTimeoutError::Disconnected)?;
            match timeout {
                Some(t) => rx.recv_timeout(t),
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            }
        };
        s.spawn(move || {
            let out = catch_unwind(AssertUnwindSafe(|| job(ctl))).unwrap_or_else(|_| {
                Err(Error::invalid("internal error: a logflow worker panicked"))
            });
            let _ = tx.send(out);
        });
        let report = |cb: &Bound<'_, PyAny>| {
            cb.call1((
                ctl.bytes_read.load(Ordering::Relaxed),
                ctl.bytes_total.load(Ordering::Relaxed),
                ctl.rows_read.load(Ordering::Relaxed),
            ))
            .map(drop)
        };
        loop {
            match py.detach(|| recv(Some(SLICE))) {
                Ok(out) => {
                    let done = out.map_err(PyLogflowError::from)?;
                    // A last report with the final counts, so a progress display ends at
                    // 100% even for a job shorter than one reporting interval. If it raises,
                    // the call fails like an interrupt and the job's effects are undone.
                    if let Some(Err(e)) = progress.map(report) {
                        undo(done);
                        return Err(e.into());
                    }
                    return Ok(done);
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Error::invalid("internal error: a logflow worker vanished").into())
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            let interrupted = py.check_signals().and_then(|()| match progress {
                Some(cb) => report(cb),
                None => Ok(()),
            });
            if let Err(e) = interrupted {
                ctl.cancel();
                // Wait for the job to unwind (it removes its partial output), then re-raise.
                if let Ok(Ok(done)) = py.detach(|| recv(None)) {
                    undo(done);
                }
                return Err(e.into());
            }
        }
    })
}
