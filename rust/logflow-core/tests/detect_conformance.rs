//! Dialect detection on published CSV conformance files: every CSV of csv-spectrum and of the
//! W3C CSVW test suite (shared/conformance, or `$LOGFLOW_CONFORMANCE`).
//!
//! Expected values: csv-spectrum files are RFC 4180 (comma, `"`, header). CSVW files are
//! comma-separated with a header (the CSVW default dialect) unless their metadata says
//! otherwise: `tree-ops.tsv` is tab-separated (test050), and `test051.csv` starts with two
//! `#` comment lines (`skipRows: 2`), `test019.csv` has no header row. The test prints the
//! accuracy and every miss, and fails below a floor. It is skipped, with a message, when the
//! folder is missing.
//!
//! `test057.csv` starts with a `# publisher` line that its dialect skips (`skipRows: 1`).
//!
//! Known miss (a deliberate CSVW edge case): test283, whose header row of quoted numbers
//! (`"+0","-0",...`) looks like data.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};

use logflow_core::detect::{self, Format};

fn root() -> PathBuf {
    std::env::var_os("LOGFLOW_CONFORMANCE").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance"),
        PathBuf::from,
    )
}

struct Expect {
    path: PathBuf,
    delimiter: u8,
    header: bool,
    skip: usize,
}

fn csv_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            csv_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "csv" || e == "tsv") {
            out.push(p);
        }
    }
}

fn expectations(root: &Path) -> Vec<Expect> {
    let mut out = Vec::new();
    let mut files = Vec::new();
    csv_files(&root.join("csv-spectrum/csvs"), &mut files);
    csv_files(&root.join("csvw/tests"), &mut files);
    for path in files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let delimiter = if name.ends_with(".tsv") { b'\t' } else { b',' };
        let skip = match name.as_str() {
            "test051.csv" => 2,
            "test057.csv" => 1,
            _ => 0,
        };
        // test019.csv is the tree-ops table without its header row.
        let header = name != "test019.csv";
        out.push(Expect {
            path,
            delimiter,
            header,
            skip,
        });
    }
    out
}

#[test]
fn dialect_accuracy_on_conformance_files() {
    let root = root();
    if !root.join("csv-spectrum").is_dir() && !root.join("csvw").is_dir() {
        eprintln!(
            "skipped: no conformance files at {} (set LOGFLOW_CONFORMANCE)",
            root.display()
        );
        return;
    }
    let cases = expectations(&root);
    let mut judged = 0usize;
    let mut delim_ok = 0usize;
    let mut header_ok = 0usize;
    let mut skip_ok = 0usize;
    let mut format_ok = 0usize;
    let mut misses = Vec::new();
    for c in &cases {
        let Ok(bytes) = std::fs::read(&c.path) else {
            continue;
        };
        let sample = bytes.get(..bytes.len().min(64 << 10)).unwrap_or_default();
        let det = detect::detect(sample);
        let rel = c
            .path
            .strip_prefix(&root)
            .unwrap_or(&c.path)
            .display()
            .to_string();
        if det.format.value == Format::Empty {
            // csv-spectrum's empty.csv files: nothing to detect.
            continue;
        }
        judged += 1;
        if det.format.value == Format::Csv {
            format_ok += 1;
        } else {
            misses.push(format!("{rel}: format {:?}", det.format.value));
        }
        let d = det
            .dialect
            .map(|f| f.value)
            .unwrap_or_else(|| detect::dialect(sample).value);
        if d.delimiter == c.delimiter {
            delim_ok += 1;
        } else {
            misses.push(format!(
                "{rel}: delimiter {:?} want {:?}",
                char::from(d.delimiter),
                char::from(c.delimiter)
            ));
        }
        if d.header == c.header {
            header_ok += 1;
        } else {
            misses.push(format!("{rel}: header {} want {}", d.header, c.header));
        }
        if d.skip_lines == c.skip {
            skip_ok += 1;
        } else {
            misses.push(format!(
                "{rel}: skip_lines {} want {}",
                d.skip_lines, c.skip
            ));
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let pct = |n: usize| 100.0 * n as f64 / judged.max(1) as f64;
    println!(
        "conformance: {judged} files; format {:.1}%, delimiter {:.1}%, header {:.1}%, skip_lines {:.1}%",
        pct(format_ok),
        pct(delim_ok),
        pct(header_ok),
        pct(skip_ok)
    );
    for m in &misses {
        println!("  miss: {m}");
    }
    assert!(judged >= 10, "too few files judged: {judged}");
    assert!(
        pct(delim_ok) >= 99.0,
        "delimiter accuracy {:.1}%",
        pct(delim_ok)
    );
    assert!(
        pct(format_ok) >= 97.0,
        "format accuracy {:.1}%",
        pct(format_ok)
    );
    assert!(
        pct(header_ok) >= 98.5,
        "header accuracy {:.1}%",
        pct(header_ok)
    );
    assert!(
        pct(skip_ok) >= 98.5,
        "skip_lines accuracy {:.1}%",
        pct(skip_ok)
    );
}
