//! A streaming profile of a table: per column the row and null counts, a distinct-count
//! sketch, min and max, mean and standard deviation, text lengths, frequent values and
//! their entropy. Profiles of parts (chunks on worker threads, files, ingests) merge into
//! the profile of the whole, by column name.
//!
//! The profile is built from decoded Arrow batches, so it is the same for every input
//! format. The per-row work is one pass over each column with hashes that the checksum
//! shares ([`super::checksum`]).

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, PoisonError, RwLock};

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type,
    Int8Type, Time64MicrosecondType, Time64NanosecondType, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef, ArrowPrimitiveType, OffsetSizeTrait, RecordBatch};
use arrow_schema::{DataType, Field, TimeUnit};

use super::hll::{Hll, DEFAULT_PRECISION};
use super::topk::{self, TopK};
use crate::error::{Error, Result};
use crate::write::conform;

/// One value of a column, as min and max keep it.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A decimal: `value * 10^-scale`, of `precision` digits.
    Decimal {
        /// The unscaled value.
        value: i128,
        /// Digits of the column's type.
        precision: u8,
        /// Digits after the point.
        scale: i8,
    },
    /// Days since 1970-01-01.
    Date(i32),
    /// A point in time: `value` ticks of `unit` since the epoch, with the column's time zone.
    Timestamp {
        /// Ticks since 1970-01-01T00:00:00.
        value: i64,
        /// The tick.
        unit: TimeUnit,
        /// The time zone, for an instant in UTC.
        tz: Option<Arc<str>>,
    },
    /// A time of day: `value` ticks of `unit` since midnight.
    Time {
        /// Ticks since midnight.
        value: i64,
        /// The tick (microseconds or nanoseconds).
        unit: TimeUnit,
    },
    /// Text (its first [`topk::MAX_VALUE_BYTES`] bytes).
    Text(String),
}

fn nanos(unit: TimeUnit) -> i128 {
    match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

impl Scalar {
    /// The value as a number, for the numeric kinds.
    #[allow(clippy::cast_precision_loss)]
    fn number(&self) -> Option<f64> {
        match self {
            Scalar::Int(v) => Some(*v as f64),
            Scalar::Float(v) => Some(*v),
            Scalar::Decimal { value, scale, .. } => {
                Some(*value as f64 / 10f64.powi(i32::from(*scale)))
            }
            _ => None,
        }
    }

    /// The value as nanoseconds since the epoch, for dates and timestamps.
    fn instant(&self) -> Option<i128> {
        match self {
            Scalar::Date(d) => Some(i128::from(*d) * 86_400 * 1_000_000_000),
            Scalar::Timestamp { value, unit, .. } => Some(i128::from(*value) * nanos(*unit)),
            _ => None,
        }
    }

    /// The value as a one-element array of its type.
    fn to_array(&self) -> Result<(ArrayRef, DataType)> {
        use arrow_array::{
            BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array, StringArray,
            Time64MicrosecondArray, Time64NanosecondArray, TimestampMicrosecondArray,
            TimestampMillisecondArray, TimestampNanosecondArray, TimestampSecondArray,
        };
        let a: ArrayRef = match self {
            Scalar::Bool(v) => Arc::new(BooleanArray::from(vec![*v])),
            Scalar::Int(v) => Arc::new(Int64Array::from(vec![*v])),
            Scalar::Float(v) => Arc::new(Float64Array::from(vec![*v])),
            Scalar::Decimal {
                value,
                precision,
                scale,
            } => Arc::new(
                Decimal128Array::from(vec![*value]).with_precision_and_scale(*precision, *scale)?,
            ),
            Scalar::Date(v) => Arc::new(Date32Array::from(vec![*v])),
            Scalar::Timestamp { value, unit, tz } => {
                let v = vec![*value];
                let tz = tz.clone();
                match unit {
                    TimeUnit::Second => {
                        Arc::new(TimestampSecondArray::from(v).with_timezone_opt(tz))
                    }
                    TimeUnit::Millisecond => {
                        Arc::new(TimestampMillisecondArray::from(v).with_timezone_opt(tz))
                    }
                    TimeUnit::Microsecond => {
                        Arc::new(TimestampMicrosecondArray::from(v).with_timezone_opt(tz))
                    }
                    TimeUnit::Nanosecond => {
                        Arc::new(TimestampNanosecondArray::from(v).with_timezone_opt(tz))
                    }
                }
            }
            Scalar::Time { value, unit } => match unit {
                TimeUnit::Nanosecond => Arc::new(Time64NanosecondArray::from(vec![*value])),
                _ => Arc::new(Time64MicrosecondArray::from(vec![*value])),
            },
            Scalar::Text(s) => Arc::new(StringArray::from(vec![s.as_str()])),
        };
        let t = a.data_type().clone();
        Ok((a, t))
    }

    /// The value as text, as the writer renders it in a text column.
    pub fn render(&self) -> String {
        if let Scalar::Text(s) = self {
            return s.clone();
        }
        let text = self.to_array().and_then(|(a, t)| {
            let from = Field::new("v", t, true);
            let to = Field::new("v", DataType::Utf8, true);
            conform::conform_array(&a, &from, &to)
        });
        match text {
            Ok(a) => a
                .as_string_opt::<i32>()
                .filter(|s| !s.is_empty())
                .map(|s| s.value(0).to_string())
                .unwrap_or_default(),
            Err(_) => format!("{self:?}"),
        }
    }

    /// Orders two values: within a kind, numbers with numbers, dates with timestamps; other
    /// pairs (a column that became text part way through) by their text.
    fn compare(&self, other: &Scalar) -> Ordering {
        use Scalar as S;
        let same = match (self, other) {
            (S::Bool(a), S::Bool(b)) => Some(a.cmp(b)),
            (S::Int(a), S::Int(b)) => Some(a.cmp(b)),
            (S::Text(a), S::Text(b)) => Some(a.cmp(b)),
            (S::Time { value: a, unit: ua }, S::Time { value: b, unit: ub }) => {
                Some((i128::from(*a) * nanos(*ua)).cmp(&(i128::from(*b) * nanos(*ub))))
            }
            (
                S::Decimal {
                    value: a,
                    scale: sa,
                    ..
                },
                S::Decimal {
                    value: b,
                    scale: sb,
                    ..
                },
            ) if sa == sb => Some(a.cmp(b)),
            _ => None,
        };
        if let Some(o) = same {
            return o;
        }
        if let (Some(a), Some(b)) = (self.number(), other.number()) {
            return a.total_cmp(&b);
        }
        if let (Some(a), Some(b)) = (self.instant(), other.instant()) {
            return a.cmp(&b);
        }
        self.render().cmp(&other.render())
    }
}

/// Count, mean and the sum of squared differences from it (Welford), mergeable with Chan et
/// al.'s formula.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Moments {
    /// Values.
    pub n: u64,
    /// Their mean.
    pub mean: f64,
    /// The sum of their squared differences from the mean.
    pub m2: f64,
}

