//! JSON and JSON Lines decoding to Arrow.
//!
//! Three layouts, found from the first bytes ([`detect_layout`]):
//! - **lines** (JSON Lines / NDJSON): one value per line, cut at line ends;
//! - **array**: the elements of an array, top-level (`[{...}, ...]`) or inside an object
//!   (`{"meta": {...}, "items": [...]}`, found automatically or named by `records_path`),
//!   cut after each element by a structural scan ([`frame::DocFraming`]);
//! - **values**: top-level values one after another (one object is one row; concatenated
//!   JSON `{...}{...}` is many).
//!
//! Every layout is cut into chunks of whole records, decoded in parallel straight into Arrow
//! columns by a plan ([`plan::Node`]) inferred from the first chunk. Objects become struct
//! columns, arrays list columns, objects with thousands of keys maps, values of mixed kinds
//! JSON text. Under the `merge` and `evolve` schema policies a chunk holding what the plan
//! cannot read widens the plan (new fields, wider types) and is decoded again with it;
//! the writer brings earlier batches to the wider schema.

pub(crate) mod build;
pub(crate) mod frame;
pub(crate) mod lex;
pub mod plan;

use std::io::{Cursor, Read};
use std::sync::Arc;

use arrow_schema::{Schema, SchemaRef};

use self::build::{value_plan, Col, Ctx, Fail};
use self::frame::DocFraming;
use self::lex::{is_ws, Lex};
use self::plan::{FieldPlan, Node, Shape, StructPlan};
use crate::decode::nested::flat::{flat_fields, record_batches};
use crate::decode::nested::widen::{Attempt, Widening, Widens};
use crate::decode::values::DateFormat;
use crate::decode::{
    invalid_utf8_offsets, utf8_detail, CastErrorPolicy, DecodeOptions, ErrorPolicy, Reject,
    RejectReason, SchemaPolicy,
};
use crate::detect::Format;
use crate::error::{Error, ErrorKind, Position, Result};
use crate::schema::{self, NullTokens};
use crate::stream::{Chunk, ChunkOutput, Chunker, Decoder, LineFeeds, QuarantineFormat, Start};

const FORMAT: &str = "json";

/// How JSON is read, beyond what every format shares.
#[derive(Debug, Clone, Default)]
pub struct JsonOptions {
    /// Where the records are in a document: the key path of their array (`"items"`,
    /// `"data.items"` or the JSON pointer `"/data/items"`). `None` finds it.
    pub records_path: Option<String>,
    /// Nested objects as `a.b` columns instead of struct columns: to this many levels
    /// (`usize::MAX`: all). `None` keeps structs.
    pub flatten: Option<usize>,
    /// The file's name says JSON Lines (`.jsonl`, `.ndjson`): when its first line holds one
    /// whole value, the records are lines even if that value could hold them (a file of one
    /// record).
    pub named_lines: bool,
}

/// How records are laid out in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// One value per line.
    Lines,
    /// Top-level values one after another.
    Values,
    /// The elements of one array.
    Array {
        /// Offset just after the array's `[`.
        start: usize,
        /// The containers around the array, outermost first (`[b'{']` for
        /// `{"items": [...]}`).
        enclosing: Vec<u8>,
        /// The array's path, as a JSON pointer (`""` for a top-level array).
        path: String,
    },
}

impl Layout {
    /// The format records in this layout are: JSON Lines for lines, JSON otherwise.
    pub fn format(&self) -> Format {
        match self {
            Layout::Lines => Format::Jsonl,
            _ => Format::Json,
        }
    }

    /// The layout in words, for detection reports.
    pub fn describe(&self) -> String {
        match self {
            Layout::Lines => "JSON Lines: one value per line".into(),
            Layout::Values => "JSON values one after another (each is a record)".into(),
            Layout::Array { path, .. } if path.is_empty() => "a top-level array of records".into(),
            Layout::Array { path, .. } => format!("the array of records at {path}"),
        }
    }

    /// The records path, as `records_path` takes it (`None` for lines and values).
    pub fn records_path(&self) -> Option<String> {
        match self {
            Layout::Array { path, .. } => Some(path.clone()),
            _ => None,
        }
    }
}

/// The outcome of looking at the head of the input.
enum Found {
    Layout(Layout),
    /// The head ends before the layout is clear: read more.
    NeedMore,
}

/// Whether the head holds at least two lines each of exactly one complete value (and most
/// lines are such): JSON Lines. The last line of a head that is not the whole input may be
/// cut, so it does not count.
fn looks_like_lines(head: &[u8], whole: bool) -> bool {
    let mut complete = 0;
    let mut lines = 0;
    for (k, line) in head.split(|&c| c == b'\n').enumerate() {
        if k >= 200 {
            break;
        }
        if line.iter().all(|&c| is_ws(c)) {
            continue;
        }
        let is_last = line.as_ptr_range().end == head.as_ptr_range().end;
        if is_last && !whole {
            break;
        }
        lines += 1;
        let mut lex = Lex::new(line, 0);
        if lex.skip_value(0).is_ok() && lex.ws().is_none() {
            complete += 1;
        }
    }
    complete >= 2 && complete * 2 >= lines
}

