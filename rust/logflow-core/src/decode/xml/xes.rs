//! XES event logs (IEEE 1849), on the XML reader's walk: the records are the traces
//! (`log/trace`), so a trace's attributes are always in the chunk of its events, and each
//! event becomes one row.
//!
//! Attributes are typed by their element (`string`, `date`, `int`, `float`, `boolean`, `id`,
//! `list`, `container`): dates are `timestamp[us, tz=UTC]` (written without an offset, they
//! are taken as UTC, as process-mining tools do), lists are list columns of their values,
//! containers struct columns of their attributes, and attributes nested in a scalar one are
//! columns `<key>.<child key>`. A key seen with values of several types gets the type that
//! holds them all (int and float: float; others: text).
//!
//! The event table has the columns process-mining tools use: `case:concept:name`,
//! `concept:name`, `time:timestamp`, `org:resource`, `lifecycle:transition`, then every
//! other event attribute by its key, then every other trace attribute as `case:<key>`, one
//! row per event in file order. The trace table has one row per trace, its attributes as
//! `case:<key>` (so the two join on `case:concept:name`). The log's own attributes,
//! extensions, global attributes and classifiers are read from the head ([`LogInfo`]).

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions, StructArray, UInt32Array};
use arrow_schema::{Field, Schema, SchemaRef};
use quick_xml::events::Event;

use super::frame::XmlFraming;
use super::shape::MAX_RECORD_DEPTH;
use super::walk::{parse_attrs, syntax, Bad, Doc, Read as Step, Tag, Walker};
use super::{read_head, BadBytes, XmlOptions};
use crate::decode::nested::build::{Col, Fail};
use crate::decode::nested::flat::slice_batches;
use crate::decode::nested::plan::{self, FieldPlan, Node, StructPlan};
use crate::decode::nested::widen::{Attempt, Widening, Widens};
use crate::decode::values::{self, DateFormat};
use crate::decode::{
    CastErrorPolicy, DecodeOptions, ErrorPolicy, Reject, RejectReason, SchemaPolicy,
};
use crate::error::{Error, ErrorKind, Position, Result};
use crate::schema::NullTokens;
use crate::stream::{Chunk, ChunkOutput, Chunker, Decoder, QuarantineFormat, Start};

const FORMAT: &str = "xes";

/// Which table of an XES log to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tables {
    /// One row per event, with its trace's attributes as `case:<key>` columns.
    #[default]
    Events,
    /// One row per trace.
    Traces,
    /// Both: the events table, and the traces table beside it.
    Both,
}

impl Tables {
    /// Parses `events`, `traces` or `both`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "events" => Ok(Tables::Events),
            "traces" => Ok(Tables::Traces),
            "both" => Ok(Tables::Both),
            other => Err(Error::invalid(format!(
                "unknown tables {other:?}: use \"events\", \"traces\" or \"both\""
            ))),
        }
    }
}

/// The event columns every table has, first, in this order.
pub const STANDARD_EVENT_KEYS: [&str; 4] = [
    "concept:name",
    "time:timestamp",
    "org:resource",
    "lifecycle:transition",
];

/// The type of an attribute, from its element's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `<string>`.
    String,
    /// `<date>`.
    Date,
    /// `<int>`.
    Int,
    /// `<float>`.
    Float,
    /// `<boolean>`.
    Boolean,
    /// `<id>`.
    Id,
    /// `<list>`.
    List,
    /// `<container>`.
    Container,
}

impl Kind {
    /// The kind an element name gives; `None` for elements that are not attributes.
    #[inline]
    pub fn of(name: &[u8]) -> Option<Kind> {
        // By length first: one comparison of a few bytes.
        let (kind, text): (Kind, &[u8]) = match name.len() {
            2 => (Kind::Id, b"id"),
            3 => (Kind::Int, b"int"),
            4 if name.first() == Some(&b'd') => (Kind::Date, b"date"),
            4 => (Kind::List, b"list"),
            5 => (Kind::Float, b"float"),
            6 => (Kind::String, b"string"),
            7 => (Kind::Boolean, b"boolean"),
            9 => (Kind::Container, b"container"),
            _ => return None,
        };
        (name == text).then_some(kind)
    }

    /// The element name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Date => "date",
            Kind::Int => "int",
            Kind::Float => "float",
            Kind::Boolean => "boolean",
            Kind::Id => "id",
            Kind::List => "list",
            Kind::Container => "container",
        }
    }

    fn node(self) -> Node {
        match self {
            Kind::String | Kind::Id => Node::Str,
            Kind::Date => timestamp_node(),
            Kind::Int => Node::Int,
            Kind::Float => Node::Float,
            Kind::Boolean => Node::Bool,
            Kind::List => Node::List(Box::new(Node::Null)),
            Kind::Container => Node::Struct(Arc::new(StructPlan::default())),
        }
    }
}

/// `timestamp[us, tz=UTC]`.
fn timestamp_node() -> Node {
    Node::Timestamp {
        fmt: DateFormat::ISO,
        nanos: false,
        utc: true,
    }
}

/// An XES date as microseconds since the epoch in UTC: ISO 8601 with or without an offset
/// (without one it is UTC), or a date alone (midnight).
pub fn date_micros(b: &[u8]) -> Option<i64> {
    let b = values::trim_padding(b);
    match values::parse_timestamp(b) {
        Some(t) => t.micros(),
        None => values::parse_date(b).and_then(|d| i64::from(d).checked_mul(86_400_000_000)),
    }
}

/// An XES boolean: `true` / `false` in any case, or `1` / `0`.
fn parse_boolean(b: &[u8]) -> Option<bool> {
    let b = values::trim_padding(b);
    if b.eq_ignore_ascii_case(b"true") || b == b"1" {
        Some(true)
    } else if b.eq_ignore_ascii_case(b"false") || b == b"0" {
        Some(false)
    } else {
        None
    }
}

/// One attribute as the log's head declares it (log attributes, globals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// Its key.
    pub key: String,
    /// Its type (`string`, `date`, ...).
    pub kind: String,
    /// Its value as written (none for lists and containers).
    pub value: Option<String>,
}

/// An extension the log declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// Its name (`Concept`).
    pub name: String,
    /// Its key prefix (`concept`).
    pub prefix: String,
    /// Its definition's URI.
    pub uri: String,
}

/// A classifier the log declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classifier {
    /// Its name.
    pub name: String,
    /// The attribute keys it classifies by, as written (space separated).
    pub keys: String,
    /// `event` or `trace` (XES 2.0), when given.
    pub scope: Option<String>,
}

