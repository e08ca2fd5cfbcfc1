//! Where the records of a JSON document end, found without decoding them: a structural scan
//! that follows strings and brackets and knows the depth at which records sit (the elements
//! of the records array, or top-level values one after another). The chunker cuts after a
//! record's end, so chunks hold whole records and decode in parallel.
//!
//! The scan also checks the document's structure at the record level (commas between
//! elements, no trailing comma, brackets that match, nothing after the document): a document
//! broken there has no later record to resynchronise on, so the error stops the run. What is
//! inside a record is checked by the decoder, record by record.

use crate::error::{Error, ErrorKind, Position, Result};
use crate::stream::Framing;

/// Deepest nesting the scan follows.
const MAX_NESTING: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first record (just after the array opened, or at the document start).
    First,
    /// Inside a scalar record (a number or literal), which ends at a delimiter.
    Scalar,
    /// After a record.
    After,
    /// After a comma between records.
    Comma,
}

/// The structural scan; see the module docs.
#[derive(Debug)]
pub struct DocFraming {
    /// Open containers (`[` or `{`), innermost last.
    stack: Vec<u8>,
    /// Depth of the containers records are in: 0 for top-level values one after another.
    record_depth: usize,
    /// Records are array elements (separated by commas), not top-level values.
    in_array: bool,
    state: State,
    /// The records array has closed: the rest of the document follows, with no records.
    suffix: bool,
    in_string: bool,
    /// The previous byte scanned was a backslash inside a string.
    escape: bool,
    /// Bytes of the current buffer scanned.
    scanned: usize,
    /// Just past the last record end found in the current buffer.
    last_end: Option<usize>,
    max_record: usize,
}

impl DocFraming {
    /// Framing for top-level values one after another (a single document, or concatenated
    /// JSON values), from the start of the input.
    pub fn values(max_record: usize) -> Self {
        DocFraming {
            stack: Vec::new(),
            record_depth: 0,
            in_array: false,
            state: State::First,
            suffix: false,
            in_string: false,
            escape: false,
            scanned: 0,
            last_end: None,
            max_record,
        }
    }

    /// Framing for the elements of an array that opens just before input offset `start`,
    /// inside the containers `enclosing` (outermost first): `[]` for a top-level array,
    /// `[b'{']` for `{"items": [...]}`. The bytes before `start` are not scanned again.
    pub fn array(start: usize, enclosing: &[u8], max_record: usize) -> Self {
        let mut stack = enclosing.to_vec();
        stack.push(b'[');
        DocFraming {
            record_depth: stack.len(),
            stack,
            in_array: true,
            scanned: start,
            ..DocFraming::values(max_record)
        }
    }

