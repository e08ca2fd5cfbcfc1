//! Struct columns flattened to `parent.child` columns (`flatten=True`), for any nested
//! format.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions, StructArray};
use arrow_schema::{Field, SchemaRef};

use super::build::Col;
use super::plan::{Node, StructPlan};
use crate::error::{Error, Result};

/// The records built in `root` (planned as `plan`) as batches of `schema`, flattened to
/// `flatten` levels when asked, of at most `batch_rows` rows each.
pub fn record_batches(
    root: &mut Col,
    plan: &Arc<StructPlan>,
    schema: &SchemaRef,
    flatten: Option<usize>,
    batch_rows: usize,
) -> Result<Vec<RecordBatch>> {
    let rows = root.len();
    if rows == 0 {
        return Ok(Vec::new());
    }
    let array = root.finish(&Node::Struct(Arc::clone(plan)))?;
    let Some(array) = array.as_any().downcast_ref::<StructArray>() else {
        return Err(Error::invalid("internal error: records are not a struct"));
    };
    let mut columns = Vec::new();
    match flatten {
        Some(depth) => flat_columns(array, depth, &mut columns)?,
        None => columns.extend(array.columns().iter().cloned()),
    }
    let opts = RecordBatchOptions::new().with_row_count(Some(rows));
    let batch = RecordBatch::try_new_with_options(schema.clone(), columns, &opts)?;
    Ok(slice_batches(&batch, batch_rows))
}

/// `batch` in slices of at most `rows` rows.
pub fn slice_batches(batch: &RecordBatch, rows: usize) -> Vec<RecordBatch> {
    let total = batch.num_rows();
    let mut out = Vec::new();
    let mut offset = 0;
    while offset < total {
        let len = rows.max(1).min(total - offset);
        out.push(batch.slice(offset, len));
        offset += len;
    }
    out
}

/// `fields` with struct fields replaced by their children named `parent.child`, to `depth`
/// levels.
pub fn flat_fields(fields: &arrow_schema::Fields, prefix: &str, depth: usize) -> Vec<Field> {
    let mut out = Vec::new();
    for f in fields {
        let name = format!("{prefix}{}", f.name());
        match f.data_type() {
            arrow_schema::DataType::Struct(children) if depth > 0 && !children.is_empty() => {
                out.extend(flat_fields(children, &format!("{name}."), depth - 1));
            }
            _ => out.push(f.as_ref().clone().with_name(name)),
        }
    }
    out
}

/// The columns of a finished struct array, flattened as [`flat_fields`] names them; a
/// parent's nulls carry into its children.
pub fn flat_columns(array: &StructArray, depth: usize, out: &mut Vec<ArrayRef>) -> Result<()> {
    for child in array.columns() {
        let child = match array.nulls() {
            Some(parent) if depth > 0 => with_parent_nulls(child, parent)?,
            _ => Arc::clone(child),
        };
        match child.as_any().downcast_ref::<StructArray>() {
            Some(s) if depth > 0 && s.num_columns() > 0 => flat_columns(s, depth - 1, out)?,
            _ => out.push(child),
        }
    }
    Ok(())
}

fn with_parent_nulls(child: &ArrayRef, parent: &arrow_buffer::NullBuffer) -> Result<ArrayRef> {
    // A null-typed column is null throughout and holds no validity of its own.
    if child.data_type() == &arrow_schema::DataType::Null {
        return Ok(Arc::clone(child));
    }
    let nulls = arrow_buffer::NullBuffer::union(Some(parent), child.nulls());
    let data = child.to_data().into_builder().nulls(nulls).build()?;
    Ok(arrow_array::make_array(data))
}