impl Moments {
    /// The moments of `values`, in two passes (exact for a batch in memory).
    pub fn of(values: impl Iterator<Item = f64> + Clone) -> Moments {
        let (mut n, mut sum) = (0u64, 0.0);
        for v in values.clone() {
            n += 1;
            sum += v;
        }
        if n == 0 {
            return Moments::default();
        }
        #[allow(clippy::cast_precision_loss)]
        let mean = sum / n as f64;
        let m2 = values.map(|v| (v - mean) * (v - mean)).sum();
        Moments { n, mean, m2 }
    }

    /// Adds `other`'s values.
    #[allow(clippy::cast_precision_loss)]
    pub fn merge(&mut self, other: &Moments) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *other;
            return;
        }
        let (na, nb) = (self.n as f64, other.n as f64);
        let n = na + nb;
        let delta = other.mean - self.mean;
        self.mean += delta * nb / n;
        self.m2 += other.m2 + delta * delta * na * nb / n;
        self.n += other.n;
    }

    /// The population standard deviation.
    #[allow(clippy::cast_precision_loss)]
    pub fn stddev(&self) -> Option<f64> {
        (self.n > 0).then(|| (self.m2 / self.n as f64).max(0.0).sqrt())
    }
}

/// The profile of one column.
#[derive(Debug, Clone)]
pub struct ColumnProfile {
    /// The column's name.
    pub name: String,
    /// Its type (the widest seen, for a column whose type widened).
    pub data_type: DataType,
    /// Rows profiled.
    pub rows: u64,
    /// Null values among them.
    pub nulls: u64,
    /// Distinct non-null values.
    pub distinct: Hll,
    /// The smallest value.
    pub min: Option<Scalar>,
    /// The largest value.
    pub max: Option<Scalar>,
    /// Numbers (and booleans as 0 and 1): count, mean, squared differences.
    pub moments: Option<Moments>,
    /// Text: the shortest and longest value, in characters.
    pub lengths: Option<(u64, u64)>,
    /// Text: the most frequent values.
    pub top: Option<TopK>,
    /// Values that did not parse as the column's type (their rows rejected as
    /// `cast_error` naming this column).
    pub invalid: u64,
}

impl ColumnProfile {
    /// An empty profile of `field`.
    pub fn new(field: &Field, top_capacity: usize) -> Self {
        ColumnProfile {
            name: field.name().clone(),
            data_type: field.data_type().clone(),
            rows: 0,
            nulls: 0,
            distinct: Hll::new(DEFAULT_PRECISION),
            min: None,
            max: None,
            moments: None,
            lengths: None,
            top: is_text(field.data_type()).then(|| TopK::new(top_capacity)),
            invalid: 0,
        }
    }

    /// Values that are not null.
    pub fn values(&self) -> u64 {
        self.rows - self.nulls.min(self.rows)
    }

    /// Values that conform to the column's type: the non-null values (a value that does not
    /// parse is a rejected row, or null with `on_cast_error="null"`).
    pub fn conformed(&self) -> u64 {
        self.values()
    }

    /// The estimated count of distinct non-null values (never above the values counted).
    pub fn distinct_count(&self) -> u64 {
        self.distinct.count().min(self.values())
    }

    /// Shannon entropy of the text values, in bits (see [`TopK::entropy`]).
    pub fn entropy(&self) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)]
        let d = self.distinct_count() as f64;
        self.top.as_ref().map(|t| t.entropy(d))
    }

    fn take_extremes(&mut self, min: Option<Scalar>, max: Option<Scalar>) {
        if let Some(m) = min {
            if self
                .min
                .as_ref()
                .is_none_or(|cur| m.compare(cur) == Ordering::Less)
            {
                self.min = Some(m);
            }
        }
        if let Some(m) = max {
            if self
                .max
                .as_ref()
                .is_none_or(|cur| m.compare(cur) == Ordering::Greater)
            {
                self.max = Some(m);
            }
        }
    }

    /// Adds `other`, a profile of other rows of the same column.
    pub fn merge(&mut self, other: &ColumnProfile) {
        if other.data_type != self.data_type {
            let a = Field::new(&self.name, self.data_type.clone(), true);
            let b = Field::new(&self.name, other.data_type.clone(), true);
            if let Some(j) = conform::join_fields(&a, &b, true) {
                self.data_type = j.data_type().clone();
            }
        }
        self.rows += other.rows;
        self.nulls += other.nulls;
        self.invalid += other.invalid;
        // Same precision everywhere in a run; a failed merge leaves this side's estimate.
        let _ = self.distinct.merge(&other.distinct);
        self.take_extremes(other.min.clone(), other.max.clone());
        match (&mut self.moments, &other.moments) {
            (Some(a), Some(b)) => a.merge(b),
            (None, Some(b)) => self.moments = Some(*b),
            _ => {}
        }
        match (&mut self.lengths, other.lengths) {
            (Some(a), Some(b)) => *a = (a.0.min(b.0), a.1.max(b.1)),
            (None, Some(b)) => self.lengths = Some(b),
            _ => {}
        }
        match (&mut self.top, &other.top) {
            (Some(a), Some(b)) => a.merge(b),
            (None, Some(b)) => self.top = Some(b.clone()),
            _ => {}
        }
        if !is_numeric(&self.data_type) {
            self.moments = None;
        }
    }
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn is_numeric(t: &DataType) -> bool {
    t.is_numeric() || matches!(t, DataType::Boolean)
}

/// The profile of a table: its columns in the order they first appeared.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// The columns.
    pub columns: Vec<ColumnProfile>,
    /// Rows profiled.
    pub rows: u64,
    by_name: HashMap<String, usize>,
}

