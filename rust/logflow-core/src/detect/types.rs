//! Cheap cell classification for dialect scoring and header detection.
//!
//! Looser than [`crate::schema`]: the question here is "does this look like a whole value?",
//! not "which Arrow type decodes it". Numbers in `1,234.5` and `1.234,5` styles, dates and
//! times in common shapes, booleans, null words, URLs, e-mails and short codes all count.

/// What a cell looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CellKind {
    /// Empty (or only spaces).
    Empty,
    /// A null word: `NA`, `N/A`, `null`, `None`, `NaN`, `-`, ...
    Null,
    /// A number (integer, decimal, thousands separators, exponent, %, currency).
    Number,
    /// A date, a time or both.
    DateTime,
    /// `true`, `false`, `yes`, `no`.
    Bool,
    /// A URL or an e-mail address.
    Link,
    /// Words: letters, digits, spaces and light punctuation.
    Word,
    /// Anything else (fragments of a wrongly split field, stray quotes, ...).
    Other,
}

impl CellKind {
    /// Whether the cell is a known type (counts for the dialect type score).
    pub(crate) fn known(self) -> bool {
        self != CellKind::Other
    }

    /// Typed values: what a header cell above them usually is not.
    pub(crate) fn typed(self) -> bool {
        matches!(self, CellKind::Number | CellKind::DateTime | CellKind::Bool)
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t'))
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !matches!(c, b' ' | b'\t'))
        .map_or(start, |e| e + 1);
    b.get(start..end).unwrap_or_default()
}

/// Classifies a cell (raw bytes of an unquoted field, or the inside of a quoted one).
pub(crate) fn classify(cell: &[u8]) -> CellKind {
    let c = trim(cell);
    // Nothing, or an empty string written in quotes that this reading does not strip: a
    // lone '' must not be the only evidence for quoting with apostrophes.
    if c.is_empty() || c == b"''" || c == b"\"\"" {
        return CellKind::Empty;
    }
    if is_null_word(c) {
        return CellKind::Null;
    }
    if is_number(c) {
        return CellKind::Number;
    }
    if is_datetime(c) {
        return CellKind::DateTime;
    }
    if is_bool(c) {
        return CellKind::Bool;
    }
    if is_link(c) {
        return CellKind::Link;
    }
    if is_words(c) {
        return CellKind::Word;
    }
    CellKind::Other
}

fn eq_any(c: &[u8], words: &[&[u8]]) -> bool {
    words.iter().any(|w| c.eq_ignore_ascii_case(w))
}

fn is_null_word(c: &[u8]) -> bool {
    eq_any(
        c,
        &[
            b"na", b"n/a", b"n.a.", b"nan", b"null", b"none", b"nil", b"-", b"--", b"?", b"#n/a",
            b"missing", b".",
        ],
    )
}

fn is_bool(c: &[u8]) -> bool {
    eq_any(c, &[b"true", b"false", b"yes", b"no"])
}

/// Numbers: sign, currency, digits with optional grouping (`,` `.` `'` space `_`), one
/// decimal mark (`.` or `,`), exponent, trailing `%` or currency.
pub(crate) fn is_number(c: &[u8]) -> bool {
    let mut s = c;
    // Currency symbols (UTF-8 for € £ ¥) and sign, either order.
    for _ in 0..2 {
        s = strip_currency_prefix(s);
        if let Some(rest) = s.strip_prefix(b"-").or_else(|| s.strip_prefix(b"+")) {
            s = rest;
        }
    }
    for suffix in [&b"%"[..], "€".as_bytes(), b"$"] {
        if let Some(rest) = s.strip_suffix(suffix) {
            s = trim(rest);
        }
    }
    // Exponent.
    let mantissa = match s.iter().position(|&b| b == b'e' || b == b'E') {
        Some(i) => {
            let exp = s.get(i + 1..).unwrap_or_default();
            let exp = exp
                .strip_prefix(b"-")
                .or_else(|| exp.strip_prefix(b"+"))
                .unwrap_or(exp);
            if exp.is_empty() || !exp.iter().all(u8::is_ascii_digit) {
                return false;
            }
            s.get(..i).unwrap_or_default()
        }
        None => s,
    };
    if mantissa.is_empty() || mantissa.len() > 40 {
        return false;
    }
    let digits = mantissa.iter().filter(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return false;
    }
    if !mantissa
        .iter()
        .all(|&b| b.is_ascii_digit() || matches!(b, b',' | b'.' | b'\'' | b' ' | b'_'))
    {
        return false;
    }
    if !mantissa
        .first()
        .is_some_and(|b| b.is_ascii_digit() || *b == b'.' || *b == b',')
        || !mantissa.last().is_some_and(u8::is_ascii_digit)
    {
        return false;
    }
    // Split into digit groups by separators and check the grouping: the last separator may be
    // a decimal mark; every earlier separator is the same grouping mark with 3-digit groups.
    let mut groups: Vec<(usize, u8)> = Vec::new(); // (digits in group, separator before it)
    let mut run = 0usize;
    let mut sep_before = 0u8;
    for &b in mantissa {
        if b.is_ascii_digit() {
            run += 1;
        } else {
            groups.push((run, sep_before));
            sep_before = b;
            run = 0;
            if groups.len() > 12 {
                return false;
            }
        }
    }
    groups.push((run, sep_before));
    if groups.len() == 1 {
        return true;
    }
    let (last_len, last_sep) = groups.last().copied().unwrap_or((0, 0));
    let first_len = groups.first().map_or(0, |g| g.0);
    let middle = groups.get(1..groups.len() - 1).unwrap_or_default();
    let grouped = |sep: u8, groups: &[(usize, u8)]| groups.iter().all(|&(n, s)| n == 3 && s == sep);
    // Only separators are grouping marks: 1,234,567 / 1.234.567 / 1 234 567 / 1'234'567.
    if (1..=3).contains(&first_len) && last_len == 3 && grouped(last_sep, middle) {
        return true;
    }
    // Last separator is a decimal mark ('.' or ','), earlier ones group with another mark.
    if matches!(last_sep, b'.' | b',') {
        if middle.is_empty() {
            // 12.5 / 12,5 / .5 / ,5
            return true;
        }
        let group_sep = middle.first().map_or(0, |g| g.1);
        return group_sep != last_sep && (1..=3).contains(&first_len) && grouped(group_sep, middle);
    }
    false
}

