//! JSON decoding end to end: layouts, types, nesting, bad records, schema policies,
//! chunking.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;

use super::*;
use crate::stream::BatchReader;

fn read_with(text: &str, decode: &DecodeOptions, opts: &JsonOptions) -> Result<Vec<RecordBatch>> {
    let s = start(text.as_bytes(), decode, opts, None, false)?;
    BatchReader::new(s.start).collect()
}

fn read(text: &str) -> RecordBatch {
    let batches = read_with(text, &DecodeOptions::default(), &JsonOptions::default()).unwrap();
    let schema = batches
        .first()
        .map(RecordBatch::schema)
        .unwrap_or_else(|| Arc::new(Schema::empty()));
    arrow_select::concat::concat_batches(&schema, &batches).unwrap()
}

fn layout_of(text: &str) -> Layout {
    start(
        text.as_bytes(),
        &DecodeOptions::default(),
        &JsonOptions::default(),
        None,
        false,
    )
    .unwrap()
    .layout
}

#[test]
fn layouts_are_found() {
    assert_eq!(layout_of("{\"a\":1}\n{\"a\":2}\n"), Layout::Lines);
    assert_eq!(layout_of("{\"a\":1}"), Layout::Values);
    assert_eq!(layout_of("{\"a\":\n1}\n{\"a\":2}"), Layout::Values);
    assert!(matches!(layout_of("[{\"a\":1}]"), Layout::Array { ref path, .. } if path.is_empty()));
    assert!(matches!(
        layout_of("{\"meta\": {\"n\": 2}, \"items\": [{\"a\":1}, {\"a\":2}]}"),
        Layout::Array { ref path, .. } if path == "/items"
    ));
    assert!(matches!(
        layout_of("{\"data\": {\"rows\": [{\"a\":1}]}}"),
        Layout::Array { ref path, .. } if path == "/data/rows"
    ));
}

#[test]
fn json_lines_with_types_and_nesting() {
    let b = read(concat!(
        "{\"id\": 1, \"ts\": \"2024-05-01T10:00:00\", \"x\": 1.5, \"ok\": true, \"geo\": {\"lat\": 1.0}, \"tags\": [\"a\"]}\n",
        "\n",
        "{\"id\": 2, \"ts\": \"2024-05-02T11:00:00\", \"x\": 2, \"ok\": false, \"geo\": null, \"tags\": []}\n",
    ));
    assert_eq!(b.num_rows(), 2);
    let types: Vec<String> = b
        .schema()
        .fields()
        .iter()
        .map(|f| f.data_type().to_string())
        .collect();
    assert_eq!(
        types,
        [
            "Int64",
            "Timestamp(µs)",
            "Float64",
            "Boolean",
            "Struct(\"lat\": Float64)",
            "List(Utf8)"
        ]
    );
    assert_eq!(b.column(2).as_primitive::<Float64Type>().value(1), 2.0);
    assert!(b.column(4).is_null(1));
}

#[test]
fn arrays_and_documents() {
    let b = read(
        "{\"meta\": {\"n\": 2}, \"items\": [{\"a\": 1}, {\"a\": 2, \"b\": \"x\"}], \"total\": 2}",
    );
    assert_eq!(b.num_rows(), 2);
    assert_eq!(b.schema().field(1).name(), "b");
    let b = read("[1, 2, 3]");
    assert_eq!(b.schema().field(0).name(), "value");
    assert_eq!(b.column(0).as_primitive::<Int64Type>().values(), &[1, 2, 3]);
    let b = read("{\"a\": 1}{\"a\": 2} {\"a\": 3}");
    assert_eq!(b.num_rows(), 3);
    assert_eq!(read("[]").num_rows(), 0);
}