impl Profile {
    /// The profile of column `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnProfile> {
        self.by_name.get(name).and_then(|&i| self.columns.get(i))
    }

    /// The index of `field`'s column, added if new.
    fn slot(&mut self, field: &Field, top: usize) -> usize {
        if let Some(&i) = self.by_name.get(field.name()) {
            return i;
        }
        self.by_name
            .insert(field.name().clone(), self.columns.len());
        self.columns.push(ColumnProfile::new(field, top));
        self.columns.len() - 1
    }

    /// Adds `other`, the profile of later rows (columns matched by name; new ones are
    /// appended in `other`'s order).
    pub fn merge(&mut self, other: &Profile) {
        self.rows += other.rows;
        for c in &other.columns {
            match self
                .by_name
                .get(&c.name)
                .and_then(|&i| self.columns.get_mut(i))
            {
                Some(mine) => mine.merge(c),
                None => {
                    self.by_name.insert(c.name.clone(), self.columns.len());
                    self.columns.push(c.clone());
                }
            }
        }
    }

    /// Counts rows a column was missing from (rows of batches without it) as its nulls.
    pub fn settle(&mut self) {
        for c in &mut self.columns {
            if c.rows < self.rows {
                c.nulls += self.rows - c.rows;
                c.rows = self.rows;
            }
        }
    }

    /// Counts a value of column `column` that did not parse as its type. `column` is a
    /// column name or a JSON pointer into one (`/a/b` counts for `a`, or for `a.b` when
    /// nested objects were flattened).
    pub fn count_invalid(&mut self, column: &str, n: u64) {
        let mut names = vec![column.to_string()];
        if let Some(pointer) = column.strip_prefix('/') {
            let parts: Vec<String> = pointer
                .split('/')
                .map(|s| s.replace("~1", "/").replace("~0", "~"))
                .collect();
            for k in (1..=parts.len()).rev() {
                names.push(parts.get(..k).unwrap_or_default().join("."));
            }
        }
        for name in names {
            if let Some(c) = self
                .by_name
                .get(&name)
                .and_then(|&i| self.columns.get_mut(i))
            {
                c.invalid += n;
                return;
            }
        }
    }
}

/// Columns known to hold more distinct values than a sparse sketch keeps, shared by the
/// scans of one run: a chunk's sketch of such a column starts dense. The merged sketch is
/// dense then whatever the chunks do, and dense registers do not depend on the order values
/// came in, so the profile is the same; only the sparse phase is skipped.
#[derive(Debug, Default)]
pub struct DenseHints(RwLock<HashSet<String>>);

impl DenseHints {
    fn has(&self, name: &str) -> bool {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(name)
    }

    fn mark(&self, name: &str) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_string());
    }
}

/// Builds the profile of one chunk's batches and, with it or alone, the hashes of their rows.
pub struct Scan {
    profile: Option<Profile>,
    tops: Vec<Option<topk::Builder>>,
    top_capacity: usize,
    cells: Vec<u64>,
    scratch: Scratch,
    hints: Option<Arc<DenseHints>>,
}

impl Scan {
    /// A scan that profiles (`profile`) with `top_capacity` counters per text column, or
    /// only hashes rows.
    pub fn new(profile: bool, top_capacity: usize) -> Self {
        Scan {
            profile: profile.then(Profile::default),
            tops: Vec::new(),
            top_capacity,
            cells: Vec::new(),
            scratch: Scratch::new(),
            hints: None,
        }
    }

    /// The scan, sharing what it learns about columns' distinct values with the other
    /// scans of the run through `hints`.
    #[must_use]
    pub fn with_hints(mut self, hints: Arc<DenseHints>) -> Self {
        self.hints = Some(hints);
        self
    }

    /// Profiles `batch` (the `index`-th of the chunk) and returns the hash of each of its
    /// rows (see [`super::checksum`]).
    pub fn batch(&mut self, batch: &RecordBatch, index: u32) -> Vec<u64> {
        use super::checksum::{add_cells, column_seed, hash_values, row_hash};
        let mut acc = vec![0u64; batch.num_rows()];
        let schema = batch.schema();
        for (field, column) in schema.fields().iter().zip(batch.columns()) {
            let seed = column_seed(field.name());
            let Some(profile) = &mut self.profile else {
                hash_values(column.as_ref(), seed, &mut self.cells);
                add_cells(&mut acc, &self.cells, column.as_ref());
                continue;
            };
            let slot = profile.slot(field, self.top_capacity);
            if self.tops.len() <= slot {
                self.tops.resize_with(slot + 1, || None);
            }
            let top = self.tops.get_mut(slot).and_then(|t| {
                if t.is_none() && is_text(column.data_type()) {
                    *t = Some(topk::Builder::new(self.top_capacity));
                }
                t.as_mut()
            });
            let Some(col) = profile.columns.get_mut(slot) else {
                continue;
            };
            let hinted = self.hints.as_ref().is_some_and(|h| h.has(field.name()));
            if hinted && col.distinct.is_sparse() {
                let mut dense = Hll::new_dense(col.distinct.precision());
                let _ = dense.merge(&col.distinct);
                col.distinct = dense;
            }
            observe(
                col,
                column.as_ref(),
                seed,
                &mut self.cells,
                index,
                top,
                &mut self.scratch,
            );
            add_cells(&mut acc, &self.cells, column.as_ref());
            if let (false, Some(h)) = (hinted || col.distinct.is_sparse(), &self.hints) {
                h.mark(field.name());
            }
        }
        if let Some(p) = &mut self.profile {
            p.rows += batch.num_rows() as u64;
        }
        for a in &mut acc {
            *a = row_hash(*a);
        }
        acc
    }

    /// The chunk's profile, the frequent values' text taken from `batches` (the batches
    /// scanned, by index).
    pub fn finish(mut self, batches: &[RecordBatch]) -> Option<Profile> {
        let mut profile = self.profile.take()?;
        for (slot, builder) in self.tops.into_iter().enumerate() {
            let Some(builder) = builder else { continue };
            let Some(col) = profile.columns.get_mut(slot) else {
                continue;
            };
            let name = col.name.clone();
            let t = builder.finish(|b, r| {
                batches
                    .get(b as usize)
                    .and_then(|batch| batch.column_by_name(&name))
                    .map(|a| text_at(a.as_ref(), r as usize))
                    .unwrap_or_default()
            });
            match &mut col.top {
                Some(top) => top.merge(&t),
                None => col.top = Some(t),
            }
        }
        Some(profile)
    }
}

