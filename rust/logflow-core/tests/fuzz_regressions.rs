//! Replays saved fuzz inputs, the bundled CSV samples and a few JSON samples through the
//! fuzz target bodies (`support/fuzz_checks.rs`, `support/json_fuzz_checks.rs`), so a crash
//! found once by `cargo fuzz` stays fixed.
//!
//! Layout: `tests/fuzz_regressions/<target>/<file>`, where `<target>` is a fuzz target name
//! and the file is the raw fuzz input (option bytes first); see the README there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use logflow_core::decode::csv::CsvOptions;
use logflow_core::decode::DecodeOptions;
use logflow_core::decode::ErrorPolicy;
use support::fuzz_checks;
use support::fuzz_checks::Opts;
use support::json_fuzz_checks;
use support::xml_checks;

/// Non-hidden files in `dir` other than READMEs, sorted; none if `dir` does not exist.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            !name.starts_with('.') && !name.eq_ignore_ascii_case("README.md")
        })
        .collect();
    files.sort();
    files
}

/// Runs `check` on every input, then fails once, naming every input that panicked.
fn run_all(cases: Cases, check: impl Fn(&[u8])) {
    let mut failed = Vec::new();
    for (name, data) in &cases {
        if catch_unwind(AssertUnwindSafe(|| check(data))).is_err() {
            failed.push(name.clone());
        }
    }
    assert!(failed.is_empty(), "panicked on: {failed:#?}");
}

/// A fuzz target's check by name; `unfiltered` drops the workarounds for known core bugs.
fn target_fn(name: &str, unfiltered: bool) -> fn(&[u8]) {
    match (name, unfiltered) {
        ("decode_csv", _) => fuzz_checks::decode_csv,
        ("decode_csv_chunked", _) => fuzz_checks::decode_csv_chunked,
        ("input", _) => fuzz_checks::input,
        ("sources", _) => fuzz_checks::sources,
        ("decode_json", _) => json_fuzz_checks::decode_json,
        ("decode_jsonl_lines", _) => json_fuzz_checks::decode_jsonl_lines,
        ("decode_json_chunked", _) => json_fuzz_checks::decode_json_chunked,
        ("decode_xml", _) => xml_checks::decode_xml,
        ("decode_xes", _) => xml_checks::decode_xes,
        ("decode_xml_chunked", _) => xml_checks::decode_xml_chunked,
        ("decode_xes_chunked", _) => xml_checks::decode_xes_chunked,
        ("native", _) => fuzz_checks::native,
        ("decode_avro", _) => fuzz_checks::decode_avro,
        (other, _) => panic!("tests/fuzz_regressions/{other}/ does not name a fuzz target"),
    }
}

/// Named inputs: (path or description, bytes).
type Cases = Vec<(String, Vec<u8>)>;

/// Saved inputs by target folder.
fn saved_inputs() -> Vec<(String, Cases)> {
    let saved = inputs_under("tests/fuzz_regressions");
    assert!(!saved.is_empty(), "no folders in tests/fuzz_regressions");
    saved
}

/// Inputs by target folder under `dir` (relative to the crate); none if it does not exist.
fn inputs_under(dir: &str) -> Vec<(String, Cases)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let Ok(entries) = std::fs::read_dir(&root) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|dir| {
            let target = dir.file_name().unwrap().to_string_lossy().into_owned();
            let cases = files_in(&dir)
                .into_iter()
                .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
                .collect();
            (target, cases)
        })
        .collect()
}

fn is_known_bug(path: &str) -> bool {
    Path::new(path)
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("known-"))
}

/// Every saved input passes its target's check (as the fuzzer runs it, with the
/// workarounds for known core bugs).
#[test]
fn saved_fuzz_inputs_do_not_fail() {
    for (target, cases) in saved_inputs() {
        run_all(cases, target_fn(&target, false));
    }
}

/// The `known-*` inputs without the workarounds: they fail until the core bug is fixed;
/// then rename the file without `known-` and drop the workaround. `FUZZ_TARGET=name`
/// replays one target's only.
#[test]
#[ignore = "core bugs: tests/fuzz_regressions/*/known-* fail until fixed (see the README there)"]
fn known_core_bugs() {
    let only = std::env::var("FUZZ_TARGET").ok();
    for (target, cases) in saved_inputs() {
        if only.as_ref().is_some_and(|o| *o != target) {
            continue;
        }
        let known = cases.into_iter().filter(|(p, _)| is_known_bug(p)).collect();
        run_all(known, target_fn(&target, true));
    }
}

