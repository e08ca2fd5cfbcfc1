//! The W3C XML conformance suite (`xmlconf/` in shared/conformance/xml-conformance, or
//! `$LOGFLOW_CONFORMANCE/xml-conformance`): every document is read as convert() reads XML
//! (the input layer transcodes it, the XML reader takes it with the strict error policy).
//!
//! - Every well-formed case (`valid`, `invalid`, `error`) must be read without a panic; most
//!   are read without an error, and the count of those is printed.
//! - Every not-well-formed case that applies to this reader must be a typed error: XML 1.0
//!   fifth edition (cases that are errors only in earlier editions are well-formed now),
//!   and standalone (cases whose error is in an external entity or DTD need those read,
//!   and this reader never reads anything outside the input). Namespace well-formedness
//!   (`NS1.0` cases) is not checked: names are read as written. XML 1.1 documents are read
//!   with the 1.1 character rules; their not-well-formed cases are counted, not required.
//!
//! The test prints the counts per category and the misses, and fails on a required miss
//! or any panic. It is skipped, with a message, when the folder is missing.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use logflow_core::decode::xml::{self, XmlOptions};
use logflow_core::decode::{DecodeOptions, ErrorPolicy};
use logflow_core::input::{self, InputOptions};
use logflow_core::stream::BatchReader;

fn root() -> PathBuf {
    std::env::var_os("LOGFLOW_CONFORMANCE").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance"),
        PathBuf::from,
    )
}

/// One test of the suite, from its index.
#[derive(Debug)]
struct Case {
    id: String,
    kind: String,
    entities: String,
    version: String,
    edition: String,
    recommendation: String,
    path: PathBuf,
}

/// The attributes of the tags named `tag` in `text`: a small reader for the suite's index
/// files (which are themselves XML, with values in either quote).
fn tags(text: &str, tag: &str) -> Vec<BTreeMap<String, String>> {
    let mut out = Vec::new();
    let open = format!("<{tag}");
    let mut rest = text;
    while let Some(i) = rest.find(&open) {
        rest = &rest[i + open.len()..];
        if !rest.starts_with(|c: char| c.is_whitespace()) {
            continue;
        }
        let end = rest.find('>').unwrap_or(rest.len());
        let mut body = &rest[..end];
        let mut attrs = BTreeMap::new();
        while let Some(eq) = body.find('=') {
            let name = body[..eq].trim().to_string();
            let after = body[eq + 1..].trim_start();
            let Some(q) = after.chars().next() else { break };
            let Some(close) = after[1..].find(q) else {
                break;
            };
            attrs.insert(name, after[1..=close].to_string());
            body = &after[close + 2..];
        }
        out.push(attrs);
    }
    out
}

fn cases(suite: &Path) -> Vec<Case> {
    let master = std::fs::read_to_string(suite.join("xmlconf.xml")).unwrap();
    let mut out = Vec::new();
    // The master file names each part as an external entity: <!ENTITY name SYSTEM "path">.
    for line in master.lines() {
        let Some(rest) = line.trim().strip_prefix("<!ENTITY") else {
            continue;
        };
        let Some(q) = rest.find('"') else { continue };
        let Some(len) = rest[q + 1..].find('"') else {
            continue;
        };
        let part = suite.join(&rest[q + 1..q + 1 + len]);
        let base = part.parent().unwrap().to_path_buf();
        let bytes = std::fs::read(&part).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for a in tags(&text, "TEST") {
            let get = |k: &str| a.get(k).cloned().unwrap_or_default();
            out.push(Case {
                id: get("ID"),
                kind: get("TYPE"),
                entities: a.get("ENTITIES").cloned().unwrap_or_else(|| "none".into()),
                version: get("VERSION"),
                edition: get("EDITION"),
                recommendation: get("RECOMMENDATION"),
                path: base.join(get("URI")),
            });
        }
    }
    out
}

/// Reads `path` as convert() reads XML, strictly. `Ok(rows)` or the error's text.
fn read(path: &Path) -> Result<usize, String> {
    let opened = input::open(path, &InputOptions::default(), None).map_err(|e| e.to_string())?;
    let decode = DecodeOptions {
        error_policy: ErrorPolicy::Strict,
        ..DecodeOptions::default()
    };
    let s = xml::start(opened.reader, &decode, &XmlOptions::default(), false)
        .map_err(|e| e.to_string())?;
    let mut rows = 0;
    for b in BatchReader::new(s.start) {
        rows += b.map_err(|e| e.to_string())?.num_rows();
    }
    Ok(rows)
}

/// Whether a not-well-formed case must be rejected by this reader; see the module docs.
fn required(c: &Case) -> bool {
    let fifth = c.edition.is_empty() || c.edition.contains('5');
    c.kind == "not-wf"
        && c.entities == "none"
        && c.version != "1.1"
        && fifth
        && !c.recommendation.starts_with("NS")
        && !c.recommendation.contains("1.1")
}

#[test]
fn w3c_xml_conformance() {
    let suite = root().join("xml-conformance/xmlconf");
    if !suite.join("xmlconf.xml").exists() {
        eprintln!(
            "skipped: no XML conformance suite at {} (set LOGFLOW_CONFORMANCE)",
            suite.display()
        );
        return;
    }
    let all = cases(&suite);
    assert!(all.len() > 2000, "only {} cases found", all.len());
    let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut required_misses = Vec::new();
    let mut panics = Vec::new();
    let mut wf_errors = Vec::new();
    for c in &all {
        let result = catch_unwind(AssertUnwindSafe(|| read(&c.path)));
        let Ok(result) = result else {
            panics.push(c.id.clone());
            continue;
        };
        let category = if c.kind == "not-wf" {
            if required(c) {
                "not-wf (required)"
            } else {
                "not-wf (not required)"
            }
        } else {
            "well-formed"
        };
        let entry = counts.entry(category).or_default();
        entry.0 += 1;
        let as_expected = match (c.kind.as_str(), &result) {
            ("not-wf", Err(_)) => true,
            ("not-wf", Ok(_)) => false,
            (_, Ok(_)) => true,
            (_, Err(e)) => {
                wf_errors.push(format!("{} ({}): {e}", c.id, c.path.display()));
                false
            }
        };
        if as_expected {
            entry.1 += 1;
        } else if required(c) {
            required_misses.push(format!("{} ({})", c.id, c.path.display()));
        }
    }
    for (category, (n, ok)) in &counts {
        println!("{category}: {ok} of {n} as expected");
    }
    if std::env::var_os("LOGFLOW_CONFORMANCE_VERBOSE").is_some() {
        for e in &wf_errors {
            println!("well-formed case read with an error: {e}");
        }
    }
    for m in &required_misses {
        println!("MISS (accepted): {m}");
    }
    assert!(panics.is_empty(), "panicked on: {panics:#?}");
    assert!(
        required_misses.is_empty(),
        "{} not-well-formed cases were accepted",
        required_misses.len()
    );
}
