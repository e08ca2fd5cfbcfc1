//! A strict JSON reader over a byte slice (RFC 8259): whitespace, strings, numbers,
//! literals, and whole values skipped with validation. The decoder drives it token by token
//! and builds columns directly, so no tree of values is ever built.
//!
//! Every function reports a [`Syntax`] error with the offset where the input stops being
//! JSON; none panics, whatever the bytes.

/// Deepest nesting of arrays and objects read; deeper input is an error (the readers
/// recurse, and a file of a million `[` must not exhaust the stack).
pub const MAX_DEPTH: usize = 512;

/// Where and why the input is not JSON (shared with the other nested formats).
pub use crate::decode::nested::build::Syntax;

/// The result of lexing.
pub type Lexed<T> = Result<T, Syntax>;

/// A number as written: its text, and whether it is an integer (no fraction, no exponent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Number<'a> {
    /// The number's text.
    pub text: &'a [u8],
    /// Written without fraction or exponent.
    pub integer: bool,
}

/// A cursor over JSON text.
#[derive(Debug, Clone)]
pub struct Lex<'a> {
    /// The text.
    pub b: &'a [u8],
    /// The next byte to read.
    pub i: usize,
}

/// Whether `c` is JSON whitespace.
#[inline]
pub fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t')
}

impl<'a> Lex<'a> {
    /// A cursor at `i` in `b`.
    pub fn new(b: &'a [u8], i: usize) -> Self {
        Lex { b, i }
    }

    /// The next byte, not consumed.
    #[inline]
    pub fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// An error at the cursor.
    #[cold]
    pub fn err<T>(&self, what: &'static str) -> Lexed<T> {
        Err(Syntax { at: self.i, what })
    }

    /// Skips whitespace; returns the next byte.
    #[inline]
    pub fn ws(&mut self) -> Option<u8> {
        while let Some(&c) = self.b.get(self.i) {
            if !is_ws(c) {
                return Some(c);
            }
            self.i += 1;
        }
        None
    }

