//! Validation rules checked while streaming.
//!
//! Two families, by where they can run:
//!
//! - **Row rules** look at one row at a time: [`RuleKind::NotNull`], [`RuleKind::Range`],
//!   [`RuleKind::Regex`], [`RuleKind::Allowed`], [`RuleKind::Length`]. They run on the
//!   decode workers, on each chunk's batches right after decoding, where each row's bytes
//!   are still known ([`crate::stream::RowSources`]).
//! - **Ordered rules** need the rows in input order: [`RuleKind::Unique`] (the first row
//!   with a key is kept, later ones break the rule) and [`RuleKind::Check`] (a caller's
//!   function on whole batches, which may keep state). They run on the writing thread,
//!   where outputs arrive in order.
//!
//! A null passes every rule but `not_null`; a row missing the column (a batch narrower than
//! the output) holds a null there.

use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, OffsetSizeTrait,
    RecordBatch, StringArray, Time64MicrosecondArray, Time64NanosecondArray,
    TimestampMicrosecondArray, TimestampNanosecondArray,
};
use arrow_schema::{DataType, Field, TimeUnit};

use super::checksum::{column_seed, fmix64, hash_values};
use crate::decode::values::{self, DateFormat};
use crate::error::{Error, Result};
use crate::write::conform;

/// A value given in a rule: a bound, or an allowed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Text; for date, time and timestamp columns, the value in ISO form.
    Text(String),
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Int(v) => write!(f, "{v}"),
            Literal::Float(v) => write!(f, "{v}"),
            Literal::Text(s) => write!(f, "{s:?}"),
        }
    }
}

impl Literal {
    fn text(&self) -> String {
        match self {
            Literal::Text(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// A caller's check over whole batches (from Python: a function called with each batch).
pub trait BatchCheck: Send + Sync {
    /// One flag per row of `batch`: `true` where the row passes.
    fn check(&self, batch: &RecordBatch) -> Result<Vec<bool>>;
}

/// What a rule checks.
#[derive(Clone)]
pub enum RuleKind {
    /// The value is not null.
    NotNull,
    /// The value lies within the bounds (both included). Numbers for numeric columns; ISO
    /// text for date, time and timestamp columns; text (compared byte-wise) for text columns.
    Range {
        /// The smallest value allowed.
        min: Option<Literal>,
        /// The largest value allowed.
        max: Option<Literal>,
    },
    /// The whole text value matches the pattern.
    Regex(regex::Regex),
    /// The value is one of these (compared as values: `5` allows `5.0`).
    Allowed(Vec<Literal>),
    /// The text value has between `min` and `max` characters.
    Length {
        /// Fewest characters.
        min: Option<u64>,
        /// Most characters.
        max: Option<u64>,
    },
    /// No two rows share the values of these columns (rows with a null in them are not
    /// checked); the first row with a key is kept. Exact (keys are 128-bit hashes) in
    /// bounded memory: past `memory` bytes of keys, they spill to sorted files on disk.
    Unique {
        /// The key's columns.
        columns: Vec<String>,
        /// Bytes of keys kept in memory before spilling.
        memory: usize,
    },
    /// A caller's function on whole batches.
    Check(Arc<dyn BatchCheck>),
}

impl fmt::Debug for RuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleKind::NotNull => write!(f, "NotNull"),
            RuleKind::Range { min, max } => write!(f, "Range({min:?}, {max:?})"),
            RuleKind::Regex(r) => write!(f, "Regex({r})"),
            RuleKind::Allowed(v) => write!(f, "Allowed({v:?})"),
            RuleKind::Length { min, max } => write!(f, "Length({min:?}, {max:?})"),
            RuleKind::Unique { columns, memory } => write!(f, "Unique({columns:?}, {memory})"),
            RuleKind::Check(_) => write!(f, "Check"),
        }
    }
}

/// Default memory for the keys of a `unique` rule: 64 MiB.
pub const UNIQUE_MEMORY: usize = 64 << 20;

/// A validation rule: what it checks, on which column, and its name, which is the reason
/// rows that break it are counted under.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The reason of rows that break it (`not_null:id` unless named).
    pub name: String,
    /// The column checked (`None` for `unique` and `check`, which name their own).
    pub column: Option<String>,
    /// What is checked.
    pub kind: RuleKind,
}