/// JSON and JSON Lines samples for the JSON targets: the layouts (lines, a top-level array,
/// arrays inside objects, values one after another), types, nesting, a changing schema,
/// escapes, CRLF and blank lines, a byte order mark, and a bad line.
const JSON_SAMPLES: [(&str, &str); 11] = [
    (
        "lines",
        concat!(
            r#"{"id": 1, "name": "a", "x": 1.5, "ok": true, "ts": "2024-05-01T10:00:00Z", "tags": ["a", "b"], "geo": {"lat": 1.0, "lon": 2}}"#,
            "\n",
            r#"{"id": 2, "name": null, "x": 2, "ok": false, "ts": "2024-05-02T11:00:00Z", "tags": [], "geo": null}"#,
            "\n",
            r#"{"id": 3, "name": "c\u00e9\ud83d\ude00", "x": -0.5e3, "ok": null, "ts": null, "tags": null, "geo": {"lat": -1.5}}"#,
            "\n",
        ),
    ),
    (
        "array",
        r#"[{"a": 1, "b": "x"}, {"a": 2, "b": "y", "c": [1, 2]}, {"a": null, "b": "z"}]"#,
    ),
    (
        "items",
        r#"{"meta": {"count": 2, "next": null}, "items": [{"a": 1, "d": "2024-01-02"}, {"a": 2, "d": "2024-01-03"}], "total": 2}"#,
    ),
    (
        "data-items",
        r#"{"data": {"items": [{"k": "v1", "n": 10}, {"k": "v2", "n": 20.5}]}, "ok": true}"#,
    ),
    ("values", "{\"a\":1}{\"a\":2} {\"a\":3}\n{\"a\":4,\"b\":[true]}"),
    ("scalars", "1\n\"x\"\n[1,2]\n{\"a\":1}\nnull\ntrue\n"),
    (
        "crlf-bom",
        "\u{feff}{\"a\": 1, \"b\": \"x\"}\r\n\r\n  \r\n{\"a\": 2, \"b\": \"y\"}\r\n",
    ),
    (
        "evolving",
        concat!(
            "{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3}\n{\"a\": 4.5, \"b\": 1}\n",
            "{\"a\": \"five\", \"c\": {\"d\": [1, {\"e\": null}]}}\n{\"a\": {\"x\": 1}}\n",
        ),
    ),
    (
        "pretty",
        "[\n  {\n    \"a\": 1,\n    \"s\": \"q\\\"uote\"\n  },\n  {\n    \"a\": 2,\n    \"s\": \"b\\\\s\"\n  }\n]\n",
    ),
    (
        "bad-line",
        "{\"a\": 1}\n{\"a\": 2,}\n{\"a\": 3}\nnot json\n{\"a\": \"4\"}\n",
    ),
    (
        "wide-numbers",
        "{\"n\": 12345678901234567890123, \"f\": 1e400, \"i\": -9223372036854775808}\n{\"n\": 1, \"f\": 0.1, \"i\": 9223372036854775807}\n",
    ),
];

/// Every JSON sample through the three JSON targets: under every first option byte with a
/// few second ones (`decode_json`), every option byte (`decode_jsonl_lines`), and every first
/// option byte with every chunk size (`decode_json_chunked`).
#[test]
fn json_samples_under_every_option_byte() {
    let mut plain = Vec::new();
    let mut lines = Vec::new();
    let mut chunked = Vec::new();
    for (name, text) in JSON_SAMPLES {
        let data = text.as_bytes();
        for b in 0..=u8::MAX {
            for b2 in [0x00, 0x4b, 0x95, 0xe4, b] {
                let mut input = vec![b, b2];
                input.extend_from_slice(data);
                plain.push((
                    format!("{name} with option bytes {b:#04x} {b2:#04x}"),
                    input,
                ));
            }
            let mut input = vec![b];
            input.extend_from_slice(data);
            lines.push((format!("{name} with option byte {b:#04x}"), input));
            if b & 0x80 == 0 {
                for c in 0..8u8 {
                    let b2 = c << 3 | (b % 7);
                    let mut input = vec![b, b2];
                    input.extend_from_slice(data);
                    chunked.push((
                        format!("{name} with option bytes {b:#04x} {b2:#04x}"),
                        input,
                    ));
                }
            }
        }
    }
    run_all(plain, json_fuzz_checks::decode_json);
    run_all(lines, json_fuzz_checks::decode_jsonl_lines);
    run_all(chunked, json_fuzz_checks::decode_json_chunked);
}