fn strip_currency_prefix(s: &[u8]) -> &[u8] {
    for sym in [
        "$".as_bytes(),
        "€".as_bytes(),
        "£".as_bytes(),
        "¥".as_bytes(),
    ] {
        if let Some(rest) = s.strip_prefix(sym) {
            return trim(rest);
        }
    }
    s
}

const MONTHS: [&[u8]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];

/// Dates and times: digit groups joined by `-` `/` `.` `:` `T` and spaces, with optional
/// fraction, `Z`/offset, AM/PM and month names (`12 Jan 2024`, `Jan 12, 2024`).
pub(crate) fn is_datetime(c: &[u8]) -> bool {
    if c.len() < 4 || c.len() > 40 {
        return false;
    }
    let mut digit_groups = 0usize;
    let mut digits = 0usize;
    let mut run = 0usize;
    let mut date_seps = 0usize;
    let mut time_seps = 0usize;
    let mut month = false;
    // Minutes and seconds have two digits: a run right after a colon must too.
    let mut run_after_colon = false;
    let mut i = 0usize;
    while let Some(&b) = c.get(i) {
        if b.is_ascii_digit() {
            if run == 0 {
                run_after_colon = i > 0 && c.get(i - 1) == Some(&b':');
            }
            run += 1;
            digits += 1;
            if (run > 4 && time_seps < 2) || run > 9 {
                return false;
            }
            i += 1;
            continue;
        }
        if run > 0 {
            if run_after_colon && run != 2 {
                return false;
            }
            digit_groups += 1;
            run = 0;
        }
        match b {
            b'-' | b'/' => date_seps += 1,
            // In a time a colon has two digits after it, never another colon or a sign.
            b':' if !c.get(i + 1).is_some_and(u8::is_ascii_digit) => return false,
            b'.' => {
                if time_seps == 0 {
                    date_seps += 1;
                }
            }
            b':' => time_seps += 1,
            b' ' | b'T' | b'Z' | b'+' | b',' => {}
            _ if b.is_ascii_alphabetic() => {
                let word_end = c
                    .get(i..)
                    .and_then(|r| r.iter().position(|x| !x.is_ascii_alphabetic()))
                    .map_or(c.len(), |p| p + i);
                let word = c.get(i..word_end).unwrap_or_default();
                let ok = if word.len() >= 3 {
                    let head = word.get(..3).unwrap_or_default();
                    let is_month = MONTHS.iter().any(|m| head.eq_ignore_ascii_case(m));
                    month |= is_month;
                    is_month
                        || eq_any(
                            word,
                            &[
                                b"utc", b"gmt", b"mon", b"tue", b"wed", b"thu", b"fri", b"sat",
                                b"sun",
                            ],
                        )
                        || eq_any(
                            head,
                            &[b"mon", b"tue", b"wed", b"thu", b"fri", b"sat", b"sun"],
                        )
                } else {
                    eq_any(
                        word,
                        &[b"am", b"pm", b"t", b"z", b"h", b"st", b"nd", b"rd", b"th"],
                    )
                };
                if !ok {
                    return false;
                }
                i = word_end;
                continue;
            }
            _ => return false,
        }
        i += 1;
    }
    if run > 0 {
        if run_after_colon && run != 2 {
            return false;
        }
        digit_groups += 1;
    }
    // A date has at most three numbers; more with no time in them is a date and a value
    // (`2024-09-06 389.2`).
    if digits == 0 || (time_seps == 0 && digit_groups > 3) {
        return false;
    }
    let date_like = date_seps >= 2 && digit_groups >= 3 || month && digit_groups >= 1;
    let time_like = time_seps >= 1 && digit_groups >= 2;
    date_like || time_like
}