/// The key segments of a records path: `items`, `data.items`, `/data/items`.
fn path_segments(path: &str) -> Vec<String> {
    if let Some(p) = path.strip_prefix('/') {
        p.split('/')
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect()
    } else if path.is_empty() {
        Vec::new()
    } else {
        path.split('.').map(str::to_string).collect()
    }
}

fn pointer(segments: &[String]) -> String {
    segments
        .iter()
        .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// Finds the layout from the head of the input (`whole`: the head is all of it).
fn find_layout(
    head: &[u8],
    at: usize,
    whole: bool,
    opts: &JsonOptions,
    lines: Option<bool>,
) -> Result<Found> {
    let mut lex = Lex::new(head, at);
    let first = lex.ws();
    if let Some(path) = &opts.records_path {
        return find_path(head, lex.i, &path_segments(path), whole);
    }
    if lines.unwrap_or_else(|| looks_like_lines(head.get(at..).unwrap_or_default(), whole)) {
        return Ok(Found::Layout(Layout::Lines));
    }
    match first {
        Some(b'[') => Ok(Found::Layout(Layout::Array {
            start: lex.i + 1,
            enclosing: Vec::new(),
            path: String::new(),
        })),
        Some(b'{') => match records_in_object(head, lex.i, 0) {
            Err(()) if !whole => Ok(Found::NeedMore),
            Err(()) => Ok(Found::Layout(Layout::Values)),
            Ok(Some((start, enclosing, segments))) => Ok(Found::Layout(Layout::Array {
                start,
                enclosing,
                path: pointer(&segments),
            })),
            Ok(None) => Ok(Found::Layout(Layout::Values)),
        },
        _ => Ok(Found::Layout(Layout::Values)),
    }
}

/// How far objects are searched for a records array: `{"data": {"items": [...]}}`.
const SEARCH_DEPTH: usize = 3;

/// In the object at `at`, the array of objects to read as records: the one that takes most
/// of the head (one the head ends in counts as the largest), searched through nested
/// objects. `Err` when the head ends before that is clear.
#[allow(clippy::type_complexity)]
fn records_in_object(
    head: &[u8],
    at: usize,
    depth: usize,
) -> std::result::Result<Option<(usize, Vec<u8>, Vec<String>)>, ()> {
    let mut lex = Lex::new(head, at + 1);
    // (bytes, start, enclosing, path)
    let mut best: Option<(usize, usize, Vec<u8>, Vec<String>)> = None;
    if lex.ws() == Some(b'}') {
        return Ok(None);
    }
    let mut key = Vec::new();
    loop {
        if lex.ws() != Some(b'"') {
            return if lex.peek().is_none() {
                Err(())
            } else {
                Ok(None)
            };
        }
        key.clear();
        if lex.string_into(&mut key).is_err() {
            return Err(());
        }
        if lex.expect(b':', "").is_err() {
            return if lex.peek().is_none() {
                Err(())
            } else {
                Ok(None)
            };
        }
        let name = String::from_utf8_lossy(&key).into_owned();
        let value_at = match lex.ws() {
            Some(_) => lex.i,
            None => return Err(()),
        };
        let opens = head.get(value_at).copied();
        let mut probe = Lex::new(head, value_at + 1);
        let array_of_objects = opens == Some(b'[') && probe.ws() == Some(b'{');
        let skipped = lex.skip_value(0);
        let ended = skipped.is_ok();
        let size = if ended { lex.i - value_at } else { usize::MAX };
        if array_of_objects {
            if best.as_ref().is_none_or(|b| size > b.0) {
                best = Some((size, value_at + 1, vec![b'{'], vec![name.clone()]));
            }
        } else if opens == Some(b'{') && depth + 1 < SEARCH_DEPTH {
            let inner = records_in_object(head, value_at, depth + 1);
            match inner {
                Ok(Some((start, mut enclosing, mut path))) => {
                    let inner_size = if ended { size } else { usize::MAX };
                    if best.as_ref().is_none_or(|b| inner_size > b.0) {
                        enclosing.insert(0, b'{');
                        path.insert(0, name.clone());
                        best = Some((inner_size, start, enclosing, path));
                    }
                }
                Ok(None) => {}
                Err(()) if !ended => {}
                Err(()) => {}
            }
        }
        if !ended {
            // The head ends inside this value: if it is the records array, it is the largest.
            return match best {
                Some((usize::MAX, start, enclosing, path)) => Ok(Some((start, enclosing, path))),
                _ => Err(()),
            };
        }
        match lex.ws() {
            Some(b',') => lex.i += 1,
            Some(b'}') => break,
            Some(_) => return Ok(None),
            None => return Err(()),
        }
    }
    Ok(best.map(|(_, start, enclosing, path)| (start, enclosing, path)))
}

/// The array at `segments` in the document at `at` (object keys, outermost first).
fn find_path(head: &[u8], at: usize, segments: &[String], whole: bool) -> Result<Found> {
    let not_found = |what: String| {
        Err(Error::new(ErrorKind::Schema(format!(
            "records_path {}: {what}",
            pointer(segments)
        ))))
    };
    let mut lex = Lex::new(head, at);
    let mut enclosing = Vec::new();
    for (k, seg) in segments.iter().enumerate() {
        match lex.ws() {
            Some(b'{') => {}
            None if !whole => return Ok(Found::NeedMore),
            _ => {
                return not_found(format!(
                    "{} is not an object",
                    pointer(segments.get(..k).unwrap_or_default())
                ))
            }
        }
        enclosing.push(b'{');
        lex.i += 1;
        let mut key = Vec::new();
        loop {
            match lex.ws() {
                Some(b'"') => {}
                None if !whole => return Ok(Found::NeedMore),
                _ => return not_found(format!("no key {seg:?} in the object")),
            }
            key.clear();
            if lex.string_into(&mut key).is_err() || lex.expect(b':', "").is_err() {
                return if whole {
                    not_found("the document is not valid JSON".into())
                } else {
                    Ok(Found::NeedMore)
                };
            }
            if key == seg.as_bytes() {
                break;
            }
            if lex.skip_value(0).is_err() {
                return if whole {
                    not_found("the document is not valid JSON".into())
                } else {
                    Ok(Found::NeedMore)
                };
            }
            match lex.ws() {
                Some(b',') => lex.i += 1,
                None if !whole => return Ok(Found::NeedMore),
                _ => return not_found(format!("no key {seg:?} in the object")),
            }
        }
    }
    match lex.ws() {
        Some(b'[') => Ok(Found::Layout(Layout::Array {
            start: lex.i + 1,
            enclosing,
            path: pointer(segments),
        })),
        None if !whole => Ok(Found::NeedMore),
        _ => not_found("it is not an array".into()),
    }
}

/// The plan of a whole table, shared by the decode workers; it only widens.
#[derive(Debug)]
pub struct Plan {
    /// The record's fields.
    pub root: Arc<StructPlan>,
    /// Records are not objects: each is the one field `value`.
    pub wrapped: bool,
    /// The output schema (nested objects flattened, if asked).
    pub schema: SchemaRef,
}

impl Plan {
    fn new(root: Arc<StructPlan>, wrapped: bool, flatten: Option<usize>) -> Self {
        let fields = root.arrow_fields();
        let schema = match flatten {
            None => Schema::new(fields),
            Some(depth) => {
                // `{"a": {"b": 1}, "a.b": 2}` flattens to two `a.b`: the later is `a.b_2`.
                let flat = flat_fields(&fields, "", depth);
                let names = crate::schema::distinct_names(flat.iter().map(|f| f.name().clone()));
                Schema::new(
                    flat.into_iter()
                        .zip(names)
                        .map(|(f, n)| f.with_name(n))
                        .collect::<Vec<_>>(),
                )
            }
        };
        Plan {
            root,
            wrapped,
            schema: Arc::new(schema),
        }
    }
}

/// Decodes chunks of JSON records (any layout); see the module docs.
#[derive(Debug)]
pub struct JsonDecoder {
    layout: Layout,
    plans: Widening<Plan>,
    /// The schema the first batches have (the sample's).
    first_schema: SchemaRef,
    policy: ErrorPolicy,
    on_cast_error: CastErrorPolicy,
    schema_policy: SchemaPolicy,
    batch_rows: usize,
    max_record_bytes: usize,
    flatten: Option<usize>,
    /// Text mode: every top-level field is text (scalars as written, objects and arrays
    /// as their JSON text).
    text_mode: bool,
    /// An empty string in a text column is null (JSON keeps `""` apart from `null` unless
    /// asked).
    empty_as_null: bool,
    /// Keep each good record's bytes and place ([`ChunkOutput::sources`]).
    row_sources: bool,
}

/// A record found in a chunk.
struct Span {
    start: usize,
    /// For JSON Lines, the end of the line (its line terminator excluded) and after it.
    line_end: Option<(usize, usize)>,
    line: u64,
}

/// Walks the records of a chunk, layout by layout.
struct Walker<'a> {
    b: &'a [u8],
    pos: usize,
    layout: &'a Layout,
    /// Line of `counted`.
    line: u64,
    counted: usize,
    done: bool,
    /// The chunk ends inside a line longer than the size limit.
    cut_line: bool,
    /// Lines longer than this are records (too long) whatever they hold.
    max_line: usize,
}

