//! File format: magic bytes first, then the shape of the text.

use super::Finding;

/// A file format logflow knows about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Delimited text (CSV, TSV, ...; see [`dialect`](super::dialect())).
    Csv,
    /// One JSON document (an array or an object, possibly pretty-printed).
    Json,
    /// JSON Lines: one JSON value per line.
    Jsonl,
    /// XML.
    Xml,
    /// XES event log (XML whose root is `<log xes.version=...>` or in the xes-standard
    /// namespace).
    Xes,
    /// Apache Parquet (`PAR1`).
    Parquet,
    /// Avro object container file (`Obj\x01`).
    Avro,
    /// Apache ORC (`ORC`).
    Orc,
    /// Arrow IPC file (`ARROW1`).
    ArrowFile,
    /// Arrow IPC stream (starts with the `FF FF FF FF` continuation marker).
    ArrowStream,
    /// Excel 2007+ workbook, xlsx or xlsm (a zip with `xl/` entries).
    Xlsx,
    /// Excel 2007+ binary workbook (a zip with `xl/*.bin` entries).
    Xlsb,
    /// Excel 97-2003 workbook (OLE2 compound file, `D0 CF 11 E0`; also how Office stores a
    /// password-protected xlsx).
    Xls,
    /// OpenDocument spreadsheet (a zip whose `mimetype` entry names it).
    Ods,
    /// BSD syslog, RFC 3164 (`<PRI>Mmm dd hh:mm:ss host tag: msg`, PRI optional).
    Syslog3164,
    /// Syslog, RFC 5424 (`<PRI>1 2024-05-01T10:00:00Z host app procid msgid ...`).
    Syslog5424,
    /// Apache / NCSA common log format.
    ApacheCommon,
    /// Apache / NCSA combined log format (common + referer and user agent).
    ApacheCombined,
    /// logfmt: `key=value key2="quoted value"` per line.
    Logfmt,
    /// Binary data of no known format (or a compressed stream).
    Binary,
    /// Nothing but whitespace.
    Empty,
}

impl Format {
    /// Lower-case short name: `"csv"`, `"jsonl"`, `"parquet"`, `"syslog-rfc5424"`, ...
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Xml => "xml",
            Format::Xes => "xes",
            Format::Parquet => "parquet",
            Format::Avro => "avro",
            Format::Orc => "orc",
            Format::ArrowFile => "arrow",
            Format::ArrowStream => "arrow-stream",
            Format::Xlsx => "xlsx",
            Format::Xlsb => "xlsb",
            Format::Xls => "xls",
            Format::Ods => "ods",
            Format::Syslog3164 => "syslog-rfc3164",
            Format::Syslog5424 => "syslog-rfc5424",
            Format::ApacheCommon => "apache-common",
            Format::ApacheCombined => "apache-combined",
            Format::Logfmt => "logfmt",
            Format::Binary => "binary",
            Format::Empty => "empty",
        }
    }
}

impl Format {
    /// Whether this is a binary container (Parquet, Avro, ORC, Arrow, Excel), read by magic
    /// bytes rather than as text.
    pub fn is_binary(self) -> bool {
        matches!(
            self,
            Format::Parquet
                | Format::Avro
                | Format::Orc
                | Format::ArrowFile
                | Format::ArrowStream
                | Format::Xlsx
                | Format::Xlsb
                | Format::Xls
                | Format::Ods
        )
    }

    /// The name people write: `"CSV"`, `"JSON Lines"`, `"Parquet"`, `"Excel"`, ...
    pub fn title(self) -> &'static str {
        match self {
            Format::Csv => "CSV",
            Format::Json => "JSON",
            Format::Jsonl => "JSON Lines",
            Format::Xml => "XML",
            Format::Xes => "XES",
            Format::Parquet => "Parquet",
            Format::Avro => "Avro",
            Format::Orc => "ORC",
            Format::ArrowFile | Format::ArrowStream => "Arrow IPC",
            Format::Xlsx | Format::Xlsb | Format::Xls => "Excel",
            Format::Ods => "OpenDocument spreadsheet",
            Format::Syslog3164 | Format::Syslog5424 => "syslog",
            Format::ApacheCommon | Format::ApacheCombined => "Apache access log",
            Format::Logfmt => "logfmt",
            Format::Binary => "binary",
            Format::Empty => "empty",
        }
    }
}

