//! Walking the records of a chunk: quick-xml events over the chunk's bytes, the document's
//! structure outside the records checked on the way (prolog, root, the elements that hold
//! the records, what follows the root), and each record's start handed to whoever reads
//! records (the decoder, or the sampler that infers the schema). The helpers that every
//! record reader needs are here too: attributes parsed and checked, text and references
//! turned into values, element names checked.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::Arc;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::dtd::{Context, Dtd, ExpandError};
use super::scan::{self, Closed, Nesting};
use super::wf::{self, Ref};
use crate::decode::nested::build::Fail;
use crate::error::{Error, ErrorKind, Position};
use crate::stream::Chunk;

/// What the whole document settles, shared by every chunk's decoding.
#[derive(Debug, Default)]
pub struct Doc {
    /// The names of the elements on the path to the records, the root's first.
    pub path: Vec<Vec<u8>>,
    /// The document type declaration's entities, if it has one.
    pub dtd: Option<Arc<Dtd>>,
    /// The document is XML 1.1 (`<?xml version="1.1"?>`).
    pub v11: bool,
    /// The path of the records for positions (`/catalog/book`).
    pub path_text: String,
    /// Text between elements is not data (XES): white space around text is not reported,
    /// so the reader skips the indentation between elements.
    pub trim_text: bool,
}

/// Why a record could not be read.
#[derive(Debug)]
pub enum Bad {
    /// It is not well-formed XML: where (chunk offset) and what.
    Syntax(usize, Cow<'static, str>),
    /// It does not fit the plan: a value of another type, a field the plan lacks.
    Plan(Fail),
    /// It breaks a limit no policy may pass (entity expansion): the run stops.
    Fatal(String),
}

impl From<Fail> for Bad {
    fn from(f: Fail) -> Self {
        Bad::Plan(f)
    }
}

/// The result of reading part of a record.
pub type Read<T> = std::result::Result<T, Bad>;

#[cold]
pub fn syntax<T>(at: usize, what: impl Into<Cow<'static, str>>) -> Read<T> {
    Err(Bad::Syntax(at, what.into()))
}

/// Where the walk is in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the root element.
    Prolog,
    /// Inside the root element.
    Root,
    /// After the root element.
    After,
}

/// A start tag as the slice reader gives it: the tag's bytes (name and attributes) borrowed
/// from the chunk.
#[derive(Debug, Clone, Copy)]
pub struct Tag<'a> {
    /// The bytes between `<` and `>` (or `/>`).
    pub raw: &'a [u8],
    /// Length of the name at the start of `raw`.
    pub name_len: usize,
    /// Chunk offset of the `<`.
    pub at: usize,
    /// `<name/>`.
    pub empty: bool,
}

impl<'a> Tag<'a> {
    /// The tag of a start event read at chunk offset `at`.
    /// `b` is the buffer the event was read from, `at` the offset of its `<`.
    pub fn new(e: &BytesStart<'_>, b: &'a [u8], at: usize, empty: bool) -> Self {
        // A reader that trims text starts the event at the white space before the tag.
        let at = at
            + b.get(at..)
                .unwrap_or_default()
                .iter()
                .take_while(|c| wf::is_space(**c))
                .count();
        let name_len = e.name().as_ref().len();
        let raw = b.get(at + 1..at + 1 + e.len()).unwrap_or_default();
        Tag {
            raw,
            name_len,
            at,
            empty,
        }
    }

    /// The element's name.
    #[inline]
    pub fn name(&self) -> &'a [u8] {
        self.raw.get(..self.name_len).unwrap_or_default()
    }

    /// The bytes after the name: the attributes.
    #[inline]
    pub fn attrs_raw(&self) -> &'a [u8] {
        self.raw.get(self.name_len..).unwrap_or_default()
    }
}