/// The text at row `i` of a text array, cut for display.
fn text_at(a: &dyn Array, i: usize) -> String {
    let s = if let Some(s) = a.as_string_opt::<i32>() {
        (i < s.len()).then(|| s.value(i))
    } else if let Some(s) = a.as_string_opt::<i64>() {
        (i < s.len()).then(|| s.value(i))
    } else if let Some(s) = a.as_string_view_opt() {
        (i < s.len()).then(|| s.value(i))
    } else {
        None
    };
    s.map(topk::shown).unwrap_or_default()
}

/// The valid values of a primitive array, in order.
fn valid_values<T: ArrowPrimitiveType>(
    a: &arrow_array::PrimitiveArray<T>,
) -> impl Iterator<Item = T::Native> + Clone + '_ {
    let nulls = a.nulls();
    a.values()
        .iter()
        .enumerate()
        .filter(move |(i, _)| nulls.is_none_or(|n| n.is_valid(*i)))
        .map(|(_, v)| *v)
}

/// Min, max and moments of a primitive column.
fn primitive<T: ArrowPrimitiveType, F: Fn(T::Native) -> f64 + Copy>(
    col: &mut ColumnProfile,
    array: &dyn Array,
    to_f64: Option<F>,
    scalar: impl Fn(T::Native) -> Scalar,
) where
    T::Native: PartialOrd,
{
    let Some(a) = array.as_primitive_opt::<T>() else {
        return;
    };
    if a.null_count() == 0 {
        // No nulls: straight over the values (the loops vectorize).
        extremes_and_moments(col, a.values().iter().copied(), to_f64, scalar);
        return;
    }
    extremes_and_moments(col, valid_values(a), to_f64, scalar);
}

/// Min, max and moments of `values`, in one pass: the moments from sums of differences
/// from the first value (the shifted-data formula, exact enough when that value is near
/// the others, as a column's first value is), not a second pass around the mean.
fn extremes_and_moments<N: Copy + PartialOrd, F: Fn(N) -> f64 + Copy>(
    col: &mut ColumnProfile,
    values: impl Iterator<Item = N>,
    to_f64: Option<F>,
    scalar: impl Fn(N) -> Scalar,
) {
    let mut min: Option<N> = None;
    let mut max: Option<N> = None;
    let (mut n, mut pivot, mut s1, mut s2) = (0u64, None::<f64>, 0.0f64, 0.0f64);
    for v in values {
        // NaN compares false both ways: it is never a min or a max.
        #[allow(clippy::eq_op)]
        if v.partial_cmp(&v).is_none() {
            continue;
        }
        if min.is_none_or(|m| v < m) {
            min = Some(v);
        }
        if max.is_none_or(|m| v > m) {
            max = Some(v);
        }
        if let Some(f) = to_f64 {
            let x = f(v);
            if x.is_finite() {
                let d = x - *pivot.get_or_insert(x);
                n += 1;
                s1 += d;
                s2 += d * d;
            }
        }
    }
    col.take_extremes(min.map(&scalar), max.map(&scalar));
    if to_f64.is_some() {
        #[allow(clippy::cast_precision_loss)]
        let m = match pivot {
            Some(k) if n > 0 => Moments {
                n,
                mean: k + s1 / n as f64,
                m2: (s2 - s1 * s1 / n as f64).max(0.0),
            },
            _ => Moments::default(),
        };
        match &mut col.moments {
            Some(cur) => cur.merge(&m),
            None => col.moments = Some(m),
        }
    }
}

/// A text extreme so far: its bytes and the big-endian number of its first 8 bytes.
type Bound<'a> = (&'a [u8], u64);

fn text<O: OffsetSizeTrait>(
    col: &mut ColumnProfile,
    array: &dyn Array,
    seed: u64,
    cells: &mut Vec<u64>,
    batch: u32,
    top: Option<&mut topk::Builder>,
    scratch: &mut Scratch,
) {
    let Some(a) = array.as_string_opt::<O>() else {
        super::checksum::hash_values(array, seed, cells);
        return;
    };
    let text_seed = super::checksum::text_seed(seed);
    cells.clear();
    cells.reserve(a.len());
    let offsets = a.value_offsets();
    let data = a.value_data();
    let (first, last) = match (offsets.first(), offsets.last()) {
        (Some(f), Some(l)) => (f.as_usize(), l.as_usize()),
        _ => return,
    };
    // ASCII text (the common case, checked in one fast pass) has as many characters as
    // bytes: lengths come from the offsets.
    let ascii = data.get(first..last).is_some_and(<[u8]>::is_ascii);
    let nulls = a.logical_nulls();
    let (mut min, mut max): (Option<Bound<'_>>, Option<Bound<'_>>) = (None, None);
    // The first 8 bytes of min and max, big-endian: most comparisons end there, without a
    // call to compare the whole strings; a value with min's (or max's) hash is equal to it.
    let (mut min_p, mut max_p) = (0u64, 0u64);
    let (mut short, mut long) = (u64::MAX, 0u64);
    let mut top = top;
    let mut sample = top.as_ref().map_or(1, |t| t.sample());
    // Rows to skip before the next one counted (a countdown, not a division per row).
    let mut skip = 0usize;
    scratch.start_counts(a.len());
    for (i, w) in offsets.windows(2).enumerate() {
        if sample == 1 && i % 1024 == 1023 && scratch.mostly_distinct() {
            if let Some(t) = top.as_deref_mut() {
                // From here the counting table only gets in the way: counts go to the
                // summary directly.
                scratch.flush_counts(t, batch);
                t.sample_rows();
                sample = t.sample();
            }
        }
        let (start, end) = match w {
            [s, e] => (s.as_usize(), e.as_usize()),
            _ => (0, 0),
        };
        let v = data.get(start..end).unwrap_or_default();
        let h = super::checksum::xxh3(text_seed, v);
        cells.push(h);
        if nulls.as_ref().is_some_and(|n| n.is_null(i)) {
            continue;
        }
        let p = prefix(v);
        match min {
            Some((m, mh)) if mh == h || p > min_p || (p == min_p && v >= m) => {}
            _ => {
                min = Some((v, h));
                min_p = p;
            }
        }
        match max {
            Some((m, mh)) if mh == h || p < max_p || (p == max_p && v <= m) => {}
            _ => {
                max = Some((v, h));
                max_p = p;
            }
        }
        let chars = if ascii {
            (end - start) as u64
        } else {
            v.iter().filter(|b| (**b & 0xC0) != 0x80).count() as u64
        };
        short = short.min(chars);
        long = long.max(chars);
        if let Some(t) = top.as_deref_mut() {
            let row = u32::try_from(i).unwrap_or(u32::MAX);
            if sample == 1 {
                scratch.count(h, row, t, batch);
            } else if skip == 0 {
                t.insert_weighted(h, 1, batch, row);
                skip = sample - 1;
            } else {
                skip -= 1;
            }
        }
    }
    if let Some(t) = top {
        scratch.flush_counts(t, batch);
    }
    let text = |b: &[u8]| Scalar::Text(topk::shown(&String::from_utf8_lossy(b)));
    col.take_extremes(min.map(|(v, _)| text(v)), max.map(|(v, _)| text(v)));
    if long >= short {
        col.lengths = Some(match col.lengths {
            Some((a, b)) => (a.min(short), b.max(long)),
            None => (short, long),
        });
    }
}

