//! Bringing record batches to one target schema before they are written.
//!
//! Batches decoded from different parts of one input can disagree on their schema: a field
//! appears later, an int64 column turns out to hold floats, a value is an object in one
//! record and a number in the next. [`join_fields`] and [`join_schemas`] compute the
//! narrowest schema that holds both sides (a join in a lattice of widenings), and
//! [`conform`] / [`conform_array`] convert the data of a batch to such a joined schema.
//!
//! The lattice, for the types the decoders produce (a type joins to the lowest one above
//! both sides):
//!
//! ```text
//!                      JSON text                   (with `evolve` only)
//!                     /         \
//!                 Utf8           Struct, List, Map  (joined member by member)
//!                  |
//!   Boolean  Float64  Decimal128  Timestamp(ns, tz)  Time64
//!                \      /                |
//!                 Int64           Timestamp(us, tz)
//!                                        |
//!                                     Date32
//!
//!   Null is below every type; a decimal joins a decimal into one wide enough for both.
//! ```
//!
//! Two more edges come from XML, where a child element seen once may later repeat and an
//! element seen as text may later have attributes: a scalar joins a list into a list (the
//! scalar becomes a one-item list), and a scalar joins a struct that has a
//! [`TEXT_MEMBER`] into that struct (the scalar becomes its text, the other members null).
//!
//! Every conversion along an edge keeps the value exactly, except int64 to float64 (integers
//! beyond 2^53 round to the nearest float) and the moves to text, which keep the value but
//! not its type. A [JSON-text](JSON_EXTENSION) column is a Utf8 column whose values are JSON
//! documents; values of any type convert to it (see [`to_json_text`]).

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::ops::Range;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Decimal128Type, Float64Type, Int64Type, Time64MicrosecondType, Time64NanosecondType,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use arrow_array::{
    new_null_array, Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array,
    Int64Array, ListArray, MapArray, RecordBatch, RecordBatchOptions, StringArray, StructArray,
};
use arrow_buffer::OffsetBuffer;
use arrow_schema::extension::EXTENSION_TYPE_NAME_KEY;
use arrow_schema::{DataType, Field, FieldRef, Fields, Schema, SchemaRef, TimeUnit};

use crate::error::{Error, ErrorKind, Result};

/// The extension name of Arrow's canonical JSON type, set under `ARROW:extension:name` in
/// the metadata of a Utf8 field whose values are JSON text.
pub const JSON_EXTENSION: &str = "arrow.json";

/// A Utf8 field of JSON text named `name` (see [`JSON_EXTENSION`]).
pub fn json_field(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
        .with_metadata([(EXTENSION_TYPE_NAME_KEY, JSON_EXTENSION)])
}

/// Whether `field` is a column of JSON text: Utf8 with the [`JSON_EXTENSION`] extension name.
pub fn is_json(field: &Field) -> bool {
    field.data_type() == &DataType::Utf8 && field.extension_type_name() == Some(JSON_EXTENSION)
}

// ---------------------------------------------------------------------------------------
// Joins
// ---------------------------------------------------------------------------------------

/// The narrowest field that holds the values of both `a` and `b` (assumed to have the same
/// name; the result has `a`'s), or `None` when there is none.
///
/// The result is nullable if either side is. Rules, in order:
///
/// - the same type (and both JSON text or both not) gives that type;
/// - Null joined with anything gives the other side;
/// - JSON text joined with any other type gives JSON text, only when `evolve`;
/// - Int64 and Float64 give Float64;
/// - Int64 (as 19 digits) and Decimal128, or two Decimal128s, give the Decimal128 with the
///   most integer digits and the largest scale of both; when that needs more than 38 digits
///   (or a scale is negative), Utf8 instead, so no value ever has to be rounded;
/// - Float64 and Decimal128 give Utf8: either numeric type would change some values;
/// - Date32 and Timestamp give the Timestamp (a date is its midnight); two Timestamps with
///   the same time zone give the finer unit; with different time zones, Utf8;
/// - any other two different scalar types (Boolean, Int64, Float64, Decimal128, Date32,
///   Timestamp, Time64, Utf8) give Utf8;
/// - Struct and Struct give a Struct with `a`'s fields in order, then `b`'s new ones; fields
///   on both sides are joined (`None` if one of those joins is), fields on one side only
///   become nullable; List and List join their items; Map and Map join keys and values;
/// - a Struct, List or Map joined with a different kind of type gives JSON text when
///   `evolve`, else `None`;
/// - other types (those the decoders do not produce) join only with themselves and Null.
///
/// The join is commutative up to the order of struct fields and associative, so the schema
/// reached over a whole input does not depend on the order its batches come in. With
/// `evolve` it never fails for the types above.
///
/// ```
/// use arrow_schema::{DataType, Field};
/// use logflow_core::write::conform::{is_json, join_fields};
///
/// let a = Field::new("x", DataType::Int64, false);
/// let b = Field::new("x", DataType::Float64, true);
/// assert_eq!(join_fields(&a, &b, false), Some(Field::new("x", DataType::Float64, true)));
///
/// let s = Field::new_struct("x", vec![Field::new("y", DataType::Int64, true)], true);
/// assert_eq!(join_fields(&a, &s, false), None);
/// assert!(join_fields(&a, &s, true).is_some_and(|f| is_json(&f)));
/// ```
pub fn join_fields(a: &Field, b: &Field, evolve: bool) -> Option<Field> {
    let nullable = a.is_nullable() || b.is_nullable();
    let (a_json, b_json) = (is_json(a), is_json(b));
    if a.data_type() == b.data_type() && a_json == b_json {
        return Some(a.clone().with_nullable(nullable));
    }
    if a_json || b_json {
        let (json, other) = if a_json { (a, b) } else { (b, a) };
        let absorbs = evolve || other.data_type() == &DataType::Null;
        return absorbs.then(|| json.clone().with_name(a.name()).with_nullable(nullable));
    }
    match join_types(a.data_type(), b.data_type(), evolve)? {
        Joined::Json => evolve.then(|| json_field(a.name(), nullable)),
        // The metadata goes with the side whose type is kept.
        Joined::Type(t) if &t == a.data_type() => Some(a.clone().with_nullable(nullable)),
        Joined::Type(t) if &t == b.data_type() => {
            Some(b.clone().with_name(a.name()).with_nullable(nullable))
        }
        Joined::Type(t) => Some(Field::new(a.name(), t, nullable)),
    }
}

/// The narrowest schema that holds batches of both `a` and `b`: fields matched by name and
/// joined with [`join_fields`], in `a`'s order and then `b`'s new fields; a field on one side
/// only becomes nullable (batches of the other side lack it). `None` if a field join is
/// `None`. The schema metadata is `a`'s.
pub fn join_schemas(a: &Schema, b: &Schema, evolve: bool) -> Option<Schema> {
    let fields = join_members(a.fields(), b.fields(), evolve)?;
    Some(Schema::new_with_metadata(fields, a.metadata().clone()))
}

/// The result of joining two data types.
enum Joined {
    /// A plain Arrow type.
    Type(DataType),
    /// JSON text (a Utf8 field with the extension name).
    Json,
}

/// The member of a struct that holds an XML element's own text, beside its attributes and
/// children: a scalar joins such a struct as that member.
pub const TEXT_MEMBER: &str = "#text";

fn is_scalar(t: &DataType) -> bool {
    is_known(t) && !is_nested(t)
}

fn has_text_member(members: &Fields) -> bool {
    members.iter().any(|m| m.name() == TEXT_MEMBER)
}

fn join_types(a: &DataType, b: &DataType, evolve: bool) -> Option<Joined> {
    use DataType as T;
    let joined = match (a, b) {
        (T::List(x), t) | (t, T::List(x))
            if is_scalar(t) || matches!(t, T::Struct(m) if has_text_member(m)) =>
        {
            // A value where a list of such values is: a one-item list.
            let one = Field::new(x.name(), t.clone(), true);
            T::List(Arc::new(join_fields(x, &one, evolve)?))
        }
        (T::Struct(m), t) | (t, T::Struct(m)) if is_scalar(t) && has_text_member(m) => {
            // A scalar where an element with attributes is: the element's text.
            let text = Field::new(TEXT_MEMBER, t.clone(), true);
            let members = m
                .iter()
                .map(|f| {
                    if f.name() == TEXT_MEMBER {
                        join_fields(f, &text, evolve)
                    } else {
                        Some(f.as_ref().clone())
                    }
                })
                .collect::<Option<Vec<_>>>()?;
            T::Struct(Fields::from(members))
        }
        _ if a == b => a.clone(),
        (T::Null, t) | (t, T::Null) => t.clone(),
        (T::Int64, T::Float64) | (T::Float64, T::Int64) => T::Float64,
        (T::Int64, T::Decimal128(p, s)) | (T::Decimal128(p, s), T::Int64) => {
            join_decimals((INT64_DIGITS, 0), (*p, *s))
        }
        (T::Decimal128(p, s), T::Decimal128(q, t)) => join_decimals((*p, *s), (*q, *t)),
        (T::Date32, t @ T::Timestamp(..)) | (t @ T::Timestamp(..), T::Date32) => t.clone(),
        (T::Timestamp(u, tz), T::Timestamp(v, tz2)) if tz == tz2 => {
            let finer = if per_second(*u) >= per_second(*v) {
                u
            } else {
                v
            };
            T::Timestamp(*finer, tz.clone())
        }
        (T::Struct(x), T::Struct(y)) => T::Struct(join_members(x, y, evolve)?),
        (T::List(x), T::List(y)) => T::List(Arc::new(join_fields(x, y, evolve)?)),
        (T::Map(x, xo), T::Map(y, yo)) => T::Map(join_entries(x, y, evolve)?, *xo && *yo),
        _ if !(is_known(a) && is_known(b)) => return None,
        _ if is_nested(a) || is_nested(b) => return Some(Joined::Json),
        _ => T::Utf8,
    };
    Some(Joined::Type(joined))
}

/// Digits of the largest int64 magnitude (9223372036854775808).
const INT64_DIGITS: u8 = 19;

/// Most digits a Decimal128 holds.
const MAX_DECIMAL_DIGITS: u8 = 38;

fn join_decimals((p, s): (u8, i8), (q, t): (u8, i8)) -> DataType {
    if s < 0 || t < 0 {
        return DataType::Utf8;
    }
    let int_digits = (i16::from(p) - i16::from(s)).max(i16::from(q) - i16::from(t));
    let scale = s.max(t);
    let precision = int_digits.max(0) + i16::from(scale);
    match u8::try_from(precision) {
        Ok(p) if (1..=MAX_DECIMAL_DIGITS).contains(&p) => DataType::Decimal128(p, scale),
        _ => DataType::Utf8,
    }
}

/// Joins the members of two structs (or two schemas) by name.
fn join_members(a: &Fields, b: &Fields, evolve: bool) -> Option<Fields> {
    let in_b: HashMap<&str, &FieldRef> = b.iter().map(|f| (f.name().as_str(), f)).collect();
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    for f in a {
        out.push(match in_b.get(f.name().as_str()) {
            Some(g) => join_fields(f, g, evolve)?,
            None => f.as_ref().clone().with_nullable(true),
        });
    }
    let in_a: HashMap<&str, &FieldRef> = a.iter().map(|f| (f.name().as_str(), f)).collect();
    for g in b {
        if !in_a.contains_key(g.name().as_str()) {
            out.push(g.as_ref().clone().with_nullable(true));
        }
    }
    Some(Fields::from(out))
}

