//! What happens to each batch a binary reader decodes before it joins the pipeline: the
//! columns asked for (`columns=`), in their order; the types `schema=` names, with values that
//! do not fit handled by the error policy; and, for Parquet output, the few Arrow types Parquet
//! cannot hold turned into ones it can.
//!
//! Text columns are typed by the rules the CSV decoder applies to its fields (so
//! `schema={"amount": "decimal128(12, 2)"}` reads `"12.345"` as a cast error, never rounded,
//! whatever the input format); other columns are cast by Arrow's cast kernels, and a numeric
//! cast that changes a value (`1.5` to int64) is a cast error too.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int64Builder,
    Time64MicrosecondBuilder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type, IntervalMonthDayNanoType};
use arrow_array::{
    Array, ArrayRef, BooleanArray, NullArray, PrimitiveArray, RecordBatch, RecordBatchOptions,
    StringArray, StructArray, TimestampMicrosecondArray, TimestampNanosecondArray,
};
use arrow_buffer::{BooleanBufferBuilder, NullBuffer};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::{DataType, Field, FieldRef, Fields, IntervalUnit, Schema, SchemaRef, TimeUnit};

use crate::decode::values::{self, DateFormat};
use crate::decode::{CastErrorPolicy, DecodeOptions, ErrorPolicy, Reject, RejectReason};
use crate::error::{Error, ErrorKind, Position, Result};
use crate::schema::ColumnType;
use crate::stream::parts::Finish;
use crate::stream::{ChunkOutput, RowSources};

use super::NativeOptions;

/// One column cast to a type `schema=` named.
#[derive(Debug, Clone)]
struct Cast {
    /// Position in the projected batch.
    index: usize,
    to: ColumnType,
}

/// The steps every batch of one input goes through; see the module docs.
#[derive(Debug, Clone)]
pub struct Shape {
    format: &'static str,
    /// Columns of the reader's batches to keep, in output order; `None`: all, as they are.
    project: Option<Vec<usize>>,
    casts: Vec<Cast>,
    /// Whether types Parquet cannot hold are converted (for `convert`, not for `read`).
    storable: bool,
    policy: ErrorPolicy,
    on_cast_error: CastErrorPolicy,
    /// The schema after the projection and the casts.
    cast_schema: SchemaRef,
    /// The schema of the batches handed on (`cast_schema`, made storable for Parquet).
    schema: SchemaRef,
    /// Keep each row as a line of JSON ([`ChunkOutput::sources`]), for rules: binary
    /// inputs have no row bytes, and their quarantine holds lines of JSON.
    row_sources: bool,
}

impl Shape {
    /// The shape of batches of `input` schema: `native.columns` chosen, `decode.column_types`
    /// applied. Unknown column names are a [`ErrorKind::InvalidArgument`] error listing the
    /// columns; a type a column cannot be cast to is a [`ErrorKind::Schema`] error.
    pub fn new(
        input: &SchemaRef,
        format: &'static str,
        decode: &DecodeOptions,
        native: &NativeOptions,
    ) -> Result<Self> {
        let project = match &native.columns {
            None => None,
            Some(names) => Some(project(input, names)?),
        };
        let projected: Vec<FieldRef> = match &project {
            None => input.fields().iter().cloned().collect(),
            Some(idx) => idx
                .iter()
                .filter_map(|&i| input.fields().get(i).cloned())
                .collect(),
        };
        let mut casts = Vec::new();
        for (name, to) in &decode.column_types {
            let Some(index) = projected.iter().position(|f| f.name() == name) else {
                return Err(Error::new(ErrorKind::Schema(format!(
                    "schema names column {name:?}, which the input does not have (its columns: {})",
                    crate::schema::quoted_names(
                        &projected
                            .iter()
                            .map(|f| f.name().as_str())
                            .collect::<Vec<_>>()
                    )
                ))));
            };
            let from = projected.get(index).map(|f| f.data_type().clone());
            let target = to.data_type();
            if from.as_ref() == Some(&target) {
                continue;
            }
            let castable = from
                .as_ref()
                .is_some_and(|from| is_text(from) || arrow_cast::can_cast_types(from, &target));
            if !castable {
                return Err(Error::new(ErrorKind::Schema(format!(
                    "column {name:?} is {}; it cannot be cast to {target}",
                    from.map_or_else(|| "?".to_string(), |t| t.to_string())
                ))));
            }
            casts.push(Cast { index, to: *to });
        }
        let mut fields = projected;
        for c in &casts {
            if let Some(f) = fields.get_mut(c.index) {
                *f = Arc::new(
                    f.as_ref()
                        .clone()
                        .with_data_type(c.to.data_type())
                        .with_nullable(true),
                );
            }
        }
        let schema = Arc::new(Schema::new_with_metadata(fields, input.metadata().clone()));
        Ok(Shape {
            cast_schema: Arc::clone(&schema),
            format,
            project,
            casts,
            storable: false,
            policy: decode.error_policy,
            on_cast_error: decode.on_cast_error,
            schema,
            row_sources: decode.row_sources,
        })
    }

