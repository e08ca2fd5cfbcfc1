//! What nested records hold and how to decode them: shared by the JSON and XML readers.
//!
//! A [`Shape`] is what a sample of values showed: per field, the kinds of values seen (with a
//! [`ColumnInference`] over the scalars, the same one the CSV reader uses, so dates,
//! timestamps, decimals and epoch times follow the same rules) and the shapes of nested
//! objects and arrays. A [`Node`] is the decoding plan made from it: one Arrow type per
//! field, to any depth. Plans only widen: [`Node::absorb`] joins what a later chunk showed,
//! by the schema policy's rules.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, TimeUnit};

use crate::decode::values::DateFormat;
use crate::decode::SchemaPolicy;
use crate::schema::{ColumnInference, ColumnType, NullTokens};

/// An object with more distinct keys than this is a map (key -> value), not a struct with
/// a column per key.
pub const MAP_KEYS: usize = 1024;

/// Levels of nested struct, list and map columns; values nested deeper are JSON text.
pub const MAX_NESTED_COLUMNS: usize = 32;

/// What values of one place in the records looked like.
#[derive(Debug, Clone, Default)]
pub enum Shape {
    /// Nothing but nulls (or nothing at all).
    #[default]
    Unseen,
    /// Scalars.
    Scalar(Box<Leaf>),
    /// Objects.
    Object(Box<ObjectShape>),
    /// Arrays, with the shape of their elements.
    Array(Box<Shape>),
    /// Values of different kinds (objects and scalars, arrays and objects).
    Mixed,
}

/// Scalars seen: how many of each JSON kind, and what their text says.
#[derive(Debug, Clone, Default)]
pub struct Leaf {
    /// Numbers and strings, as the CSV reader's inference sees text.
    pub inference: ColumnInference,
    /// Strings seen.
    pub strings: u64,
    /// Numbers seen.
    pub numbers: u64,
    /// `true` / `false` seen.
    pub bools: u64,
    /// Some integer (written without fraction or exponent) does not fit an int64: the
    /// numbers are then kept exactly, as decimals or text, never as floats.
    pub wide_integers: bool,
}

/// Objects seen: their fields in order of first appearance, or once there are too many
/// distinct keys, the shape of all their values (a map).
#[derive(Debug, Clone, Default)]
pub struct ObjectShape {
    /// Field names and shapes.
    pub fields: Vec<(String, Shape)>,
    index: HashMap<String, usize>,
    /// Set once more than [`MAP_KEYS`] distinct keys were seen.
    pub map: Option<Box<Shape>>,
}

impl ObjectShape {
    pub(crate) fn field(&mut self, key: &str) -> Option<&mut Shape> {
        if self.map.is_some() {
            return self.map.as_deref_mut();
        }
        let i = match self.index.get(key) {
            Some(&i) => i,
            None => {
                if self.fields.len() >= MAP_KEYS {
                    // Too many keys for columns: every value is a map value from now on.
                    let mut values = Shape::Unseen;
                    for (_, s) in self.fields.drain(..) {
                        values.join(s);
                    }
                    self.index.clear();
                    return Some(self.map.insert(Box::new(values)));
                }
                self.fields.push((key.to_string(), Shape::Unseen));
                self.index.insert(key.to_string(), self.fields.len() - 1);
                self.fields.len() - 1
            }
        };
        self.fields.get_mut(i).map(|(_, s)| s)
    }
}

impl Shape {
    /// The leaf to count a scalar in (turning an unseen shape into one); `None` when the
    /// shape already holds objects or arrays (it becomes mixed).
    pub(crate) fn leaf(&mut self) -> Option<&mut Leaf> {
        match self {
            Shape::Unseen => {
                *self = Shape::Scalar(Box::default());
            }
            Shape::Scalar(_) => {}
            _ => {
                *self = Shape::Mixed;
                return None;
            }
        }
        match self {
            Shape::Scalar(leaf) => Some(leaf),
            _ => None,
        }
    }

