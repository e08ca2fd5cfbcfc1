//! The quality stage of the pipeline: profile, row checksums and validation rules, in the
//! same pass as decoding.
//!
//! ```text
//! decode worker   Checked<D>::process  = the format's decoder, then Stage::run on its output:
//!                                        profile of the decoded rows, row rules (rows that
//!                                        break one become rejects, their bytes from the
//!                                        output's RowSources), hashes of the rows left
//! writing thread  Tally::take          = in input order: ordered rules (unique, checks),
//!                                        the chunk's profile merged, checksum_in summed;
//!                                        returns each batch's checksum for checksum_out
//! ```
//!
//! [`Checked`] wraps any [`Decoder`], so every path that decodes a chunk (the parallel and
//! sequential pipelines, a resumed record) runs the stage once on the output that is
//! finally used: an output the sequencer rebuilds from several (a CSV quote held over
//! chunks) has its stage result dropped ([`ChunkOutput::append`]) and the stage runs again
//! on the whole. Row rules give the same verdict when run again, so that is safe; ordered
//! rules keep state and so run only on the writing thread.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::{BooleanArray, RecordBatch};
use arrow_schema::SchemaRef;

use super::checksum;
use super::profile::{DenseHints, Profile, Scan};
use super::rules::{self, BatchCheck, KeySet, Rule, RuleKind};
use super::topk::DEFAULT_CAPACITY;
use crate::decode::{ErrorPolicy, Reject, RejectReason};
use crate::error::{Error, ErrorKind, Position, Result};
use crate::stream::{Chunk, ChunkOutput, Decoder, Resume, Tail};

/// What the quality stage does in a run.
#[derive(Debug, Clone)]
pub struct QualityOptions {
    /// Profile the decoded rows ([`Profile`]).
    pub profile: bool,
    /// Hash every row: `checksum_in` and `checksum_out` of the result.
    pub checksum: bool,
    /// Validation rules, in the order given (a row breaking several is counted under the
    /// first, row rules before ordered ones).
    pub rules: Vec<Rule>,
    /// Counters kept per text column for its frequent values.
    pub top_k: usize,
    /// Where a `unique` rule spills keys past its memory (default: the system's temporary
    /// directory).
    pub spill_dir: Option<PathBuf>,
}

impl Default for QualityOptions {
    fn default() -> Self {
        QualityOptions {
            profile: false,
            checksum: true,
            rules: Vec::new(),
            top_k: DEFAULT_CAPACITY,
            spill_dir: None,
        }
    }
}

impl QualityOptions {
    /// Whether the stage has anything to do.
    pub fn is_active(&self) -> bool {
        self.profile || self.checksum || !self.rules.is_empty()
    }

    /// Checks every rule against the schema the decoder starts with (`may_grow`: the schema
    /// may still gain columns, so a column it lacks is not an error yet).
    pub fn check_schema(&self, schema: &SchemaRef, may_grow: bool) -> Result<()> {
        for r in &self.rules {
            r.check_schema(schema, may_grow)?;
        }
        Ok(())
    }
}

/// What the stage found in one chunk's output.
#[derive(Debug, Default)]
pub struct ChunkQuality {
    /// The profile of the rows decoded (before rules took any out).
    pub profile: Option<Profile>,
    /// Per batch of the output, the hash of each of its rows (empty without checksums).
    pub hashes: Vec<Vec<u64>>,
}

/// The worker side of the stage: immutable, shared by the decode workers.
#[derive(Debug)]
pub struct Stage {
    profile: bool,
    checksum: bool,
    row_rules: Vec<(Rule, RejectReason)>,
    policy: ErrorPolicy,
    top_k: usize,
    hints: Arc<DenseHints>,
}

/// A broken rule: the row (counted over the output's batches), which rule, and why.
struct Violation {
    row: usize,
    rule: usize,
    detail: String,
}

impl Stage {
    /// The stage for `opts` under the error policy `policy`.
    pub fn new(opts: &QualityOptions, policy: ErrorPolicy) -> Self {
        Stage {
            profile: opts.profile,
            checksum: opts.checksum,
            row_rules: opts
                .rules
                .iter()
                .filter(|r| !r.is_ordered())
                .map(|r| (r.clone(), RejectReason::rule(&r.name)))
                .collect(),
            policy,
            top_k: opts.top_k,
            hints: Arc::default(),
        }
    }