/// Joins the entries fields of two maps: keys with keys, values with values.
fn join_entries(a: &FieldRef, b: &FieldRef, evolve: bool) -> Option<FieldRef> {
    let (DataType::Struct(x), DataType::Struct(y)) = (a.data_type(), b.data_type()) else {
        return None;
    };
    let ([x_key, x_value], [y_key, y_value]) = (x.as_ref(), y.as_ref()) else {
        return None;
    };
    let key = join_fields(x_key, y_key, evolve)?;
    let value = join_fields(x_value, y_value, evolve)?;
    let entries = DataType::Struct(Fields::from(vec![key, value]));
    Some(Arc::new(Field::new(a.name(), entries, false)))
}

fn is_nested(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Struct(_) | DataType::List(_) | DataType::Map(..)
    )
}

/// The types this module converts: those the decoders produce.
fn is_known(t: &DataType) -> bool {
    use DataType as T;
    is_nested(t)
        || matches!(
            t,
            T::Boolean
                | T::Int64
                | T::Float64
                | T::Decimal128(..)
                | T::Date32
                | T::Timestamp(..)
                | T::Time64(TimeUnit::Microsecond | TimeUnit::Nanosecond)
                | T::Utf8
        )
}

// ---------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------

/// `batch` with the schema `target`, which must be a join of the batch's schema with others
/// (see [`join_schemas`]).
///
/// Columns are matched by name and converted with [`conform_array`]; a target field the
/// batch lacks becomes a column of nulls (an error if the field is not nullable). A batch
/// with the target schema is returned as is. Errors (of kind [`ErrorKind::Schema`]) name the
/// column: a batch column the target lacks, a conversion the lattice does not have, a value
/// the target type cannot hold.
pub fn conform(batch: &RecordBatch, target: &SchemaRef) -> Result<RecordBatch> {
    let schema = batch.schema_ref();
    if Arc::ptr_eq(schema, target) || schema == target {
        return Ok(batch.clone());
    }
    let rows = batch.num_rows();
    let sources = pair_fields(schema.fields(), target.fields())
        .map_err(|name| fail(&At::root(name), "is not in the target schema"))?;
    let columns = target
        .fields()
        .iter()
        .zip(sources)
        .map(|(to, source)| {
            let at = At::root(to.name());
            let source =
                source.and_then(|i| Some((schema.fields().get(i)?, batch.columns().get(i)?)));
            match source {
                Some((from, column)) => conform_at(column, from, to, &at),
                None => nulls(to, rows, &at),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    RecordBatch::try_new_with_options(Arc::clone(target), columns, &options).map_err(|e| {
        Error::new(ErrorKind::Schema(format!(
            "cannot build a batch of the target schema: {e}"
        )))
    })
}

/// `array`, described by the field `from`, converted to the type of the field `to`.
///
/// When `from` and `to` have the same type (and `to` is not JSON text where `from` is plain
/// text), this is `array` itself: a reference count, nothing copied. Otherwise, along the
/// edges of the lattice of [`join_fields`]:
///
/// - a Null array becomes nulls of the target type;
/// - Int64 to Float64 (nearest float); Int64 or Decimal128 to a Decimal128 of at least the
///   same scale, exactly (an error if a value needs more digits than the precision);
/// - Date32 to Timestamp: midnight (UTC midnight for a time zone); Timestamp to a finer unit
///   (an error if a value leaves the range of the new unit, ±292 years for nanoseconds);
/// - Struct to Struct by member name, keeping the struct's validity; members the target adds
///   are null, a member the target lacks is an error; List and Map keep their offsets and
///   validity and convert their items (keys and values), only those the array refers to;
/// - anything to JSON text: [`to_json_text`]; JSON text to plain Utf8: the same text;
/// - a scalar to Utf8: `true`/`false`; decimal digits; floats as Rust's `{}` prints them
///   (shortest text that reads back the same, `NaN`, `inf`, `-inf`); decimals with all
///   digits of the scale (`-0.50`); `YYYY-MM-DD` dates in the proleptic Gregorian
///   calendar, with a sign for years outside 0000-9999 (`-0001-12-31`, `+10000-01-01`);
///   timestamps as `YYYY-MM-DDTHH:MM:SS`, plus as many fraction digits as the unit has when
///   the fraction is not zero, plus `Z` when there is a time zone (the instant is written
///   in UTC); times of day as `HH:MM:SS[.ffffff]`. Structs, lists and maps become their
///   JSON text.
///
/// Errors (of kind [`ErrorKind::Schema`]) name the column, with the path to a nested member
/// (`a.b.item`).
pub fn conform_array(array: &ArrayRef, from: &Field, to: &Field) -> Result<ArrayRef> {
    conform_at(array, from, to, &At::root(to.name()))
}

fn conform_at(array: &ArrayRef, from: &Field, to: &Field, at: &At<'_>) -> Result<ArrayRef> {
    use DataType as T;
    let (source, target) = (from.data_type(), to.data_type());
    if array.data_type() != source {
        return Err(fail(
            at,
            format!(
                "the data is {} but its field says {source}",
                array.data_type()
            ),
        ));
    }
    // The hot path. Only plain text becoming JSON text changes values of the same type.
    if source == target && (is_json(from) || !is_json(to)) {
        return Ok(Arc::clone(array));
    }
    if source == &T::Null {
        return nulls(to, array.len(), at);
    }
    if is_json(to) {
        return rows(array.as_ref(), is_json(from), true)
            .map(|a| Arc::new(a) as ArrayRef)
            .map_err(|e| fail(at, e));
    }
    match (source, target) {
        (T::Int64, T::Float64) => {
            #[allow(clippy::cast_precision_loss)] // documented: nearest float
            let floats = downcast::<Int64Array>(array, at)?.unary::<_, Float64Type>(|v| v as f64);
            Ok(Arc::new(floats))
        }
        (T::Int64, T::Decimal128(p, s)) => {
            let wide = downcast::<Int64Array>(array, at)?.unary::<_, Decimal128Type>(i128::from);
            to_decimal(&wide, 0, *p, *s, at)
        }
        (T::Decimal128(_, from_scale), T::Decimal128(p, s)) => {
            to_decimal(downcast(array, at)?, *from_scale, *p, *s, at)
        }
        (T::Date32, T::Timestamp(unit, tz)) => {
            let per_day = SECONDS_PER_DAY * per_second(*unit);
            let ints = downcast::<Date32Array>(array, at)?.try_unary::<_, Int64Type, _>(|d| {
                i64::from(d).checked_mul(per_day).ok_or_else(|| {
                    let mut date = String::new();
                    write_date(i64::from(d), &mut date);
                    fail(at, format!("the date {date} is out of range for {target}"))
                })
            })?;
            Ok(timestamps(&ints, *unit, tz.clone()))
        }
        (T::Timestamp(unit, tz), T::Timestamp(to_unit, to_tz))
            if tz == to_tz && per_second(*to_unit) >= per_second(*unit) =>
        {
            let factor = per_second(*to_unit) / per_second(*unit);
            let ints = timestamp_ints(array.as_ref(), *unit)
                .ok_or_else(|| layout(at))?
                .try_unary::<_, Int64Type, _>(|v| {
                    v.checked_mul(factor).ok_or_else(|| {
                        let mut when = String::new();
                        write_timestamp(v, *unit, tz.is_some(), &mut when);
                        fail(
                            at,
                            format!("the timestamp {when} is out of range for {target}"),
                        )
                    })
                })?;
            Ok(timestamps(&ints, *to_unit, to_tz.clone()))
        }
        (T::Struct(from_members), T::Struct(to_members)) => {
            conform_struct(array, from_members, to_members, at)
        }
        (from_t, T::List(to_item)) if !matches!(from_t, T::List(_)) => {
            // One-item lists (a null value is a null list).
            let from_item = Field::new(to_item.name(), from_t.clone(), true);
            let values = conform_at(array, &from_item, to_item, &at.child(to_item.name()))?;
            let offsets = OffsetBuffer::from_lengths(std::iter::repeat_n(1, values.len()));
            let nulls = values.logical_nulls();
            ListArray::try_new(Arc::clone(to_item), offsets, values, nulls)
                .map(|a| Arc::new(a) as ArrayRef)
                .map_err(|e| fail(at, e))
        }
        (from_t, T::Struct(to_members))
            if !matches!(from_t, T::Struct(_)) && has_text_member(to_members) =>
        {
            // The element's text; its other members null.
            let mut children = Vec::with_capacity(to_members.len());
            for m in to_members {
                let here = at.child(m.name());
                children.push(if m.name() == TEXT_MEMBER {
                    let from_text = Field::new(TEXT_MEMBER, from_t.clone(), true);
                    conform_at(array, &from_text, m, &here)?
                } else {
                    nulls(m, array.len(), &here)?
                });
            }
            StructArray::try_new(to_members.clone(), children, array.logical_nulls())
                .map(|a| Arc::new(a) as ArrayRef)
                .map_err(|e| fail(at, e))
        }
        (T::List(from_item), T::List(to_item)) => {
            let list = downcast::<ListArray>(array, at)?;
            let (offsets, values) = used_values(list.offsets(), list.values());
            let values = conform_at(&values, from_item, to_item, &at.child(to_item.name()))?;
            ListArray::try_new(Arc::clone(to_item), offsets, values, list.nulls().cloned())
                .map(|a| Arc::new(a) as ArrayRef)
                .map_err(|e| fail(at, e))
        }
        (T::Map(from_entries, _), T::Map(to_entries, ordered)) => {
            let map = downcast::<MapArray>(array, at)?;
            let entries: ArrayRef = Arc::new(map.entries().clone());
            let (offsets, entries) = used_values(map.offsets(), &entries);
            let at_entries = at.child(to_entries.name());
            let entries = conform_at(&entries, from_entries, to_entries, &at_entries)?;
            let entries = downcast::<StructArray>(&entries, at)?.clone();
            let nulls = map.nulls().cloned();
            MapArray::try_new(Arc::clone(to_entries), offsets, entries, nulls, *ordered)
                .map(|a| Arc::new(a) as ArrayRef)
                .map_err(|e| fail(at, e))
        }
        (_, T::Utf8) => rows(array.as_ref(), is_json(from), false)
            .map(|a| Arc::new(a) as ArrayRef)
            .map_err(|e| fail(at, e)),
        _ => Err(fail(at, format!("cannot convert {source} to {target}"))),
    }
}

fn conform_struct(array: &ArrayRef, from: &Fields, to: &Fields, at: &At<'_>) -> Result<ArrayRef> {
    let strukt = downcast::<StructArray>(array, at)?;
    let sources = pair_fields(from, to)
        .map_err(|name| fail(&at.child(name), "is not in the target schema"))?;
    let columns = to
        .iter()
        .zip(sources)
        .map(|(to, source)| {
            let at = at.child(to.name());
            let source = source.and_then(|i| Some((from.get(i)?, strukt.columns().get(i)?)));
            match source {
                Some((from, column)) => conform_at(column, from, to, &at),
                None => nulls(to, strukt.len(), &at),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    let nulls = strukt.nulls().cloned();
    StructArray::try_new_with_length(to.clone(), columns, nulls, strukt.len())
        .map(|a| Arc::new(a) as ArrayRef)
        .map_err(|e| fail(at, e))
}

/// For each field of `to`, the position of the field of the same name in `from`; or the
/// name of a field of `from` that `to` lacks.
fn pair_fields<'a>(from: &'a Fields, to: &Fields) -> Result<Vec<Option<usize>>, &'a str> {
    let positions: HashMap<&str, usize> = from
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name().as_str(), i))
        .collect();
    let sources: Vec<Option<usize>> = to
        .iter()
        .map(|f| positions.get(f.name().as_str()).copied())
        .collect();
    let mut used = vec![false; from.len()];
    for &i in sources.iter().flatten() {
        if let Some(u) = used.get_mut(i) {
            *u = true;
        }
    }
    match used.iter().position(|u| !u) {
        Some(i) => Err(from.get(i).map(|f| f.name().as_str()).unwrap_or_default()),
        None => Ok(sources),
    }
}

/// The offsets of a list (or map) rebased to 0 and the values they cover: a sliced list
/// converts only its own values, not those before or after the slice.
fn used_values(offsets: &OffsetBuffer<i32>, values: &ArrayRef) -> (OffsetBuffer<i32>, ArrayRef) {
    let first = offsets.first();
    let start = usize::try_from(first).unwrap_or(0);
    let end = usize::try_from(offsets.last()).unwrap_or(0);
    if start == 0 && end == values.len() {
        return (offsets.clone(), Arc::clone(values));
    }
    let values = values.slice(start, end.saturating_sub(start));
    (offsets.clone().subtract(first), values)
}

/// `len` nulls of the type of `field`, which must be nullable (unless `len` is 0).
fn nulls(field: &Field, len: usize, at: &At<'_>) -> Result<ArrayRef> {
    if !field.is_nullable() && len > 0 {
        return Err(fail(at, "has no values here but is not nullable"));
    }
    Ok(new_null_array(field.data_type(), len))
}

/// Decimal `values` of scale `from_scale` as Decimal128(`p`, `s`), exactly.
fn to_decimal(
    values: &Decimal128Array,
    from_scale: i8,
    p: u8,
    s: i8,
    at: &At<'_>,
) -> Result<ArrayRef> {
    let target = DataType::Decimal128(p, s);
    let factor = s
        .checked_sub(from_scale)
        .and_then(|d| u32::try_from(d).ok())
        .and_then(|d| 10_i128.checked_pow(d))
        .ok_or_else(|| fail(at, format!("a scale of {from_scale} does not fit {target}")))?;
    let limit = 10_i128
        .checked_pow(u32::from(p))
        .ok_or_else(|| fail(at, format!("{target} is not a valid type")))?;
    let scaled = values.try_unary::<_, Decimal128Type, _>(|v| {
        v.checked_mul(factor)
            .filter(|x| -limit < *x && *x < limit)
            .ok_or_else(|| {
                let mut text = String::new();
                write_decimal(v, from_scale, &mut text);
                fail(at, format!("the value {text} does not fit {target}"))
            })
    })?;
    scaled
        .with_precision_and_scale(p, s)
        .map(|a| Arc::new(a) as ArrayRef)
        .map_err(|e| fail(at, e))
}

/// The values of a timestamp array of `unit`, as plain int64 (no copy).
fn timestamp_ints(array: &dyn Array, unit: TimeUnit) -> Option<Int64Array> {
    Some(match unit {
        TimeUnit::Second => array
            .as_primitive_opt::<TimestampSecondType>()?
            .reinterpret_cast(),
        TimeUnit::Millisecond => array
            .as_primitive_opt::<TimestampMillisecondType>()?
            .reinterpret_cast(),
        TimeUnit::Microsecond => array
            .as_primitive_opt::<TimestampMicrosecondType>()?
            .reinterpret_cast(),
        TimeUnit::Nanosecond => array
            .as_primitive_opt::<TimestampNanosecondType>()?
            .reinterpret_cast(),
    })
}

/// The values of a Time64 array, as plain int64 (no copy).
fn time_ints(array: &dyn Array, unit: TimeUnit) -> Option<Int64Array> {
    match unit {
        TimeUnit::Microsecond => Some(
            array
                .as_primitive_opt::<Time64MicrosecondType>()?
                .reinterpret_cast(),
        ),
        TimeUnit::Nanosecond => Some(
            array
                .as_primitive_opt::<Time64NanosecondType>()?
                .reinterpret_cast(),
        ),
        TimeUnit::Second | TimeUnit::Millisecond => None,
    }
}

/// Int64 values as a timestamp array of `unit` and time zone `tz` (no copy).
fn timestamps(ints: &Int64Array, unit: TimeUnit, tz: Option<Arc<str>>) -> ArrayRef {
    match unit {
        TimeUnit::Second => Arc::new(
            ints.reinterpret_cast::<TimestampSecondType>()
                .with_timezone_opt(tz),
        ),
        TimeUnit::Millisecond => Arc::new(
            ints.reinterpret_cast::<TimestampMillisecondType>()
                .with_timezone_opt(tz),
        ),
        TimeUnit::Microsecond => Arc::new(
            ints.reinterpret_cast::<TimestampMicrosecondType>()
                .with_timezone_opt(tz),
        ),
        TimeUnit::Nanosecond => Arc::new(
            ints.reinterpret_cast::<TimestampNanosecondType>()
                .with_timezone_opt(tz),
        ),
    }
}

fn downcast<'a, T: 'static>(array: &'a ArrayRef, at: &At<'_>) -> Result<&'a T> {
    array.as_any().downcast_ref::<T>().ok_or_else(|| layout(at))
}

/// Where in a batch a conversion is: a column, or a member of one (`a.b.item`).
struct At<'a> {
    parent: Option<&'a At<'a>>,
    name: &'a str,
}