    /// Consumes `c` (after whitespace) or fails with `what`.
    #[inline]
    pub fn expect(&mut self, c: u8, what: &'static str) -> Lexed<()> {
        if self.ws() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            self.err(what)
        }
    }

    /// Reads a string whose opening quote is at the cursor. Returns its raw bytes (between
    /// the quotes, escapes not decoded) and whether it holds escapes.
    #[inline]
    pub fn string_raw(&mut self) -> Lexed<(&'a [u8], bool)> {
        let start = self.i + 1;
        let mut pos = start;
        let mut escaped = false;
        loop {
            let rest = self.b.get(pos..).unwrap_or_default();
            let Some(k) = memchr::memchr2(b'"', b'\\', rest) else {
                self.i = self.b.len();
                return self.err("unterminated string");
            };
            let at = pos + k;
            if self.b.get(at) == Some(&b'"') {
                let raw = self.b.get(start..at).unwrap_or_default();
                // Control characters must be escaped (U+0000 to U+001F).
                if raw.iter().any(|&c| c < 0x20) {
                    let bad = raw.iter().position(|&c| c < 0x20).unwrap_or(0);
                    self.i = start + bad;
                    return self.err("control character in a string (it must be escaped)");
                }
                self.i = at + 1;
                return Ok((raw, escaped));
            }
            escaped = true;
            pos = at + 1 + self.escape_len(at + 1)?;
        }
    }

    /// Length of the escape whose letter is at `at` (after the backslash), validated.
    fn escape_len(&mut self, at: usize) -> Lexed<usize> {
        match self.b.get(at) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(1),
            Some(b'u') => {
                let hex = self.b.get(at + 1..at + 5).unwrap_or_default();
                if hex.len() == 4 && hex.iter().all(u8::is_ascii_hexdigit) {
                    Ok(5)
                } else {
                    self.i = at;
                    self.err("invalid \\u escape (four hex digits expected)")
                }
            }
            Some(_) => {
                self.i = at;
                self.err("invalid escape in a string")
            }
            None => {
                self.i = at;
                self.err("unterminated string")
            }
        }
    }

    /// Reads a string at the cursor and appends its decoded bytes to `out`.
    #[inline]
    pub fn string_into(&mut self, out: &mut Vec<u8>) -> Lexed<()> {
        let start = self.i;
        let (raw, escaped) = self.string_raw()?;
        if escaped {
            unescape(raw, out).map_err(|e| Syntax {
                at: start + 1 + e.at,
                what: e.what,
            })
        } else {
            out.extend_from_slice(raw);
            Ok(())
        }
    }

    /// Reads a number at the cursor.
    #[inline]
    pub fn number(&mut self) -> Lexed<Number<'a>> {
        let start = self.i;
        let b = self.b;
        let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while digit(i) {
                    i += 1;
                }
            }
            _ => {
                self.i = i;
                return self.err("invalid number");
            }
        }
        let mut integer = true;
        if b.get(i) == Some(&b'.') {
            integer = false;
            i += 1;
            if !digit(i) {
                self.i = i;
                return self.err("invalid number: digits expected after the point");
            }
            while digit(i) {
                i += 1;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            integer = false;
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !digit(i) {
                self.i = i;
                return self.err("invalid number: digits expected in the exponent");
            }
            while digit(i) {
                i += 1;
            }
        }
        // A number runs into the next token only through a delimiter.
        if b.get(i)
            .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-' || c == b'+')
        {
            self.i = i;
            return self.err("invalid number");
        }
        self.i = i;
        Ok(Number {
            text: b.get(start..i).unwrap_or_default(),
            integer,
        })
    }

    /// Reads the literal `word` (`true`, `false`, `null`) at the cursor.
    #[inline]
    pub fn literal(&mut self, word: &'static [u8]) -> Lexed<()> {
        let end = self.i + word.len();
        if self.b.get(self.i..end) == Some(word)
            && !self.b.get(end).is_some_and(u8::is_ascii_alphanumeric)
        {
            self.i = end;
            Ok(())
        } else {
            self.err("invalid literal (true, false or null expected)")
        }
    }

    /// Skips one whole value at the cursor (after whitespace), validating it.
    pub fn skip_value(&mut self, depth: usize) -> Lexed<()> {
        match self.ws() {
            Some(b'{') => {
                if depth >= MAX_DEPTH {
                    return self.err("nested too deeply");
                }
                self.i += 1;
                if self.ws() == Some(b'}') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    if self.ws() != Some(b'"') {
                        return self.err("object key (a string) expected");
                    }
                    self.string_raw()?;
                    self.expect(b':', "':' expected after an object key")?;
                    self.skip_value(depth + 1)?;
                    match self.ws() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => return self.err("',' or '}' expected in an object"),
                    }
                }
            }
            Some(b'[') => {
                if depth >= MAX_DEPTH {
                    return self.err("nested too deeply");
                }
                self.i += 1;
                if self.ws() == Some(b']') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    match self.ws() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => return self.err("',' or ']' expected in an array"),
                    }
                }
            }
            Some(b'"') => {
                let (raw, escaped) = self.string_raw()?;
                if escaped {
                    let start = self.i - raw.len() - 1;
                    if let Err(at) = surrogates_pair(raw) {
                        self.i = start + at;
                        return self
                            .err("lone surrogate in a \\u escape (not representable in UTF-8)");
                    }
                }
                Ok(())
            }
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number().map(drop),
            Some(_) => self.err("a JSON value expected"),
            None => self.err("a JSON value expected, found the end of the input"),
        }
    }
}

/// Checks that every UTF-16 surrogate escaped in a string's raw bytes (validated by
/// [`Lex::string_raw`]) is half of a pair; `Err`: the offset of one that is not.
fn surrogates_pair(raw: &[u8]) -> std::result::Result<(), usize> {
    let mut i = 0;
    while let Some(k) = memchr::memchr(b'\\', raw.get(i..).unwrap_or_default()) {
        let at = i + k;
        if raw.get(at + 1) != Some(&b'u') {
            i = at + 2;
            continue;
        }
        i = at + 6;
        match hex4(raw.get(at + 2..at + 6)) {
            Some(0xD800..=0xDBFF) => match (raw.get(i..i + 2), hex4(raw.get(i + 2..i + 6))) {
                (Some(b"\\u"), Some(0xDC00..=0xDFFF)) => i += 6,
                _ => return Err(at),
            },
            Some(0xDC00..=0xDFFF) => return Err(at),
            _ => {}
        }
    }
    Ok(())
}