impl Rule {
    /// A rule on `column`, named `kind:column` unless `name` is given.
    pub fn on(column: &str, kind: RuleKind, name: Option<String>) -> Result<Rule> {
        let tag = match &kind {
            RuleKind::NotNull => "not_null",
            RuleKind::Range { min, max } => {
                if min.is_none() && max.is_none() {
                    return Err(Error::invalid(format!(
                        "range rule on {column:?}: give min, max or both"
                    )));
                }
                "range"
            }
            RuleKind::Regex(_) => "regex",
            RuleKind::Allowed(_) => "allowed",
            RuleKind::Length { min, max } => {
                if min.is_none() && max.is_none() {
                    return Err(Error::invalid(format!(
                        "length rule on {column:?}: give min, max or both"
                    )));
                }
                "length"
            }
            RuleKind::Unique { .. } | RuleKind::Check(_) => {
                return Err(Error::invalid(
                    "unique and check rules are made with their own constructors",
                ))
            }
        };
        Ok(Rule {
            name: name.unwrap_or_else(|| format!("{tag}:{column}")),
            column: Some(column.to_string()),
            kind,
        })
    }

    /// A regex rule: the whole value must match `pattern`.
    pub fn regex(column: &str, pattern: &str, name: Option<String>) -> Result<Rule> {
        let re = regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
            Error::invalid(format!("regex rule on {column:?}: invalid pattern: {e}"))
        })?;
        Rule::on(column, RuleKind::Regex(re), name)
    }

    /// A uniqueness rule over `columns`.
    pub fn unique(
        columns: Vec<String>,
        memory: Option<usize>,
        name: Option<String>,
    ) -> Result<Rule> {
        if columns.is_empty() {
            return Err(Error::invalid("unique rule: name at least one column"));
        }
        Ok(Rule {
            name: name.unwrap_or_else(|| format!("unique:{}", columns.join(","))),
            column: (columns.len() == 1)
                .then(|| columns.first().cloned())
                .flatten(),
            kind: RuleKind::Unique {
                columns,
                memory: memory.unwrap_or(UNIQUE_MEMORY).max(1024),
            },
        })
    }

    /// A check with a caller's function.
    pub fn check(check: Arc<dyn BatchCheck>, name: &str) -> Rule {
        Rule {
            name: format!("check:{name}"),
            column: None,
            kind: RuleKind::Check(check),
        }
    }

    /// Whether the rule needs rows in input order (it runs on the writing thread).
    pub fn is_ordered(&self) -> bool {
        matches!(self.kind, RuleKind::Unique { .. } | RuleKind::Check(_))
    }

    /// The columns the rule reads.
    pub fn columns(&self) -> Vec<String> {
        match &self.kind {
            RuleKind::Unique { columns, .. } => columns.clone(),
            _ => self.column.iter().cloned().collect(),
        }
    }

    /// Checks the rule against a schema: its columns exist (unless the schema may still
    /// grow), and its kind suits their types.
    pub fn check_schema(&self, schema: &arrow_schema::Schema, may_grow: bool) -> Result<()> {
        for c in self.columns() {
            let Ok(field) = schema.field_with_name(&c) else {
                if may_grow {
                    continue;
                }
                let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                return Err(Error::invalid(format!(
                    "rule {}: no column {c:?}; the columns are {names:?}",
                    self.name
                )));
            };
            let t = field.data_type();
            let text = matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
            match &self.kind {
                RuleKind::Regex(_) | RuleKind::Length { .. } if !text => {
                    return Err(Error::invalid(format!(
                        "rule {}: column {c:?} is {t}, and the rule applies to text; read it as \
                         text with schema={{{c:?}: \"string\"}}",
                        self.name
                    )))
                }
                RuleKind::Range { min, max } => {
                    Bounds::new(min.as_ref(), max.as_ref(), t)
                        .map_err(|e| Error::invalid(format!("rule {}: {e}", self.name)))?;
                }
                RuleKind::Allowed(values) => {
                    allowed_hashes(values, field)
                        .map_err(|e| Error::invalid(format!("rule {}: {e}", self.name)))?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The rows of `batch` that break this row rule, each with what is wrong (empty for
    /// ordered rules, which run elsewhere).
    pub fn violations(&self, batch: &RecordBatch) -> Result<Vec<(usize, String)>> {
        let Some(name) = &self.column else {
            return Ok(Vec::new());
        };
        let Some(array) = batch.column_by_name(name) else {
            return Ok(match self.kind {
                RuleKind::NotNull => (0..batch.num_rows())
                    .map(|i| (i, "the column is missing".to_string()))
                    .collect(),
                _ => Vec::new(),
            });
        };
        let array = array.as_ref();
        let mut out = Vec::new();
        match &self.kind {
            RuleKind::NotNull => {
                if let Some(nulls) = array.logical_nulls() {
                    out.extend(
                        nulls
                            .iter()
                            .enumerate()
                            .filter(|(_, v)| !v)
                            .map(|(i, _)| (i, "the value is null".to_string())),
                    );
                }
            }
            RuleKind::Range { min, max } => {
                let bounds = Bounds::new(min.as_ref(), max.as_ref(), array.data_type())?;
                let shown =
                    |b: &Option<Literal>| b.as_ref().map_or_else(|| "-".to_string(), Literal::text);
                for i in bounds.outside(array) {
                    out.push((
                        i,
                        format!(
                            "{} is outside [{}, {}]",
                            value_text(array, i),
                            shown(min),
                            shown(max)
                        ),
                    ));
                }
            }
            RuleKind::Regex(re) => {
                let pattern = re.as_str();
                let pattern = pattern
                    .strip_prefix("^(?:")
                    .and_then(|p| p.strip_suffix(")$"))
                    .unwrap_or(pattern);
                each_text(array, |i, v| {
                    if !re.is_match(v) {
                        out.push((i, format!("{:?} does not match {pattern:?}", short(v))));
                    }
                });
            }
            RuleKind::Length { min, max } => each_text(array, |i, v| {
                let n = v.chars().count() as u64;
                if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                    out.push((
                        i,
                        format!(
                            "{:?} has {n} characters; allowed {}..{}",
                            short(v),
                            min.map_or(String::new(), |m| m.to_string()),
                            max.map_or(String::new(), |m| m.to_string())
                        ),
                    ));
                }
            }),
            RuleKind::Allowed(values) => {
                let field = Field::new(name, array.data_type().clone(), true);
                let set = allowed_hashes(values, &field)?;
                let mut cells = Vec::new();
                hash_values(array, column_seed(name), &mut cells);
                for (i, h) in cells.iter().enumerate() {
                    if array.is_valid(i) && !set.contains(h) {
                        out.push((
                            i,
                            format!("{} is not an allowed value", value_text(array, i)),
                        ));
                    }
                }
            }
            RuleKind::Unique { .. } | RuleKind::Check(_) => {}
        }
        Ok(out)
    }
}

/// `s` cut to 60 characters for a message.
fn short(s: &str) -> String {
    if s.chars().count() <= 60 {
        return s.to_string();
    }
    let mut t: String = s.chars().take(60).collect();
    t.push('…');
    t
}

/// Row `i` of `array` as text, for messages.
fn value_text(array: &dyn Array, i: usize) -> String {
    if let Some(s) = array.as_string_opt::<i32>() {
        return format!("{:?}", short(s.value(i)));
    }
    let one = array.slice(i, 1);
    let from = Field::new("v", array.data_type().clone(), true);
    let to = Field::new("v", DataType::Utf8, true);
    conform::conform_array(&one, &from, &to)
        .ok()
        .and_then(|a| {
            a.as_string_opt::<i32>()
                .filter(|s| !s.is_empty())
                .map(|s| s.value(0).to_string())
        })
        .unwrap_or_default()
}

/// Calls `f` with each non-null text value (an empty iteration for other types).
fn each_text(array: &dyn Array, mut f: impl FnMut(usize, &str)) {
    fn go<O: OffsetSizeTrait>(array: &dyn Array, f: &mut impl FnMut(usize, &str)) -> bool {
        let Some(a) = array.as_string_opt::<O>() else {
            return false;
        };
        for (i, v) in a.iter().enumerate() {
            if let Some(v) = v {
                f(i, v);
            }
        }
        true
    }
    if go::<i32>(array, &mut f) || go::<i64>(array, &mut f) {
        return;
    }
    if let Some(a) = array.as_string_view_opt() {
        for (i, v) in a.iter().enumerate() {
            if let Some(v) = v {
                f(i, v);
            }
        }
    }
}

/// A literal read as a value of a date, time or timestamp column (`None` if it is not one).
fn temporal(lit: &Literal, t: &DataType) -> Option<i64> {
    let text = lit.text();
    let b = text.as_bytes();
    match t {
        DataType::Date32 => values::parse_date(b).map(i64::from),
        DataType::Timestamp(unit, tz) => {
            let nanos = *unit == TimeUnit::Nanosecond;
            let v = values::timestamp_value(b, DateFormat::ISO, tz.is_some(), nanos)
                // A bound without an offset, for a column in UTC, is read as UTC.
                .or_else(|| values::timestamp_value(b, DateFormat::ISO, false, nanos))?;
            Some(match unit {
                TimeUnit::Second => v / 1_000_000,
                TimeUnit::Millisecond => v / 1_000,
                _ => v,
            })
        }
        DataType::Time64(unit) => {
            let micros = values::parse_time(b)?;
            Some(if *unit == TimeUnit::Nanosecond {
                micros.checked_mul(1_000)?
            } else {
                micros
            })
        }
        _ => None,
    }
}

/// Bounds compiled for one column type.
enum Bounds {
    Int(Option<i64>, Option<i64>),
    Float(Option<f64>, Option<f64>),
    Text(Option<String>, Option<String>),
}

impl Bounds {
    fn new(min: Option<&Literal>, max: Option<&Literal>, t: &DataType) -> Result<Bounds> {
        let bad = |l: &Literal| Error::invalid(format!("the bound {l} does not suit a {t} column"));
        let number = |l: &Literal| -> Result<f64> {
            match l {
                Literal::Int(v) => {
                    #[allow(clippy::cast_precision_loss)]
                    let f = *v as f64;
                    Ok(f)
                }
                Literal::Float(v) => Ok(*v),
                Literal::Text(s) => values::parse_f64(s.trim().as_bytes()).ok_or_else(|| bad(l)),
                Literal::Bool(_) => Err(bad(l)),
            }
        };
        let int = |l: &Literal| match l {
            Literal::Int(v) => Some(*v),
            Literal::Text(s) => values::parse_i64(s.trim().as_bytes()),
            _ => None,
        };
        Ok(match t {
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
                if [min, max].iter().flatten().all(|l| int(l).is_some()) =>
            {
                Bounds::Int(min.and_then(int), max.and_then(int))
            }
            t if t.is_numeric() => {
                Bounds::Float(min.map(number).transpose()?, max.map(number).transpose()?)
            }
            DataType::Date32 | DataType::Timestamp(_, _) | DataType::Time64(_) => {
                let read = |l: &Literal| temporal(l, t).ok_or_else(|| bad(l));
                Bounds::Int(min.map(read).transpose()?, max.map(read).transpose()?)
            }
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                Bounds::Text(min.map(Literal::text), max.map(Literal::text))
            }
            DataType::Null => Bounds::Int(None, None),
            _ => {
                return Err(Error::invalid(format!(
                    "a range does not apply to a {t} column"
                )))
            }
        })
    }

    /// The rows of `array` with a value outside the bounds.
    fn outside(&self, array: &dyn Array) -> Vec<usize> {
        let valid = |i: usize| array.is_valid(i);
        let mut out = Vec::new();
        match self {
            Bounds::Int(lo, hi) => {
                let ints: Option<Vec<i64>> = as_i64(array);
                for (i, v) in ints.into_iter().flatten().enumerate() {
                    if valid(i) && (lo.is_some_and(|m| v < m) || hi.is_some_and(|m| v > m)) {
                        out.push(i);
                    }
                }
            }
            Bounds::Float(lo, hi) => {
                for (i, v) in as_f64(array).into_iter().flatten().enumerate() {
                    let below = lo.is_some_and(|m| v < m);
                    let above = hi.is_some_and(|m| v > m);
                    if valid(i) && (below || above || v.is_nan()) {
                        out.push(i);
                    }
                }
            }
            Bounds::Text(lo, hi) => each_text(array, |i, v| {
                if lo.as_deref().is_some_and(|m| v < m) || hi.as_deref().is_some_and(|m| v > m) {
                    out.push(i);
                }
            }),
        }
        out
    }
}

/// The values of an integer or temporal array as i64 (nulls as 0).
fn as_i64(array: &dyn Array) -> Option<Vec<i64>> {
    use arrow_array::types as t;
    macro_rules! ints {
        ($($ty:ty),*) => {
            $(if let Some(a) = array.as_primitive_opt::<$ty>() {
                return Some(a.values().iter().map(|&v| i64::from(v)).collect());
            })*
        };
    }
    ints!(
        t::Int8Type,
        t::Int16Type,
        t::Int32Type,
        t::Int64Type,
        t::UInt8Type,
        t::UInt16Type
    );
    ints!(
        t::UInt32Type,
        t::Date32Type,
        t::Time64MicrosecondType,
        t::Time64NanosecondType
    );
    ints!(t::TimestampSecondType, t::TimestampMillisecondType);
    ints!(t::TimestampMicrosecondType, t::TimestampNanosecondType);
    None
}

/// The values of a numeric array as f64 (nulls as 0).
#[allow(clippy::cast_precision_loss)]
fn as_f64(array: &dyn Array) -> Option<Vec<f64>> {
    use arrow_array::types as t;
    if let Some(v) = as_i64(array) {
        return Some(v.into_iter().map(|x| x as f64).collect());
    }
    if let Some(a) = array.as_primitive_opt::<t::Float64Type>() {
        return Some(a.values().to_vec());
    }
    if let Some(a) = array.as_primitive_opt::<t::Float32Type>() {
        return Some(a.values().iter().map(|&v| f64::from(v)).collect());
    }
    if let Some(a) = array.as_primitive_opt::<t::UInt64Type>() {
        return Some(a.values().iter().map(|&v| v as f64).collect());
    }
    if let DataType::Decimal128(_, s) = array.data_type() {
        let unit = 10f64.powi(i32::from(*s));
        if let Some(a) = array.as_primitive_opt::<t::Decimal128Type>() {
            return Some(a.values().iter().map(|&v| v as f64 / unit).collect());
        }
    }
    None
}

/// The hashes of the allowed values, as values of `field`'s column.
fn allowed_hashes(values: &[Literal], field: &Field) -> Result<HashSet<u64>> {
    let t = field.data_type();
    let bad = |l: &Literal| Error::invalid(format!("the value {l} does not suit a {t} column"));
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for l in values {
        let a: ArrayRef = match t {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                Arc::new(StringArray::from(vec![l.text()]))
            }
            DataType::Boolean => match l {
                Literal::Bool(b) => Arc::new(BooleanArray::from(vec![*b])),
                Literal::Text(s) => {
                    Arc::new(BooleanArray::from(vec![
                        values::parse_bool(s.as_bytes()).ok_or_else(|| bad(l))?
                    ]))
                }
                _ => return Err(bad(l)),
            },
            DataType::Date32 => Arc::new(Date32Array::from(vec![i32::try_from(
                temporal(l, t).ok_or_else(|| bad(l))?,
            )
            .map_err(|_| bad(l))?])),
            DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                Arc::new(TimestampNanosecondArray::from(vec![
                    temporal(l, t).ok_or_else(|| bad(l))?
                ]))
            }
            DataType::Timestamp(_, _) => {
                let micro = DataType::Timestamp(TimeUnit::Microsecond, None);
                Arc::new(TimestampMicrosecondArray::from(vec![temporal(l, &micro)
                    .ok_or_else(|| {
                    bad(l)
                })?]))
            }
            DataType::Time64(TimeUnit::Nanosecond) => Arc::new(Time64NanosecondArray::from(vec![
                temporal(l, t).ok_or_else(|| bad(l))?,
            ])),
            DataType::Time64(_) => Arc::new(Time64MicrosecondArray::from(vec![
                temporal(l, t).ok_or_else(|| bad(l))?
            ])),
            t if t.is_numeric() => match l {
                Literal::Int(v) => Arc::new(Int64Array::from(vec![*v])),
                Literal::Float(v) => Arc::new(Float64Array::from(vec![*v])),
                Literal::Text(s) => {
                    let b = s.trim().as_bytes();
                    match values::parse_i64(b) {
                        Some(v) => Arc::new(Int64Array::from(vec![v])),
                        None => Arc::new(Float64Array::from(vec![
                            values::parse_f64(b).ok_or_else(|| bad(l))?
                        ])),
                    }
                }
                Literal::Bool(_) => return Err(bad(l)),
            },
            DataType::Null => continue,
            _ => {
                return Err(Error::invalid(format!(
                    "allowed values do not apply to a {t} column"
                )))
            }
        };
        arrays.push(a);
    }
    let seed = column_seed(field.name());
    let mut set = HashSet::new();
    let mut cells = Vec::new();
    for a in arrays {
        hash_values(a.as_ref(), seed, &mut cells);
        set.extend(cells.iter().copied());
    }
    Ok(set)
}