/// Per-column scratch of a scan, reused column after column: a cache of hashes just put in
/// the distinct-count sketch, and a table counting repeated values before they go to the
/// frequent-values summary. Both are direct-mapped (a slot per hash's top bits) and sized to
/// the batch (a wide table of few rows resets little), so a column of few values costs a
/// compare per value instead of a sketch or summary update.
pub(crate) struct Scratch {
    seen: Vec<u64>,
    missed: Vec<u64>,
    counts: Vec<(u64, u32, u32)>,
    count_bits: u32,
    /// Values counted in this batch, and those that found their slot empty or taken by
    /// another value.
    counted: u64,
    novel: u64,
}

/// Values of a batch that go through the distinct cache before it is judged useless.
const DISTINCT_PROBE: usize = 256;

/// Most slots of the distinct cache, and of the counting table.
const SEEN_SLOTS: usize = 4096;
const COUNT_SLOTS: usize = 4096;

/// The slot of `h` in a table of `2^bits` slots.
#[inline]
fn slot_of(h: u64, bits: u32) -> usize {
    usize::try_from(h.checked_shr(64 - bits).unwrap_or(0)).unwrap_or(0)
}

/// Bits of a table for `rows` rows, at most `max` slots.
fn bits_for(rows: usize, max: usize) -> u32 {
    rows.next_power_of_two().clamp(16, max).trailing_zeros()
}

impl Scratch {
    fn new() -> Self {
        Scratch {
            seen: vec![0; SEEN_SLOTS],
            missed: Vec::new(),
            counts: vec![(0, 0, 0); COUNT_SLOTS],
            count_bits: 4,
            counted: 0,
            novel: 0,
        }
    }

    /// Adds the hashes of the valid values to `hll`, skipping those just added; the sketch
    /// makes room for the rest at once. When the first values of the batch are nearly all
    /// new, the rest go to the sketch directly: the cache would only cost a lookup each.
    fn distinct(&mut self, hll: &mut super::hll::Hll, cells: &[u64], array: &dyn Array) {
        let bits = bits_for(cells.len(), SEEN_SLOTS);
        let seen = self.seen.get_mut(..1 << bits).unwrap_or_default();
        seen.fill(0);
        let missed = &mut self.missed;
        missed.clear();
        #[inline]
        fn add(seen: &mut [u64], bits: u32, missed: &mut Vec<u64>, h: u64) {
            if let Some(s) = seen.get_mut(slot_of(h, bits)) {
                if *s != h {
                    *s = h;
                    missed.push(h);
                }
            }
        }
        let nulls = array.logical_nulls().filter(|n| n.null_count() > 0);
        let probe = cells.len().min(DISTINCT_PROBE);
        let (head, rest) = cells.split_at(probe);
        match &nulls {
            None => head.iter().for_each(|&h| add(seen, bits, missed, h)),
            Some(n) => {
                for (&h, valid) in head.iter().zip(n.iter()) {
                    if valid {
                        add(seen, bits, missed, h);
                    }
                }
            }
        }
        let bypass = probe == DISTINCT_PROBE && missed.len() * 16 >= probe * 15;
        if !bypass {
            match &nulls {
                None => rest.iter().for_each(|&h| add(seen, bits, missed, h)),
                Some(n) => {
                    for (&h, valid) in rest.iter().zip(n.iter().skip(probe)) {
                        if valid {
                            add(seen, bits, missed, h);
                        }
                    }
                }
            }
        }
        hll.reserve(self.missed.len() + if bypass { rest.len() } else { 0 });
        hll.insert_many(&self.missed);
        if bypass {
            match &nulls {
                None => hll.insert_many(rest),
                Some(n) => {
                    for (h, valid) in rest.iter().zip(n.iter().skip(probe)) {
                        if valid {
                            hll.insert(*h);
                        }
                    }
                }
            }
        }
    }

    /// Sizes the counting table for a batch of `rows` rows (it must be empty).
    fn start_counts(&mut self, rows: usize) {
        self.count_bits = bits_for(rows, COUNT_SLOTS);
        self.counted = 0;
        self.novel = 0;
    }

    /// Whether most values counted so far were not the one last seen in their slot: a
    /// column of many distinct values, whose frequent values are better found from a sample
    /// of the rows.
    fn mostly_distinct(&self) -> bool {
        self.counted >= 1024 && self.novel * 2 > self.counted
    }

    /// Counts one occurrence of the value hashed `h` at row `row` of batch `batch`; a value
    /// it displaces from its slot goes to `top` with its count.
    #[inline]
    fn count(&mut self, h: u64, row: u32, top: &mut topk::Builder, batch: u32) {
        self.counted += 1;
        if let Some(slot) = self.counts.get_mut(slot_of(h, self.count_bits)) {
            if slot.0 == h && slot.1 > 0 {
                slot.1 += 1;
            } else {
                self.novel += 1;
                let (old, n, at) = *slot;
                *slot = (h, 1, row);
                if n > 0 {
                    top.insert_weighted(old, u64::from(n), batch, at);
                }
            }
        }
    }

    /// Hands every count held to `top` and empties the table.
    fn flush_counts(&mut self, top: &mut topk::Builder, batch: u32) {
        for slot in self.counts.iter_mut().take(1 << self.count_bits) {
            let (h, n, at) = *slot;
            if n > 0 {
                top.insert_weighted(h, u64::from(n), batch, at);
            }
            *slot = (0, 0, 0);
        }
    }
}

/// The first 8 bytes of `s` as a big-endian number (zeros past its end): two strings whose
/// prefixes differ compare as their prefixes do.
#[inline]
fn prefix(s: &[u8]) -> u64 {
    if let Some(head) = s.first_chunk::<8>() {
        return u64::from_be_bytes(*head);
    }
    // Shorter: byte by byte (a call to copy a few bytes costs more).
    let mut v = 0u64;
    for (i, &c) in s.iter().enumerate() {
        v |= u64::from(c) << (56 - 8 * i);
    }
    v
}