/// Decodes the escapes of a string's raw bytes (as [`Lex::string_raw`] returned them,
/// already validated) into `out`. Offsets in errors are within `raw`.
pub fn unescape(raw: &[u8], out: &mut Vec<u8>) -> Lexed<()> {
    let mut i = 0;
    while let Some(k) = memchr::memchr(b'\\', raw.get(i..).unwrap_or_default()) {
        out.extend_from_slice(raw.get(i..i + k).unwrap_or_default());
        let at = i + k;
        let letter = raw.get(at + 1).copied();
        i = at + 2;
        let c = match letter {
            Some(b'"') => b'"',
            Some(b'\\') => b'\\',
            Some(b'/') => b'/',
            Some(b'b') => 0x08,
            Some(b'f') => 0x0C,
            Some(b'n') => b'\n',
            Some(b'r') => b'\r',
            Some(b't') => b'\t',
            Some(b'u') => {
                let hi = hex4(raw.get(at + 2..at + 6)).ok_or(Syntax {
                    at,
                    what: "invalid \\u escape",
                })?;
                i = at + 6;
                let code = if (0xD800..0xDC00).contains(&hi) {
                    // A high surrogate must be followed by an escaped low one.
                    let lo =
                        match (raw.get(i..i + 2), hex4(raw.get(i + 2..i + 6))) {
                            (Some(b"\\u"), Some(lo)) if (0xDC00..0xE000).contains(&lo) => lo,
                            _ => return Err(Syntax {
                                at,
                                what: "lone surrogate in a \\u escape (not representable in UTF-8)",
                            }),
                        };
                    i += 6;
                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                } else if (0xDC00..0xE000).contains(&hi) {
                    return Err(Syntax {
                        at,
                        what: "lone surrogate in a \\u escape (not representable in UTF-8)",
                    });
                } else {
                    hi
                };
                let ch = char::from_u32(code).ok_or(Syntax {
                    at,
                    what: "invalid \\u escape",
                })?;
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                continue;
            }
            _ => {
                return Err(Syntax {
                    at,
                    what: "invalid escape in a string",
                })
            }
        };
        out.push(c);
    }
    out.extend_from_slice(raw.get(i..).unwrap_or_default());
    Ok(())
}

fn hex4(b: Option<&[u8]>) -> Option<u32> {
    let b = b?;
    if b.len() != 4 {
        return None;
    }
    b.iter().try_fold(0u32, |acc, &c| {
        let d = char::from(c).to_digit(16)?;
        Some(acc * 16 + d)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skip(s: &str) -> Lexed<usize> {
        let mut l = Lex::new(s.as_bytes(), 0);
        l.skip_value(0)?;
        Ok(l.i)
    }

    #[test]
    fn values_are_validated_and_skipped() {
        for ok in [
            "1",
            "-0",
            "0.5",
            "1e10",
            "-1.5E-3",
            "\"a\"",
            "true",
            "false",
            "null",
            "[]",
            "{}",
            "[1, [2, {\"a\": [3]}]]",
            "{\"a\":{\"b\":null},\"c\":[true,false]}",
            "\"\\u00e9\\n\\\"\"",
        ] {
            assert_eq!(skip(ok), Ok(ok.len()), "{ok}");
        }
        for bad in [
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "+1",
            "tru",
            "nul",
            "[1,]",
            "[,1]",
            "{\"a\"}",
            "{\"a\":1,}",
            "{a:1}",
            "[1 2]",
            "\"a",
            "\"\\x\"",
            "\"\\u12\"",
            "\"a\tb\"",
            "[",
            "{",
            "",
            "1a",
            "0x1",
        ] {
            assert!(skip(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(skip(&deep).unwrap_err().what, "nested too deeply");
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(skip(&ok).is_ok());
    }

    #[test]
    fn strings_are_unescaped() {
        let mut out = Vec::new();
        let mut l = Lex::new(br#""a\"b\\c\/d\u00e9\ud83d\ude00\n""#, 0);
        l.string_into(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a\"b\\c/dé😀\n");
        for lone in [r#""\ud800""#, r#""\udc00x""#, r#""\ud800\u0041""#] {
            let mut out = Vec::new();
            assert!(
                Lex::new(lone.as_bytes(), 0).string_into(&mut out).is_err(),
                "{lone}"
            );
        }
    }

    #[test]
    fn numbers_say_whether_they_are_integers() {
        fn n(s: &str) -> Number<'_> {
            Lex::new(s.as_bytes(), 0).number().unwrap()
        }
        assert!(n("-12").integer);
        assert!(!n("1.0").integer);
        assert!(!n("1e3").integer);
        assert_eq!(n("123456789012345678901234567890").text.len(), 30);
    }
}