/// A second, independent seed for the key hashes of `unique` (128 bits in all).
const SECOND: u64 = 0x6c62_272e_07bb_0142;

/// The 128-bit key of each row of `batch` over `columns`; `None` where one is null or
/// missing.
pub fn keys(batch: &RecordBatch, columns: &[String]) -> Vec<Option<u128>> {
    let n = batch.num_rows();
    let mut lo = vec![0u64; n];
    let mut hi = vec![0u64; n];
    let mut present = vec![true; n];
    let mut cells = Vec::new();
    for c in columns {
        let Some(array) = batch.column_by_name(c) else {
            return vec![None; n];
        };
        let seed = column_seed(c);
        hash_values(array.as_ref(), seed, &mut cells);
        for (i, h) in cells.iter().enumerate() {
            if let Some(l) = lo.get_mut(i) {
                *l = l.wrapping_add(*h);
            }
        }
        hash_values(array.as_ref(), seed ^ SECOND, &mut cells);
        for (i, h) in cells.iter().enumerate() {
            if let Some(x) = hi.get_mut(i) {
                *x = x.wrapping_add(*h);
            }
            if !array.is_valid(i) {
                if let Some(p) = present.get_mut(i) {
                    *p = false;
                }
            }
        }
    }
    (0..n)
        .map(|i| {
            let ok = present.get(i).copied().unwrap_or(false);
            let (l, h) = (lo.get(i).copied()?, hi.get(i).copied()?);
            ok.then(|| (u128::from(fmix64(h ^ SECOND)) << 64) | u128::from(fmix64(l)))
        })
        .collect()
}

