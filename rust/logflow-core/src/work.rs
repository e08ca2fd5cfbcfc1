//! The conversion's shared job queue. Its worker threads run the jobs that keep the output
//! moving first (encoding the columns of the next batch in file order) and decode chunks
//! second, and a thread waiting for its own jobs runs them too (the conversion's writing
//! thread runs any job while it waits for the next chunk in order). So every core stays busy
//! whichever of decoding and encoding is the slower part of a file, and no thread is started
//! per batch.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// A unit of work; it reports its result itself (through a channel it owns).
pub type Job = Box<dyn FnOnce() + Send + 'static>;

#[derive(Default)]
struct Queues {
    /// Jobs someone is waiting for (column encoding): taken first.
    urgent: VecDeque<Job>,
    /// Everything else (decoding a chunk ahead of the writer).
    normal: VecDeque<Job>,
    /// Jobs that mostly wait for the disk (writing finished data back), for
    /// [`Pool::io_work`] only: they would otherwise hold a compute thread.
    io: VecDeque<Job>,
    closed: bool,
}

impl Queues {
    /// The next compute job: urgent first.
    fn compute(&mut self) -> Option<Job> {
        self.urgent.pop_front().or_else(|| self.normal.pop_front())
    }
}

/// A job queue served by [`Pool::work`] on as many threads as the caller starts (and its
/// I/O jobs by [`Pool::io_work`]).
#[derive(Default)]
pub struct Pool {
    queues: Mutex<Queues>,
    ready: Condvar,
    io_ready: Condvar,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let q = self.lock();
        f.debug_struct("Pool")
            .field("urgent", &q.urgent.len())
            .field("normal", &q.normal.len())
            .field("io", &q.io.len())
            .field("closed", &q.closed)
            .finish()
    }
}

/// Runs a job; a panic inside it is contained here, so the thread lives on and the job's
/// result channel, dropped with it, tells its waiter the job is gone.
fn run(job: Job) {
    let _ = catch_unwind(AssertUnwindSafe(job));
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, Queues> {
        // Jobs never run under the lock, so a poisoned lock still holds consistent queues.
        self.queues.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a job behind the others.
    pub fn submit(&self, job: Job) {
        self.lock().normal.push_back(job);
        self.ready.notify_one();
    }

    /// Queues jobs ahead of every [`Pool::submit`]ted one, in the order given.
    pub fn submit_urgent(&self, jobs: impl IntoIterator<Item = Job>) {
        self.lock().urgent.extend(jobs);
        self.ready.notify_all();
    }

    /// Runs jobs until [`Pool::close`]; the loop of a worker thread.
    pub fn work(&self) {
        while let Some(job) = self.wait_for(Queues::compute, &self.ready) {
            run(job);
        }
    }

    /// The next job `take` finds, waiting on `ready` for one; `None` once the pool is closed.
    fn wait_for(&self, take: fn(&mut Queues) -> Option<Job>, ready: &Condvar) -> Option<Job> {
        let mut q = self.lock();
        loop {
            if let Some(job) = take(&mut q) {
                return Some(job);
            }
            if q.closed {
                return None;
            }
            q = ready.wait(q).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Runs one job that `take` finds on this thread; false when there is none.
    fn run_one(&self, take: fn(&mut Queues) -> Option<Job>) -> bool {
        let job = take(&mut self.lock());
        job.map(run).is_some()
    }

    /// Queues a job for the I/O thread.
    pub fn submit_io(&self, job: Job) {
        self.lock().io.push_back(job);
        self.io_ready.notify_one();
    }

    /// Runs I/O jobs until [`Pool::close`]; the loop of the I/O thread.
    pub fn io_work(&self) {
        while let Some(job) = self.wait_for(|q| q.io.pop_front(), &self.io_ready) {
            run(job);
        }
    }

    /// Runs one urgent job on this thread; false when there is none.
    pub fn help(&self) -> bool {
        self.run_one(|q| q.urgent.pop_front())
    }

    /// Runs one job of any kind on this thread, urgent first; false when there is none.
    pub fn help_any(&self) -> bool {
        self.run_one(Queues::compute)
    }

    /// Stops the workers once they finish the job in hand; queued jobs are dropped.
    pub fn close(&self) {
        let dropped = {
            let mut q = self.lock();
            q.closed = true;
            (
                std::mem::take(&mut q.urgent),
                std::mem::take(&mut q.normal),
                std::mem::take(&mut q.io),
            )
        };
        // Dropped outside the lock: a job's captures may take time to free.
        drop(dropped);
        self.ready.notify_all();
        self.io_ready.notify_all();
    }

    /// Starts `workers` compute threads (and the I/O thread, if `io`) in scope `s`, and
    /// gives the guard that closes the pool when dropped: the scope's body holds it, so
    /// the threads are told to end before the scope waits for them, also when the body
    /// returns early or unwinds (else the scope would wait forever). A thread the system
    /// cannot start is an error, after those started are told to end.
    pub fn staff<'scope, 'env>(
        &'env self,
        s: &'scope std::thread::Scope<'scope, 'env>,
        workers: usize,
        io: bool,
    ) -> crate::error::Result<Staffed<'env>> {
        let staffed = Staffed(self);
        for _ in 0..workers {
            spawn_scoped(s, || self.work())?;
        }
        if io {
            spawn_scoped(s, || self.io_work())?;
        }
        Ok(staffed)
    }

    /// Runs every task on the pool's workers and on this thread, and returns the results in
    /// the order of `tasks`. `None` if a task panicked.
    pub fn run_all<T, F>(&self, tasks: Vec<F>) -> Option<Vec<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let n = tasks.len();
        let (tx, rx) = mpsc::channel::<(usize, T)>();
        self.submit_urgent(tasks.into_iter().enumerate().map(|(i, task)| {
            let tx = tx.clone();
            Box::new(move || {
                let _ = tx.send((i, task()));
            }) as Job
        }));
        drop(tx);
        let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
        let mut got = 0;
        while got < n {
            let next = match rx.try_recv() {
                Ok(r) => r,
                Err(mpsc::TryRecvError::Disconnected) => return None,
                Err(mpsc::TryRecvError::Empty) => {
                    // Our jobs may sit behind others' in the queue; any urgent job run here
                    // brings ours closer. Block only when every job is taken.
                    if self.help() {
                        continue;
                    }
                    match rx.recv() {
                        Ok(r) => r,
                        Err(_) => return None,
                    }
                }
            };
            if let Some(slot) = out.get_mut(next.0) {
                *slot = Some(next.1);
                got += 1;
            }
        }
        out.into_iter().collect()
    }
}

/// Closes its pool when dropped; see [`Pool::staff`].
#[must_use = "the pool closes when this is dropped"]
pub struct Staffed<'a>(&'a Pool);