/// What an XES log says about itself before its traces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogInfo {
    /// `xes.version`.
    pub version: Option<String>,
    /// `xes.features`.
    pub features: Option<String>,
    /// Extensions.
    pub extensions: Vec<Extension>,
    /// Global attributes by scope (`trace`, `event`), with their default values.
    pub globals: Vec<(String, Vec<Attribute>)>,
    /// Classifiers.
    pub classifiers: Vec<Classifier>,
    /// The log's own attributes.
    pub attributes: Vec<Attribute>,
}

/// The value of attribute `name` among `attrs`, unescaped.
fn attr_of(attrs: &[(&[u8], &[u8])], name: &[u8], doc: &Doc) -> Option<String> {
    let raw = attrs.iter().find(|(n, _)| *n == name)?.1;
    let mut out = Vec::new();
    let expanded = std::cell::Cell::new(0);
    super::walk::Values::of(doc, &expanded)
        .att_value(raw, 0, &mut out)
        .ok()?;
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Reads the log's head (up to its first trace): extensions, globals, classifiers and log
/// attributes. What the head does not hold is left empty.
pub fn log_info(head: &[u8], doc: &Doc) -> LogInfo {
    let mut info = LogInfo::default();
    let mut rd = quick_xml::Reader::from_reader(head);
    rd.config_mut().check_end_names = false;
    // The open elements below the root: (name, scope of a global).
    let mut open: Vec<(Vec<u8>, Option<String>)> = Vec::new();
    let mut in_log = false;
    loop {
        let at = usize::try_from(rd.buffer_position()).unwrap_or(usize::MAX);
        let (e, empty) = match rd.read_event() {
            Ok(Event::Start(e)) => (e, false),
            Ok(Event::Empty(e)) => (e, true),
            Ok(Event::End(_)) => {
                open.pop();
                continue;
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => continue,
        };
        let tag = Tag::new(&e, head, at, empty);
        let mut attrs = Vec::new();
        if parse_attrs(&tag, &mut attrs).is_err() {
            break;
        }
        let name = tag.name();
        if !in_log {
            in_log = true;
            info.version = attr_of(&attrs, b"xes.version", doc);
            info.features = attr_of(&attrs, b"xes.features", doc);
            continue;
        }
        let scope = match (open.len(), name) {
            (_, b"trace") if open.is_empty() => break,
            (0, b"extension") => {
                info.extensions.push(Extension {
                    name: attr_of(&attrs, b"name", doc).unwrap_or_default(),
                    prefix: attr_of(&attrs, b"prefix", doc).unwrap_or_default(),
                    uri: attr_of(&attrs, b"uri", doc).unwrap_or_default(),
                });
                None
            }
            (0, b"classifier") => {
                info.classifiers.push(Classifier {
                    name: attr_of(&attrs, b"name", doc).unwrap_or_default(),
                    keys: attr_of(&attrs, b"keys", doc).unwrap_or_default(),
                    scope: attr_of(&attrs, b"scope", doc),
                });
                None
            }
            (0, b"global") => {
                let scope = attr_of(&attrs, b"scope", doc).unwrap_or_else(|| "event".into());
                info.globals.push((scope.clone(), Vec::new()));
                Some(scope)
            }
            (depth, kind) if Kind::of(kind).is_some() => {
                let attr = Attribute {
                    key: attr_of(&attrs, b"key", doc).unwrap_or_default(),
                    kind: String::from_utf8_lossy(kind).into_owned(),
                    value: attr_of(&attrs, b"value", doc),
                };
                match open.last() {
                    None if depth == 0 => info.attributes.push(attr),
                    Some((n, Some(_))) if n == b"global" && depth == 1 => {
                        if let Some((_, list)) = info.globals.last_mut() {
                            list.push(attr);
                        }
                    }
                    _ => {}
                }
                None
            }
            _ => None,
        };
        if !empty {
            open.push((name.to_vec(), scope));
        }
    }
    info
}

/// What the values of one attribute key looked like.
#[derive(Debug, Clone, Default)]
struct AttrShape {
    /// Kinds seen (bit per [`Kind`]).
    kinds: u8,
    /// Values of lists.
    items: Option<Box<AttrShape>>,
    /// Attributes of containers.
    fields: Option<Box<Fields>>,
}

/// Attribute keys in order of first appearance, with what their values were.
#[derive(Debug, Clone, Default)]
struct Fields {
    entries: Vec<(Vec<u8>, AttrShape)>,
    index: HashMap<Vec<u8>, usize>,
}

impl Fields {
    fn get(&mut self, key: &[u8]) -> Option<&mut AttrShape> {
        let i = match self.index.get(key) {
            Some(&i) => i,
            None => {
                self.entries.push((key.to_vec(), AttrShape::default()));
                self.index.insert(key.to_vec(), self.entries.len() - 1);
                self.entries.len() - 1
            }
        };
        self.entries.get_mut(i).map(|(_, s)| s)
    }

    fn plan(&self, first: &[&str]) -> StructPlan {
        let mut fields: Vec<FieldPlan> = first
            .iter()
            .map(|k| FieldPlan {
                name: (*k).to_string(),
                key: k.as_bytes().to_vec(),
                node: if *k == "time:timestamp" {
                    timestamp_node()
                } else {
                    Node::Str
                },
                nulls: NullTokens::EMPTY_ONLY,
            })
            .collect();
        for (key, shape) in &self.entries {
            let node = shape.node();
            match fields.iter_mut().find(|f| f.key == *key) {
                Some(f) => {
                    f.node = plan::join(&f.node, &node, false).unwrap_or(Node::Str);
                }
                None => fields.push(FieldPlan {
                    name: String::from_utf8_lossy(key).into_owned(),
                    key: key.clone(),
                    node,
                    nulls: NullTokens::EMPTY_ONLY,
                }),
            }
        }
        StructPlan::new(fields)
    }
}

impl AttrShape {
    fn node(&self) -> Node {
        let mut node = Node::Null;
        for bit in 0..8u8 {
            if self.kinds & (1 << bit) == 0 {
                continue;
            }
            let kind = KINDS.get(usize::from(bit)).copied().unwrap_or(Kind::String);
            let n = match kind {
                Kind::List => Node::List(Box::new(
                    self.items.as_ref().map_or(Node::Null, |i| i.node()),
                )),
                Kind::Container => Node::Struct(Arc::new(
                    self.fields
                        .as_ref()
                        .map_or_else(StructPlan::default, |f| f.plan(&[])),
                )),
                k => k.node(),
            };
            node = plan::join(&node, &n, false).unwrap_or(Node::Str);
        }
        node
    }
}

const KINDS: [Kind; 8] = [
    Kind::String,
    Kind::Date,
    Kind::Int,
    Kind::Float,
    Kind::Boolean,
    Kind::Id,
    Kind::List,
    Kind::Container,
];

fn kind_bit(k: Kind) -> u8 {
    1 << (KINDS.iter().position(|&x| x == k).unwrap_or(0) as u8)
}

/// What the traces of a chunk hold: trace attributes and event attributes by key.
#[derive(Debug, Default)]
struct Sample {
    trace: Fields,
    event: Fields,
}

/// Reads the attribute elements inside `parent` (to its end tag) into `fields`; `events`
/// (for a trace) takes `<event>` children.
fn observe_attrs<'a>(
    fields: &mut Fields,
    mut events: Option<&mut Fields>,
    parent: &Tag<'a>,
    w: &mut Walker<'a>,
    prefix: &mut Vec<u8>,
    depth: usize,
) -> Step<()> {
    if parent.empty {
        return Ok(());
    }
    if depth >= MAX_RECORD_DEPTH {
        return syntax(parent.at, "attributes nested too deeply");
    }
    let mut attrs = Vec::new();
    loop {
        let at = w.pos();
        let tag = match w.event()? {
            Event::Start(e) => Tag::new(&e, w.b, at, false),
            Event::Empty(e) => Tag::new(&e, w.b, at, true),
            Event::End(e) => {
                if e.name().as_ref() != parent.name() {
                    return syntax(at, "an end tag that does not match its start tag");
                }
                return Ok(());
            }
            Event::Eof => return syntax(at, "the element is never closed"),
            _ => continue,
        };
        let name = tag.name();
        if name == b"event" {
            if let Some(ev) = events.as_deref_mut() {
                let mut p = Vec::new();
                observe_attrs(ev, None, &tag, w, &mut p, depth + 1)?;
                continue;
            }
        }
        let Some(kind) = Kind::of(name) else {
            skip(&tag, w)?;
            continue;
        };
        attrs.clear();
        parse_attrs(&tag, &mut attrs)?;
        let Some(key) = attrs.iter().find(|(n, _)| *n == b"key").map(|(_, v)| *v) else {
            skip(&tag, w)?;
            continue;
        };
        let len = prefix.len();
        prefix.extend_from_slice(key);
        let Some(shape) = fields.get(prefix) else {
            prefix.truncate(len);
            continue;
        };
        shape.kinds |= kind_bit(kind);
        match kind {
            Kind::List => {
                let items = shape.items.get_or_insert_with(Box::default);
                observe_items(items, &tag, w, depth + 1)?;
            }
            Kind::Container => {
                let inner = shape.fields.get_or_insert_with(Box::default);
                let mut p = Vec::new();
                observe_attrs(inner, None, &tag, w, &mut p, depth + 1)?;
            }
            _ => {
                prefix.push(b'.');
                observe_attrs(fields, None, &tag, w, prefix, depth + 1)?;
            }
        }
        prefix.truncate(len);
    }
}

/// The values of a list (directly inside it, or inside its `<values>`).
fn observe_items<'a>(
    items: &mut AttrShape,
    list: &Tag<'a>,
    w: &mut Walker<'a>,
    depth: usize,
) -> Step<()> {
    if list.empty {
        return Ok(());
    }
    if depth >= MAX_RECORD_DEPTH {
        return syntax(list.at, "attributes nested too deeply");
    }
    loop {
        let at = w.pos();
        let tag = match w.event()? {
            Event::Start(e) => Tag::new(&e, w.b, at, false),
            Event::Empty(e) => Tag::new(&e, w.b, at, true),
            Event::End(e) => {
                if e.name().as_ref() != list.name() {
                    return syntax(at, "an end tag that does not match its start tag");
                }
                return Ok(());
            }
            Event::Eof => return syntax(at, "the element is never closed"),
            _ => continue,
        };
        match Kind::of(tag.name()) {
            _ if tag.name() == b"values" => observe_items(items, &tag, w, depth + 1)?,
            Some(kind) => {
                items.kinds |= kind_bit(kind);
                match kind {
                    Kind::List => {
                        let inner = items.items.get_or_insert_with(Box::default);
                        observe_items(inner, &tag, w, depth + 1)?;
                    }
                    Kind::Container => {
                        let inner = items.fields.get_or_insert_with(Box::default);
                        let mut p = Vec::new();
                        observe_attrs(inner, None, &tag, w, &mut p, depth + 1)?;
                    }
                    _ => skip(&tag, w)?,
                }
            }
            None => skip(&tag, w)?,
        }
    }
}

