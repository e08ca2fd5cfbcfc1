//! Detection of what a file is, as pure functions over a byte sample (the first few KiB of
//! the file, typically 64 KiB).
//!
//! The layers run in order, each on what the previous one allows:
//!
//! 1. [`compression()`]: gzip, zstd, bzip2, xz, zip by magic bytes. The caller decompresses
//!    (this module only reports) and runs detection again on the decompressed sample.
//! 2. [`encoding()`]: byte order marks, BOM-less UTF-16/32 by the pattern of zero bytes,
//!    UTF-8 by validation, otherwise a legacy charset guessed by `chardetng`.
//! 3. [`format()`]: binary formats by magic bytes, then text formats by content.
//! 4. [`dialect()`] and [`header()`]: delimiter, quoting, line terminator, preamble and header
//!    of delimited text, chosen by a data-consistency score (row-length consistency times the
//!    share of cells that look like a known type), in the spirit of CleverCSV.
//!
//! [`detect()`] chains them. Every answer is a [`Finding`]: the value, a confidence in
//! `0..=1` and a short human-readable reason. Nothing here panics on any input.
//!
//! ```
//! use logflow_core::detect::{self, Format};
//!
//! let d = detect::detect(b"id;price;when\n1;1.234,50;2024-05-01\n2;7,25;2024-05-02\n");
//! assert_eq!(d.format.value, Format::Csv);
//! let dialect = d.dialect.map(|f| f.value).unwrap_or_default();
//! assert_eq!(dialect.delimiter, b';');
//! assert!(dialect.header);
//! ```

mod compression;
mod dialect;
mod encoding;
mod format;
mod header;
mod parse;
mod types;

#[cfg(test)]
mod proptests;

pub use compression::{compression, Compression};
pub use dialect::{dialect, layout, quoting_for, Dialect, Terminator, DELIMITER_CANDIDATES};
pub(crate) use encoding::to_utf8;
pub use encoding::{encoding, Encoding};
pub(crate) use format::magic;
pub use format::{binary_evidence, format, Format};
pub use header::header;

/// One detected property with how sure detection is about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding<T> {
    /// What was detected.
    pub value: T,
    /// How sure detection is, from 0 (a guess or a default) to 1 (certain, e.g. magic bytes).
    pub confidence: f32,
    /// Why, in a few words (for logs and error messages; not a stable format).
    pub evidence: String,
}

impl<T> Finding<T> {
    /// A finding; the confidence is clamped to `0..=1` (NaN becomes 0).
    pub fn new(value: T, confidence: f32, evidence: impl Into<String>) -> Self {
        let confidence = if confidence.is_nan() {
            0.0
        } else {
            confidence.clamp(0.0, 1.0)
        };
        Finding {
            value,
            confidence,
            evidence: evidence.into(),
        }
    }

    /// The same confidence and evidence around another value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Finding<U> {
        Finding {
            value: f(self.value),
            confidence: self.confidence,
            evidence: self.evidence,
        }
    }
}

/// Everything [`detect()`] found about a sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Compression of the sample. When not [`Compression::None`], the other findings are
    /// placeholders with confidence 0: decompress and detect again.
    pub compression: Finding<Compression>,
    /// Text encoding (meaningless, with confidence 0, for binary formats).
    pub encoding: Finding<Encoding>,
    /// File format.
    pub format: Finding<Format>,
    /// Dialect (with the header decision in [`Dialect::header`]) when the format is delimited
    /// text ([`Format::Csv`]).
    pub dialect: Option<Finding<Dialect>>,
}