impl Drop for Staffed<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Starts `f` on a thread of scope `s`; a thread the system cannot start is an error
/// rather than a panic.
pub fn spawn_scoped<'scope, 'env, T: Send + 'scope>(
    s: &'scope std::thread::Scope<'scope, 'env>,
    f: impl FnOnce() -> T + Send + 'scope,
) -> crate::error::Result<std::thread::ScopedJoinHandle<'scope, T>> {
    std::thread::Builder::new()
        .spawn_scoped(s, f)
        .map_err(crate::error::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn results_come_back_in_task_order_with_or_without_workers() {
        for workers in [0, 1, 3] {
            let pool = Pool::default();
            std::thread::scope(|s| {
                for _ in 0..workers {
                    s.spawn(|| pool.work());
                }
                let tasks: Vec<_> = (0..50u64)
                    .map(|i| {
                        move || {
                            std::thread::sleep(std::time::Duration::from_micros((i * 7) % 13));
                            i * i
                        }
                    })
                    .collect();
                let out = pool.run_all(tasks);
                pool.close();
                assert_eq!(out, Some((0..50u64).map(|i| i * i).collect()));
            });
        }
    }

    #[test]
    fn urgent_jobs_go_first_and_close_drops_the_rest() {
        let pool = Pool::default();
        let order = Arc::new(Mutex::new(Vec::new()));
        for i in 0..3 {
            let order = Arc::clone(&order);
            pool.submit(Box::new(move || order.lock().unwrap().push(i)));
        }
        let o = Arc::clone(&order);
        pool.submit_urgent([Box::new(move || o.lock().unwrap().push(99)) as Job]);
        assert!(pool.help());
        assert!(!pool.help(), "normal jobs are not run by helpers");
        assert_eq!(*order.lock().unwrap(), vec![99]);
        pool.close();
        pool.work(); // returns at once: closed, and the queued jobs were dropped
        assert_eq!(*order.lock().unwrap(), vec![99]);
    }

    #[test]
    fn a_panicking_task_is_reported_and_the_worker_survives() {
        let pool = Pool::default();
        let ran = AtomicUsize::new(0);
        std::thread::scope(|s| {
            s.spawn(|| pool.work());
            let tasks: Vec<Box<dyn FnOnce() -> u8 + Send>> =
                vec![Box::new(|| 1), Box::new(|| panic!("boom")), Box::new(|| 3)];
            assert_eq!(pool.run_all(tasks), None);
            let after = pool.run_all(vec![|| 7u8]);
            assert_eq!(after, Some(vec![7]));
            ran.fetch_add(1, Ordering::Relaxed);
            pool.close();
        });
        assert_eq!(ran.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn help_any_runs_urgent_then_normal_jobs_here() {
        let pool = Pool::default();
        let (tx, rx) = mpsc::channel();
        for (name, urgent) in [("normal", false), ("urgent", true)] {
            let tx = tx.clone();
            let job: Job = Box::new(move || tx.send(name).unwrap());
            if urgent {
                pool.submit_urgent([job]);
            } else {
                pool.submit(job);
            }
        }
        assert!(pool.help_any() && pool.help_any());
        assert!(!pool.help_any());
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), ["urgent", "normal"]);
    }

    #[test]
    fn a_scope_whose_body_fails_or_panics_still_ends_its_workers() {
        let pool = Pool::default();
        let failed: crate::error::Result<()> = std::thread::scope(|s| {
            let _staffed = pool.staff(s, 2, true)?;
            Err(crate::error::Error::invalid("stop"))
        });
        assert!(failed.is_err());
        let pool = Pool::default();
        let unwound = catch_unwind(AssertUnwindSafe(|| {
            std::thread::scope(|s| {
                let _staffed = pool.staff(s, 2, true);
                panic!("the body panics");
            })
        }));
        assert!(unwound.is_err());
    }

    #[test]
    fn io_jobs_run_on_the_io_thread_only() {
        let pool = Pool::default();
        let (tx, rx) = mpsc::channel();
        pool.submit_io(Box::new(move || {
            let _ = tx.send(std::thread::current().id());
        }));
        assert!(!pool.help(), "helpers do not take I/O jobs");
        std::thread::scope(|s| {
            let io = s.spawn(|| {
                pool.io_work();
                std::thread::current().id()
            });
            let ran_on = rx.recv().unwrap();
            pool.close();
            assert_eq!(io.join().unwrap(), ran_on);
        });
    }
}