#[test]
fn bad_lines_are_bad_records() {
    let text = "{\"a\": 1}\n{\"a\": 2,}\n{\"a\": 3} x\n{\"a\": 4}\n";
    let decode = DecodeOptions {
        error_policy: ErrorPolicy::Permissive,
        ..DecodeOptions::default()
    };
    let s = start(
        text.as_bytes(),
        &decode,
        &JsonOptions::default(),
        None,
        false,
    )
    .unwrap();
    let mut r = BatchReader::new(s.start);
    let rows: usize = r.by_ref().map(|b| b.unwrap().num_rows()).sum();
    assert_eq!((rows, r.rows_read(), r.rows_rejected()), (2, 4, 2));
    let err = read_with(text, &DecodeOptions::default(), &JsonOptions::default()).unwrap_err();
    let pos = err.position().unwrap();
    assert_eq!((pos.line, pos.record), (2, 2), "{err}");
}

#[test]
fn a_blank_line_past_the_limit_is_a_record_too_long_wherever_chunks_fall() {
    let text = format!("{{\"a\": 1}}\n{}\n  \n{{\"a\": 2}}\n", " ".repeat(40));
    for chunk_bytes in [3, 16, 50, 1 << 20] {
        let decode = DecodeOptions {
            error_policy: ErrorPolicy::Permissive,
            max_record_bytes: 32,
            chunk_bytes,
            ..DecodeOptions::default()
        };
        let opts = JsonOptions {
            named_lines: true,
            ..JsonOptions::default()
        };
        let s = start(text.as_bytes(), &decode, &opts, None, false).unwrap();
        assert_eq!(s.layout, Layout::Lines);
        let mut r = BatchReader::new(s.start);
        let rows: usize = r.by_ref().map(|b| b.unwrap().num_rows()).sum();
        // The short blank line is no record; the long one is, and is rejected.
        assert_eq!(
            (rows, r.rows_read(), r.rows_rejected()),
            (2, 3, 1),
            "chunk_bytes = {chunk_bytes}"
        );
    }
}

#[test]
fn schema_widens_under_merge() {
    let mut text = String::new();
    for i in 0..2000 {
        text.push_str(&format!("{{\"a\": {i}}}\n"));
    }
    text.push_str("{\"a\": 1.5, \"b\": \"new\"}\n");
    let decode = DecodeOptions {
        chunk_bytes: 4096,
        ..DecodeOptions::default()
    };
    let batches = read_with(&text, &decode, &JsonOptions::default()).unwrap();
    let last = batches.last().unwrap();
    assert_eq!(last.schema().field(0).data_type(), &DataType::Float64);
    assert_eq!(last.schema().field(1).name(), "b");
    let strict = DecodeOptions {
        chunk_bytes: 4096,
        schema_policy: Some(SchemaPolicy::Strict),
        ..DecodeOptions::default()
    };
    assert!(read_with(&text, &strict, &JsonOptions::default()).is_err());
}

#[test]
fn chunked_equals_whole() {
    let mut text = String::from("[");
    for i in 0..3000 {
        if i > 0 {
            text.push_str(",\n");
        }
        text.push_str(&format!(
            "{{\"i\": {i}, \"s\": \"v,]{i}\\\"\", \"n\": [{i}, {{\"k\": {i}}}]}}"
        ));
    }
    text.push(']');
    let whole = read(&text);
    for chunk_bytes in [64, 1000, 7777] {
        let decode = DecodeOptions {
            chunk_bytes,
            ..DecodeOptions::default()
        };
        let batches = read_with(&text, &decode, &JsonOptions::default()).unwrap();
        let got = arrow_select::concat::concat_batches(&whole.schema(), &batches).unwrap();
        assert_eq!(got, whole, "{chunk_bytes}");
    }
}

#[test]
fn flatten_makes_dotted_columns() {
    let opts = JsonOptions {
        flatten: Some(usize::MAX),
        ..JsonOptions::default()
    };
    let batches = read_with(
        "{\"a\": {\"b\": 1, \"c\": {\"d\": \"x\"}}, \"e\": 2}\n{\"a\": null, \"e\": 3}\n",
        &DecodeOptions::default(),
        &opts,
    )
    .unwrap();
    let schema = batches[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["a.b", "a.c.d", "e"]);
    assert!(batches[0].column(0).is_null(1));
}