/// Runs every detection layer on a sample: compression, then encoding, then format, then the
/// dialect when the format is delimited text.
///
/// Text in a non-UTF-8 encoding is transcoded (a copy of the sample) before format and dialect
/// detection, so the caller gets the dialect the decoder will see after transcoding.
pub fn detect(sample: &[u8]) -> Detection {
    let comp = compression(sample);
    if comp.value != Compression::None {
        let what = comp.value.name();
        return Detection {
            encoding: Finding::new(
                Encoding::Utf8 { bom: false },
                0.0,
                format!("not examined: the sample is {what}-compressed"),
            ),
            format: Finding::new(
                Format::Binary,
                0.0,
                format!("not examined: decompress the {what} stream and detect again"),
            ),
            compression: comp,
            dialect: None,
        };
    }
    // Binary formats first: their bytes say nothing about a text encoding.
    if let Some(f) = format::magic(sample) {
        return Detection {
            compression: comp,
            encoding: Finding::new(
                Encoding::Utf8 { bom: false },
                0.0,
                "not examined: binary format",
            ),
            format: f,
            dialect: None,
        };
    }
    let enc = encoding(sample);
    let text = encoding::to_utf8(sample, &enc.value);
    let fmt = format(&text);
    let dialect = if fmt.value == Format::Csv {
        Some(dialect(&text))
    } else {
        None
    };
    Detection {
        compression: comp,
        encoding: enc,
        format: fmt,
        dialect,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_chains_the_layers() {
        let d = detect(b"\x1f\x8b\x08\x00\x00\x00\x00\x00");
        assert_eq!(d.compression.value, Compression::Gzip);
        assert_eq!(d.format.confidence, 0.0);
        assert!(d.dialect.is_none());

        let d = detect(b"PAR1\x15\x04");
        assert_eq!(d.format.value, Format::Parquet);
        assert!(d.dialect.is_none());

        let d = detect(b"a\tb\tc\n1\t2\t3\n4\t5\t6\n");
        assert_eq!(d.format.value, Format::Csv);
        assert_eq!(d.dialect.map(|f| f.value.delimiter), Some(b'\t'));

        // UTF-16 text is transcoded before the dialect is sniffed.
        let mut utf16 = vec![0xFF, 0xFE];
        for u in "x;y\n1;2\n3;4\n".encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        let d = detect(&utf16);
        assert_eq!(d.encoding.value, Encoding::Utf16Le { bom: true });
        assert_eq!(d.dialect.map(|f| f.value.delimiter), Some(b';'));

        let d = detect(b"");
        assert_eq!(d.format.value, Format::Empty);
    }

    #[test]
    fn findings_clamp_confidence() {
        assert_eq!(Finding::new((), 3.0, "").confidence, 1.0);
        assert_eq!(Finding::new((), f32::NAN, "").confidence, 0.0);
        assert_eq!(Finding::new(1, 0.5, "x").map(|v| v + 1).value, 2);
    }

    /// Timing check, not run by default:
    /// `cargo test --profile fast -p logflow-core detect_timing -- --ignored --nocapture`.
    #[test]
    #[ignore = "timing report; run by hand"]
    #[allow(clippy::print_stdout)]
    fn detect_timing() {
        use std::fmt::Write as _;
        use std::time::Instant;
        let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
        let mut plain = String::from("id,name,amount,when,flag,comment\n");
        let mut quoted = String::from("id;name;amount;when;comment\n");
        let mut i = 0u64;
        while plain.len() < 64 << 10 {
            let _ = writeln!(
                plain,
                "{i},name {i},{}.{:02},2024-01-{:02}T10:00:00,{},plain words here",
                i * 37 % 1000,
                i % 100,
                i % 28 + 1,
                i % 2 == 0
            );
            let _ = writeln!(
                quoted,
                "{i};\"Name; with {i}\";{},{:02};2024-01-{:02};\"said \"\"hi\"\"\nover lines, {i}\"",
                i * 37 % 1000,
                i % 100,
                i % 28 + 1
            );
            i += 1;
        }
        quoted.truncate(64 << 10);
        plain.truncate(64 << 10);
        cases.push(("plain 64 KiB", plain.into_bytes()));
        cases.push(("quoted multiline 64 KiB", quoted.into_bytes()));
        for (name, sample) in &cases {
            let mut times = Vec::new();
            for _ in 0..31 {
                let t = Instant::now();
                let d = detect(sample);
                times.push(t.elapsed());
                assert!(d.dialect.is_some());
            }
            times.sort();
            println!(
                "{name}: median {:?}, min {:?}, max {:?}",
                times.get(times.len() / 2).copied().unwrap_or_default(),
                times.first().copied().unwrap_or_default(),
                times.last().copied().unwrap_or_default()
            );
        }
    }
}