    /// Also converts the types Parquet cannot hold ([`storable_schema`]).
    #[must_use]
    pub fn for_parquet(mut self) -> Self {
        self.storable = true;
        self.schema = storable_schema(&self.cast_schema);
        self
    }

    /// The schema of the batches handed on.
    pub fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    /// Whether batches pass unchanged.
    fn is_identity(&self) -> bool {
        self.project.is_none() && self.casts.is_empty() && !self.storable
    }

    /// The step as a [`Finish`] for a part reader.
    pub fn finish(self) -> Finish {
        let shape = Arc::new(self);
        Arc::new(move |batch| shape.apply(batch))
    }

    /// Shapes one batch: its output (with rejects, or the error under the strict policy).
    pub fn apply(&self, batch: RecordBatch) -> ChunkOutput {
        let rows = batch.num_rows() as u64;
        let mut out = ChunkOutput {
            rows_read: rows,
            ..ChunkOutput::default()
        };
        if self.is_identity() {
            if self.row_sources {
                out.sources = Some(json_sources(&batch, None));
            }
            out.batches.push(batch);
            return out;
        }
        match self.shape(batch, &mut out) {
            Ok(Some(b)) => out.batches.push(b),
            Ok(None) => {}
            Err(e) => out.error = Some(e),
        }
        out
    }

    fn shape(&self, batch: RecordBatch, out: &mut ChunkOutput) -> Result<Option<RecordBatch>> {
        let batch = match &self.project {
            Some(idx) => batch.project(idx)?,
            None => batch,
        };
        let rows = batch.num_rows();
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        // Per row: the first column whose value did not fit, and its text.
        let mut bad: Vec<Option<(usize, String)>> = Vec::new();
        for c in &self.casts {
            let Some(source) = columns.get(c.index).cloned() else {
                continue;
            };
            let (cast, failed) = cast_column(&source, c.to)?;
            if let Some(failed) = failed {
                if self.on_cast_error == CastErrorPolicy::Null {
                    out.values_nulled += failed.count_set_bits() as u64;
                } else {
                    bad.resize(rows, None);
                    for i in failed.set_indices() {
                        if let Some(slot) = bad.get_mut(i).filter(|s| s.is_none()) {
                            *slot = Some((c.index, value_text(&source, i)));
                        }
                    }
                }
            }
            if let Some(slot) = columns.get_mut(c.index) {
                *slot = cast;
            }
        }
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        let mut shaped =
            RecordBatch::try_new_with_options(Arc::clone(&self.cast_schema), columns, &options)?;
        if self.row_sources {
            let kept = (!bad.is_empty()).then(|| bad.iter().map(Option::is_none).collect());
            out.sources = Some(json_sources(&batch, kept));
        }
        if bad.iter().any(Option::is_some) {
            let mut keep = BooleanBufferBuilder::new(rows);
            for (i, b) in bad.iter().enumerate() {
                keep.append(b.is_none());
                let Some((col, text)) = b else { continue };
                let name = batch.schema().field(*col).name().clone();
                let to = self
                    .casts
                    .iter()
                    .find(|c| c.index == *col)
                    .map_or(DataType::Null, |c| c.to.data_type());
                let detail = format!("value {text:?} does not fit {to}");
                let position = Position {
                    record: i as u64,
                    ..Position::default()
                };
                if self.policy == ErrorPolicy::Strict {
                    return Err(Error::decode(self.format, position, Some(name), detail));
                }
                out.rejects.push(Reject {
                    position,
                    column: Some(name),
                    reason: RejectReason::CastError,
                    detail,
                    raw: row_json(&batch, i),
                });
            }
            let keep = BooleanArray::new(keep.finish(), None);
            shaped = arrow_select::filter::filter_record_batch(&shaped, &keep)?;
        }
        if self.storable {
            shaped = storable_batch(&shaped, &self.schema)?;
        }
        Ok((shaped.num_rows() > 0 || rows == 0).then_some(shaped))
    }
}