/// Parses the attributes of a tag into `out` as (name, raw value) pairs, checking what XML
/// requires: white space before each, `=` and a quoted value, a name that is a name, no `<`
/// in the value, no name twice.
pub fn parse_attrs<'a>(tag: &Tag<'a>, out: &mut Vec<(&'a [u8], &'a [u8])>) -> Read<()> {
    let b = tag.attrs_raw();
    let base = tag.at + 1 + tag.name_len;
    let first = out.len();
    let mut p = 0;
    let skip_space = |p: &mut usize| {
        while b.get(*p).is_some_and(|&c| wf::is_space(c)) {
            *p += 1;
        }
    };
    loop {
        let before = p;
        skip_space(&mut p);
        let Some(&c) = b.get(p) else {
            return Ok(());
        };
        if c == b'/' && p + 1 == b.len() {
            return Ok(());
        }
        if p == before {
            return syntax(base + p, "white space expected before an attribute");
        }
        let name_start = p;
        while b.get(p).is_some_and(|&c| c != b'=' && !wf::is_space(c)) {
            p += 1;
        }
        let name = b.get(name_start..p).unwrap_or_default();
        if !wf::is_name(name) {
            return syntax(base + name_start, "an attribute name expected");
        }
        skip_space(&mut p);
        if b.get(p) != Some(&b'=') {
            return syntax(base + p, "'=' expected after an attribute name");
        }
        p += 1;
        skip_space(&mut p);
        let q = match b.get(p) {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => return syntax(base + p, "an attribute value must be quoted"),
        };
        p += 1;
        let value_start = p;
        loop {
            match b.get(p) {
                None => return syntax(base + value_start, "an unterminated attribute value"),
                Some(&c) if c == q => break,
                Some(b'<') => return syntax(base + p, "'<' in an attribute value"),
                Some(_) => p += 1,
            }
        }
        let value = b.get(value_start..p).unwrap_or_default();
        p += 1;
        if out
            .get(first..)
            .unwrap_or_default()
            .iter()
            .any(|(k, _)| *k == name)
        {
            return syntax(base + name_start, "an attribute given twice");
        }
        out.push((name, value));
    }
}

/// Whether an attribute declares a namespace (`xmlns`, `xmlns:p`): not data.
#[inline]
pub fn is_xmlns(name: &[u8]) -> bool {
    name.starts_with(b"xmlns") && (name.len() == 5 || name.get(5) == Some(&b':'))
}

/// Most bytes the entity references of one record may expand to, all together: a record
/// that references a large entity many times (the "quadratic blow-up") stops here.
pub const RECORD_EXPANSION: usize = 16 << 20;

/// Reads the document-wide context a record needs to turn bytes into values.
#[derive(Debug, Clone, Copy)]
pub struct Values<'d> {
    dtd: Option<&'d Dtd>,
    v11: bool,
    /// Bytes entity references expanded to in the current record.
    expanded: &'d Cell<usize>,
}

impl<'d> Values<'d> {
    /// The value context of `doc`, counting expansions in `expanded`.
    pub fn of(doc: &'d Doc, expanded: &'d Cell<usize>) -> Self {
        Values {
            dtd: doc.dtd.as_deref(),
            v11: doc.v11,
            expanded,
        }
    }