impl<'a> Walker<'a> {
    /// A walker over `chunk`'s records; lines longer than `max_line` bytes (in line layout)
    /// are records even when blank, as a line the chunker cuts at the limit is.
    fn new(chunk: &'a Chunk, layout: &'a Layout, max_line: usize) -> Self {
        Walker {
            b: &chunk.bytes,
            pos: chunk.start,
            layout,
            line: chunk.line,
            counted: 0,
            done: false,
            cut_line: chunk.cut_line,
            max_line,
        }
    }

    fn line_at(&mut self, at: usize) -> u64 {
        if at > self.counted {
            let seen = self.b.get(self.counted..at).unwrap_or_default();
            self.line += memchr::memchr_iter(b'\n', seen).count() as u64;
            self.counted = at;
        }
        self.line
    }

    /// The next record, or `None` at the end of the chunk (or of the records array, whose
    /// closing bracket the walker stops at: see [`Walker::suffix`]).
    fn next(&mut self) -> Option<Span> {
        if self.done {
            return None;
        }
        match self.layout {
            Layout::Lines => loop {
                let rest = self.b.get(self.pos..)?;
                if rest.is_empty() {
                    return None;
                }
                let nl = memchr::memchr(b'\n', rest);
                let start = self.pos;
                let after = nl.map_or(self.b.len(), |k| start + k + 1);
                let mut end = nl.map_or(self.b.len(), |k| start + k);
                if end > start && self.b.get(end - 1) == Some(&b'\r') {
                    end -= 1;
                }
                self.pos = after;
                // Lines are counted as they are passed, not by scanning for line feeds again.
                let l = self.line_at(start);
                if nl.is_some() {
                    (self.counted, self.line) = (after, l + 1);
                }
                let line = self.b.get(start..end).unwrap_or_default();
                // The start of a line cut at the size limit is a record, whatever it holds,
                // and so is a whole line past the limit: whether the chunker cuts it
                // depends on where chunks fall, and what follows the cut is never read.
                let cut = self.cut_line && nl.is_none();
                if !cut && line.len() <= self.max_line && line.iter().all(|&c| is_ws(c)) {
                    continue;
                }
                return Some(Span {
                    start,
                    line_end: Some((end, after)),
                    line: l,
                });
            },
            Layout::Values | Layout::Array { .. } => {
                let mut lex = Lex::new(self.b, self.pos);
                let c = lex.ws()?;
                if matches!(self.layout, Layout::Array { .. }) && c == b']' {
                    self.pos = lex.i;
                    self.done = true;
                    return None;
                }
                let l = self.line_at(lex.i);
                Some(Span {
                    start: lex.i,
                    line_end: None,
                    line: l,
                })
            }
        }
    }

