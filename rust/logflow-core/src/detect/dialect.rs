//! Dialect of delimited text, by data consistency.
//!
//! Every candidate dialect (delimiter × quote × escape) splits the sample; its score is
//! *pattern × type*, as in CleverCSV's data-consistency measure:
//!
//! - pattern: `Σ_k N_k (L_k − 1) / L_k / K` over the `K` distinct record lengths `L_k`
//!   (`N_k` records each) of the table block: consistent lengths and more columns score
//!   higher, one-column splits score 0;
//! - type: the share of cells that look like a whole value (number, date/time, bool, null
//!   word, URL/e-mail, words, properly quoted text, empty), so splits that cut values apart
//!   or leave stray quotes score lower.
//!
//! Before scoring, leading records with fewer fields than the usual length (titles, key/value
//! preambles) and `#` comment lines are set aside as the preamble ([`Dialect::skip_lines`]).
//! Ties go to the more common choice: `,` before tab, `;`, `|`, ...; `"` before `'` before no
//! quoting; no escape before `\`.

use super::header::header_in;
use super::parse::{parse, Parsed, Record, Split};
use super::types::classify;
use super::Finding;

/// The line terminator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Terminator {
    /// `\n`.
    #[default]
    Lf,
    /// `\r\n`.
    CrLf,
    /// `\r` alone (classic Mac OS).
    Cr,
}

/// How delimited text is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dialect {
    /// Field delimiter (its last byte, for a two-byte delimiter).
    pub delimiter: u8,
    /// The first byte of a two-byte delimiter (`§` is C2 A7 in UTF-8); `None` for one byte.
    pub delimiter_lead: Option<u8>,
    /// Quote character; `None`: no quoting.
    pub quote: Option<u8>,
    /// Escape character inside quotes; `None`: quotes are escaped by doubling them.
    pub escape: Option<u8>,
    /// Line terminator.
    pub terminator: Terminator,
    /// Whether the first record of the table names the columns.
    pub header: bool,
    /// Physical lines before the table (title lines, comments, blank lines).
    pub skip_lines: usize,
    /// Whether records of the table have different numbers of fields.
    pub ragged: bool,
    /// Whether the spaces after a delimiter are padding, not data (`a, "b, c", d`).
    pub skip_initial_space: bool,
}

impl Default for Dialect {
    /// RFC 4180: comma, double quote, doubled quotes, header, `\n`.
    fn default() -> Self {
        Dialect {
            delimiter: b',',
            delimiter_lead: None,
            quote: Some(b'"'),
            escape: None,
            terminator: Terminator::Lf,
            header: true,
            skip_lines: 0,
            ragged: false,
            skip_initial_space: false,
        }
    }
}

/// Delimiters always tried (in tie-break order) when they occur in the sample. Other ASCII
/// punctuation occurring on most lines is tried too, and the [`TWO_BYTE_CANDIDATES`].
pub const DELIMITER_CANDIDATES: [u8; 9] = [b',', b'\t', b';', b'|', b':', b' ', b'^', b'~', b'#'];

/// Two-byte delimiters tried, as UTF-8: `§` (whenever it occurs), then `¦`, `¬`, `¤` and `·`
/// (when on most lines).
pub const TWO_BYTE_CANDIDATES: [[u8; 2]; 5] = [
    [0xC2, 0xA7],
    [0xC2, 0xA6],
    [0xC2, 0xAC],
    [0xC2, 0xA4],
    [0xC2, 0xB7],
];

/// Most records looked at per candidate.
pub(crate) const MAX_RECORDS: usize = 400;
/// Most records whose cells are classified per candidate.
const MAX_TYPED_RECORDS: usize = 120;

/// Detects the dialect of UTF-8 delimited text. The sample may end mid-line (the cut record
/// is ignored when it disagrees with the rest). A one-column table is reported with a comma
/// and a low confidence.
pub fn dialect(sample: &[u8]) -> Finding<Dialect> {
    let text = sample.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(sample);
    let terminator = terminator(text);
    let mut parsed = Parsed::default();
    let candidates = candidates(text);
    let (mut best, mut second) = best_split(text, &mut parsed, candidates.iter().copied());
    let mut whole = false;
    if let Some((b, bsp)) = &best {
        if let Some(alt) = whole_table_reading(text, &mut parsed, &candidates, b, *bsp) {
            second = second.max(b.score);
            best = Some(alt);
            whole = true;
        }
    }
    // Every line one quoted field (`"a, b"`): one column, unless every record of a split
    // agrees on its width.
    let consistent = best
        .as_ref()
        .is_some_and(|(s, _)| s.consistency >= 1.0 && s.skip_lines == 0);
    if !consistent {
        if let Some(q) = quoted_lines(text, &mut parsed) {
            return one_column(
                text,
                &mut parsed,
                terminator,
                q,
                0.7,
                "every line is one quoted field: one column",
            );
        }
    }
    let Some((s, sp)) = best.filter(|(s, _)| s.score > 0.0 && s.columns >= 2) else {
        // One column (or nothing consistent): a comma, and whatever preamble a comma split sees.
        return one_column(
            text,
            &mut parsed,
            terminator,
            b'"',
            0.2,
            "no delimiter splits the lines consistently: one column",
        );
    };
    let mut d = Dialect {
        delimiter: sp.delimiter,
        delimiter_lead: sp.lead,
        quote: sp.quote,
        escape: sp.escape,
        terminator,
        header: true,
        skip_lines: s.skip_lines,
        ragged: s.ragged,
        skip_initial_space: false,
    };
    // Header detection on the winner's split.
    parse(text, sp, MAX_RECORDS, &mut parsed);
    d.skip_initial_space = padded_after_delimiters(text, &parsed, d.delimiter, d.skip_lines);
    d.header = header_in(text, &parsed, &d).value;
    hash_header(text, &parsed, &mut d, s.columns);
    short_header(text, &parsed, &mut d, s.columns);
    let margin = if s.score > 0.0 {
        ((s.score - second) / s.score).clamp(0.0, 1.0)
    } else {
        0.0
    };
    #[allow(clippy::cast_possible_truncation)]
    let confidence = (0.35 + 0.35 * margin + 0.3 * s.consistency * s.typed) as f32;
    Finding::new(
        d,
        confidence,
        format!(
            "{} columns in {:.0}% of {} records, {:.0}% typed cells, margin {:.0}% over the next dialect",
            s.columns,
            s.consistency * 100.0,
            s.records,
            s.typed * 100.0,
            margin * 100.0
        ) + if whole {
            "; the first line too, which the best-scoring reading set aside as a title"
        } else {
            ""
        },
    )
}