    /// An attribute's value: `raw` itself when it holds no reference and no white space to
    /// normalise, else its value built in `scratch`.
    #[inline]
    pub fn att_value_ref<'x>(
        &self,
        raw: &'x [u8],
        at: usize,
        scratch: &'x mut Vec<u8>,
    ) -> Read<&'x [u8]> {
        if !raw
            .iter()
            .any(|&c| matches!(c, b'&' | b'\t' | b'\n' | b'\r'))
        {
            return Ok(raw);
        }
        scratch.clear();
        self.att_value(raw, at, scratch)?;
        Ok(scratch)
    }

    /// Appends an attribute's value: references expanded, white space normalised to
    /// spaces (after line ends are, so `\r\n` is one space).
    pub fn att_value(&self, raw: &[u8], at: usize, out: &mut Vec<u8>) -> Read<()> {
        if !raw
            .iter()
            .any(|&c| matches!(c, b'&' | b'\t' | b'\n' | b'\r'))
        {
            out.extend_from_slice(raw);
            return Ok(());
        }
        let mut p = 0;
        while p < raw.len() {
            let c = raw.get(p).copied().unwrap_or(b' ');
            match c {
                b'\r' => {
                    out.push(b' ');
                    if raw.get(p + 1) == Some(&b'\n') {
                        p += 1;
                    }
                }
                b'\t' | b'\n' => out.push(b' '),
                b'&' => {
                    let Some(n) = memchr::memchr(b';', raw.get(p + 1..).unwrap_or_default()) else {
                        return syntax(at, "'&' that starts no reference in an attribute value");
                    };
                    let body = raw.get(p + 1..p + 1 + n).unwrap_or_default();
                    self.reference(body, at, Context::Attribute, out)?;
                    p += n + 1;
                }
                _ => out.push(c),
            }
            p += 1;
        }
        Ok(())
    }

    /// Appends what the reference `&body;` stands for.
    pub fn reference(&self, body: &[u8], at: usize, ctx: Context, out: &mut Vec<u8>) -> Read<()> {
        match wf::reference(body, self.v11) {
            None => syntax(
                at,
                "a malformed reference (or one to a character XML does not allow)",
            ),
            Some(Ref::Char(c)) => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                Ok(())
            }
            Some(Ref::Entity(name)) => {
                if let Some(c) = wf::predefined(name) {
                    out.push(c);
                    return Ok(());
                }
                let Some(dtd) = self.dtd else {
                    return syntax(at, "a reference to an undeclared entity");
                };
                let before = out.len();
                match dtd.expand(name, ctx, out) {
                    Ok(()) => {
                        let total = self.expanded.get() + (out.len() - before);
                        self.expanded.set(total);
                        if total > RECORD_EXPANSION {
                            return Err(Bad::Fatal(format!(
                                "entity references in one record expand past {RECORD_EXPANSION} bytes: refused"
                            )));
                        }
                        Ok(())
                    }
                    Err(ExpandError::TooLarge) => Err(Bad::Fatal(format!(
                        "entity &{}; {}",
                        String::from_utf8_lossy(name),
                        ExpandError::TooLarge.what()
                    ))),
                    Err(e) => syntax(at, e.what()),
                }
            }
        }
    }

    /// Appends text content: line ends normalised to `\n`; `]]>` is not allowed in it.
    pub fn text(&self, raw: &[u8], at: usize, out: &mut Vec<u8>) -> Read<()> {
        if let Some(i) = memchr::memmem::find(raw, b"]]>") {
            return syntax(at + i, "']]>' in text");
        }
        push_normalised(raw, out);
        Ok(())
    }
}

/// Appends `raw` with `\r\n` and `\r` turned into `\n`.
pub fn push_normalised(raw: &[u8], out: &mut Vec<u8>) {
    if memchr::memchr(b'\r', raw).is_none() {
        out.extend_from_slice(raw);
        return;
    }
    let mut p = 0;
    while let Some(k) = memchr::memchr(b'\r', raw.get(p..).unwrap_or_default()) {
        out.extend_from_slice(raw.get(p..p + k).unwrap_or_default());
        out.push(b'\n');
        p += k + 1;
        if raw.get(p) == Some(&b'\n') {
            p += 1;
        }
    }
    out.extend_from_slice(raw.get(p..).unwrap_or_default());
}

/// Checks an element name (or the name of an end tag).
#[inline]
pub fn check_name(name: &[u8], at: usize) -> Read<()> {
    if wf::is_name(name) {
        Ok(())
    } else {
        syntax(at, "an element name expected")
    }
}

/// Checks a comment's content: no `--` inside and no `-` last (quick-xml checks the first).
pub fn check_comment(content: &[u8], at: usize) -> Read<()> {
    if content.ends_with(b"-") || memchr::memmem::find(content, b"--").is_some() {
        return syntax(at, "'--' inside a comment");
    }
    Ok(())
}