/// Reads past an element (and checks its end tags balance).
fn skip<'a>(tag: &Tag<'a>, w: &mut Walker<'a>) -> Step<()> {
    if tag.empty {
        return Ok(());
    }
    let mut open: Vec<&'a [u8]> = vec![tag.name()];
    loop {
        let at = w.pos();
        match w.event()? {
            Event::Start(e) => open.push(Tag::new(&e, w.b, at, false).name()),
            Event::End(e) => {
                if open.pop() != Some(e.name().as_ref()) {
                    return syntax(at, "an end tag that does not match its start tag");
                }
                if open.is_empty() {
                    return Ok(());
                }
            }
            Event::Eof => return syntax(at, "the element is never closed"),
            _ => {}
        }
    }
}

fn sample(chunk: &Chunk, doc: &Doc) -> Sample {
    let mut s = Sample::default();
    let expanded = std::cell::Cell::new(0);
    let mut w = Walker::new(chunk, doc, &expanded);
    while let Ok(Some(r)) = w.next_record() {
        let mut p = Vec::new();
        if observe_attrs(&mut s.trace, Some(&mut s.event), &r.tag, &mut w, &mut p, 0).is_err() {
            w.skip_element(r.tag.at);
        }
        w.record_done();
    }
    s
}

/// The plans of the two tables, shared by the decode workers; they only widen.
#[derive(Debug)]
pub struct Plans {
    /// Trace attributes (`concept:name` first).
    pub trace: Arc<StructPlan>,
    /// Event attributes (the standard ones first).
    pub event: Arc<StructPlan>,
    /// The output schema.
    pub schema: SchemaRef,
}

impl Plans {
    fn new(
        trace: Arc<StructPlan>,
        event: Arc<StructPlan>,
        tables: Tables,
        flatten: Option<usize>,
    ) -> Self {
        let case = |f: &Field| f.clone().with_name(format!("case:{}", f.name()));
        let trace_fields = trace.arrow_fields();
        let mut fields: Vec<Field> = Vec::new();
        match tables {
            Tables::Traces => fields.extend(trace_fields.iter().map(|f| case(f))),
            _ => {
                if let Some(f) = trace_fields.first() {
                    fields.push(case(f));
                }
                fields.extend(event.arrow_fields().iter().map(|f| f.as_ref().clone()));
                fields.extend(trace_fields.iter().skip(1).map(|f| case(f)));
            }
        }
        let fields = match flatten {
            None => fields,
            Some(depth) => super::super::nested::flat::flat_fields(
                &arrow_schema::Fields::from(fields),
                "",
                depth,
            ),
        };
        Plans {
            trace,
            event,
            schema: Arc::new(Schema::new(fields)),
        }
    }
}

