//! Does the first record of a table name its columns?

use super::dialect::Dialect;
use super::parse::{parse, Parsed, Split};
use super::types::{classify, CellKind};
use super::Finding;

/// Records of the body compared with the first one.
const BODY_RECORDS: usize = 100;

/// Decides whether the first record of the table (after [`Dialect::skip_lines`]) is a header.
///
/// Per column, the first cell votes:
/// - for a header when it is non-empty text while the cells below are typed (numbers, dates,
///   booleans), or when its length or character classes differ from cells below that all
///   look alike;
/// - against when it has the type or the shape of the cells below.
///
/// Empty or repeated first-row cells count against, since column names are rarely blank or
/// duplicated. With no vote either way, a first row of distinct non-empty words is taken as a
/// header (most files have one).
pub fn header(sample: &[u8], d: &Dialect) -> Finding<bool> {
    let text = sample.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(sample);
    let mut parsed = Parsed::default();
    parse(
        text,
        Split {
            delimiter: d.delimiter,
            lead: d.delimiter_lead,
            quote: d.quote,
            escape: d.escape,
        },
        super::dialect::MAX_RECORDS,
        &mut parsed,
    );
    header_in(text, &parsed, d)
}

/// A cell's content and kind.
fn cell(text: &[u8], start: usize, end: usize) -> (&[u8], CellKind) {
    let raw = text.get(start..end).unwrap_or_default();
    let t = trim(raw);
    (t, classify(t))
}

fn trim(b: &[u8]) -> &[u8] {
    let s = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let e = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(s, |e| e + 1);
    b.get(s..e).unwrap_or_default()
}

/// Character-class shape of a value: which of upper, lower, digit, other it uses.
fn shape(v: &[u8]) -> u8 {
    let mut s = 0u8;
    for &b in v {
        s |= if b.is_ascii_uppercase() {
            1
        } else if b.is_ascii_lowercase() || b >= 0x80 {
            2
        } else if b.is_ascii_digit() {
            4
        } else if b != b' ' {
            8
        } else {
            0
        };
    }
    s
}

/// Header decision on an existing parse of the sample under `d`.
pub(crate) fn header_in(text: &[u8], parsed: &Parsed, d: &Dialect) -> Finding<bool> {
    let rows: Vec<_> = parsed
        .records
        .iter()
        .filter(|r| r.line >= d.skip_lines && !r.blank && !r.comment)
        .collect();
    let Some(first) = rows.first() else {
        return Finding::new(true, 0.0, "no records");
    };
    // The body: complete records (or the last one, when it is as long as the first), less
    // copies of the first record (a header repeated mid-file, as in concatenated exports).
    let raw_fields = |r: &super::parse::Record| -> Vec<&[u8]> {
        parsed
            .fields_of(r)
            .iter()
            .map(|f| text.get(f.start..f.end).unwrap_or_default())
            .collect()
    };
    let first_raw = raw_fields(first);
    let body: Vec<_> = rows
        .iter()
        .skip(1)
        .filter(|r| r.complete || r.len == first.len)
        .filter(|r| r.len != first.len || raw_fields(r) != first_raw)
        .take(BODY_RECORDS)
        .collect();
    let head: Vec<(&[u8], CellKind)> = parsed
        .fields_of(first)
        .iter()
        .map(|f| cell(text, f.start, f.end))
        .collect();
    let head_typed = head.iter().filter(|(_, k)| k.typed()).count();
    let head_empty = head.iter().filter(|(_, k)| *k == CellKind::Empty).count();
    let mut distinct: Vec<&[u8]> = head
        .iter()
        .map(|(v, _)| *v)
        .filter(|v| !v.is_empty())
        .collect();
    let non_empty = distinct.len();
    distinct.sort_unstable();
    distinct.dedup();
    let duplicates = non_empty - distinct.len();

    if body.is_empty() {
        let h = head_typed == 0 && head_empty == 0 && duplicates == 0;
        return Finding::new(h, 0.3, "one record: a header if it is all distinct text");
    }

    let mut votes = 0.0f64;
    let mut voters = 0usize;
    for (j, (hv, hk)) in head.iter().enumerate() {
        let mut kinds = [0usize; 3]; // typed-same-as-majority bookkeeping below
        let mut body_kinds: Vec<CellKind> = Vec::with_capacity(body.len());
        let mut lens: Vec<usize> = Vec::with_capacity(body.len());
        let mut shapes: Vec<u8> = Vec::with_capacity(body.len());
        let mut values: Vec<&[u8]> = Vec::with_capacity(body.len());
        for r in &body {
            let Some(f) = parsed.fields_of(r).get(j) else {
                continue;
            };
            let (v, k) = cell(text, f.start, f.end);
            if k == CellKind::Empty || k == CellKind::Null {
                continue;
            }
            body_kinds.push(k);
            lens.push(v.chars_len());
            shapes.push(shape(v));
            values.push(v);
        }
        let _ = &mut kinds;
        let n = body_kinds.len();
        if n == 0 {
            continue;
        }
        // The body's dominant kind.
        let mut best = (CellKind::Other, 0usize);
        for k in [
            CellKind::Number,
            CellKind::DateTime,
            CellKind::Bool,
            CellKind::Link,
            CellKind::Word,
            CellKind::Other,
        ] {
            let c = body_kinds.iter().filter(|&&x| x == k).count();
            if c > best.1 {
                best = (k, c);
            }
        }
        let dominant = best.1 * 10 >= n * 8;
        if *hk == CellKind::Empty {
            votes -= 0.5;
            voters += 1;
            continue;
        }
        if dominant && best.0.typed() {
            voters += 1;
            if *hk == best.0 {
                votes -= 1.0;
            } else if !hk.typed() {
                votes += 1.0;
            }
            continue;
        }
        if hk.typed() {
            // A number or a date heading a text column: data, most likely.
            voters += 1;
            votes -= 0.5;
            continue;
        }
        // Text column: compare length and shape with the body.
        let hlen = hv.chars_len();
        let min = lens.iter().copied().min().unwrap_or(0);
        let max = lens.iter().copied().max().unwrap_or(0);
        let same_len = min == max;
        let shape0 = shapes.first().copied().unwrap_or(0);
        let same_shape = shapes.iter().all(|&s| s == shape0);
        let mut voted = false;
        // Values repeat below, yet the first value never does: a name, not a value.
        let mut sorted = values.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() < values.len() && !values.contains(hv) {
            voted = true;
            voters += 1;
            votes += 0.5;
        }
        if same_len && n >= 3 {
            voted = true;
            voters += 1;
            votes += if hlen == min { -1.0 } else { 1.0 };
        }
        if same_shape && n >= 2 {
            if !voted {
                voters += 1;
            }
            voted = true;
            if shape(hv) != shape0 {
                votes += 0.75;
            } else if !matches!(shape0, 2 | 3) {
                // Same distinctive shape (codes, upper case, digits): data-like. Plain
                // words in the same case say nothing.
                votes -= 0.5;
            }
        }
        if voted {
            continue;
        }
        if hlen < min || hlen > max {
            voters += 1;
            votes += 0.25;
        } else {
            // Values below look like the header value: does it recur in the column?
            let recurs = body.iter().any(|r| {
                parsed
                    .fields_of(r)
                    .get(j)
                    .is_some_and(|f| trim(text.get(f.start..f.end).unwrap_or_default()) == *hv)
            });
            if recurs {
                voters += 1;
                votes -= 0.5;
            }
        }
    }
    if duplicates > 0 {
        votes -= 1.0;
        voters += 1;
    }
    // A first row of a different length than the body is odd for both; no vote.
    #[allow(clippy::cast_precision_loss)]
    let strength = if voters > 0 {
        votes / voters as f64
    } else {
        0.0
    };
    let (h, conf, why) = if votes > 0.0 {
        (
            true,
            0.5 + 0.5 * strength.min(1.0),
            "first row differs from the columns below",
        )
    } else if votes < 0.0 {
        (
            false,
            0.5 + 0.5 * (-strength).min(1.0),
            "first row looks like the data below",
        )
    } else {
        let h = head_typed == 0 && head_empty == 0 && duplicates == 0;
        (
            h,
            0.3,
            "no column votes; default by the first row's own cells",
        )
    };
    #[allow(clippy::cast_possible_truncation)]
    Finding::new(
        h,
        conf as f32,
        format!("{why} (score {votes:+.1} over {voters} columns)"),
    )
}