/// The best-scoring of `splits` (the first of equals, in tie-break order) and the score of
/// the runner-up. Splits that cannot beat both are cut short.
fn best_split(
    text: &[u8],
    parsed: &mut Parsed,
    splits: impl Iterator<Item = Split>,
) -> (Option<(Scored, Split)>, f64) {
    let mut best: Option<(Scored, Split)> = None;
    let mut second = 0.0f64;
    for sp in splits {
        parse(text, sp, MAX_RECORDS, parsed);
        let floor = best.as_ref().map_or(0.0, |b| b.0.score);
        let Some(s) = score(text, parsed, sp, floor.min(second)) else {
            continue;
        };
        match &best {
            Some((b, _)) if s.score <= b.score * (1.0 + 1e-9) => {
                second = second.max(s.score);
            }
            _ => {
                if let Some((b, _)) = &best {
                    second = second.max(b.score);
                }
                best = Some((s, sp));
            }
        }
    }
    (best, second)
}

/// The quote and escape that best fit `sample` split at a delimiter the caller gave: the
/// detected dialect's may belong to a reading at another delimiter. `"` when nothing decides.
pub fn quoting_for(sample: &[u8], delimiter: u8, lead: Option<u8>) -> (Option<u8>, Option<u8>) {
    let text = sample.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(sample);
    let at = candidates(text)
        .into_iter()
        .filter(|sp| sp.delimiter == delimiter && sp.lead == lead);
    let (best, _) = best_split(text, &mut Parsed::default(), at);
    best.map_or((Some(b'"'), None), |(_, sp)| (sp.quote, sp.escape))
}

/// A reading to prefer over `best` when `best` sets leading lines aside as a title: one that
/// splits every line alike, the first included, into a header and at least two rows.
///
/// `col1,col2` above rows like `1;2;3,4;5;6` scores higher as a semicolon table under a
/// one-line title (its cells are numbers), yet the comma reading explains every line and
/// finds a header. It is not preferred when the other reading's delimiter occurs in `best`'s
/// cells only inside numbers: then it is the decimal mark (`Report, 2024` above `a;b;1,5`
/// rows is a semicolon table with decimal commas).
fn whole_table_reading(
    text: &[u8],
    parsed: &mut Parsed,
    candidates: &[Split],
    best: &Scored,
    best_split: Split,
) -> Option<(Scored, Split)> {
    if best.skip_lines == 0 {
        return None;
    }
    let mut found: Option<(Scored, Split)> = None;
    for &sp in candidates {
        if sp.delimiter == best_split.delimiter && sp.lead == best_split.lead {
            continue;
        }
        parse(text, sp, MAX_RECORDS, parsed);
        let Some(s) = score(text, parsed, sp, 0.0) else {
            continue;
        };
        let whole = s.consistency >= 1.0 && s.skip_lines == 0 && s.columns >= 2;
        if !whole || s.records < 3 || s.records <= best.records {
            continue;
        }
        let d = Dialect {
            delimiter: sp.delimiter,
            delimiter_lead: sp.lead,
            quote: sp.quote,
            escape: sp.escape,
            ..Dialect::default()
        };
        if !header_in(text, parsed, &d).value {
            continue;
        }
        if found.as_ref().is_none_or(|(f, _)| s.score > f.score) {
            found = Some((s, sp));
        }
    }
    let (alt, alt_split) = found?;
    // Where the other delimiter sits in `best`'s cells: inside numbers only, it is a
    // decimal mark.
    parse(text, best_split, MAX_RECORDS, parsed);
    let mut holding = 0usize;
    let mut in_numbers = 0usize;
    for r in table_records(parsed)
        .iter()
        .filter(|r| r.line >= best.skip_lines)
    {
        for f in parsed.fields_of(r) {
            let cell = text.get(f.start..f.end).unwrap_or_default();
            if memchr::memchr(alt_split.delimiter, cell).is_some() {
                holding += 1;
                in_numbers += usize::from(classify(cell) == super::types::CellKind::Number);
            }
        }
    }
    (holding > in_numbers).then_some((alt, alt_split))
}

/// A comma split with `quote` and quotes escaped by doubling: how one-column readings parse.
fn comma_split(quote: u8) -> Split {
    Split {
        delimiter: b',',
        lead: None,
        quote: Some(quote),
        escape: None,
    }
}

/// The quote character that makes every record of `text` one quoted field (at least two
/// records, read with a comma and that quote).
fn quoted_lines(text: &[u8], parsed: &mut Parsed) -> Option<u8> {
    [b'"', b'\''].into_iter().find(|&q| {
        parse(text, comma_split(q), MAX_RECORDS, parsed);
        let recs = table_records(parsed);
        recs.len() >= 2
            && recs
                .iter()
                .all(|r| r.len == 1 && parsed.fields_of(r).iter().all(|f| f.quoted && !f.anomaly))
    })
}

/// A one-column dialect: a comma, `quote`, and whatever preamble and header a comma split
/// sees.
fn one_column(
    text: &[u8],
    parsed: &mut Parsed,
    terminator: Terminator,
    quote: u8,
    confidence: f32,
    evidence: &str,
) -> Finding<Dialect> {
    parse(text, comma_split(quote), MAX_RECORDS, parsed);
    let mut d = Dialect {
        terminator,
        quote: Some(quote),
        skip_lines: leading_skip(parsed),
        ..Dialect::default()
    };
    d.header = header_in(text, parsed, &d).value;
    hash_header(text, parsed, &mut d, 1);
    Finding::new(d, confidence, evidence)
}