/// Decodes chunks of XES traces into event (or trace) rows.
#[derive(Debug)]
pub struct XesDecoder {
    doc: Arc<Doc>,
    plans: Widening<Plans>,
    first_schema: SchemaRef,
    tables: Tables,
    policy: ErrorPolicy,
    on_cast_error: CastErrorPolicy,
    schema_policy: SchemaPolicy,
    batch_rows: usize,
    /// Container (struct) columns as `a.b` columns, to this many levels.
    flatten: Option<usize>,
    info: LogInfo,
    /// Keep each good event's bytes and place ([`ChunkOutput::sources`]), for rules.
    row_sources: bool,
}

/// Where a chunk's rows go while it is decoded.
struct Cols {
    trace: Col,
    event: Col,
    /// For each event row, its trace's row.
    event_trace: Vec<u32>,
    null_on_cast: bool,
    nulled: u64,
    text: Vec<u8>,
    key: Vec<u8>,
    /// The fields the last event's (and trace's) attributes went to, in order: the next
    /// one's attributes are looked for there first.
    event_order: Vec<usize>,
    trace_order: Vec<usize>,
    /// With row sources kept: where each event of the trace being read starts and ends.
    event_spans: Option<Vec<(usize, usize)>>,
}

#[cold]
fn shape_fail(key: &[u8], detail: String) -> Bad {
    Bad::Plan(Fail::Shape {
        path: format!("/{}", String::from_utf8_lossy(key)),
        detail,
    })
}

#[inline]
fn find(plan: &StructPlan, key: &[u8], guess: usize) -> Option<usize> {
    match plan.fields.get(guess) {
        Some(f) if f.key == key => Some(guess),
        _ => plan.find(key),
    }
}

/// Appends a typed value to a scalar column: a text column takes any value as written; a
/// typed column takes values of its own type (an int where floats are) and fails the
/// record with a cast error when one does not parse, or with a shape error (the plan then
/// widens) when the value is of another type.
#[inline]
fn push_value(col: &mut Col, node: &Node, kind: Kind, text: &[u8], c: &mut Cols) -> Step<()> {
    let parsed = match (node, kind, &mut *col) {
        (Node::Str, _, _) => {
            if col.push_scalar(node, text, true, false, NullTokens::EMPTY_ONLY, false)? {
                c.nulled += 1;
            }
            return Ok(());
        }
        (
            Node::Timestamp {
                utc: true,
                nanos: false,
                ..
            },
            Kind::Date,
            Col::I64(x, v),
        ) => date_micros(text).map(|n| {
            x.push(n);
            v.push_valid();
        }),
        (Node::Float, Kind::Float | Kind::Int, Col::F64(x, v)) => {
            values::parse_f64(values::trim_padding(text)).map(|n| {
                x.push(n);
                v.push_valid();
            })
        }
        (Node::Int, Kind::Int, Col::I64(x, v)) => values::parse_i64(values::trim_padding(text))
            .map(|n| {
                x.push(n);
                v.push_valid();
            }),
        (Node::Bool, Kind::Boolean, Col::Bool(b, v)) => parse_boolean(text).map(|x| {
            b.append(x);
            v.push_valid();
        }),
        _ => {
            return Err(Bad::Plan(Fail::Shape {
                path: String::new(),
                detail: format!(
                    "a {} value where the column is {}",
                    kind.name(),
                    node.data_type()
                ),
            }))
        }
    };
    if parsed.is_some() {
        return Ok(());
    }
    if values::trim_padding(text).is_empty() {
        col.push_null();
        return Ok(());
    }
    if c.null_on_cast {
        c.nulled += 1;
        col.push_null();
        return Ok(());
    }
    let mut shown = String::from_utf8_lossy(text).into_owned();
    shown.truncate(shown.char_indices().nth(60).map_or(shown.len(), |(i, _)| i));
    Err(Bad::Plan(Fail::Cast {
        path: String::new(),
        detail: format!("cannot read the {} {shown:?}", kind.name()),
    }))
}

/// One row of a struct column being filled from attribute elements.
struct Row {
    row: usize,
}

/// Which learned attribute order a struct's fields are looked for in first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// The events'.
    Event,
    /// The traces'.
    Trace,
    /// None: the field after the last one.
    None,
}

impl Order {
    #[inline]
    fn get(self, c: &Cols, k: usize) -> Option<usize> {
        match self {
            Order::Event => c.event_order.get(k).copied(),
            Order::Trace => c.trace_order.get(k).copied(),
            Order::None => None,
        }
    }

    #[inline]
    fn set(self, c: &mut Cols, k: usize, field: usize) {
        let v = match self {
            Order::Event => &mut c.event_order,
            Order::Trace => &mut c.trace_order,
            Order::None => return,
        };
        if let Some(slot) = v.get_mut(k) {
            *slot = field;
        } else if v.len() == k {
            v.push(field);
        }
    }
}

