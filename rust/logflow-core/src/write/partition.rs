//! Hive-style partitioning: which rows of a batch go to which `col=value/` directory, and how
//! a value is written in a directory name.
//!
//! Names follow Hive (and what pyarrow, DuckDB and Spark read back): `column=value`, one
//! level per partition column in the order given; characters that are unsafe or meaningful
//! in a path (`/`, `=`, `%`, `:`, control characters, ...) are percent-encoded as `%XX`;
//! null (and the empty string, as in Hive) is [`DEFAULT_PARTITION`]. Other characters,
//! UTF-8 included, are kept as they are.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::Hash;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::temporal_conversions::{as_date, as_datetime};
use arrow_array::types::{
    Date32Type, Decimal128Type, Float64Type, Int64Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{Array, RecordBatch, UInt32Array};
use arrow_schema::{DataType, Schema, SchemaRef, TimeUnit};

use crate::error::{Error, ErrorKind, Result};
use crate::write::parquet::timestamp_values;

/// The directory value of null (and empty) partition values.
pub const DEFAULT_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// The longest directory name most file systems take, in bytes.
const NAME_MAX: usize = 255;

/// Whether Hive escapes `c` in a path segment (its `FileUtils.escapePathName` set, plus the
/// characters Windows forbids in names, so a dataset can be copied there).
fn needs_escape(c: char) -> bool {
    matches!(
        c,
        '\u{0}'
            ..='\u{1f}'
                | '\u{7f}'
                | '"'
                | '#'
                | '%'
                | '\''
                | '*'
                | '/'
                | ':'
                | '='
                | '?'
                | '\\'
                | '{'
                | '['
                | ']'
                | '^'
                | '<'
                | '>'
                | '|'
    )
}

/// Percent-encodes the characters of `s` that cannot stand in a partition directory name.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if needs_escape(c) {
            // Every escaped character is ASCII: one byte, two hex digits.
            let _ = write!(out, "%{:02X}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// The directory name of one partition level: `column=value`, both escaped; `None` (null)
/// and `""` become [`DEFAULT_PARTITION`]. Fails when the name is longer than file systems
/// allow (255 bytes).
pub fn segment(column: &str, value: Option<&str>) -> Result<String> {
    let value = match value {
        None | Some("") => DEFAULT_PARTITION.to_string(),
        Some(v) => escape(v),
    };
    let name = format!("{}={value}", escape(column));
    if name.len() > NAME_MAX {
        return Err(Error::new(ErrorKind::LimitExceeded(format!(
            "partition directory name {}... is {} bytes; file systems take at most {NAME_MAX}",
            name.chars().take(40).collect::<String>(),
            name.len()
        ))));
    }
    Ok(name)
}

/// Whether a column of this type can be a partition column.
fn partitionable(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Boolean
            | DataType::Int64
            | DataType::Float64
            | DataType::Date32
            | DataType::Utf8
            | DataType::Timestamp(_, _)
            | DataType::Decimal128(_, _)
            | DataType::Null
    )
}

/// The text of value `row` of `col` as it appears in a directory name (before escaping);
/// `None` for null. Floats print the shortest text that reads back the same (`0.1`, `1e300`,
/// `NaN`); dates as `2024-05-01`; timestamps as `2024-05-01 10:00:00[.fff][Z]`.
fn value_text(col: &dyn Array, row: usize) -> Option<String> {
    if row >= col.len() || col.is_null(row) {
        return None;
    }
    let ts = |v: i64, unit: &TimeUnit| match unit {
        TimeUnit::Second => as_datetime::<TimestampSecondType>(v),
        TimeUnit::Millisecond => as_datetime::<TimestampMillisecondType>(v),
        TimeUnit::Microsecond => as_datetime::<TimestampMicrosecondType>(v),
        TimeUnit::Nanosecond => as_datetime::<TimestampNanosecondType>(v),
    };
    Some(match col.data_type() {
        DataType::Boolean => col.as_boolean().value(row).to_string(),
        DataType::Int64 => col.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::Float64 => format!("{:?}", col.as_primitive::<Float64Type>().value(row)),
        DataType::Date32 => {
            let days = col.as_primitive::<Date32Type>().value(row);
            as_date::<Date32Type>(i64::from(days))
                .map_or_else(|| days.to_string(), |d| d.to_string())
        }
        DataType::Timestamp(unit, tz) => {
            let v = timestamp_values(col).and_then(|v| v.get(row).copied())?;
            let text = ts(v, unit).map_or_else(|| v.to_string(), |t| t.to_string());
            if tz.is_some() {
                format!("{text}Z")
            } else {
                text
            }
        }
        DataType::Utf8 => col.as_string::<i32>().value(row).to_string(),
        DataType::Decimal128(_, _) => col.as_primitive::<Decimal128Type>().value_as_string(row),
        _ => return None,
    })
}

/// Numbers the distinct keys in order of first appearance: per row its key's number, and
/// per number the first row holding it.
fn intern<K: Hash + Eq>(keys: impl Iterator<Item = K>) -> (Vec<u32>, Vec<usize>) {
    let mut seen: HashMap<K, u32> = HashMap::new();
    let mut ids = Vec::new();
    let mut firsts = Vec::new();
    for (row, k) in keys.enumerate() {
        let next = u32::try_from(firsts.len()).unwrap_or(u32::MAX);
        let id = *seen.entry(k).or_insert_with(|| {
            firsts.push(row);
            next
        });
        ids.push(id);
    }
    (ids, firsts)
}

/// [`intern`] over the values of one column (nulls are one more key).
fn intern_column(col: &dyn Array) -> (Vec<u32>, Vec<usize>) {
    let valid = |row: usize| col.is_valid(row);
    let n = col.len();
    match col.data_type() {
        DataType::Boolean => {
            let a = col.as_boolean();
            intern((0..n).map(|r| valid(r).then(|| a.value(r))))
        }
        DataType::Int64 => {
            let v = col.as_primitive::<Int64Type>().values();
            intern(v.iter().enumerate().map(|(r, x)| valid(r).then_some(*x)))
        }
        DataType::Float64 => {
            // By bits: -0.0 and 0.0 print differently; NaNs print alike and are merged by
            // directory name later.
            let v = col.as_primitive::<Float64Type>().values();
            intern(
                v.iter()
                    .enumerate()
                    .map(|(r, x)| valid(r).then_some(x.to_bits())),
            )
        }
        DataType::Date32 => {
            let v = col.as_primitive::<Date32Type>().values();
            intern(v.iter().enumerate().map(|(r, x)| valid(r).then_some(*x)))
        }
        DataType::Timestamp(_, _) => {
            let v = timestamp_values(col).unwrap_or_default();
            intern(v.iter().enumerate().map(|(r, x)| valid(r).then_some(*x)))
        }
        DataType::Utf8 => {
            let s = col.as_string::<i32>();
            intern(s.iter())
        }
        DataType::Decimal128(_, _) => {
            let v = col.as_primitive::<Decimal128Type>().values();
            intern(v.iter().enumerate().map(|(r, x)| valid(r).then_some(*x)))
        }
        // Not partitionable (refused by `Partitioner::new`): one key for everything.
        _ => intern((0..n).map(|_| ())),
    }
}

/// Splits batches by the values of the partition columns.
#[derive(Debug, Clone)]
pub struct Partitioner {
    /// (index in the input schema, column name) of each partition column, in order.
    by: Vec<(usize, String)>,
    /// Indices of the columns kept in the files.
    keep: Vec<usize>,
    file_schema: SchemaRef,
}

/// The rows of one partition in one batch.
#[derive(Debug)]
pub struct Part {
    /// The partition's directory, relative to the dataset root (`a=1/b=x`).
    pub dir: String,
    /// Its rows, without the partition columns.
    pub batch: RecordBatch,
}

impl Partitioner {
    /// Checks the partition columns against `schema`: each must exist, once, with a type
    /// that can name a directory, and at least one column must be left for the files.
    pub fn new(schema: &Schema, by: &[String]) -> Result<Self> {
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let mut cols = Vec::with_capacity(by.len());
        for name in by {
            let Some(i) = names.iter().position(|n| n == name) else {
                return Err(Error::invalid(format!(
                    "partition_by: no column {name:?}; the columns are {}",
                    crate::schema::quoted_names(&names)
                )));
            };
            if cols.iter().any(|(j, _)| *j == i) {
                return Err(Error::invalid(format!(
                    "partition_by names column {name:?} twice"
                )));
            }
            let t = schema.field(i).data_type();
            if !partitionable(t) {
                return Err(Error::invalid(format!(
                    "partition_by: column {name:?} has type {t}, which cannot name a directory"
                )));
            }
            cols.push((i, name.clone()));
        }
        let keep: Vec<usize> = (0..names.len())
            .filter(|i| !cols.iter().any(|(j, _)| j == i))
            .collect();
        if keep.is_empty() {
            return Err(Error::invalid(
                "partition_by takes every column; at least one must be left for the files",
            ));
        }
        let file_schema = Arc::new(schema.project(&keep)?);
        Ok(Partitioner {
            by: cols,
            keep,
            file_schema,
        })
    }

    /// The schema of the files: the input's without the partition columns.
    pub fn file_schema(&self) -> SchemaRef {
        self.file_schema.clone()
    }

    /// `batch` without the partition columns.
    pub fn project(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        Ok(batch.project(&self.keep)?)
    }

    /// Splits `batch` by partition, in order of each partition's first row; rows keep their
    /// order within a partition.
    pub fn split(&self, batch: &RecordBatch) -> Result<Vec<Part>> {
        let n = batch.num_rows();
        if n == 0 {
            return Ok(Vec::new());
        }
        // One number per distinct combination of partition values, column by column.
        let mut group: Vec<u32> = vec![0; n];
        let mut firsts: Vec<usize> = vec![0];
        for (i, _) in &self.by {
            let (ids, _) = intern_column(batch.column(*i).as_ref());
            (group, firsts) = intern(group.iter().zip(&ids).map(|(g, id)| (*g, *id)));
        }
        // Directory names; different values may print alike (NaN payloads): merge them.
        let mut dirs: Vec<String> = Vec::with_capacity(firsts.len());
        let mut slot_of_dir: HashMap<String, usize> = HashMap::new();
        let mut slot_of_group: Vec<usize> = Vec::with_capacity(firsts.len());
        for &row in &firsts {
            let mut dir = String::new();
            for (i, name) in &self.by {
                if !dir.is_empty() {
                    dir.push('/');
                }
                let value = value_text(batch.column(*i).as_ref(), row);
                dir.push_str(&segment(name, value.as_deref())?);
            }
            let next = dirs.len();
            let slot = *slot_of_dir.entry(dir.clone()).or_insert_with(|| {
                dirs.push(dir);
                next
            });
            slot_of_group.push(slot);
        }
        let data = self.project(batch)?;
        if dirs.len() == 1 {
            return Ok(dirs
                .into_iter()
                .map(|dir| Part {
                    dir,
                    batch: data.clone(),
                })
                .collect());
        }
        let mut rows: Vec<Vec<u32>> = vec![Vec::new(); dirs.len()];
        for (row, g) in group.iter().enumerate() {
            let slot = slot_of_group.get(*g as usize).copied().unwrap_or(0);
            if let Some(r) = rows.get_mut(slot) {
                r.push(u32::try_from(row).unwrap_or(u32::MAX));
            }
        }
        dirs.into_iter()
            .zip(rows)
            .map(|(dir, r)| {
                let indices = UInt32Array::from(r);
                Ok(Part {
                    dir,
                    batch: arrow_select::take::take_record_batch(&data, &indices)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{
        ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, StringArray,
        TimestampMicrosecondArray,
    };

    #[test]
    fn escapes_like_hive() {
        let cases = [
            ("plain", "plain"),
            ("a/b", "a%2Fb"),
            ("k=v", "k%3Dv"),
            ("100%", "100%25"),
            ("10:30", "10%3A30"),
            ("tab\there", "tab%09here"),
            ("new\nline", "new%0Aline"),
            ("back\\slash", "back%5Cslash"),
            ("what?*#", "what%3F%2A%23"),
            ("[x]{y}^", "%5Bx%5D%7By}%5E"),
            ("'q\"", "%27q%22"),
            ("a<b>c|d", "a%3Cb%3Ec%7Cd"),
            ("del\u{7f}", "del%7F"),
            // kept: spaces, plus signs, dots, dashes, unicode
            ("two words", "two words"),
            ("a+b", "a+b"),
            ("..", ".."),
            ("café ✓ 日本", "café ✓ 日本"),
        ];
        for (raw, escaped) in cases {
            assert_eq!(escape(raw), escaped, "{raw:?}");
        }
    }

    #[test]
    fn segments_name_null_and_empty_default_partition() {
        assert_eq!(segment("a", Some("x/y")).unwrap(), "a=x%2Fy");
        assert_eq!(segment("a=b", Some("1")).unwrap(), "a%3Db=1");
        assert_eq!(segment("a", None).unwrap(), "a=__HIVE_DEFAULT_PARTITION__");
        assert_eq!(
            segment("a", Some("")).unwrap(),
            "a=__HIVE_DEFAULT_PARTITION__"
        );
        let long = "x".repeat(300);
        let err = segment("a", Some(&long)).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::LimitExceeded(_)));
        // escaping counts: 100 slashes are 300 bytes
        assert!(segment("a", Some(&"/".repeat(100))).is_err());
    }

    #[test]
    fn values_print_as_readers_parse_them() {
        let f: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(1.0),
            Some(0.1),
            Some(1e300),
            None,
        ]));
        let texts: Vec<_> = (0..4).map(|r| value_text(f.as_ref(), r)).collect();
        assert_eq!(
            texts,
            vec![
                Some("1.0".into()),
                Some("0.1".into()),
                Some("1e300".into()),
                None
            ]
        );
        let d: ArrayRef = Arc::new(Date32Array::from(vec![19_844]));
        assert_eq!(value_text(d.as_ref(), 0).as_deref(), Some("2024-05-01"));
        let t: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![
            1_714_557_600_000_000,
            1_714_557_600_500_000,
        ]));
        assert_eq!(
            value_text(t.as_ref(), 0).as_deref(),
            Some("2024-05-01 10:00:00")
        );
        assert_eq!(
            value_text(t.as_ref(), 1).as_deref(),
            Some("2024-05-01 10:00:00.500")
        );
        let utc: ArrayRef = Arc::new(
            TimestampMicrosecondArray::from(vec![1_714_557_600_000_000]).with_timezone("UTC"),
        );
        assert_eq!(
            value_text(utc.as_ref(), 0).as_deref(),
            Some("2024-05-01 10:00:00Z")
        );
        let b: ArrayRef = Arc::new(BooleanArray::from(vec![true, false]));
        assert_eq!(value_text(b.as_ref(), 1).as_deref(), Some("false"));
    }

    fn batch() -> RecordBatch {
        RecordBatch::try_from_iter([
            (
                "id",
                Arc::new(Int64Array::from_iter_values(0..8)) as ArrayRef,
            ),
            (
                "kind",
                Arc::new(StringArray::from(vec![
                    Some("a"),
                    Some("b/c"),
                    Some("a"),
                    None,
                    Some("b/c"),
                    Some("a"),
                    None,
                    Some(""),
                ])) as ArrayRef,
            ),
            (
                "n",
                Arc::new(Int64Array::from(vec![
                    Some(1),
                    Some(1),
                    Some(2),
                    Some(1),
                    Some(1),
                    Some(1),
                    None,
                    Some(1),
                ])) as ArrayRef,
            ),
        ])
        .unwrap()
    }

    fn ids(b: &RecordBatch) -> Vec<i64> {
        b.column(0).as_primitive::<Int64Type>().values().to_vec()
    }

    #[test]
    fn splits_by_one_column_in_order_of_first_row() {
        let p = Partitioner::new(&batch().schema(), &["kind".into()]).unwrap();
        assert_eq!(p.file_schema().fields().len(), 2);
        let parts = p.split(&batch()).unwrap();
        let got: Vec<(&str, Vec<i64>)> = parts
            .iter()
            .map(|x| (x.dir.as_str(), ids(&x.batch)))
            .collect();
        assert_eq!(
            got,
            vec![
                ("kind=a", vec![0, 2, 5]),
                ("kind=b%2Fc", vec![1, 4]),
                // null and "" share the default partition
                ("kind=__HIVE_DEFAULT_PARTITION__", vec![3, 6, 7]),
            ]
        );
        assert!(parts.iter().all(|x| x.batch.schema() == p.file_schema()));
    }

    #[test]
    fn splits_by_two_columns_nested_in_the_order_given() {
        let p = Partitioner::new(&batch().schema(), &["n".into(), "kind".into()]).unwrap();
        assert_eq!(p.file_schema().fields().len(), 1);
        let parts = p.split(&batch()).unwrap();
        let got: Vec<(&str, Vec<i64>)> = parts
            .iter()
            .map(|x| (x.dir.as_str(), ids(&x.batch)))
            .collect();
        assert_eq!(
            got,
            vec![
                ("n=1/kind=a", vec![0, 5]),
                ("n=1/kind=b%2Fc", vec![1, 4]),
                ("n=2/kind=a", vec![2]),
                ("n=1/kind=__HIVE_DEFAULT_PARTITION__", vec![3, 7]),
                (
                    "n=__HIVE_DEFAULT_PARTITION__/kind=__HIVE_DEFAULT_PARTITION__",
                    vec![6]
                ),
            ]
        );
    }

    #[test]
    fn one_partition_needs_no_copy() {
        let p = Partitioner::new(&batch().schema(), &["id".into()]).unwrap();
        let one = batch().slice(3, 1);
        let parts = p.split(&one).unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].dir, "id=3");
        assert!(p.split(&batch().slice(0, 0)).unwrap().is_empty());
    }

    #[test]
    fn nan_payloads_share_a_directory() {
        let other_nan = f64::from_bits(f64::NAN.to_bits() ^ 1);
        assert!(other_nan.is_nan());
        let b = RecordBatch::try_from_iter([
            (
                "x",
                Arc::new(Float64Array::from(vec![f64::NAN, other_nan, 0.0, -0.0])) as ArrayRef,
            ),
            (
                "y",
                Arc::new(Int64Array::from_iter_values(0..4)) as ArrayRef,
            ),
        ])
        .unwrap();
        let p = Partitioner::new(&b.schema(), &["x".into()]).unwrap();
        let dirs: Vec<String> = p.split(&b).unwrap().into_iter().map(|x| x.dir).collect();
        assert_eq!(dirs, vec!["x=NaN", "x=0.0", "x=-0.0"]);
    }

    #[test]
    fn bad_partition_columns_are_config_errors() {
        let s = batch().schema();
        let err = Partitioner::new(&s, &["nope".into()]).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::InvalidArgument(_)));
        let msg = err.to_string();
        assert!(
            msg.contains("\"nope\"") && msg.contains("\"id\", \"kind\", \"n\""),
            "{msg}"
        );
        assert!(Partitioner::new(&s, &["id".into(), "id".into()]).is_err());
        assert!(Partitioner::new(&s, &["id".into(), "kind".into(), "n".into()]).is_err());
    }
}