/// Indices of the top-level columns `names` asks for, in its order; a dotted name (`a.b`,
/// a path into a nested column a Parquet reader has already cut down) stands for its first
/// part. Names repeat at most once.
fn project(schema: &Schema, names: &[String]) -> Result<Vec<usize>> {
    let mut out: Vec<usize> = Vec::with_capacity(names.len());
    for name in names {
        let found = schema.index_of(name).ok().or_else(|| {
            let first = name.split('.').next()?;
            schema.index_of(first).ok()
        });
        let Some(i) = found else {
            let all: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(Error::invalid(format!(
                "columns: the input has no column {name:?} (its columns: {})",
                crate::schema::quoted_names(&all)
            )));
        };
        if !out.contains(&i) {
            out.push(i);
        }
    }
    Ok(out)
}

fn is_text(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_text(v),
        _ => false,
    }
}

/// `source` as type `to`, and the rows whose value did not fit (null now), if any.
fn cast_column(
    source: &ArrayRef,
    to: ColumnType,
) -> Result<(ArrayRef, Option<arrow_buffer::BooleanBuffer>)> {
    let target = to.data_type();
    if to == ColumnType::Null {
        return Ok((Arc::new(NullArray::new(source.len())), None));
    }
    let cast = if is_text(source.data_type()) && to != ColumnType::Utf8 {
        let text = arrow_cast::cast(source, &DataType::Utf8)?;
        parse_text(text.as_string::<i32>(), to)?
    } else {
        let options = arrow_cast::CastOptions {
            safe: true,
            ..arrow_cast::CastOptions::default()
        };
        let cast = arrow_cast::cast_with_options(source, &target, &options)?;
        if source.data_type().is_numeric() && target.is_numeric() {
            return exact(source, cast);
        }
        cast
    };
    Ok((Arc::clone(&cast), lost(source, &cast)))
}

/// The rows where `source` has a value and `cast` has none.
fn lost(source: &dyn Array, cast: &dyn Array) -> Option<arrow_buffer::BooleanBuffer> {
    if cast.null_count() == source.null_count() {
        return None;
    }
    let valid = |a: &dyn Array| -> arrow_buffer::BooleanBuffer {
        match a.logical_nulls() {
            Some(n) => n.inner().clone(),
            None => arrow_buffer::BooleanBuffer::new_set(a.len()),
        }
    };
    let failed = &valid(source) & &!&valid(cast);
    (failed.count_set_bits() > 0).then_some(failed)
}

/// A numeric cast, with the values it changed (`1.5` to int64, an integer past 2^53 to
/// float64, more digits than a decimal's scale) as failures: cast back, they differ.
fn exact(
    source: &ArrayRef,
    cast: ArrayRef,
) -> Result<(ArrayRef, Option<arrow_buffer::BooleanBuffer>)> {
    let back = arrow_cast::cast(&cast, source.data_type())?;
    let text = |a: &ArrayRef| arrow_cast::cast(a, &DataType::Utf8);
    let (a, b) = (text(source)?, text(&back)?);
    let (a, b) = (a.as_string::<i32>(), b.as_string::<i32>());
    let mut failed = BooleanBufferBuilder::new(source.len());
    let mut any = false;
    for i in 0..source.len() {
        let f = a.is_valid(i) && (b.is_null(i) || a.value(i) != b.value(i));
        any |= f;
        failed.append(f);
    }
    if !any {
        return Ok((cast, None));
    }
    let failed = failed.finish();
    // Changed values are nulls in the cast column, as values that did not fit at all are.
    let keep = match cast.logical_nulls() {
        Some(n) => n.inner() & &!&failed,
        None => !&failed,
    };
    let data = cast
        .to_data()
        .into_builder()
        .nulls(Some(NullBuffer::new(keep)));
    let cast = arrow_array::make_array(data.build()?);
    Ok((cast, Some(failed)))
}