/// Reads the attribute elements inside `parent` into the struct column `col` (of `plan`),
/// into its current row; with `events`, `<event>` children are decoded into event rows.
#[allow(clippy::too_many_arguments)]
fn decode_attrs<'a>(
    col: &mut Col,
    plan: &StructPlan,
    row: &Row,
    parent: &Tag<'a>,
    w: &mut Walker<'a>,
    c: &mut Cols,
    prefix: &mut Vec<u8>,
    depth: usize,
    mut events: Option<(&StructPlan, u32, &mut EventFailures)>,
    order: Order,
) -> Step<()> {
    if parent.empty {
        return Ok(());
    }
    if depth >= MAX_RECORD_DEPTH {
        return syntax(parent.at, "attributes nested too deeply");
    }
    let mut attrs: Vec<(&'a [u8], &'a [u8])> = Vec::with_capacity(2);
    let mut guess = 0usize;
    let mut ordinal = 0usize;
    let values = w.values();
    loop {
        let at = w.pos();
        let tag = match w.event()? {
            Event::Start(e) => Tag::new(&e, w.b, at, false),
            Event::Empty(e) => Tag::new(&e, w.b, at, true),
            Event::End(e) => {
                if e.name().as_ref() != parent.name() {
                    return syntax(at, "an end tag that does not match its start tag");
                }
                return Ok(());
            }
            Event::Text(t) => {
                let raw = t.into_inner();
                if let Some(i) = memchr::memmem::find(&raw, b"]]>") {
                    return syntax(at + i, "']]>' in text");
                }
                continue;
            }
            Event::GeneralRef(r) => {
                let mut scratch = Vec::new();
                values.reference(
                    &r.into_inner(),
                    at,
                    super::dtd::Context::Content,
                    &mut scratch,
                )?;
                continue;
            }
            Event::Comment(t) => {
                super::walk::check_comment(&t.into_inner(), at)?;
                continue;
            }
            Event::PI(p) => {
                if let Err(what) = super::dtd::pi_ok(&p.into_inner()) {
                    return syntax(at, what);
                }
                continue;
            }
            Event::CData(_) => continue,
            Event::Decl(_) | Event::DocType(_) => {
                return syntax(at, "a declaration inside an element")
            }
            Event::Eof => return syntax(at, "the element is never closed"),
        };
        let name = tag.name();
        let kind = Kind::of(name);
        if kind.is_none() {
            super::walk::check_name(name, at)?;
        }
        if name == b"event" {
            if let Some((event_plan, trace_row, fails)) = events.as_mut() {
                decode_event(event_plan, *trace_row, &tag, w, c, depth + 1, fails)?;
                continue;
            }
        }
        attrs.clear();
        parse_attrs(&tag, &mut attrs)?;
        let Some(kind) = kind else {
            // Not an attribute (an event in the trace table, an unknown element): checked
            // and passed over.
            skip(&tag, w)?;
            continue;
        };
        let mut key_raw: Option<&[u8]> = None;
        let mut value_raw: Option<&[u8]> = None;
        for (n, v) in &attrs {
            match *n {
                b"key" => key_raw = Some(v),
                b"value" => value_raw = Some(v),
                _ => {}
            }
        }
        let Some(key_raw) = key_raw else {
            return syntax(at, "an attribute element without a key");
        };
        let len = prefix.len();
        // A key needs copying only under a prefix or to expand references.
        let plain = len == 0
            && !key_raw
                .iter()
                .any(|&b| matches!(b, b'&' | b'\t' | b'\n' | b'\r'));
        if plain {
            if !tag.empty {
                prefix.extend_from_slice(key_raw);
            }
        } else {
            values.att_value(key_raw, at, prefix)?;
        }
        if let Some(g) = order.get(c, ordinal) {
            guess = g;
        }
        let key: &[u8] = if plain { key_raw } else { prefix };
        let res = decode_attr(
            col, plan, row, &tag, kind, value_raw, w, c, key, &mut guess, depth,
        );
        if res.is_ok() {
            order.set(c, ordinal, guess.saturating_sub(1));
        }
        ordinal += 1;
        let res = res.and_then(|()| {
            if tag.empty || matches!(kind, Kind::List | Kind::Container) {
                return Ok(());
            }
            // Attributes nested in this one: `<key>.<child key>`, in the same row.
            prefix.push(b'.');
            decode_attrs(
                col,
                plan,
                row,
                &tag,
                w,
                c,
                prefix,
                depth + 1,
                None,
                Order::None,
            )
        });
        if let Err(e) = res {
            let e = match e {
                Bad::Plan(f) => {
                    let name = if plain { key_raw } else { prefix.as_slice() };
                    Bad::Plan(f.within(&String::from_utf8_lossy(name)))
                }
                other => other,
            };
            prefix.truncate(len);
            return Err(e);
        }
        prefix.truncate(len);
    }
}

/// One attribute element (whose key is `key`) into its field of the current row.
#[allow(clippy::too_many_arguments)]
fn decode_attr<'a>(
    col: &mut Col,
    plan: &StructPlan,
    row: &Row,
    tag: &Tag<'a>,
    kind: Kind,
    value_raw: Option<&'a [u8]>,
    w: &mut Walker<'a>,
    c: &mut Cols,
    key: &[u8],
    guess: &mut usize,
    depth: usize,
) -> Step<()> {
    let Col::Struct { fields, stamp, .. } = col else {
        return Err(shape_fail(
            key,
            "attributes where the column is not a struct".into(),
        ));
    };
    let Some(i) = find(plan, key, *guess) else {
        return Err(shape_fail(
            key,
            format!(
                "an attribute {:?} that is not in the schema",
                String::from_utf8_lossy(key)
            ),
        ));
    };
    *guess = i + 1;
    let (Some(fc), Some(f), Some(st)) = (fields.get_mut(i), plan.fields.get(i), stamp.get_mut(i))
    else {
        return Ok(());
    };
    if *st == row.row {
        // The same key twice in one element: the last value wins.
        fc.truncate(row.row - 1);
    }
    match kind {
        Kind::List => decode_list(fc, &f.node, tag, w, c, depth + 1)?,
        Kind::Container => match &f.node {
            Node::Struct(inner) => decode_struct_row(fc, inner, tag, w, c, depth + 1)?,
            other => {
                return Err(shape_fail(
                    key,
                    format!("a container where the column is {}", other.data_type()),
                ))
            }
        },
        _ => match value_raw {
            Some(raw) => {
                let mut text = std::mem::take(&mut c.text);
                let r = w
                    .values()
                    .att_value_ref(raw, tag.at, &mut text)
                    .and_then(|v| push_value(fc, &f.node, kind, v, c));
                c.text = text;
                r?;
            }
            None => fc.push_null(),
        },
    }
    *st = row.row;
    Ok(())
}

/// A container: a new row of the struct column `col`.
fn decode_struct_row<'a>(
    col: &mut Col,
    plan: &StructPlan,
    tag: &Tag<'a>,
    w: &mut Walker<'a>,
    c: &mut Cols,
    depth: usize,
) -> Step<()> {
    let row = Row { row: col.len() + 1 };
    let mut prefix = Vec::new();
    decode_attrs(
        col,
        plan,
        &row,
        tag,
        w,
        c,
        &mut prefix,
        depth,
        None,
        Order::None,
    )?;
    close_row(col, &row)
}

/// Ends a struct row: fields not set are null.
fn close_row(col: &mut Col, row: &Row) -> Step<()> {
    let Col::Struct {
        fields,
        stamp,
        len,
        valid,
    } = col
    else {
        return Err(shape_fail(
            b"",
            "a row of a column that is not a struct".into(),
        ));
    };
    for (f, st) in fields.iter_mut().zip(stamp.iter_mut()) {
        if *st != row.row {
            f.push_null();
            *st = row.row;
        }
    }
    *len += 1;
    valid.push_valid();
    Ok(())
}

/// A list attribute: its values (keys ignored) into a list column.
fn decode_list<'a>(
    col: &mut Col,
    node: &Node,
    list: &Tag<'a>,
    w: &mut Walker<'a>,
    c: &mut Cols,
    depth: usize,
) -> Step<()> {
    let (Node::List(item), Col::List(offsets, items, valid)) = (node, &mut *col) else {
        return Err(shape_fail(
            b"",
            format!("a list where the column is {}", node.data_type()),
        ));
    };
    list_items(items, item, list, w, c, depth)?;
    match i32::try_from(items.len()) {
        Ok(end) => offsets.push(end),
        Err(_) => {
            return Err(Bad::Plan(Fail::Cast {
                path: String::new(),
                detail: "more than 2^31 list items in one chunk".into(),
            }))
        }
    }
    valid.push_valid();
    Ok(())
}