impl<'a> At<'a> {
    fn root(name: &'a str) -> Self {
        At { parent: None, name }
    }

    fn child(&'a self, name: &'a str) -> At<'a> {
        At {
            parent: Some(self),
            name,
        }
    }
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(parent) = self.parent {
            write!(f, "{parent}.")?;
        }
        f.write_str(self.name)
    }
}

#[cold]
fn fail(at: &At<'_>, reason: impl fmt::Display) -> Error {
    Error::new(ErrorKind::Schema(format!("column \"{at}\": {reason}")))
}

#[cold]
fn layout(at: &At<'_>) -> Error {
    fail(at, "the array does not have the layout of its type")
}

// ---------------------------------------------------------------------------------------
// Text and JSON text
// ---------------------------------------------------------------------------------------

/// Each row of `array` as compact JSON text, in a Utf8 array of the same length.
///
/// A null row is a null entry (a missing value, not the text `null`). Booleans are
/// `true`/`false`; integers their digits; floats the shortest text that reads back as the
/// same float (`1.5`, `1.0`, `1e300`, `-0.0`), and a null entry for NaN and ±infinity, which
/// JSON lacks (`null` inside a container); decimals their exact digits (`-12.50`); dates,
/// timestamps and times of day quoted ISO text as [`conform_array`] writes it; text a JSON
/// string (with `\"`, `\\`, `\n`, `\r`, `\t` and `\u00XX` for other control characters; all
/// else kept as UTF-8); JSON-text members of a container verbatim; structs objects with the
/// members in order; lists arrays; maps objects of their keys (written as text). Nulls inside
/// a container are `null`. Other types are an [`ErrorKind::Unsupported`] error.
///
/// ```
/// use arrow_array::{Array, Int64Array};
/// use logflow_core::write::conform::to_json_text;
///
/// let json = to_json_text(&Int64Array::from(vec![Some(1), None]))?;
/// assert_eq!(json.value(0), "1");
/// assert!(json.is_null(1));
/// # Ok::<(), logflow_core::Error>(())
/// ```
pub fn to_json_text(array: &dyn Array) -> Result<StringArray> {
    rows(array, false, true)
}

/// Renders every row of `array` as text (`json` false) or as JSON text; `raw` says a Utf8
/// `array` already holds JSON text.
fn rows(array: &dyn Array, raw: bool, json: bool) -> Result<StringArray> {
    let render = Render::new(array, raw)?;
    let len = array.len();
    let mut out = StringBuilder::with_capacity(len, len.saturating_mul(8));
    let mut text = String::new();
    for i in 0..len {
        let null = if json {
            render.is_json_null(i)
        } else {
            render.is_null(i)
        };
        if null {
            out.append_null();
            continue;
        }
        text.clear();
        if json {
            render.json(i, &mut text)?;
        } else {
            render.text(i, &mut text)?;
        }
        out.append_value(&text);
    }
    Ok(out.finish())
}