    /// Adds what `other` saw to this shape.
    pub fn join(&mut self, other: Shape) {
        let mine = std::mem::take(self);
        *self = match (mine, other) {
            (Shape::Unseen, s) | (s, Shape::Unseen) => s,
            (Shape::Mixed, _) | (_, Shape::Mixed) => Shape::Mixed,
            (Shape::Scalar(mut a), Shape::Scalar(b)) => {
                a.inference.merge(&b.inference);
                a.strings += b.strings;
                a.numbers += b.numbers;
                a.bools += b.bools;
                a.wide_integers |= b.wide_integers;
                Shape::Scalar(a)
            }
            (Shape::Array(mut a), Shape::Array(b)) => {
                a.join(*b);
                Shape::Array(a)
            }
            (Shape::Object(mut a), Shape::Object(b)) => {
                let b = *b;
                match b.map {
                    Some(values) => {
                        for (name, s) in b.fields {
                            if let Some(f) = a.field(&name) {
                                f.join(s);
                            }
                        }
                        a.map_values_join(*values);
                    }
                    None => {
                        for (name, s) in b.fields {
                            if let Some(f) = a.field(&name) {
                                f.join(s);
                            }
                        }
                    }
                }
                Shape::Object(a)
            }
            _ => Shape::Mixed,
        };
    }
}

impl ObjectShape {
    /// Joins `values` into the map values, making this a map first.
    pub(crate) fn map_values_join(&mut self, values: Shape) {
        if self.map.is_none() {
            let mut all = Shape::Unseen;
            for (_, s) in self.fields.drain(..) {
                all.join(s);
            }
            self.index.clear();
            self.map = Some(Box::new(all));
        }
        if let Some(m) = &mut self.map {
            m.join(values);
        }
    }
}

/// How a place in the records is decoded: its Arrow type and what it accepts.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// Only nulls so far.
    Null,
    /// `true` / `false`.
    Bool,
    /// 64-bit integers.
    Int,
    /// 64-bit floats.
    Float,
    /// Exact decimals (precision, scale).
    Decimal(u8, u8),
    /// Dates written as `fmt`.
    Date(DateFormat),
    /// Timestamps written as `fmt` (or epoch numbers), in nanoseconds when `nanos`, with an
    /// offset normalised to UTC when `utc`.
    Timestamp {
        /// How the values are written.
        fmt: DateFormat,
        /// Nanoseconds rather than microseconds.
        nanos: bool,
        /// Written with an offset; stored as UTC.
        utc: bool,
    },
    /// Times of day.
    Time,
    /// Text. Numbers and booleans in a text column keep their JSON text.
    Str,
    /// JSON text: any value, kept as written.
    Json,
    /// An object with known fields.
    Struct(Arc<StructPlan>),
    /// An array.
    List(Box<Node>),
    /// An object used as a map: any keys, values of one plan.
    Map(Box<Node>),
}

/// The fields of a struct, and how to find one by key.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StructPlan {
    /// Fields in order.
    pub fields: Vec<FieldPlan>,
    index: HashMap<Vec<u8>, usize>,
}

/// One field of a struct.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldPlan {
    /// Its name (the key, as text).
    pub name: String,
    /// Its key as bytes.
    pub key: Vec<u8>,
    /// How its values are decoded.
    pub node: Node,
    /// Words read as null in a typed column written as strings (`"N/A"` in a date column).
    pub nulls: NullTokens,
}

impl StructPlan {
    /// A plan of these fields.
    pub fn new(fields: Vec<FieldPlan>) -> Self {
        let index = fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.key.clone(), i))
            .collect();
        StructPlan { fields, index }
    }

    /// The field with `key`.
    #[inline]
    pub fn find(&self, key: &[u8]) -> Option<usize> {
        self.index.get(key).copied()
    }

    /// The Arrow fields.
    pub fn arrow_fields(&self) -> Fields {
        self.fields
            .iter()
            .map(|f| f.node.arrow_field(&f.name))
            .collect()
    }
}

/// The field metadata marking a text column as JSON text (Arrow's canonical JSON type).
pub fn json_metadata() -> HashMap<String, String> {
    HashMap::from([("ARROW:extension:name".to_string(), "arrow.json".to_string())])
}

impl Node {
    /// The Arrow field for this node, named `name` (always nullable).
    pub fn arrow_field(&self, name: &str) -> Field {
        let f = Field::new(name, self.data_type(), true);
        if *self == Node::Json {
            f.with_metadata(json_metadata())
        } else {
            f
        }
    }

    /// The Arrow type.
    pub fn data_type(&self) -> DataType {
        match self {
            Node::Null => DataType::Null,
            Node::Bool => DataType::Boolean,
            Node::Int => DataType::Int64,
            Node::Float => DataType::Float64,
            Node::Decimal(p, s) => DataType::Decimal128(*p, i8::try_from(*s).unwrap_or(0)),
            Node::Date(_) => DataType::Date32,
            Node::Timestamp { nanos, utc, .. } => DataType::Timestamp(
                if *nanos {
                    TimeUnit::Nanosecond
                } else {
                    TimeUnit::Microsecond
                },
                utc.then(|| "UTC".into()),
            ),
            Node::Time => DataType::Time64(TimeUnit::Microsecond),
            Node::Str | Node::Json => DataType::Utf8,
            Node::Struct(s) => DataType::Struct(s.arrow_fields()),
            Node::List(item) => DataType::List(Arc::new(item.arrow_field("item"))),
            Node::Map(values) => DataType::Map(
                Arc::new(Field::new(
                    "entries",
                    DataType::Struct(Fields::from(vec![
                        Field::new("key", DataType::Utf8, false),
                        values.arrow_field("value"),
                    ])),
                    false,
                )),
                false,
            ),
        }
    }