fn list_items<'a>(
    items: &mut Col,
    item: &Node,
    list: &Tag<'a>,
    w: &mut Walker<'a>,
    c: &mut Cols,
    depth: usize,
) -> Step<()> {
    if list.empty {
        return Ok(());
    }
    if depth >= MAX_RECORD_DEPTH {
        return syntax(list.at, "attributes nested too deeply");
    }
    let values = w.values();
    let mut attrs: Vec<(&'a [u8], &'a [u8])> = Vec::new();
    loop {
        let at = w.pos();
        let tag = match w.event()? {
            Event::Start(e) => Tag::new(&e, w.b, at, false),
            Event::Empty(e) => Tag::new(&e, w.b, at, true),
            Event::End(e) => {
                if e.name().as_ref() != list.name() {
                    return syntax(at, "an end tag that does not match its start tag");
                }
                return Ok(());
            }
            Event::Eof => return syntax(at, "the element is never closed"),
            _ => continue,
        };
        if tag.name() == b"values" {
            list_items(items, item, &tag, w, c, depth + 1)?;
            continue;
        }
        let Some(kind) = Kind::of(tag.name()) else {
            skip(&tag, w)?;
            continue;
        };
        match kind {
            Kind::List => decode_list(items, item, &tag, w, c, depth + 1)?,
            Kind::Container => match item {
                Node::Struct(inner) => decode_struct_row(items, inner, &tag, w, c, depth + 1)?,
                other => {
                    return Err(shape_fail(
                        b"",
                        format!("a container where the list holds {}", other.data_type()),
                    ))
                }
            },
            _ => {
                attrs.clear();
                parse_attrs(&tag, &mut attrs)?;
                match attrs.iter().find(|(n, _)| *n == b"value") {
                    Some((_, raw)) => {
                        let start = c.text.len();
                        let mut text = std::mem::take(&mut c.text);
                        let r = values.att_value(raw, at, &mut text).and_then(|()| {
                            push_value(items, item, kind, text.get(start..).unwrap_or_default(), c)
                        });
                        text.truncate(start);
                        c.text = text;
                        r?;
                    }
                    None => items.push_null(),
                }
                skip(&tag, w)?;
            }
        }
    }
}

/// Events of one chunk that were bad on their own (a value that does not fit): their
/// start and end.
type EventFailures = Vec<(usize, usize, Bad)>;

/// An `<event>`: one row of the event column, whose trace is row `trace_row`.
fn decode_event<'a>(
    plan: &StructPlan,
    trace_row: u32,
    tag: &Tag<'a>,
    w: &mut Walker<'a>,
    c: &mut Cols,
    depth: usize,
    fails: &mut EventFailures,
) -> Step<()> {
    let mut event = std::mem::replace(&mut c.event, Col::Null(0));
    let before = event.len();
    let row = Row { row: before + 1 };
    let mut prefix = std::mem::take(&mut c.key);
    prefix.clear();
    let res = decode_attrs(
        &mut event,
        plan,
        &row,
        tag,
        w,
        c,
        &mut prefix,
        depth,
        None,
        Order::Event,
    )
    .and_then(|()| close_row(&mut event, &row));
    c.key = prefix;
    match res {
        Ok(()) => {
            c.event_trace.push(trace_row);
            c.event = event;
            if let Some(spans) = &mut c.event_spans {
                spans.push((tag.at, w.pos()));
            }
            Ok(())
        }
        Err(Bad::Plan(Fail::Cast { path, detail })) => {
            // A value its column cannot hold: this event alone is bad.
            event.truncate(before);
            c.event = event;
            let trace = w.record_name();
            let end = super::scan::element_end_within(w.b, tag.at, Some(trace));
            w.resume_at(end);
            fails.push((tag.at, end, Bad::Plan(Fail::Cast { path, detail })));
            Ok(())
        }
        Err(e) => {
            event.truncate(before);
            c.event = event;
            Err(e)
        }
    }
}

impl XesDecoder {
    /// What the log's head says about it.
    pub fn log_info(&self) -> &LogInfo {
        &self.info
    }

    /// The schema of the widest plan so far (the first batches' when nothing widened it).
    pub fn schema_now(&self) -> SchemaRef {
        self.plans.current().schema.clone()
    }

    fn batches(&self, c: &mut Cols, plans: &Plans) -> Result<Vec<RecordBatch>> {
        let traces = c.trace.finish(&Node::Struct(Arc::clone(&plans.trace)))?;
        let Some(traces) = traces.as_any().downcast_ref::<StructArray>() else {
            return Err(Error::invalid("internal error: traces are not a struct"));
        };
        let (rows, columns): (usize, Vec<ArrayRef>) = if self.tables == Tables::Traces {
            (traces.len(), traces.columns().to_vec())
        } else {
            let events = c.event.finish(&Node::Struct(Arc::clone(&plans.event)))?;
            let Some(events) = events.as_any().downcast_ref::<StructArray>() else {
                return Err(Error::invalid("internal error: events are not a struct"));
            };
            let idx = UInt32Array::from(std::mem::take(&mut c.event_trace));
            let mut cols: Vec<ArrayRef> = Vec::with_capacity(plans.schema.fields().len());
            let case = |i: usize| -> Result<Option<ArrayRef>> {
                match traces.columns().get(i) {
                    Some(a) => Ok(Some(arrow_select::take::take(a.as_ref(), &idx, None)?)),
                    None => Ok(None),
                }
            };
            if let Some(a) = case(0)? {
                cols.push(a);
            }
            cols.extend(events.columns().iter().cloned());
            for i in 1..traces.num_columns() {
                if let Some(a) = case(i)? {
                    cols.push(a);
                }
            }
            (events.len(), cols)
        };
        if rows == 0 {
            return Ok(Vec::new());
        }
        let columns = match self.flatten {
            None => columns,
            Some(depth) => {
                // The columns as one struct, flattened as the schema is.
                let mut fields: Vec<Field> = Vec::new();
                if self.tables == Tables::Traces {
                    fields.extend(
                        plans
                            .trace
                            .arrow_fields()
                            .iter()
                            .map(|f| f.as_ref().clone()),
                    );
                } else {
                    let trace = plans.trace.arrow_fields();
                    fields.extend(trace.first().map(|f| f.as_ref().clone()));
                    fields.extend(
                        plans
                            .event
                            .arrow_fields()
                            .iter()
                            .map(|f| f.as_ref().clone()),
                    );
                    fields.extend(trace.iter().skip(1).map(|f| f.as_ref().clone()));
                }
                let all = StructArray::try_new(arrow_schema::Fields::from(fields), columns, None)?;
                let mut flat = Vec::new();
                super::super::nested::flat::flat_columns(&all, depth, &mut flat)?;
                flat
            }
        };
        let opts = RecordBatchOptions::new().with_row_count(Some(rows));
        let batch = RecordBatch::try_new_with_options(plans.schema.clone(), columns, &opts)?;
        Ok(slice_batches(&batch, self.batch_rows))
    }
}