    /// After a record ending at `end`: moves past the separator.
    fn finish(&mut self, end: usize) {
        if let Layout::Array { .. } = self.layout {
            let mut lex = Lex::new(self.b, end);
            if lex.ws() == Some(b',') {
                lex.i += 1;
            }
            self.pos = lex.i;
        } else if self.layout == &Layout::Values {
            self.pos = end;
        }
    }

    /// In array layout, after the records array closed: checks the rest of the document,
    /// whose containers are `enclosing`. `None` when the walker did not stop at it.
    fn suffix(&self) -> Option<std::result::Result<(), lex::Syntax>> {
        let Layout::Array { enclosing, .. } = self.layout else {
            return None;
        };
        if !self.done {
            return None;
        }
        let mut lex = Lex::new(self.b, self.pos + 1);
        Some((|| {
            for open in enclosing.iter().rev() {
                let (close, object) = if *open == b'{' {
                    (b'}', true)
                } else {
                    (b']', false)
                };
                loop {
                    match lex.ws() {
                        Some(c) if c == close => {
                            lex.i += 1;
                            break;
                        }
                        Some(b',') => {
                            lex.i += 1;
                            if object {
                                if lex.ws() != Some(b'"') {
                                    return lex.err("object key (a string) expected");
                                }
                                lex.string_raw()?;
                                lex.expect(b':', "':' expected after an object key")?;
                            }
                            lex.skip_value(1)?;
                        }
                        _ => return lex.err("',' or a closing bracket expected"),
                    }
                }
            }
            match lex.ws() {
                None => Ok(()),
                Some(_) => lex.err("data after the end of the JSON document"),
            }
        })())
    }
}