/// Text values typed by the rules of the CSV decoder's typed columns: padding trimmed, an
/// empty value null, ISO dates and timestamps, decimals never rounded.
fn parse_text(text: &StringArray, to: ColumnType) -> Result<ArrayRef> {
    let n = text.len();
    let value = |i: usize| -> Option<&[u8]> {
        if text.is_null(i) {
            return None;
        }
        let v = values::trim_padding(text.value(i).as_bytes());
        (!v.is_empty()).then_some(v)
    };
    Ok(match to {
        ColumnType::Bool => {
            let mut b = BooleanBuilder::with_capacity(n);
            (0..n).for_each(|i| b.append_option(value(i).and_then(values::parse_bool)));
            Arc::new(b.finish())
        }
        ColumnType::Int64 => {
            let mut b = Int64Builder::with_capacity(n);
            (0..n).for_each(|i| b.append_option(value(i).and_then(values::parse_i64)));
            Arc::new(b.finish())
        }
        ColumnType::Float64 => {
            let mut b = Float64Builder::with_capacity(n);
            (0..n).for_each(|i| b.append_option(value(i).and_then(values::parse_f64)));
            Arc::new(b.finish())
        }
        ColumnType::Decimal(p, s) => {
            let mut b = Decimal128Builder::with_capacity(n);
            (0..n).for_each(|i| {
                b.append_option(value(i).and_then(|v| values::parse_decimal(v, p, s)));
            });
            Arc::new(
                b.finish()
                    .with_precision_and_scale(p, i8::try_from(s).unwrap_or(0))?,
            )
        }
        ColumnType::Date => {
            let mut b = Date32Builder::with_capacity(n);
            (0..n).for_each(|i| b.append_option(value(i).and_then(values::parse_date)));
            Arc::new(b.finish())
        }
        ColumnType::Time => {
            let mut b = Time64MicrosecondBuilder::with_capacity(n);
            (0..n).for_each(|i| b.append_option(value(i).and_then(values::parse_time)));
            Arc::new(b.finish())
        }
        ColumnType::Timestamp(u) | ColumnType::TimestampUtc(u) => {
            let utc = matches!(to, ColumnType::TimestampUtc(_));
            let nanos = u == TimeUnit::Nanosecond;
            let parsed: Vec<Option<i64>> = (0..n)
                .map(|i| {
                    value(i)
                        .and_then(|v| values::timestamp_value(v, DateFormat::default(), utc, nanos))
                })
                .collect();
            let tz = utc.then(|| Arc::<str>::from("UTC"));
            if nanos {
                Arc::new(TimestampNanosecondArray::from(parsed).with_timezone_opt(tz))
            } else {
                Arc::new(TimestampMicrosecondArray::from(parsed).with_timezone_opt(tz))
            }
        }
        ColumnType::Utf8 => Arc::new(text.clone()),
        ColumnType::Null => Arc::new(NullArray::new(n)),
    })
}

/// The value of row `i` as text, for messages.
fn value_text(array: &dyn Array, i: usize) -> String {
    let text = ArrayFormatter::try_new(array, &FormatOptions::default())
        .map(|f| f.value(i).to_string())
        .unwrap_or_default();
    crate::decode::shown(text.as_bytes())
}

/// The rows of `batch` (those `kept` says, all without it), numbered by their row in the
/// batch (the reader numbers them in the input); their bytes are made only for a row
/// taken out ([`RowSources::as_json`]).
fn json_sources(batch: &RecordBatch, kept: Option<Vec<bool>>) -> RowSources {
    let mut sources = RowSources {
        as_json: true,
        ..RowSources::default()
    };
    for i in 0..batch.num_rows() {
        if kept
            .as_ref()
            .is_some_and(|k| !k.get(i).copied().unwrap_or(true))
        {
            continue;
        }
        sources.push(&[], 0, 0, i as u64);
    }
    sources
}