/// An array, downcast once, ready to render any of its rows as text or as JSON.
enum Render<'a> {
    Null,
    Bool(&'a BooleanArray),
    Int(&'a Int64Array),
    Float(&'a Float64Array),
    Decimal(&'a Decimal128Array, i8),
    Date(&'a Date32Array),
    /// Values, unit, whether there is a time zone.
    Timestamp(Int64Array, TimeUnit, bool),
    Time(Int64Array, TimeUnit),
    Text(&'a StringArray),
    /// Utf8 holding JSON text.
    Json(&'a StringArray),
    /// The array and each member: its key (`"name":`) and its values.
    Struct(&'a StructArray, Vec<(String, Render<'a>)>),
    List(&'a ListArray, Box<Render<'a>>),
    /// The array, its keys and its values.
    Map(&'a MapArray, Box<Render<'a>>, Box<Render<'a>>),
}

impl<'a> Render<'a> {
    fn new(array: &'a dyn Array, raw: bool) -> Result<Self> {
        use DataType as T;
        let unsupported = || {
            Error::new(ErrorKind::Unsupported(format!(
                "cannot write {} values as text",
                array.data_type()
            )))
        };
        Ok(match array.data_type() {
            T::Null => Render::Null,
            T::Boolean => Render::Bool(array.as_boolean_opt().ok_or_else(unsupported)?),
            T::Int64 => Render::Int(array.as_primitive_opt().ok_or_else(unsupported)?),
            T::Float64 => Render::Float(array.as_primitive_opt().ok_or_else(unsupported)?),
            T::Decimal128(_, s) => {
                Render::Decimal(array.as_primitive_opt().ok_or_else(unsupported)?, *s)
            }
            T::Date32 => Render::Date(array.as_primitive_opt().ok_or_else(unsupported)?),
            T::Timestamp(unit, tz) => {
                let ints = timestamp_ints(array, *unit).ok_or_else(unsupported)?;
                Render::Timestamp(ints, *unit, tz.is_some())
            }
            T::Time64(unit) => {
                Render::Time(time_ints(array, *unit).ok_or_else(unsupported)?, *unit)
            }
            T::Utf8 => {
                let text = array.as_string_opt::<i32>().ok_or_else(unsupported)?;
                if raw {
                    Render::Json(text)
                } else {
                    Render::Text(text)
                }
            }
            T::Struct(fields) => {
                let strukt = array.as_struct_opt().ok_or_else(unsupported)?;
                let members = fields
                    .iter()
                    .zip(strukt.columns())
                    .map(|(f, c)| {
                        let mut key = String::new();
                        write_json_string(f.name(), &mut key);
                        key.push(':');
                        Ok((key, Render::new(c.as_ref(), is_json(f))?))
                    })
                    .collect::<Result<Vec<_>>>()?;
                Render::Struct(strukt, members)
            }
            T::List(item) => {
                let list = array.as_list_opt::<i32>().ok_or_else(unsupported)?;
                let items = Render::new(list.values().as_ref(), is_json(item))?;
                Render::List(list, Box::new(items))
            }
            T::Map(entries, _) => {
                let map = array.as_map_opt().ok_or_else(unsupported)?;
                let raw_values = match entries.data_type() {
                    T::Struct(kv) => kv.get(1).is_some_and(|f| is_json(f)),
                    _ => false,
                };
                let keys = Render::new(map.keys().as_ref(), false)?;
                let values = Render::new(map.values().as_ref(), raw_values)?;
                Render::Map(map, Box::new(keys), Box::new(values))
            }
            _ => return Err(unsupported()),
        })
    }

    fn array(&self) -> Option<&dyn Array> {
        Some(match self {
            Render::Null => return None,
            Render::Bool(a) => *a,
            Render::Int(a) => *a,
            Render::Float(a) => *a,
            Render::Decimal(a, _) => *a,
            Render::Date(a) => *a,
            Render::Timestamp(a, ..) | Render::Time(a, _) => a,
            Render::Text(a) | Render::Json(a) => *a,
            Render::Struct(a, _) => *a,
            Render::List(a, _) => *a,
            Render::Map(a, ..) => *a,
        })
    }

    /// Whether row `i` is null.
    fn is_null(&self, i: usize) -> bool {
        self.array().is_none_or(|a| a.is_null(i))
    }

    /// Whether row `i` is null in JSON: null, or a float JSON cannot write.
    fn is_json_null(&self, i: usize) -> bool {
        self.is_null(i) || matches!(self, Render::Float(a) if !a.value(i).is_finite())
    }

    /// Appends row `i` (not null) as text.
    fn text(&self, i: usize, out: &mut String) -> Result<()> {
        match self {
            Render::Null => {}
            Render::Bool(a) => out.push_str(if a.value(i) { "true" } else { "false" }),
            Render::Int(a) => put(out, format_args!("{}", a.value(i))),
            Render::Float(a) => put(out, format_args!("{}", a.value(i))),
            Render::Decimal(a, scale) => write_decimal(a.value(i), *scale, out),
            Render::Date(a) => write_date(i64::from(a.value(i)), out),
            Render::Timestamp(a, unit, tz) => write_timestamp(a.value(i), *unit, *tz, out),
            Render::Time(a, unit) => write_time(a.value(i), *unit, out)?,
            Render::Text(a) | Render::Json(a) => out.push_str(a.value(i)),
            Render::Struct(..) | Render::List(..) | Render::Map(..) => self.json(i, out)?,
        }
        Ok(())
    }

    /// Appends row `i` of a container as JSON, `null` when it has no JSON value.
    fn member(&self, i: usize, out: &mut String) -> Result<()> {
        if self.is_json_null(i) {
            out.push_str("null");
            Ok(())
        } else {
            self.json(i, out)
        }
    }

    /// Appends row `i` (not JSON-null) as JSON.
    fn json(&self, i: usize, out: &mut String) -> Result<()> {
        match self {
            Render::Null => out.push_str("null"),
            Render::Bool(_) | Render::Int(_) | Render::Decimal(..) => self.text(i, out)?,
            // Debug is Display with an exponent for very large and small magnitudes and
            // `.0` on integral values: JSON numbers that read back as floats.
            Render::Float(a) => put(out, format_args!("{:?}", a.value(i))),
            Render::Date(_) | Render::Timestamp(..) | Render::Time(..) => {
                out.push('"');
                self.text(i, out)?;
                out.push('"');
            }
            Render::Text(a) => write_json_string(a.value(i), out),
            Render::Json(a) => out.push_str(a.value(i)),
            Render::Struct(_, members) => {
                out.push('{');
                for (n, (key, member)) in members.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    out.push_str(key);
                    member.member(i, out)?;
                }
                out.push('}');
            }
            Render::List(list, items) => {
                out.push('[');
                for (n, j) in range(list.value_offsets(), i)?.enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    items.member(j, out)?;
                }
                out.push(']');
            }
            Render::Map(map, keys, values) => {
                out.push('{');
                for (n, j) in range(map.value_offsets(), i)?.enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    keys.key(j, out)?;
                    out.push(':');
                    values.member(j, out)?;
                }
                out.push('}');
            }
        }
        Ok(())
    }

    /// Appends row `i` as a JSON object key: its text, as a JSON string.
    fn key(&self, i: usize, out: &mut String) -> Result<()> {
        match self {
            Render::Text(a) if !a.is_null(i) => write_json_string(a.value(i), out),
            _ => {
                let mut text = String::new();
                if self.is_null(i) {
                    text.push_str("null");
                } else {
                    self.text(i, &mut text)?;
                }
                write_json_string(&text, out);
            }
        }
        Ok(())
    }
}

/// The positions of the items of list `i` in the values.
fn range(offsets: &[i32], i: usize) -> Result<Range<usize>> {
    match (offsets.get(i), offsets.get(i + 1)) {
        (Some(&start), Some(&end)) => {
            Ok(usize::try_from(start).unwrap_or(0)..usize::try_from(end).unwrap_or(0))
        }
        _ => Err(Error::new(ErrorKind::Schema(format!(
            "list {i} is beyond the offsets"
        )))),
    }
}

/// Appends formatted text (writing to a `String` cannot fail).
fn put(out: &mut String, args: fmt::Arguments<'_>) {
    let _ = out.write_fmt(args);
}

/// Appends `s` as a JSON string: quotes, backslashes and control characters escaped (the
/// common ones as `\n`, `\r`, `\t`, the others as `\u00XX`), the rest as it is.
fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(s);
    } else {
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c < ' ' => put(out, format_args!("\\u{:04x}", u32::from(c))),
                c => out.push(c),
            }
        }
    }
    out.push('"');
}

/// Appends the decimal `value` of `scale`, with every digit of the scale (`-0.50`).
fn write_decimal(value: i128, scale: i8, out: &mut String) {
    if value < 0 {
        out.push('-');
    }
    let digits = value.unsigned_abs().to_string();
    let scale_digits = usize::from(scale.unsigned_abs());
    if scale <= 0 {
        out.push_str(&digits);
        if value != 0 {
            out.extend(std::iter::repeat_n('0', scale_digits));
        }
        return;
    }
    let split = digits
        .len()
        .checked_sub(scale_digits)
        .filter(|n| *n > 0)
        .and_then(|n| digits.split_at_checked(n));
    match split {
        Some((int, fraction)) => {
            out.push_str(int);
            out.push('.');
            out.push_str(fraction);
        }
        None => {
            out.push_str("0.");
            out.extend(std::iter::repeat_n(
                '0',
                scale_digits.saturating_sub(digits.len()),
            ));
            out.push_str(&digits);
        }
    }
}

const SECONDS_PER_DAY: i64 = 86_400;

/// Ticks of `unit` in a second.
fn per_second(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    }
}

/// Fraction digits of `unit`.
fn fraction_digits(unit: TimeUnit) -> usize {
    match unit {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        TimeUnit::Microsecond => 6,
        TimeUnit::Nanosecond => 9,
    }
}

/// Days from 0000-03-01 to 1970-01-01. Counting years from March puts the leap day last.
const MARCH_0000_TO_EPOCH: i64 = 719_468;
/// Days in 400 Gregorian years (the calendar repeats after them), 100 years (the last
/// century of the 400 has one more), 4 years (the last group of a century may have one
/// less) and a year (the last of the 4 may have one more).
const DAYS_400Y: i64 = 146_097;
const DAYS_100Y: i64 = 36_524;
const DAYS_4Y: i64 = 1_461;
const DAYS_1Y: i64 = 365;
/// Days before each month of a year counted from March (March, April, ..., February).
const MONTH_STARTS: [i64; 12] = [0, 31, 61, 92, 122, 153, 184, 214, 245, 275, 306, 337];

/// The proleptic Gregorian (year, month, day) of `days` since 1970-01-01. Year 0 is 1 BC.
fn civil(days: i64) -> (i64, i64, i64) {
    let since = days + MARCH_0000_TO_EPOCH;
    let (cycles, mut day) = (since.div_euclid(DAYS_400Y), since.rem_euclid(DAYS_400Y));
    let centuries = (day / DAYS_100Y).min(3);
    day -= centuries * DAYS_100Y;
    let quads = day / DAYS_4Y;
    day -= quads * DAYS_4Y;
    let years = (day / DAYS_1Y).min(3);
    day -= years * DAYS_1Y;
    // `day` is now the day of a year starting in March, 0 to 365.
    let month0 = MONTH_STARTS.iter().rposition(|&s| s <= day).unwrap_or(0);
    let month_start = MONTH_STARTS.get(month0).copied().unwrap_or(0);
    let month0 = i64::try_from(month0).unwrap_or(0);
    let year = cycles * 400 + centuries * 100 + quads * 4 + years;
    // January and February belong to the next calendar year.
    let (year, month) = if month0 < 10 {
        (year, month0 + 3)
    } else {
        (year + 1, month0 - 9)
    };
    (year, month, day - month_start + 1)
}

/// Appends the date `days` after 1970-01-01 as `YYYY-MM-DD` (a sign before years outside
/// 0000-9999).
fn write_date(days: i64, out: &mut String) {
    let (year, month, day) = civil(days);
    if year < 0 {
        put(out, format_args!("-{:04}", year.unsigned_abs()));
    } else if year > 9999 {
        put(out, format_args!("+{year}"));
    } else {
        put(out, format_args!("{year:04}"));
    }
    put(out, format_args!("-{month:02}-{day:02}"));
}

/// Appends `HH:MM:SS`, and the fraction when it is not zero.
fn write_clock(seconds: i64, fraction: i64, digits: usize, out: &mut String) {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    put(out, format_args!("{h:02}:{m:02}:{s:02}"));
    if fraction != 0 {
        put(out, format_args!(".{fraction:0digits$}"));
    }
}

/// Appends the timestamp `value` (in `unit` since the epoch) as ISO text, in UTC with a `Z`
/// when `zoned`.
fn write_timestamp(value: i64, unit: TimeUnit, zoned: bool, out: &mut String) {
    let per = per_second(unit);
    let (seconds, fraction) = (value.div_euclid(per), value.rem_euclid(per));
    write_date(seconds.div_euclid(SECONDS_PER_DAY), out);
    out.push('T');
    let of_day = seconds.rem_euclid(SECONDS_PER_DAY);
    write_clock(of_day, fraction, fraction_digits(unit), out);
    if zoned {
        out.push('Z');
    }
}