#[allow(clippy::cast_precision_loss)]
/// Profiles `array`, one batch's values of `col`, filling `cells` with their hashes (text is
/// hashed in the same pass as it is profiled, while its bytes are in cache).
fn observe(
    col: &mut ColumnProfile,
    array: &dyn Array,
    seed: u64,
    cells: &mut Vec<u64>,
    batch: u32,
    top: Option<&mut topk::Builder>,
    scratch: &mut Scratch,
) {
    col.rows += array.len() as u64;
    let nulls = array.logical_null_count();
    col.nulls += nulls as u64;
    match array.data_type() {
        DataType::Utf8 => text::<i32>(col, array, seed, cells, batch, top, scratch),
        DataType::LargeUtf8 => text::<i64>(col, array, seed, cells, batch, top, scratch),
        _ => super::checksum::hash_values(array, seed, cells),
    }
    scratch.distinct(&mut col.distinct, cells, array);
    let int = Scalar::Int;
    match array.data_type() {
        DataType::Int8 => {
            primitive::<Int8Type, _>(col, array, Some(f64::from), |v| int(v.into()));
        }
        DataType::Int16 => {
            primitive::<Int16Type, _>(col, array, Some(f64::from), |v| int(v.into()));
        }
        DataType::Int32 => {
            primitive::<Int32Type, _>(col, array, Some(f64::from), |v| int(v.into()));
        }
        DataType::Int64 => primitive::<Int64Type, _>(col, array, Some(|v| v as f64), int),
        DataType::UInt8 => {
            primitive::<UInt8Type, _>(col, array, Some(f64::from), |v| int(v.into()));
        }
        DataType::UInt16 => {
            primitive::<UInt16Type, _>(col, array, Some(f64::from), |v| int(v.into()));
        }
        DataType::UInt32 => {
            primitive::<UInt32Type, _>(col, array, Some(f64::from), |v| int(v.into()));
        }
        DataType::UInt64 => primitive::<UInt64Type, _>(col, array, Some(|v| v as f64), |v| {
            i64::try_from(v).map_or(Scalar::Float(v as f64), Scalar::Int)
        }),
        DataType::Float32 => {
            primitive::<Float32Type, _>(col, array, Some(f64::from), |v| Scalar::Float(v.into()))
        }
        DataType::Float64 => primitive::<Float64Type, _>(col, array, Some(|v| v), Scalar::Float),
        DataType::Decimal128(p, s) => {
            let (precision, scale) = (*p, *s);
            let unit = 10f64.powi(i32::from(scale));
            primitive::<Decimal128Type, _>(col, array, Some(move |v| v as f64 / unit), |value| {
                Scalar::Decimal {
                    value,
                    precision,
                    scale,
                }
            });
        }
        DataType::Date32 => primitive::<Date32Type, fn(i32) -> f64>(col, array, None, Scalar::Date),
        DataType::Timestamp(unit, tz) => {
            let (unit, tz) = (*unit, tz.clone());
            let f = |value: i64| Scalar::Timestamp {
                value,
                unit,
                tz: tz.clone(),
            };
            match unit {
                TimeUnit::Second => primitive::<
                    TimestampSecondType,
                    fn(<TimestampSecondType as ArrowPrimitiveType>::Native) -> f64,
                >(col, array, None, f),
                TimeUnit::Millisecond => {
                    primitive::<
                        TimestampMillisecondType,
                        fn(<TimestampMillisecondType as ArrowPrimitiveType>::Native) -> f64,
                    >(col, array, None, f);
                }
                TimeUnit::Microsecond => {
                    primitive::<
                        TimestampMicrosecondType,
                        fn(<TimestampMicrosecondType as ArrowPrimitiveType>::Native) -> f64,
                    >(col, array, None, f);
                }
                TimeUnit::Nanosecond => primitive::<
                    TimestampNanosecondType,
                    fn(<TimestampNanosecondType as ArrowPrimitiveType>::Native) -> f64,
                >(col, array, None, f),
            }
        }
        DataType::Time64(unit) => {
            let unit = *unit;
            let f = |value: i64| Scalar::Time { value, unit };
            if unit == TimeUnit::Nanosecond {
                primitive::<
                    Time64NanosecondType,
                    fn(<Time64NanosecondType as ArrowPrimitiveType>::Native) -> f64,
                >(col, array, None, f);
            } else {
                primitive::<
                    Time64MicrosecondType,
                    fn(<Time64MicrosecondType as ArrowPrimitiveType>::Native) -> f64,
                >(col, array, None, f);
            }
        }
        DataType::Boolean => {
            let a = array.as_boolean();
            let (mut trues, mut n) = (0u64, 0u64);
            for v in a.iter().flatten() {
                n += 1;
                trues += u64::from(v);
            }
            if n > 0 {
                col.take_extremes(
                    Some(Scalar::Bool(trues == n)),
                    Some(Scalar::Bool(trues > 0)),
                );
                let mean = trues as f64 / n as f64;
                let m = Moments {
                    n,
                    mean,
                    m2: n as f64 * mean * (1.0 - mean),
                };
                match &mut col.moments {
                    Some(cur) => cur.merge(&m),
                    None => col.moments = Some(m),
                }
            }
        }
        _ => {}
    }
}