/// A quick-xml error as a syntax failure.
pub fn tokenizer_error<T>(e: &quick_xml::Error, at: usize) -> Read<T> {
    syntax(at, format!("not well-formed XML: {e}"))
}

/// A record's start, handed out by [`Walker::next_record`] (its line is found only when
/// needed, with [`Walker::line_at`]).
#[derive(Debug, Clone, Copy)]
pub struct RecordStart<'a> {
    /// The record element's start tag.
    pub tag: Tag<'a>,
}

/// Walks the records of one chunk; see the module docs.
pub struct Walker<'a> {
    /// The chunk's bytes.
    pub b: &'a [u8],
    rd: Reader<&'a [u8]>,
    /// Offset in `b` of the reader's slice.
    base: usize,
    doc: &'a Doc,
    nest: Nesting,
    matched: usize,
    state: State,
    /// The chunk starts the document.
    first: bool,
    last: bool,
    /// Chunk offset the document starts at (after a byte order mark).
    start: usize,
    seen_doctype: bool,
    chunk_offset: u64,
    first_line: u64,
    line: u64,
    counted: usize,
    scratch: Vec<u8>,
    attrs: Vec<(&'a [u8], &'a [u8])>,
    expanded: &'a Cell<usize>,
}

impl<'a> Walker<'a> {
    /// A walk over `chunk`: from the document's start for the first chunk, otherwise
    /// inside the records' parent, where the previous chunk was cut. `expanded` counts the
    /// bytes entity references expand to in each record.
    pub fn new(chunk: &'a Chunk, doc: &'a Doc, expanded: &'a Cell<usize>) -> Self {
        let b = chunk.bytes.as_slice();
        let first = chunk.index == 0 && chunk.offset == 0;
        let mut nest = Nesting::default();
        let (state, matched) = if first {
            (State::Prolog, 0)
        } else {
            let parents = doc.path.len().saturating_sub(1);
            for name in doc.path.iter().take(parents) {
                nest.open(name);
            }
            (
                if parents == 0 {
                    State::After
                } else {
                    State::Root
                },
                parents,
            )
        };
        let start = chunk.start.min(b.len());
        Walker {
            b,
            rd: reader(b.get(start..).unwrap_or_default(), doc.trim_text),
            base: start,
            doc,
            nest,
            matched,
            state,
            first,
            last: chunk.last,
            start,
            seen_doctype: false,
            chunk_offset: chunk.offset,
            first_line: chunk.line,
            line: chunk.line,
            counted: 0,
            scratch: Vec::new(),
            attrs: Vec::new(),
            expanded,
        }
    }

    /// Chunk offset of the next byte the reader reads.
    #[inline]
    pub fn pos(&self) -> usize {
        self.base + usize::try_from(self.rd.buffer_position()).unwrap_or(usize::MAX)
    }

    /// The 1-based line of chunk offset `at` (counted on from the last offset asked for,
    /// or from the chunk's start for an earlier one).
    pub fn line_at(&mut self, at: usize) -> u64 {
        if at < self.counted {
            self.counted = 0;
            self.line = self.first_line;
        }
        if at > self.counted {
            let seen = self.b.get(self.counted..at).unwrap_or_default();
            self.line += crate::stream::count_lines(seen);
            self.counted = at;
        }
        self.line
    }

