//! The most frequent values of a column in bounded memory: Misra–Gries summaries (the
//! deterministic member of the space-saving family), mergeable after Agarwal et al.,
//! "Mergeable summaries" (2012).
//!
//! A summary keeps at most `capacity` counters. A value already counted adds one to its
//! counter; a new value gets a counter while there is room; otherwise every counter goes
//! down by one (and those at zero go). Each counter is then at most the value's true count
//! and at least that minus [`TopK::error`], the total taken away; a value more frequent
//! than `total / (capacity + 1)` always has a counter. With no more distinct values than
//! counters, every count is exact. Two summaries merge by adding their counters and, past
//! `capacity`, taking the (capacity+1)-th largest count away from all, which keeps the
//! same bounds for the union of their inputs.
//!
//! Values are identified by their 64-bit hash ([`super::checksum`]); their text is kept
//! (up to [`MAX_VALUE_BYTES`]) only for counters that survive a chunk.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Counters per summary.
pub const DEFAULT_CAPACITY: usize = 128;
/// Bytes of a value's text kept for display (cut at a character boundary).
pub const MAX_VALUE_BYTES: usize = 256;

/// A hasher for keys that are already hashes.
#[derive(Default)]
pub(crate) struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }

    fn write_u128(&mut self, v: u128) {
        self.0 = (v as u64) ^ ((v >> 64) as u64);
    }
}

/// A map keyed by hashes.
pub(crate) type HashKeyed<V> = HashMap<u64, V, BuildHasherDefault<PassThrough>>;

/// One counted value.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The value's hash.
    pub hash: u64,
    /// The value (its first [`MAX_VALUE_BYTES`] bytes).
    pub value: String,
    /// Its count: at most the true count, at least that minus [`TopK::error`].
    pub count: u64,
}

/// A mergeable summary of frequent values.
#[derive(Debug, Clone, PartialEq)]
pub struct TopK {
    capacity: usize,
    items: Vec<Item>,
    error: u64,
    total: u64,
    /// Some rows were sampled (a column of many distinct values): counts are estimates.
    sampled: bool,
}

/// `s` cut to at most [`MAX_VALUE_BYTES`] bytes at a character boundary.
pub fn shown(s: &str) -> String {
    if s.len() <= MAX_VALUE_BYTES {
        return s.to_string();
    }
    let cut = (0..=MAX_VALUE_BYTES)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0);
    s.get(..cut).unwrap_or_default().to_string()
}

impl TopK {
    /// An empty summary of `capacity` counters.
    pub fn new(capacity: usize) -> Self {
        TopK {
            capacity: capacity.max(1),
            items: Vec::new(),
            error: 0,
            total: 0,
            sampled: false,
        }
    }

    /// A summary from its parts (as [`TopK::items`], [`TopK::error`] and [`TopK::total`]
    /// report them).
    pub fn from_parts(
        capacity: usize,
        items: Vec<Item>,
        error: u64,
        total: u64,
        sampled: bool,
    ) -> Self {
        let mut t = TopK {
            capacity: capacity.max(1),
            items,
            error,
            total,
            sampled,
        };
        t.prune();
        t
    }

    /// Counters kept.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Values counted.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The most any count falls short of the true count.
    pub fn error(&self) -> u64 {
        self.error
    }

    /// The counters, largest count first (ties by value).
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// Whether every count is exact (no counter was ever taken away, no row sampled).
    pub fn exact(&self) -> bool {
        self.error == 0 && !self.sampled
    }

    /// Whether counts come from a sample of the rows (estimates).
    pub fn sampled(&self) -> bool {
        self.sampled
    }

    /// Adds `other`'s counts to this summary.
    pub fn merge(&mut self, other: &TopK) {
        let mut by_hash: HashKeyed<usize> = HashKeyed::default();
        for (i, it) in self.items.iter().enumerate() {
            by_hash.insert(it.hash, i);
        }
        for it in &other.items {
            match by_hash.get(&it.hash).and_then(|&i| self.items.get_mut(i)) {
                Some(mine) => mine.count += it.count,
                None => {
                    by_hash.insert(it.hash, self.items.len());
                    self.items.push(it.clone());
                }
            }
        }
        self.total += other.total;
        self.error += other.error;
        self.sampled |= other.sampled;
        self.capacity = self.capacity.max(other.capacity);
        self.prune();
    }

    /// Sorts, and past `capacity` takes the (capacity+1)-th largest count from every
    /// counter.
    fn prune(&mut self) {
        self.items
            .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        if self.items.len() > self.capacity {
            let cut = self.items.get(self.capacity).map_or(0, |it| it.count);
            for it in &mut self.items {
                it.count = it.count.saturating_sub(cut);
            }
            self.items.retain(|it| it.count > 0);
            self.items.truncate(self.capacity);
            self.error += cut;
        }
    }

    /// Shannon entropy of the values in bits, estimated from the counters and a distinct
    /// count: the counted values contribute `-p log2 p` each; the mass the counters do not
    /// hold (`r`, values counted away or never given a counter) is taken as spread evenly
    /// over the other `distinct - counters` values, contributing `r log2(rest / r)`. Exact
    /// when every count is exact and every value has a counter.
    pub fn entropy(&self, distinct: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        #[allow(clippy::cast_precision_loss)]
        let n = self.total as f64;
        let mut h = 0.0;
        let mut held = 0.0;
        for it in &self.items {
            #[allow(clippy::cast_precision_loss)]
            let p = it.count as f64 / n;
            if p > 0.0 {
                h -= p * p.log2();
                held += p;
            }
        }
        let r = (1.0 - held).max(0.0);
        if r > 1e-12 {
            #[allow(clippy::cast_precision_loss)]
            let rest = (distinct - self.items.len() as f64).max(1.0);
            h += r * (rest / r).log2();
        }
        h.max(0.0)
    }
}

