//! Arrow columns built value by value by a [`Node`] plan, shared by the JSON and XML
//! readers: no value tree is built. Every column can be cut back to a row count, so a record
//! that fails half way is taken out again whole. Each format walks its own syntax and
//! appends values here ([`Col::push_scalar`], [`Col::push_null`], ...).

use std::sync::Arc;

use arrow_array::types::{
    Date32Type, Decimal128Type, Float64Type, Int64Type, Time64MicrosecondType,
    TimestampMicrosecondType, TimestampNanosecondType,
};
use arrow_array::{
    Array, ArrayRef, BooleanArray, ListArray, MapArray, NullArray, PrimitiveArray, StringArray,
    StructArray,
};
use arrow_buffer::{BooleanBufferBuilder, NullBufferBuilder, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Fields};

use super::plan::Node;
use crate::decode::values::{self, DateFormat};
use crate::error::{Error, ErrorKind, Result};
use crate::schema::NullTokens;

/// Where and why a record's syntax is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Syntax {
    /// Offset in the slice read.
    pub at: usize,
    /// What was wrong, in words.
    pub what: &'static str,
}

/// Why a value could not be decoded into its column.
#[derive(Debug)]
pub enum Fail {
    /// The record is not JSON.
    Syntax(Syntax),
    /// A value its column's type cannot hold (`"abc"` in an integer column): the column
    /// widens under merge, else the record is a cast error.
    Cast {
        /// JSON pointer of the value within the record.
        path: String,
        /// What was wrong.
        detail: String,
    },
    /// A value of another kind (an object where a number was) or a field the plan does not
    /// have: the plan widens under merge (a new field, text) or evolve (JSON text), else
    /// the record is a schema mismatch.
    Shape {
        /// JSON pointer of the value within the record.
        path: String,
        /// What was wrong.
        detail: String,
    },
}

impl From<Syntax> for Fail {
    fn from(s: Syntax) -> Self {
        Fail::Syntax(s)
    }
}

impl Fail {
    /// The same failure seen from one level up: `segment` is prepended to its path.
    #[cold]
    pub(crate) fn within(mut self, segment: &str) -> Self {
        if let Fail::Cast { path, .. } | Fail::Shape { path, .. } = &mut self {
            let escaped = segment.replace('~', "~0").replace('/', "~1");
            *path = format!("/{escaped}{path}");
        }
        self
    }
}

/// The result of decoding one value into a column.
pub type Decoded = std::result::Result<(), Fail>;

/// How values that do not fit are handled while decoding one chunk.
#[derive(Debug)]
pub struct Ctx {
    /// A value its column cannot hold becomes null (the row is kept).
    pub null_on_cast: bool,
    /// Values set to null that way.
    pub nulled: u64,
    /// An empty string in a text column is null.
    pub empty_as_null: bool,
    pub(crate) scratch: Vec<u8>,
}

impl Ctx {
    /// A context for one chunk.
    pub fn new(null_on_cast: bool, empty_as_null: bool) -> Self {
        Ctx {
            null_on_cast,
            nulled: 0,
            empty_as_null,
            scratch: Vec::new(),
        }
    }
}

/// The validity of a column under construction.
#[derive(Debug)]
pub struct Valid(pub(crate) NullBufferBuilder);

impl Valid {
    fn new() -> Self {
        Valid(NullBufferBuilder::new(0))
    }

    /// Marks one more row valid.
    pub fn push_valid(&mut self) {
        self.0.append_non_null();
    }
}

/// A text column: offsets and bytes.
#[derive(Debug)]
pub struct Text {
    pub(crate) offsets: Vec<i32>,
    pub(crate) data: Vec<u8>,
}

