//! XES logs end to end: the event table, types, traces, chunking.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, RecordBatch};

use super::*;
use crate::stream::BatchReader;

const LOG: &str = r#"<?xml version="1.0" encoding="UTF-8" ?>
<log xes.version="1849-2016" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <global scope="event"><string key="concept:name" value="__INVALID__"/></global>
  <classifier name="Activity" keys="concept:name"/>
  <string key="concept:name" value="the log"/>
  <trace>
    <string key="concept:name" value="c1"/>
    <int key="prio" value="3"/>
    <event>
      <string key="concept:name" value="A"/>
      <date key="time:timestamp" value="2024-01-01T00:00:10.5+01:00"/>
      <string key="org:resource" value="r1"/>
      <float key="cost" value="1.5"/>
    </event>
    <event>
      <string key="concept:name" value="B &amp; C"/>
      <date key="time:timestamp" value="2024-01-01T00:00:11"/>
      <int key="cost" value="2"/>
    </event>
  </trace>
  <trace><string key="concept:name" value="c2"/><event><string key="concept:name" value="D"/></event></trace>
</log>
"#;

fn read_with(
    text: &str,
    decode: &DecodeOptions,
    tables: Tables,
) -> Result<(Vec<RecordBatch>, LogInfo)> {
    let s = start(
        text.as_bytes(),
        decode,
        &XmlOptions::default(),
        tables,
        false,
    )?;
    let info = s.info.clone();
    Ok((BatchReader::new(s.start).collect::<Result<Vec<_>>>()?, info))
}

fn one(batches: &[RecordBatch]) -> RecordBatch {
    arrow_select::concat::concat_batches(&batches[0].schema(), batches).unwrap()
}

#[test]
fn events_with_their_trace() {
    let (batches, info) = read_with(LOG, &DecodeOptions::default(), Tables::Events).unwrap();
    let b = one(&batches);
    let names: Vec<String> = b
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        [
            "case:concept:name",
            "concept:name",
            "time:timestamp",
            "org:resource",
            "lifecycle:transition",
            "cost",
            "case:prio"
        ]
    );
    assert_eq!(b.num_rows(), 3);
    let case = b.column(0).as_string::<i32>();
    assert_eq!(
        (case.value(0), case.value(1), case.value(2)),
        ("c1", "c1", "c2")
    );
    assert_eq!(b.column(1).as_string::<i32>().value(1), "B & C");
    let ts = b.column(2).as_primitive::<TimestampMicrosecondType>();
    assert_eq!(ts.value(0), 1_704_067_210_500_000 - 3_600_000_000);
    assert_eq!(ts.value(1), 1_704_067_211_000_000);
    assert!(ts.is_null(2));
    assert_eq!(
        b.column(5).as_primitive::<Float64Type>().values(),
        &[1.5, 2.0, 0.0]
    );
    assert_eq!(b.column(6).as_primitive::<Int64Type>().value(1), 3);
    assert!(b.column(6).is_null(2));
    assert_eq!(info.extensions.len(), 1);
    assert_eq!(info.classifiers[0].keys, "concept:name");
    assert_eq!(info.globals[0].1[0].key, "concept:name");
    assert_eq!(info.attributes[0].value.as_deref(), Some("the log"));
}

#[test]
fn traces_table() {
    let (batches, _) = read_with(LOG, &DecodeOptions::default(), Tables::Traces).unwrap();
    let b = one(&batches);
    assert_eq!(b.num_rows(), 2);
    let names: Vec<String> = b
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["case:concept:name", "case:prio"]);
}

#[test]
fn chunked_equals_whole() {
    let (whole, _) = read_with(LOG, &DecodeOptions::default(), Tables::Events).unwrap();
    for chunk_bytes in [1, 7, 64, 300] {
        let d = DecodeOptions {
            chunk_bytes,
            batch_rows: 2,
            ..DecodeOptions::default()
        };
        let (parts, _) = read_with(LOG, &d, Tables::Events).unwrap();
        assert_eq!(one(&parts), one(&whole), "{chunk_bytes}");
    }
}

/// Timing of the stages on a large log (`LOGFLOW_XES_BENCH=path`); not run by default.
#[test]
#[ignore = "a manual timing"]
fn stage_timing() {
    let Ok(path) = std::env::var("LOGFLOW_XES_BENCH") else {
        return;
    };
    let t = std::time::Instant::now();
    let file = std::fs::File::open(&path).unwrap();
    let mut s = start(
        file,
        &DecodeOptions::default(),
        &XmlOptions::default(),
        Tables::Events,
        false,
    )
    .unwrap();
    eprintln!("start {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let mut chunks = vec![s.start.first];
    while let Some(c) = s.start.chunker.next_chunk().unwrap() {
        chunks.push(c);
    }
    eprintln!("{} chunks cut in {:?}", chunks.len(), t.elapsed());
    let t = std::time::Instant::now();
    let mut rows = 0;
    for c in chunks {
        let out = s.start.decoder.process(c);
        assert!(out.error.is_none(), "{:?}", out.error);
        rows += out.batches.iter().map(RecordBatch::num_rows).sum::<usize>();
    }
    eprintln!("{rows} rows decoded in {:?}", t.elapsed());
}

/// Timing of the framing alone over a whole file in memory (`LOGFLOW_XES_BENCH=path`).
#[test]
#[ignore = "a manual timing"]
fn framing_timing() {
    use crate::stream::Framing;
    let Ok(path) = std::env::var("LOGFLOW_XES_BENCH") else {
        return;
    };
    let data = std::fs::read(&path).unwrap();
    let t = std::time::Instant::now();
    let mut f =
        super::super::frame::XmlFraming::new(vec![b"log".to_vec(), b"trace".to_vec()], usize::MAX);
    let cut = f.cut_point(&data).unwrap();
    eprintln!("framing one buffer: {:?} cut at {cut:?}", t.elapsed());
    let t = std::time::Instant::now();
    let mut n = 0;
    for _ in memchr::memchr_iter(b'<', &data) {
        n += 1;
    }
    eprintln!("{n} '<' in {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let mut p = 0;
    let mut m = 0;
    while let Some(k) = memchr::memchr(b'<', &data[p..]) {
        match super::super::scan::markup(&data, p + k) {
            super::super::scan::Found::Markup(_, end) => {
                p = end;
                m += 1;
            }
            super::super::scan::Found::Incomplete => break,
        }
    }
    eprintln!("{m} markups in {:?}", t.elapsed());
}

#[test]
fn containers_flatten() {
    let log = r#"<log xes.version="1.0"><trace><string key="concept:name" value="c"/><event><container key="box"><int key="w" value="2"/><string key="u" value="cm"/></container></event></trace></log>"#;
    let opts = XmlOptions {
        flatten: Some(usize::MAX),
        ..XmlOptions::default()
    };
    let s = start(
        log.as_bytes(),
        &DecodeOptions::default(),
        &opts,
        Tables::Events,
        false,
    )
    .unwrap();
    let batches: Vec<RecordBatch> = BatchReader::new(s.start).collect::<Result<_>>().unwrap();
    let b = one(&batches);
    let names: Vec<String> = b
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert!(names.contains(&"box.w".to_string()), "{names:?}");
    let i = names.iter().position(|n| n == "box.w").unwrap();
    assert_eq!(b.column(i).as_primitive::<Int64Type>().value(0), 2);
}