impl Widens for XesDecoder {
    type Plan = Plans;

    #[allow(clippy::too_many_lines)]
    fn attempt(&self, chunk: &Chunk, plans: &Plans, widen: bool) -> Attempt {
        let mut out = ChunkOutput {
            index: chunk.index,
            ..ChunkOutput::default()
        };
        let mut bad = BadBytes::of(chunk, self.doc.v11);
        let trace_node = Node::Struct(Arc::clone(&plans.trace));
        let event_node = Node::Struct(Arc::clone(&plans.event));
        let mut c = Cols {
            trace: Col::new(&trace_node),
            event: Col::new(&event_node),
            event_trace: Vec::new(),
            null_on_cast: self.on_cast_error == CastErrorPolicy::Null,
            nulled: 0,
            text: Vec::new(),
            key: Vec::new(),
            event_order: Vec::new(),
            trace_order: Vec::new(),
            event_spans: (self.row_sources && self.tables != Tables::Traces).then(Vec::new),
        };
        let expanded = std::cell::Cell::new(0);
        let mut w = Walker::new(chunk, &self.doc, &expanded);
        let mut units = 0u64;
        let mut checked = chunk.start;
        let mut fails: EventFailures = Vec::new();
        loop {
            let start = match w.next_record() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    out.error = Some(e);
                    break;
                }
            };
            let at = start.tag.at;
            if let Some(b) = bad.first(checked, at) {
                out.error = Some(w.error(b, "invalid UTF-8 or a character XML does not allow"));
                break;
            }
            let (trace_before, event_before, links_before) =
                (c.trace.len(), c.event.len(), c.event_trace.len());
            // Counted before the walk reads on (counting back is costly).
            let trace_line = c.event_spans.as_mut().map(|spans| {
                spans.clear();
                w.line_at(at)
            });
            let fails_before = fails.len();
            let trace_row = u32::try_from(trace_before).unwrap_or(u32::MAX);
            let row = Row {
                row: trace_before + 1,
            };
            let mut trace = std::mem::replace(&mut c.trace, Col::Null(0));
            let mut prefix = Vec::new();
            let res = decode_attrs(
                &mut trace,
                &plans.trace,
                &row,
                &start.tag,
                &mut w,
                &mut c,
                &mut prefix,
                0,
                (self.tables != Tables::Traces).then_some((&plans.event, trace_row, &mut fails)),
                Order::Trace,
            )
            .and_then(|()| close_row(&mut trace, &row));
            c.trace = trace;
            let mut end = w.pos();
            let failure = match res {
                // The record ends where the framing ends it, whatever the walker read.
                Ok(()) => match bad.within(at, end) {
                    Some((r, d)) => {
                        end = w.skip_element(at);
                        Some((r, None, d))
                    }
                    // An event skipped alone may have left the walk out of step with the
                    // framing (its end tags do not nest): then the trace is not well-formed.
                    None if fails.len() > fails_before
                        && super::scan::element_end(w.b, at) != end =>
                    {
                        end = w.skip_element(at);
                        Some((
                            RejectReason::InvalidXml,
                            None,
                            "the trace's end tags do not match its start tags".to_string(),
                        ))
                    }
                    None => None,
                },
                Err(fail) => {
                    end = w.skip_element(at);
                    match fail {
                        Bad::Fatal(what) => {
                            out.error = Some(w.fatal(at, what));
                            break;
                        }
                        Bad::Plan(_) if widen => return Attempt::Widen,
                        Bad::Plan(Fail::Cast { path, detail }) => {
                            Some((RejectReason::CastError, Some(path), detail))
                        }
                        Bad::Plan(Fail::Shape { path, detail }) => {
                            Some((RejectReason::SchemaMismatch, Some(path), detail))
                        }
                        Bad::Plan(Fail::Syntax(s)) => {
                            Some((RejectReason::InvalidXml, None, s.what.to_string()))
                        }
                        Bad::Syntax(pos, what) => Some(match bad.within(at, end) {
                            Some((r, d)) => (r, None, d),
                            None => (
                                RejectReason::InvalidXml,
                                None,
                                format!(
                                    "not well-formed at byte {} of the trace: {what}",
                                    pos.saturating_sub(at)
                                ),
                            ),
                        }),
                    }
                }
            };
            w.record_done();
            checked = end;
            // Events bad on their own, in a trace that was read.
            let mut event_fails: Vec<(usize, usize, Bad)> = fails.drain(fails_before..).collect();
            if failure.is_some() {
                c.trace.truncate(trace_before);
                c.event.truncate(event_before);
                c.event_trace.truncate(links_before);
                event_fails.clear();
            } else if widen && !event_fails.is_empty() {
                return Attempt::Widen;
            }
            if let (None, Some(line), Some(spans)) = (&failure, trace_line, &c.event_spans) {
                // Lines counted on from the trace's start, without moving the walker's count.
                let (mut pos, mut line) = (at, line);
                let sources = out
                    .sources
                    .get_or_insert_with(|| crate::stream::RowSources {
                        path: Some(self.doc.path_text.as_str().into()),
                        ..Default::default()
                    });
                for (k, &(from, to)) in spans.iter().enumerate() {
                    line += crate::stream::count_lines(w.b.get(pos..from).unwrap_or_default());
                    pos = from;
                    sources.push(
                        w.b.get(from..to).unwrap_or_default(),
                        chunk.offset + from as u64,
                        line,
                        units + k as u64,
                    );
                }
            }
            units += (c.event_trace.len() - links_before) as u64;
            let mut bad_units: Vec<(usize, usize, RejectReason, Option<String>, String)> =
                Vec::new();
            for (from, to, f) in event_fails {
                if let Bad::Plan(Fail::Cast { path, detail }) = f {
                    bad_units.push((from, to, RejectReason::CastError, Some(path), detail));
                }
            }
            if let Some((reason, column, detail)) = failure {
                bad_units.push((at, end, reason, column, detail));
            }
            for (from, to, reason, column, detail) in bad_units {
                let this = units;
                units += 1;
                let line = w.line_at(from);
                let position = Position {
                    byte: chunk.offset + from as u64,
                    line,
                    record: this,
                    path: Some(self.doc.path_text.clone().into_boxed_str()),
                };
                let column = column.filter(|p| p.len() > 1);
                if self.policy == ErrorPolicy::Strict {
                    let what = match reason {
                        RejectReason::InvalidXml => "not well-formed XML",
                        RejectReason::InvalidUtf8 => "invalid UTF-8",
                        RejectReason::CastError => "a value does not fit its column",
                        _ => "the record does not fit the schema",
                    };
                    out.error = Some(Error::decode(
                        FORMAT,
                        position,
                        column,
                        format!("{what}: {detail}"),
                    ));
                    out.rows_read = units;
                    return Attempt::Done(Box::new(out));
                }
                out.rejects.push(Reject {
                    position,
                    column,
                    reason,
                    detail,
                    raw: w.b.get(from..to).unwrap_or_default().to_vec(),
                });
            }
        }
        if out.error.is_none() {
            if let Some(b) = bad.first(checked, w.b.len()) {
                out.error = Some(w.error(b, "invalid UTF-8 or a character XML does not allow"));
            }
        }
        if self.tables == Tables::Traces {
            units = (c.trace.len() + out.rejects.len()) as u64;
        }
        // Rejects in input order (a trace's bad events come before the trace's own failure).
        out.rejects.sort_by_key(|r| r.position.byte);
        out.rows_read = units;
        out.values_nulled = c.nulled;
        match self.batches(&mut c, plans) {
            Ok(b) => out.batches = b,
            Err(e) => {
                if out.error.is_none() {
                    out.error = Some(e);
                }
            }
        }
        Attempt::Done(Box::new(out))
    }

    fn widened(&self, chunk: &Chunk, plans: &Plans) -> Option<Plans> {
        let s = sample(chunk, &self.doc);
        let trace = join_plan(
            &plans.trace,
            &s.trace.plan(&["concept:name"]),
            self.schema_policy,
        )?;
        let event = join_plan(
            &plans.event,
            &s.event.plan(&STANDARD_EVENT_KEYS),
            self.schema_policy,
        )?;
        if *trace == *plans.trace && *event == *plans.event {
            return None;
        }
        Some(Plans::new(trace, event, self.tables, self.flatten))
    }

    fn join(&self, a: &Plans, b: &Plans) -> Option<Plans> {
        let trace = join_plan(&a.trace, &b.trace, self.schema_policy)?;
        let event = join_plan(&a.event, &b.event, self.schema_policy)?;
        Some(Plans::new(trace, event, self.tables, self.flatten))
    }

    fn same(&self, a: &Plans, b: &Plans) -> bool {
        *a.trace == *b.trace && *a.event == *b.event
    }
}

