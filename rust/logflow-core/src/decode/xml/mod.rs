//! XML and XES decoding to Arrow.
//!
//! An XML document holds its records as repeated elements somewhere under the root
//! (`catalog/book`, `rss/channel/item`): the start step reads the head of the input, checks
//! its prolog (the XML declaration, the document type declaration and its entities) and
//! finds the records' path ([`find_records`]: the element path that repeats most under
//! its parent, taken at its outermost repeating ancestor, whose instances hold data), or
//! takes the one given (`record_path="catalog/book"`). A structural scan
//! ([`frame::XmlFraming`]) cuts the input after record end tags, so chunks decode in
//! parallel: each record's attributes and child elements become columns by a plan
//! ([`shape`]) inferred from the first chunk and widened as later chunks need (under the
//! `merge` and `evolve` schema policies), decoded with quick-xml events straight into
//! Arrow columns ([`build`]).
//!
//! Safety: nothing outside the input is read (external entities and DTDs are noted, never
//! fetched); entity expansion is bounded ([`dtd::MAX_EXPANSION`]); elements nest at most
//! [`frame::MAX_DEPTH`] deep. A record that is not well-formed is one bad record under the
//! error policy; a document whose structure breaks outside the records is a typed error
//! naming the line and byte offset.
//!
//! XES event logs ([`xes`]) are read on the same walk, one row per event.

pub(crate) mod build;
pub(crate) mod dtd;
pub(crate) mod frame;
pub(crate) mod scan;
pub(crate) mod shape;
pub(crate) mod walk;
pub(crate) mod wf;
pub mod xes;

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::sync::Arc;

use arrow_schema::{Schema, SchemaRef};
use quick_xml::events::Event;

use self::build::{decode_struct, Scratch};
use self::frame::XmlFraming;
use self::shape::Elem;
use self::walk::{Bad, Doc, Walker};
use crate::decode::nested::build::{Col, Fail};
use crate::decode::nested::flat::{flat_fields, record_batches};
use crate::decode::nested::plan::{FieldPlan, Node, StructPlan};
use crate::decode::nested::widen::{Attempt, Widening, Widens};
use crate::decode::values::DateFormat;
use crate::decode::{
    invalid_utf8_offsets, utf8_detail, CastErrorPolicy, DecodeOptions, ErrorPolicy, Reject,
    RejectReason, SchemaPolicy,
};
use crate::error::{Error, ErrorKind, Position, Result};
use crate::schema::{self, NullTokens};
use crate::stream::{Chunk, ChunkOutput, Chunker, Decoder, QuarantineFormat, Start};

const FORMAT: &str = "xml";

/// How XML is read, beyond what every format shares.
#[derive(Debug, Clone, Default)]
pub struct XmlOptions {
    /// Where the records are: the element path from the root (`catalog/book`,
    /// `/catalog/book`), or from below it (`book`); a segment without a prefix also matches
    /// a prefixed name with that local name. `None` finds it.
    pub record_path: Option<String>,
    /// Nested elements as `a.b` columns instead of struct columns: to this many levels
    /// (`usize::MAX`: all). `None` keeps structs.
    pub flatten: Option<usize>,
    /// For XES: which table to write.
    pub tables: xes::Tables,
}

/// What the start step found in the document, for detection reports.
#[derive(Debug, Clone, Default)]
pub struct XmlLayout {
    /// The records' path (`/catalog/book`).
    pub records_path: String,
    /// The root element's name.
    pub root: String,
    /// The version and encoding the XML declaration gives.
    pub version: Option<String>,
    /// The encoding the XML declaration names.
    pub encoding: Option<String>,
    /// Whether the document has a document type declaration.
    pub doctype: bool,
    /// How the records were found, in words.
    pub evidence: String,
}

/// The plan of a whole table, shared by the decode workers; it only widens.
#[derive(Debug)]
pub struct Plan {
    /// The record's fields.
    pub root: Arc<StructPlan>,
    /// The output schema (nested elements flattened, if asked).
    pub schema: SchemaRef,
}

impl Plan {
    fn new(root: Arc<StructPlan>, flatten: Option<usize>) -> Self {
        let fields = root.arrow_fields();
        let schema = match flatten {
            None => Schema::new(fields),
            Some(depth) => Schema::new(flat_fields(&fields, "", depth)),
        };
        Plan {
            root,
            schema: Arc::new(schema),
        }
    }
}