impl Profile {
    /// A compact encoding of the whole profile, sketches included, so that profiles of
    /// files and ingests can be merged later ([`Profile::from_bytes`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.bytes(b"LFQP1");
        w.u64(self.rows);
        w.u64(self.columns.len() as u64);
        for c in &self.columns {
            w.str(&c.name);
            w.str(&c.data_type.to_string());
            w.u64(c.rows);
            w.u64(c.nulls);
            w.u64(c.invalid);
            w.blob(&c.distinct.to_bytes());
            w.scalar(c.min.as_ref());
            w.scalar(c.max.as_ref());
            match &c.moments {
                Some(m) => {
                    w.u8(1);
                    w.u64(m.n);
                    w.f64(m.mean);
                    w.f64(m.m2);
                }
                None => w.u8(0),
            }
            match c.lengths {
                Some((a, b)) => {
                    w.u8(1);
                    w.u64(a);
                    w.u64(b);
                }
                None => w.u8(0),
            }
            match &c.top {
                Some(t) => {
                    w.u8(1);
                    w.u64(t.capacity() as u64);
                    w.u8(u8::from(t.sampled()));
                    w.u64(t.error());
                    w.u64(t.total());
                    w.u64(t.items().len() as u64);
                    for it in t.items() {
                        w.u64(it.hash);
                        w.str(&it.value);
                        w.u64(it.count);
                    }
                }
                None => w.u8(0),
            }
        }
        w.0
    }

    /// Reads what [`Profile::to_bytes`] wrote.
    pub fn from_bytes(b: &[u8]) -> Result<Profile> {
        let mut r = Reader(b);
        if r.take(5)? != b"LFQP1" {
            return Err(Error::invalid("not a logflow quality profile"));
        }
        let mut p = Profile {
            rows: r.u64()?,
            ..Profile::default()
        };
        let n = r.u64()?;
        for _ in 0..n {
            let name = r.str()?;
            let data_type: DataType = r
                .str()?
                .parse()
                .map_err(|_| Error::invalid("a profile column of an unknown type"))?;
            let mut c = ColumnProfile::new(&Field::new(&name, data_type, true), 1);
            c.rows = r.u64()?;
            c.nulls = r.u64()?;
            c.invalid = r.u64()?;
            c.distinct = Hll::from_bytes(r.blob()?)?;
            c.min = r.scalar()?;
            c.max = r.scalar()?;
            c.moments = if r.u8()? == 1 {
                Some(Moments {
                    n: r.u64()?,
                    mean: r.f64()?,
                    m2: r.f64()?,
                })
            } else {
                None
            };
            c.lengths = if r.u8()? == 1 {
                Some((r.u64()?, r.u64()?))
            } else {
                None
            };
            c.top = if r.u8()? == 1 {
                let capacity = usize::try_from(r.u64()?).unwrap_or(1).min(1 << 16);
                let sampled = r.u8()? != 0;
                let error = r.u64()?;
                let total = r.u64()?;
                let k = r.u64()?;
                let mut items = Vec::new();
                for _ in 0..k.min(1 << 16) {
                    items.push(topk::Item {
                        hash: r.u64()?,
                        value: r.str()?,
                        count: r.u64()?,
                    });
                }
                Some(TopK::from_parts(capacity, items, error, total, sampled))
            } else {
                None
            };
            p.by_name.insert(name, p.columns.len());
            p.columns.push(c);
        }
        Ok(p)
    }
}