/// Keys per block of a spilled run: one read of 16 KiB finds a key.
const BLOCK: usize = 1024;
/// Spilled runs before they are merged into one.
const MAX_RUNS: usize = 8;
/// Bytes per key in memory (the key and the hash table's share).
const BYTES_PER_KEY: usize = 24;

/// A sorted file of keys, with every [`BLOCK`]-th key in memory.
struct Run {
    file: File,
    path: PathBuf,
    len: usize,
    index: Vec<u128>,
}

impl Run {
    fn write(path: PathBuf, keys: impl Iterator<Item = u128>) -> Result<Run> {
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::output(e).with_path(&path))?;
        // From here on the file is removed when the run is dropped, on every path.
        let mut run = Run {
            file,
            path,
            len: 0,
            index: Vec::new(),
        };
        {
            let mut w = BufWriter::with_capacity(1 << 16, &run.file);
            for k in keys {
                if run.len % BLOCK == 0 {
                    run.index.push(k);
                }
                w.write_all(&k.to_le_bytes()).map_err(Error::output)?;
                run.len += 1;
            }
            w.flush().map_err(Error::output)?;
        }
        Ok(run)
    }

    /// Keys of block `b`.
    fn block(&mut self, b: usize) -> Result<Vec<u128>> {
        let start = b * BLOCK;
        let n = BLOCK.min(self.len.saturating_sub(start));
        let mut bytes = vec![0u8; n * 16];
        self.file
            .seek(SeekFrom::Start((start * 16) as u64))
            .and_then(|_| self.file.read_exact(&mut bytes))
            .map_err(Error::output)?;
        Ok(bytes
            .chunks_exact(16)
            .map(|c| {
                let mut k = [0u8; 16];
                k.copy_from_slice(c);
                u128::from_le_bytes(k)
            })
            .collect())
    }

    /// Which of `sorted` (sorted, distinct) the run holds.
    fn contains_sorted(&mut self, sorted: &[u128]) -> Result<Vec<bool>> {
        let mut found = vec![false; sorted.len()];
        let mut loaded: Option<(usize, Vec<u128>)> = None;
        for (i, k) in sorted.iter().enumerate() {
            // The block whose first key is the last one <= k.
            let b = match self.index.partition_point(|first| first <= k) {
                0 => continue,
                p => p - 1,
            };
            if loaded.as_ref().is_none_or(|(lb, _)| *lb != b) {
                loaded = Some((b, self.block(b)?));
            }
            if let Some((_, keys)) = &loaded {
                if let Some(f) = found.get_mut(i) {
                    *f = keys.binary_search(k).is_ok();
                }
            }
        }
        Ok(found)
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The keys seen so far by a `unique` rule: a hash set up to a memory budget, then sorted
/// runs on disk (merged into one when there are too many).
pub struct KeySet {
    full: HashSet<u128, std::hash::BuildHasherDefault<super::topk::PassThrough>>,
    budget: usize,
    runs: Vec<Run>,
    dir: PathBuf,
}

static RUNS: AtomicU64 = AtomicU64::new(0);

impl KeySet {
    /// An empty set keeping about `memory` bytes of keys in memory; runs go to `dir`.
    pub fn new(memory: usize, dir: PathBuf) -> Self {
        KeySet {
            full: HashSet::default(),
            budget: (memory / BYTES_PER_KEY).max(16),
            runs: Vec::new(),
            dir,
        }
    }

    /// Runs written to disk so far (for tests).
    pub fn spilled_runs(&self) -> usize {
        self.runs.len()
    }

    /// For each key in order: whether it was seen before (by an earlier key, or earlier in
    /// `keys`); keys marked in `skip` are neither checked nor recorded.
    pub fn check(&mut self, keys: &[Option<u128>], skip: &[bool]) -> Result<Vec<bool>> {
        let mut seen = vec![false; keys.len()];
        if !self.runs.is_empty() {
            let mut probe: Vec<u128> = keys
                .iter()
                .zip(skip)
                .filter(|(_, s)| !**s)
                .filter_map(|(k, _)| *k)
                .collect();
            probe.sort_unstable();
            probe.dedup();
            let mut on_disk = vec![false; probe.len()];
            for run in &mut self.runs {
                for (d, f) in on_disk.iter_mut().zip(run.contains_sorted(&probe)?) {
                    *d |= f;
                }
            }
            for (i, k) in keys.iter().enumerate() {
                if let Some(k) = k {
                    if let Ok(at) = probe.binary_search(k) {
                        if on_disk.get(at).copied().unwrap_or(false) {
                            if let Some(s) = seen.get_mut(i) {
                                *s = true;
                            }
                        }
                    }
                }
            }
        }
        for (i, (k, s)) in keys.iter().zip(skip).enumerate() {
            let Some(k) = k else { continue };
            if *s || seen.get(i).copied().unwrap_or(false) {
                continue;
            }
            if !self.full.insert(*k) {
                if let Some(s) = seen.get_mut(i) {
                    *s = true;
                }
            }
        }
        Ok(seen)
    }

    /// Forgets keys recorded by the last [`KeySet::check`] (of rows another rule took out).
    pub fn release(&mut self, keys: &[u128]) {
        for k in keys {
            self.full.remove(k);
        }
    }

    /// Spills the keys in memory to disk when they pass the budget.
    pub fn settle(&mut self) -> Result<()> {
        if self.full.len() > self.budget {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> Result<()> {
        let mut keys: Vec<u128> = self.full.drain().collect();
        keys.sort_unstable();
        let n = RUNS.fetch_add(1, Ordering::Relaxed);
        let path = self
            .dir
            .join(format!(".logflow-unique-{}-{n}.keys", std::process::id()));
        self.runs.push(Run::write(path, keys.into_iter())?);
        if self.runs.len() > MAX_RUNS {
            // One block of each run in memory at a time.
            let n = RUNS.fetch_add(1, Ordering::Relaxed);
            let path = self
                .dir
                .join(format!(".logflow-unique-{}-{n}.keys", std::process::id()));
            let mut merge = Merge::new(std::mem::take(&mut self.runs))?;
            let mut failed = None;
            let run = Run::write(
                path,
                std::iter::from_fn(|| match merge.next() {
                    Ok(k) => k,
                    Err(e) => {
                        failed = Some(e);
                        None
                    }
                }),
            )?;
            if let Some(e) = failed {
                return Err(e);
            }
            self.runs = vec![run];
        }
        Ok(())
    }
}

/// The keys of several runs in order, without repeats, reading a block of each at a time.
struct Merge {
    runs: Vec<Run>,
    /// Per run: the block loaded, its keys, and the position in them.
    heads: Vec<(usize, Vec<u128>, usize)>,
    heap: std::collections::BinaryHeap<std::cmp::Reverse<(u128, usize)>>,
    last: Option<u128>,
}

impl Merge {
    fn new(mut runs: Vec<Run>) -> Result<Merge> {
        let mut heads = Vec::new();
        let mut heap = std::collections::BinaryHeap::new();
        for (i, r) in runs.iter_mut().enumerate() {
            let keys = if r.len > 0 { r.block(0)? } else { Vec::new() };
            if let Some(&k) = keys.first() {
                heap.push(std::cmp::Reverse((k, i)));
            }
            heads.push((0, keys, 0));
        }
        Ok(Merge {
            runs,
            heads,
            heap,
            last: None,
        })
    }

    fn next(&mut self) -> Result<Option<u128>> {
        while let Some(std::cmp::Reverse((k, i))) = self.heap.pop() {
            if let (Some((block, keys, pos)), Some(run)) =
                (self.heads.get_mut(i), self.runs.get_mut(i))
            {
                *pos += 1;
                if *pos >= keys.len() && (*block + 1) * BLOCK < run.len {
                    *block += 1;
                    *keys = run.block(*block)?;
                    *pos = 0;
                }
                if let Some(&next) = keys.get(*pos) {
                    self.heap.push(std::cmp::Reverse((next, i)));
                }
            }
            if self.last != Some(k) {
                self.last = Some(k);
                return Ok(Some(k));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::Schema;

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

    fn rows(rule: &Rule, b: &RecordBatch) -> Vec<usize> {
        rule.violations(b)
            .unwrap()
            .into_iter()
            .map(|(i, _)| i)
            .collect()
    }

    #[test]
    fn row_rules() {
        let b = batch(vec![
            (
                "id",
                Arc::new(Int64Array::from(vec![Some(1), None, Some(30), Some(4)])),
            ),
            (
                "amount",
                Arc::new(Float64Array::from(vec![1.5, -2.0, 99.0, 10.0])),
            ),
            (
                "code",
                Arc::new(StringArray::from(vec![
                    Some("AB"),
                    Some("x"),
                    None,
                    Some("ABCD"),
                ])),
            ),
            (
                "day",
                Arc::new(Date32Array::from(vec![19_000, 19_500, 20_000, 18_000])),
            ),
        ]);
        let not_null = Rule::on("id", RuleKind::NotNull, None).unwrap();
        assert_eq!(not_null.name, "not_null:id");
        assert_eq!(rows(&not_null, &b), [1]);
        let range = RuleKind::Range {
            min: Some(Literal::Int(0)),
            max: Some(Literal::Float(50.0)),
        };
        assert_eq!(
            rows(&Rule::on("amount", range.clone(), None).unwrap(), &b),
            [1, 2]
        );
        let ints = RuleKind::Range {
            min: Some(Literal::Int(2)),
            max: None,
        };
        assert_eq!(rows(&Rule::on("id", ints, None).unwrap(), &b), [0]);
        let days = RuleKind::Range {
            min: Some(Literal::Text("2022-01-01".into())),
            max: Some(Literal::Text("2024-12-31".into())),
        };
        // 19000 = 2022-01-08, 19500 = 2023-05-23, 20000 = 2024-10-04, 18000 = 2019-04-15
        assert_eq!(rows(&Rule::on("day", days, None).unwrap(), &b), [3]);
        let re = Rule::regex("code", "[A-Z]{2,3}", None).unwrap();
        assert_eq!(rows(&re, &b), [1, 3]);
        let len = RuleKind::Length {
            min: Some(2),
            max: Some(3),
        };
        assert_eq!(rows(&Rule::on("code", len, None).unwrap(), &b), [1, 3]);
        let allowed =
            RuleKind::Allowed(vec![Literal::Text("AB".into()), Literal::Text("x".into())]);
        assert_eq!(rows(&Rule::on("code", allowed, None).unwrap(), &b), [3]);
        let allowed_ids = RuleKind::Allowed(vec![Literal::Float(1.0), Literal::Text("4".into())]);
        assert_eq!(rows(&Rule::on("id", allowed_ids, None).unwrap(), &b), [2]);
        // A missing column is all nulls.
        let missing = Rule::on("nope", RuleKind::NotNull, None).unwrap();
        assert_eq!(rows(&missing, &b), [0, 1, 2, 3]);
        assert!(missing.check_schema(&b.schema(), false).is_err());
        assert!(missing.check_schema(&b.schema(), true).is_ok());
        assert!(Rule::regex("id", "1", None)
            .unwrap()
            .check_schema(&b.schema(), false)
            .is_err());
        let bad_bound = RuleKind::Range {
            min: Some(Literal::Text("soon".into())),
            max: None,
        };
        let bad = Rule::on("day", bad_bound, None).unwrap();
        assert!(bad.check_schema(&b.schema(), false).is_err());
        assert!(Rule::regex("code", "(", None).is_err());
    }

    #[test]
    fn unique_spills_and_stays_exact() {
        let dir = std::env::temp_dir().join(format!("logflow-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // A budget of ~100 keys: 20,000 keys spill many times and merge runs.
        let mut set = KeySet::new(100 * BYTES_PER_KEY, dir.clone());
        let mut dups = 0;
        for _round in 0..2 {
            for chunk in (0..10_000u128).collect::<Vec<_>>().chunks(333) {
                let keys: Vec<Option<u128>> = chunk
                    .iter()
                    .map(|k| Some(u128::from(fmix64(u64::try_from(*k).unwrap())) * 7))
                    .collect();
                let seen = set.check(&keys, &vec![false; keys.len()]).unwrap();
                set.settle().unwrap();
                dups += seen.iter().filter(|s| **s).count();
            }
        }
        assert_eq!(dups, 10_000, "the second round repeats every key");
        assert!(set.spilled_runs() >= 1);
        drop(set);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "runs removed");
        std::fs::remove_dir_all(&dir).unwrap();
        // Duplicates within one call, nulls and skipped keys.
        let mut set = KeySet::new(UNIQUE_MEMORY, std::env::temp_dir());
        let seen = set
            .check(
                &[Some(1), None, Some(1), None, Some(2), Some(2)],
                &[false, false, false, false, true, false],
            )
            .unwrap();
        assert_eq!(seen, [false, false, true, false, false, false]);
    }
}