fn join_plan(a: &Arc<StructPlan>, b: &StructPlan, policy: SchemaPolicy) -> Option<Arc<StructPlan>> {
    let evolve = policy == SchemaPolicy::Evolve;
    match plan::join(
        &Node::Struct(Arc::clone(a)),
        &Node::Struct(Arc::new(b.clone())),
        evolve,
    )? {
        Node::Struct(s) => Some(s),
        _ => None,
    }
}

impl Decoder for XesDecoder {
    fn schema(&self) -> SchemaRef {
        self.first_schema.clone()
    }

    fn process(&self, chunk: Chunk) -> ChunkOutput {
        self.plans.process(self, chunk)
    }

    fn in_order(&self, out: &mut ChunkOutput) -> bool {
        self.plans.in_order(self, out)
    }
}

/// What the XES start step settled.
pub struct XesStart<R> {
    /// Where decoding goes on.
    pub start: Start<R, XesDecoder>,
    /// What the log says about itself.
    pub info: LogInfo,
    /// The XML layout (records path `/log/trace`).
    pub layout: super::XmlLayout,
}

/// Reads the head of an XES log, its declarations, and the first chunk's traces for the
/// schema; returns the pieces to decode the rest. `tables` picks the table decoded.
pub fn start<R: Read>(
    mut src: R,
    decode: &DecodeOptions,
    opts: &XmlOptions,
    tables: Tables,
    fixed_schema: bool,
) -> Result<XesStart<std::io::Chain<Cursor<Vec<u8>>, R>>> {
    decode.validate()?;
    let head = read_head(&mut src, decode)?;
    let root = head.prolog.root.clone().unwrap_or_else(|| b"log".to_vec());
    if wf_local(&root) != b"log" {
        return Err(Error::new(ErrorKind::Schema(format!(
            "not an XES log: the root element is <{}>, not <log>",
            String::from_utf8_lossy(&root)
        ))));
    }
    let mut trace_name = root.clone();
    match memchr::memchr(b':', &root) {
        Some(i) => {
            trace_name.truncate(i + 1);
            trace_name.extend_from_slice(b"trace");
        }
        None => trace_name = b"trace".to_vec(),
    }
    let path = vec![root, trace_name];
    let doc = Arc::new(Doc {
        trim_text: true,
        ..super::doc_of(&head.prolog, path)
    });
    let info = log_info(&head.bytes, &doc);
    let layout = super::XmlLayout {
        records_path: doc.path_text.clone(),
        root: "log".into(),
        version: head.prolog.decl.as_ref().map(|d| d.version.clone()),
        encoding: head.prolog.decl.as_ref().and_then(|d| d.encoding.clone()),
        doctype: head.prolog.dtd.is_some(),
        evidence: "an XES log: one row per event of /log/trace".into(),
    };
    let mut quarantine: QuarantineFormat = super::quarantine_format(&head.prolog);
    quarantine.extension = "xes".into();
    let framing = XmlFraming::new(doc.path.clone(), decode.max_record_bytes);
    let mut chunker = Chunker::new(
        Cursor::new(head.bytes).chain(src),
        decode.chunk_bytes,
        Box::new(framing),
        decode.max_record_bytes,
    );
    let first = chunker
        .next_chunk()?
        .ok_or_else(|| Error::new(ErrorKind::Empty))?;
    let s = sample(&first, &doc);
    let trace = Arc::new(s.trace.plan(&["concept:name"]));
    let event = Arc::new(s.event.plan(&STANDARD_EVENT_KEYS));
    let plans = Plans::new(trace, event, tables, opts.flatten);
    let first_schema = plans.schema.clone();
    let policy = decode.schema_policy.unwrap_or(SchemaPolicy::Merge);
    if !decode.column_types.is_empty() {
        return Err(Error::invalid(
            "schema= is not supported for XES: attribute types come from the log",
        ));
    }
    let decoder = XesDecoder {
        doc,
        plans: Widening::new(plans, !fixed_schema && policy != SchemaPolicy::Strict),
        first_schema,
        tables,
        policy: decode.error_policy,
        on_cast_error: decode.on_cast_error,
        schema_policy: if fixed_schema {
            SchemaPolicy::Strict
        } else {
            policy
        },
        batch_rows: decode.batch_rows,
        flatten: opts.flatten,
        info: info.clone(),
        row_sources: decode.row_sources,
    };
    Ok(XesStart {
        start: Start {
            chunker,
            decoder,
            first,
            quarantine,
        },
        info,
        layout,
    })
}

fn wf_local(name: &[u8]) -> &[u8] {
    super::wf::local_name(name)
}

#[cfg(test)]
mod tests;