/// Formats recognised by magic bytes alone (binary containers).
pub(crate) fn magic(sample: &[u8]) -> Option<Finding<Format>> {
    let (f, why) = if sample.starts_with(b"PAR1") {
        (Format::Parquet, "Parquet magic \"PAR1\"")
    } else if sample.starts_with(b"Obj\x01") {
        (Format::Avro, "Avro magic \"Obj\\x01\"")
    } else if sample.starts_with(b"ORC") {
        (Format::Orc, "ORC magic \"ORC\"")
    } else if sample.starts_with(b"ARROW1") {
        (Format::ArrowFile, "Arrow IPC file magic \"ARROW1\"")
    } else if sample.starts_with(&[0xFF, 0xFF, 0xFF, 0xFF]) {
        (
            Format::ArrowStream,
            "Arrow IPC stream continuation marker FF FF FF FF",
        )
    } else if sample.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        (Format::Xls, "OLE2 compound file magic D0 CF 11 E0")
    } else {
        workbook_zip(sample)?
    };
    Some(Finding::new(f, 1.0, why))
}

/// The workbook a zip holds, by the names of its local file headers within the sample:
/// `xl/` entries (binary `.bin` parts: xlsb), or a `mimetype` entry naming an OpenDocument
/// spreadsheet.
pub(crate) fn workbook_zip(sample: &[u8]) -> Option<(Format, &'static str)> {
    if !sample.starts_with(b"PK\x03\x04") {
        return None;
    }
    let mut found = None;
    for at in memchr::memmem::find_iter(sample, b"PK\x03\x04") {
        let u16_at = |o: usize| -> usize {
            let lo = sample.get(at + o).copied().unwrap_or(0);
            let hi = sample.get(at + o + 1).copied().unwrap_or(0);
            usize::from(u16::from_le_bytes([lo, hi]))
        };
        let name_len = u16_at(26);
        let extra_len = u16_at(28);
        let Some(name) = sample.get(at + 30..at + 30 + name_len) else {
            continue;
        };
        if name.starts_with(b"xl/") && name.ends_with(b".bin") {
            return Some((Format::Xlsb, "zip with xl/*.bin entries"));
        }
        if name.starts_with(b"xl/") {
            found = Some((Format::Xlsx, "zip with xl/ entries"));
        }
        if name == b"mimetype" {
            let body = at + 30 + name_len + extra_len;
            let mime = b"application/vnd.oasis.opendocument.spreadsheet";
            if sample.get(body..body + mime.len()) == Some(&mime[..]) {
                return Some((
                    Format::Ods,
                    "zip whose mimetype is an OpenDocument spreadsheet",
                ));
            }
        }
    }
    found
}

/// Whether a zip's local file headers (those within the sample) name a workbook's entries.
pub(crate) fn is_xlsx_zip(sample: &[u8]) -> bool {
    workbook_zip(sample).is_some()
}