/// The JSONTestSuite parsing cases (`${LOGFLOW_CONFORMANCE:-../shared/conformance}`
/// relative to the repository root, as `fuzz/seed.sh` finds them) through the three JSON
/// targets under a few option bytes. Ignored: the files are not part of the repository.
#[test]
fn jsontestsuite_through_the_json_targets() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let conformance = std::env::var("LOGFLOW_CONFORMANCE")
        .map_or_else(|_| repo.join("../shared/conformance"), |c| repo.join(c));
    let files = files_in(&conformance.join("jsontestsuite/test_parsing"));
    if files.is_empty() {
        eprintln!(
            "skipped: no JSONTestSuite files under {} (set LOGFLOW_CONFORMANCE)",
            conformance.display()
        );
        return;
    }
    let mut plain = Vec::new();
    let mut lines = Vec::new();
    let mut chunked = Vec::new();
    for p in files {
        let data = std::fs::read(&p).unwrap();
        let name = p.display().to_string();
        for (b, b2) in [
            (0x00, 0xc0),
            (0x05, 0x08),
            (0x15, 0x50),
            (0x2a, 0xb0),
            (0xbe, 0xc4),
        ] {
            let mut input = vec![b, b2];
            input.extend_from_slice(&data);
            plain.push((
                format!("{name} with option bytes {b:#04x} {b2:#04x}"),
                input,
            ));
        }
        for b in [0x00, 0x05, 0x2e, 0xff] {
            let mut input = vec![b];
            input.extend_from_slice(&data);
            lines.push((format!("{name} with option byte {b:#04x}"), input));
        }
        for (b, b2) in [
            (0x00, 0x00),
            (0x40, 0x12),
            (0x30, 0x22),
            (0x0c, 0x3e),
            (0x08, 0x13),
        ] {
            let mut input = vec![b, b2];
            input.extend_from_slice(&data);
            chunked.push((
                format!("{name} with option bytes {b:#04x} {b2:#04x}"),
                input,
            ));
        }
    }
    run_all(plain, json_fuzz_checks::decode_json);
    run_all(lines, json_fuzz_checks::decode_jsonl_lines);
    run_all(chunked, json_fuzz_checks::decode_json_chunked);
}

/// A JSON Lines line longer than `max_record_bytes` should be one rejected record, never
/// read in part. When the chunks are smaller than the line, the chunker cuts it at the limit
/// (`Chunk::cut_line`) and skips the rest, but the JSON decoder does not look at
/// `cut_line`: the cut line is decoded as a record, and a number cut short is a good row
/// with another value (`12345678901234567` from a 40-digit line under a 16-byte limit). In
/// chunks that hold the whole line the limit is not checked at all, as for CSV
/// (`max_record_bytes_does_not_depend_on_chunking`).
#[test]
fn json_lines_cut_at_max_record_bytes_are_rejected() {
    let case = json_fuzz_checks::JsonCase {
        decode: DecodeOptions {
            chunk_bytes: 4,
            max_record_bytes: 16,
            error_policy: ErrorPolicy::Permissive,
            ..DecodeOptions::default()
        },
        format: Some(logflow_core::detect::Format::Jsonl),
        ..json_fuzz_checks::JsonCase::default()
    };
    let input = b"1234567890123456789012345678901234567890\n7\n";
    let d = json_fuzz_checks::decode_all(input, &case, 1).unwrap();
    assert_eq!(
        (d.rows_read, d.rows_rejected, d.rows()),
        (2, 1, 1),
        "records read, rejected, rows: {:?}",
        d.batches
    );
}