/// Whether the table's fields after the first start with a space (before any quote) in at
/// least 90% of the cases, over at least 8 such fields: `a, b, "c, d"` is written with
/// `", "` between fields, and the space belongs to no value.
fn padded_after_delimiters(text: &[u8], parsed: &Parsed, delimiter: u8, skip_lines: usize) -> bool {
    if delimiter == b' ' {
        return false;
    }
    let (mut padded, mut total) = (0usize, 0usize);
    for r in parsed
        .records
        .iter()
        .filter(|r| r.line >= skip_lines && !r.blank && !r.comment)
    {
        for f in parsed.fields_of(r).iter().skip(1) {
            // A quoted field's content starts after its quote, itself after any spaces.
            let at = if f.quoted {
                f.start.checked_sub(2)
            } else {
                Some(f.start)
            };
            total += 1;
            padded += usize::from(at.and_then(|i| text.get(i)) == Some(&b' '));
        }
    }
    total >= 8 && padded * 10 >= total * 9
}

/// The record on the line right above a header-less table that has a preamble: the one
/// line that might be its header after all.
fn line_above_table<'p>(parsed: &'p Parsed, d: &Dialect) -> Option<&'p Record> {
    if d.header || d.skip_lines == 0 {
        return None;
    }
    parsed
        .records
        .iter()
        .take_while(|r| r.line < d.skip_lines)
        .last()
        .filter(|r| r.line + 1 == d.skip_lines)
}

/// A header written as a comment (`#id,name,value`, VCF's `#CHROM POS ...`): when the table
/// has no header of its own and the comment line right above it has as many fields, that
/// line names the columns.
fn hash_header(text: &[u8], parsed: &Parsed, d: &mut Dialect, columns: usize) {
    let Some(r) = line_above_table(parsed, d).filter(|r| r.comment) else {
        return;
    };
    let line = text.get(r.start..r.end).unwrap_or_default();
    let fields = match d.delimiter_lead {
        None => memchr::memchr_iter(d.delimiter, line).count(),
        Some(l) => line.windows(2).filter(|w| *w == [l, d.delimiter]).count(),
    } + 1;
    if fields == columns && line.len() > 1 {
        d.skip_lines = r.line;
        d.header = true;
    }
}

/// A header that lost a delimiter (`idname,date,qty` above four columns): when the table has
/// no header of its own and the line right above it has one field fewer, every one a
/// non-empty word rather than a value, it is the header (the decoder gives the missing
/// column a generated name).
fn short_header(text: &[u8], parsed: &Parsed, d: &mut Dialect, columns: usize) {
    if columns < 3 {
        return;
    }
    let Some(r) = line_above_table(parsed, d)
        .filter(|r| !r.comment && !r.blank && r.complete && r.len + 1 == columns)
    else {
        return;
    };
    let words = parsed.fields_of(r).iter().all(|f| {
        let cell = text.get(f.start..f.end).unwrap_or_default();
        !cell.is_empty() && !classify(cell).typed()
    });
    if words {
        d.skip_lines = r.line;
        d.header = true;
    }
}

/// The preamble and header of `sample` under the delimiter, quote and escape of `d` (for a
/// caller who fixes part of the dialect): returns `d` with `skip_lines` and `header` set.
pub fn layout(sample: &[u8], mut d: Dialect) -> Dialect {
    let text = sample.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(sample);
    let mut parsed = Parsed::default();
    let sp = Split {
        delimiter: d.delimiter,
        lead: d.delimiter_lead,
        quote: d.quote,
        escape: d.escape,
    };
    parse(text, sp, MAX_RECORDS, &mut parsed);
    d.skip_lines = leading_skip(&parsed);
    d.header = header_in(text, &parsed, &d).value;
    d.skip_initial_space = padded_after_delimiters(text, &parsed, d.delimiter, d.skip_lines);
    d
}

/// The most common line terminator outside any quoting (counted over raw bytes).
fn terminator(text: &[u8]) -> Terminator {
    let crlf = memchr::memmem::find_iter(text, b"\r\n").count();
    let cr = memchr::memchr_iter(b'\r', text)
        .count()
        .saturating_sub(crlf);
    let lf = memchr::memchr_iter(b'\n', text)
        .count()
        .saturating_sub(crlf);
    if crlf >= lf && crlf >= cr && crlf > 0 {
        Terminator::CrLf
    } else if cr > lf {
        Terminator::Cr
    } else {
        Terminator::Lf
    }
}

/// Candidate splits in tie-break order: delimiters that occur, quotes that occur, `\` only
/// when it precedes a quote.
fn candidates(text: &[u8]) -> Vec<Split> {
    let mut seen = [0u32; 256];
    let mut lines_with = [0u32; 256];
    let mut on_line = [false; 256];
    let mut lines = 0u32;
    for &b in text {
        if let Some(s) = seen.get_mut(usize::from(b)) {
            *s += 1;
        }
        if b == b'\n' || b == b'\r' {
            lines += 1;
            for (k, on) in on_line.iter_mut().enumerate() {
                if *on {
                    if let Some(l) = lines_with.get_mut(k) {
                        *l += 1;
                    }
                    *on = false;
                }
            }
        } else if b.is_ascii_punctuation() {
            if let Some(o) = on_line.get_mut(usize::from(b)) {
                *o = true;
            }
        }
    }
    let has = |b: u8| seen.get(usize::from(b)).is_some_and(|&n| n > 0);
    // ':' mostly inside times (`10:30`) is not a delimiter.
    let colons = seen.get(usize::from(b':')).copied().unwrap_or(0) as usize;
    let time_colons = memchr::memchr_iter(b':', text)
        .filter(|&i| time_colon(text, i))
        .count();
    // (lead byte of a two-byte delimiter, delimiter byte)
    let mut delims: Vec<(Option<u8>, u8)> = DELIMITER_CANDIDATES
        .iter()
        .copied()
        .filter(|&d| has(d) && !(d == b':' && time_colons * 2 >= colons))
        .map(|d| (None, d))
        .collect();
    for b in 0x21u8..0x7F {
        let excluded = b.is_ascii_alphanumeric()
            || matches!(b, b'"' | b'\'' | b'\\' | b'.' | b'-' | b'/' | b'+' | b'_')
            || DELIMITER_CANDIDATES.contains(&b);
        if excluded {
            continue;
        }
        let n = lines_with.get(usize::from(b)).copied().unwrap_or(0);
        if lines >= 2 && n * 5 >= lines * 3 && !(b == b'$' && mostly_currency(text)) {
            delims.push((None, b));
        }
    }
    // Two-byte (UTF-8) symbols: `§` whenever it occurs, the others on most lines. All of
    // them start with C2, so most samples skip this at the cost of one scan.
    let two_byte = memchr::memchr(0xC2, text).is_some();
    for (k, pair) in TWO_BYTE_CANDIDATES.iter().enumerate().filter(|_| two_byte) {
        let [lead, last] = *pair;
        let on_lines = text
            .split(|&b| b == b'\n')
            .filter(|l| l.windows(2).any(|w| w == pair))
            .count();
        let total = lines as usize;
        if (k == 0 && on_lines > 0) || (total >= 2 && on_lines * 5 >= total * 3) {
            delims.push((Some(lead), last));
        }
    }
    let mut quotes: Vec<Option<u8>> = Vec::new();
    quotes.push(Some(b'"'));
    if has(b'\'') {
        quotes.push(Some(b'\''));
    }
    if has(b'"') {
        quotes.push(None);
    }
    let backslash_before = |q: u8| text.windows(2).any(|w| w == [b'\\', q]);
    let mut out = Vec::new();
    for &(lead, d) in &delims {
        for &q in &quotes {
            if q == Some(d) {
                continue;
            }
            out.push(Split {
                delimiter: d,
                lead,
                quote: q,
                escape: None,
            });
            if let Some(qc) = q {
                if d != b'\\' && backslash_before(qc) {
                    out.push(Split {
                        delimiter: d,
                        lead,
                        quote: q,
                        escape: Some(b'\\'),
                    });
                }
            }
        }
    }
    out
}