#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn bytes(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.bytes(&v.to_le_bytes());
    }
    fn f64(&mut self, v: f64) {
        self.bytes(&v.to_bits().to_le_bytes());
    }
    fn blob(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.bytes(b);
    }
    fn str(&mut self, s: &str) {
        self.blob(s.as_bytes());
    }
    fn unit(&mut self, u: TimeUnit) {
        self.u8(match u {
            TimeUnit::Second => 0,
            TimeUnit::Millisecond => 1,
            TimeUnit::Microsecond => 2,
            TimeUnit::Nanosecond => 3,
        });
    }
    fn scalar(&mut self, s: Option<&Scalar>) {
        match s {
            None => self.u8(0),
            Some(Scalar::Bool(b)) => {
                self.u8(1);
                self.u8(u8::from(*b));
            }
            Some(Scalar::Int(v)) => {
                self.u8(2);
                self.i64(*v);
            }
            Some(Scalar::Float(v)) => {
                self.u8(3);
                self.f64(*v);
            }
            Some(Scalar::Decimal {
                value,
                precision,
                scale,
            }) => {
                self.u8(4);
                self.bytes(&value.to_le_bytes());
                self.u8(*precision);
                self.bytes(&scale.to_le_bytes());
            }
            Some(Scalar::Date(d)) => {
                self.u8(5);
                self.i64((*d).into());
            }
            Some(Scalar::Timestamp { value, unit, tz }) => {
                self.u8(6);
                self.i64(*value);
                self.unit(*unit);
                self.str(tz.as_deref().unwrap_or(""));
            }
            Some(Scalar::Time { value, unit }) => {
                self.u8(7);
                self.i64(*value);
                self.unit(*unit);
            }
            Some(Scalar::Text(s)) => {
                self.u8(8);
                self.str(s);
            }
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        if self.0.len() < n {
            return Err(Error::invalid("a quality profile cut short"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(u8::from_le_bytes(self.array::<1>()?))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array::<8>()?))
    }
    fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_le_bytes(self.array::<8>()?))
    }
    fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_bits(self.u64()?))
    }
    fn blob(&mut self) -> Result<&[u8]> {
        let n = usize::try_from(self.u64()?)
            .map_err(|_| Error::invalid("a quality profile cut short"))?;
        self.take(n)
    }
    fn str(&mut self) -> Result<String> {
        String::from_utf8(self.blob()?.to_vec())
            .map_err(|_| Error::invalid("a quality profile with invalid text"))
    }
    fn unit(&mut self) -> Result<TimeUnit> {
        Ok(match self.u8()? {
            0 => TimeUnit::Second,
            1 => TimeUnit::Millisecond,
            2 => TimeUnit::Microsecond,
            _ => TimeUnit::Nanosecond,
        })
    }
    fn scalar(&mut self) -> Result<Option<Scalar>> {
        Ok(match self.u8()? {
            0 => None,
            1 => Some(Scalar::Bool(self.u8()? != 0)),
            2 => Some(Scalar::Int(self.i64()?)),
            3 => Some(Scalar::Float(self.f64()?)),
            4 => {
                let value = i128::from_le_bytes(self.array::<16>()?);
                let precision = self.u8()?;
                let scale = i8::from_le_bytes(self.array::<1>()?);
                Some(Scalar::Decimal {
                    value,
                    precision,
                    scale,
                })
            }
            5 => Some(Scalar::Date(i32::try_from(self.i64()?).unwrap_or(0))),
            6 => {
                let value = self.i64()?;
                let unit = self.unit()?;
                let tz = self.str()?;
                Some(Scalar::Timestamp {
                    value,
                    unit,
                    tz: (!tz.is_empty()).then(|| Arc::from(tz.as_str())),
                })
            }
            7 => {
                let value = self.i64()?;
                Some(Scalar::Time {
                    value,
                    unit: self.unit()?,
                })
            }
            8 => Some(Scalar::Text(self.str()?)),
            _ => {
                return Err(Error::invalid(
                    "a quality profile with an unknown value kind",
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, StringArray};
    use arrow_schema::Schema;

    use super::*;

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect();
        RecordBatch::try_new(
            Arc::new(Schema::new(fields)),
            columns.into_iter().map(|(_, a)| a).collect(),
        )
        .unwrap()
    }

    fn profile_of(batches: &[RecordBatch]) -> Profile {
        let mut whole = Profile::default();
        for b in batches {
            let mut scan = Scan::new(true, 16);
            scan.batch(b, 0);
            whole.merge(&scan.finish(std::slice::from_ref(b)).unwrap());
        }
        whole.settle();
        whole
    }

    #[test]
    fn moments_merge_like_one_pass() {
        let all: Vec<f64> = (0..1000).map(|i| f64::from(i) * 0.37 - 50.0).collect();
        let whole = Moments::of(all.iter().copied());
        let mut parts = Moments::default();
        for chunk in all.chunks(77) {
            parts.merge(&Moments::of(chunk.iter().copied()));
        }
        assert_eq!(parts.n, whole.n);
        assert!((parts.mean - whole.mean).abs() < 1e-9);
        assert!((parts.m2 - whole.m2).abs() / whole.m2 < 1e-12);
    }

    #[test]
    fn one_pass_moments_match_two_passes() {
        // Tight values far from zero, and the same after an outlier as first value (the
        // pivot of the one-pass sums), with NaN and infinities left out.
        let tight: Vec<f64> = (0..20_000)
            .map(|i| 1e9 + f64::from(i % 97) * 1e-3)
            .collect();
        let mut outlier_first = vec![-3e7];
        outlier_first.extend(&tight);
        for values in [tight, outlier_first] {
            let mut with_odd = values.clone();
            with_odd.extend([f64::NAN, f64::INFINITY]);
            let p = profile_of(&[batch(vec![(
                "x",
                Arc::new(Float64Array::from(with_odd)) as ArrayRef,
            )])]);
            let got = p.column("x").unwrap().moments.unwrap();
            // The reference: two passes over the values less 1e9 (exact differences, small
            // enough for plain sums to be exact to the last digits).
            let mut want = Moments::of(values.iter().map(|v| v - 1e9));
            want.mean += 1e9;
            assert_eq!(got.n, want.n);
            assert!(
                (got.mean - want.mean).abs() <= 1e-12 * want.mean.abs(),
                "{got:?} {want:?}"
            );
            assert!(
                (got.m2 - want.m2).abs() <= 1e-8 * want.m2,
                "{got:?} {want:?}"
            );
        }
    }

    #[test]
    fn columns_merge_by_name_and_missing_rows_are_nulls() {
        let a = batch(vec![
            ("id", Arc::new(Int64Array::from(vec![1, 2, 3]))),
            (
                "s",
                Arc::new(StringArray::from(vec![Some("b"), None, Some("a")])),
            ),
        ]);
        // A later batch: a new column, an old one missing, another widened to float.
        let b = batch(vec![
            ("late", Arc::new(BooleanArray::from(vec![true, false]))),
            ("id", Arc::new(Float64Array::from(vec![2.5, 10.0]))),
        ]);
        let p = profile_of(&[a, b]);
        let names: Vec<&str> = p.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "s", "late"]);
        assert_eq!(p.rows, 5);
        let id = p.column("id").unwrap();
        assert_eq!(id.data_type, DataType::Float64);
        assert_eq!(
            (id.min.clone(), id.max.clone()),
            (Some(Scalar::Int(1)), Some(Scalar::Float(10.0)))
        );
        assert_eq!(id.distinct_count(), 5);
        let s = p.column("s").unwrap();
        assert_eq!((s.rows, s.nulls, s.lengths), (5, 3, Some((1, 1))));
        assert_eq!(s.min, Some(Scalar::Text("a".into())));
        let late = p.column("late").unwrap();
        assert_eq!((late.rows, late.nulls), (5, 3));
        assert_eq!(late.moments.unwrap().mean, 0.5);
    }

    #[test]
    fn prefixes_order_as_the_strings_do() {
        let words: [&[u8]; 8] = [
            b"",
            b"a",
            b"ab",
            b"abcdefg",
            b"abcdefgh",
            b"abcdefghz",
            b"b",
            b"\xff",
        ];
        for w in words {
            let mut padded = [0u8; 8];
            let n = w.len().min(8);
            padded[..n].copy_from_slice(&w[..n]);
            assert_eq!(prefix(w), u64::from_be_bytes(padded), "{w:?}");
        }
        for pair in words.windows(2) {
            assert!(prefix(pair[0]) <= prefix(pair[1]), "{pair:?}");
        }
    }

    #[test]
    fn unlike_kinds_compare_as_text() {
        assert_eq!(
            Scalar::Int(5).compare(&Scalar::Float(4.5)),
            Ordering::Greater
        );
        let day = Scalar::Date(1);
        let ts = Scalar::Timestamp {
            value: 86_400_000_001,
            unit: TimeUnit::Microsecond,
            tz: None,
        };
        assert_eq!(day.compare(&ts), Ordering::Less);
        assert_eq!(
            Scalar::Int(10).compare(&Scalar::Text("9".into())),
            Ordering::Less
        );
        assert_eq!(Scalar::Date(0).render(), "1970-01-01");
    }

    #[test]
    fn bytes_round_trip_and_merge_later() {
        let a = batch(vec![
            ("n", Arc::new(Int64Array::from(vec![1, 2, 2, 7]))),
            ("d", Arc::new(Date32Array::from(vec![10, 20, 30, 40]))),
            ("t", Arc::new(StringArray::from(vec!["x", "y", "x", "é"]))),
        ]);
        let p = profile_of(std::slice::from_ref(&a));
        let back = Profile::from_bytes(&p.to_bytes()).unwrap();
        assert_eq!(back.rows, p.rows);
        for (x, y) in p.columns.iter().zip(&back.columns) {
            assert_eq!(x.name, y.name);
            assert_eq!(x.data_type, y.data_type);
            assert_eq!((&x.min, &x.max, x.lengths), (&y.min, &y.max, y.lengths));
            assert_eq!(x.distinct_count(), y.distinct_count());
            assert_eq!(x.top, y.top);
        }
        let t = back.column("t").unwrap();
        assert_eq!(t.top.as_ref().unwrap().items()[0].value, "x");
        assert!(Profile::from_bytes(b"LFQP1\x01").is_err());
        assert!(Profile::from_bytes(b"nope").is_err());
    }
}