impl Text {
    fn new() -> Self {
        Text {
            offsets: vec![0],
            data: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Closes the value just appended to `data`.
    #[inline]
    pub(crate) fn close(&mut self) -> Decoded {
        match i32::try_from(self.data.len()) {
            Ok(end) => {
                self.offsets.push(end);
                Ok(())
            }
            Err(_) => Err(Fail::Cast {
                path: String::new(),
                detail: "more than 2 GiB of text in one column of one chunk".into(),
            }),
        }
    }

    fn truncate(&mut self, len: usize) {
        self.offsets.truncate(len + 1);
        let end = self.offsets.last().copied().unwrap_or(0);
        self.data.truncate(usize::try_from(end).unwrap_or(0));
    }

    fn finish(&mut self, valid: Option<arrow_buffer::NullBuffer>) -> Result<StringArray> {
        let offsets = std::mem::replace(&mut self.offsets, vec![0]);
        let data = std::mem::take(&mut self.data);
        Ok(StringArray::try_new(
            OffsetBuffer::new(ScalarBuffer::from(offsets)),
            data.into(),
            valid,
        )?)
    }
}

/// A column under construction, shaped like its [`Node`].
#[derive(Debug)]
pub enum Col {
    /// Nulls only.
    Null(usize),
    /// Booleans.
    Bool(BooleanBufferBuilder, Valid),
    /// Fixed-width values: int64, float64, dates, timestamps, times (as i64 / i32 bits).
    I64(Vec<i64>, Valid),
    /// Float64 values.
    F64(Vec<f64>, Valid),
    /// Dates.
    I32(Vec<i32>, Valid),
    /// Decimals.
    I128(Vec<i128>, Valid),
    /// Text or JSON text.
    Str(Text, Valid),
    /// A struct: one column per field, and for each field the last row it was set in
    /// (plus one), to find missing and repeated keys.
    Struct {
        /// The fields' columns.
        fields: Vec<Col>,
        /// Per field, `row + 1` of the last row that set it.
        stamp: Vec<usize>,
        /// Rows.
        len: usize,
        /// Validity.
        valid: Valid,
    },
    /// A list: offsets into the child column.
    List(Vec<i32>, Box<Col>, Valid),
    /// A map: offsets, keys and values.
    Map(Vec<i32>, Text, Box<Col>, Valid),
}

/// Appends `value` (when parsed) as the column's next row; whether it was.
#[inline]
fn push<T>(values: &mut Vec<T>, valid: &mut Valid, value: Option<T>) -> bool {
    match value {
        Some(x) => {
            values.push(x);
            valid.0.append_non_null();
            true
        }
        None => false,
    }
}

/// Ends a list or map value whose children now end at `children`.
pub(crate) fn close_nested(
    offsets: &mut Vec<i32>,
    children: usize,
    valid: &mut Valid,
    what: &str,
) -> Decoded {
    let end = i32::try_from(children).map_err(|_| Fail::Cast {
        path: String::new(),
        detail: format!("more than 2^31 {what} in one chunk"),
    })?;
    offsets.push(end);
    valid.0.append_non_null();
    Ok(())
}

impl Col {
    /// An empty column for `node`.
    pub fn new(node: &Node) -> Col {
        match node {
            Node::Null => Col::Null(0),
            Node::Bool => Col::Bool(BooleanBufferBuilder::new(0), Valid::new()),
            Node::Int | Node::Timestamp { .. } | Node::Time => Col::I64(Vec::new(), Valid::new()),
            Node::Float => Col::F64(Vec::new(), Valid::new()),
            Node::Decimal(..) => Col::I128(Vec::new(), Valid::new()),
            Node::Date(_) => Col::I32(Vec::new(), Valid::new()),
            Node::Str | Node::Json => Col::Str(Text::new(), Valid::new()),
            Node::Struct(s) => Col::Struct {
                fields: s.fields.iter().map(|f| Col::new(&f.node)).collect(),
                stamp: vec![0; s.fields.len()],
                len: 0,
                valid: Valid::new(),
            },
            Node::List(item) => Col::List(vec![0], Box::new(Col::new(item)), Valid::new()),
            Node::Map(values) => Col::Map(
                vec![0],
                Text::new(),
                Box::new(Col::new(values)),
                Valid::new(),
            ),
        }
    }

    /// Rows.
    pub fn len(&self) -> usize {
        match self {
            Col::Null(n) => *n,
            Col::Bool(b, _) => b.len(),
            Col::I64(v, _) => v.len(),
            Col::F64(v, _) => v.len(),
            Col::I32(v, _) => v.len(),
            Col::I128(v, _) => v.len(),
            Col::Str(t, _) => t.len(),
            Col::Struct { len, .. } => *len,
            Col::List(o, ..) | Col::Map(o, ..) => o.len() - 1,
        }
    }

    /// Appends a null.
    pub fn push_null(&mut self) {
        match self {
            Col::Null(n) => *n += 1,
            Col::Bool(b, v) => {
                b.append(false);
                v.0.append_null();
            }
            Col::I64(x, v) => {
                x.push(0);
                v.0.append_null();
            }
            Col::F64(x, v) => {
                x.push(0.0);
                v.0.append_null();
            }
            Col::I32(x, v) => {
                x.push(0);
                v.0.append_null();
            }
            Col::I128(x, v) => {
                x.push(0);
                v.0.append_null();
            }
            Col::Str(t, v) => {
                let end = t.offsets.last().copied().unwrap_or(0);
                t.offsets.push(end);
                v.0.append_null();
            }
            Col::Struct {
                fields, len, valid, ..
            } => {
                for f in fields {
                    f.push_null();
                }
                *len += 1;
                valid.0.append_null();
            }
            Col::List(o, _, v) | Col::Map(o, _, _, v) => {
                let end = o.last().copied().unwrap_or(0);
                o.push(end);
                v.0.append_null();
            }
        }
    }

    /// Cuts the column back to `len` rows.
    pub fn truncate(&mut self, len: usize) {
        match self {
            Col::Null(n) => *n = (*n).min(len),
            Col::Bool(b, v) => {
                b.truncate(len);
                v.0.truncate(len);
            }
            Col::I64(x, v) => {
                x.truncate(len);
                v.0.truncate(len);
            }
            Col::F64(x, v) => {
                x.truncate(len);
                v.0.truncate(len);
            }
            Col::I32(x, v) => {
                x.truncate(len);
                v.0.truncate(len);
            }
            Col::I128(x, v) => {
                x.truncate(len);
                v.0.truncate(len);
            }
            Col::Str(t, v) => {
                t.truncate(len);
                v.0.truncate(len);
            }
            Col::Struct {
                fields,
                stamp,
                len: n,
                valid,
            } => {
                for f in fields {
                    f.truncate(len);
                }
                for s in stamp {
                    *s = (*s).min(len);
                }
                *n = (*n).min(len);
                valid.0.truncate(len);
            }
            Col::List(o, child, v) => {
                o.truncate(len + 1);
                child.truncate(usize::try_from(o.last().copied().unwrap_or(0)).unwrap_or(0));
                v.0.truncate(len);
            }
            Col::Map(o, keys, values, v) => {
                o.truncate(len + 1);
                let n = usize::try_from(o.last().copied().unwrap_or(0)).unwrap_or(0);
                keys.truncate(n);
                values.truncate(n);
                v.0.truncate(len);
            }
        }
    }

    /// Appends a scalar given as text: a string's decoded bytes (`is_string`), or a
    /// number's or literal's text (`boolean`: `true` / `false`). In a typed column an empty
    /// string or one of the column's null words (`nulls`) is null. A value the column cannot
    /// hold is a [`Fail::Cast`], or with `null_on_cast` a null; returns whether it was
    /// nulled that way.
    pub fn push_scalar(
        &mut self,
        node: &Node,
        text: &[u8],
        is_string: bool,
        boolean: bool,
        nulls: NullTokens,
        null_on_cast: bool,
    ) -> std::result::Result<bool, Fail> {
        // Typed readings ignore the padding around a value, as for delimited text.
        let t = values::trim_padding(text);
        // In a typed column, an empty string or one of the column's null words is null.
        let typed = !matches!(node, Node::Str | Node::Json);
        if typed && is_string && (t.is_empty() || nulls.is_null(t)) {
            self.push_null();
            return Ok(false);
        }
        let ok = match (node, &mut *self) {
            (Node::Str, Col::Str(t, v)) => {
                t.data.extend_from_slice(text);
                t.close()?;
                v.0.append_non_null();
                true
            }
            (Node::Bool, Col::Bool(b, v)) => match values::parse_bool(text) {
                Some(x) => {
                    b.append(x);
                    v.0.append_non_null();
                    true
                }
                None => false,
            },
            (Node::Int, Col::I64(x, v)) if !boolean => push(x, v, values::parse_i64(t)),
            (Node::Float, Col::F64(x, v)) if !boolean => push(x, v, values::parse_f64(t)),
            (Node::Decimal(p, s), Col::I128(x, v)) if !boolean => {
                push(x, v, values::parse_decimal(t, *p, *s))
            }
            (Node::Date(fmt), Col::I32(x, v)) if !boolean => {
                let d = if *fmt == DateFormat::ISO {
                    values::parse_date(t)
                } else {
                    fmt.parse_date(t)
                };
                push(x, v, d)
            }
            // Epoch columns take numbers; other timestamp columns take strings.
            (Node::Timestamp { fmt, nanos, utc }, Col::I64(x, v)) if !boolean => {
                push(x, v, values::timestamp_value(t, *fmt, *utc, *nanos))
            }
            (Node::Time, Col::I64(x, v)) if is_string => push(x, v, values::parse_time(t)),
            _ => false,
        };
        if ok {
            return Ok(false);
        }
        if null_on_cast && !matches!(node, Node::Null) {
            self.push_null();
            return Ok(true);
        }
        Err(Fail::Cast {
            path: String::new(),
            detail: format!(
                "cannot read {}{:?} as {}",
                if is_string { "the string " } else { "" },
                crate::decode::shown(text),
                node.data_type()
            ),
        })
    }

    /// The finished column, as an Arrow array of `node`'s type.
    pub fn finish(&mut self, node: &Node) -> Result<ArrayRef> {
        Ok(match (node, self) {
            (_, Col::Null(n)) => Arc::new(NullArray::new(std::mem::take(n))),
            (_, Col::Bool(b, v)) => Arc::new(BooleanArray::new(b.finish(), v.0.finish())),
            (Node::Int, Col::I64(x, v)) => prim::<Int64Type>(x, v),
            (Node::Time, Col::I64(x, v)) => prim::<Time64MicrosecondType>(x, v),
            (Node::Timestamp { nanos, utc, .. }, Col::I64(x, v)) => {
                let tz = utc.then(|| Arc::<str>::from("UTC"));
                let values = ScalarBuffer::from(std::mem::take(x));
                if *nanos {
                    Arc::new(
                        PrimitiveArray::<TimestampNanosecondType>::new(values, v.0.finish())
                            .with_timezone_opt(tz),
                    )
                } else {
                    Arc::new(
                        PrimitiveArray::<TimestampMicrosecondType>::new(values, v.0.finish())
                            .with_timezone_opt(tz),
                    )
                }
            }
            (_, Col::F64(x, v)) => Arc::new(PrimitiveArray::<Float64Type>::new(
                ScalarBuffer::from(std::mem::take(x)),
                v.0.finish(),
            )),
            (_, Col::I32(x, v)) => Arc::new(PrimitiveArray::<Date32Type>::new(
                ScalarBuffer::from(std::mem::take(x)),
                v.0.finish(),
            )),
            (Node::Decimal(p, s), Col::I128(x, v)) => Arc::new(
                PrimitiveArray::<Decimal128Type>::new(
                    ScalarBuffer::from(std::mem::take(x)),
                    v.0.finish(),
                )
                .with_precision_and_scale(*p, i8::try_from(*s).unwrap_or(0))?,
            ),
            (_, Col::Str(t, v)) => {
                let valid = v.0.finish();
                Arc::new(t.finish(valid)?)
            }
            (
                Node::Struct(plan),
                Col::Struct {
                    fields,
                    stamp,
                    len,
                    valid,
                },
            ) => {
                let mut children = Vec::with_capacity(fields.len());
                for (f, p) in fields.iter_mut().zip(&plan.fields) {
                    children.push(f.finish(&p.node)?);
                }
                for s in stamp.iter_mut() {
                    *s = 0;
                }
                let n = std::mem::take(len);
                let nulls = valid.0.finish();
                if children.is_empty() {
                    Arc::new(StructArray::new_empty_fields(n, nulls))
                } else {
                    Arc::new(StructArray::try_new(plan.arrow_fields(), children, nulls)?)
                }
            }
            (Node::List(item), Col::List(o, child, v)) => {
                let offsets = OffsetBuffer::new(ScalarBuffer::from(std::mem::replace(o, vec![0])));
                let values = child.finish(item)?;
                Arc::new(ListArray::try_new(
                    Arc::new(item.arrow_field("item")),
                    offsets,
                    values,
                    v.0.finish(),
                )?)
            }
            (Node::Map(value), Col::Map(o, keys, values, v)) => {
                let offsets = OffsetBuffer::new(ScalarBuffer::from(std::mem::replace(o, vec![0])));
                let keys = Arc::new(keys.finish(None)?) as ArrayRef;
                let vals = values.finish(value)?;
                let entries = StructArray::try_new(
                    Fields::from(vec![
                        Field::new("key", DataType::Utf8, false),
                        value.arrow_field("value"),
                    ]),
                    vec![keys, vals],
                    None,
                )?;
                Arc::new(MapArray::try_new(
                    Arc::new(Field::new("entries", entries.data_type().clone(), false)),
                    offsets,
                    entries,
                    v.0.finish(),
                    false,
                )?)
            }
            (node, _) => {
                return Err(Error::new(ErrorKind::Schema(format!(
                    "internal error: a column does not match its plan ({})",
                    node.data_type()
                ))))
            }
        })
    }
}

fn prim<T: arrow_array::ArrowPrimitiveType<Native = i64>>(
    x: &mut Vec<i64>,
    v: &mut Valid,
) -> ArrayRef {
    Arc::new(PrimitiveArray::<T>::new(
        ScalarBuffer::from(std::mem::take(x)),
        v.0.finish(),
    ))
}