/// Detects the format of a sample that is already decompressed (and, for text, UTF-8).
///
/// Magic bytes decide binary formats. Text is then read by its shape: JSON (one document) vs
/// JSON Lines (a complete value, then another on a later line), XML vs XES, syslog (RFC 3164
/// and 5424), Apache common/combined logs and logfmt by the majority of the first lines;
/// anything else textual is delimited text.
pub fn format(sample: &[u8]) -> Finding<Format> {
    if let Some(f) = magic(sample) {
        return f;
    }
    if super::compression(sample).value != super::Compression::None {
        return Finding::new(Format::Binary, 0.9, "compressed stream: decompress first");
    }
    let text = sample.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(sample);
    let Some(first) = text.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Finding::new(Format::Empty, 1.0, "only whitespace");
    };
    if let Some(why) = binary_evidence(text) {
        return Finding::new(Format::Binary, 0.8, why);
    }
    let body = text.get(first..).unwrap_or_default();
    let lines = first_lines(body, 20);
    let majority = |f: &dyn Fn(&[u8]) -> bool| -> f32 {
        let n = lines.len().max(1);
        #[allow(clippy::cast_precision_loss)]
        let share = lines.iter().filter(|l| f(l)).count() as f32 / n as f32;
        share
    };
    if body.first() == Some(&b'<') {
        let s5424 = majority(&|l| syslog5424(l));
        if s5424 >= 0.6 {
            return Finding::new(Format::Syslog5424, s5424, "<PRI>1 timestamp host app lines");
        }
        let s3164 = majority(&|l| syslog3164(l));
        if s3164 >= 0.6 {
            return Finding::new(Format::Syslog3164, s3164, "<PRI>Mmm dd hh:mm:ss host lines");
        }
        let head = body.get(..body.len().min(4096)).unwrap_or_default();
        let has = |n: &[u8]| memchr::memmem::find(head, n).is_some();
        if has(b"<log") && (has(b"xes.version") || has(b"xes-standard") || has(b"openxes")) {
            return Finding::new(Format::Xes, 1.0, "XML with an XES <log> root");
        }
        if body
            .get(1)
            .is_some_and(|b| b.is_ascii_alphabetic() || matches!(b, b'?' | b'!' | b'_'))
        {
            return Finding::new(Format::Xml, 0.9, "starts with an XML tag");
        }
    }
    if matches!(body.first(), Some(b'{' | b'[')) {
        if let Some(f) = json(body) {
            return f;
        }
    }
    type LineCheck<'a> = (Format, &'a dyn Fn(&[u8]) -> bool, &'a str);
    let checks: [LineCheck<'_>; 5] = [
        (
            Format::ApacheCombined,
            &|l| apache(l) == Some(true),
            "Apache combined log lines",
        ),
        (
            Format::ApacheCommon,
            &|l| apache(l).is_some(),
            "Apache common log lines",
        ),
        (Format::Syslog5424, &syslog5424, "RFC 5424 syslog lines"),
        (Format::Syslog3164, &syslog3164, "RFC 3164 syslog lines"),
        (Format::Logfmt, &logfmt, "key=value (logfmt) lines"),
    ];
    for (f, check, why) in checks {
        let share = majority(check);
        if share >= 0.6 {
            return Finding::new(f, share, why);
        }
    }
    Finding::new(Format::Csv, 0.6, "text: read as delimited")
}

/// Why `sample` is binary data rather than text, when it is: NUL bytes in at least 1% of
/// its first 8 KiB, or, over at least 256 bytes, other control bytes in more than 5%. Tab,
/// line ends, form feed and escape (terminal colours, `ESC[31m`) are text; so is a stray NUL
/// in a longer text, and a few control characters in a short table.
pub fn binary_evidence(sample: &[u8]) -> Option<String> {
    let head = sample.get(..sample.len().min(8192)).unwrap_or_default();
    let nul = memchr::memchr_iter(0, head).count();
    let control = head
        .iter()
        .filter(|&&b| {
            (b < 0x20 && !matches!(b, 0 | b'\t' | b'\n' | b'\r' | 0x0C | 0x1B)) || b == 0x7F
        })
        .count();
    let binary =
        nul > 0 && nul * 100 >= head.len() || head.len() >= 256 && control * 20 > head.len();
    binary.then(|| {
        format!(
            "{nul} NUL and {control} other control bytes in the first {} bytes",
            head.len()
        )
    })
}

/// Up to `n` non-empty lines (the last one only when the sample ends with a terminator).
fn first_lines(text: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = text;
    while out.len() < n {
        match memchr::memchr(b'\n', rest) {
            Some(i) => {
                let l = rest.get(..i).unwrap_or_default();
                let l = l.strip_suffix(b"\r").unwrap_or(l);
                if !l.iter().all(u8::is_ascii_whitespace) {
                    out.push(l);
                }
                rest = rest.get(i + 1..).unwrap_or_default();
            }
            None => {
                // A cut last line still counts when it is the only one.
                if out.is_empty() && !rest.is_empty() {
                    out.push(rest);
                }
                break;
            }
        }
    }
    out
}

/// Outcome of scanning one JSON value.
#[derive(Debug, PartialEq, Eq)]
enum Json {
    /// A complete value ending before this offset.
    Complete(usize),
    /// The sample ended inside a well-formed value.
    Truncated,
    /// Not JSON.
    Invalid,
}

fn skip_ws(s: &[u8], mut i: usize) -> usize {
    while s
        .get(i)
        .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        i += 1;
    }
    i
}

