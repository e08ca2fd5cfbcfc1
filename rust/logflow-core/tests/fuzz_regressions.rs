//! Replays saved fuzz inputs and the bundled CSV samples through the fuzz target bodies
//! (`support/fuzz_checks.rs`), so a crash found once by `cargo fuzz` stays fixed.
//!
//! Layout: `tests/fuzz_regressions/<target>/<file>`, where `<target>` is a fuzz target name
//! and the file is the raw fuzz input (option byte first); see the README there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use logflow_core::decode::csv::CsvOptions;
use logflow_core::decode::DecodeOptions;
use logflow_core::decode::ErrorPolicy;
use support::fuzz_checks;
use support::fuzz_checks::Opts;

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
        ("decode_csv_chunked", false) => fuzz_checks::decode_csv_chunked,
        ("decode_csv_chunked", true) => fuzz_checks::decode_csv_chunked_unfiltered,
        ("input", _) => fuzz_checks::input,
        (other, _) => panic!("tests/fuzz_regressions/{other}/ does not name a fuzz target"),
    }
}

/// Named inputs: (path or description, bytes).
type Cases = Vec<(String, Vec<u8>)>;

/// Saved inputs by target folder.
fn saved_inputs() -> Vec<(String, Cases)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
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
/// then rename the file without `known-` and drop the workaround.
#[test]
#[ignore = "core bugs: tests/fuzz_regressions/*/known-* fail until fixed (see the README there)"]
fn known_core_bugs() {
    for (target, cases) in saved_inputs() {
        let known = cases.into_iter().filter(|(p, _)| is_known_bug(p)).collect();
        run_all(known, target_fn(&target, true));
    }
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