/// Appends the time of day `value` (in `unit` since midnight) as `HH:MM:SS[.fff]`.
fn write_time(value: i64, unit: TimeUnit, out: &mut String) -> Result<()> {
    let per = per_second(unit);
    if !(0..SECONDS_PER_DAY * per).contains(&value) {
        return Err(Error::new(ErrorKind::Schema(format!(
            "{value} is not a time of day in {unit:?}s"
        ))));
    }
    write_clock(value / per, value % per, fraction_digits(unit), out);
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;
    use arrow_array::builder::{Int64Builder, MapBuilder, MapFieldNames};
    use arrow_array::{
        Decimal128Array, Float64Array, Int64Array, NullArray, Time64MicrosecondArray,
        TimestampMicrosecondArray, TimestampNanosecondArray,
    };
    use arrow_buffer::{NullBuffer, OffsetBuffer};

    const US: TimeUnit = TimeUnit::Microsecond;
    const NS: TimeUnit = TimeUnit::Nanosecond;

    fn field(t: DataType) -> Field {
        Field::new("x", t, true)
    }

    fn utc(unit: TimeUnit) -> DataType {
        DataType::Timestamp(unit, Some("UTC".into()))
    }

    fn list(item: DataType) -> DataType {
        DataType::List(Arc::new(Field::new("item", item, true)))
    }

    fn strukt(members: &[(&str, DataType)]) -> DataType {
        DataType::Struct(
            members
                .iter()
                .map(|(n, t)| Field::new(*n, t.clone(), true))
                .collect(),
        )
    }

    fn map(value: DataType) -> DataType {
        let entries = strukt_fields(vec![
            Field::new("key", DataType::Utf8, false),
            Field::new("value", value, true),
        ]);
        DataType::Map(Arc::new(Field::new("entries", entries, false)), false)
    }

    fn strukt_fields(fields: Vec<Field>) -> DataType {
        DataType::Struct(Fields::from(fields))
    }

    /// The join of two nullable fields of the given types; `Some(None)` stands for JSON.
    fn join(a: &DataType, b: &DataType, evolve: bool) -> Option<Option<DataType>> {
        join_fields(&field(a.clone()), &field(b.clone()), evolve)
            .map(|f| (!is_json(&f)).then(|| f.data_type().clone()))
    }

    fn texts(array: &ArrayRef) -> Vec<Option<String>> {
        array
            .as_string::<i32>()
            .iter()
            .map(|v| v.map(str::to_owned))
            .collect()
    }

    fn to_text(array: ArrayRef) -> Vec<Option<String>> {
        let from = field(array.data_type().clone());
        texts(&conform_array(&array, &from, &field(DataType::Utf8)).unwrap())
    }

    fn json_of(array: &dyn Array) -> Vec<Option<String>> {
        to_json_text(array)
            .unwrap()
            .iter()
            .map(|v| v.map(str::to_owned))
            .collect()
    }

    fn some(values: &[&str]) -> Vec<Option<String>> {
        values.iter().map(|v| Some((*v).to_owned())).collect()
    }

    fn message(e: &Error) -> String {
        e.to_string()
    }

    #[test]
    fn json_fields_are_marked_utf8() {
        let f = json_field("doc", true);
        assert_eq!(f.data_type(), &DataType::Utf8);
        assert_eq!(f.extension_type_name(), Some("arrow.json"));
        assert!(is_json(&f) && f.is_nullable());
        assert!(!is_json(&Field::new("doc", DataType::Utf8, true)));
        let not_text = Field::new("doc", DataType::Int64, true)
            .with_metadata([(EXTENSION_TYPE_NAME_KEY, JSON_EXTENSION)]);
        assert!(!is_json(&not_text));
    }

    #[test]
    fn scalar_join_rules() {
        use DataType as T;
        let ts_us = T::Timestamp(US, None);
        let ts_ns = T::Timestamp(NS, None);
        let time = T::Time64(US);
        let cases: Vec<(T, T, Option<T>)> = vec![
            (T::Int64, T::Int64, Some(T::Int64)),
            (T::Null, T::Boolean, Some(T::Boolean)),
            (time.clone(), T::Null, Some(time.clone())),
            (T::Null, T::Null, Some(T::Null)),
            (T::Int64, T::Float64, Some(T::Float64)),
            (T::Int64, T::Decimal128(10, 2), Some(T::Decimal128(21, 2))),
            (T::Decimal128(25, 0), T::Int64, Some(T::Decimal128(25, 0))),
            (T::Int64, T::Decimal128(38, 19), Some(T::Decimal128(38, 19))),
            (T::Int64, T::Decimal128(38, 20), Some(T::Utf8)),
            (
                T::Decimal128(10, 2),
                T::Decimal128(5, 4),
                Some(T::Decimal128(12, 4)),
            ),
            (T::Decimal128(38, 0), T::Decimal128(38, 1), Some(T::Utf8)),
            (T::Float64, T::Decimal128(10, 2), Some(T::Utf8)),
            (T::Date32, ts_us.clone(), Some(ts_us.clone())),
            (utc(NS), T::Date32, Some(utc(NS))),
            (ts_us.clone(), ts_ns.clone(), Some(ts_ns.clone())),
            (utc(US), utc(NS), Some(utc(NS))),
            (utc(US), ts_us.clone(), Some(T::Utf8)),
            (T::Boolean, T::Int64, Some(T::Utf8)),
            (T::Float64, T::Boolean, Some(T::Utf8)),
            (T::Date32, T::Int64, Some(T::Utf8)),
            (time.clone(), ts_us.clone(), Some(T::Utf8)),
            (T::Utf8, T::Float64, Some(T::Utf8)),
            (T::Int32, T::Int32, Some(T::Int32)),
            (T::Int32, T::Null, Some(T::Int32)),
            (T::Int32, T::Int64, None),
            (T::Int32, strukt(&[("a", T::Int64)]), None),
        ];
        for (a, b, want) in cases {
            for evolve in [false, true] {
                let got = join(&a, &b, evolve);
                assert_eq!(got, want.clone().map(Some), "{a} ⊔ {b} (evolve {evolve})");
                assert_eq!(join(&b, &a, evolve), got, "{b} ⊔ {a} (evolve {evolve})");
            }
        }
    }

    #[test]
    fn json_joins_need_evolve_except_with_null() {
        let json = json_field("x", true);
        let text = field(DataType::Utf8);
        let int = field(DataType::Int64);
        let null = field(DataType::Null);
        for (a, b) in [(&text, &json), (&json, &text), (&int, &json), (&json, &int)] {
            assert_eq!(join_fields(a, b, false), None);
            assert!(is_json(&join_fields(a, b, true).unwrap()));
        }
        for evolve in [false, true] {
            assert!(is_json(&join_fields(&json, &json, evolve).unwrap()));
            assert!(is_json(&join_fields(&null, &json, evolve).unwrap()));
            assert!(is_json(&join_fields(&json, &null, evolve).unwrap()));
        }
        // Nested against anything else.
        let s = strukt(&[("a", DataType::Int64)]);
        for other in [
            DataType::Int64,
            DataType::Utf8,
            list(DataType::Int64),
            map(DataType::Int64),
        ] {
            assert_eq!(join(&s, &other, false), None, "{other}");
            assert_eq!(join(&s, &other, true), Some(None), "{other}");
            assert_eq!(join(&other, &s, true), Some(None), "{other}");
        }
        // A scalar where a list is becomes a one-item list (XML: a child seen once, then
        // repeated); a list where a struct is still needs JSON text.
        assert_eq!(
            join(&list(DataType::Int64), &DataType::Float64, false),
            Some(Some(list(DataType::Float64)))
        );
        assert_eq!(join(&list(DataType::Int64), &s, true), Some(None));
        assert_eq!(
            join(&map(DataType::Int64), &list(DataType::Int64), false),
            None
        );
    }

    #[test]
    fn joins_are_nullable_if_either_side_is_and_keep_names_and_metadata() {
        let a = Field::new("a", DataType::Int64, false);
        let b = Field::new("a", DataType::Float64, false);
        assert!(!join_fields(&a, &b, false).unwrap().is_nullable());
        let b = b.with_nullable(true);
        assert!(join_fields(&a, &b, false).unwrap().is_nullable());
        assert!(join_fields(&b, &a, false).unwrap().is_nullable());
        let tagged = Field::new("a", DataType::Float64, false).with_metadata([("k", "v")]);
        let joined = join_fields(&a, &tagged, false).unwrap();
        assert_eq!(joined.metadata().get("k").map(String::as_str), Some("v"));
        let json = join_fields(&a, &json_field("other name", false), true).unwrap();
        assert_eq!(json.name(), "a");
        assert!(!json.is_nullable());
    }

    #[test]
    fn structs_join_member_wise_with_new_members_appended() {
        let a = strukt_fields(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("inner", strukt(&[("x", DataType::Int64)]), true),
        ]);
        let b = strukt_fields(vec![
            Field::new(
                "inner",
                strukt(&[("y", DataType::Utf8), ("x", DataType::Float64)]),
                true,
            ),
            Field::new("tag", DataType::Utf8, false),
            Field::new("id", DataType::Int64, false),
        ]);
        let want = strukt_fields(vec![
            Field::new("id", DataType::Int64, false),
            Field::new(
                "inner",
                strukt(&[("x", DataType::Float64), ("y", DataType::Utf8)]),
                true,
            ),
            // Only on one side: nullable, since the other side's batches lack it.
            Field::new("tag", DataType::Utf8, true),
        ]);
        assert_eq!(join(&a, &b, false), Some(Some(want)));
        // A member conflict fails the whole join without evolve, makes JSON with it.
        let c = strukt(&[("inner", DataType::Int64)]);
        assert_eq!(join(&a, &c, false), None);
        let DataType::Struct(members) = join(&a, &c, true).unwrap().unwrap() else {
            panic!("not a struct")
        };
        assert!(is_json(members.find("inner").unwrap().1));
        assert_eq!(members.find("id").unwrap().1.data_type(), &DataType::Int64);
    }

    #[test]
    fn lists_and_maps_join_their_items() {
        let a = list(strukt(&[("a", DataType::Int64)]));
        let b = list(strukt(&[("a", DataType::Float64), ("b", DataType::Utf8)]));
        assert_eq!(
            join(&a, &b, false),
            Some(Some(list(strukt(&[
                ("a", DataType::Float64),
                ("b", DataType::Utf8)
            ]))))
        );
        assert_eq!(
            join(&list(DataType::Int64), &list(DataType::Null), false),
            Some(Some(list(DataType::Int64)))
        );
        // Items that cannot join: a list of JSON with evolve.
        let mixed = join(
            &list(DataType::Int64),
            &list(strukt(&[("a", DataType::Int64)])),
            true,
        );
        let Some(Some(DataType::List(item))) = mixed else {
            panic!("not a list: {mixed:?}")
        };
        assert!(is_json(&item) && item.name() == "item");
        assert_eq!(
            join(&map(DataType::Int64), &map(DataType::Date32), false),
            Some(Some(map(DataType::Utf8)))
        );
        assert_eq!(
            join(&map(DataType::Int64), &map(DataType::Float64), false),
            Some(Some(map(DataType::Float64)))
        );
    }

    #[test]
    fn schemas_join_by_name() {
        let a = Schema::new(vec![
            Field::new("a", DataType::Int64, false),
            Field::new("b", DataType::Date32, false),
        ])
        .with_metadata(HashMap::from([("origin".to_owned(), "a".to_owned())]));
        let b = Schema::new(vec![
            Field::new("c", DataType::Boolean, false),
            Field::new("a", DataType::Float64, false),
        ]);
        let joined = join_schemas(&a, &b, false).unwrap();
        let got: Vec<_> = joined
            .fields()
            .iter()
            .map(|f| (f.name().as_str(), f.data_type().clone(), f.is_nullable()))
            .collect();
        assert_eq!(
            got,
            [
                ("a", DataType::Float64, false),
                ("b", DataType::Date32, true),
                ("c", DataType::Boolean, true),
            ]
        );
        assert_eq!(
            joined.metadata().get("origin").map(String::as_str),
            Some("a")
        );
        let c = Schema::new(vec![Field::new(
            "a",
            strukt(&[("x", DataType::Int64)]),
            true,
        )]);
        assert!(join_schemas(&a, &c, false).is_none());
        assert!(is_json(join_schemas(&a, &c, true).unwrap().field(0)));
    }

    #[test]
    fn the_join_is_associative_and_commutative() {
        use DataType as T;
        let mut types: Vec<Field> = [
            T::Null,
            T::Boolean,
            T::Int64,
            T::Float64,
            T::Decimal128(10, 2),
            T::Decimal128(38, 20),
            T::Decimal128(20, 0),
            T::Date32,
            T::Timestamp(US, None),
            T::Timestamp(NS, None),
            utc(US),
            utc(NS),
            T::Time64(US),
            T::Utf8,
            list(T::Int64),
            list(T::Float64),
            list(T::Null),
            strukt(&[("a", T::Int64)]),
            strukt(&[("a", T::Decimal128(10, 2))]),
            map(T::Int64),
            map(T::Boolean),
        ]
        .into_iter()
        .map(field)
        .collect();
        types.push(json_field("x", true));
        for evolve in [false, true] {
            let j = |a: Option<Field>, b: Option<Field>| join_fields(&a?, &b?, evolve);
            for a in &types {
                for b in &types {
                    let ab = j(Some(a.clone()), Some(b.clone()));
                    assert_eq!(ab, j(Some(b.clone()), Some(a.clone())), "{a} ⊔ {b}");
                    if evolve {
                        assert!(ab.is_some(), "{a} ⊔ {b} fails with evolve");
                    }
                    for c in &types {
                        let left = j(ab.clone(), Some(c.clone()));
                        let right = j(Some(a.clone()), j(Some(b.clone()), Some(c.clone())));
                        assert_eq!(left, right, "({a} ⊔ {b}) ⊔ {c}, evolve {evolve}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_same_type_is_returned_as_is() {
        let array: ArrayRef = Arc::new(Int64Array::from(vec![1, 2]));
        let from = Field::new("a", DataType::Int64, false);
        let to = Field::new("a", DataType::Int64, true);
        assert!(Arc::ptr_eq(
            &conform_array(&array, &from, &to).unwrap(),
            &array
        ));
        let text: ArrayRef = Arc::new(StringArray::from(vec!["{}"]));
        let json = json_field("a", true);
        assert!(Arc::ptr_eq(
            &conform_array(&text, &json, &json).unwrap(),
            &text
        ));
        // JSON text read as plain text is the same text.
        let plain = field(DataType::Utf8);
        assert!(Arc::ptr_eq(
            &conform_array(&text, &json, &plain).unwrap(),
            &text
        ));
        // Plain text to JSON text is not: it becomes JSON strings.
        let quoted = conform_array(&text, &plain, &json).unwrap();
        assert_eq!(texts(&quoted), some(&["\"{}\""]));
    }

    #[test]
    fn the_array_must_match_its_field() {
        let array: ArrayRef = Arc::new(Int64Array::from(vec![1]));
        let e =
            conform_array(&array, &field(DataType::Float64), &field(DataType::Utf8)).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Schema(_)));
        assert!(message(&e).contains("the data is Int64"), "{e}");
    }

    #[test]
    fn numbers_widen_exactly() {
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![
            Some(1),
            None,
            Some(-7),
            Some(i64::MAX),
            Some(i64::MIN),
        ]));
        let from = field(DataType::Int64);
        let floats = conform_array(&ints, &from, &field(DataType::Float64)).unwrap();
        let floats = floats.as_primitive::<Float64Type>();
        assert_eq!(floats.value(0), 1.0);
        assert!(floats.is_null(1));
        assert_eq!(floats.value(3), 9.223_372_036_854_776e18);

        let dec = conform_array(&ints, &from, &field(DataType::Decimal128(21, 2))).unwrap();
        assert_eq!(dec.data_type(), &DataType::Decimal128(21, 2));
        let dec = dec.as_primitive::<Decimal128Type>();
        assert_eq!(dec.value(0), 100);
        assert!(dec.is_null(1));
        assert_eq!(dec.value(3), i128::from(i64::MAX) * 100);
        assert_eq!(dec.value(4), i128::from(i64::MIN) * 100);

        // A value too wide for the precision is an error naming the column and the value.
        let e = conform_array(&ints, &from, &field(DataType::Decimal128(5, 2))).unwrap_err();
        assert!(message(&e).contains("column \"x\""), "{e}");
        assert!(
            message(&e).contains("9223372036854775807 does not fit"),
            "{e}"
        );
        // Nulls are not checked, whatever their slots hold.
        let masked: ArrayRef = Arc::new(Int64Array::new(
            vec![1, i64::MAX].into(),
            Some(NullBuffer::from(vec![true, false])),
        ));
        let narrow = conform_array(&masked, &from, &field(DataType::Decimal128(3, 1))).unwrap();
        assert_eq!(narrow.as_primitive::<Decimal128Type>().value(0), 10);
        assert!(narrow.is_null(1));

        let d: ArrayRef = Arc::new(
            Decimal128Array::from(vec![Some(-12_345), None])
                .with_precision_and_scale(10, 2)
                .unwrap(),
        );
        let wider = conform_array(
            &d,
            &field(DataType::Decimal128(10, 2)),
            &field(DataType::Decimal128(12, 4)),
        )
        .unwrap();
        assert_eq!(wider.as_primitive::<Decimal128Type>().value(0), -1_234_500);
        // Fewer fraction digits would round: refused.
        let e = conform_array(
            &d,
            &field(DataType::Decimal128(10, 2)),
            &field(DataType::Decimal128(12, 1)),
        )
        .unwrap_err();
        assert!(message(&e).contains("scale"), "{e}");
    }

    #[test]
    fn dates_and_timestamps_widen() {
        let days: ArrayRef = Arc::new(Date32Array::from(vec![
            Some(0),
            Some(-1),
            None,
            Some(19_000),
        ]));
        let from = field(DataType::Date32);
        let us = conform_array(&days, &from, &field(DataType::Timestamp(US, None))).unwrap();
        let us = us.as_primitive::<TimestampMicrosecondType>();
        assert_eq!(us.values()[..2], [0, -86_400_000_000]);
        assert_eq!(us.value(3), 19_000 * 86_400_000_000);
        assert!(us.is_null(2));
        let ns = conform_array(&days, &from, &field(utc(NS))).unwrap();
        assert_eq!(ns.data_type(), &utc(NS));
        assert_eq!(
            ns.as_primitive::<TimestampNanosecondType>().value(3),
            19_000 * 86_400_000_000_000
        );
        // Beyond the nanosecond range (years 1677-2262).
        let far: ArrayRef = Arc::new(Date32Array::from(vec![200_000]));
        let e = conform_array(&far, &from, &field(DataType::Timestamp(NS, None))).unwrap_err();
        assert!(
            message(&e).contains("the date 2517-08-01 is out of range"),
            "{e}"
        );

        let ts: ArrayRef = Arc::new(
            TimestampMicrosecondArray::from(vec![Some(1), None, Some(-5)]).with_timezone("UTC"),
        );
        let fine = conform_array(&ts, &field(utc(US)), &field(utc(NS))).unwrap();
        let fine = fine.as_primitive::<TimestampNanosecondType>();
        assert_eq!((fine.value(0), fine.value(2)), (1_000, -5_000));
        assert!(fine.is_null(1));
        assert_eq!(fine.timezone(), Some("UTC"));
        let big: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![i64::MAX / 10]));
        let from = field(DataType::Timestamp(US, None));
        let e = conform_array(&big, &from, &field(DataType::Timestamp(NS, None))).unwrap_err();
        assert!(
            message(&e).contains("out of range for Timestamp(ns)"),
            "{e}"
        );
        // Coarser units and other time zones are not widenings.
        assert!(
            conform_array(&ts, &field(utc(US)), &field(DataType::Timestamp(NS, None))).is_err()
        );
        let fine: ArrayRef = Arc::new(TimestampNanosecondArray::from(vec![1]));
        assert!(conform_array(&fine, &field(DataType::Timestamp(NS, None)), &from).is_err());
    }

    #[test]
    fn scalars_become_text() {
        assert_eq!(
            to_text(Arc::new(BooleanArray::from(vec![
                Some(true),
                None,
                Some(false)
            ]))),
            [Some("true".into()), None, Some("false".into())]
        );
        assert_eq!(
            to_text(Arc::new(Int64Array::from(vec![0, -42, i64::MIN]))),
            some(&["0", "-42", "-9223372036854775808"])
        );
        assert_eq!(
            to_text(Arc::new(Float64Array::from(vec![
                1.0,
                1.5,
                -0.0,
                0.1,
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                1e21,
            ]))),
            some(&[
                "1",
                "1.5",
                "-0",
                "0.1",
                "NaN",
                "inf",
                "-inf",
                "1000000000000000000000"
            ])
        );
        let dec = |values: Vec<i128>, p, s| -> ArrayRef {
            Arc::new(
                Decimal128Array::from(values)
                    .with_precision_and_scale(p, s)
                    .unwrap(),
            )
        };
        assert_eq!(
            to_text(dec(vec![12_345, -5, 0, 100, -100_000], 10, 2)),
            some(&["123.45", "-0.05", "0.00", "1.00", "-1000.00"])
        );
        assert_eq!(to_text(dec(vec![7, -7, 0], 10, 0)), some(&["7", "-7", "0"]));
        assert_eq!(to_text(dec(vec![7, 0], 10, -3)), some(&["7000", "0"]));
        let max = 10_i128.pow(38) - 1;
        assert_eq!(
            to_text(dec(vec![-max], 38, 38)),
            some(&["-0.99999999999999999999999999999999999999"])
        );
        assert_eq!(
            to_text(Arc::new(Date32Array::from(vec![0, 11_016, -1]))),
            some(&["1970-01-01", "2000-02-29", "1969-12-31"])
        );
        assert_eq!(
            to_text(Arc::new(TimestampMicrosecondArray::from(vec![
                0,
                -1,
                1_500_000,
                -86_400_000_000,
                951_782_400_000_000,
            ]))),
            some(&[
                "1970-01-01T00:00:00",
                "1969-12-31T23:59:59.999999",
                "1970-01-01T00:00:01.500000",
                "1969-12-31T00:00:00",
                "2000-02-29T00:00:00",
            ])
        );
        assert_eq!(
            to_text(Arc::new(
                TimestampNanosecondArray::from(vec![-1, 1_000]).with_timezone("UTC")
            )),
            some(&[
                "1969-12-31T23:59:59.999999999Z",
                "1970-01-01T00:00:00.000001000Z"
            ])
        );
        let text = to_text(Arc::new(TimestampMicrosecondArray::from(vec![
            i64::MIN,
            i64::MAX,
        ])));
        assert_eq!(
            text,
            some(&[
                "-290308-12-21T19:59:05.224192",
                "+294247-01-10T04:00:54.775807"
            ])
        );
        assert_eq!(
            to_text(Arc::new(Time64MicrosecondArray::from(vec![
                Some(0),
                None,
                Some(45_296_000_001),
                Some(86_399_999_999),
            ]))),
            [
                Some("00:00:00".into()),
                None,
                Some("12:34:56.000001".into()),
                Some("23:59:59.999999".into())
            ]
        );
        let bad: ArrayRef = Arc::new(Time64MicrosecondArray::from(vec![86_400_000_000]));
        let e =
            conform_array(&bad, &field(DataType::Time64(US)), &field(DataType::Utf8)).unwrap_err();
        assert!(message(&e).contains("not a time of day"), "{e}");
        // Null to anything: nulls of that type.
        let nulls: ArrayRef = Arc::new(NullArray::new(2));
        let as_list = conform_array(
            &nulls,
            &field(DataType::Null),
            &field(list(DataType::Int64)),
        )
        .unwrap();
        assert_eq!(
            (as_list.data_type(), as_list.null_count()),
            (&list(DataType::Int64), 2)
        );
        let e = conform_array(
            &nulls,
            &field(DataType::Null),
            &Field::new("x", DataType::Int64, false),
        )
        .unwrap_err();
        assert!(message(&e).contains("not nullable"), "{e}");
    }

    #[test]
    fn civil_dates() {
        let date = |days| {
            let mut s = String::new();
            write_date(days, &mut s);
            s
        };
        for (days, want) in [
            (0, "1970-01-01"),
            (11_016, "2000-02-29"),
            (11_017, "2000-03-01"),
            (-1, "1969-12-31"),
            (-719_162, "0001-01-01"),
            (-719_163, "0000-12-31"),
            (-719_469, "0000-02-29"),
            (-719_528, "0000-01-01"),
            (-719_529, "-0001-12-31"),
            (-141_427, "1582-10-15"),
            (2_932_896, "9999-12-31"),
            (2_932_897, "+10000-01-01"),
            (i64::from(i32::MIN), "-5877641-06-23"),
            (i64::from(i32::MAX), "+5881580-07-11"),
        ] {
            assert_eq!(date(days), want, "{days}");
        }
    }

    #[test]
    fn civil_dates_agree_with_counting_days() {
        let leap =
            |y: i64| y.rem_euclid(4) == 0 && (y.rem_euclid(100) != 0 || y.rem_euclid(400) == 0);
        let month_days = |y: i64, m: i64| match m {
            2 if leap(y) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        // Forward from the epoch past 9999 and back past year -1000, a day at a time.
        let (mut y, mut m, mut d) = (1970, 1, 1);
        for days in 0..3_100_000 {
            assert_eq!(civil(days), (y, m, d), "{days}");
            d += 1;
            if d > month_days(y, m) {
                (m, d) = (m + 1, 1);
                if m > 12 {
                    (y, m) = (y + 1, 1);
                }
            }
        }
        let (mut y, mut m, mut d) = (1970, 1, 1);
        for days in (-1_100_000..=0).rev() {
            assert_eq!(civil(days), (y, m, d), "{days}");
            d -= 1;
            if d == 0 {
                m -= 1;
                if m == 0 {
                    (y, m) = (y - 1, 12);
                }
                d = month_days(y, m);
            }
        }
        // Far out, the calendar repeats every 400 years.
        for days in [-2_000_000_000, -123_456_789, 987_654_321, 2_000_000_000] {
            let (y, m, d) = civil(days);
            assert_eq!(civil(days + DAYS_400Y), (y + 400, m, d), "{days}");
            assert_eq!(civil(days - 3 * DAYS_400Y), (y - 1200, m, d), "{days}");
            assert_eq!(civil(days.rem_euclid(DAYS_400Y)).1, m);
        }
    }

    /// Whether `s` is a number in JSON's grammar.
    fn is_json_number(s: &str) -> bool {
        let b = s.as_bytes();
        let mut i = usize::from(b.first() == Some(&b'-'));
        let digits = |i: &mut usize| {
            let start = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - start
        };
        let int_start = i;
        let n = digits(&mut i);
        if n == 0 || (n > 1 && b[int_start] == b'0') {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if digits(&mut i) == 0 {
                return false;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if digits(&mut i) == 0 {
                return false;
            }
        }
        i == b.len()
    }

    #[test]
    fn rendered_floats_read_back_as_the_same_float() {
        let mut values = vec![
            0.0,
            -0.0,
            1.0,
            -1.5,
            0.1,
            1.0 / 3.0,
            1e15,
            1e16,
            1e17,
            123_456_789_012_345_680.0,
            1e300,
            1e-300,
            1e-7,
            5e-324,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        while values.len() < 20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = f64::from_bits(state);
            if v.is_finite() {
                values.push(v);
            }
        }
        let array: ArrayRef = Arc::new(Float64Array::from(values.clone()));
        let json = to_json_text(array.as_ref()).unwrap();
        let text = to_text(Arc::clone(&array));
        for (i, v) in values.iter().enumerate() {
            let j = json.value(i);
            assert!(is_json_number(j), "{j}");
            // Always a fraction or an exponent, so JSON readers make a float of it.
            assert!(j.contains(['.', 'e']), "{j}");
            assert_eq!(j.parse::<f64>().unwrap().to_bits(), v.to_bits(), "{j}");
            let t = text[i].as_deref().unwrap();
            assert_eq!(t.parse::<f64>().unwrap().to_bits(), v.to_bits(), "{t}");
        }
        assert_eq!(json.value(0), "0.0");
        assert_eq!(json.value(7), "1e16");
        assert_eq!(json.value(10), "1e300");
        assert_eq!(json.value(12), "1e-7");
    }

    #[test]
    fn json_text_of_scalars() {
        assert_eq!(
            json_of(&Float64Array::from(vec![
                Some(1.5),
                Some(f64::NAN),
                None,
                Some(f64::INFINITY)
            ])),
            [Some("1.5".into()), None, None, None]
        );
        assert_eq!(
            json_of(&BooleanArray::from(vec![true, false])),
            some(&["true", "false"])
        );
        assert_eq!(json_of(&Int64Array::from(vec![-3])), some(&["-3"]));
        let dec = Decimal128Array::from(vec![-5])
            .with_precision_and_scale(5, 2)
            .unwrap();
        assert_eq!(json_of(&dec), some(&["-0.05"]));
        assert_eq!(
            json_of(&Date32Array::from(vec![-719_529])),
            some(&["\"-0001-12-31\""])
        );
        assert_eq!(
            json_of(&TimestampMicrosecondArray::from(vec![1]).with_timezone("UTC")),
            some(&["\"1970-01-01T00:00:00.000001Z\""])
        );
        assert_eq!(
            json_of(&Time64MicrosecondArray::from(vec![3_600_000_000])),
            some(&["\"01:00:00\""])
        );
        assert_eq!(json_of(&NullArray::new(2)), [None, None]);
        assert!(to_json_text(&arrow_array::Int32Array::from(vec![1])).is_err());
    }

    #[test]
    fn json_strings_are_escaped() {
        let text = StringArray::from(vec![
            Some("plain"),
            Some("quote \" backslash \\ slash /"),
            Some("lines\n\r\ttab \u{0}\u{1}\u{8}\u{c}\u{1f} del \u{7f}"),
            Some("é ✓ 𝄞 \u{2028}"),
            Some(""),
            None,
        ]);
        assert_eq!(
            json_of(&text),
            [
                Some(r#""plain""#.into()),
                Some(r#""quote \" backslash \\ slash /""#.into()),
                Some(
                    r#""lines\n\r\ttab \u0000\u0001\u0008\u000c\u001f del "#.to_owned()
                        + "\u{7f}\""
                ),
                Some("\"é ✓ 𝄞 \u{2028}\"".into()),
                Some(r#""""#.into()),
                None,
            ]
        );
    }

    /// Four maps of `"k\""` to the row number and `"n"` to null; the third is null.
    fn sample_map() -> MapArray {
        let names = MapFieldNames {
            entry: "entries".into(),
            key: "key".into(),
            value: "value".into(),
        };
        let mut maps = MapBuilder::new(Some(names), StringBuilder::new(), Int64Builder::new());
        for row in 0..4 {
            if row != 2 {
                maps.keys().append_value("k\"");
                maps.values().append_value(row);
                maps.keys().append_value("n");
                maps.values().append_null();
            }
            maps.append(row != 2).unwrap();
        }
        maps.finish()
    }

    /// Four structs of every kind of member; the third is null.
    fn sample_struct() -> StructArray {
        let floats = ListArray::from_iter_primitive::<Float64Type, _, _>(vec![
            Some(vec![Some(1.0), Some(f64::NAN), None]),
            None,
            Some(vec![]),
            Some(vec![Some(-2.5)]),
        ]);
        let maps = sample_map();
        StructArray::try_new(
            Fields::from(vec![
                Field::new("a", DataType::Int64, true),
                Field::new("s", DataType::Utf8, true),
                Field::new("f", floats.data_type().clone(), true),
                Field::new("m", maps.data_type().clone(), true),
                json_field("doc", true),
            ]),
            vec![
                Arc::new(Int64Array::from(vec![Some(1), None, Some(3), Some(4)])),
                Arc::new(StringArray::from(vec!["x", "y\"", "z", "w"])),
                Arc::new(floats),
                Arc::new(maps),
                Arc::new(StringArray::from(vec![
                    Some(r#"{"x":[1,2]}"#),
                    Some("null"),
                    None,
                    Some("\"t\""),
                ])),
            ],
            Some(NullBuffer::from(vec![true, true, false, true])),
        )
        .unwrap()
    }

    #[test]
    fn json_text_of_nested_values() {
        let s = sample_struct();
        let want = [
            Some(
                r#"{"a":1,"s":"x","f":[1.0,null,null],"m":{"k\"":0,"n":null},"doc":{"x":[1,2]}}"#
                    .to_owned(),
            ),
            Some(r#"{"a":null,"s":"y\"","f":null,"m":{"k\"":1,"n":null},"doc":null}"#.to_owned()),
            None,
            Some(r#"{"a":4,"s":"w","f":[-2.5],"m":{"k\"":3,"n":null},"doc":"t"}"#.to_owned()),
        ];
        assert_eq!(json_of(&s), want);
        // A slice renders its own rows.
        assert_eq!(json_of(&s.slice(1, 3)), want[1..]);
        // Lists of structs, struct members that are null, empty structs.
        let inner: ArrayRef = Arc::new(s.clone());
        let lists = ListArray::try_new(
            Arc::new(Field::new("item", s.data_type().clone(), true)),
            OffsetBuffer::from_lengths([2, 0, 2]),
            inner,
            Some(NullBuffer::from(vec![true, false, true])),
        )
        .unwrap();
        let got = json_of(&lists);
        assert_eq!(
            got[0].as_deref(),
            Some(
                format!(
                    "[{},{}]",
                    want[0].as_ref().unwrap(),
                    want[1].as_ref().unwrap()
                )
                .as_str()
            )
        );
        assert_eq!(got[1], None);
        assert_eq!(
            got[2].as_deref(),
            Some(format!("[null,{}]", want[3].as_ref().unwrap()).as_str())
        );
        let empty = StructArray::new_empty_fields(2, None);
        assert_eq!(json_of(&empty), some(&["{}", "{}"]));
        // Struct as plain text: its JSON text.
        assert_eq!(to_text(Arc::new(s))[3], want[3]);
    }

    #[test]
    fn anything_becomes_json_text() {
        let json = json_field("x", true);
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None]));
        let got = conform_array(&ints, &field(DataType::Int64), &json).unwrap();
        assert_eq!(texts(&got), [Some("1".into()), None]);
        let s: ArrayRef = Arc::new(sample_struct());
        let got = conform_array(&s, &field(s.data_type().clone()), &json).unwrap();
        assert_eq!(texts(&got), json_of(s.as_ref()));
        // List items that become JSON keep the list.
        let lists: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
            Some(vec![Some(1), None]),
            None,
        ]));
        let to = field(DataType::List(Arc::new(json_field("item", true))));
        let got = conform_array(&lists, &field(lists.data_type().clone()), &to).unwrap();
        let got = got.as_list::<i32>();
        assert!(got.is_null(1));
        assert_eq!(texts(&got.value(0)), [Some("1".into()), None]);
    }

    #[test]
    fn structs_conform_by_member_name() {
        let from_fields = Fields::from(vec![
            Field::new("b", DataType::Int64, true),
            Field::new("a", DataType::Utf8, false),
        ]);
        let values: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from((0..10).collect::<Vec<_>>())),
            Arc::new(StringArray::from(
                (0..10).map(|i| i.to_string()).collect::<Vec<_>>(),
            )),
        ];
        let validity = NullBuffer::from((0..10).map(|i| i % 3 != 0).collect::<Vec<_>>());
        let s = StructArray::new(from_fields.clone(), values, Some(validity));
        let array: ArrayRef = Arc::new(s.slice(3, 5));
        let to_fields = Fields::from(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("b", DataType::Float64, true),
            Field::new("new", strukt(&[("deep", DataType::Int64)]), true),
        ]);
        let from = field(DataType::Struct(from_fields.clone()));
        let to = field(DataType::Struct(to_fields.clone()));
        let got = conform_array(&array, &from, &to).unwrap();
        assert_eq!(got.data_type(), to.data_type());
        let got = got.as_struct();
        assert_eq!(got.len(), 5);
        // Rows 3..8 of the whole: 3 and 6 are null structs.
        assert_eq!(
            (0..5).map(|i| got.is_valid(i)).collect::<Vec<_>>(),
            [false, true, true, false, true]
        );
        assert_eq!(
            got.column(1)
                .as_primitive::<Float64Type>()
                .values()
                .to_vec(),
            [3.0, 4.0, 5.0, 6.0, 7.0]
        );
        assert_eq!(texts(got.column(0))[1], Some("4".into()));
        assert_eq!(got.column(2).null_count(), 5);

        // A member the target lacks; a new member that cannot be null.
        let fewer = field(strukt(&[("a", DataType::Utf8)]));
        let e = conform_array(&array, &from, &fewer).unwrap_err();
        assert!(
            message(&e).contains("column \"x.b\": is not in the target schema"),
            "{e}"
        );
        let strict = field(strukt_fields(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("b", DataType::Int64, true),
            Field::new("c", DataType::Int64, false),
        ]));
        let e = conform_array(&array, &from, &strict).unwrap_err();
        assert!(message(&e).contains("column \"x.c\""), "{e}");
        // A conversion that does not exist names the nested path.
        let bad = field(strukt(&[("a", DataType::Utf8), ("b", DataType::Boolean)]));
        let e = conform_array(&array, &from, &bad).unwrap_err();
        assert!(
            message(&e).contains("column \"x.b\": cannot convert Int64 to Boolean"),
            "{e}"
        );
    }

    #[test]
    fn lists_of_structs_widen_and_slices_convert_only_their_items() {
        let item = Fields::from(vec![Field::new("v", DataType::Int64, true)]);
        let values = StructArray::new(
            item.clone(),
            vec![Arc::new(Int64Array::from(vec![
                i64::MAX,
                1,
                2,
                3,
                i64::MIN,
            ]))],
            None,
        );
        let item_field = Arc::new(Field::new("item", DataType::Struct(item), true));
        let lists = ListArray::new(
            Arc::clone(&item_field),
            OffsetBuffer::from_lengths([1, 2, 1, 1]),
            Arc::new(values),
            None,
        );
        let from = field(lists.data_type().clone());
        let to_item = strukt(&[("v", DataType::Decimal128(5, 0)), ("w", DataType::Utf8)]);
        let to = field(list(to_item.clone()));
        // The whole array holds values too wide for decimal(5, 0)...
        let whole: ArrayRef = Arc::new(lists.clone());
        assert!(conform_array(&whole, &from, &to).is_err());
        // ...but the middle two lists do not.
        let middle: ArrayRef = Arc::new(lists.slice(1, 2));
        let got = conform_array(&middle, &from, &to).unwrap();
        let got = got.as_list::<i32>();
        assert_eq!(got.value_offsets(), [0, 2, 3]);
        assert_eq!(got.values().len(), 3);
        let members = got.values().as_struct();
        assert_eq!(
            members
                .column(0)
                .as_primitive::<Decimal128Type>()
                .values()
                .to_vec(),
            [1, 2, 3]
        );
        assert_eq!(members.column(1).null_count(), 3);
        assert_eq!(
            json_of(got),
            some(&[
                r#"[{"v":1,"w":null},{"v":2,"w":null}]"#,
                r#"[{"v":3,"w":null}]"#
            ])
        );
    }

    #[test]
    fn maps_conform_their_values() {
        let m: ArrayRef = Arc::new(sample_map());
        let from = field(m.data_type().clone());
        let to = field(map(DataType::Float64));
        let sliced = m.slice(1, 3);
        let got = conform_array(&sliced, &from, &to).unwrap();
        assert_eq!(got.data_type(), to.data_type());
        let got = got.as_map();
        assert_eq!(got.len(), 3);
        assert!(got.is_null(1));
        assert_eq!(got.value_offsets(), [0, 2, 2, 4]);
        let values = got.values().as_primitive::<Float64Type>();
        assert_eq!((values.value(0), values.value(2)), (1.0, 3.0));
        assert!(values.is_null(3));
        let text = conform_array(&m, &from, &field(map(DataType::Utf8))).unwrap();
        assert_eq!(
            json_of(text.as_ref())[0].as_deref(),
            Some(r#"{"k\"":"0","n":null}"#)
        );
    }

    #[test]
    fn primitive_slices_conform() {
        let ints = Int64Array::from(
            (0..10)
                .map(|i| (i % 4 != 0).then_some(i))
                .collect::<Vec<_>>(),
        );
        let array = (Arc::new(ints) as ArrayRef).slice(3, 5);
        let from = field(DataType::Int64);
        let floats = conform_array(&array, &from, &field(DataType::Float64)).unwrap();
        let floats = floats.as_primitive::<Float64Type>();
        assert_eq!(
            floats.iter().collect::<Vec<_>>(),
            [Some(3.0), None, Some(5.0), Some(6.0), Some(7.0)]
        );
        assert_eq!(
            to_text(array.clone()),
            [
                Some("3".into()),
                None,
                Some("5".into()),
                Some("6".into()),
                Some("7".into())
            ]
        );
        assert_eq!(json_of(array.as_ref())[4].as_deref(), Some("7"));
        let days: ArrayRef = Arc::new(Date32Array::from(vec![0, 1, 2, 3]));
        let ts = conform_array(
            &days.slice(2, 2),
            &field(DataType::Date32),
            &field(DataType::Timestamp(US, None)),
        )
        .unwrap();
        assert_eq!(
            ts.as_primitive::<TimestampMicrosecondType>()
                .values()
                .to_vec(),
            [2 * 86_400_000_000, 3 * 86_400_000_000]
        );
    }

    #[test]
    fn batches_conform_to_a_joined_schema() {
        let batch = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("b", DataType::Int64, false),
                Field::new("a", DataType::Utf8, true),
            ])),
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3])),
                Arc::new(StringArray::from(vec!["x", "y", "z"])),
            ],
        )
        .unwrap();
        let other = Schema::new(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("b", DataType::Float64, true),
            Field::new("c", strukt(&[("d", DataType::Int64)]), true),
        ]);
        let target = Arc::new(join_schemas(&other, batch.schema_ref(), false).unwrap());
        let got = conform(&batch, &target).unwrap();
        assert_eq!(got.schema_ref(), &target);
        assert_eq!(got.num_rows(), 3);
        assert!(Arc::ptr_eq(got.column(0), batch.column(1)));
        assert_eq!(got.column(1).as_primitive::<Float64Type>().value(2), 3.0);
        assert_eq!(got.column(2).null_count(), 3);
        // The same schema: the batch itself.
        let same = conform(&got, &target).unwrap();
        assert!(Arc::ptr_eq(same.column(1), got.column(1)));
        // A column the target lacks, a missing column that cannot be null.
        let e = conform(
            &batch,
            &Arc::new(Schema::new(vec![Field::new("a", DataType::Utf8, true)])),
        )
        .unwrap_err();
        assert!(
            message(&e).contains("column \"b\": is not in the target schema"),
            "{e}"
        );
        let strict = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("b", DataType::Int64, false),
            Field::new("c", DataType::Int64, false),
        ]));
        let e = conform(&batch, &strict).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Schema(_)));
        assert!(message(&e).contains("column \"c\""), "{e}");
        // Rows without columns keep their count.
        let empty = RecordBatch::try_new_with_options(
            Arc::new(Schema::empty()),
            vec![],
            &RecordBatchOptions::new().with_row_count(Some(4)),
        )
        .unwrap();
        let got = conform(&empty, &Arc::new(Schema::new(vec![field(DataType::Int64)]))).unwrap();
        assert_eq!((got.num_rows(), got.column(0).null_count()), (4, 4));
    }

    #[test]
    fn scalars_join_lists_and_structs_with_text_as_xml_widens() {
        let text_struct = strukt(&[("lang", DataType::Utf8), (TEXT_MEMBER, DataType::Utf8)]);
        assert_eq!(
            join(&DataType::Utf8, &text_struct, false),
            Some(Some(text_struct.clone()))
        );
        let listed = list(text_struct.clone());
        assert_eq!(
            join(&DataType::Utf8, &listed, false),
            Some(Some(listed.clone()))
        );
        // Values convert: one-item lists, the text member (a null stays null).
        let values: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), None]));
        let got = conform_array(&values, &field(DataType::Utf8), &field(listed)).unwrap();
        let lists = got.as_list::<i32>();
        assert_eq!(
            (lists.len(), lists.value_length(0), lists.is_null(1)),
            (2, 1, true)
        );
        let item = lists.value(0);
        let item = item.as_struct();
        assert_eq!(texts(item.column(1)), [Some("a".to_string())]);
        assert_eq!(item.column(0).null_count(), 1);
    }
}
