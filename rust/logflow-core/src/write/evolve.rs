//! Output written before the schema widened, brought to the final schema.
//!
//! When a batch arrives whose schema is wider than the output's (a field that appeared late
//! in a JSON file, an integer column that turned out to hold fractions), the writer closes
//! what it wrote so far as a *segment*, still under temporary names, and goes on with the
//! wider schema. At the end, if there was more than one segment, every segment is read back
//! row group by row group, conformed to the final schema ([`conform`]) and written to the
//! output, in order: the output has one schema, and memory stays bounded. Without a schema
//! change nothing is read back.

use std::fs::File;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use arrow_array::{new_null_array, ArrayRef, RecordBatch, RecordBatchOptions, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::decode::values;
use crate::error::{Error, Result};
use crate::write::conform;
use crate::write::partition::DEFAULT_PARTITION;
use crate::write::{BatchSink, ClosedOutput};

/// Rows read back per batch.
const READ_BATCH: usize = 64 * 1024;

/// One file of a closed segment: where it is now (its temporary name) and where it would
/// have gone.
#[derive(Debug, Clone)]
pub struct Staged {
    /// The temporary file.
    pub tmp: PathBuf,
    /// Its final path (for a partitioned dataset, under `col=value/` directories).
    pub dst: PathBuf,
}

/// Writes every file of `segment` into `sink`, conformed to `target`. For a partitioned
/// dataset rooted at `root`, the partition columns (which its files do not hold) are put
/// back from the directory names, typed as `written` (the segment's schema) had them.
pub fn copy_segment(
    segment: &dyn ClosedOutput,
    written: &SchemaRef,
    partition: Option<(&Path, &[String])>,
    target: &SchemaRef,
    sink: &mut dyn BatchSink,
    stop: &dyn Fn() -> Result<()>,
) -> Result<()> {
    for file in segment.staged() {
        let handle = File::open(&file.tmp).map_err(|e| Error::output(e).with_path(&file.tmp))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(handle)?
            .with_batch_size(READ_BATCH)
            .build()?;
        let parts = match partition {
            Some((root, columns)) => partition_values(&file.dst, root, columns)?,
            None => Vec::new(),
        };
        for batch in reader {
            stop()?;
            let batch = with_partitions(batch?, &parts, written)?;
            sink.write(&conform::conform(&batch, target)?)?;
        }
    }
    Ok(())
}

/// The checksum ([`crate::sketch::checksum`]) of every row of `output`, read back from its
/// files with the parquet crate's reader; for a partitioned dataset rooted at `root`, with
/// the partition columns put back from the directory names, typed as in `schema`.
pub fn checksum_of(
    output: &dyn ClosedOutput,
    schema: &SchemaRef,
    partition: Option<(&Path, &[String])>,
    stop: &dyn Fn() -> Result<()>,
) -> Result<u64> {
    let mut sum = 0u64;
    for file in output.staged() {
        let handle = File::open(&file.tmp).map_err(|e| Error::output(e).with_path(&file.tmp))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(handle)?
            .with_batch_size(READ_BATCH)
            .build()?;
        let parts = match partition {
            Some((root, columns)) => partition_values(&file.dst, root, columns)?,
            None => Vec::new(),
        };
        for batch in reader {
            stop()?;
            let batch = with_partitions(batch?, &parts, schema)?;
            sum = sum.wrapping_add(crate::sketch::checksum::batch_checksum(&batch));
        }
    }
    Ok(sum)
}

/// The partition values in `path` under `root`: `(column, text)` from `col=value`
/// directories, percent-decoded; `None` for Hive's default (null) partition.
fn partition_values(
    path: &Path,
    root: &Path,
    columns: &[String],
) -> Result<Vec<(String, Option<String>)>> {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut out = Vec::new();
    for c in rel.components() {
        let Component::Normal(name) = c else { continue };
        let name = name.to_string_lossy();
        let Some((col, value)) = name.split_once('=') else {
            continue;
        };
        let col = unescape(col);
        if !columns.contains(&col) {
            continue;
        }
        let value = (value != DEFAULT_PARTITION).then(|| unescape(value));
        out.push((col, value));
    }
    Ok(out)
}

/// Undoes the `%XX` escapes of a partition directory name.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (c, hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `batch` with the partition columns added back, typed as in `written` and placed where
/// `written` has them.
fn with_partitions(
    batch: RecordBatch,
    parts: &[(String, Option<String>)],
    written: &SchemaRef,
) -> Result<RecordBatch> {
    if parts.is_empty() {
        return Ok(batch);
    }
    let rows = batch.num_rows();
    let mut fields: Vec<Field> = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for f in written.fields() {
        if let Some((_, value)) = parts.iter().find(|(c, _)| c == f.name()) {
            columns.push(typed_constant(value.as_deref(), f.data_type(), rows)?);
            fields.push(f.as_ref().clone().with_nullable(true));
        } else if let Ok(i) = batch.schema().index_of(f.name()) {
            if let Some(col) = batch.columns().get(i) {
                columns.push(Arc::clone(col));
                fields.push(batch.schema().field(i).clone());
            }
        }
    }
    let opts = RecordBatchOptions::new().with_row_count(Some(rows));
    Ok(RecordBatch::try_new_with_options(
        Arc::new(Schema::new(fields)),
        columns,
        &opts,
    )?)
}

/// `rows` copies of the partition value `text` as a column of `ty`.
fn typed_constant(text: Option<&str>, ty: &DataType, rows: usize) -> Result<ArrayRef> {
    let Some(text) = text else {
        return Ok(new_null_array(ty, rows));
    };
    let single: ArrayRef = Arc::new(StringArray::from(vec![text]));
    let bad = || Error::invalid(format!("partition value {text:?} does not read as {ty}"));
    let one: ArrayRef = match ty {
        DataType::Utf8 => single,
        DataType::Boolean => Arc::new(arrow_array::BooleanArray::from(vec![values::parse_bool(
            text.as_bytes(),
        )
        .ok_or_else(bad)?])),
        DataType::Int64 => Arc::new(arrow_array::Int64Array::from(vec![values::parse_i64(
            text.as_bytes(),
        )
        .ok_or_else(bad)?])),
        DataType::Float64 => Arc::new(arrow_array::Float64Array::from(vec![values::parse_f64(
            text.as_bytes(),
        )
        .ok_or_else(bad)?])),
        DataType::Date32 => Arc::new(arrow_array::Date32Array::from(vec![values::parse_date(
            text.as_bytes(),
        )
        .ok_or_else(bad)?])),
        DataType::Decimal128(p, s) => Arc::new(
            arrow_array::Decimal128Array::from(vec![values::parse_decimal(
                text.as_bytes(),
                *p,
                s.unsigned_abs(),
            )
            .ok_or_else(bad)?])
            .with_precision_and_scale(*p, *s)?,
        ),
        DataType::Timestamp(unit, tz) => {
            let nanos = *unit == arrow_schema::TimeUnit::Nanosecond;
            let v = values::timestamp_value(
                text.as_bytes(),
                values::DateFormat::ISO,
                tz.is_some(),
                nanos,
            )
            .ok_or_else(bad)?;
            if nanos {
                Arc::new(
                    arrow_array::TimestampNanosecondArray::from(vec![v])
                        .with_timezone_opt(tz.clone()),
                )
            } else {
                Arc::new(
                    arrow_array::TimestampMicrosecondArray::from(vec![v])
                        .with_timezone_opt(tz.clone()),
                )
            }
        }
        DataType::Null => new_null_array(ty, 1),
        _ => return Err(bad()),
    };
    let indices = arrow_array::UInt32Array::from(vec![0u32; rows]);
    Ok(arrow_select::take::take(one.as_ref(), &indices, None)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_values_are_read_back_from_directory_names() {
        let root = Path::new("/out");
        let path = Path::new("/out/kind=a%2Fb/day=__HIVE_DEFAULT_PARTITION__/part-00000.parquet");
        let cols = ["kind".to_string(), "day".to_string()];
        assert_eq!(
            partition_values(path, root, &cols).unwrap(),
            vec![("kind".into(), Some("a/b".into())), ("day".into(), None)]
        );
        let c = typed_constant(Some("42"), &DataType::Int64, 3).unwrap();
        assert_eq!(c.len(), 3);
        assert!(typed_constant(Some("x"), &DataType::Int64, 1).is_err());
    }
}