    /// The next event inside a record (a quick-xml error is a syntax failure there).
    #[inline]
    pub fn event(&mut self) -> Read<Event<'a>> {
        let at = self.pos();
        match self.rd.read_event() {
            Ok(e) => Ok(e),
            Err(e) => tokenizer_error(&e, at),
        }
    }

    /// Goes on reading at chunk offset `at` (past a bad record).
    pub fn resume_at(&mut self, at: usize) {
        let at = at.min(self.b.len());
        self.rd = reader(self.b.get(at..).unwrap_or_default(), self.doc.trim_text);
        self.base = at;
    }

    /// A fatal error at chunk offset `at`.
    #[cold]
    pub fn error(&mut self, at: usize, what: impl Into<String>) -> Error {
        let line = self.line_at(at.min(self.b.len()));
        Error::decode(
            "xml",
            Position {
                byte: self.chunk_offset + at as u64,
                line,
                record: 0,
                path: None,
            },
            None,
            what,
        )
    }

    /// An error no policy may pass, raised from a record at `at`.
    #[cold]
    pub fn fatal(&mut self, at: usize, what: String) -> Error {
        let line = self.line_at(at.min(self.b.len()));
        let mut e = Error::new(ErrorKind::LimitExceeded(what));
        e.relocate(|p| {
            p.byte = self.chunk_offset + at as u64;
            p.line = line;
        });
        e
    }

    /// Called after a record was read to its end.
    pub fn record_done(&mut self) {
        if self.nest.depth() == 0 {
            self.state = State::After;
        }
    }

    /// The values context of the document.
    pub fn values(&self) -> Values<'a> {
        Values::of(self.doc, self.expanded)
    }

    /// The next record's start tag, reading past and checking what is between records;
    /// `None` at the end of the chunk.
    pub fn next_record(&mut self) -> crate::error::Result<Option<RecordStart<'a>>> {
        loop {
            let at = self.pos();
            let ev = match self.rd.read_event() {
                Ok(Event::Eof) => return self.end_of_chunk().map(|()| None),
                Ok(ev) => ev,
                Err(e) => {
                    let at =
                        self.base + usize::try_from(self.rd.error_position()).unwrap_or(usize::MAX);
                    return Err(self.error(at, format!("not well-formed XML: {e}")));
                }
            };
            match self.top_event(ev, at) {
                Ok(Some(r)) => return Ok(Some(r)),
                Ok(None) => {}
                Err(Bad::Syntax(at, what)) => return Err(self.error(at, what)),
                Err(Bad::Fatal(what)) => return Err(self.fatal(at, what)),
                Err(Bad::Plan(_)) => {
                    return Err(self.error(at, "internal error: a plan failure outside records"))
                }
            }
        }
    }

    fn end_of_chunk(&mut self) -> crate::error::Result<()> {
        if !self.last {
            return Ok(());
        }
        let end = self.b.len();
        match self.state {
            State::After => Ok(()),
            State::Prolog => Err(self.error(end, "no root element")),
            State::Root => Err(self.error(end, "the root element is never closed")),
        }
    }

    /// One event outside the records. `Some` for a record's start.
    fn top_event(&mut self, ev: Event<'a>, at: usize) -> Read<Option<RecordStart<'a>>> {
        match ev {
            Event::Eof => Ok(None),
            Event::Decl(d) => {
                if !(self.first && at == self.start) {
                    return syntax(at, "an XML declaration that is not at the very start");
                }
                let body = d.get(3..).unwrap_or_default();
                match wf::xml_decl(body, false) {
                    Ok(_) => Ok(None),
                    Err(what) => syntax(at, what),
                }
            }
            Event::DocType(_) => {
                if self.state != State::Prolog || self.seen_doctype {
                    return syntax(at, "a document type declaration out of place");
                }
                self.seen_doctype = true;
                Ok(None)
            }
            Event::PI(p) => {
                let raw = p.into_inner();
                match super::dtd::pi_ok(&raw) {
                    Ok(()) => Ok(None),
                    Err(what) => syntax(at, what),
                }
            }
            Event::Comment(c) => {
                check_comment(&c.into_inner(), at)?;
                Ok(None)
            }
            Event::CData(_) => {
                if self.state != State::Root {
                    return syntax(at, "a CDATA section outside the root element");
                }
                Ok(None)
            }
            Event::Text(t) => {
                let raw = t.into_inner();
                if self.state != State::Root {
                    if !wf::all_space(&raw) {
                        return syntax(at, "text outside the root element");
                    }
                    return Ok(None);
                }
                if let Some(i) = memchr::memmem::find(&raw, b"]]>") {
                    return syntax(at + i, "']]>' in text");
                }
                Ok(None)
            }
            Event::GeneralRef(r) => {
                if self.state != State::Root {
                    return syntax(at, "a reference outside the root element");
                }
                let raw = r.into_inner();
                let mut scratch = std::mem::take(&mut self.scratch);
                scratch.clear();
                let res = self
                    .values()
                    .reference(&raw, at, Context::Content, &mut scratch);
                self.scratch = scratch;
                res.map(|()| None)
            }
            Event::Start(e) => self.top_start(Tag::new(&e, self.b, at, false)),
            Event::Empty(e) => self.top_start(Tag::new(&e, self.b, at, true)),
            Event::End(e) => {
                let name = e.name();
                let name = name.as_ref();
                match self.nest.close(name, usize::MAX) {
                    Closed::Matched => {}
                    _ => {
                        return syntax(
                            at,
                            format!(
                                "end tag </{}> does not match the open element",
                                String::from_utf8_lossy(name)
                            ),
                        )
                    }
                }
                let depth = self.nest.depth();
                self.matched = self.matched.min(depth);
                if depth == 0 {
                    self.state = State::After;
                }
                Ok(None)
            }
        }
    }

    fn top_start(&mut self, tag: Tag<'a>) -> Read<Option<RecordStart<'a>>> {
        let name = tag.name();
        check_name(name, tag.at)?;
        let depth = self.nest.depth();
        if depth == 0 {
            if self.state != State::Prolog {
                return syntax(tag.at, "a second root element: the document has ended");
            }
            self.state = State::Root;
        }
        if depth >= super::frame::MAX_DEPTH {
            return Err(Bad::Fatal(format!(
                "XML elements nested more than {} deep",
                super::frame::MAX_DEPTH
            )));
        }
        let on_path = self.matched == depth && self.doc.path.get(depth).is_some_and(|n| n == name);
        if on_path && depth + 1 == self.doc.path.len() {
            self.expanded.set(0);
            return Ok(Some(RecordStart { tag }));
        }
        // An element outside the records: checked, not read.
        let mut attrs = std::mem::take(&mut self.attrs);
        attrs.clear();
        let res = parse_attrs(&tag, &mut attrs).and_then(|()| {
            let values = self.values();
            let mut scratch = std::mem::take(&mut self.scratch);
            let mut res = Ok(());
            for (_, v) in &attrs {
                scratch.clear();
                res = values.att_value(v, tag.at, &mut scratch);
                if res.is_err() {
                    break;
                }
            }
            self.scratch = scratch;
            res
        });
        attrs.clear();
        self.attrs = attrs;
        res?;
        if on_path {
            self.matched = depth + 1;
        }
        if tag.empty {
            if depth == 0 {
                self.state = State::After;
            }
            self.matched = self.matched.min(depth);
        } else {
            self.nest.open(name);
        }
        Ok(None)
    }

    /// The records' element name.
    pub fn record_name(&self) -> &'a [u8] {
        self.doc.path.last().map_or(&[][..], Vec::as_slice)
    }

    /// Skips the element whose start tag is at chunk offset `at` (a bad record), as the
    /// framing delimits it, and goes on after it.
    pub fn skip_element(&mut self, at: usize) -> usize {
        let end = scan::element_end(self.b, at);
        self.resume_at(end);
        end
    }
}

/// A quick-xml reader over `b`, configured for reading records: comments checked, end
/// names checked by the record readers themselves (a chunk starts inside elements the
/// reader never saw open); with `trim`, white space around text is left out (and white
/// space alone is no event).
fn reader(b: &[u8], trim: bool) -> Reader<&[u8]> {
    let mut rd = Reader::from_reader(b);
    let cfg = rd.config_mut();
    cfg.check_comments = true;
    cfg.check_end_names = false;
    cfg.allow_unmatched_ends = true;
    cfg.expand_empty_elements = false;
    cfg.trim_text(trim);
    rd
}