/// Scans a JSON string starting at the opening quote; returns the offset after it.
fn scan_string(s: &[u8], mut i: usize) -> Result<usize, Json> {
    i += 1;
    loop {
        let rest = s.get(i..).unwrap_or_default();
        let Some(k) = memchr::memchr2(b'"', b'\\', rest) else {
            return Err(Json::Truncated);
        };
        if rest.get(..k).unwrap_or_default().iter().any(|&b| b < 0x20) {
            return Err(Json::Invalid);
        }
        i += k;
        if s.get(i) == Some(&b'\\') {
            i += 2;
            if i > s.len() {
                return Err(Json::Truncated);
            }
            continue;
        }
        return Ok(i + 1);
    }
}

/// Scans one JSON value starting at `i` (iteratively: no recursion on deep nesting).
fn scan_json(s: &[u8], i: usize) -> Json {
    #[derive(Clone, Copy, PartialEq)]
    enum St {
        Value,
        ValueOrClose,
        After,
        KeyOrClose,
        Key,
        Colon,
    }
    let mut stack: Vec<u8> = Vec::new();
    let mut st = St::Value;
    let mut i = skip_ws(s, i);
    loop {
        i = skip_ws(s, i);
        let Some(&c) = s.get(i) else {
            return Json::Truncated;
        };
        let mut scalar_done = false;
        match st {
            St::Value | St::ValueOrClose => match c {
                b']' if st == St::ValueOrClose => {
                    stack.pop();
                    i += 1;
                    scalar_done = true;
                }
                b'{' => {
                    stack.push(b'{');
                    st = St::KeyOrClose;
                    i += 1;
                }
                b'[' => {
                    stack.push(b'[');
                    st = St::ValueOrClose;
                    i += 1;
                }
                b'"' => match scan_string(s, i) {
                    Ok(e) => {
                        i = e;
                        scalar_done = true;
                    }
                    Err(j) => return j,
                },
                b'-' | b'0'..=b'9' => {
                    let start = i;
                    while s.get(i).is_some_and(|b| {
                        b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')
                    }) {
                        i += 1;
                    }
                    if i >= s.len() {
                        return Json::Truncated;
                    }
                    if !s
                        .get(start..i)
                        .unwrap_or_default()
                        .iter()
                        .any(u8::is_ascii_digit)
                    {
                        return Json::Invalid;
                    }
                    scalar_done = true;
                }
                b't' | b'f' | b'n' => {
                    let word: &[u8] = match c {
                        b't' => b"true",
                        b'f' => b"false",
                        _ => b"null",
                    };
                    let have = s.get(i..(i + word.len()).min(s.len())).unwrap_or_default();
                    if !word.starts_with(have) {
                        return Json::Invalid;
                    }
                    if have.len() < word.len() {
                        return Json::Truncated;
                    }
                    i += word.len();
                    scalar_done = true;
                }
                _ => return Json::Invalid,
            },
            St::After => match (c, stack.last()) {
                (b',', Some(b'{')) => {
                    st = St::Key;
                    i += 1;
                }
                (b',', Some(_)) => {
                    st = St::Value;
                    i += 1;
                }
                (b'}', Some(b'{')) | (b']', Some(b'[')) => {
                    stack.pop();
                    i += 1;
                    scalar_done = true;
                }
                _ => return Json::Invalid,
            },
            St::KeyOrClose | St::Key => match c {
                b'}' if st == St::KeyOrClose => {
                    stack.pop();
                    i += 1;
                    scalar_done = true;
                }
                b'"' => match scan_string(s, i) {
                    Ok(e) => {
                        i = e;
                        st = St::Colon;
                    }
                    Err(j) => return j,
                },
                _ => return Json::Invalid,
            },
            St::Colon => {
                if c != b':' {
                    return Json::Invalid;
                }
                st = St::Value;
                i += 1;
            }
        }
        if scalar_done {
            if stack.is_empty() {
                return Json::Complete(i);
            }
            st = St::After;
        }
    }
}

fn json(body: &[u8]) -> Option<Finding<Format>> {
    match scan_json(body, 0) {
        Json::Invalid => None,
        Json::Truncated => Some(Finding::new(
            Format::Json,
            0.7,
            "one JSON value running past the sample",
        )),
        Json::Complete(end) => {
            let next = skip_ws(body, end);
            if next >= body.len() {
                return Some(Finding::new(Format::Json, 0.9, "one complete JSON value"));
            }
            let between = body.get(end..next).unwrap_or_default();
            if !between.contains(&b'\n') && !between.contains(&b'\r') {
                return None;
            }
            match scan_json(body, next) {
                Json::Invalid => None,
                _ => {
                    let one_line = !body.get(..end).unwrap_or_default().contains(&b'\n');
                    Some(Finding::new(
                        Format::Jsonl,
                        if one_line { 0.95 } else { 0.7 },
                        if one_line {
                            "one JSON value per line"
                        } else {
                            "a sequence of multi-line JSON values"
                        },
                    ))
                }
            }
        }
    }
}

