//! The well-formedness rules of XML 1.0 (fifth edition) that a tokenizer does not check:
//! which characters may appear, what a name is, how references and the XML declaration are
//! written. Each check is a pure function over bytes that are already UTF-8.

/// Whether `c` may start a name (XML 1.0 fifth edition, production 4).
#[inline]
pub fn is_name_start(c: char) -> bool {
    matches!(c,
        ':' | 'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

/// Whether `c` may appear in a name after its first character (production 4a).
#[inline]
pub fn is_name_char(c: char) -> bool {
    is_name_start(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// How an ASCII byte may appear in a name: 3 may start one, 2 may follow, 0 neither.
#[inline]
const fn ascii_name_class(b: u8) -> u8 {
    if b.is_ascii_alphabetic() || b == b'_' || b == b':' {
        3
    } else if b.is_ascii_digit() || b == b'-' || b == b'.' {
        2
    } else {
        0
    }
}

/// Whether `b` is a `Name` (production 5).
#[inline]
pub fn is_name(b: &[u8]) -> bool {
    let Some(&first) = b.first() else {
        return false;
    };
    let class = |c: u8| ascii_name_class(c & 0x7F);
    if first < 0x80 && class(first) & 1 != 0 {
        let mut ascii = true;
        let mut ok = true;
        for &c in b {
            ascii &= c < 0x80;
            ok &= class(c) != 0;
        }
        if ascii {
            return ok;
        }
    } else if first < 0x80 {
        return false;
    }
    let Ok(s) = std::str::from_utf8(b) else {
        return false;
    };
    let mut chars = s.chars();
    chars.next().is_some_and(is_name_start) && chars.all(is_name_char)
}

/// Whether `b` is an `Nmtoken` (production 7): name characters only.
pub fn is_nmtoken(b: &[u8]) -> bool {
    match std::str::from_utf8(b) {
        Ok(s) => !s.is_empty() && s.chars().all(is_name_char),
        Err(_) => false,
    }
}

/// Whether `c` is a `Char` of XML 1.0 (production 2).
#[inline]
pub fn is_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Whether `c` is a character XML 1.1 allows only as a character reference (its
/// `RestrictedChar`, production 2a).
#[inline]
pub fn is_restricted_11(c: char) -> bool {
    matches!(c, '\u{1}'..='\u{8}' | '\u{B}'..='\u{C}' | '\u{E}'..='\u{1F}' | '\u{7F}'..='\u{84}' | '\u{86}'..='\u{9F}')
}

/// The offsets (from `base`) of characters XML does not allow in `b` (UTF-8): control
/// characters other than tab, line feed and carriage return, U+FFFE and U+FFFF, and with
/// `v11` the C1 controls XML 1.1 restricts. Fast for the common case: one pass over the
/// bytes finds none.
pub fn bad_chars(b: &[u8], base: usize, v11: bool, out: &mut Vec<usize>) {
    // Bytes that may start a bad character: C0 controls, 0x7F, the lead of C1 controls
    // (C2) and of U+FFFE / U+FFFF (EF). The scan for them works on blocks of 32 bytes
    // without branches, so the compiler vectorises it.
    let suspect = |c: u8| {
        (c < 0x20 && c != b'\t' && c != b'\n' && c != b'\r')
            || c == 0xEF
            || (v11 && (c == 0x7F || c == 0xC2))
    };
    // One byte, without branches (vectorised over a block).
    let flag = |c: u8| -> u8 {
        let control =
            u8::from(c < 0x20) & u8::from(c != b'\t') & u8::from(c != b'\n') & u8::from(c != b'\r');
        control
            | u8::from(c == 0xEF)
            | (u8::from(v11) & (u8::from(c == 0x7F) | u8::from(c == 0xC2)))
    };
    let block_suspect = |block: &[u8]| match <&[u8; 64]>::try_from(block) {
        Ok(full) => full.iter().fold(0u8, |acc, &c| acc | flag(c)) != 0,
        Err(_) => block.iter().any(|&c| flag(c) != 0),
    };
    let mut at = 0;
    for block in b.chunks(64) {
        if block_suspect(block) {
            for (i, &c) in block.iter().enumerate() {
                if !suspect(c) {
                    continue;
                }
                let k = at + i;
                let bad = match c {
                    0xEF => {
                        b.get(k + 1) == Some(&0xBF) && matches!(b.get(k + 2), Some(&(0xBE | 0xBF)))
                    }
                    0xC2 => b
                        .get(k + 1)
                        .is_some_and(|&n| (0x80..=0x9F).contains(&n) && n != 0x85),
                    _ => true,
                };
                if bad {
                    out.push(base + k);
                }
            }
        }
        at += block.len();
    }
}

/// What a reference (`&name;`, `&#N;`, `&#xH;`) between `&` and `;` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ref<'a> {
    /// A character reference to a character XML allows.
    Char(char),
    /// An entity reference by name.
    Entity(&'a [u8]),
}

/// Reads the body of a reference (between `&` and `;`). `None` when it is malformed or
/// names a character XML does not allow (`&#0;`, `&#xD800;`). With `v11`, XML 1.1's
/// restricted characters are allowed as references (that is how 1.1 writes them).
pub fn reference(body: &[u8], v11: bool) -> Option<Ref<'_>> {
    if let Some(num) = body.strip_prefix(b"#") {
        let (digits, radix) = match num.strip_prefix(b"x") {
            Some(hex) => (hex, 16),
            None => (num, 10),
        };
        if digits.is_empty() || !digits.iter().all(|&d| char::from(d).is_digit(radix)) {
            return None;
        }
        // Leading zeros are allowed, as many as written.
        let significant = digits.get(digits.iter().take_while(|&&d| d == b'0').count()..)?;
        if significant.len() > 8 {
            return None;
        }
        let text = std::str::from_utf8(significant).ok()?;
        let n = if text.is_empty() {
            0
        } else {
            u32::from_str_radix(text, radix).ok()?
        };
        let c = char::from_u32(n)?;
        let allowed = is_char(c) || (v11 && c != '\0' && is_restricted_11(c));
        return allowed.then_some(Ref::Char(c));
    }
    is_name(body).then_some(Ref::Entity(body))
}

/// The value of one of the five entities every XML document has (`amp`, `lt`, `gt`,
/// `apos`, `quot`).
pub fn predefined(name: &[u8]) -> Option<u8> {
    Some(match name {
        b"amp" => b'&',
        b"lt" => b'<',
        b"gt" => b'>',
        b"apos" => b'\'',
        b"quot" => b'"',
        _ => return None,
    })
}

/// What an XML declaration (`<?xml ...?>`) says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XmlDecl {
    /// `1.0` or `1.1`.
    pub version: String,
    /// The encoding label, as written.
    pub encoding: Option<String>,
    /// `standalone="yes"`.
    pub standalone: Option<bool>,
}

/// Reads the content of an XML declaration (or a text declaration, `text`: the version
/// is then optional and `standalone` not allowed), between `<?xml` and `?>`. `Err` says
/// what is wrong.
pub fn xml_decl(body: &[u8], text: bool) -> Result<XmlDecl, &'static str> {
    let mut decl = XmlDecl::default();
    let mut p = 0;
    let mut seen = 0u8;
    loop {
        let ws = body
            .get(p..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| is_space(**c))
            .count();
        p += ws;
        if p >= body.len() {
            break;
        }
        if ws == 0 {
            return Err(
                "white space expected between the pseudo-attributes of the XML declaration",
            );
        }
        let rest = body.get(p..).unwrap_or_default();
        let name_len = rest
            .iter()
            .position(|&c| c == b'=' || is_space(c))
            .unwrap_or(rest.len());
        let name = rest.get(..name_len).unwrap_or_default();
        p += name_len;
        p += body
            .get(p..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| is_space(**c))
            .count();
        if body.get(p) != Some(&b'=') {
            return Err("'=' expected in the XML declaration");
        }
        p += 1;
        p += body
            .get(p..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| is_space(**c))
            .count();
        let quote = match body.get(p) {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => return Err("a quoted value expected in the XML declaration"),
        };
        let Some(len) = body.get(p + 1..).and_then(|r| memchr::memchr(quote, r)) else {
            return Err("an unterminated value in the XML declaration");
        };
        let value = body.get(p + 1..p + 1 + len).unwrap_or_default();
        p += len + 2;
        let v = String::from_utf8_lossy(value).into_owned();
        match name {
            b"version" if seen == 0 => {
                let ok = value.len() >= 3
                    && value.starts_with(b"1.")
                    && value
                        .get(2..)
                        .is_some_and(|d| d.iter().all(u8::is_ascii_digit));
                if !ok {
                    return Err("the XML version must be written 1.x");
                }
                decl.version = v;
                seen = 1;
            }
            b"encoding" if seen <= 1 && (seen == 1 || text) => {
                let ok = value.first().is_some_and(u8::is_ascii_alphabetic)
                    && value
                        .iter()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'));
                if !ok {
                    return Err("an invalid encoding name in the XML declaration");
                }
                decl.encoding = Some(v);
                seen = 2;
            }
            b"standalone" if !text && (seen == 1 || seen == 2) => {
                decl.standalone = Some(match value {
                    b"yes" => true,
                    b"no" => false,
                    _ => return Err("standalone must be \"yes\" or \"no\""),
                });
                seen = 3;
            }
            _ => return Err("an unexpected pseudo-attribute in the XML declaration"),
        }
    }
    if text {
        if decl.encoding.is_none() {
            return Err("a text declaration must name the encoding");
        }
    } else if seen == 0 {
        return Err("the XML declaration must give the version");
    }
    Ok(decl)
}

/// XML white space (production 3).
#[inline]
pub fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// Whether `b` is all white space.
pub fn all_space(b: &[u8]) -> bool {
    b.iter().all(|&c| is_space(c))
}

/// The part of a qualified name after its prefix (`dc:creator` -> `creator`).
pub fn local_name(name: &[u8]) -> &[u8] {
    match memchr::memchr(b':', name) {
        Some(i) => name.get(i + 1..).unwrap_or_default(),
        None => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["a", "_x", "a-b.c", "dc:creator", "é", "名前", "a\u{B7}"] {
            assert!(is_name(ok.as_bytes()), "{ok}");
        }
        for bad in ["", "1a", "-a", "a b", "a<", ".x", "\u{B7}a"] {
            assert!(!is_name(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn characters() {
        let mut out = Vec::new();
        bad_chars(
            "a\tb\u{7}c\u{FFFE}d\u{FFFD}".as_bytes(),
            10,
            false,
            &mut out,
        );
        assert_eq!(out, [13, 15]);
        out.clear();
        bad_chars("\u{80}\u{85}".as_bytes(), 0, true, &mut out);
        assert_eq!(out, [0]);
    }

    #[test]
    fn references() {
        assert_eq!(reference(b"#65", false), Some(Ref::Char('A')));
        assert_eq!(reference(b"#x41", false), Some(Ref::Char('A')));
        assert_eq!(reference(b"amp", false), Some(Ref::Entity(b"amp")));
        assert_eq!(
            reference(b"#000000000000000065", false),
            Some(Ref::Char('A'))
        );
        for bad in [
            b"#000",
            &b"#"[..],
            b"#x",
            b"#0",
            b"#xD800",
            b"#X41",
            b"#1a",
            b"1a",
            b"",
            b"#x110000",
        ] {
            assert_eq!(
                reference(bad, false),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(reference(b"#1", true), Some(Ref::Char('\u{1}')));
    }

    #[test]
    fn declarations() {
        let d = xml_decl(
            b" version=\"1.0\" encoding='UTF-8' standalone=\"yes\"",
            false,
        )
        .unwrap();
        assert_eq!(d.version, "1.0");
        assert_eq!(d.encoding.as_deref(), Some("UTF-8"));
        assert_eq!(d.standalone, Some(true));
        for bad in [
            &b""[..],
            b" encoding=\"UTF-8\"",
            b" version=\"1.0\"encoding=\"UTF-8\"",
            b" version=\"2.0\"",
            b" version=\"1.0\" standalone=\"maybe\"",
            b" standalone=\"yes\" version=\"1.0\"",
            b" version=\"1.0\" version=\"1.0\"",
            b" version='1.0\"",
        ] {
            assert!(
                xml_decl(bad, false).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(xml_decl(b" encoding=\"UTF-8\"", true).is_ok());
    }
}
