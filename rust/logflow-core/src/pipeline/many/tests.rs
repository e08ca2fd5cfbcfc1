use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::{Array, Int64Array, StringArray};

use super::*;
use crate::source::SourceData;

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("logflow-many-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn read_parquet(path: &Path) -> RecordBatch {
    let file = std::fs::File::open(path).unwrap();
    let batches: Vec<RecordBatch> =
        parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(file, 1 << 20)
            .unwrap()
            .collect::<std::result::Result<_, _>>()
            .unwrap();
    arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap()
}

/// Files of 300 rows each; every fifth has an extra column, file 7 is empty.
fn files(d: &Path, n: usize) -> Vec<PathBuf> {
    (0..n)
        .map(|i| {
            let p = d.join(format!("f{i:03}.csv"));
            let mut text = String::new();
            if i != 7 {
                text.push_str(if i % 5 == 4 {
                    "id,name,extra\n"
                } else {
                    "id,name\n"
                });
                for j in 0..300 {
                    let id = i * 1000 + j;
                    if i % 5 == 4 {
                        text.push_str(&format!("{id},n{j},e{j}\n"));
                    } else {
                        text.push_str(&format!("{id},n{j}\n"));
                    }
                }
            }
            std::fs::write(&p, text).unwrap();
            p
        })
        .collect()
}

fn opts(threads: usize) -> ConvertOptions {
    let mut o = ConvertOptions::default();
    o.decode.chunk_bytes = 2048;
    o.threads = threads;
    o.sources.file_name_column = Some("src".into());
    o
}

#[test]
fn many_files_merge_in_order_whatever_the_threads() {
    let d = tmpdir("merge");
    let paths = files(&d, 23);
    let mut outputs = Vec::new();
    for threads in [1, 2, 4] {
        let sources = paths.iter().map(Source::path).collect();
        let dst = d.join(format!("out{threads}.parquet"));
        let stats = convert_sources(sources, &dst, &opts(threads), &Control::default()).unwrap();
        assert_eq!(stats.rows_read, 22 * 300);
        assert_eq!(stats.rows_written, 22 * 300);
        assert_eq!(stats.sources.len(), 23);
        assert_eq!(stats.sources[7].rows_read, 0);
        assert!(stats.sources.iter().all(|s| s.fingerprint.size.is_some()));
        let t = read_parquet(&dst);
        let names: Vec<String> = t
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["id", "name", "src", "extra"]);
        let ids = t.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        assert!(
            ids.values().windows(2).all(|w| w[0] < w[1]),
            "input order kept"
        );
        let src = t.column(2).as_any().downcast_ref::<StringArray>().unwrap();
        assert!(src.value(0).ends_with("f000.csv"));
        assert!(src.value(t.num_rows() - 1).ends_with("f022.csv"));
        assert_eq!(t.column(3).null_count(), 18 * 300);
        outputs.push(t);
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0], outputs[2]);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn strict_schema_policy_names_the_source_that_differs() {
    let d = tmpdir("strict");
    let paths = files(&d, 6);
    let mut o = opts(2);
    o.decode.schema_policy = Some(SchemaPolicy::Strict);
    let sources = paths.iter().map(Source::path).collect();
    let dst = d.join("o.parquet");
    let err = convert_sources(sources, &dst, &o, &Control::default()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Schema(_)), "{err}");
    assert!(err.to_string().contains("f004.csv"), "{err}");
    assert!(!dst.exists());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bytes_and_streams_read_as_files_do() {
    let d = tmpdir("streams");
    let text = b"a,b\n1,x\n2,y\n".to_vec();
    let sources = vec![
        Source::new("m", SourceData::Bytes(Arc::from(text.clone()))),
        Source::new(
            "s",
            SourceData::Reader(Box::new(std::io::Cursor::new(text.clone()))),
        ),
    ];
    let mut o = opts(2);
    o.sources.sha256 = true;
    let stats = convert_sources(sources, &d.join("o.parquet"), &o, &Control::default()).unwrap();
    assert_eq!(stats.rows_written, 4);
    let fp = &stats.sources[1].fingerprint;
    assert_eq!(fp.size, Some(text.len() as u64));
    assert_eq!(fp.sha256, stats.sources[0].fingerprint.sha256);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_stream_of_many_sources_reads_them_in_order() {
    let d = tmpdir("read");
    // Same columns; the big one is streamed chunk by chunk.
    let small = d.join("a.csv");
    std::fs::write(&small, "id,v\n1,a\n2,b\n").unwrap();
    let big = d.join("b.csv");
    let mut text = String::from("id,v\n");
    for i in 3..5000 {
        text.push_str(&format!("{i},v{i}\n"));
    }
    std::fs::write(&big, text).unwrap();
    for threads in [1, 3] {
        let sources = vec![Source::path(&small), Source::path(&big)];
        let reading = read_sources(sources, &opts(threads)).unwrap();
        let batches: Vec<RecordBatch> = reading.reader.map(|b| b.unwrap()).collect();
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        assert_eq!(rows, 4999);
        assert_eq!(reading.counts.rows_read.load(Ordering::Relaxed), 4999);
        assert_eq!(batches[0].schema().fields().len(), 3);
    }
    std::fs::remove_dir_all(&d).unwrap();
}