    /// Profiles, checks and hashes `out` (see the module docs). The rejects it makes are
    /// numbered from `base`: 0 on a worker (the sequencer numbers them later), the
    /// output's first record when the writing side runs it on an output numbered already.
    pub fn run(&self, out: &mut ChunkOutput, base: u64) {
        let mut q = ChunkQuality::default();
        if out.error.is_some() || out.batches.is_empty() {
            out.quality = Some(Box::new(q));
            return;
        }
        if self.profile || self.checksum {
            let mut scan = Scan::new(self.profile, self.top_k).with_hints(Arc::clone(&self.hints));
            q.hashes = out
                .batches
                .iter()
                .enumerate()
                .map(|(i, b)| scan.batch(b, u32::try_from(i).unwrap_or(u32::MAX)))
                .collect();
            q.profile = scan.finish(&out.batches);
            if !self.checksum {
                q.hashes.clear();
            }
        }
        if !self.row_rules.is_empty() {
            match self.violations(&out.batches) {
                Ok(v) if v.is_empty() => {}
                Ok(v) => {
                    let names: Vec<(RejectReason, Option<String>)> = self
                        .row_rules
                        .iter()
                        .map(|(r, reason)| (*reason, r.column.clone()))
                        .collect();
                    if self.policy == ErrorPolicy::Strict {
                        out.error = Some(first_error(out, &mut q.hashes, &v, &names, base));
                    } else {
                        take_out(out, &mut q.hashes, &v, &names, base);
                    }
                }
                Err(e) => out.error = Some(e),
            }
        }
        out.quality = Some(Box::new(q));
    }

    /// The first row rule each row breaks, over all of `batches`.
    fn violations(&self, batches: &[RecordBatch]) -> Result<Vec<Violation>> {
        let mut out = Vec::new();
        let mut base = 0;
        for b in batches {
            let mut first: BTreeMap<usize, (usize, String)> = BTreeMap::new();
            for (k, (rule, _)) in self.row_rules.iter().enumerate() {
                for (row, detail) in rule.violations(b)? {
                    first.entry(row).or_insert((k, detail));
                }
            }
            out.extend(first.into_iter().map(|(row, (rule, detail))| Violation {
                row: base + row,
                rule,
                detail,
            }));
            base += b.num_rows();
        }
        Ok(out)
    }
}

/// Where row `row` of `out` starts (its record shifted by `base`), and its bytes: nothing
/// known without sources; with sources that keep none
/// ([`as_json`](crate::stream::RowSources::as_json)), the row as a line of JSON.
fn source_of(out: &ChunkOutput, row: usize, base: u64) -> (Position, Vec<u8>) {
    let Some((s, r)) = out
        .sources
        .as_ref()
        .and_then(|s| s.rows.get(row).map(|r| (s, r)))
    else {
        return (Position::default(), Vec::new());
    };
    let position = Position {
        byte: r.byte,
        line: r.line,
        record: r.record + base,
        path: s.path.as_deref().map(Into::into),
    };
    if !s.as_json {
        return (position, s.raw(row).to_vec());
    }
    let mut left = row;
    for b in &out.batches {
        if left < b.num_rows() {
            return (position, crate::native::row_json(b, left));
        }
        left -= b.num_rows();
    }
    (position, Vec::new())
}

/// The error for the first violation, with the rows before it kept in `out` (an earlier
/// row may still break an ordered rule, which then is the first error).
fn first_error(
    out: &mut ChunkOutput,
    hashes: &mut Vec<Vec<u64>>,
    violations: &[Violation],
    names: &[(RejectReason, Option<String>)],
    base: u64,
) -> Error {
    let Some(v) = violations.iter().min_by_key(|v| v.row) else {
        return Error::invalid("internal error: no violation to report");
    };
    let (position, _) = source_of(out, v.row, base);
    let (reason, column) = names
        .get(v.rule)
        .cloned()
        .unwrap_or((RejectReason::rule("?"), None));
    let err = Error::new(ErrorKind::RuleViolation {
        rule: reason.as_str().to_string(),
        position,
        column,
        reason: v.detail.clone(),
    });
    // Keep the rows before it.
    let mut left = v.row;
    let mut kept = Vec::new();
    let mut kept_hashes = Vec::new();
    for (i, b) in out.batches.drain(..).enumerate() {
        if left == 0 {
            break;
        }
        let n = b.num_rows().min(left);
        left -= n;
        kept.push(b.slice(0, n));
        if let Some(h) = hashes.get(i) {
            kept_hashes.push(h.get(..n).unwrap_or_default().to_vec());
        }
    }
    out.batches = kept;
    *hashes = kept_hashes;
    err
}

