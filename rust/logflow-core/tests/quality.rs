//! The quality stage through the whole pipeline: checksums of what was read and written,
//! the profile, validation rules under each error policy, and `verify`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{Array, Int64Array, RecordBatch};
use logflow_core::decode::{DecodeOptions, ErrorPolicy, SchemaPolicy};
use logflow_core::pipeline::{self, Control, ConvertOptions, ConvertStats};
use logflow_core::sketch::checksum;
use logflow_core::sketch::rules::{BatchCheck, Literal, Rule, RuleKind};
use logflow_core::sketch::stage::QualityOptions;
use logflow_core::ErrorKind;

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("logflow-quality-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).unwrap();
    parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(file, 1 << 20)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn events(rows: usize) -> String {
    let mut text = String::from("id,kind,amount,when,note\n");
    for i in 0..rows {
        let note = match i % 7 {
            0 => String::new(),
            1 => format!("\"quoted, {i}\""),
            _ => format!("n{}", i % 50),
        };
        text.push_str(&format!(
            "{i},k{},{}.{:02},2024-01-{:02}T10:00:00,{note}\n",
            i % 5,
            i % 1000,
            i % 100,
            1 + i % 28
        ));
    }
    text
}

fn opts(chunk_bytes: usize, threads: usize, policy: ErrorPolicy) -> ConvertOptions {
    ConvertOptions {
        decode: DecodeOptions {
            chunk_bytes,
            error_policy: policy,
            ..DecodeOptions::default()
        },
        threads,
        quality: QualityOptions {
            profile: true,
            ..QualityOptions::default()
        },
        ..ConvertOptions::default()
    }
}

fn convert(src: &Path, dst: &Path, o: &ConvertOptions) -> ConvertStats {
    pipeline::convert(src, dst, o, &Control::default()).unwrap()
}

#[test]
fn checksum_of_a_csv_is_recomputed_from_its_parquet() {
    let d = tmpdir("checksum");
    let src = d.join("in.csv");
    std::fs::write(&src, events(20_000)).unwrap();
    let dst = d.join("out.parquet");
    let stats = convert(&src, &dst, &opts(64 << 10, 2, ErrorPolicy::Strict));
    let (cin, cout) = (stats.checksum_in.unwrap(), stats.checksum_out.unwrap());
    assert_eq!(cin, cout);
    let batches = read_parquet(&dst);
    let recomputed = batches
        .iter()
        .fold(0u64, |s, b| s.wrapping_add(checksum::batch_checksum(b)));
    assert_eq!(recomputed, cout);
    // One value changed in the output changes the checksum.
    let first = &batches[0];
    let ids = first
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    let mut changed: Vec<i64> = ids.values().to_vec();
    changed[17] += 1;
    let mut columns = first.columns().to_vec();
    columns[0] = Arc::new(Int64Array::from(changed));
    let altered = RecordBatch::try_new(first.schema(), columns).unwrap();
    let tampered = batches[1..]
        .iter()
        .fold(checksum::batch_checksum(&altered), |s, b| {
            s.wrapping_add(checksum::batch_checksum(b))
        });
    assert_ne!(tampered, cout);
    // The same input however it is cut and decoded: one checksum, one profile.
    for (chunk, threads) in [(1 << 20, 1), (4 << 10, 3), (777, 2)] {
        let other = convert(
            &src,
            &d.join("o2.parquet"),
            &opts(chunk, threads, ErrorPolicy::Strict),
        );
        assert_eq!(other.checksum_in, Some(cin), "{chunk} {threads}");
        let (a, b) = (
            stats.quality.as_ref().unwrap(),
            other.quality.as_ref().unwrap(),
        );
        for (x, y) in a.columns.iter().zip(&b.columns) {
            assert_eq!(x.name, y.name);
            assert_eq!((x.rows, x.nulls), (y.rows, y.nulls), "{}", x.name);
            assert_eq!(x.distinct_count(), y.distinct_count(), "{}", x.name);
            assert_eq!((&x.min, &x.max), (&y.min, &y.max), "{}", x.name);
            assert_eq!(x.lengths, y.lengths, "{}", x.name);
        }
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn profile_of_a_csv() {
    let d = tmpdir("profile");
    let src = d.join("in.csv");
    std::fs::write(&src, events(10_000)).unwrap();
    let stats = pipeline::profile(
        &src,
        &opts(16 << 10, 2, ErrorPolicy::Permissive),
        &Control::default(),
    )
    .unwrap();
    assert!(stats.files.is_empty());
    assert_eq!(stats.rows_read, 10_000);
    let p = stats.quality.unwrap();
    let id = p.column("id").unwrap();
    assert_eq!((id.rows, id.nulls), (10_000, 0));
    // Past 8,192 values the count is an estimate (0.6% standard error).
    assert!(
        id.distinct_count().abs_diff(10_000) < 200,
        "{}",
        id.distinct_count()
    );
    let m = id.moments.unwrap();
    assert!((m.mean - 4999.5).abs() < 1e-9);
    assert!((m.stddev().unwrap() - 2_886.751_2).abs() < 1e-3);
    let kind = p.column("kind").unwrap();
    assert_eq!(kind.distinct_count(), 5);
    let top = kind.top.as_ref().unwrap();
    assert!(top.exact());
    assert_eq!(top.items()[0].count, 2000);
    assert!((kind.entropy().unwrap() - 5f64.log2()).abs() < 1e-9);
    assert_eq!(kind.lengths, Some((2, 2)));
    let note = p.column("note").unwrap();
    assert_eq!(note.nulls, 1429);
    std::fs::remove_dir_all(&d).unwrap();
}

struct EvenIds;

impl BatchCheck for EvenIds {
    fn check(&self, batch: &RecordBatch) -> logflow_core::Result<Vec<bool>> {
        let ids = batch
            .column_by_name("id")
            .unwrap()
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        Ok((0..ids.len()).map(|i| ids.value(i) % 100 != 37).collect())
    }
}

fn rules() -> Vec<Rule> {
    vec![
        Rule::on(
            "amount",
            RuleKind::Range {
                min: Some(Literal::Int(0)),
                max: Some(Literal::Float(990.0)),
            },
            None,
        )
        .unwrap(),
        Rule::regex("kind", "k[0-3]", None).unwrap(),
        Rule::unique(vec!["note".into()], Some(4096), None).unwrap(),
        Rule::check(Arc::new(EvenIds), "even"),
    ]
}

#[test]
fn rules_follow_the_error_policy() {
    let d = tmpdir("rules");
    let src = d.join("in.csv");
    let text = events(5_000);
    std::fs::write(&src, &text).unwrap();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut counts = None;
    for (chunk, threads) in [(1 << 20, 1), (2 << 10, 2), (600, 3)] {
        let mut o = opts(chunk, threads, ErrorPolicy::Quarantine);
        o.quality.rules = rules();
        o.quality.spill_dir = Some(d.clone());
        let dst = d.join(format!("q{chunk}.parquet"));
        let stats = convert(&src, &dst, &o);
        assert_eq!(
            stats.rows_read,
            stats.rows_written + stats.rows_quarantined + stats.rows_skipped
        );
        let by = |r: &str| stats.errors_by_reason.get(r).copied().unwrap_or(0);
        // amount = i % 1000 + fraction: 990.90 to 999.99 is above 990, 10 of each 1000 rows.
        assert_eq!(by("range:amount"), 5 * 10);
        // kind k4: one row in 5 (those not already out of range).
        assert!(by("regex:kind") > 900);
        // note: empty every 7th row (null, not checked), "quoted, i" unique, n0..n49 repeat.
        assert!(by("unique:note") > 2000);
        assert!(by("check:even") > 0);
        assert_eq!(
            stats.checksum_in, stats.checksum_out,
            "rows taken out leave both checksums equal"
        );
        // The quarantine holds the bad rows byte for byte, in input order.
        let q = std::fs::read_to_string(&stats.quarantine_files[0]).unwrap();
        let q_lines: Vec<&str> = q.split_inclusive('\n').skip(1).collect();
        assert_eq!(q_lines.len() as u64, stats.rows_quarantined);
        let mut at = 1;
        for l in &q_lines {
            while lines[at] != *l {
                at += 1;
            }
        }
        let c = (
            stats.rows_written,
            stats.errors_by_reason.clone(),
            stats.checksum_in,
        );
        match &counts {
            None => counts = Some(c),
            Some(first) => assert_eq!(&c, first, "chunk {chunk}, threads {threads}"),
        }
    }
    let left: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("unique"))
        .collect();
    assert!(left.is_empty(), "spilled keys are removed");
    // Strict: the first bad row (in input order) fails the run, naming rule and line.
    let mut o = opts(2 << 10, 2, ErrorPolicy::Strict);
    o.quality.rules = rules();
    let err = pipeline::convert(&src, &d.join("s.parquet"), &o, &Control::default()).unwrap_err();
    match err.kind() {
        ErrorKind::RuleViolation { rule, position, .. } => {
            // Row 4 (kind k4) breaks the regex: line 6 (header + 0-based row 4).
            assert_eq!(rule, "regex:kind");
            assert_eq!((position.line, position.record), (6, 5));
        }
        other => panic!("{other:?}"),
    }
    assert!(!d.join("s.parquet").exists());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn verify_reads_the_output_back() {
    let d = tmpdir("verify");
    let src = d.join("in.csv");
    std::fs::write(&src, events(3_000)).unwrap();
    let mut o = opts(4 << 10, 2, ErrorPolicy::Strict);
    o.verify = true;
    o.quality.checksum = false;
    let stats = convert(&src, &d.join("v.parquet"), &o);
    assert!(stats.checksum_out.is_some(), "verify turns checksums on");
    // A partitioned dataset: partition values come back from the directory names.
    o.dataset = Some(logflow_core::write::dataset::DatasetOptions {
        partition_by: vec!["kind".into()],
        ..Default::default()
    });
    let stats = convert(&src, &d.join("ds"), &o);
    assert_eq!(stats.checksum_in, stats.checksum_out);
    // JSON whose column widens from integers to text: values change type, so the two
    // checksums differ, and the output still verifies against what was written.
    let json = d.join("in.jsonl");
    let mut text = String::new();
    for i in 0..3000 {
        text.push_str(&format!("{{\"id\": {i}, \"v\": {i}}}\n"));
    }
    text.push_str("{\"id\": 3000, \"v\": \"text\"}\n");
    std::fs::write(&json, text).unwrap();
    let mut o = opts(8 << 10, 2, ErrorPolicy::Strict);
    o.verify = true;
    o.decode.schema_policy = Some(SchemaPolicy::Merge);
    let stats = convert(&json, &d.join("j.parquet"), &o);
    assert_eq!(stats.rows_written, 3001);
    assert_ne!(stats.checksum_in, stats.checksum_out);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn dirty_inputs_keep_the_accounting_identity() {
    let d = tmpdir("dirty");
    let csv = d.join("dirty.csv");
    let mut text = String::from("id,amount,name\n");
    for i in 0..4000 {
        text.push_str(&match i % 97 {
            0 => "oops,1.5,x\n".to_string(),
            1 => format!("{i},2.5\n"),
            2 => format!("{i},3.5,a,b\n"),
            // A quote that never closes, near the end (it swallows the lines after it).
            3 if i > 3900 => format!("{i},\"open,4.5,x\n"),
            _ => format!("{i},{}.25,name{}\n", i % 13, i % 3),
        });
    }
    std::fs::write(&csv, text).unwrap();
    let json = d.join("dirty.jsonl");
    let mut text = String::new();
    for i in 0..4000 {
        text.push_str(&match i % 89 {
            0 => "{\"id\": \n".to_string(),
            1 => format!("{{\"id\": \"x{i}\"}}\n"),
            2 => "{\"id\": {\"nested\": 1}}\n".to_string(),
            _ => format!("{{\"id\": {i}, \"amount\": {}.5}}\n", i % 7),
        });
    }
    std::fs::write(&json, text).unwrap();
    for src in [&csv, &json] {
        for policy in [ErrorPolicy::Permissive, ErrorPolicy::Quarantine] {
            for threads in [1, 2] {
                let mut o = opts(1 << 10, threads, policy);
                o.verify = true;
                o.quality.rules = vec![Rule::on(
                    "amount",
                    RuleKind::Range {
                        min: Some(Literal::Int(0)),
                        max: Some(Literal::Int(5)),
                    },
                    None,
                )
                .unwrap()];
                let stats = convert(src, &d.join("o.parquet"), &o);
                assert_eq!(
                    stats.rows_read,
                    stats.rows_written + stats.rows_quarantined + stats.rows_skipped,
                    "{} {policy:?} {threads}",
                    src.display()
                );
                assert!(stats.rows_written > 1000);
                assert!(!stats.errors_by_reason.is_empty());
                let p = stats.quality.unwrap();
                assert_eq!(
                    p.rows,
                    stats.rows_written + stats.errors_by_reason["range:amount"]
                );
            }
        }
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_late_json_field_counts_its_earlier_rows_as_nulls() {
    let d = tmpdir("late");
    let src = d.join("in.jsonl");
    let mut text = String::new();
    for i in 0..5000 {
        if i < 4000 {
            text.push_str(&format!("{{\"id\": {i}}}\n"));
        } else {
            text.push_str(&format!("{{\"id\": {i}, \"late\": \"v{}\"}}\n", i % 3));
        }
    }
    std::fs::write(&src, text).unwrap();
    let stats = convert(
        &src,
        &d.join("o.parquet"),
        &opts(8 << 10, 2, ErrorPolicy::Strict),
    );
    let p = stats.quality.unwrap();
    let late = p.column("late").unwrap();
    assert_eq!(
        (late.rows, late.nulls, late.distinct_count()),
        (5000, 4000, 3)
    );
    std::fs::remove_dir_all(&d).unwrap();
}

/// XML records and XES events a rule refuses are quarantined byte for byte, with the same
/// bytes, counts and checksums whatever the chunking and threads.
#[test]
fn rule_rejects_of_xml_and_xes_keep_their_bytes_across_chunkings() {
    let d = tmpdir("nested-rules");
    let mut xml = String::from("<items>\n");
    let mut xes = String::from("<log xes.version=\"1.0\">\n");
    for i in 0..400 {
        xml.push_str(&format!("  <item><id>{i}</id><k>{}</k></item>\n", i % 7));
        if i % 4 == 0 {
            xes.push_str(&format!(
                "<trace><string key=\"concept:name\" value=\"c{i}\"/>\n"
            ));
        }
        xes.push_str(&format!(
            "  <event><int key=\"id\" value=\"{i}\"/><int key=\"k\" value=\"{}\"/></event>\n",
            i % 7
        ));
        if i % 4 == 3 {
            xes.push_str("</trace>\n");
        }
    }
    xml.push_str("</items>\n");
    xes.push_str("</log>\n");
    for (name, text, element) in [("in.xml", &xml, "item"), ("in.xes", &xes, "event")] {
        let src = d.join(name);
        std::fs::write(&src, text).unwrap();
        let mut first: Option<(u64, String, u64)> = None;
        for (chunk, threads) in [(1 << 20, 1), (700, 2), (300, 3)] {
            let mut o = opts(chunk, threads, ErrorPolicy::Quarantine);
            o.quality.rules = vec![Rule::on(
                "k",
                RuleKind::Range {
                    min: None,
                    max: Some(Literal::Int(5)),
                },
                None,
            )
            .unwrap()];
            let dst = d.join(format!("{name}.{chunk}.parquet"));
            let stats = convert(&src, &dst, &o);
            assert_eq!(stats.rows_read, 400, "{name} {chunk}");
            assert_eq!(stats.rows_quarantined, 400 / 7, "{name} {chunk}");
            let q = std::fs::read_to_string(&stats.quarantine_files[0]).unwrap();
            // Each rejected record's element, byte for byte, in input order.
            let kept: Vec<&str> = q
                .lines()
                .map(str::trim)
                .filter(|l| l.starts_with(&format!("<{element}>")))
                .collect();
            assert_eq!(
                kept.len() as u64,
                stats.rows_quarantined,
                "{name} {chunk}: {q}"
            );
            for l in &kept {
                let six = l.contains("<k>6</k>") || l.contains("key=\"k\" value=\"6\"");
                assert!(text.contains(l) && six, "{l}");
            }
            let c = (stats.rows_written, q, stats.checksum_in.unwrap_or_default());
            match &first {
                None => first = Some(c),
                Some(f) => assert_eq!(&c, f, "{name}: chunk {chunk}, threads {threads}"),
            }
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}
