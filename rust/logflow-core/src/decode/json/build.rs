//! Decoding JSON values straight into Arrow columns, by a [`Node`] plan: no value tree is
//! built. Every column can be cut back to a row count, so a record that fails half way is
//! taken out again whole.

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

use super::lex::{Lex, Syntax, MAX_DEPTH};
use super::plan::{FieldPlan, Node, StructPlan};
use crate::decode::values::{self, DateFormat};
use crate::error::{Error, ErrorKind, Result};
use crate::schema::NullTokens;

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
    fn within(mut self, segment: &str) -> Self {
        if let Fail::Cast { path, .. } | Fail::Shape { path, .. } = &mut self {
            let escaped = segment.replace('~', "~0").replace('/', "~1");
            *path = format!("/{escaped}{path}");
        }
        self
    }
}

type Decoded = std::result::Result<(), Fail>;

/// How values that do not fit are handled while decoding one chunk.
#[derive(Debug)]
pub struct Ctx {
    /// A value its column cannot hold becomes null (the row is kept).
    pub null_on_cast: bool,
    /// Values set to null that way.
    pub nulled: u64,
    /// An empty string in a text column is null.
    pub empty_as_null: bool,
    scratch: Vec<u8>,
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
pub struct Valid(NullBufferBuilder);

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
    offsets: Vec<i32>,
    data: Vec<u8>,
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
    fn close(&mut self) -> Decoded {
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
fn close_nested(offsets: &mut Vec<i32>, children: usize, valid: &mut Valid, what: &str) -> Decoded {
    let end = i32::try_from(children).map_err(|_| Fail::Cast {
        path: String::new(),
        detail: format!("more than 2^31 {what} in one chunk"),
    })?;
    offsets.push(end);
    valid.0.append_non_null();
    Ok(())
}

/// A syntax failure at the cursor.
#[cold]
fn syntax(lex: &Lex<'_>, what: &'static str) -> Fail {
    Fail::Syntax(Syntax { at: lex.i, what })
}

#[cold]
fn shape_fail(what: &str, found: &str) -> Fail {
    Fail::Shape {
        path: String::new(),
        detail: format!("expected {what}, found {found}"),
    }
}

/// What the value at the cursor is, in words (for messages).
fn kind_at(lex: &Lex<'_>) -> &'static str {
    match lex.peek() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
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

    /// Decodes the value at the cursor (after whitespace) into this column.
    pub fn decode(
        &mut self,
        lex: &mut Lex<'_>,
        node: &Node,
        nulls: NullTokens,
        ctx: &mut Ctx,
        depth: usize,
    ) -> Decoded {
        let c = lex.ws();
        if c == Some(b'n') {
            lex.literal(b"null")?;
            self.push_null();
            return Ok(());
        }
        if let (Node::Struct(plan), Col::Struct { .. }) = (node, &*self) {
            if c == Some(b'{') {
                return self.decode_object(lex, plan, ctx, depth);
            }
        }
        match (node, self) {
            (Node::List(item), Col::List(offsets, child, valid)) if c == Some(b'[') => {
                if depth >= MAX_DEPTH {
                    return Err(syntax(lex, "nested too deeply"));
                }
                lex.i += 1;
                let mut k = 0usize;
                if lex.ws() == Some(b']') {
                    lex.i += 1;
                } else {
                    loop {
                        child
                            .decode(lex, item, NullTokens::EMPTY_ONLY, ctx, depth + 1)
                            .map_err(|f| f.within(&k.to_string()))?;
                        k += 1;
                        match lex.ws() {
                            Some(b',') => lex.i += 1,
                            Some(b']') => {
                                lex.i += 1;
                                break;
                            }
                            _ => return Err(syntax(lex, "',' or ']' expected in an array")),
                        }
                    }
                }
                close_nested(offsets, child.len(), valid, "list items")
            }
            (Node::Map(value), Col::Map(offsets, keys, values, valid)) if c == Some(b'{') => {
                if depth >= MAX_DEPTH {
                    return Err(syntax(lex, "nested too deeply"));
                }
                lex.i += 1;
                if lex.ws() == Some(b'}') {
                    lex.i += 1;
                } else {
                    loop {
                        if lex.ws() != Some(b'"') {
                            return Err(syntax(lex, "object key (a string) expected"));
                        }
                        let key_start = keys.data.len();
                        lex.string_into(&mut keys.data)?;
                        keys.close()?;
                        lex.expect(b':', "':' expected after an object key")?;
                        let seg =
                            String::from_utf8_lossy(keys.data.get(key_start..).unwrap_or_default())
                                .into_owned();
                        values
                            .decode(lex, value, NullTokens::EMPTY_ONLY, ctx, depth + 1)
                            .map_err(|f| f.within(&seg))?;
                        match lex.ws() {
                            Some(b',') => lex.i += 1,
                            Some(b'}') => {
                                lex.i += 1;
                                break;
                            }
                            _ => return Err(syntax(lex, "',' or '}' expected in an object")),
                        }
                    }
                }
                close_nested(offsets, values.len(), valid, "map entries")
            }
            (Node::Json, Col::Str(text, valid)) => {
                let start = lex.i;
                lex.skip_value(depth)?;
                text.data
                    .extend_from_slice(lex.b.get(start..lex.i).unwrap_or_default());
                text.close()?;
                valid.0.append_non_null();
                Ok(())
            }
            (Node::Struct(_) | Node::List(_) | Node::Map(_), _) => {
                let want = match node {
                    Node::Struct(_) | Node::Map(_) => "an object",
                    _ => "an array",
                };
                Err(shape_fail(want, kind_at(lex)))
            }
            (_, col) => col.decode_scalar(lex, node, nulls, ctx, depth),
        }
    }

    /// Decodes an object at the cursor into this struct column.
    fn decode_object(
        &mut self,
        lex: &mut Lex<'_>,
        plan: &StructPlan,
        ctx: &mut Ctx,
        depth: usize,
    ) -> Decoded {
        let Col::Struct {
            fields,
            stamp,
            len,
            valid,
        } = self
        else {
            return Err(shape_fail("an object", "another column"));
        };
        if depth >= MAX_DEPTH {
            return Err(syntax(lex, "nested too deeply"));
        }
        lex.i += 1;
        let row = *len + 1;
        let mut guess = 0usize;
        if lex.ws() == Some(b'}') {
            lex.i += 1;
        } else {
            loop {
                if lex.ws() != Some(b'"') {
                    return Err(syntax(lex, "object key (a string) expected"));
                }
                let (raw, escaped) = lex.string_raw()?;
                let key: &[u8] = if escaped {
                    ctx.scratch.clear();
                    super::lex::unescape(raw, &mut ctx.scratch)?;
                    &ctx.scratch
                } else {
                    raw
                };
                let found = match plan.fields.get(guess) {
                    Some(f) if f.key == key => Some(guess),
                    _ => plan.find(key),
                };
                let Some(i) = found else {
                    let name = String::from_utf8_lossy(key).into_owned();
                    return Err(Fail::Shape {
                        path: String::new(),
                        detail: format!("a field {name:?} that is not in the schema"),
                    }
                    .within(&name));
                };
                lex.expect(b':', "':' expected after an object key")?;
                let (Some(col), Some(f), Some(s)) =
                    (fields.get_mut(i), plan.fields.get(i), stamp.get_mut(i))
                else {
                    return Err(shape_fail("a known field", "a field out of range"));
                };
                if *s == row {
                    // A repeated key: the last value wins, as in most JSON readers.
                    col.truncate(row - 1);
                }
                col.decode(lex, &f.node, f.nulls, ctx, depth + 1)
                    .map_err(|e| e.within(&f.name))?;
                *s = row;
                guess = i + 1;
                match lex.ws() {
                    Some(b',') => lex.i += 1,
                    Some(b'}') => {
                        lex.i += 1;
                        break;
                    }
                    _ => return Err(syntax(lex, "',' or '}' expected in an object")),
                }
            }
        }
        for (col, s) in fields.iter_mut().zip(stamp.iter_mut()) {
            if *s != row {
                col.push_null();
                *s = row;
            }
        }
        *len += 1;
        valid.0.append_non_null();
        Ok(())
    }

    /// Decodes a scalar (or, for a text column, any scalar as its text).
    fn decode_scalar(
        &mut self,
        lex: &mut Lex<'_>,
        node: &Node,
        nulls: NullTokens,
        ctx: &mut Ctx,
        depth: usize,
    ) -> Decoded {
        let _ = depth;
        // The value's text: a string's decoded bytes, or a number's or literal's text.
        let c = lex.peek();
        let is_string = c == Some(b'"');
        let text: &[u8] = match c {
            Some(b'"') => {
                let (raw, escaped) = lex.string_raw()?;
                if escaped {
                    ctx.scratch.clear();
                    super::lex::unescape(raw, &mut ctx.scratch)?;
                    &ctx.scratch
                } else {
                    raw
                }
            }
            Some(b't') => {
                lex.literal(b"true")?;
                b"true"
            }
            Some(b'f') => {
                lex.literal(b"false")?;
                b"false"
            }
            Some(b'-' | b'0'..=b'9') => lex.number()?.text,
            Some(b'{' | b'[') => {
                return Err(shape_fail("a scalar", kind_at(lex)));
            }
            _ => return Err(syntax(lex, "a JSON value expected")),
        };
        let boolean = !is_string && matches!(c, Some(b't' | b'f'));
        // Typed readings ignore the padding around a value, as for delimited text.
        let t = values::trim_padding(text);
        // In a typed column, an empty string or one of the column's null words is null.
        let typed = !matches!(node, Node::Str | Node::Json);
        if typed && is_string {
            let t = values::trim_padding(text);
            if t.is_empty() || nulls.is_null(t) {
                self.push_null();
                return Ok(());
            }
        }
        let ok = match (node, &mut *self) {
            (Node::Str, Col::Str(_, _)) if is_string && text.is_empty() && ctx.empty_as_null => {
                self.push_null();
                true
            }
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
            return Ok(());
        }
        if ctx.null_on_cast && !matches!(node, Node::Null) {
            ctx.nulled += 1;
            self.push_null();
            return Ok(());
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

/// The plan of a record that is not an object: one column named `value`.
pub fn value_plan(node: Node) -> StructPlan {
    StructPlan::new(vec![FieldPlan {
        name: "value".into(),
        key: b"value".to_vec(),
        node,
        nulls: NullTokens::EMPTY_ONLY,
    }])
}