/// A summary being built over one chunk's rows: values are referred to by position until
/// [`Builder::finish`] takes the text of the counters left.
#[derive(Debug)]
pub struct Builder {
    capacity: usize,
    counters: HashKeyed<(u64, u32, u32)>,
    error: u64,
    total: u64,
    /// Rows counted: one in `sample`, each weighing `sample` (see
    /// [`Builder::settle_sampling`]).
    sample: usize,
}

/// Rows a column of many distinct values is sampled at: one in this many.
const SAMPLE: usize = 16;

impl Builder {
    /// An empty builder of `capacity` counters.
    pub fn new(capacity: usize) -> Self {
        Builder {
            capacity: capacity.max(1),
            counters: HashKeyed::with_capacity_and_hasher(capacity + 1, Default::default()),
            error: 0,
            total: 0,
            sample: 1,
        }
    }

    /// Counts the value of hash `hash` found at `(batch, row)`.
    #[inline]
    pub fn insert(&mut self, hash: u64, batch: u32, row: u32) {
        self.insert_weighted(hash, 1, batch, row);
    }

    /// Counts `weight` occurrences of the value of hash `hash`, first found at
    /// `(batch, row)`: the weighted form of the update, which takes the smallest count (or
    /// the weight, if less) from every counter until the value fits.
    pub fn insert_weighted(&mut self, hash: u64, weight: u64, batch: u32, row: u32) {
        let weight = weight * self.sample as u64;
        self.total += weight;
        if let Some(c) = self.counters.get_mut(&hash) {
            c.0 += weight;
            return;
        }
        let mut left = weight;
        while left > 0 {
            if self.counters.len() < self.capacity {
                self.counters.insert(hash, (left, batch, row));
                return;
            }
            let least = self.counters.values().map(|c| c.0).min().unwrap_or(0);
            let cut = least.min(left).max(1);
            self.counters.retain(|_, c| {
                c.0 = c.0.saturating_sub(cut);
                c.0 > 0
            });
            self.error += cut;
            left -= cut.min(left);
        }
    }

    /// One row in how many to count (1 unless the column has many distinct values).
    pub fn sample(&self) -> usize {
        self.sample
    }

    /// From now on, counts one row in 16, each counting 16 (for a column of mostly
    /// distinct values: frequent values still stand out; their counts become estimates).
    pub fn sample_rows(&mut self) {
        self.sample = SAMPLE;
    }

    /// The summary, with each counter's text from `text(batch, row)`.
    pub fn finish(self, text: impl Fn(u32, u32) -> String) -> TopK {
        let sampled = self.sample > 1;
        let mut t = TopK {
            capacity: self.capacity,
            items: self
                .counters
                .into_iter()
                .map(|(hash, (count, b, r))| Item {
                    hash,
                    value: text(b, r),
                    count,
                })
                .collect(),
            error: self.error,
            total: self.total,
            sampled,
        };
        t.prune();
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(values: &[u64], capacity: usize) -> TopK {
        let mut b = Builder::new(capacity);
        for (i, v) in values.iter().enumerate() {
            b.insert(*v, 0, u32::try_from(i).unwrap());
        }
        b.finish(|_, r| values[r as usize].to_string())
    }

    #[test]
    fn exact_under_capacity() {
        let values: Vec<u64> = (0..1000).map(|i| i % 7).collect();
        let t = summary(&values, 16);
        assert!(t.exact());
        assert_eq!(t.items().len(), 7);
        assert_eq!(t.items()[0].count, 143);
        let h = t.entropy(7.0);
        let expected = -(6.0 * (143.0 / 1000.0) * (143.0f64 / 1000.0).log2()
            + (142.0 / 1000.0) * (142.0f64 / 1000.0).log2());
        assert!((h - expected).abs() < 1e-9, "{h} {expected}");
    }

    #[test]
    fn heavy_hitters_survive_and_bounds_hold() {
        // One value in 20% of 100,000 rows among many distinct ones.
        let values: Vec<u64> = (0..100_000u64)
            .map(|i| if i % 5 == 0 { 1 } else { 1000 + i })
            .collect();
        let t = summary(&values, 32);
        let top = &t.items()[0];
        assert_eq!(top.value, "1");
        assert!(top.count <= 20_000 && top.count + t.error() >= 20_000);
        // Merged in parts: the same bounds for the whole.
        let mut merged = TopK::new(32);
        for part in values.chunks(7_000) {
            merged.merge(&summary(part, 32));
        }
        assert_eq!(merged.total(), 100_000);
        let top = &merged.items()[0];
        assert_eq!(top.value, "1");
        assert!(top.count <= 20_000 && top.count + merged.error() >= 20_000);
        // All distinct: entropy near log2(n).
        let distinct: Vec<u64> = (0..4096).collect();
        let t = summary(&distinct, 32);
        assert!(
            (t.entropy(4096.0) - 12.0).abs() < 0.1,
            "{}",
            t.entropy(4096.0)
        );
    }

    #[test]
    fn long_values_are_cut_at_a_character() {
        let s = "é".repeat(200);
        let cut = shown(&s);
        assert!(cut.len() <= MAX_VALUE_BYTES && s.starts_with(&cut));
    }
}