    /// The node of a column type given by the caller.
    pub fn of_type(ty: ColumnType, fmt: DateFormat) -> Node {
        match ty {
            ColumnType::Bool => Node::Bool,
            ColumnType::Int64 => Node::Int,
            ColumnType::Float64 => Node::Float,
            ColumnType::Decimal(p, s) => Node::Decimal(p, s),
            ColumnType::Date => Node::Date(fmt),
            ColumnType::Timestamp(u) => Node::Timestamp {
                fmt,
                nanos: u == TimeUnit::Nanosecond,
                utc: false,
            },
            ColumnType::TimestampUtc(u) => Node::Timestamp {
                fmt,
                nanos: u == TimeUnit::Nanosecond,
                utc: true,
            },
            ColumnType::Time => Node::Time,
            ColumnType::Utf8 => Node::Str,
            ColumnType::Null => Node::Null,
        }
    }

    /// The plan for values of `shape`. `name` is the field's (epoch times are recognised
    /// by it); `null_ok`: a place that held only nulls may be null-typed (otherwise text).
    pub fn from_shape(
        shape: &Shape,
        name: &str,
        tolerance: f64,
        null_ok: bool,
    ) -> (Node, NullTokens) {
        Node::from_shape_at(shape, name, tolerance, null_ok, 0)
    }

    fn from_shape_at(
        shape: &Shape,
        name: &str,
        tolerance: f64,
        null_ok: bool,
        depth: usize,
    ) -> (Node, NullTokens) {
        let plain = |node| (node, NullTokens::EMPTY_ONLY);
        let nested = |shape: &Shape, name: &str| {
            Node::from_shape_at(shape, name, tolerance, null_ok, depth + 1).0
        };
        match shape {
            // Deeper than Parquet nesting is useful (and than its writer's stack allows):
            // kept as JSON text.
            Shape::Array(_) | Shape::Object(_) if depth >= MAX_NESTED_COLUMNS => plain(Node::Json),
            Shape::Unseen => plain(if null_ok { Node::Null } else { Node::Str }),
            Shape::Mixed => plain(Node::Json),
            Shape::Array(items) => plain(Node::List(Box::new(nested(items, "item")))),
            Shape::Object(o) => match &o.map {
                Some(values) => plain(Node::Map(Box::new(nested(values, "value")))),
                // Objects that never held a field: no struct type has no fields in Parquet,
                // so they are JSON text (`{}`).
                None if o.fields.is_empty() => plain(Node::Json),
                None => plain(Node::Struct(Arc::new(StructPlan::new(
                    o.fields
                        .iter()
                        .map(|(n, s)| {
                            let (node, nulls) =
                                Node::from_shape_at(s, n, tolerance, null_ok, depth + 1);
                            FieldPlan {
                                name: n.clone(),
                                key: n.as_bytes().to_vec(),
                                node,
                                nulls,
                            }
                        })
                        .collect(),
                )))),
            },
            Shape::Scalar(leaf) => Node::from_leaf(leaf, name, tolerance),
        }
    }

    pub(crate) fn from_leaf(leaf: &Leaf, name: &str, tolerance: f64) -> (Node, NullTokens) {
        let text = (Node::Str, NullTokens::EMPTY_ONLY);
        let kinds = usize::from(leaf.strings > 0)
            + usize::from(leaf.numbers > 0)
            + usize::from(leaf.bools > 0);
        if kinds > 1 {
            // Values of several kinds: text keeps each as written.
            return text;
        }
        if leaf.bools > 0 {
            return (Node::Bool, NullTokens::EMPTY_ONLY);
        }
        let (ty, nulls, fmt) = leaf.inference.resolve_full(tolerance);
        if leaf.numbers > 0 {
            return match ty {
                ColumnType::Int64 => match leaf.inference.epoch_format(name) {
                    Some(f) => (
                        Node::Timestamp {
                            fmt: f,
                            nanos: false,
                            utc: false,
                        },
                        NullTokens::EMPTY_ONLY,
                    ),
                    None => (Node::Int, NullTokens::EMPTY_ONLY),
                },
                // An integer too wide for int64 loses digits as a float: such
                // columns are decimals when every value fits one, text otherwise.
                ColumnType::Float64 if fmt == DateFormat::ISO && !leaf.wide_integers => {
                    (Node::Float, NullTokens::EMPTY_ONLY)
                }
                ColumnType::Decimal(p, s) => (Node::Decimal(p, s), NullTokens::EMPTY_ONLY),
                // Numbers no float64 or decimal128 holds exactly keep their text.
                _ => text,
            };
        }
        // Strings: dates and times are typed; other text (numbers in quotes included)
        // stays text, as the writer of the file chose.
        match ty {
            ColumnType::Date
            | ColumnType::Timestamp(_)
            | ColumnType::TimestampUtc(_)
            | ColumnType::Time => (Node::of_type(ty, fmt), nulls),
            _ => text,
        }
    }