/// Decodes chunks of XML records; see the module docs.
#[derive(Debug)]
pub struct XmlDecoder {
    doc: Arc<Doc>,
    plans: Widening<Plan>,
    first_schema: SchemaRef,
    policy: ErrorPolicy,
    on_cast_error: CastErrorPolicy,
    schema_policy: SchemaPolicy,
    batch_rows: usize,
    flatten: Option<usize>,
    /// Text mode: every scalar is text, also after widening.
    text_mode: bool,
    /// Empty elements are null in text columns.
    empty_as_null: bool,
    /// Keep each good row's bytes and place ([`ChunkOutput::sources`]), for rules.
    row_sources: bool,
}

/// A chunk's bad bytes: invalid UTF-8 and characters XML does not allow, by offset. The
/// chunk is checked lazily, a window at a time as records are read, so each window is
/// checked while the parser has it in cache.
pub(crate) struct BadBytes<'a> {
    b: &'a [u8],
    v11: bool,
    /// Checked up to here.
    done: usize,
    utf8: Vec<usize>,
    chars: Vec<usize>,
}

/// Bytes checked at a time.
const CHECK_WINDOW: usize = 64 << 10;

impl<'a> BadBytes<'a> {
    pub(crate) fn of(chunk: &'a Chunk, v11: bool) -> Self {
        BadBytes {
            b: &chunk.bytes,
            v11,
            done: chunk.start.min(chunk.bytes.len()),
            utf8: Vec::new(),
            chars: Vec::new(),
        }
    }

    /// Checks the bytes up to `to` (and a little past, to a character boundary).
    fn check_to(&mut self, to: usize) {
        let len = self.b.len();
        let to = to.min(len);
        while self.done < to {
            let mut end = (self.done + CHECK_WINDOW).max(to).min(len);
            // End before a character's first byte, so no sequence is split.
            let mut back = 0;
            while end < len
                && back < 3
                && self.b.get(end).is_some_and(|&c| (0x80..0xC0).contains(&c))
            {
                end -= 1;
                back += 1;
            }
            if end <= self.done {
                end = (self.done + CHECK_WINDOW).min(len);
            }
            let window = self.b.get(self.done..end).unwrap_or_default();
            if std::str::from_utf8(window).is_err() {
                self.utf8.extend(invalid_utf8_offsets(window, self.done));
            }
            wf::bad_chars(window, self.done, self.v11, &mut self.chars);
            self.done = end;
        }
    }

    /// Why the bytes `from..to` are bad, if they are.
    pub(crate) fn within(&mut self, from: usize, to: usize) -> Option<(RejectReason, String)> {
        self.check_to(to);
        let hit = |v: &[usize]| {
            let i = v.partition_point(|&o| o < from);
            v.get(i).copied().filter(|&o| o < to)
        };
        if hit(&self.utf8).is_some() {
            return Some((
                RejectReason::InvalidUtf8,
                utf8_detail(self.b.get(from..to).unwrap_or_default()),
            ));
        }
        hit(&self.chars).map(|at| {
            (
                RejectReason::InvalidXml,
                format!(
                    "a character XML does not allow at byte {} of the record",
                    at - from
                ),
            )
        })
    }

