//! A tolerant record splitter used to try candidate dialects.
//!
//! Unlike the decoder's tokenizer it never fails: stray characters after a closing quote, an
//! unterminated quote, odd line endings are all recorded as evidence (an `anomaly` on the
//! field) and parsing goes on. Fields are byte ranges into the sample; nothing is copied.

use memchr::{memchr2, memchr3};

/// One field of a parsed record.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    /// Start of the content (inside the quotes for a quoted field).
    pub start: usize,
    /// End of the content (exclusive).
    pub end: usize,
    /// Opened and closed by the quote character.
    pub quoted: bool,
    /// Quoting went wrong: text after the closing quote, or no closing quote.
    pub anomaly: bool,
}

/// One parsed record.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record {
    /// Index of the first field in [`Parsed::fields`].
    pub first: usize,
    /// Number of fields.
    pub len: usize,
    /// Physical line (0-based) the record starts on.
    pub line: usize,
    /// Byte offset of the record start.
    pub start: usize,
    /// Byte offset of the record end (before its terminator).
    pub end: usize,
    /// Ended by a line terminator (the last record of a cut sample is not).
    pub complete: bool,
    /// An empty line.
    pub blank: bool,
    /// A line starting with `#` (when `#` is not the delimiter).
    pub comment: bool,
}

/// Records and fields of a sample under one dialect. Reused between candidates.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    /// Records in order.
    pub records: Vec<Record>,
    /// Fields of all records, in order.
    pub fields: Vec<Field>,
}

impl Parsed {
    /// The fields of a record.
    pub fn fields_of(&self, r: &Record) -> &[Field] {
        self.fields
            .get(r.first..r.first.saturating_add(r.len))
            .unwrap_or_default()
    }
}

/// How to split.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Split {
    /// The delimiter (its last byte, for a two-byte one).
    pub delimiter: u8,
    /// The first byte of a two-byte delimiter (`§`: C2 A7).
    pub lead: Option<u8>,
    pub quote: Option<u8>,
    pub escape: Option<u8>,
}

impl Split {
    /// The length of the delimiter at `text[i..]`, if one starts there.
    fn delimiter_at(&self, text: &[u8], i: usize) -> Option<usize> {
        match self.lead {
            None => (text.get(i) == Some(&self.delimiter)).then_some(1),
            Some(l) => {
                (text.get(i) == Some(&l) && text.get(i + 1) == Some(&self.delimiter)).then_some(2)
            }
        }
    }

    /// Where the unquoted field starting at `i` ends: the next delimiter or line break.
    fn field_end(&self, text: &[u8], i: usize) -> usize {
        let n = text.len();
        let mut from = i;
        loop {
            let rest = text.get(from..).unwrap_or_default();
            let Some(k) = memchr3(self.delimiter, b'\n', b'\r', rest) else {
                return n;
            };
            let j = from + k;
            match self.lead {
                // The second byte of a two-byte delimiter: the field ends at its first.
                Some(l) if text.get(j) == Some(&self.delimiter) => {
                    if j > i && text.get(j - 1) == Some(&l) {
                        return j - 1;
                    }
                    from = j + 1;
                }
                _ => return j,
            }
        }
    }
}

fn count_breaks(s: &[u8]) -> usize {
    let lf = memchr::memchr_iter(b'\n', s).count();
    let cr_alone = memchr::memchr_iter(b'\r', s)
        .filter(|&i| s.get(i + 1) != Some(&b'\n'))
        .count();
    lf + cr_alone
}