/// Takes the rows of `violations` out of `out`'s batches (and their hashes and sources),
/// making each a reject under its rule's name. Record numbers are shifted by `base`.
fn take_out(
    out: &mut ChunkOutput,
    hashes: &mut Vec<Vec<u64>>,
    violations: &[Violation],
    names: &[(RejectReason, Option<String>)],
    base: u64,
) {
    let total: usize = out.batches.iter().map(RecordBatch::num_rows).sum();
    let mut keep = vec![true; total];
    for v in violations {
        if let Some(k) = keep.get_mut(v.row) {
            *k = false;
        }
        let (position, raw) = source_of(out, v.row, base);
        let (reason, column) = names
            .get(v.rule)
            .cloned()
            .unwrap_or((RejectReason::rule("?"), None));
        out.rejects.push(Reject {
            position,
            column,
            reason,
            detail: v.detail.clone(),
            raw,
        });
    }
    out.rejects.sort_by_key(|r| r.position.byte);
    let mut at = 0;
    let mut batches = Vec::with_capacity(out.batches.len());
    let mut new_hashes = Vec::with_capacity(hashes.len());
    for (i, b) in out.batches.drain(..).enumerate() {
        let n = b.num_rows();
        let mask = keep.get(at..at + n).unwrap_or_default();
        at += n;
        let h = hashes.get(i);
        if mask.iter().all(|k| *k) {
            batches.push(b);
            if let Some(h) = h {
                new_hashes.push(h.clone());
            }
            continue;
        }
        if let Ok(f) =
            arrow_select::filter::filter_record_batch(&b, &BooleanArray::from(mask.to_vec()))
        {
            if f.num_rows() > 0 {
                batches.push(f);
                if let Some(h) = h {
                    new_hashes.push(
                        h.iter()
                            .zip(mask)
                            .filter(|(_, k)| **k)
                            .map(|(h, _)| *h)
                            .collect(),
                    );
                }
            }
        }
    }
    out.batches = batches;
    if !hashes.is_empty() {
        *hashes = new_hashes;
    }
    if let Some(s) = &mut out.sources {
        s.retain(&keep);
    }
}

/// A decoder whose every output has been through the quality stage.
pub struct Checked<D> {
    inner: D,
    stage: Option<Arc<Stage>>,
}

impl<D> Checked<D> {
    /// `inner` with `stage` run on its outputs (`None`: `inner` as it is).
    pub fn new(inner: D, stage: Option<Arc<Stage>>) -> Self {
        Checked { inner, stage }
    }

    /// The decoder inside.
    pub fn inner(&self) -> &D {
        &self.inner
    }
}

impl<D: Decoder> Decoder for Checked<D> {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn process(&self, chunk: Chunk) -> ChunkOutput {
        let mut out = self.inner.process(chunk);
        if let Some(stage) = &self.stage {
            stage.run(&mut out, 0);
        }
        out
    }

    fn resume(&self, tail: Tail, next: ChunkOutput) -> Resume {
        match self.inner.resume(tail, next) {
            Resume::Done(mut out) => {
                if let (None, Some(stage)) = (&out.quality, &self.stage) {
                    stage.run(&mut out, 0);
                }
                Resume::Done(out)
            }
            held => held,
        }
    }

    fn in_order(&self, out: &mut ChunkOutput) -> bool {
        let again = self.inner.in_order(out);
        if let (true, Some(stage)) = (again, &self.stage) {
            stage.run(out, 0);
        }
        again
    }
}

/// An ordered rule's state on the writing thread.
enum Ordered {
    Unique { columns: Vec<String>, keys: KeySet },
    Check(Arc<dyn BatchCheck>),
}

/// The writing thread's side of the stage: ordered rules, the merged profile and the
/// checksum of what was read.
pub struct Tally {
    stage: Arc<Stage>,
    ordered: Vec<(Ordered, RejectReason, Option<String>)>,
    policy: ErrorPolicy,
    profile: Option<Profile>,
    checksum: bool,
    checksum_in: u64,
    invalid: BTreeMap<String, u64>,
}

impl Tally {
    /// The writing side for `opts`, with `stage` run on outputs that come without its
    /// results (batches handed over as Arrow).
    pub fn new(opts: &QualityOptions, policy: ErrorPolicy, stage: Arc<Stage>) -> Self {
        let dir = opts.spill_dir.clone().unwrap_or_else(std::env::temp_dir);
        let ordered = opts
            .rules
            .iter()
            .filter_map(|r| {
                let o = match &r.kind {
                    RuleKind::Unique { columns, memory } => Ordered::Unique {
                        columns: columns.clone(),
                        keys: KeySet::new(*memory, dir.clone()),
                    },
                    RuleKind::Check(c) => Ordered::Check(Arc::clone(c)),
                    _ => return None,
                };
                Some((o, RejectReason::rule(&r.name), r.column.clone()))
            })
            .collect();
        Tally {
            stage,
            ordered,
            policy,
            profile: opts.profile.then(Profile::default),
            checksum: opts.checksum,
            checksum_in: 0,
            invalid: BTreeMap::new(),
        }
    }

