//! Where the records of an XML document end, found without parsing them: a structural scan
//! over the markup ([`super::scan`]) that follows the open elements and knows the path the
//! records are at (`catalog/book`, `log/trace`). The chunker cuts just after a record's end
//! tag, so every chunk but the first starts inside the records' parent element, holds whole
//! records, and decodes on its own, in parallel with the others.
//!
//! The scan also checks the document's structure outside the records: end tags that match
//! their start tags, one root element, nothing but markup after it. A document broken
//! there has no later record to resynchronise on, so the error stops the run. Inside a
//! record, an end tag that names an element further out closes the elements inside it
//! (`<book><title>x</book>` ends the book), and one that names no open element is passed
//! over: the record is bad (the decoder says why), the records after it are read.

use super::scan::{self, Closed, Found, Markup, Nesting};
use crate::error::{Error, ErrorKind, Position, Result};
use crate::stream::Framing;

/// Deepest nesting of elements followed.
pub const MAX_DEPTH: usize = 10_000;

/// The structural scan; see the module docs.
#[derive(Debug)]
pub struct XmlFraming {
    /// The names of the elements on the path to the records, root first.
    path: Vec<Vec<u8>>,
    nest: Nesting,
    /// How many of the open elements, from the root, are those of `path`.
    matched: usize,
    /// The root element was seen, and has closed.
    root_seen: bool,
    root_closed: bool,
    /// Bytes of the current buffer scanned.
    scanned: usize,
    /// Just past the last record end found in the current buffer.
    last_end: Option<usize>,
    max_record: usize,
}

impl XmlFraming {
    /// Framing from the start of the document for records at `path` (element names, the
    /// root's first; `[root]` alone makes the root element the one record).
    pub fn new(path: Vec<Vec<u8>>, max_record: usize) -> Self {
        XmlFraming {
            path,
            nest: Nesting::default(),
            matched: 0,
            root_seen: false,
            root_closed: false,
            scanned: 0,
            last_end: None,
            max_record,
        }
    }

    #[cold]
    fn error(at: usize, what: impl Into<String>) -> Error {
        Error::decode(
            "xml",
            Position {
                byte: at as u64,
                line: 0,
                record: 0,
                path: None,
            },
            None,
            what,
        )
    }

    /// Whether the innermost open elements are inside a record (or are the record).
    #[inline]
    fn in_record(&self) -> bool {
        self.matched == self.path.len() && self.nest.depth() >= self.path.len()
    }

    /// Scans `buf` from where the last call stopped.
    fn scan(&mut self, buf: &[u8]) -> Result<()> {
        let mut p = self.scanned;
        while let Some(k) = memchr::memchr(b'<', buf.get(p..).unwrap_or_default()) {
            let lt = p + k;
            let (m, end) = match scan::markup(buf, lt) {
                Found::Incomplete => {
                    self.scanned = lt;
                    return Ok(());
                }
                Found::Markup(m, end) => (m, end),
            };
            p = end;
            match m {
                Markup::Start { name, empty } => {
                    let name = buf.get(name.0..name.1).unwrap_or_default();
                    self.start(name, empty, lt, end)?;
                }
                Markup::End { name } => {
                    let name = buf.get(name.0..name.1).unwrap_or_default();
                    self.end(name, lt, end)?;
                }
                Markup::Doctype if self.root_seen => {
                    return Err(Self::error(
                        lt,
                        "a document type declaration after the root element",
                    ));
                }
                _ => {}
            }
        }
        self.scanned = buf.len();
        Ok(())
    }

    fn start(&mut self, name: &[u8], empty: bool, lt: usize, end: usize) -> Result<()> {
        let depth = self.nest.depth();
        if depth == 0 {
            if self.root_seen {
                return Err(Self::error(
                    lt,
                    "a second root element: the document has ended",
                ));
            }
            self.root_seen = true;
        }
        if depth >= MAX_DEPTH {
            return Err(Error::new(ErrorKind::LimitExceeded(format!(
                "XML elements nested more than {MAX_DEPTH} deep"
            ))));
        }
        if self.matched == depth && self.path.get(depth).is_some_and(|n| n == name) {
            self.matched = depth + 1;
        }
        let is_record = self.matched == self.path.len() && depth + 1 == self.path.len();
        if empty {
            if depth == 0 {
                self.root_closed = true;
            }
            if is_record {
                self.last_end = Some(end);
            }
            self.matched = self.matched.min(depth);
        } else {
            self.nest.open(name);
        }
        Ok(())
    }