/// Whether most `$` signs start amounts (`$12.50`: a digit after, no letter or digit
/// before), so `$` is a currency sign, not a delimiter (`1$2$3`).
fn mostly_currency(text: &[u8]) -> bool {
    let (mut signs, mut amounts) = (0usize, 0usize);
    for i in memchr::memchr_iter(b'$', text) {
        signs += 1;
        let before = i.checked_sub(1).and_then(|k| text.get(k));
        let amount = before.is_none_or(|b| !b.is_ascii_alphanumeric())
            && text.get(i + 1).is_some_and(u8::is_ascii_digit);
        amounts += usize::from(amount);
    }
    amounts * 2 > signs
}

/// Whether the `:` at `i` is inside a time of day: one or two digits before it (not part
/// of a longer number or a decimal), exactly two after (`10:30`, `9:05:59.5`, `T10:30Z`),
/// unlike numbers that a colon delimits (`12:378.95:14`).
fn time_colon(text: &[u8], i: usize) -> bool {
    let digit = |k: usize| text.get(k).is_some_and(u8::is_ascii_digit);
    let before = (1..=3).take_while(|&k| i >= k && digit(i - k)).count();
    if !(1..=2).contains(&before) {
        return false;
    }
    let lead_ok = i == before || text.get(i - before - 1).is_none_or(|&c| c != b'.');
    lead_ok && digit(i + 1) && digit(i + 2) && !digit(i + 3)
}

/// A candidate's score and what the winner reports.
#[derive(Debug, Clone, Copy)]
struct Scored {
    score: f64,
    columns: usize,
    consistency: f64,
    typed: f64,
    records: usize,
    skip_lines: usize,
    ragged: bool,
}

/// Records that are table rows (not blank, not comments), without the cut last record when
/// it disagrees with the modal length.
fn table_records(parsed: &Parsed) -> Vec<Record> {
    let mut recs: Vec<Record> = parsed
        .records
        .iter()
        .filter(|r| !r.blank && !r.comment)
        .copied()
        .collect();
    if let Some(last) = recs.last().copied() {
        if !last.complete && recs.len() > 1 {
            let others = recs.get(..recs.len() - 1).unwrap_or_default();
            let base = base_width(parsed, others);
            let mode = modal_len(others.iter().map(|r| width(parsed, r, base)));
            if width(parsed, &last, base) != mode {
                recs.pop();
            }
        }
    }
    recs
}

/// Whether a record ends with an empty, unquoted field: it ends with the delimiter.
fn ends_with_delimiter(parsed: &Parsed, r: &Record) -> bool {
    r.len > 1
        && parsed
            .fields_of(r)
            .last()
            .is_some_and(|f| f.end == f.start && !f.quoted)
}

/// The width of the first record, when it does not end with the delimiter (its last field
/// is a column name or value): what a record ending with one extra delimiter is compared
/// with. `usize::MAX` (no comparison) otherwise.
fn base_width(parsed: &Parsed, recs: &[Record]) -> usize {
    match recs.first() {
        Some(r) if !ends_with_delimiter(parsed, r) => r.len,
        _ => usize::MAX,
    }
}

/// The width a record gives the table: its field count, less one when it ends with the
/// delimiter and is one field wider than the first record (`"1";"2";"3";` under
/// `"a";"b";"c"`): writers add that field, and it says nothing about the table's width.
fn width(parsed: &Parsed, r: &Record, base: usize) -> usize {
    if base != usize::MAX && r.len == base + 1 && ends_with_delimiter(parsed, r) {
        base
    } else {
        r.len
    }
}

/// Most frequent value (ties: the larger).
fn modal_len(lens: impl Iterator<Item = usize>) -> usize {
    let mut counts: Vec<(usize, usize)> = Vec::new();
    for l in lens {
        match counts.iter_mut().find(|(k, _)| *k == l) {
            Some((_, n)) => *n += 1,
            None => counts.push((l, 1)),
        }
    }
    counts
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)))
        .map_or(0, |&(k, _)| k)
}