/// `<PRI>` prefix: returns the rest.
fn pri(l: &[u8]) -> Option<&[u8]> {
    let rest = l.strip_prefix(b"<")?;
    let close = rest.iter().take(4).position(|&b| b == b'>')?;
    let digits = rest.get(..close)?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    rest.get(close + 1..)
}

fn syslog5424(l: &[u8]) -> bool {
    let Some(rest) = pri(l) else {
        return false;
    };
    // VERSION SP TIMESTAMP(or -) SP HOSTNAME
    let Some(rest) = rest.strip_prefix(b"1 ") else {
        return false;
    };
    rest.starts_with(b"- ")
        || (rest.get(..10).is_some_and(|d| {
            d.iter().enumerate().all(|(k, &b)| {
                if k == 4 || k == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            })
        }) && rest.get(10) == Some(&b'T'))
}

fn syslog3164(l: &[u8]) -> bool {
    let rest = pri(l).unwrap_or(l);
    // Mmm dd hh:mm:ss
    let Some(ts) = rest.get(..15) else {
        return false;
    };
    let month_ok = ts.get(..3).is_some_and(|m| {
        [
            b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
            b"Dec",
        ]
        .iter()
        .any(|x| m == &x[..])
    });
    let shape = ts.iter().enumerate().all(|(k, &b)| match k {
        3 | 6 => b == b' ',
        4 => b == b' ' || b.is_ascii_digit(),
        9 | 12 => b == b':',
        5 | 7 | 8 | 10 | 11 | 13 | 14 => b.is_ascii_digit(),
        _ => true,
    });
    month_ok && shape && rest.get(15) == Some(&b' ')
}

/// Apache log line: `None` if not one, `Some(false)` common, `Some(true)` combined.
fn apache(l: &[u8]) -> Option<bool> {
    // host ident user [date] "request" status bytes
    let mut parts = l.splitn(4, |&b| b == b' ');
    let (_host, _ident, _user) = (parts.next()?, parts.next()?, parts.next()?);
    let rest = parts.next()?.strip_prefix(b"[")?;
    let close = memchr::memchr(b']', rest)?;
    let date = rest.get(..close)?;
    if date.len() < 20 || !date.first().is_some_and(u8::is_ascii_digit) || !date.contains(&b'/') {
        return None;
    }
    let rest = rest.get(close + 1..)?.strip_prefix(b" \"")?;
    let end = quoted_end(rest)?;
    let rest = rest.get(end + 1..)?.strip_prefix(b" ")?;
    let mut f = rest.splitn(3, |&b| b == b' ');
    let status = f.next()?;
    let bytes = f.next()?;
    if status.len() != 3 || !status.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if !(bytes == b"-" || (!bytes.is_empty() && bytes.iter().all(u8::is_ascii_digit))) {
        return None;
    }
    let tail = f.next().unwrap_or_default();
    Some(tail.starts_with(b"\"") && tail.iter().filter(|&&b| b == b'"').count() >= 4)
}

/// Offset of the closing quote of a `\`-escaped quoted string (after the opening quote).
fn quoted_end(s: &[u8]) -> Option<usize> {
    let mut i = 0;
    loop {
        let k = memchr::memchr2(b'"', b'\\', s.get(i..)?)?;
        i += k;
        if s.get(i) == Some(&b'\\') {
            i += 2;
            continue;
        }
        return Some(i);
    }
}

