//! Where XML markup starts and ends, found without parsing it: the structural scan the
//! framing ([`super::frame`]) cuts records with, and the decoder finds a bad record's end
//! with. It follows tags (quoted attribute values included), comments, CDATA sections,
//! processing instructions and the document type declaration, so a `<` or `>` inside any of
//! them is never taken for a tag.

/// One piece of markup, starting at a `<`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Markup {
    /// A start tag `<name ...>`, or an empty-element tag `<name .../>` (`empty`). `name` is
    /// the range of its name in the buffer.
    Start {
        /// Start and end of the name.
        name: (usize, usize),
        /// `<name/>`: the element ends here too.
        empty: bool,
    },
    /// An end tag `</name>`.
    End {
        /// Start and end of the name.
        name: (usize, usize),
    },
    /// `<!-- ... -->`.
    Comment,
    /// `<? ... ?>` (the XML declaration included).
    Pi,
    /// `<![CDATA[ ... ]]>`.
    CData,
    /// `<!DOCTYPE ...>`, with its internal subset.
    Doctype,
    /// Anything else after a `<` (`<!x`, `< a`, `<1`): not XML, skipped to the next `>`.
    Other,
}

/// What [`markup`] found at a `<`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// The markup and the offset just past its end.
    Markup(Markup, usize),
    /// The buffer ends inside it.
    Incomplete,
}

/// Whether `c` ends an element name in a tag.
#[inline]
fn ends_name(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'/' | b'>')
}

/// The markup starting at the `<` at `at`.
pub fn markup(b: &[u8], at: usize) -> Found {
    let Some(&next) = b.get(at + 1) else {
        return Found::Incomplete;
    };
    match next {
        b'/' => {
            let from = at + 2;
            match memchr::memchr(b'>', b.get(from..).unwrap_or_default()) {
                None => Found::Incomplete,
                Some(k) => {
                    let gt = from + k;
                    let rest = b.get(from..gt).unwrap_or_default();
                    let len = rest
                        .iter()
                        .position(|&c| ends_name(c))
                        .unwrap_or(rest.len());
                    Found::Markup(
                        Markup::End {
                            name: (from, from + len),
                        },
                        gt + 1,
                    )
                }
            }
        }
        b'?' => match find(b, at + 2, b"?>") {
            None => Found::Incomplete,
            Some(end) => Found::Markup(Markup::Pi, end + 2),
        },
        b'!' => bang(b, at),
        c if c.is_ascii_whitespace() || c == b'>' || c == b'<' => {
            match memchr::memchr(b'>', b.get(at + 1..).unwrap_or_default()) {
                None => Found::Incomplete,
                Some(k) => Found::Markup(Markup::Other, at + 1 + k + 1),
            }
        }
        _ => start_tag(b, at),
    }
}

/// `<!--`, `<![CDATA[`, `<!DOCTYPE` or other `<!` markup at `at`.
fn bang(b: &[u8], at: usize) -> Found {
    let rest = b.get(at..).unwrap_or_default();
    let is = |prefix: &[u8]| -> Option<bool> {
        if rest.len() >= prefix.len() {
            Some(rest.starts_with(prefix))
        } else if prefix.starts_with(rest) {
            None
        } else {
            Some(false)
        }
    };
    match is(b"<!--") {
        None => return Found::Incomplete,
        Some(true) => {
            return match find(b, at + 4, b"-->") {
                None => Found::Incomplete,
                Some(end) => Found::Markup(Markup::Comment, end + 3),
            }
        }
        Some(false) => {}
    }
    match is(b"<![CDATA[") {
        None => return Found::Incomplete,
        Some(true) => {
            return match find(b, at + 9, b"]]>") {
                None => Found::Incomplete,
                Some(end) => Found::Markup(Markup::CData, end + 3),
            }
        }
        Some(false) => {}
    }
    match is(b"<!DOCTYPE") {
        None => return Found::Incomplete,
        Some(true) => {
            return match doctype_end(b, at + 9) {
                None => Found::Incomplete,
                Some(end) => Found::Markup(Markup::Doctype, end),
            }
        }
        Some(false) => {}
    }
    match memchr::memchr(b'>', b.get(at + 2..).unwrap_or_default()) {
        None => Found::Incomplete,
        Some(k) => Found::Markup(Markup::Other, at + 2 + k + 1),
    }
}

