//! Round trip: random tables written with a random dialect are detected back.

use proptest::prelude::*;

use super::dialect;

/// Delimiters the property tests write with.
const DELIMS: [u8; 9] = [b',', b'\t', b';', b'|', b':', b' ', b'^', b'~', b'#'];
const QUOTES: [u8; 2] = [b'"', b'\''];
const WORDS: [&str; 12] = [
    "alpha",
    "beta",
    "gamma",
    "New York",
    "São Paulo",
    "x1",
    "ID-42",
    "foo_bar",
    "Zürich",
    "north east",
    "ok",
    "Smith",
];

#[derive(Debug, Clone)]
enum Cell {
    Int(i64),
    Dec(i32, u8),
    Word(usize),
    /// Text with the delimiter inside (must be quoted).
    WithDelim(usize, usize),
    /// Text with the quote character inside (quoted, doubled).
    WithQuote(usize),
}

fn cell() -> impl Strategy<Value = Cell> {
    prop_oneof![
        3 => any::<i64>().prop_map(|v| Cell::Int(v % 100_000)),
        2 => (any::<i32>(), 0u8..100).prop_map(|(a, b)| Cell::Dec(a % 10_000, b)),
        3 => (0..WORDS.len()).prop_map(Cell::Word),
        2 => (0..WORDS.len(), 0..WORDS.len()).prop_map(|(a, b)| Cell::WithDelim(a, b)),
        1 => (0..WORDS.len()).prop_map(Cell::WithQuote),
    ]
}

/// A table: per column a kind of cell, so columns are typed like real data.
fn table() -> impl Strategy<Value = Vec<Vec<Cell>>> {
    (2usize..=8, 3usize..=40).prop_flat_map(|(cols, rows)| {
        proptest::collection::vec(proptest::collection::vec(cell(), cols), rows)
    })
}

fn word(i: usize) -> &'static str {
    WORDS.get(i % WORDS.len()).copied().unwrap_or("w")
}

fn write(rows: &[Vec<Cell>], d: u8, q: u8, crlf: bool) -> (String, bool) {
    let dc = char::from(d);
    let qc = char::from(q);
    let mut out = String::new();
    let mut quoted_any = false;
    let header: Vec<String> = (0..rows.first().map_or(0, Vec::len))
        .map(|i| format!("col{i}"))
        .collect();
    out.push_str(&header.join(&dc.to_string()));
    out.push_str(if crlf { "\r\n" } else { "\n" });
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .map(|c| {
                let raw = match c {
                    Cell::Int(v) => v.to_string(),
                    Cell::Dec(a, b) => format!("{a}.{b:02}"),
                    Cell::Word(i) => word(*i).to_string(),
                    Cell::WithDelim(a, b) => format!("{}{dc}{}", word(*a), word(*b)),
                    Cell::WithQuote(a) => format!("{} {qc}x{qc}", word(*a)),
                };
                let needs = raw.contains(dc) || raw.contains(qc) || raw.starts_with(' ');
                if needs {
                    quoted_any = true;
                    format!("{qc}{}{qc}", raw.replace(qc, &format!("{qc}{qc}")))
                } else {
                    raw
                }
            })
            .collect();
        out.push_str(&cells.join(&dc.to_string()));
        out.push_str(if crlf { "\r\n" } else { "\n" });
    }
    (out, quoted_any)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_tables_round_trip(
        rows in table(),
        di in 0..DELIMS.len(),
        qi in 0..QUOTES.len(),
        crlf in any::<bool>(),
    ) {
        let d = DELIMS.get(di).copied().unwrap_or(b',');
        let q = QUOTES.get(qi).copied().unwrap_or(b'"');
        let (text, quoted_any) = write(&rows, d, q, crlf);
        let got = dialect(text.as_bytes());
        prop_assert_eq!(char::from(got.value.delimiter), char::from(d), "{}\n{}", got.evidence, text);
        if quoted_any {
            prop_assert_eq!(got.value.quote, Some(q), "{}\n{}", got.evidence, text);
        }
        prop_assert!(got.value.header, "{}\n{}", got.evidence, text);
        prop_assert_eq!(got.value.skip_lines, 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// No input makes detection panic; confidences stay in range (a quick stand-in for the
    /// `detect` fuzz target).
    #[test]
    fn detection_is_total(
        bytes in proptest::collection::vec(
            prop_oneof![
                4 => proptest::sample::select(b",;\t|:\"'\\\n\r #{}[]<>=a1.-".to_vec()),
                1 => any::<u8>(),
            ],
            0..600,
        )
    ) {
        let d = super::detect(&bytes);
        prop_assert!((0.0..=1.0).contains(&d.format.confidence));
        let dia = dialect(&bytes);
        prop_assert!((0.0..=1.0).contains(&dia.confidence));
        let _ = super::header(&bytes, &dia.value);
        let _ = super::format(&bytes);
        let _ = super::encoding(&bytes);
    }
}