    #[cold]
    fn error(at: usize, what: impl Into<String>) -> Error {
        Error::decode(
            "json",
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

    /// A record ends just before `at`. Top-level values are cut where they end; array
    /// elements after their comma.
    fn record_end(&mut self, at: usize) {
        self.state = State::After;
        if !self.in_array {
            self.last_end = Some(at);
        }
    }

    /// A value starts at `at` at the record level.
    fn record_start(&mut self, at: usize) -> Result<()> {
        match (self.state, self.in_array) {
            (State::First | State::Comma, _) | (State::After, false) => Ok(()),
            (State::Scalar, false) => {
                self.record_end(at);
                Ok(())
            }
            _ => Err(Self::error(
                at,
                "',' or ']' expected between array elements",
            )),
        }
    }

    fn at_records(&self) -> bool {
        !self.suffix && self.stack.len() == self.record_depth
    }

    /// Scans `buf` from where the last call stopped.
    fn scan(&mut self, buf: &[u8]) -> Result<()> {
        let mut p = self.scanned;
        while p < buf.len() {
            if self.in_string {
                if self.escape {
                    self.escape = false;
                    p += 1;
                    continue;
                }
                let rest = buf.get(p..).unwrap_or_default();
                match memchr::memchr2(b'"', b'\\', rest) {
                    None => {
                        p = buf.len();
                    }
                    Some(k) => {
                        let at = p + k;
                        if buf.get(at) == Some(&b'\\') {
                            self.escape = true;
                        } else {
                            self.in_string = false;
                            if self.at_records() {
                                self.record_end(at + 1);
                            }
                        }
                        p = at + 1;
                    }
                }
                continue;
            }
            let c = buf.get(p).copied().unwrap_or(b' ');
            match c {
                b' ' | b'\n' | b'\r' | b'\t' => {
                    if self.state == State::Scalar && self.at_records() {
                        self.record_end(p);
                    }
                }
                b'"' => {
                    if self.at_records() {
                        self.record_start(p)?;
                        self.state = State::Scalar;
                    } else if self.suffix && self.stack.is_empty() {
                        return Err(Self::error(p, "data after the end of the JSON document"));
                    }
                    self.in_string = true;
                }
                b'{' | b'[' => {
                    if self.at_records() {
                        self.record_start(p)?;
                        self.state = State::Scalar;
                    } else if self.suffix && self.stack.is_empty() {
                        return Err(Self::error(p, "data after the end of the JSON document"));
                    }
                    if self.stack.len() >= MAX_NESTING {
                        return Err(Self::error(p, "nested too deeply"));
                    }
                    self.stack.push(c);
                }
                b'}' | b']' => {
                    if self.at_records() {
                        if !self.in_array || c != b']' {
                            return Err(Self::error(p, "unexpected closing bracket"));
                        }
                        match self.state {
                            State::Comma => {
                                return Err(Self::error(p, "trailing comma before ']'"));
                            }
                            State::Scalar => self.record_end(p),
                            State::First | State::After => {}
                        }
                        self.stack.pop();
                        self.suffix = true;
                    } else {
                        let open = if c == b'}' { b'{' } else { b'[' };
                        match self.stack.pop() {
                            Some(o) if o == open => {}
                            Some(_) => return Err(Self::error(p, "mismatched closing bracket")),
                            None => return Err(Self::error(p, "unexpected closing bracket")),
                        }
                        if self.at_records() {
                            self.record_end(p + 1);
                        }
                    }
                }
                b',' => {
                    if self.at_records() {
                        if !self.in_array {
                            return Err(Self::error(p, "unexpected ',' between JSON values"));
                        }
                        match self.state {
                            State::After | State::Scalar => {
                                if self.state == State::Scalar {
                                    self.record_end(p);
                                }
                                self.state = State::Comma;
                                // Chunks end after the comma: the next starts with a record.
                                self.last_end = Some(p + 1);
                            }
                            State::First | State::Comma => {
                                return Err(Self::error(p, "a value expected before ','"));
                            }
                        }
                    } else if self.suffix && self.stack.is_empty() {
                        return Err(Self::error(p, "data after the end of the JSON document"));
                    }
                }
                _ => {
                    if self.at_records() {
                        if self.state != State::Scalar {
                            self.record_start(p)?;
                            self.state = State::Scalar;
                        }
                    } else if self.suffix && self.stack.is_empty() {
                        return Err(Self::error(p, "data after the end of the JSON document"));
                    }
                }
            }
            p += 1;
        }
        // Past the bytes not scanned again (the start of an array's first buffer).
        self.scanned = p;
        Ok(())
    }
}

impl Framing for DocFraming {
    fn cut_point(&mut self, buf: &[u8]) -> Result<Option<usize>> {
        self.scan(buf)?;
        // Top-level values end chunks where they end; array elements after their comma.
        let cut = self.last_end.filter(|&e| e > 0);
        if cut.is_none() && buf.len() > self.max_record {
            return Err(Error::new(ErrorKind::LimitExceeded(format!(
                "a JSON record runs past {} bytes",
                self.max_record
            ))));
        }
        Ok(cut)
    }

    fn cut_at(&mut self, at: usize) {
        self.scanned = self.scanned.saturating_sub(at);
        self.last_end = None;
    }

    fn lone_cr_ends_lines(&self) -> bool {
        false
    }

    fn finish(&mut self, rest: &[u8]) -> Result<()> {
        self.scan(rest)?;
        let end = rest.len();
        if self.in_string {
            return Err(Self::error(
                end,
                "unterminated string at the end of the input",
            ));
        }
        if self.in_array && !self.suffix {
            return Err(Self::error(
                end,
                "the records array is never closed (the input ends inside it)",
            ));
        }
        if !self.stack.is_empty() {
            return Err(Self::error(
                end,
                "the JSON document is never closed (the input ends inside it)",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The records of `text` as the chunker would cut them with buffers of `step` bytes.
    fn cuts(mut f: DocFraming, text: &str, step: usize) -> Result<Vec<String>> {
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
    fn array_elements_are_cut_after_their_comma() {
        let text = r#"[{"a": "x,]\"}"}, [1, {"b": [2]}], 3, "s"]"#;
        for step in 1..text.len() {
            let got = cuts(DocFraming::array(1, &[], 1 << 20), text, step).unwrap();
            assert_eq!(got.concat(), text, "{step}");
            for piece in &got[..got.len() - 1] {
                assert!(piece.ends_with(','), "{step}: {got:?}");
            }
        }
        let whole = cuts(DocFraming::array(1, &[], 1 << 20), text, 1).unwrap();
        assert_eq!(whole.len(), 4, "{whole:?}");
    }

    #[test]
    fn records_inside_an_object() {
        let text = r#"{"meta": {"n": [1]}, "items": [{"a": 1}, {"a": 2}], "total": 2}"#;
        let start = text.find("[{").unwrap() + 1;
        let got = cuts(DocFraming::array(start, b"{", 1 << 20), text, 7).unwrap();
        assert_eq!(got.concat(), text);
        assert!(got.len() >= 2);
    }

    #[test]
    fn concatenated_values_are_cut_where_they_end() {
        let text = "{\"a\":1}{\"a\":2}\n[3]\n\"x\" 12 true";
        let got = cuts(DocFraming::values(1 << 20), text, 3).unwrap();
        assert_eq!(got.concat(), text);
        assert!(got.len() >= 4, "{got:?}");
    }

    #[test]
    fn broken_structure_is_an_error() {
        for (text, start) in [
            ("[1,]", 1),
            ("[,1]", 1),
            ("[1 2]", 1),
            ("[1", 1),
            ("[{\"a\": 1]", 1),
            ("[1]]", 1),
            ("[1] 2", 1),
            ("[\"abc", 1),
        ] {
            assert!(
                cuts(DocFraming::array(start, &[], 1 << 20), text, 2).is_err(),
                "{text}"
            );
        }
        for text in ["{\"a\": 1", "]", "{\"a\": 1}}", "1, 2"] {
            assert!(
                cuts(DocFraming::values(1 << 20), text, 2).is_err(),
                "{text}"
            );
        }
    }

    #[test]
    fn a_record_past_the_limit_is_an_error() {
        let text = format!("[[{}], 1]", ["[1, 2, 3]"; 20].join(", "));
        let err = cuts(DocFraming::array(1, &[], 64), &text, 16).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::LimitExceeded(_)), "{err}");
    }
}