/// Index (into `recs`) of the first record of the table: leading records shorter than the
/// modal length, or as long but with at most one value, are a preamble (at most half of the
/// records).
fn block_start(parsed: &Parsed, recs: &[Record]) -> usize {
    let base = base_width(parsed, recs);
    let width = |r: &Record| width(parsed, r, base);
    let mode = modal_len(recs.iter().map(width));
    // A title padded with delimiters (`Report 2024,,,,`) is as wide as the table but holds
    // at most one value.
    let padded_title = |r: &Record| {
        mode >= 3
            && width(r) == mode
            && parsed
                .fields_of(r)
                .iter()
                .filter(|f| f.end > f.start)
                .count()
                <= 1
    };
    let mut s = 0;
    while s < recs.len() / 2
        && recs
            .get(s)
            .is_some_and(|r| width(r) < mode || padded_title(r))
    {
        s += 1;
    }
    // A title holding the delimiter (`Created by X, Sample 12, 11 Feb`) above a narrower
    // table, or a first line much wider than every record after it: read as the header it
    // would make nearly every record the wrong width, so it is a preamble line. Only when
    // the records after it agree on their width.
    // A header with extra empty cells (`id,,name`) is fitted to the table instead.
    let values = |r: &Record| {
        parsed
            .fields_of(r)
            .iter()
            .filter(|f| f.end > f.start)
            .count()
    };
    let wider = |r: &Record| width(r) > mode && mode >= 1 && values(r) > mode;
    while s < recs.len() / 2
        && recs.get(s).is_some_and(wider)
        && recs.get(s + 1..).is_some_and(|rest| {
            rest.len() >= 2
                && rest.iter().filter(|r| width(r) == mode).count() * 10 >= rest.len() * 9
        })
    {
        s += 1;
    }
    s
}

/// Physical lines before the table under a parse.
fn leading_skip(parsed: &Parsed) -> usize {
    let recs = table_records(parsed);
    let s = block_start(parsed, &recs);
    recs.get(s).map_or(0, |r| r.line)
}