/// Where a failed record ends: the end of its line, or of its value by a structural scan
/// (the framing checked the brackets and strings of the records).
fn record_end(b: &[u8], span: &Span, in_array: bool) -> usize {
    if let Some((end, _)) = span.line_end {
        return end;
    }
    let _ = in_array;
    // A run of scalar bytes (a number, a literal, or junk) ends where the framing ends it:
    // at whitespace or at any structural byte.
    if !matches!(b.get(span.start), Some(b'{' | b'[' | b'"')) {
        return b
            .get(span.start..)
            .and_then(|rest| {
                rest.iter()
                    .position(|&c| is_ws(c) || matches!(c, b'{' | b'[' | b'"' | b',' | b']' | b'}'))
            })
            .map_or(b.len(), |k| span.start + k);
    }
    let mut depth = 0usize;
    let mut i = span.start;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => {
                i = string_end(b, i);
                if depth == 0 {
                    return i;
                }
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    b.len()
}

/// Just past the string whose opening quote is at `at`, by its quotes and backslashes alone
/// (the way the framing reads it, whatever is wrong inside); the end of `b` when it never
/// closes.
fn string_end(b: &[u8], at: usize) -> usize {
    let mut i = at + 1;
    while let Some(k) = b
        .get(i..)
        .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
    {
        let p = i + k;
        if b.get(p) == Some(&b'"') {
            return p + 1;
        }
        i = p + 2;
    }
    b.len()
}

/// After a record read whole at the cursor: nothing but whitespace may follow it on its
/// line (JSON Lines), and a scalar record must end where the framing ends it (`null-2` is
/// one bad element, not `null` and `-2`).
fn check_record_end(
    lex: &mut Lex<'_>,
    b: &[u8],
    span: &Span,
    in_array: bool,
) -> std::result::Result<(), Fail> {
    let ended = if span.line_end.is_some() {
        lex.ws().is_none()
    } else if matches!(b.get(span.start), Some(b'{' | b'[' | b'"')) {
        true
    } else {
        lex.i == record_end(b, span, in_array)
    };
    if ended {
        Ok(())
    } else {
        Err(Fail::Syntax(lex::Syntax {
            at: lex.i,
            what: "data after the JSON value",
        }))
    }
}

/// Whether the first line of `b` is one whole JSON value (and whitespace).
fn first_line_is_a_value(b: &[u8]) -> bool {
    let Some(end) = memchr::memchr(b'\n', b) else {
        return false;
    };
    let mut lex = Lex::new(b.get(..end).unwrap_or_default(), 0);
    lex.skip_value(0).is_ok() && lex.ws().is_none()
}

/// Where the record at `span` is not JSON, if it is not (`line`: the bytes up to its line
/// end).
fn record_syntax(line: &[u8], b: &[u8], span: &Span, in_array: bool) -> Option<lex::Syntax> {
    let mut lex = Lex::new(line, span.start);
    match lex.skip_value(0) {
        Err(s) => Some(s),
        Ok(()) => match check_record_end(&mut lex, b, span, in_array) {
            Err(Fail::Syntax(s)) => Some(s),
            _ => None,
        },
    }
}

impl JsonDecoder {
    /// The layout records are read in.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }
}

impl Widens for JsonDecoder {
    type Plan = Plan;

    /// Decodes `chunk`'s records with `plan`.
    fn attempt(&self, chunk: &Chunk, plan: &Plan, widen: bool) -> Attempt {
        let mut out = ChunkOutput {
            index: chunk.index,
            ..ChunkOutput::default()
        };
        let b = &chunk.bytes;
        let body = b.get(chunk.start..).unwrap_or_default();
        let bad_utf8 = invalid_utf8_offsets(body, chunk.start);
        let mut next_bad = 0;
        let root_node = Node::Struct(Arc::clone(&plan.root));
        let mut root = Col::new(&root_node);
        let mut ctx = Ctx::new(
            self.on_cast_error == CastErrorPolicy::Null,
            self.empty_as_null,
        );
        let in_array = matches!(self.layout, Layout::Array { .. });
        let mut walker = Walker::new(chunk, &self.layout, self.max_record_bytes);
        let mut record = 0u64;
        while let Some(span) = walker.next() {
            let this = record;
            record += 1;
            let limit = span.line_end.map_or(b.len(), |(end, _)| end);
            let before = root.len();
            // Invalid UTF-8 in the record (only strings can hold non-ASCII bytes).
            while bad_utf8.get(next_bad).is_some_and(|&o| o < span.start) {
                next_bad += 1;
            }
            // The last line of a chunk cut inside an over-long line is that line's start.
            let cut = chunk.cut_line
                && span
                    .line_end
                    .is_some_and(|(end, after)| end == after && after == b.len());
            let bad_at = bad_utf8.get(next_bad).copied();
            let failure = if cut {
                Some((
                    RejectReason::RecordTooLong,
                    None,
                    format!(
                        "the line has no end within {} bytes; {}",
                        self.max_record_bytes,
                        if self.policy == ErrorPolicy::Quarantine {
                            "the quarantine file holds the whole line"
                        } else {
                            "the bytes past them are skipped"
                        }
                    ),
                ))
            } else if span
                .line_end
                .is_some_and(|(end, _)| end - span.start > self.max_record_bytes)
            {
                // Held to the limit wherever it falls, as a line the chunker cuts is.
                Some((
                    RejectReason::RecordTooLong,
                    None,
                    format!(
                        "the line is longer than {} bytes (max_record_bytes)",
                        self.max_record_bytes
                    ),
                ))
            } else if bad_at.is_some_and(|o| o < record_end(b, &span, in_array)) {
                let end = record_end(b, &span, in_array);
                Some((
                    RejectReason::InvalidUtf8,
                    None,
                    utf8_detail(b.get(span.start..end).unwrap_or_default()),
                ))
            } else {
                let line = b.get(..limit).unwrap_or_default();
                let mut lex = Lex::new(line, span.start);
                let result = if plan.wrapped {
                    decode_wrapped(&mut root, &mut lex, &plan.root, &mut ctx)
                } else if lex.peek() == Some(b'{') {
                    root.decode(&mut lex, &root_node, NullTokens::EMPTY_ONLY, &mut ctx, 0)
                } else {
                    match lex.skip_value(0) {
                        Err(s) => Err(Fail::Syntax(s)),
                        Ok(()) => Err(Fail::Shape {
                            path: String::new(),
                            detail: "expected an object record, found another value".into(),
                        }),
                    }
                };
                let result = result.and_then(|()| check_record_end(&mut lex, b, &span, in_array));
                match result {
                    Ok(())
                        if span.line_end.is_none()
                            && lex.i - span.start > self.max_record_bytes =>
                    {
                        // As the framing fails a record it cannot cut within the limit.
                        out.error = Some(Error::new(ErrorKind::LimitExceeded(format!(
                            "a JSON record runs past {} bytes (at byte {})",
                            self.max_record_bytes,
                            chunk.offset + span.start as u64
                        ))));
                        out.rows_read = record;
                        out.chunk = Chunk::default();
                        return Attempt::Done(Box::new(out));
                    }
                    Ok(()) => {
                        if self.row_sources {
                            let end = span.line_end.map_or(lex.i, |(_, after)| after);
                            let sources =
                                out.sources
                                    .get_or_insert_with(|| crate::stream::RowSources {
                                        path: self.layout.records_path().map(Into::into),
                                        ..Default::default()
                                    });
                            sources.push(
                                b.get(span.start..end).unwrap_or_default(),
                                chunk.offset + span.start as u64,
                                span.line,
                                this,
                            );
                        }
                        walker.finish(lex.i);
                        None
                    }
                    Err(fail) => {
                        root.truncate(before);
                        // A record the plan cannot read may not be JSON at all: that is
                        // what it is rejected for, and no reason to widen the plan.
                        let fail = match fail {
                            Fail::Cast { .. } | Fail::Shape { .. } => {
                                record_syntax(line, b, &span, in_array).map_or(fail, Fail::Syntax)
                            }
                            syntax => syntax,
                        };
                        match fail {
                            Fail::Syntax(s) => Some((
                                RejectReason::InvalidJson,
                                None,
                                format!(
                                    "invalid JSON at byte {} of the record: {}",
                                    s.at.saturating_sub(span.start),
                                    s.what
                                ),
                            )),
                            Fail::Cast { .. } | Fail::Shape { .. } if widen => {
                                return Attempt::Widen
                            }
                            Fail::Cast { path, detail } => {
                                Some((RejectReason::CastError, Some(path), detail))
                            }
                            Fail::Shape { path, detail } => {
                                Some((RejectReason::SchemaMismatch, Some(path), detail))
                            }
                        }
                    }
                }
            };
            if let Some((reason, path, detail)) = failure {
                let end = record_end(b, &span, in_array);
                walker.finish(end);
                let raw_end = span.line_end.map_or(end, |(_, after)| after);
                let position = Position {
                    byte: chunk.offset + span.start as u64,
                    line: span.line,
                    record: this,
                    path: self.layout.records_path().map(String::into_boxed_str),
                };
                let column = path.filter(|p| !p.is_empty());
                if self.policy == ErrorPolicy::Strict {
                    let what = match reason {
                        RejectReason::InvalidJson => "invalid JSON",
                        RejectReason::RecordTooLong => "record too long",
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
                    out.rows_read = record;
                    out.chunk = Chunk::default();
                    return Attempt::Done(Box::new(out));
                }
                out.rejects.push(Reject {
                    position,
                    column,
                    reason,
                    detail,
                    raw: b.get(span.start..raw_end).unwrap_or_default().to_vec(),
                });
            }
        }
        if let Some(Err(s)) = walker.suffix() {
            let at = s.at;
            let line = walker.line_at(at.min(b.len()));
            out.error = Some(Error::decode(
                FORMAT,
                Position {
                    byte: chunk.offset + at as u64,
                    line,
                    record,
                    path: None,
                },
                None,
                format!("invalid JSON after the records array: {}", s.what),
            ));
        }
        out.rows_read = record;
        out.values_nulled = ctx.nulled;
        match record_batches(
            &mut root,
            &plan.root,
            &plan.schema,
            self.flatten,
            self.batch_rows,
        ) {
            Ok(batches) => out.batches = batches,
            Err(e) => out.error = Some(e),
        }
        Attempt::Done(Box::new(out))
    }

    /// The plan widened by everything `chunk` holds.
    fn widened(&self, chunk: &Chunk, plan: &Plan) -> Option<Plan> {
        let sample = sample_shape(chunk, &self.layout);
        let (seen, wrapped) = root_plan(&sample, self.text_mode, 0.0, true);
        let mut node = if plan.wrapped {
            plan.root
                .fields
                .first()
                .map(|f| f.node.clone())
                .unwrap_or(Node::Null)
        } else {
            Node::Struct(Arc::clone(&plan.root))
        };
        // Records of the other kind than the plan's cannot widen it: they are bad records.
        let changed = if wrapped != plan.wrapped {
            false
        } else {
            let evolve = self.text_mode || self.schema_policy == SchemaPolicy::Evolve;
            match plan::join(&node, &seen, evolve) {
                Some(j) if j != node => {
                    node = j;
                    true
                }
                _ => false,
            }
        };
        if !changed {
            return None;
        }
        let root = match node {
            Node::Struct(s) if !plan.wrapped => s,
            other => Arc::new(value_plan(other)),
        };
        Some(Plan::new(root, plan.wrapped, self.flatten))
    }

    fn join(&self, a: &Plan, b: &Plan) -> Option<Plan> {
        join_plans(a, b, self)
    }

    fn same(&self, a: &Plan, b: &Plan) -> bool {
        a.wrapped == b.wrapped && *a.root == *b.root
    }
}

/// Decodes a record that is not an object into the one field of a wrapped plan.
fn decode_wrapped(
    root: &mut Col,
    lex: &mut Lex<'_>,
    plan: &StructPlan,
    ctx: &mut Ctx,
) -> std::result::Result<(), Fail> {
    let (
        Col::Struct {
            fields,
            len,
            valid,
            stamp,
        },
        Some(f),
    ) = (root, plan.fields.first())
    else {
        return Err(Fail::Shape {
            path: String::new(),
            detail: "internal error: a wrapped plan without its field".into(),
        });
    };
    let Some(col) = fields.first_mut() else {
        return Err(Fail::Shape {
            path: String::new(),
            detail: "internal error: a wrapped plan without its column".into(),
        });
    };
    col.decode(lex, &f.node, f.nulls, ctx, 0)?;
    *len += 1;
    if let Some(s) = stamp.first_mut() {
        *s = *len;
    }
    valid.push_valid();
    Ok(())
}

/// What the records of a chunk look like: object records and the others apart.
#[derive(Debug, Default)]
struct Sample {
    /// The object records.
    objects: Shape,
    /// The records that are not objects.
    values: Shape,
    /// How many records of each kind (JSON ones; the others are left out).
    object_records: u64,
    value_records: u64,
}

/// What the records of `chunk` look like. Records that are not JSON are left out.
fn sample_shape(chunk: &Chunk, layout: &Layout) -> Sample {
    let b = &chunk.bytes;
    let in_array = matches!(layout, Layout::Array { .. });
    let mut sample = Sample::default();
    let mut key = Vec::new();
    // Blank lines past the size limit are no JSON: left out either way.
    let mut walker = Walker::new(chunk, layout, usize::MAX);
    while let Some(span) = walker.next() {
        let limit = span.line_end.map_or(b.len(), |(end, _)| end);
        let mut lex = Lex::new(b.get(..limit).unwrap_or_default(), span.start);
        // Each record is seen on its own and joined when it is JSON, so a malformed one
        // changes nothing of what the others showed.
        let mut record = Shape::Unseen;
        let object = lex.peek() == Some(b'{');
        let ok = record.observe(&mut lex, &mut key, 0).is_ok()
            && check_record_end(&mut lex, b, &span, in_array).is_ok();
        if ok {
            if object {
                sample.objects.join(record);
                sample.object_records += 1;
            } else {
                sample.values.join(record);
                sample.value_records += 1;
            }
            walker.finish(lex.i);
        } else {
            walker.finish(record_end(b, &span, in_array));
        }
    }
    sample
}

/// Text mode's plan for values of `shape`: text for scalars, JSON text for the rest.
fn text_node(shape: &Shape) -> Node {
    match shape {
        Shape::Unseen | Shape::Scalar(_) => Node::Str,
        _ => Node::Json,
    }
}

/// Text mode's plan for records of `shape`: one text (or JSON text) column per field.
fn text_root(shape: &Shape) -> Node {
    match shape {
        Shape::Object(o) if o.map.is_none() => Node::Struct(Arc::new(StructPlan::new(
            o.fields
                .iter()
                .map(|(n, s)| FieldPlan {
                    name: n.clone(),
                    key: n.as_bytes().to_vec(),
                    node: text_node(s),
                    nulls: NullTokens::EMPTY_ONLY,
                })
                .collect(),
        ))),
        other => text_node(other),
    }
}

/// The plan of the records a sample showed, and whether they are wrapped (one `value`
/// column): object records are a struct of their fields (a map of thousands of keys is one
/// `value` column); other records are one `value` column; both kinds at once are one
/// `value` column of JSON text.
fn root_plan(sample: &Sample, text_mode: bool, tolerance: f64, null_ok: bool) -> (Node, bool) {
    let plan = |shape: &Shape, name: &str| {
        if text_mode {
            text_node(shape)
        } else {
            Node::from_shape(shape, name, tolerance, null_ok).0
        }
    };
    match (sample.object_records > 0, sample.value_records > 0) {
        (true, true) => (Node::Json, true),
        (false, true) => (plan(&sample.values, "value"), true),
        (true, false) => match &sample.objects {
            Shape::Object(o) if o.map.is_some() => (plan(&sample.objects, "value"), true),
            // Records without keys: no columns (nested, such objects are JSON text).
            Shape::Object(o) if o.fields.is_empty() => {
                (Node::Struct(Arc::new(StructPlan::default())), false)
            }
            _ if text_mode => (text_root(&sample.objects), false),
            _ => (
                Node::from_shape(&sample.objects, "", tolerance, null_ok).0,
                false,
            ),
        },
        (false, false) => (Node::Struct(Arc::new(StructPlan::default())), false),
    }
}

impl Decoder for JsonDecoder {
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

/// The plan reading everything `a` and `b` read.
fn join_plans(a: &Plan, b: &Plan, d: &JsonDecoder) -> Option<Plan> {
    let evolve = d.schema_policy == SchemaPolicy::Evolve;
    let node = plan::join(
        &Node::Struct(Arc::clone(&a.root)),
        &Node::Struct(Arc::clone(&b.root)),
        evolve,
    )?;
    match node {
        Node::Struct(root) => Some(Plan::new(root, a.wrapped, d.flatten)),
        _ => None,
    }
}

/// What the JSON start step settled, for detection reports.
pub struct JsonStart<R> {
    /// Where decoding goes on.
    pub start: Start<R, JsonDecoder>,
    /// The layout found.
    pub layout: Layout,
}

/// Bytes of the head read to find the layout before giving up on more.
fn read_more<R: Read>(src: &mut R, head: &mut Vec<u8>, want: usize) -> Result<bool> {
    let mut eof = false;
    while head.len() < want {
        let mut buf = vec![0u8; (want - head.len()).min(1 << 20)];
        match src.read(&mut buf) {
            Ok(0) => {
                eof = true;
                break;
            }
            Ok(n) => head.extend_from_slice(buf.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(eof)
}

/// Reads the head of `src`, finds the layout, infers the schema from the first chunk, and
/// returns the pieces to decode the rest. `format` is JSON Lines (one value per line), JSON
/// (a document, or values one after another), or either (`None`: found from the bytes).
pub fn start<R: Read>(
    mut src: R,
    decode: &DecodeOptions,
    opts: &JsonOptions,
    format: Option<Format>,
    fixed_schema: bool,
) -> Result<JsonStart<std::io::Chain<Cursor<Vec<u8>>, R>>> {
    decode.validate()?;
    let mut head = Vec::new();
    let mut want = decode.chunk_bytes.max(64 << 10);
    let mut whole = read_more(&mut src, &mut head, want)?;
    let bom = if head.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    if head
        .get(bom..)
        .unwrap_or_default()
        .iter()
        .all(|&c| is_ws(c))
    {
        return Err(Error::new(ErrorKind::Empty));
    }
    let lines = match format {
        Some(Format::Jsonl) => Some(true),
        Some(Format::Json) => Some(false),
        _ if opts.named_lines && first_line_is_a_value(head.get(bom..).unwrap_or_default()) => {
            Some(true)
        }
        _ => None,
    };
    let layout = loop {
        match find_layout(&head, bom, whole, opts, lines)? {
            Found::Layout(l) => break l,
            Found::NeedMore if !whole && head.len() < decode.max_record_bytes => {
                want = (want * 2).min(decode.max_record_bytes + 1);
                whole = read_more(&mut src, &mut head, want)?;
            }
            Found::NeedMore => break Layout::Values,
        }
    };
    let (framing, first_start): (Box<dyn crate::stream::Framing>, usize) = match &layout {
        Layout::Lines => (Box::new(LineFeeds), bom),
        Layout::Values => (Box::new(DocFraming::values(decode.max_record_bytes)), bom),
        Layout::Array {
            start, enclosing, ..
        } => (
            Box::new(DocFraming::array(
                *start,
                enclosing,
                decode.max_record_bytes,
            )),
            *start,
        ),
    };
    let mut chunker = Chunker::new(
        Cursor::new(head).chain(src),
        decode.chunk_bytes,
        framing,
        decode.max_record_bytes,
    );
    let mut first = chunker
        .next_chunk()?
        .ok_or_else(|| Error::new(ErrorKind::Empty))?;
    first.start = first.start.max(first_start).min(first.bytes.len());
    // The sample: the first chunk's records.
    let sample = sample_shape(&first, &layout);
    let policy = decode.schema_policy.unwrap_or(SchemaPolicy::Merge);
    let null_ok = first.last || policy != SchemaPolicy::Strict;
    let (node, wrapped) = root_plan(
        &sample,
        !decode.infer_types,
        decode.infer_tolerance(),
        null_ok,
    );
    let root = match node {
        Node::Struct(s) if !wrapped => s,
        other => Arc::new(value_plan(other)),
    };
    let root = apply_given_types(root, wrapped, &decode.column_types)?;
    let plan = Plan::new(root, wrapped, opts.flatten);
    let first_schema = plan.schema.clone();
    let decoder = JsonDecoder {
        layout: layout.clone(),
        plans: Widening::new(plan, !fixed_schema && policy != SchemaPolicy::Strict),
        first_schema,
        policy: decode.error_policy,
        on_cast_error: decode.on_cast_error,
        schema_policy: if fixed_schema {
            SchemaPolicy::Strict
        } else {
            policy
        },
        batch_rows: decode.batch_rows,
        max_record_bytes: decode.max_record_bytes,
        flatten: opts.flatten,
        text_mode: !decode.infer_types,
        empty_as_null: decode.empty_as_null.unwrap_or(false),
        row_sources: decode.row_sources,
    };
    Ok(JsonStart {
        start: Start {
            chunker,
            decoder,
            first,
            quarantine: QuarantineFormat {
                header: Vec::new(),
                footer: Vec::new(),
                extension: "jsonl".into(),
                input_extension: false,
            },
        },
        layout,
    })
}

/// Applies the types the caller gave to top-level fields by name. A name the records do
/// not have becomes a column of that type (JSON records name their fields, so a field the
/// sample lacks may still come); with `schema=`, the caller states what the data holds.
fn apply_given_types(
    root: Arc<StructPlan>,
    wrapped: bool,
    given: &[(String, schema::ColumnType)],
) -> Result<Arc<StructPlan>> {
    if given.is_empty() {
        return Ok(root);
    }
    let mut fields = root.fields.clone();
    for (name, ty) in given {
        let node = Node::of_type(*ty, DateFormat::ISO);
        match fields.iter_mut().find(|f| &f.name == name) {
            Some(f) => {
                // A date format the sample showed still applies to a date type given.
                let fmt = match &f.node {
                    Node::Date(fmt) | Node::Timestamp { fmt, .. } => *fmt,
                    _ => DateFormat::ISO,
                };
                f.node = Node::of_type(*ty, fmt);
                f.nulls = if ty.is_typed() { NullTokens::ALL } else { NullTokens::EMPTY_ONLY };
            }
            None if wrapped => {
                return Err(Error::new(ErrorKind::Schema(format!(
                    "no column {name:?} to give a type to: the records are not objects (the column is \"value\")"
                ))))
            }
            None => fields.push(FieldPlan {
                name: name.clone(),
                key: name.as_bytes().to_vec(),
                node,
                nulls: if ty.is_typed() { NullTokens::ALL } else { NullTokens::EMPTY_ONLY },
            }),
        }
    }
    Ok(Arc::new(StructPlan::new(fields)))
}

#[cfg(test)]
mod tests;