/// The start tag at `at`: its name, and its end past the `>` that is outside quoted
/// attribute values. Tags are short: a plain byte loop beats searching.
fn start_tag(b: &[u8], at: usize) -> Found {
    let from = at + 1;
    let mut p = from;
    loop {
        match b.get(p) {
            None => return Found::Incomplete,
            Some(&c) if ends_name(c) => break,
            Some(_) => p += 1,
        }
    }
    let name = (from, p);
    // The first `>` ends the tag unless it is inside a quoted value: with quotes of one kind
    // only, an even number of them before it says it is not (most tags); otherwise follow
    // the quotes byte by byte.
    let Some(k) = memchr::memchr(b'>', b.get(p..).unwrap_or_default()) else {
        return Found::Incomplete;
    };
    let gt = p + k;
    let (mut double, mut single) = (0u32, 0u32);
    for &c in b.get(p..gt).unwrap_or_default() {
        double += u32::from(c == b'"');
        single += u32::from(c == b'\'');
    }
    if (single == 0 && double % 2 == 0) || (double == 0 && single % 2 == 0) {
        let empty = gt > name.1 && b.get(gt - 1) == Some(&b'/');
        return Found::Markup(Markup::Start { name, empty }, gt + 1);
    }
    let mut quote = 0u8;
    while let Some(&c) = b.get(p) {
        if quote != 0 {
            if c == quote {
                quote = 0;
            }
        } else if c == b'"' || c == b'\'' {
            quote = c;
        } else if c == b'>' {
            let empty = p > name.1 && b.get(p - 1) == Some(&b'/');
            return Found::Markup(Markup::Start { name, empty }, p + 1);
        }
        p += 1;
    }
    Found::Incomplete
}

/// The end of a document type declaration whose body starts at `p` (after `<!DOCTYPE`):
/// just past its `>`, following quoted literals and the internal subset (its comments,
/// processing instructions and literals may hold `]` and `>`).
pub fn doctype_end(b: &[u8], mut p: usize) -> Option<usize> {
    let mut subset = false;
    while let Some(&c) = b.get(p) {
        match c {
            b'"' | b'\'' => {
                p = p + 1 + memchr::memchr(c, b.get(p + 1..)?)? + 1;
                continue;
            }
            b'[' if !subset => subset = true,
            b']' if subset => subset = false,
            b'<' if subset => {
                let rest = b.get(p..)?;
                if rest.len() < 4 && b"<!--".starts_with(rest) {
                    return None;
                }
                if rest.starts_with(b"<!--") {
                    p = find(b, p + 4, b"-->")? + 3;
                    continue;
                }
                if rest.starts_with(b"<?") {
                    p = find(b, p + 2, b"?>")? + 2;
                    continue;
                }
            }
            b'>' if !subset => return Some(p + 1),
            _ => {}
        }
        p += 1;
    }
    None
}

/// The first `needle` in `b` at or after `from`.
#[inline]
pub fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(b.get(from..)?, needle).map(|k| from + k)
}

/// The names of the open elements, innermost last.
#[derive(Debug, Default, Clone)]
pub struct Nesting {
    bytes: Vec<u8>,
    starts: Vec<usize>,
}

/// What an end tag did to the open elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// It closed the innermost element, as it should.
    Matched,
    /// It named an element further out (above `floor`): those inside it are closed with it
    /// (the record they are in is malformed).
    Recovered,
    /// It names no open element above `floor`: ignored (the record is malformed).
    Stray,
    /// No element above `floor` is open, or it names another than the innermost and
    /// `floor` allows no recovery.
    Mismatch,
}

impl Nesting {
    /// Open elements.
    #[inline]
    pub fn depth(&self) -> usize {
        self.starts.len()
    }

    /// The name of the open element at `i` (0: the outermost).
    pub fn name(&self, i: usize) -> &[u8] {
        let start = self.starts.get(i).copied().unwrap_or(0);
        let end = self.starts.get(i + 1).copied().unwrap_or(self.bytes.len());
        self.bytes.get(start..end).unwrap_or_default()
    }

    /// Opens an element.
    #[inline]
    pub fn open(&mut self, name: &[u8]) {
        self.starts.push(self.bytes.len());
        self.bytes.extend_from_slice(name);
    }

    /// Closes elements down to `depth` open ones.
    pub fn truncate(&mut self, depth: usize) {
        if let Some(&start) = self.starts.get(depth) {
            self.bytes.truncate(start);
            self.starts.truncate(depth);
        }
    }

    /// Closes the element `name` ends. Elements at depth `floor` and below (the record
    /// and what holds it) are never closed by recovery: a mismatch there is
    /// [`Closed::Mismatch`] when `floor` reaches the innermost element.
    pub fn close(&mut self, name: &[u8], floor: usize) -> Closed {
        let depth = self.depth();
        if depth == 0 {
            return Closed::Mismatch;
        }
        if self.name(depth - 1) == name {
            self.truncate(depth - 1);
            return Closed::Matched;
        }
        if depth <= floor.saturating_add(1) {
            return Closed::Mismatch;
        }
        match (floor..depth - 1).rev().find(|&i| self.name(i) == name) {
            Some(i) => {
                self.truncate(i);
                Closed::Recovered
            }
            None => Closed::Stray,
        }
    }
}