    /// Widens this plan by what `shape` saw, under `policy`. Returns whether it changed.
    pub fn absorb(&mut self, shape: &Shape, name: &str, policy: SchemaPolicy) -> bool {
        let evolve = policy == SchemaPolicy::Evolve;
        let (seen, _) = Node::from_shape(shape, name, 0.0, true);
        let joined = join(self, &seen, evolve);
        match joined {
            Some(j) if j != *self => {
                *self = j;
                true
            }
            _ => false,
        }
    }
}

/// The plan that reads values of both `a` and `b` (`None`: none does, under merge).
pub fn join(a: &Node, b: &Node, evolve: bool) -> Option<Node> {
    use Node::*;
    let text_or_json = |a: &Node, b: &Node| -> Option<Node> {
        let scalar = |n: &Node| !matches!(n, Struct(_) | List(_) | Map(_) | Json);
        if scalar(a) && scalar(b) {
            Some(Str)
        } else if evolve {
            Some(Json)
        } else {
            None
        }
    };
    Some(match (a, b) {
        _ if a == b => a.clone(),
        (Null, x) | (x, Null) => x.clone(),
        (Json, _) | (_, Json) => {
            if evolve {
                Json
            } else {
                return None;
            }
        }
        (Int, Float) | (Float, Int) => Float,
        (Int, Decimal(p, s)) | (Decimal(p, s), Int) => {
            let p2 = (*p).max(19u8.saturating_add(*s));
            if p2 <= 38 {
                Decimal(p2, *s)
            } else {
                Str
            }
        }
        (Decimal(p1, s1), Decimal(p2, s2)) => {
            let s = (*s1).max(*s2);
            let int = (p1 - s1).max(p2 - s2);
            match int.checked_add(s) {
                Some(p) if p <= 38 => Decimal(p, s),
                _ => Str,
            }
        }
        (
            Date(f1),
            Timestamp {
                fmt: f2,
                nanos,
                utc: false,
            },
        )
        | (
            Timestamp {
                fmt: f2,
                nanos,
                utc: false,
            },
            Date(f1),
        ) if f1 == f2 => Timestamp {
            fmt: *f1,
            nanos: *nanos,
            utc: false,
        },
        (
            Timestamp {
                fmt: f1,
                nanos: n1,
                utc: u1,
            },
            Timestamp {
                fmt: f2,
                nanos: n2,
                utc: u2,
            },
        ) if f1 == f2 && u1 == u2 => Timestamp {
            fmt: *f1,
            nanos: *n1 || *n2,
            utc: *u1,
        },
        (Struct(x), Struct(y)) => {
            let mut fields = x.fields.clone();
            for f in &y.fields {
                match x.find(&f.key) {
                    Some(i) => {
                        let mine = fields.get_mut(i)?;
                        mine.node = join(&mine.node, &f.node, evolve)?;
                    }
                    None => fields.push(f.clone()),
                }
            }
            if fields.len() > MAP_KEYS {
                let mut values = Null;
                for f in &fields {
                    values = join(&values, &f.node, evolve)?;
                }
                Map(Box::new(values))
            } else {
                Struct(Arc::new(StructPlan::new(fields)))
            }
        }
        (Map(v), Struct(s)) | (Struct(s), Map(v)) => {
            let mut values = (**v).clone();
            for f in &s.fields {
                values = join(&values, &f.node, evolve)?;
            }
            Map(Box::new(values))
        }
        (Map(x), Map(y)) => Map(Box::new(join(x, y, evolve)?)),
        (List(x), List(y)) => List(Box::new(join(x, y, evolve)?)),
        _ => return text_or_json(a, b),
    })
}