    /// Takes one output, in input order, whose first record is record `base` of the input:
    /// ordered rules (under the strict policy the first row breaking one is the error),
    /// the profile, the checksum. Returns each remaining batch's checksum (empty without
    /// checksums).
    pub fn take(&mut self, out: &mut ChunkOutput, base: u64) -> Result<Vec<u64>> {
        if out.quality.is_none() && out.error.is_none() {
            // Outputs not staged on a worker (binary parts, Arrow batches) come numbered.
            self.stage.run(out, base);
        }
        let mut q = out.quality.take().map(|q| *q).unwrap_or_default();
        if !self.ordered.is_empty() && !out.batches.is_empty() {
            self.apply_ordered(out, &mut q.hashes, base)?;
        }
        if out.error.is_some() {
            return Ok(Vec::new());
        }
        for r in &out.rejects {
            if r.reason == RejectReason::CastError {
                if let Some(c) = &r.column {
                    *self.invalid.entry(c.clone()).or_insert(0) += 1;
                }
            }
        }
        if let (Some(mine), Some(theirs)) = (&mut self.profile, &q.profile) {
            mine.merge(theirs);
        }
        if !self.checksum {
            return Ok(Vec::new());
        }
        let sums: Vec<u64> = q.hashes.iter().map(|h| checksum::sum(h)).collect();
        for s in &sums {
            self.checksum_in = self.checksum_in.wrapping_add(*s);
        }
        Ok(sums)
    }

    fn apply_ordered(
        &mut self,
        out: &mut ChunkOutput,
        hashes: &mut Vec<Vec<u64>>,
        base: u64,
    ) -> Result<()> {
        let mut violations = Vec::new();
        let mut offset = 0;
        for b in &out.batches {
            let n = b.num_rows();
            let mut broken: Vec<Option<(usize, String)>> = vec![None; n];
            for (k, (o, reason, _)) in self.ordered.iter().enumerate() {
                if let Ordered::Check(c) = o {
                    let pass = c.check(b)?;
                    if pass.len() != n {
                        return Err(Error::invalid(format!(
                            "rule {}: the check returned {} flags for a batch of {n} rows",
                            reason.as_str(),
                            pass.len()
                        )));
                    }
                    for (slot, ok) in broken.iter_mut().zip(pass) {
                        if !ok && slot.is_none() {
                            *slot = Some((k, "the check returned False".to_string()));
                        }
                    }
                }
            }
            // Unique rules in order; a row one of them rejects claims no key in the others.
            let mut claimed: Vec<(usize, Vec<Option<u128>>, Vec<bool>)> = Vec::new();
            for (k, (o, _, _)) in self.ordered.iter_mut().enumerate() {
                if let Ordered::Unique { columns, keys } = o {
                    let row_keys = rules::keys(b, columns);
                    let skip: Vec<bool> = broken.iter().map(Option::is_some).collect();
                    let seen = keys.check(&row_keys, &skip)?;
                    let inserted: Vec<bool> = row_keys
                        .iter()
                        .zip(skip.iter().zip(&seen))
                        .map(|(key, (skip, seen))| key.is_some() && !skip && !seen)
                        .collect();
                    for (slot, s) in broken.iter_mut().zip(&seen) {
                        if *s && slot.is_none() {
                            *slot = Some((k, "a row before it has the same key".to_string()));
                        }
                    }
                    claimed.push((k, row_keys, inserted));
                }
            }
            for (k, row_keys, inserted) in claimed {
                if let Some((Ordered::Unique { keys, .. }, _, _)) = self.ordered.get_mut(k) {
                    let released: Vec<u128> = row_keys
                        .iter()
                        .zip(inserted.iter().zip(&broken))
                        .filter(|(_, (ins, b))| **ins && b.is_some())
                        .filter_map(|(key, _)| *key)
                        .collect();
                    keys.release(&released);
                    keys.settle()?;
                }
            }
            violations.extend(broken.into_iter().enumerate().filter_map(|(i, b)| {
                b.map(|(rule, detail)| Violation {
                    row: offset + i,
                    rule,
                    detail,
                })
            }));
            offset += n;
        }
        if violations.is_empty() {
            return Ok(());
        }
        let names: Vec<(RejectReason, Option<String>)> = self
            .ordered
            .iter()
            .map(|(_, reason, column)| (*reason, column.clone()))
            .collect();
        if self.policy == ErrorPolicy::Strict {
            return Err(first_error(out, hashes, &violations, &names, base));
        }
        take_out(out, hashes, &violations, &names, base);
        Ok(())
    }

    /// The profile (with rows a column was missing from counted as its nulls, and cast
    /// errors counted per column), and the checksum of the rows read (`None` without
    /// checksums).
    pub fn finish(self) -> (Option<Profile>, Option<u64>) {
        let profile = self.profile.map(|mut p| {
            p.settle();
            for (c, n) in &self.invalid {
                p.count_invalid(c, *n);
            }
            p
        });
        (profile, self.checksum.then_some(self.checksum_in))
    }
}