/// The end of the element whose start tag is at `at` (just past its end tag), scanning as
/// the framing does, with the same recovery from mismatched end tags; `b.len()` when the
/// buffer ends first.
pub fn element_end(b: &[u8], at: usize) -> usize {
    element_end_within(b, at, None)
}

/// [`element_end`] of an element inside a record named `record`: an end tag of the record
/// that closes no element inside ends the element just before it, as the framing's recovery
/// ends the record there (so a skip never runs past the record's end into the next).
pub fn element_end_within(b: &[u8], at: usize, record: Option<&[u8]>) -> usize {
    let mut nest = Nesting::default();
    let mut p = at;
    while let Some(k) = memchr::memchr(b'<', b.get(p..).unwrap_or_default()) {
        let lt = p + k;
        match markup(b, lt) {
            Found::Incomplete => return b.len(),
            Found::Markup(m, end) => {
                p = end;
                match m {
                    Markup::Start { name, empty } => {
                        if !empty {
                            nest.open(b.get(name.0..name.1).unwrap_or_default());
                        } else if nest.depth() == 0 {
                            return end;
                        }
                    }
                    Markup::End { name } => {
                        let n = b.get(name.0..name.1).unwrap_or_default();
                        // The element itself (depth 1) may be closed by recovery.
                        match nest.close(n, 0) {
                            Closed::Stray | Closed::Mismatch if record == Some(n) => return lt,
                            _ => {}
                        }
                        if nest.depth() == 0 {
                            return end;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Markup, String)> {
        let b = text.as_bytes();
        let mut out = Vec::new();
        let mut p = 0;
        while let Some(k) = memchr::memchr(b'<', &b[p..]) {
            match markup(b, p + k) {
                Found::Incomplete => break,
                Found::Markup(m, end) => {
                    out.push((m, text[p + k..end].to_string()));
                    p = end;
                }
            }
        }
        out
    }

    #[test]
    fn markup_is_found_whole() {
        let text = r#"<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "]>"> <!-- ]> --> <?p ]>?>]><a x="1>2" y='/'><b/><!-- <c> --><![CDATA[<d>]]></a>"#;
        let got = kinds(text);
        let shapes: Vec<&str> = got.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(
            shapes,
            [
                r#"<?xml version="1.0"?>"#,
                r#"<!DOCTYPE a [<!ENTITY e "]>"> <!-- ]> --> <?p ]>?>]>"#,
                r#"<a x="1>2" y='/'>"#,
                "<b/>",
                "<!-- <c> -->",
                "<![CDATA[<d>]]>",
                "</a>"
            ]
        );
        assert!(matches!(got[2].0, Markup::Start { empty: false, .. }));
        assert!(matches!(got[3].0, Markup::Start { empty: true, .. }));
    }

    #[test]
    fn cut_markup_is_incomplete() {
        let text = r#"<a x="1>2"><!-- x --><![CDATA[ ]]></a>"#;
        for end in 1..text.len() {
            let b = &text.as_bytes()[..end];
            let mut p = 0;
            while let Some(k) = memchr::memchr(b'<', &b[p..]) {
                match markup(b, p + k) {
                    Found::Incomplete => break,
                    Found::Markup(_, e) => {
                        assert!(e <= end);
                        p = e;
                    }
                }
            }
        }
        assert_eq!(markup(b"<!-", 0), Found::Incomplete);
        assert_eq!(markup(b"<![CDA", 0), Found::Incomplete);
    }

    #[test]
    fn an_element_inside_a_record_ends_at_the_record_end() {
        let b = b"<t><e><l><v></t><t><e/></t>";
        assert_eq!(element_end_within(b, 3, Some(b"t")), 12);
        // Without the record's name the skip runs on into the next record.
        assert_eq!(element_end(b, 3), b.len());
        // The same with only the element itself open.
        let b = b"<e><e></e></t><t/>";
        assert_eq!(element_end_within(b, 0, Some(b"t")), 10);
        // An element of the record's name inside closes as usual.
        let b = b"<e><t></t></e></t>";
        assert_eq!(element_end_within(b, 0, Some(b"t")), 14);
    }

    #[test]
    fn element_end_recovers_from_an_unclosed_child() {
        let b = b"<r><a>1</r><r>2</r>";
        assert_eq!(element_end(b, 0), 11);
        let b = b"<r><a>1</a></x><b/></r>tail";
        assert_eq!(element_end(b, 0), 23);
        assert_eq!(element_end(b"<r/>x", 0), 4);
        assert_eq!(element_end(b"<r><a>", 0), 6);
    }
}