fn is_link(c: &[u8]) -> bool {
    let lower_starts = |p: &[u8]| c.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    if lower_starts(b"http://")
        || lower_starts(b"https://")
        || lower_starts(b"ftp://")
        || lower_starts(b"www.")
    {
        return !c.contains(&b' ') && !c.contains(&b'"');
    }
    // e-mail: local@domain.tld
    if let Some(at) = c.iter().position(|&b| b == b'@') {
        let (local, domain) = (
            c.get(..at).unwrap_or_default(),
            c.get(at + 1..).unwrap_or_default(),
        );
        return !local.is_empty()
            && domain.contains(&b'.')
            && c.iter().filter(|&&b| b == b'@').count() == 1
            && c.iter().all(|&b| {
                b.is_ascii_alphanumeric() || matches!(b, b'@' | b'.' | b'_' | b'-' | b'+')
            });
    }
    false
}

/// Words: starts with a letter, digit or a few openers; then letters (any script), digits,
/// spaces and light punctuation. No quotes of either kind, no `;`, `|`, tabs or other
/// delimiter-like bytes: those are the marks of a field split at the wrong place.
fn is_words(c: &[u8]) -> bool {
    let Some(&first) = c.first() else {
        return false;
    };
    if !(first.is_ascii_alphanumeric()
        || first >= 0x80
        || matches!(first, b'(' | b'#' | b'@' | b'_' | b'/' | b'[' | b'.' | b'*'))
    {
        return false;
    }
    c.iter().all(|&b| {
        b.is_ascii_alphanumeric()
            || b >= 0x80
            || matches!(
                b,
                b' ' | b'_'
                    | b'-'
                    | b'.'
                    | b'('
                    | b')'
                    | b'/'
                    | b'&'
                    | b'+'
                    | b'#'
                    | b'%'
                    | b'['
                    | b']'
                    | b'*'
                    | b'@'
                    | b'$'
                    | b'!'
                    | b'?'
                    | b'='
            )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        use CellKind::*;
        for (cell, want) in [
            ("", Empty),
            ("   ", Empty),
            ("NA", Null),
            ("n/a", Null),
            ("NULL", Null),
            ("NaN", Null),
            ("0", Number),
            ("-12", Number),
            ("+3.5", Number),
            ("1,234", Number),
            ("1,234,567.89", Number),
            ("1.234.567,89", Number),
            ("1 234,5", Number),
            ("1'234.50", Number),
            ("12,5", Number),
            (".5", Number),
            ("1e-5", Number),
            ("6.02E+23", Number),
            ("$1,000", Number),
            ("€ 12,50", Number),
            ("12,50 €", Number),
            ("45%", Number),
            ("1,23,4", Other),
            ("12.345.67890", Word),
            ("2024-05-01", DateTime),
            ("2024-05-01T10:00:00Z", DateTime),
            ("2024-05-01 10:00:00.123+02:00", DateTime),
            ("05/01/2024", DateTime),
            ("1.5.2024", DateTime),
            ("10:30", DateTime),
            ("10:30:15 PM", DateTime),
            ("12 Jan 2024", DateTime),
            ("Jan 12, 2024", DateTime),
            ("Mon, 12 Jan 2024 10:00:00 GMT", DateTime),
            // Minutes and seconds have two digits; a doubled colon is no time.
            ("2024-03-14::75350:378.95", Other),
            ("12:378.95", Other),
            ("10:3", Other),
            ("2024-09-06 389.2", Word),
            ("0.0:-1.0", Other),
            ("true", Bool),
            ("No", Bool),
            ("https://example.com/a?b=c", Link),
            ("someone@example.org", Link),
            ("hello world", Word),
            ("Celtis australis", Word),
            ("A-12", Word),
            ("Zürich", Word),
            ("東京", Word),
            ("\"hello", Other),
            ("a;b", Other),
            ("x|y", Other),
            ("said \"hi\"", Other),
            ("a, b", Other),
        ] {
            assert_eq!(classify(cell.as_bytes()), want, "{cell:?}");
        }
    }
}