fn sample_files() -> Cases {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/csv");
    let files = files_in(&dir);
    assert!(!files.is_empty(), "no sample files in {}", dir.display());
    files
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

/// Every sample file through both fuzz targets, under every first option byte (and, for
/// the chunked target, every chunk size with varying `batch_rows`).
#[test]
fn sample_files_under_every_option_byte() {
    let mut plain = Vec::new();
    let mut chunked = Vec::new();
    for (name, data) in sample_files() {
        for b in 0..=u8::MAX {
            let mut input = vec![b];
            input.extend_from_slice(&data);
            plain.push((format!("{name} with option byte {b:#04x}"), input));
            for c in 0..8u8 {
                let b2 = c << 3 | (b % 7);
                let mut input = vec![b, b2];
                input.extend_from_slice(&data);
                chunked.push((
                    format!("{name} with option bytes {b:#04x} {b2:#04x}"),
                    input,
                ));
            }
        }
    }
    run_all(plain, fuzz_checks::decode_csv);
    run_all(chunked, fuzz_checks::decode_csv_chunked);
}

/// Every sample file through the `input` target under every option byte, raw and inside a
/// stored zip archive.
#[test]
fn sample_files_through_the_input_layer() {
    let mut cases = Vec::new();
    for (name, data) in sample_files() {
        for b in 0..=u8::MAX {
            let mut input = vec![b];
            input.extend_from_slice(&data);
            cases.push((format!("{name} with input option byte {b:#04x}"), input));
        }
        let mut zipped = vec![0u8];
        zipped.extend_from_slice(&stored_zip("t.csv", &data));
        cases.push((format!("{name} in a zip"), zipped));
    }
    run_all(cases, fuzz_checks::input);
}

/// A zip archive holding `data` stored (uncompressed) as `name`, CRC left 0: the reader
/// must report the mismatch, not panic.
fn stored_zip(name: &str, data: &[u8]) -> Vec<u8> {
    let n = u32::try_from(data.len()).unwrap();
    let name_len = u16::try_from(name.len()).unwrap();
    let mut common = Vec::new();
    common.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    common.extend_from_slice(&0u32.to_le_bytes());
    common.extend_from_slice(&n.to_le_bytes());
    common.extend_from_slice(&n.to_le_bytes());
    common.extend_from_slice(&name_len.to_le_bytes());
    common.extend_from_slice(&0u16.to_le_bytes());
    let mut out = b"PK\x03\x04".to_vec();
    out.extend_from_slice(&common);
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(data);
    let cd_at = u32::try_from(out.len()).unwrap();
    let mut cd = b"PK\x01\x02\x14\x00".to_vec();
    cd.extend_from_slice(&common);
    cd.extend_from_slice(&[0; 10]);
    cd.extend_from_slice(&0u32.to_le_bytes());
    cd.extend_from_slice(name.as_bytes());
    out.extend_from_slice(&cd);
    out.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00");
    out.extend_from_slice(&u32::try_from(cd.len()).unwrap().to_le_bytes());
    out.extend_from_slice(&cd_at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// Every sample file with the default options (everything detected), in batches of 1..=7
/// rows, against one batch. (Small chunks are covered above, with the dialect pinned.)
#[test]
fn sample_files_batches_equal_whole() {
    let one_chunk = DecodeOptions::default().chunk_bytes;
    for (name, data) in sample_files() {
        for k in 1..=7 {
            let ok = catch_unwind(|| {
                fuzz_checks::check_chunked(&data, &Opts::default(), k, one_chunk);
            });
            assert!(ok.is_ok(), "{name} with batch_rows = {k}");
        }
    }
}

/// `max_record_bytes` does not depend on how the input is cut into chunks. It used to: the
/// limit was only checked on a record that crossed a chunk boundary (the chunker cuts a
/// line longer than the limit when it finds no line feed), so a 20-byte line under an
/// 8-byte limit was accepted with 64-byte chunks and rejected with 16-byte ones. Now a
/// record a chunk holds whole is held to the limit too: `record_too_long` for one line, a
/// quote that never closes (first line rejected) for a record of several lines, as when it
/// runs past a chunk's end.
#[test]
fn max_record_bytes_does_not_depend_on_chunking() {
    let opts = Opts {
        decode: DecodeOptions {
            max_record_bytes: 8,
            error_policy: ErrorPolicy::Permissive,
            ..DecodeOptions::default()
        },
        csv: CsvOptions {
            delimiter: Some(b','),
            header: Some(true),
            ..CsvOptions::default()
        },
    };
    let input = b"a,b\n1,0123456789abcdef\n2,x\n";
    for chunk_bytes in [1, 3, 16, 64] {
        fuzz_checks::check_chunked(input, &opts, 7, chunk_bytes);
    }
    let whole = fuzz_checks::decode_all(input, &opts).unwrap();
    assert_eq!((whole.rows_read, whole.rows_rejected), (2, 1));
    let strict = fuzz_checks::decode_all(
        input,
        &Opts {
            decode: DecodeOptions {
                error_policy: ErrorPolicy::Strict,
                ..opts.decode.clone()
            },
            csv: opts.csv.clone(),
        },
    );
    let err = strict
        .err()
        .expect("an over-long record fails a strict read");
    assert!(err.to_string().contains("longer than 8 bytes"), "{err}");
    let strict_opts = Opts {
        decode: DecodeOptions {
            error_policy: ErrorPolicy::Strict,
            ..opts.decode.clone()
        },
        csv: opts.csv.clone(),
    };
    for chunk_bytes in [1, 16] {
        fuzz_checks::check_chunked(input, &strict_opts, 7, chunk_bytes);
    }
    // A quoted record of several lines past the limit, and one within it.
    let quoted = b"a,b\n1,\"x\ny\"\n2,\"0123\n456789\"\n3,z\n";
    for chunk_bytes in [1, 2, 5, 9, 16, 64] {
        fuzz_checks::check_chunked(quoted, &opts, 3, chunk_bytes);
    }
}

/// Invalid UTF-8 whose bytes a delimiter splits (`x\xca,\xa4`: a lead byte ends field `a`, its
/// continuation byte starts field `b`) is a decode error with a position (strict) or a
/// rejected row (permissive). It used to pass the UTF-8 check on the joined field bytes
/// (`x\xca\xa4` is valid) and fail building the string column as an Arrow error with no
/// position, under every policy (fixed in 0031292).
#[test]
fn invalid_utf8_split_by_a_delimiter_is_a_decode_error() {
    let input = b"a,b\nx\xca,\xa4\n1,2\n";
    let strict = Opts {
        decode: DecodeOptions::default(),
        csv: CsvOptions {
            delimiter: Some(b','),
            ..CsvOptions::default()
        },
    };
    let err = fuzz_checks::decode_all(input, &strict)
        .err()
        .expect("invalid UTF-8 must fail a strict read");
    assert!(err.position().is_some(), "no position: {err}");
    assert!(err.to_string().contains("invalid UTF-8"), "{err}");
    let permissive = Opts {
        decode: DecodeOptions {
            error_policy: ErrorPolicy::Permissive,
            ..strict.decode.clone()
        },
        csv: strict.csv.clone(),
    };
    let d = fuzz_checks::decode_all(input, &permissive).unwrap();
    assert_eq!(d.rows_rejected, 1);
    assert_eq!(d.batches.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
}

/// The bundled XML and XES samples (`tests/data/xml`, `tests/data/xes`), uncompressed.
fn xml_samples() -> (Cases, Cases) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data");
    let read = |dir: &str, ext: &str| -> Cases {
        files_in(&root.join(dir))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == ext || ext.is_empty()))
            .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
            .collect()
    };
    let xml = read("xml", "");
    let xes = read("xes", "xes");
    assert!(!xml.is_empty() && !xes.is_empty(), "no XML or XES samples");
    (xml, xes)
}

/// Every XML and XES sample through its fuzz targets under every option byte: plain, in
/// chunks (against one chunk), and on threads.
#[test]
fn xml_samples_under_every_option_byte() {
    let (xml, xes) = xml_samples();
    let with_byte = |cases: &Cases| -> Cases {
        let mut out = Vec::new();
        for (name, data) in cases {
            for b in 0..=u8::MAX {
                let mut input = vec![b];
                input.extend_from_slice(data);
                out.push((format!("{name} with option byte {b:#04x}"), input));
            }
        }
        out
    };
    run_all(with_byte(&xml), xml_checks::decode_xml);
    run_all(with_byte(&xml), xml_checks::decode_xml_chunked);
    run_all(with_byte(&xes), xml_checks::decode_xes);
    run_all(with_byte(&xes), xml_checks::decode_xes_chunked);
}

/// The conformance suites' Avro, Parquet and Arrow IPC files (when the suites are there)
/// through the binary-format targets, under each format byte.
#[test]
fn conformance_files_through_the_native_targets() {
    let root = std::env::var_os("LOGFLOW_CONFORMANCE").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance"),
        PathBuf::from,
    );
    let data = root.join("arrow-testing/data");
    let mut cases: Cases = Vec::new();
    for dir in [
        data.join("avro"),
        data.join("parquet"),
        root.join("parquet-testing/bad_data"),
    ] {
        for f in files_in(&dir) {
            if std::fs::metadata(&f).map_or(0, |m| m.len()) < 1 << 20 {
                cases.push((f.display().to_string(), std::fs::read(&f).unwrap()));
            }
        }
    }
    assert!(
        !data.is_dir() || cases.len() > 20,
        "only {} conformance files found under {}",
        cases.len(),
        data.display()
    );
    run_all(cases, |bytes| {
        if bytes.starts_with(b"Obj\x01") {
            fuzz_checks::decode_avro(bytes);
        }
        for opt in [0u8, 1, 2, 3, 4, 9] {
            let mut input = vec![opt];
            input.extend_from_slice(bytes);
            fuzz_checks::native(&input);
        }
    });
}
