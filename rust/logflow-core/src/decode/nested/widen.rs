//! A plan that widens as chunks need, decoded the same on any number of threads.
//!
//! JSON, XML and XES decoders start from a plan inferred from the first chunk; a later
//! record the plan cannot read widens it (new fields, wider types) and its chunk is decoded
//! again with the wider plan. Workers decode ahead of each other, so a chunk may be decoded
//! with a plan other than the one it would meet reading on one thread: older (a chunk before
//! it widened the plan after it started) or newer (a chunk after it widened first). Either
//! gives other batches than one thread does.
//!
//! [`Widening`] keeps both sides: the *shared* plan workers start from (the widest seen so
//! far, right nearly always), and the *ordered* plan, that of one thread, advanced as the
//! sequencer releases outputs in input order ([`Widening::in_order`]). An output decoded from
//! another plan than the ordered one is decoded again from it, on the sequencing thread;
//! that happens only for the few chunks in flight around a widening.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use crate::stream::{Chunk, ChunkOutput};

/// What decoding a chunk with one plan gave.
pub(crate) enum Attempt {
    /// The chunk's output.
    Done(Box<ChunkOutput>),
    /// A record the plan cannot read, under a policy that widens it.
    Widen,
}

/// A decoder whose plan widens: how it decodes a chunk with a plan, and how plans grow.
pub(crate) trait Widens {
    /// The plan.
    type Plan: Send + Sync;

    /// Decodes `chunk` with `plan`; asks for a wider plan only when `widen`.
    fn attempt(&self, chunk: &Chunk, plan: &Self::Plan, widen: bool) -> Attempt;

    /// `plan` widened by everything `chunk` holds; `None` when nothing wider reads it (the
    /// records that do not fit are then bad records).
    fn widened(&self, chunk: &Chunk, plan: &Self::Plan) -> Option<Self::Plan>;

    /// The plan reading everything `a` and `b` read.
    fn join(&self, a: &Self::Plan, b: &Self::Plan) -> Option<Self::Plan>;

    /// Whether `a` and `b` read every record alike.
    fn same(&self, a: &Self::Plan, b: &Self::Plan) -> bool;
}

/// By chunk index: the plan a worker started from and the one it ended with.
type Used<P> = HashMap<u64, (Arc<P>, Arc<P>)>;

/// The plans of one decode; see the module docs.
#[derive(Debug)]
pub(crate) struct Widening<P> {
    /// Whether the plan may widen at all (not under the strict policy or a fixed schema).
    can_widen: bool,
    /// The widest plan seen: where workers start.
    shared: RwLock<Arc<P>>,
    /// The plan of one thread at the next output in input order.
    ordered: Mutex<Arc<P>>,
    /// Each chunk's plans, until its output is released in order.
    used: Mutex<Used<P>>,
}

impl<P: Send + Sync> Widening<P> {
    /// Starts from `plan`; it widens only if `can_widen`.
    pub(crate) fn new(plan: P, can_widen: bool) -> Self {
        let plan = Arc::new(plan);
        Widening {
            can_widen,
            shared: RwLock::new(Arc::clone(&plan)),
            ordered: Mutex::new(plan),
            used: Mutex::new(HashMap::new()),
        }
    }

    /// The widest plan so far.
    pub(crate) fn current(&self) -> Arc<P> {
        Arc::clone(&self.shared.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Decodes `chunk` from the widest plan so far (on a worker).
    pub(crate) fn process<D: Widens<Plan = P>>(&self, d: &D, chunk: Chunk) -> ChunkOutput {
        let start = self.current();
        let index = chunk.index;
        let (out, end) = self.decode_from(d, chunk, Arc::clone(&start));
        if self.can_widen {
            self.used
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(index, (start, end));
        }
        out
    }

    /// Called with each output in input order: if it was decoded from another plan than
    /// one thread would have used, decodes its chunk again from that plan (in place) and
    /// says so.
    pub(crate) fn in_order<D: Widens<Plan = P>>(&self, d: &D, out: &mut ChunkOutput) -> bool {
        if !self.can_widen {
            return false;
        }
        let used = self
            .used
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&out.index);
        let Some((start, end)) = used else {
            return false;
        };
        let mut ordered = self.ordered.lock().unwrap_or_else(PoisonError::into_inner);
        if Arc::ptr_eq(&start, &ordered) || d.same(&start, &ordered) {
            *ordered = end;
            return false;
        }
        let chunk = std::mem::take(&mut out.chunk);
        let (again, end) = self.decode_from(d, chunk, Arc::clone(&ordered));
        *ordered = end;
        *out = again;
        true
    }

    /// Decodes `chunk` from `plan`, widening it as the chunk needs; gives the output (with
    /// its chunk handed back) and the plan it was decoded with.
    fn decode_from<D: Widens<Plan = P>>(
        &self,
        d: &D,
        chunk: Chunk,
        mut plan: Arc<P>,
    ) -> (ChunkOutput, Arc<P>) {
        let mut widen = self.can_widen;
        loop {
            match d.attempt(&chunk, &plan, widen) {
                Attempt::Done(out) => {
                    let mut out = *out;
                    out.chunk = chunk;
                    return (out, plan);
                }
                Attempt::Widen => match d.widened(&chunk, &plan) {
                    Some(wider) => {
                        let wider = Arc::new(wider);
                        self.publish(d, &plan, &wider);
                        plan = wider;
                    }
                    None => widen = false,
                },
            }
        }
    }

    /// Widens the shared plan by `wider` (grown from `from`). When nobody widened it since
    /// `from`, `wider` itself becomes the shared plan, so one thread never sees the shared
    /// and ordered plans part.
    fn publish<D: Widens<Plan = P>>(&self, d: &D, from: &Arc<P>, wider: &Arc<P>) {
        let mut shared = self.shared.write().unwrap_or_else(PoisonError::into_inner);
        if Arc::ptr_eq(&shared, from) {
            *shared = Arc::clone(wider);
        } else if let Some(joined) = d.join(&shared, wider) {
            *shared = Arc::new(joined);
        }
    }
}