    /// The first bad byte at or after `from`, before `to`.
    pub(crate) fn first(&mut self, from: usize, to: usize) -> Option<usize> {
        self.check_to(to);
        let hit = |v: &[usize]| {
            let i = v.partition_point(|&o| o < from);
            v.get(i).copied().filter(|&o| o < to)
        };
        match (hit(&self.utf8), hit(&self.chars)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

impl XmlDecoder {
    /// The schema of the widest plan so far (the first batches' when nothing widened it).
    pub fn schema_now(&self) -> SchemaRef {
        self.plans.current().schema.clone()
    }
}

impl Widens for XmlDecoder {
    type Plan = Plan;

    fn attempt(&self, chunk: &Chunk, plan: &Plan, widen: bool) -> Attempt {
        let mut out = ChunkOutput {
            index: chunk.index,
            ..ChunkOutput::default()
        };
        let mut bad = BadBytes::of(chunk, self.doc.v11);
        let root_node = Node::Struct(Arc::clone(&plan.root));
        let mut root = Col::new(&root_node);
        let mut s = Scratch {
            null_on_cast: self.on_cast_error == CastErrorPolicy::Null,
            empty_as_null: self.empty_as_null,
            ..Scratch::default()
        };
        let expanded = std::cell::Cell::new(0);
        let mut w = Walker::new(chunk, &self.doc, &expanded);
        let mut record = 0u64;
        let mut checked = chunk.start;
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
            // Bad bytes between records are errors of the document.
            if let Some(b) = bad.first(checked, at) {
                out.error = Some(w.error(b, "invalid UTF-8 or a character XML does not allow"));
                break;
            }
            let this = record;
            record += 1;
            // Counted before the walker reads on, which would make counting back costly.
            let line = self.row_sources.then(|| w.line_at(at));
            let before = root.len();
            let result = decode_struct(&mut root, &plan.root, &start.tag, &mut w, &mut s, 0);
            let mut end = w.pos();
            let failure = match result {
                Ok(()) => match bad.within(at, end) {
                    Some(f) => {
                        root.truncate(before);
                        // The record ends where the framing ends it, whatever the walker read.
                        end = w.skip_element(at);
                        Some(f)
                    }
                    None => None,
                },
                Err(fail) => {
                    root.truncate(before);
                    end = w.skip_element(at);
                    match fail {
                        Bad::Fatal(what) => {
                            out.error = Some(w.fatal(at, what));
                            break;
                        }
                        Bad::Plan(_) if widen => return Attempt::Widen,
                        Bad::Plan(Fail::Cast { path, detail }) => {
                            Some((RejectReason::CastError, format!("{path}\u{0}{detail}")))
                        }
                        Bad::Plan(Fail::Shape { path, detail }) => {
                            Some((RejectReason::SchemaMismatch, format!("{path}\u{0}{detail}")))
                        }
                        Bad::Plan(Fail::Syntax(s)) => {
                            Some((RejectReason::InvalidXml, s.what.to_string()))
                        }
                        Bad::Syntax(pos, what) => match bad.within(at, end) {
                            Some(f) => Some(f),
                            None => Some((
                                RejectReason::InvalidXml,
                                format!(
                                    "not well-formed at byte {} of the record: {what}",
                                    pos.saturating_sub(at)
                                ),
                            )),
                        },
                    }
                }
            };
            w.record_done();
            checked = end;
            if let (None, Some(line)) = (&failure, line) {
                let sources = out
                    .sources
                    .get_or_insert_with(|| crate::stream::RowSources {
                        path: Some(self.doc.path_text.as_str().into()),
                        ..Default::default()
                    });
                sources.push(
                    w.b.get(at..end).unwrap_or_default(),
                    chunk.offset + at as u64,
                    line,
                    this,
                );
            }
            if let Some((reason, detail)) = failure {
                let (column, detail) = match detail.split_once('\u{0}') {
                    Some((path, d)) => (
                        Some(path.to_string()).filter(|p| p.len() > 1),
                        d.to_string(),
                    ),
                    None => (None, detail),
                };
                let position = Position {
                    byte: chunk.offset + at as u64,
                    line: w.line_at(at),
                    record: this,
                    path: Some(self.doc.path_text.clone().into_boxed_str()),
                };
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
                    out.rows_read = record;
                    return Attempt::Done(Box::new(out));
                }
                out.rejects.push(Reject {
                    position,
                    column,
                    reason,
                    detail,
                    raw: w.b.get(at..end).unwrap_or_default().to_vec(),
                });
            }
        }
        if out.error.is_none() {
            if let Some(b) = bad.first(checked, w.b.len()) {
                out.error = Some(w.error(b, "invalid UTF-8 or a character XML does not allow"));
            }
        }
        out.rows_read = record;
        out.values_nulled = s.nulled;
        match record_batches(
            &mut root,
            &plan.root,
            &plan.schema,
            self.flatten,
            self.batch_rows,
        ) {
            Ok(batches) => out.batches = batches,
            Err(e) => {
                if out.error.is_none() {
                    out.error = Some(e);
                }
            }
        }
        Attempt::Done(Box::new(out))
    }

    fn widened(&self, chunk: &Chunk, plan: &Plan) -> Option<Plan> {
        let elem = sample(chunk, &self.doc);
        let name = self.doc.path.last().cloned().unwrap_or_default();
        let typing = shape::Typing {
            tolerance: 0.0,
            null_ok: true,
            text: self.text_mode,
        };
        let seen = shape::record_plan(&elem, &name, typing);
        let evolve = self.schema_policy == SchemaPolicy::Evolve;
        let joined = shape::join(
            &Node::Struct(Arc::clone(&plan.root)),
            &Node::Struct(Arc::new(seen)),
            evolve,
        )?;
        match joined {
            Node::Struct(root) if *root != *plan.root => Some(Plan::new(root, self.flatten)),
            _ => None,
        }
    }

    fn join(&self, a: &Plan, b: &Plan) -> Option<Plan> {
        let evolve = self.schema_policy == SchemaPolicy::Evolve;
        match shape::join(
            &Node::Struct(Arc::clone(&a.root)),
            &Node::Struct(Arc::clone(&b.root)),
            evolve,
        )? {
            Node::Struct(root) => Some(Plan::new(root, self.flatten)),
            _ => None,
        }
    }

    fn same(&self, a: &Plan, b: &Plan) -> bool {
        *a.root == *b.root
    }
}

/// The encoding label of the XML declaration at the start of `head` (bytes in any
/// ASCII-compatible encoding), if it names one.
pub(crate) fn declared_encoding(head: &[u8]) -> Option<String> {
    let rest = head.strip_prefix(b"<?xml")?;
    if !rest.first().copied().is_some_and(wf::is_space) {
        return None;
    }
    let end = memchr::memmem::find(rest.get(..rest.len().min(512))?, b"?>")?;
    wf::xml_decl(rest.get(..end)?, false).ok()?.encoding
}

/// What the records of `chunk` hold; records that are not well-formed are left out.
fn sample(chunk: &Chunk, doc: &Doc) -> Elem {
    let mut elem = Elem::default();
    let expanded = std::cell::Cell::new(0);
    let mut w = Walker::new(chunk, doc, &expanded);
    let mut text = Vec::new();
    let mut attrs = Vec::new();
    while let Ok(Some(r)) = w.next_record() {
        if elem
            .observe(&r.tag, &mut w, &mut text, &mut attrs, 0)
            .is_err()
        {
            text.clear();
            attrs.clear();
            w.skip_element(r.tag.at);
        }
        w.record_done();
    }
    elem
}

impl Decoder for XmlDecoder {
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

/// What the XML start step settled.
pub struct XmlStart<R> {
    /// Where decoding goes on.
    pub start: Start<R, XmlDecoder>,
    /// What was found.
    pub layout: XmlLayout,
}

/// Bytes read into `head` from `src` until it holds `want` (or the input ends); returns
/// whether it ended.
pub(crate) fn read_more<R: Read>(src: &mut R, head: &mut Vec<u8>, want: usize) -> Result<bool> {
    while head.len() < want {
        let mut buf = vec![0u8; (want - head.len()).min(1 << 20)];
        match src.read(&mut buf) {
            Ok(0) => return Ok(true),
            Ok(n) => head.extend_from_slice(buf.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(false)
}

/// The document's prolog as read from its head.
#[derive(Debug, Default)]
pub(crate) struct Prolog {
    pub decl: Option<wf::XmlDecl>,
    pub dtd: Option<dtd::Dtd>,
    /// The root element's name, once the head reaches it.
    pub root: Option<Vec<u8>>,
    /// The namespace declarations on the root (`xmlns:dc="..."`), as written.
    pub namespaces: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Reads the prolog at the start of `head` (after a byte order mark). Errors are fatal:
/// a document whose prolog is broken has no records to read.
pub(crate) fn read_prolog(head: &[u8], whole: bool) -> Result<Prolog> {
    let bom = if head.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let body = head.get(bom..).unwrap_or_default();
    let mut prolog = Prolog::default();
    let mut rd = quick_xml::Reader::from_reader(body);
    rd.config_mut().check_end_names = false;
    let err = |at: usize, what: String| {
        Error::decode(
            FORMAT,
            Position {
                byte: (at + bom) as u64,
                line: 1 + crate::stream::count_lines(body.get(..at).unwrap_or_default()),
                record: 0,
                path: None,
            },
            None,
            what,
        )
    };
    let mut standalone = false;
    loop {
        let at = usize::try_from(rd.buffer_position()).unwrap_or(usize::MAX);
        match rd.read_event() {
            Ok(Event::Decl(d)) => {
                if at != 0 {
                    return Err(err(
                        at,
                        "an XML declaration that is not at the very start".into(),
                    ));
                }
                let decl = wf::xml_decl(d.get(3..).unwrap_or_default(), false)
                    .map_err(|w| err(at, w.to_string()))?;
                standalone = decl.standalone == Some(true);
                prolog.decl = Some(decl);
            }
            Ok(Event::DocType(t)) => {
                if prolog.dtd.is_some() {
                    return Err(err(at, "a second document type declaration".into()));
                }
                let raw = t.into_inner();
                // quick-xml gives what follows `<!DOCTYPE`, after white space.
                let ws = body
                    .get(at + 9..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|c| wf::is_space(**c))
                    .count();
                let mut full = body.get(at + 9..at + 9 + ws).unwrap_or_default().to_vec();
                full.extend_from_slice(&raw);
                if body.get(at..at + 9) != Some(&b"<!DOCTYPE"[..]) {
                    return Err(err(at, "<!DOCTYPE must be written in capitals".into()));
                }
                let v11 = prolog.decl.as_ref().is_some_and(|d| d.version == "1.1");
                let dtd = dtd::parse(&full, standalone, v11).map_err(|(off, what)| {
                    err(
                        at + 9 + off.saturating_sub(0),
                        format!("document type declaration: {what}"),
                    )
                })?;
                prolog.dtd = Some(dtd);
            }
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                prolog.root = Some(e.name().as_ref().to_vec());
                let tag = walk::Tag::new(&e, body, at, false);
                let mut attrs = Vec::new();
                if walk::parse_attrs(&tag, &mut attrs).is_ok() {
                    for (n, v) in attrs {
                        if walk::is_xmlns(n) {
                            prolog.namespaces.push((n.to_vec(), v.to_vec()));
                        }
                    }
                }
                return Ok(prolog);
            }
            Ok(Event::Eof) => {
                return if whole {
                    Err(err(body.len(), "no root element".into()))
                } else {
                    Ok(prolog)
                }
            }
            Ok(Event::Text(t)) => {
                if !wf::all_space(&t.into_inner()) {
                    return Err(err(at, "text before the root element".into()));
                }
            }
            Ok(Event::Comment(_) | Event::PI(_)) => {}
            Ok(_) => {
                return Err(err(
                    at,
                    "markup out of place before the root element".into(),
                ))
            }
            Err(e) => {
                if !whole && rd.buffer_position() as usize >= body.len().saturating_sub(1) {
                    return Ok(prolog);
                }
                let at = usize::try_from(rd.error_position()).unwrap_or(0);
                return Err(err(at, format!("not well-formed XML: {e}")));
            }
        }
    }
}

/// Counts of one element path in the head, for finding the records.
#[derive(Debug, Clone)]
struct PathStat {
    parent: Option<usize>,
    name: Vec<u8>,
    depth: usize,
    count: u64,
    /// Instances with attributes, children or text.
    data: u64,
    /// Instances with attributes or children.
    structured: u64,
}

/// Layouts whose records are known by their (local) names, root first.
const KNOWN_LAYOUTS: [&[&str]; 7] = [
    &["feed", "entry"],
    &["rss", "channel", "item"],
    &["RDF", "item"],
    &["urlset", "url"],
    &["sitemapindex", "sitemap"],
    &["opml", "body", "outline"],
    &["log", "trace"],
];

/// Paths deeper than this are not candidates for records.
const SEARCH_DEPTH: usize = 32;

/// The element paths of the head with their counts, read as far as the head is
/// well-formed.
fn path_stats(head: &[u8]) -> Vec<PathStat> {
    let mut stats: Vec<PathStat> = Vec::new();
    let mut index: HashMap<(Option<usize>, Vec<u8>), usize> = HashMap::new();
    // Per open element: its path (if tracked), and whether it held data / structure.
    let mut open: Vec<(Option<usize>, bool, bool)> = Vec::new();
    let mut rd = quick_xml::Reader::from_reader(head);
    rd.config_mut().check_end_names = false;
    let mut enter = |stats: &mut Vec<PathStat>,
                     open: &mut Vec<(Option<usize>, bool, bool)>,
                     name: &[u8],
                     attrs: bool| {
        if let Some(top) = open.last_mut() {
            top.1 = true;
            top.2 = true;
        }
        let parent = open.last().and_then(|o| o.0);
        let depth = open.len();
        let id = if depth < SEARCH_DEPTH && (parent.is_some() || depth == 0) {
            let key = (parent, name.to_vec());
            let id = match index.get(&key) {
                Some(&id) => id,
                None => {
                    stats.push(PathStat {
                        parent,
                        name: name.to_vec(),
                        depth: depth + 1,
                        count: 0,
                        data: 0,
                        structured: 0,
                    });
                    index.insert(key, stats.len() - 1);
                    stats.len() - 1
                }
            };
            if let Some(s) = stats.get_mut(id) {
                s.count += 1;
            }
            Some(id)
        } else {
            None
        };
        open.push((id, attrs, attrs));
    };
    let leave = |stats: &mut Vec<PathStat>, open: &mut Vec<(Option<usize>, bool, bool)>| {
        if let Some((Some(id), data, structured)) = open.pop() {
            if let Some(s) = stats.get_mut(id) {
                s.data += u64::from(data);
                s.structured += u64::from(structured);
            }
        }
    };
    loop {
        match rd.read_event() {
            Ok(Event::Start(e)) => {
                let attrs = e
                    .attributes()
                    .flatten()
                    .any(|a| !walk::is_xmlns(a.key.as_ref()));
                enter(&mut stats, &mut open, e.name().as_ref(), attrs);
            }
            Ok(Event::Empty(e)) => {
                let attrs = e
                    .attributes()
                    .flatten()
                    .any(|a| !walk::is_xmlns(a.key.as_ref()));
                enter(&mut stats, &mut open, e.name().as_ref(), attrs);
                leave(&mut stats, &mut open);
            }
            Ok(Event::End(_)) => leave(&mut stats, &mut open),
            Ok(Event::Text(t)) => {
                if !wf::all_space(&t.into_inner()) {
                    if let Some(top) = open.last_mut() {
                        top.1 = true;
                    }
                }
            }
            Ok(Event::CData(_) | Event::GeneralRef(_)) => {
                if let Some(top) = open.last_mut() {
                    top.1 = true;
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    // Elements the head ends inside count as seen with what they held so far.
    while !open.is_empty() {
        leave(&mut stats, &mut open);
    }
    stats
}

/// The path of `id`, root first.
fn path_of(stats: &[PathStat], id: usize) -> Vec<Vec<u8>> {
    let mut path = Vec::new();
    let mut at = Some(id);
    while let Some(i) = at {
        match stats.get(i) {
            Some(s) => {
                path.push(s.name.clone());
                at = s.parent;
            }
            None => break,
        }
    }
    path.reverse();
    path
}

/// Finds the records in the head; returns their path and why.
pub(crate) fn find_records(head: &[u8]) -> Option<(Vec<Vec<u8>>, String)> {
    let stats = path_stats(head);
    let root = stats.iter().position(|s| s.depth == 1)?;
    // Formats whose records are known by name: feeds and sitemaps hold one record or a
    // few, and lists inside them (links, categories) can outnumber them.
    for known in KNOWN_LAYOUTS {
        let mut at = Some(root);
        let mut found = None;
        for (depth, seg) in known.iter().enumerate() {
            found = at.and_then(|parent| {
                stats.iter().position(|s| {
                    (s.depth == depth + 1)
                        && (depth == 0 || s.parent == Some(parent))
                        && wf::local_name(&s.name) == seg.as_bytes()
                })
            });
            if depth == 0 && found != Some(root) {
                found = None;
            }
            at = found;
            if at.is_none() {
                break;
            }
        }
        if let Some(i) = found {
            return Some((
                path_of(&stats, i),
                format!("the records of a known layout ({})", known.join("/")),
            ));
        }
    }
    let count = |i: Option<usize>| i.and_then(|i| stats.get(i)).map_or(1, |s| s.count.max(1));
    #[allow(clippy::cast_precision_loss)]
    let ratio = |s: &PathStat| s.count as f64 / count(s.parent) as f64;
    let candidate = |s: &PathStat| s.depth >= 2 && s.data > 0 && ratio(s) >= 2.0;
    // The most frequent repeating path...
    let best = stats
        .iter()
        .enumerate()
        .filter(|(_, s)| candidate(s))
        .max_by(|(_, a), (_, b)| {
            (a.structured > 0, a.count)
                .cmp(&(b.structured > 0, b.count))
                .then(b.depth.cmp(&a.depth))
        })
        .map(|(i, _)| i);
    if let Some(mut best) = best {
        // ...taken at its outermost repeating ancestor: records hold lists.
        let mut at = stats.get(best).and_then(|s| s.parent);
        while let Some(i) = at {
            let Some(s) = stats.get(i) else { break };
            if candidate(s) && s.structured > 0 {
                best = i;
            }
            at = s.parent;
        }
        let s = stats.get(best)?;
        let why = format!(
            "<{}> repeats {} times under its parent in the first {} bytes",
            String::from_utf8_lossy(&s.name),
            s.count,
            head.len()
        );
        return Some((path_of(&stats, best), why));
    }
    // Nothing repeats: one kind of child holding data is the records; else the root is
    // the one record.
    let children: Vec<usize> = stats
        .iter()
        .enumerate()
        .filter(|(_, s)| s.parent == Some(root) && s.data > 0)
        .map(|(i, _)| i)
        .collect();
    let all_children = stats.iter().filter(|s| s.parent == Some(root)).count();
    if let ([only], 1) = (children.as_slice(), all_children) {
        return Some((
            path_of(&stats, *only),
            "the root holds one kind of element".into(),
        ));
    }
    Some((
        path_of(&stats, root),
        "no element repeats: the root element is the one record".into(),
    ))
}

/// The path given by the caller, resolved against the names of the head: segments may
/// start below the root and may give local names.
pub(crate) fn resolve_path(head: &[u8], given: &str) -> Result<Vec<Vec<u8>>> {
    let segments: Vec<&str> = given
        .trim_matches('/')
        .split(['/', '.'])
        .filter(|s| !s.is_empty())
        .collect();
    if segments.is_empty() {
        return Err(Error::invalid("record_path is empty"));
    }
    let stats = path_stats(head);
    let matches = |name: &[u8], seg: &str| {
        name == seg.as_bytes() || (!seg.contains(':') && wf::local_name(name) == seg.as_bytes())
    };
    let walk = |segs: &[&str]| -> Option<Vec<Vec<u8>>> {
        let mut parent: Option<usize> = None;
        let mut out = Vec::new();
        for (d, seg) in segs.iter().enumerate() {
            let i = stats
                .iter()
                .position(|s| s.depth == d + 1 && s.parent == parent && matches(&s.name, seg))?;
            out.push(stats.get(i)?.name.clone());
            parent = Some(i);
        }
        Some(out)
    };
    if let Some(p) = walk(&segments) {
        return Ok(p);
    }
    // From below the root.
    if let Some(root) = stats.iter().find(|s| s.depth == 1) {
        let root_name = String::from_utf8_lossy(&root.name).into_owned();
        let mut with_root = vec![root_name.as_str()];
        with_root.extend(segments.iter().copied());
        if let Some(p) = walk(&with_root) {
            return Ok(p);
        }
        if segments.first().is_some_and(|s| matches(&root.name, s)) {
            // The root matches: the records may be further in than the head reaches.
            let mut path = vec![root.name.clone()];
            path.extend(segments.iter().skip(1).map(|s| s.as_bytes().to_vec()));
            return Ok(path);
        }
        return Err(Error::new(ErrorKind::Schema(format!(
            "record_path {given:?}: no such element path under the root <{root_name}>"
        ))));
    }
    Ok(segments.iter().map(|s| s.as_bytes().to_vec()).collect())
}

/// `/a/b` for a path.
pub(crate) fn path_text(path: &[Vec<u8>]) -> String {
    path.iter()
        .map(|s| format!("/{}", String::from_utf8_lossy(s)))
        .collect()
}

/// The head of the input, read until the records' layout is clear (or 64 MiB).
pub(crate) struct Head {
    pub bytes: Vec<u8>,
    pub prolog: Prolog,
}

pub(crate) fn read_head<R: Read>(src: &mut R, decode: &DecodeOptions) -> Result<Head> {
    let mut head = Vec::new();
    let mut want = decode.chunk_bytes.max(64 << 10);
    let mut whole = read_more(src, &mut head, want)?;
    let bom = usize::from(head.starts_with(b"\xEF\xBB\xBF")) * 3;
    if head
        .get(bom..)
        .unwrap_or_default()
        .iter()
        .all(|&c| wf::is_space(c))
    {
        return Err(Error::new(ErrorKind::Empty));
    }
    loop {
        let prolog = read_prolog(&head, whole)?;
        if prolog.root.is_some() || whole || head.len() >= decode.max_record_bytes {
            if prolog.root.is_none() && !whole {
                return Err(Error::new(ErrorKind::LimitExceeded(format!(
                    "no root element in the first {} bytes",
                    head.len()
                ))));
            }
            return Ok(Head {
                bytes: head,
                prolog,
            });
        }
        want = (want * 2).min(decode.max_record_bytes + 1);
        whole = read_more(src, &mut head, want)?;
    }
}

/// The document context from the prolog and the records' path.
pub(crate) fn doc_of(prolog: &Prolog, path: Vec<Vec<u8>>) -> Doc {
    Doc {
        path_text: path_text(&path),
        path,
        dtd: prolog.dtd.clone().map(Arc::new),
        v11: prolog.decl.as_ref().is_some_and(|d| d.version == "1.1"),
        trim_text: false,
    }
}

/// The quarantine file of XML records: a declaration and a `<quarantine>` element (with
/// the root's namespace declarations) around the bad records, one after another.
pub(crate) fn quarantine_format(prolog: &Prolog) -> QuarantineFormat {
    let mut header = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<quarantine".to_vec();
    for (n, v) in &prolog.namespaces {
        header.push(b' ');
        header.extend_from_slice(n);
        header.extend_from_slice(b"=\"");
        header.extend_from_slice(v);
        header.push(b'"');
    }
    header.extend_from_slice(b">\n");
    QuarantineFormat {
        header,
        footer: b"</quarantine>\n".to_vec(),
        extension: "xml".into(),
        input_extension: false,
    }
}

/// Reads the head of `src`, checks the prolog, finds the records and infers the schema
/// from the first chunk; returns the pieces to decode the rest.
pub fn start<R: Read>(
    mut src: R,
    decode: &DecodeOptions,
    opts: &XmlOptions,
    fixed_schema: bool,
) -> Result<XmlStart<std::io::Chain<Cursor<Vec<u8>>, R>>> {
    decode.validate()?;
    let head = read_head(&mut src, decode)?;
    let (path, evidence) = match &opts.record_path {
        Some(p) => (resolve_path(&head.bytes, p)?, format!("record_path={p:?}")),
        None => find_records(&head.bytes).ok_or_else(|| Error::new(ErrorKind::Empty))?,
    };
    let doc = Arc::new(doc_of(&head.prolog, path.clone()));
    let framing = XmlFraming::new(path.clone(), decode.max_record_bytes);
    let layout = XmlLayout {
        records_path: doc.path_text.clone(),
        root: String::from_utf8_lossy(head.prolog.root.as_deref().unwrap_or_default()).into_owned(),
        version: head.prolog.decl.as_ref().map(|d| d.version.clone()),
        encoding: head.prolog.decl.as_ref().and_then(|d| d.encoding.clone()),
        doctype: head.prolog.dtd.is_some(),
        evidence,
    };
    let quarantine = quarantine_format(&head.prolog);
    let mut chunker = Chunker::new(
        Cursor::new(head.bytes).chain(src),
        decode.chunk_bytes,
        Box::new(framing),
        decode.max_record_bytes,
    );
    let first = chunker
        .next_chunk()?
        .ok_or_else(|| Error::new(ErrorKind::Empty))?;
    let elem = sample(&first, &doc);
    let tolerance = decode.infer_tolerance();
    let policy = decode.schema_policy.unwrap_or(SchemaPolicy::Merge);
    let null_ok = first.last || policy != SchemaPolicy::Strict;
    let record_name = path.last().cloned().unwrap_or_default();
    let typing = shape::Typing {
        tolerance,
        null_ok,
        text: !decode.infer_types,
    };
    let root = Arc::new(shape::record_plan(&elem, &record_name, typing));
    let root = apply_given_types(root, &decode.column_types)?;
    let plan = Plan::new(root, opts.flatten);
    let first_schema = plan.schema.clone();
    let decoder = XmlDecoder {
        doc,
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
        flatten: opts.flatten,
        text_mode: !decode.infer_types,
        empty_as_null: decode.infer_types || decode.empty_as_null.unwrap_or(false),
        row_sources: decode.row_sources,
    };
    Ok(XmlStart {
        start: Start {
            chunker,
            decoder,
            first,
            quarantine,
        },
        layout,
    })
}

/// Applies the types the caller gave to top-level fields by column name; a name the
/// records do not have becomes a child element's column of that type.
pub(crate) fn apply_given_types(
    root: Arc<StructPlan>,
    given: &[(String, schema::ColumnType)],
) -> Result<Arc<StructPlan>> {
    if given.is_empty() {
        return Ok(root);
    }
    let mut fields = root.fields.clone();
    for (name, ty) in given {
        let nulls = if ty.is_typed() {
            NullTokens::ALL
        } else {
            NullTokens::EMPTY_ONLY
        };
        match fields.iter_mut().find(|f| &f.name == name) {
            Some(f) => {
                let fmt = match &f.node {
                    Node::Date(fmt) | Node::Timestamp { fmt, .. } => *fmt,
                    _ => DateFormat::ISO,
                };
                f.node = match &f.node {
                    Node::List(_) => Node::List(Box::new(Node::of_type(*ty, fmt))),
                    _ => Node::of_type(*ty, fmt),
                };
                f.nulls = nulls;
            }
            None => fields.push(FieldPlan {
                name: name.clone(),
                key: name.as_bytes().to_vec(),
                node: Node::of_type(*ty, DateFormat::ISO),
                nulls,
            }),
        }
    }
    Ok(Arc::new(StructPlan::new(fields)))
}

#[cfg(test)]
mod tests;