trait CharsLen {
    fn chars_len(&self) -> usize;
}

impl CharsLen for [u8] {
    /// Number of UTF-8 characters (counts non-continuation bytes).
    fn chars_len(&self) -> usize {
        self.iter().filter(|&&b| b & 0xC0 != 0x80).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_cases() {
        let comma = Dialect::default();
        for (text, want) in [
            ("id,name,score\n1,Ann,3.5\n2,Bob,4.0\n", true),
            ("1,Ann,3.5\n2,Bob,4.0\n3,Cy,1.5\n", false),
            ("when,value\n2024-01-01,1\n2024-01-02,2\n", true),
            ("2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n", false),
            ("code,country\nAB,Aland\nCD,Congo\nEF,Effland\n", true),
            ("AB,Aland\nCD,Congo\nEF,Effland\nGH,Ghana\n", false),
            ("Surname,FamilyName\nHomer,Simpson\nMarge,Simpson\nNed,Flanders\nKrusty,the Clown\n", true),
            ("Profession\nFinance\nInformation Technology\n", true),
            ("name,city\nAnn Lee,Oslo\nBob Smith,Rome\n", true),
            ("Ann,Ann\nBob,Cy\nDan,Eve\n", false),
            (",a,b\n1,2,3\n4,5,6\n", true),
            ("name\nAnn\nBob\n", true),
            ("flag,n\ntrue,1\nfalse,2\n", true),
            ("true,1\nfalse,2\ntrue,3\n", false),
            // A header repeated mid-file (concatenated exports) is not body evidence.
            ("a,b\n1,2\na,b\n3,4\n", true),
            ("id,name\n1,Ann\nid,name\n2,Bob\nid,name\n", true),
        ] {
            let got = header(text.as_bytes(), &comma);
            assert_eq!(got.value, want, "{text:?}: {}", got.evidence);
        }
    }

    #[test]
    fn header_after_preamble() {
        let d = Dialect {
            skip_lines: 2,
            ..Dialect::default()
        };
        assert!(header(b"title\n\nid,v\n1,2\n3,4\n", &d).value);
    }
}