    fn end(&mut self, name: &[u8], lt: usize, end: usize) -> Result<()> {
        let records = self.path.len();
        if self.in_record() {
            // Recovery may close the record itself, not what holds it.
            match self.nest.close(name, records.saturating_sub(1)) {
                Closed::Matched | Closed::Recovered => {}
                Closed::Stray | Closed::Mismatch => return Ok(()),
            }
        } else {
            match self.nest.close(name, usize::MAX) {
                Closed::Matched => {}
                _ => {
                    let open = self.nest.depth().checked_sub(1).map(|d| self.nest.name(d));
                    return Err(Self::error(
                        lt,
                        match open {
                            Some(open) => format!(
                                "end tag </{}> where </{}> is expected",
                                String::from_utf8_lossy(name),
                                String::from_utf8_lossy(open)
                            ),
                            None => format!(
                                "end tag </{}> with no element open",
                                String::from_utf8_lossy(name)
                            ),
                        },
                    ));
                }
            }
        }
        let depth = self.nest.depth();
        if self.matched == records && depth + 1 == records {
            self.last_end = Some(end);
        }
        self.matched = self.matched.min(depth);
        if depth == 0 {
            self.root_closed = true;
        }
        Ok(())
    }
}

impl Framing for XmlFraming {
    fn cut_point(&mut self, buf: &[u8]) -> Result<Option<usize>> {
        self.scan(buf)?;
        let cut = self.last_end.filter(|&e| e > 0);
        if cut.is_none() && buf.len() > self.max_record {
            return Err(Error::new(ErrorKind::LimitExceeded(format!(
                "an XML record runs past {} bytes",
                self.max_record
            ))));
        }
        Ok(cut)
    }

    fn cut_at(&mut self, at: usize) {
        self.scanned = self.scanned.saturating_sub(at);
        self.last_end = None;
    }

    fn finish(&mut self, rest: &[u8]) -> Result<()> {
        self.scan(rest)?;
        let end = rest.len();
        if self.scanned < end {
            return Err(Self::error(
                self.scanned,
                "the input ends inside markup (a tag, comment or section never closed)",
            ));
        }
        if !self.root_seen {
            return Err(Self::error(end, "no root element"));
        }
        if !self.root_closed {
            let open = self.nest.name(0);
            return Err(Self::error(
                end,
                format!(
                    "the root element <{}> is never closed (the input ends inside it)",
                    String::from_utf8_lossy(open)
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Vec<Vec<u8>> {
        p.split('/').map(|s| s.as_bytes().to_vec()).collect()
    }

    /// The pieces of `text` as the chunker would cut them with buffers of `step` bytes.
    fn cuts(mut f: XmlFraming, text: &str, step: usize) -> Result<Vec<String>> {
        let b = text.as_bytes();
        let mut out = Vec::new();
        let mut start = 0;
        let mut end = step.min(b.len());
        loop {
            let buf = &b[start..end];
            if end == b.len() {
                f.finish(buf)?;
                out.push(String::from_utf8_lossy(buf).into_owned());
                return Ok(out);
            }
            match f.cut_point(buf)? {
                Some(c) => {
                    f.cut_at(c);
                    out.push(String::from_utf8_lossy(&buf[..c]).into_owned());
                    start += c;
                    end = (start + step).min(b.len()).max(end);
                }
                None => end = (end + step).min(b.len()),
            }
        }
    }

    #[test]
    fn records_are_cut_after_their_end_tag() {
        let text = r#"<?xml version="1.0"?><!-- <book> --><catalog><title>t</title><book id="1"><t>a</t></book><book id="2"/><x><book>no</book></x><book><![CDATA[</book>]]></book></catalog>"#;
        for step in 1..text.len() {
            let got = cuts(XmlFraming::new(path("catalog/book"), 1 << 20), text, step).unwrap();
            assert_eq!(got.concat(), text, "{step}");
            for piece in &got[..got.len() - 1] {
                assert!(
                    piece.ends_with("</book>") || piece.ends_with("<book id=\"2\"/>"),
                    "{step}: {got:?}"
                );
                assert!(!piece.ends_with("<book>no</book>"), "{step}: {got:?}");
            }
        }
        let whole = cuts(XmlFraming::new(path("catalog/book"), 1 << 20), text, 1).unwrap();
        assert_eq!(whole.len(), 4, "{whole:?}");
    }

    #[test]
    fn a_record_with_an_unclosed_child_still_ends() {
        let text = "<r><a><b>1</a><a>2</a></r>";
        let got = cuts(XmlFraming::new(path("r/a"), 1 << 20), text, 1).unwrap();
        assert_eq!(got, ["<r><a><b>1</a>", "<a>2</a>", "</r>"]);
    }

    #[test]
    fn broken_structure_is_an_error() {
        for text in [
            "<r><a/></x>",
            "<r><a/>",
            "<r/><r/>",
            "<r><a/></r></r>",
            "",
            "<r><a x='1/></r>",
            "<r><!-- never closed",
        ] {
            assert!(
                cuts(XmlFraming::new(path("r/a"), 1 << 20), text, 2).is_err(),
                "{text}"
            );
        }
    }

    #[test]
    fn a_record_past_the_limit_is_an_error() {
        let text = format!("<r><a>{}</a><a/></r>", "x".repeat(200));
        let err = cuts(XmlFraming::new(path("r/a"), 64), &text, 16).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::LimitExceeded(_)), "{err}");
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let text = "<a>".repeat(MAX_DEPTH + 5);
        let err = cuts(XmlFraming::new(path("a/b"), usize::MAX), &text, 4096).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::LimitExceeded(_)), "{err}");
    }
}