fn score(text: &[u8], parsed: &Parsed, sp: Split, floor: f64) -> Option<Scored> {
    let recs = table_records(parsed);
    if recs.is_empty() {
        return None;
    }
    let s = block_start(parsed, &recs);
    let block = recs.get(s..).unwrap_or_default();
    let mut lens: Vec<(usize, usize)> = Vec::new();
    let base = base_width(parsed, block);
    for r in block {
        let len = width(parsed, r, base);
        match lens.iter_mut().find(|(k, _)| *k == len) {
            Some((_, n)) => *n += 1,
            None => lens.push((len, 1)),
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let pattern = lens
        .iter()
        .map(|&(l, n)| n as f64 * (l.saturating_sub(1)) as f64 / l.max(1) as f64)
        .sum::<f64>()
        / lens.len().max(1) as f64;
    let (columns, modal_n) = lens
        .iter()
        .copied()
        .max_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)))
        .unwrap_or((0, 0));
    // Consistency needs the usual length seen at least twice (when there are two records).
    if modal_n < 2 && recs.len() >= 2 {
        return None;
    }
    // Records set aside as a preamble cost a little: a table should explain most lines.
    #[allow(clippy::cast_precision_loss)]
    let pattern = pattern * (block.len() as f64 / recs.len().max(1) as f64).sqrt();
    if pattern <= 0.0 || pattern < floor {
        return None;
    }
    // Type score over the first records of the block.
    let mut known = 0usize;
    let mut cells = 0usize;
    let mut whole_typed = 0usize;
    let mut split_rows = 0usize;
    let mut quote_rows = 0usize;
    let mut torn_rows = 0usize;
    let mut tab_rows = 0usize;
    let mut rows_seen = 0usize;
    let mut values = 0usize;
    // Closed quoted fields, and those among them that needed quoting.
    let mut closed_quoted = 0usize;
    let mut needed_quotes = 0usize;
    for r in block.iter().take(MAX_TYPED_RECORDS) {
        let mut quotes = false;
        let mut opens = false;
        let mut closes = false;
        let mut tabs = false;
        rows_seen += 1;
        for f in parsed.fields_of(r) {
            cells += 1;
            let cell = text.get(f.start..f.end).unwrap_or_default();
            tabs |= sp.delimiter != b'\t' && !f.quoted && cell.contains(&b'\t');
            let kind = classify(cell);
            values += usize::from(kind != super::types::CellKind::Empty);
            if f.quoted && r.complete {
                closed_quoted += 1;
                let special = |b: &u8| {
                    matches!(b, b'\n' | b'\r') || *b == sp.delimiter || Some(*b) == sp.quote
                };
                needed_quotes += usize::from(cell.iter().any(special));
            }
            let ok = !f.anomaly && (f.quoted || kind.known());
            // A number or date standing alone in its cell counts twice: a split that
            // isolates them explains the line better than one that keeps them in text.
            let weight = if ok && kind.typed() { 2 } else { 1 };
            known += usize::from(ok) * weight;
            cells += weight - 1;
            if sp.quote.is_none() {
                let first = cell.first().copied();
                let last = cell.last().copied();
                let is_q = |b: Option<u8>| matches!(b, Some(b'"' | b'\''));
                quotes |= is_q(first) || is_q(last);
                opens |= is_q(first) && (cell.len() == 1 || last != first);
                closes |= is_q(last) && (cell.len() == 1 || first != last);
            }
        }
        quote_rows += usize::from(quotes);
        tab_rows += usize::from(tabs);
        // A field opening a quote and a later one closing it: a quoted value torn apart.
        torn_rows += usize::from(opens && closes);
        if r.len > 1 {
            split_rows += 1;
            // A whole line that is one number or date/time should not be split (a line
            // that starts or ends with the delimiter holds an empty field besides).
            let line = text.get(r.start..r.end).unwrap_or_default();
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let edged = line.first() == Some(&sp.delimiter) || line.last() == Some(&sp.delimiter);
            if line.len() <= 40
                && !edged
                && matches!(
                    classify(line),
                    super::types::CellKind::Number | super::types::CellKind::DateTime
                )
            {
                whole_typed += 1;
            }
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let typed = known as f64 / cells.max(1) as f64;
    #[allow(clippy::cast_precision_loss)]
    let whole_penalty = 1.0 - whole_typed as f64 / split_rows.max(1) as f64;
    // A candidate that only splits the preamble/title away from nothing, or only finds empty
    // cells (lines holding just the delimiter), is not a table.
    if whole_penalty < 0.5 || values == 0 {
        return None;
    }
    // Apostrophes are common in text: quoting with them takes two closed quoted fields, or
    // one that needed quoting (it holds a delimiter, a line break or the quote itself). A
    // lone `'0'`, or an apostrophe that opens a field never closed, is not enough.
    if sp.quote == Some(b'\'') && closed_quoted < 2 && needed_quotes == 0 {
        return None;
    }
    // Reading without quotes while most quoted-looking rows would be torn apart: the quote
    // character is real, and a quote-aware reading (perhaps of one column) is right.
    if torn_rows > 0 && torn_rows * 2 >= quote_rows {
        return None;
    }
    let mut score = pattern * typed.max(1e-3) * whole_penalty;
    // Values hardly ever hold tabs: rows whose fields do are split at the wrong byte (a
    // tab-separated file whose text has as many commas on every line, `Austin, TX`).
    #[allow(clippy::cast_precision_loss)]
    let tabbed = tab_rows as f64 / rows_seen.max(1) as f64;
    score *= 1.0 - 0.5 * tabbed;
    // Spaces also separate words inside text values, so a space split must explain the
    // values' types fully to win over a delimiter that keeps the text together.
    if sp.delimiter == b' ' {
        score *= typed;
    }
    #[allow(clippy::cast_precision_loss)]
    let consistency = modal_n as f64 / block.len().max(1) as f64;
    Some(Scored {
        score,
        columns,
        consistency,
        typed,
        records: block.len(),
        skip_lines: block.first().map_or(0, |r| r.line),
        ragged: lens.len() > 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        name: &'static str,
        text: &'static str,
        delimiter: u8,
        quote: Option<u8>,
        escape: Option<u8>,
        header: Option<bool>,
        skip: usize,
    }

    const fn case(name: &'static str, text: &'static str, delimiter: u8) -> Case {
        Case {
            name,
            text,
            delimiter,
            quote: Some(b'"'),
            escape: None,
            header: None,
            skip: 0,
        }
    }

    impl Case {
        const fn quote(mut self, q: Option<u8>) -> Self {
            self.quote = q;
            self
        }
        const fn escape(mut self, e: u8) -> Self {
            self.escape = Some(e);
            self
        }
        const fn header(mut self, h: bool) -> Self {
            self.header = Some(h);
            self
        }
        const fn skip(mut self, s: usize) -> Self {
            self.skip = s;
            self
        }
    }

    fn cases() -> Vec<Case> {
        vec![
            case("comma", "a,b,c\n1,2,3\n4,5,6\n", b',').header(true),
            case("tab", "name\tage\tcity\nAnn\t31\tOslo\nBob\t42\tRome\n", b'\t').header(true),
            case("semicolon", "id;name;score\n1;Ann;3.5\n2;Bob;4.25\n3;Cy;1\n", b';').header(true),
            case("pipe", "id|name|score\n1|Ann|3.5\n2|Bob|4.25\n", b'|').header(true),
            case("colon", "user:uid:gid:home\nroot:0:0:/root\ndaemon:1:1:/usr/sbin\nbin:2:2:/bin\n", b':'),
            case("space", "x y z\n1 2 3\n4 5 6\n7 8 9\n", b' '),
            // A date and a number are two values, not one date.
            case(
                "space, dates and numbers",
                "day value\n2024-09-06 389.2\n2024-11-28 -49.825\n2024-11-19 640.4\n",
                b' ',
            )
            .header(true),
            // Text with as many commas on every line does not make a tab-separated file
            // comma-separated: the comma split leaves tabs inside values.
            case(
                "tabs, with commas in the text",
                "city\tzip\tnote\nAustin, TX\t73301\tAnn Lee, Boston, MA\nDenver, CO\t80014\tBob Stone, Austin, TX\nBoston, MA\t02108\tCy Twombly, Denver, CO\n",
                b'\t',
            )
            .header(true),
            case("dollar", "a$b$c\n1$2$3\n4$5$6\n7$8$9\n", b'$'),
            // `$` before amounts is a currency sign, not a delimiter.
            case(
                "space, amounts",
                "price tax\n$12.50 $1.10\n$33.10 $2.95\n$7.00 $0.61\n$18.20 $1.60\n",
                b' ',
            )
            .header(true),
            // Numbers a colon separates are not times.
            case(
                "colon between numbers",
                "2024-03-14::75350:378.95\n2024-02-08:x:15100:385.172\n2024-08-17::90966:878.44\n",
                b':',
            ),
            case("caret", "a^b^c\n1^2^3\n4^5^6\n", b'^'),
            case("tilde", "a~b~c\n1~2~3\n4~5~6\n", b'~'),
            case("hash", "a#b#c\n1#2#3\n4#5#6\n", b'#'),
            case("other punctuation (=)", "k=v=w\n1=2=3\n4=5=6\n7=8=9\n", b'='),
            case(
                "quoted delimiters",
                "name,address,zip\n\"Smith, J\",\"1 Main St, Springfield\",12345\n\"Doe, A\",\"2 Elm St, Shelbyville\",54321\n",
                b',',
            )
            .header(true),
            case(
                "quoted newlines",
                "id,note\n1,\"line one\nline two\"\n2,\"single\"\n3,\"a\nb\nc\"\n",
                b',',
            )
            .header(true),
            case(
                "one quoted column with commas inside",
                "\"#,#00\"\n\"12,34\"\n\"1,000\"\n\"5,5\"\n",
                b',',
            ),
            case(
                "spaces inside text, comma between",
                "id,text\n1,seoul gangnam teheran 1\n2,seoul gangnam teheran 2\n3,seoul gangnam teheran 3\n4,seoul gangnam teheran 4\n",
                b',',
            )
            .header(true),
            case(
                "an empty string in apostrophes is no evidence for quoting with them",
                "c0,c1\nsentinel,sentinel\n,''\n",
                b',',
            )
            .header(true),
            case(
                "title and blank line padded with delimiters",
                "Quarterly report,,,\n,,,\nid,name,qty,price\n1,a,2,3.5\n2,b,4,1.25\n3,c,1,9.0\n4,d,7,2.0\n",
                b',',
            )
            .header(true)
            .skip(2),
            case(
                "cells holding lists separated by another delimiter",
                "col1,col2\n1;2;3,4;5;6\na;b;c,d;e;f\n",
                b',',
            )
            .header(true),
            case(
                "title with a comma above rows with one decimal comma each",
                "Sales report, all regions\nnorth;apples;1,5\nsouth;pears;2,5\neast;plums;3,75\n",
                b';',
            )
            .header(false)
            .skip(1),
            case(
                "header that lost a delimiter",
                "idname,date,qty,price\n1,a,2024-01-01,2,3.5\n2,b,2024-01-02,4,1.25\n3,c,2024-01-03,1,9.0\n4,d,2024-01-04,7,2.0\n",
                b',',
            )
            .header(true),
            case(
                "header written as a comment",
                "##fileformat=x\n#chrom\tpos\tid\n1\t100\t7\n1\t200\t8\n2\t300\t9\n",
                b'\t',
            )
            .header(true)
            .skip(1),
            case(
                "a comment above a header stays a comment",
                "# exported 2024\nid,name\n1,a\n2,b\n3,c\n",
                b',',
            )
            .header(true)
            .skip(1),
            case(
                "single quote char",
                "id,name,note\n1,'Smith, J','a, b'\n2,'Doe, A','c, d'\n3,'Roe, R','e, f'\n",
                b',',
            )
            .quote(Some(b'\'')),
            case(
                "backslash escape",
                "id,quote\n1,\"she said \\\"hi, there\\\"\"\n2,\"plain\"\n3,\"x \\\"y\\\" z\"\n",
                b',',
            )
            .escape(b'\\'),
            case(
                "doubled quotes",
                "id,quote\n1,\"she said \"\"hi, there\"\"\"\n2,\"plain\"\n3,\"x \"\"y\"\" z\"\n",
                b',',
            ),
            case(
                "title preamble",
                "Quarterly report\nGenerated 2024-05-01\n\nregion,q1,q2\nnorth,1,2\nsouth,3,4\neast,5,6\n",
                b',',
            )
            .skip(3)
            .header(true),
            case(
                "one quoted column holding commas and apostrophes",
                "\"c0\"\n\"sentinel\"\n\",\"\n\"0\"\n\",\"\n\"',\"\n",
                b',',
            )
            .header(true),
            case(
                "comment lines",
                "# exported by tool\n# version 3\nx;y\n1;2\n3;4\n5;6\n",
                b';',
            )
            .skip(2)
            .header(true),
            case("crlf", "a,b,c\r\n1,2,3\r\n4,5,6\r\n", b','),
            case("cr only", "a;b;c\r1;2;3\r4;5;6\r", b';'),
            case(
                "ragged rows",
                "a,b,c,d\n1,2,3,4\n5,6\n7,8,9,10\n11,12,13\n14,15,16,17\n",
                b',',
            ),
            case(
                "no header",
                "1,2.5,2024-01-01\n2,3.5,2024-01-02\n3,4.5,2024-01-03\n",
                b',',
            )
            .header(false)
            .quote(Some(b'"')),
            case("single column", "name\nAnn\nBob\nCy\n", b',').header(true),
            case("single column numbers", "value\n1\n2\n3\n", b','),
            case(
                "thousands separators",
                "item,amount\nA,\"1,234.50\"\nB,\"12,345.00\"\nC,99.99\n",
                b',',
            )
            .header(true),
            case(
                "european decimals",
                "artikel;preis;menge\nApfel;1,25;3\nBirne;0,99;12\nKirsche;12,50;1\nPflaume;3,10;7\n",
                b';',
            )
            .header(true),
            case(
                "european thousands",
                "konto;saldo\nA;1.234,56\nB;12.345,00\nC;-0,50\n",
                b';',
            )
            .header(true),
            case(
                "delimiter mostly inside quotes",
                "id;text;n\n1;\"a, b, c, d\";5\n2;\"e, f, g\";6\n3;\"h, i, j, k, l\";7\n4;\"m, n\";8\n",
                b';',
            )
            .header(true),
            case(
                "all fields quoted, commas inside",
                "\"id\";\"text\"\n\"1\";\"a, b, c\"\n\"2\";\"d, e\"\n\"3\";\"f, g, h, i\"\n",
                b';',
            ),
            case(
                "last line without newline",
                "a|b\n1|2\n3|4",
                b'|',
            ),
            case(
                "sample cut mid-line",
                "a,b,c\n1,2,3\n4,5,6\n7,8",
                b',',
            ),
            case(
                "blank lines",
                "a,b\n\n1,2\n\n3,4\n\n",
                b',',
            ),
            case(
                "tabs with spaces in text",
                "first name\tlast name\tcity\nAnn Lee\tSmith\tNew York\nBob\tvan der Berg\tSan Francisco\n",
                b'\t',
            )
            .header(true),
            case(
                "commas in text, tab delimited",
                "id\tcomment\n1\tyes, very much, indeed\n2\tno, not at all\n3\tmaybe, perhaps\n",
                b'\t',
            ),
            case(
                "timestamps with colons, comma delimited",
                "when,value\n2024-01-01 10:00:00,1\n2024-01-01 11:30:00,2\n2024-01-01 12:45:10,3\n",
                b',',
            )
            .header(true),
            case("single column dates", "2024-01-01\n2024-01-02\n2024-01-03\n", b','),
            case("single column times", "10:00:00\n11:00:00\n12:00:00\n", b','),
            case(
                "pipe with quoted pipes",
                "a|b\n\"x|y\"|1\n\"z|w|v\"|2\n\"q\"|3\n",
                b'|',
            ),
            case(
                "key value preamble",
                "Station: Oslo\nUnit: mm\ndate,rain,temp,wind\n2024-01-01,0.5,-3,4\n2024-01-02,1.5,-1,6\n2024-01-03,0,2,3\n",
                b',',
            )
            .skip(2)
            .header(true),
            case(
                "utf8 bom",
                "\u{feff}a;b\n1;2\n3;4\n",
                b';',
            ),
            case(
                "spaces after delimiter",
                "a, b, c\n1, 2, 3\n4, 5, 6\n",
                b',',
            ),
            case(
                "short file, a data row ending with the delimiter",
                "\"a\";\"b\";\"c\"\n\"1\";\"2\";\"3\";\n",
                b';',
            )
            .header(true),
            case(
                "quoted line break in the last field",
                "\"a\";\"b\"\n\"1\";\"x\ny\"\n\"2\";\"z\"\n",
                b';',
            )
            .header(true),
            case(
                "title holding the delimiter above a two-column table",
                "Created by X, Sample 12, Saturday, 11 Feb\nname,value\na,1\nb,2\nc,3\nd,4\n",
                b',',
            )
            .skip(1)
            .header(true),
            case(
                "first line much wider than the records",
                "a,b,c,d,e,f\n1,2\n3,4\n5,6\n",
                b',',
            )
            .skip(1)
            .header(false),
            case(
                "header with an empty cell is fitted, not skipped",
                "id,,name\n1,a\n2,b\n3,c\n",
                b',',
            )
            .header(true),
            case(
                "pipes inside values, commas between them",
                "id,tags\n1,a|b|c|d\n2,e|f|g|h\n3,i|j|k|l\n",
                b',',
            )
            .header(true),
            case(
                "prose with spaces, commas between fields",
                "name,comment\nann,hello big world\nbob,hi there you\ncid,so so so\n",
                b',',
            )
            .header(true),
        ]
    }

    #[test]
    fn table() {
        let mut failures = Vec::new();
        for c in cases() {
            let got = dialect(c.text.as_bytes());
            let d = got.value;
            let mut bad = Vec::new();
            if d.delimiter != c.delimiter {
                bad.push(format!(
                    "delimiter {:?} want {:?}",
                    char::from(d.delimiter),
                    char::from(c.delimiter)
                ));
            }
            if c.text.contains(['"', '\'']) && d.quote != c.quote {
                bad.push(format!(
                    "quote {:?} want {:?}",
                    d.quote.map(char::from),
                    c.quote.map(char::from)
                ));
            }
            if d.escape != c.escape {
                bad.push(format!("escape {:?} want {:?}", d.escape, c.escape));
            }
            if let Some(h) = c.header {
                if d.header != h {
                    bad.push(format!("header {} want {h}", d.header));
                }
            }
            if d.skip_lines != c.skip {
                bad.push(format!("skip {} want {}", d.skip_lines, c.skip));
            }
            if !bad.is_empty() {
                failures.push(format!("{}: {} ({})", c.name, bad.join(", "), got.evidence));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn colons_in_times_are_told_from_colons_between_numbers() {
        let times = b"10:30 x\n2024-01-01T09:05:59.5Z\n";
        let found: Vec<usize> = memchr::memchr_iter(b':', times)
            .filter(|&i| time_colon(times, i))
            .collect();
        assert_eq!(found, [2, 21, 24]);
        for text in [
            &b"12:378.95:14"[..],
            b"2024-03-14::75350:378",
            b"0.33:85.87",
        ] {
            assert!(
                memchr::memchr_iter(b':', text).all(|i| !time_colon(text, i)),
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn terminators_and_ragged() {
        assert_eq!(
            dialect(b"a,b\r\n1,2\r\n").value.terminator,
            Terminator::CrLf
        );
        assert_eq!(dialect(b"a,b\r1,2\r").value.terminator, Terminator::Cr);
        assert_eq!(dialect(b"a,b\n1,2\n").value.terminator, Terminator::Lf);
        assert!(dialect(b"a,b,c\n1,2,3\n4,5\n6,7,8\n").value.ragged);
        assert!(!dialect(b"a,b,c\n1,2,3\n4,5,6\n").value.ragged);
    }

    #[test]
    fn single_column_is_a_low_confidence_comma() {
        let got = dialect(b"word\nanother\nthird\n");
        assert_eq!(got.value.delimiter, b',');
        assert!(got.confidence < 0.5);
        let got = dialect(b"");
        assert_eq!(got.value.delimiter, b',');
        // Lines that hold just a delimiter split into empty cells: no table there.
        let got = dialect("c0\r\nsentinel\r\n§\r\n§\r\n'\r\n".as_bytes());
        assert_eq!((got.value.delimiter, got.value.skip_lines), (b',', 0));
    }

    #[test]
    fn apostrophes_quote_only_on_enough_evidence() {
        let quote = |t: &str| dialect(t.as_bytes()).value.quote;
        // One quoted-looking value, or an apostrophe that opens a field never closed: text.
        assert_eq!(quote("c0,c1\r\nsentinel,sentinel\r\n,'0'\r\n"), Some(b'"'));
        assert_eq!(quote("c0,c1\r\nsentinel,sentinel\r\n,'\t\r\n"), Some(b'"'));
        // Two closed quoted fields, or one that needed its quotes: quoting.
        assert_eq!(
            quote("'col0','col1'\n0.0,0.0\n1.5,2.5\n3.0,4.0\n"),
            Some(b'\'')
        );
        assert_eq!(quote("a,b\n1,'x, y'\n2,z\n3,w\n"), Some(b'\''));
    }

    #[test]
    fn quoting_follows_the_delimiter_given() {
        let single = b"a;b,c\n'x;1,2',3\n'y;3,4',5\n";
        assert_eq!(quoting_for(single, b',', None), (Some(b'\''), None));
        let double = b"a;b,c\n\"x;1,2\",3\n\"y;3,4\",5\n";
        assert_eq!(quoting_for(double, b',', None), (Some(b'"'), None));
        // A delimiter that does not occur: double quotes (a lone `'` is text).
        let none = "c0\r\nsentinel\r\n§\r\n§\r\n'\r\n".as_bytes();
        assert_eq!(quoting_for(none, b',', None), (Some(b'"'), None));
    }

    #[test]
    fn two_byte_delimiters_are_candidates() {
        let text = "id§name§note\n1§Ann§ça va\n2§\"Bob § Jr\"§x\n3§Çé§y\n4§z§w\n";
        let got = dialect(text.as_bytes()).value;
        assert_eq!(
            (got.delimiter_lead, got.delimiter),
            (Some(0xC2), 0xA7),
            "{got:?}"
        );
        assert!(got.header);
        // A § inside a pipe-delimited table's text does not win.
        let text = "id|note\n1|see §2\n2|plain\n3|also §4\n4|x\n";
        let got = dialect(text.as_bytes()).value;
        assert_eq!((got.delimiter_lead, got.delimiter), (None, b'|'));
        // Other two-byte symbols only when on most lines.
        let text = "a¦b¦c\n1¦2¦3\n4¦5¦6\n7¦8¦9\n";
        let got = dialect(text.as_bytes()).value;
        assert_eq!((got.delimiter_lead, got.delimiter), (Some(0xC2), 0xA6));
    }
}