/// Splits `text` into at most `max_records` records.
pub(crate) fn parse(text: &[u8], sp: Split, max_records: usize, out: &mut Parsed) {
    out.records.clear();
    out.fields.clear();
    let n = text.len();
    let d = sp.delimiter;
    let mut i = 0usize;
    let mut line = 0usize;
    while i < n && out.records.len() < max_records {
        let start = i;
        let rec_line = line;
        let first = out.fields.len();
        let b0 = text.get(i).copied().unwrap_or(b'\n');
        if b0 == b'\n' || b0 == b'\r' {
            i += 1;
            if b0 == b'\r' && text.get(i) == Some(&b'\n') {
                i += 1;
            }
            line += 1;
            out.records.push(Record {
                first,
                len: 0,
                line: rec_line,
                start,
                end: start,
                complete: true,
                blank: true,
                comment: false,
            });
            continue;
        }
        if b0 == b'#' && d != b'#' {
            let rest = text.get(i..).unwrap_or_default();
            let (end, complete) = match memchr2(b'\n', b'\r', rest) {
                Some(k) => (i + k, true),
                None => (n, false),
            };
            i = end + 1;
            if text.get(end) == Some(&b'\r') && text.get(i) == Some(&b'\n') {
                i += 1;
            }
            line += 1;
            out.records.push(Record {
                first,
                len: 0,
                line: rec_line,
                start,
                end,
                complete,
                blank: false,
                comment: true,
            });
            continue;
        }
        let mut complete = false;
        let mut end;
        loop {
            // One field starting at i.
            let mut q_at = None;
            if let Some(q) = sp.quote {
                if text.get(i) == Some(&q) {
                    q_at = Some(i);
                } else if d != b' ' && text.get(i) == Some(&b' ') {
                    // `a, "b"`: a quoted field after spaces.
                    let sp_end = text
                        .get(i..)
                        .and_then(|r| r.iter().position(|&c| c != b' '))
                        .map(|k| i + k);
                    if let Some(k) = sp_end {
                        if text.get(k) == Some(&q) {
                            q_at = Some(k);
                        }
                    }
                }
            }
            if let (Some(qpos), Some(q)) = (q_at, sp.quote) {
                i = qpos + 1;
                let cstart = i;
                let mut cend = n;
                let mut anomaly = false;
                let mut closed = false;
                loop {
                    let rest = text.get(i..).unwrap_or_default();
                    let hit = match sp.escape {
                        Some(e) if e != q => memchr2(q, e, rest),
                        _ => memchr::memchr(q, rest),
                    };
                    let Some(k) = hit else {
                        line += count_breaks(rest);
                        i = n;
                        anomaly = true;
                        break;
                    };
                    let j = i + k;
                    line += count_breaks(rest.get(..k).unwrap_or_default());
                    if Some(text.get(j).copied().unwrap_or(0)) == sp.escape && sp.escape != Some(q)
                    {
                        i = j + 2;
                        if i > n {
                            i = n;
                        }
                        continue;
                    }
                    if text.get(j + 1) == Some(&q) {
                        i = j + 2;
                        continue;
                    }
                    cend = j;
                    i = j + 1;
                    closed = true;
                    break;
                }
                if closed {
                    // Spaces after the closing quote are tolerated.
                    while d != b' ' && text.get(i) == Some(&b' ') {
                        i += 1;
                    }
                    match text.get(i) {
                        None => {}
                        Some(&c) if c == b'\n' || c == b'\r' => {}
                        Some(_) if sp.delimiter_at(text, i).is_some() => {}
                        Some(_) => {
                            anomaly = true;
                            i = sp.field_end(text, i);
                            cend = i;
                        }
                    }
                } else {
                    cend = n;
                }
                out.fields.push(Field {
                    start: cstart,
                    end: cend.max(cstart),
                    quoted: true,
                    anomaly,
                });
            } else {
                let e = sp.field_end(text, i);
                out.fields.push(Field {
                    start: i,
                    end: e,
                    quoted: false,
                    anomaly: false,
                });
                i = e;
            }
            end = i;
            if let Some(len) = sp.delimiter_at(text, i) {
                i += len;
                if i >= n {
                    out.fields.push(Field {
                        start: n,
                        end: n,
                        quoted: false,
                        anomaly: false,
                    });
                    end = n;
                    break;
                }
                continue;
            }
            match text.get(i) {
                None => break,
                Some(&c) => {
                    i += 1;
                    if c == b'\r' && text.get(i) == Some(&b'\n') {
                        i += 1;
                    }
                    line += 1;
                    complete = true;
                    break;
                }
            }
        }
        out.records.push(Record {
            first,
            len: out.fields.len() - first,
            line: rec_line,
            start,
            end,
            complete,
            blank: false,
            comment: false,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str, d: u8, q: Option<u8>, e: Option<u8>) -> Vec<Vec<String>> {
        let mut p = Parsed::default();
        parse(
            text.as_bytes(),
            Split {
                delimiter: d,
                lead: None,
                quote: q,
                escape: e,
            },
            100,
            &mut p,
        );
        p.records
            .iter()
            .map(|r| {
                p.fields_of(r)
                    .iter()
                    .map(|f| {
                        let s = String::from_utf8_lossy(
                            text.as_bytes().get(f.start..f.end).unwrap_or_default(),
                        );
                        format!(
                            "{}{}{}",
                            if f.quoted { "Q" } else { "" },
                            if f.anomaly { "!" } else { "" },
                            s
                        )
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn splits() {
        assert_eq!(
            split("a,b\n1,2", b',', Some(b'"'), None),
            [vec!["a", "b"], vec!["1", "2"]]
        );
        assert_eq!(
            split("\"x,\ny\",2\r\n\n#c\n", b',', Some(b'"'), None),
            [vec!["Qx,\ny", "2"], vec![], vec![]]
        );
        assert_eq!(
            split("\"a\"b,c\n", b',', Some(b'"'), None),
            [vec!["Q!a\"b", "c"]]
        );
        assert_eq!(
            split("\"a\\\"b\",c\n", b',', Some(b'"'), Some(b'\\')),
            [vec!["Qa\\\"b", "c"]]
        );
        assert_eq!(
            split("\"open,\n", b',', Some(b'"'), None),
            [vec!["Q!open,\n"]]
        );
        assert_eq!(
            split("a, \"b,c\"\n", b',', Some(b'"'), None),
            [vec!["a", "Qb,c"]]
        );
        assert_eq!(split("a,\n", b',', None, None), [vec!["a", ""]]);
        assert_eq!(split("a,", b',', None, None), [vec!["a", ""]]);
        let mut p = Parsed::default();
        parse(
            b"a\rb\r\"c\rd\"\re",
            Split {
                delimiter: b',',
                lead: None,
                quote: Some(b'"'),
                escape: None,
            },
            10,
            &mut p,
        );
        let lines: Vec<usize> = p.records.iter().map(|r| r.line).collect();
        assert_eq!(lines, [0, 1, 2, 4]);
        assert!(!p.records.last().is_some_and(|r| r.complete));
    }
}