fn logfmt(l: &[u8]) -> bool {
    let mut i = 0;
    let mut pairs = 0;
    while i < l.len() {
        while l.get(i) == Some(&b' ') {
            i += 1;
        }
        if i >= l.len() {
            break;
        }
        let key_start = i;
        while l.get(i).is_some_and(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'/' | b'@')
        }) {
            i += 1;
        }
        if i == key_start || l.get(i) != Some(&b'=') {
            return false;
        }
        i += 1;
        if l.get(i) == Some(&b'"') {
            let Some(e) = l.get(i + 1..).and_then(quoted_end) else {
                return false;
            };
            i += e + 2;
        } else {
            while l.get(i).is_some_and(|&b| b != b' ') {
                i += 1;
            }
        }
        pairs += 1;
    }
    pairs >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes() {
        let xlsx = crate::testutil::zip_local_header("xl/workbook.xml");
        let zip = crate::testutil::zip_local_header("data/rows.csv.x");
        for (sample, want) in [
            (&b"PAR1\x15\x04\x15"[..], Format::Parquet),
            (b"Obj\x01\x04\x14avro.schema", Format::Avro),
            (b"ORC\x0a\x03", Format::Orc),
            (b"ARROW1\x00\x00", Format::ArrowFile),
            (b"\xff\xff\xff\xff\x10\x01\x00\x00", Format::ArrowStream),
            (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", Format::Xls),
            (&xlsx, Format::Xlsx),
            (&zip, Format::Binary),
            (b"\x1f\x8b\x08\x00", Format::Binary),
            (b"\x28\xb5\x2f\xfd", Format::Binary),
            (b"BZh9", Format::Binary),
            (b"\xfd7zXZ\x00", Format::Binary),
            (b"\x00\x01\x02\x03binary", Format::Binary),
        ] {
            let got = format(sample);
            assert_eq!(got.value, want, "{sample:?}: {}", got.evidence);
        }
    }

    #[test]
    fn text_formats() {
        for (text, want) in [
            ("", Format::Empty),
            (" \n\t\r\n", Format::Empty),
            ("a,b\n1,2\n", Format::Csv),
            ("plain words\nmore words\n", Format::Csv),
            ("[1, 2, {\"a\": [true, null]}]", Format::Json),
            ("[\n  {\"a\": 1},\n  {\"a\": 2", Format::Json),
            ("{\n  \"name\": \"x\",\n  \"items\": [1, 2]\n}\n", Format::Json),
            ("{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3", Format::Jsonl),
            ("{\"a\": 1}\r\n{\"a\": 2}\r\n", Format::Jsonl),
            ("\u{feff}{\"a\":1}\n{\"a\":2}\n", Format::Jsonl),
            ("[x] not json,1\n[y] nor this,2\n", Format::Csv),
            ("<?xml version=\"1.0\"?>\n<root><a>1</a></root>", Format::Xml),
            ("<root>\n<a/>\n</root>\n", Format::Xml),
            (
                "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<log xes.version=\"1.0\" xmlns=\"http://www.xes-standard.org/\">\n<trace>",
                Format::Xes,
            ),
            (
                "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed\n<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time\n",
                Format::Syslog5424,
            ),
            (
                "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick\n<13>Feb  5 17:32:18 10.0.0.99 myapp: hello\n",
                Format::Syslog3164,
            ),
            (
                "Oct 11 22:14:15 mymachine su: 'su root' failed\nOct 11 22:14:16 mymachine sshd[42]: accepted\n",
                Format::Syslog3164,
            ),
            (
                "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326\n10.0.0.2 - - [10/Oct/2000:13:55:37 -0700] \"GET / HTTP/1.1\" 304 -\n",
                Format::ApacheCommon,
            ),
            (
                "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326 \"http://www.example.com/start.html\" \"Mozilla/4.08 [en] (Win98; I ;Nav)\"\n",
                Format::ApacheCombined,
            ),
            (
                "level=info msg=\"started server\" port=8080\nlevel=warn msg=\"slow request\" took=1.5s path=/x\n",
                Format::Logfmt,
            ),
        ] {
            let got = format(text.as_bytes());
            assert_eq!(got.value, want, "{text:?}: {}", got.evidence);
        }
    }

    #[test]
    fn json_scanner() {
        assert_eq!(scan_json(b"{\"a\":[1,2]}x", 0), Json::Complete(11));
        assert_eq!(scan_json(b"{\"a\":[1,2", 0), Json::Truncated);
        assert_eq!(scan_json(b"{a:1}", 0), Json::Invalid);
        assert_eq!(scan_json(b"[1,]", 0), Json::Invalid);
        assert_eq!(scan_json(b"[tru", 0), Json::Truncated);
        assert_eq!(scan_json(b"[trUe]", 0), Json::Invalid);
        let deep = "[".repeat(100_000);
        assert_eq!(scan_json(deep.as_bytes(), 0), Json::Truncated);
    }
}