/// Row `i` of `batch` as one line of JSON, for the quarantine file.
pub(crate) fn row_json(batch: &RecordBatch, i: usize) -> Vec<u8> {
    let row = StructArray::from(batch.slice(i, 1));
    let mut line = match crate::write::conform::to_json_text(&row) {
        Ok(json) if json.is_valid(0) => json.value(0).to_string(),
        // A type JSON rendering does not know: every value as text.
        _ => {
            let mut s = String::from("{");
            for (k, (field, column)) in batch
                .schema()
                .fields()
                .iter()
                .zip(batch.columns())
                .enumerate()
            {
                if k > 0 {
                    s.push_str(", ");
                }
                json_string(field.name(), &mut s);
                s.push_str(": ");
                if column.is_null(i) {
                    s.push_str("null");
                } else {
                    let text = ArrayFormatter::try_new(column.as_ref(), &FormatOptions::default())
                        .map(|f| f.value(i).to_string())
                        .unwrap_or_default();
                    json_string(&text, &mut s);
                }
            }
            s.push('}');
            s
        }
    };
    line.push('\n');
    line.into_bytes()
}

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

// ---------------------------------------------------------------------------------------
// Types Parquet cannot hold
// ---------------------------------------------------------------------------------------

/// `schema` with the types Parquet cannot hold replaced, at any depth:
///
/// - `interval[month_day_nano]` (Avro's `duration`, Arrow's interval) becomes
///   `struct<months: int32, days: int32, nanoseconds: int64>`;
/// - a union becomes a struct with one nullable member per variant, named as the variant:
///   each row has a value in the member of its variant and null in the others.
pub fn storable_schema(schema: &SchemaRef) -> SchemaRef {
    if !schema.fields().iter().any(|f| needs_storage(f.data_type())) {
        return Arc::clone(schema);
    }
    let fields: Vec<FieldRef> = schema.fields().iter().map(storable_field).collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

fn needs_storage(t: &DataType) -> bool {
    match t {
        DataType::Interval(IntervalUnit::MonthDayNano) | DataType::Union(..) => true,
        DataType::Struct(fields) => fields.iter().any(|f| needs_storage(f.data_type())),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::FixedSizeList(f, _)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::Map(f, _) => needs_storage(f.data_type()),
        DataType::Dictionary(_, v) => needs_storage(v),
        _ => false,
    }
}

fn interval_fields() -> Fields {
    Fields::from(vec![
        Field::new("months", DataType::Int32, true),
        Field::new("days", DataType::Int32, true),
        Field::new("nanoseconds", DataType::Int64, true),
    ])
}

fn storable_type(t: &DataType) -> DataType {
    match t {
        DataType::Interval(IntervalUnit::MonthDayNano) => DataType::Struct(interval_fields()),
        DataType::Union(fields, _) => DataType::Struct(Fields::from(
            fields
                .iter()
                .map(|(_, f)| storable_field(f).as_ref().clone().with_nullable(true))
                .collect::<Vec<_>>(),
        )),
        DataType::Struct(fields) => {
            DataType::Struct(fields.iter().map(storable_field).collect::<Vec<_>>().into())
        }
        DataType::List(f) => DataType::List(storable_field(f)),
        DataType::LargeList(f) => DataType::LargeList(storable_field(f)),
        DataType::FixedSizeList(f, n) => DataType::FixedSizeList(storable_field(f), *n),
        DataType::Map(f, sorted) => DataType::Map(storable_field(f), *sorted),
        other => other.clone(),
    }
}

fn storable_field(f: &FieldRef) -> FieldRef {
    if !needs_storage(f.data_type()) {
        return Arc::clone(f);
    }
    Arc::new(
        f.as_ref()
            .clone()
            .with_data_type(storable_type(f.data_type())),
    )
}

/// `batch` in the storable `schema` ([`storable_schema`] of its own).
fn storable_batch(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    if Arc::ptr_eq(batch.schema_ref(), schema) || batch.schema_ref() == schema {
        return Ok(batch.clone());
    }
    let columns = batch
        .columns()
        .iter()
        .map(storable_array)
        .collect::<Result<Vec<_>>>()?;
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    Ok(RecordBatch::try_new_with_options(
        Arc::clone(schema),
        columns,
        &options,
    )?)
}

fn storable_array(a: &ArrayRef) -> Result<ArrayRef> {
    if !needs_storage(a.data_type()) {
        return Ok(Arc::clone(a));
    }
    let nulls = a.nulls().cloned();
    Ok(match a.data_type() {
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            let v = a.as_primitive::<IntervalMonthDayNanoType>();
            let months: PrimitiveArray<Int32Type> = v.unary(|x| x.months);
            let days: PrimitiveArray<Int32Type> = v.unary(|x| x.days);
            let nanos: PrimitiveArray<Int64Type> = v.unary(|x| x.nanoseconds);
            Arc::new(StructArray::try_new(
                interval_fields(),
                vec![Arc::new(months), Arc::new(days), Arc::new(nanos)],
                nulls,
            )?)
        }
        DataType::Union(fields, mode) => {
            let u = a
                .as_any()
                .downcast_ref::<arrow_array::UnionArray>()
                .ok_or_else(|| Error::invalid("internal error: not a union array"))?;
            let mut members = Vec::new();
            let mut out_fields = Vec::new();
            for (id, field) in fields.iter() {
                // Each row's value in this member, or null.
                let idx: arrow_array::UInt32Array = (0..u.len())
                    .map(|i| {
                        (u.type_id(i) == id).then(|| match mode {
                            arrow_schema::UnionMode::Dense => {
                                u32::try_from(u.value_offset(i)).unwrap_or(u32::MAX)
                            }
                            arrow_schema::UnionMode::Sparse => u32::try_from(i).unwrap_or(u32::MAX),
                        })
                    })
                    .collect();
                let child = arrow_select::take::take(u.child(id).as_ref(), &idx, None)?;
                members.push(storable_array(&child)?);
                out_fields.push(storable_field(field).as_ref().clone().with_nullable(true));
            }
            Arc::new(StructArray::try_new(out_fields.into(), members, None)?)
        }
        DataType::Struct(_) => {
            let s = a.as_struct();
            let children = s
                .columns()
                .iter()
                .map(storable_array)
                .collect::<Result<Vec<_>>>()?;
            let DataType::Struct(fields) = storable_type(a.data_type()) else {
                return Err(Error::invalid("internal error: struct type expected"));
            };
            Arc::new(StructArray::try_new(fields, children, nulls)?)
        }
        DataType::List(_) => {
            let l = a.as_list::<i32>();
            let DataType::List(f) = storable_type(a.data_type()) else {
                return Err(Error::invalid("internal error: list type expected"));
            };
            Arc::new(arrow_array::ListArray::try_new(
                f,
                l.offsets().clone(),
                storable_array(l.values())?,
                nulls,
            )?)
        }
        DataType::LargeList(_) => {
            let l = a.as_list::<i64>();
            let DataType::LargeList(f) = storable_type(a.data_type()) else {
                return Err(Error::invalid("internal error: list type expected"));
            };
            Arc::new(arrow_array::LargeListArray::try_new(
                f,
                l.offsets().clone(),
                storable_array(l.values())?,
                nulls,
            )?)
        }
        DataType::FixedSizeList(_, n) => {
            let l = a.as_fixed_size_list();
            let DataType::FixedSizeList(f, _) = storable_type(a.data_type()) else {
                return Err(Error::invalid("internal error: list type expected"));
            };
            Arc::new(arrow_array::FixedSizeListArray::try_new(
                f,
                *n,
                storable_array(l.values())?,
                nulls,
            )?)
        }
        DataType::Map(_, sorted) => {
            let m = a.as_map();
            let DataType::Map(f, _) = storable_type(a.data_type()) else {
                return Err(Error::invalid("internal error: map type expected"));
            };
            let entries = storable_array(&(Arc::new(m.entries().clone()) as ArrayRef))?;
            Arc::new(arrow_array::MapArray::try_new(
                f,
                m.offsets().clone(),
                entries.as_struct().clone(),
                nulls,
                *sorted,
            )?)
        }
        other => {
            return Err(Error::new(ErrorKind::Unsupported(format!(
                "columns of type {other} cannot be written to Parquet"
            ))))
        }
    })
}
