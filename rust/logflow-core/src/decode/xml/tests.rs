//! XML decoding end to end: records found, types, nesting, bad records, chunking.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, RecordBatch};

use super::*;
use crate::stream::BatchReader;

fn read_with(text: &str, decode: &DecodeOptions, opts: &XmlOptions) -> Result<Vec<RecordBatch>> {
    let s = start(text.as_bytes(), decode, opts, false)?;
    BatchReader::new(s.start).collect()
}

fn read(text: &str) -> RecordBatch {
    let batches = read_with(text, &DecodeOptions::default(), &XmlOptions::default()).unwrap();
    let schema = batches
        .first()
        .map(RecordBatch::schema)
        .unwrap_or_else(|| Arc::new(Schema::empty()));
    arrow_select::concat::concat_batches(&schema, &batches).unwrap()
}

#[test]
fn a_catalog_of_books() {
    let b = read(concat!(
        "<?xml version=\"1.0\"?>\n<catalog>\n",
        "  <book id=\"1\"><title>A</title><price>1.5</price><author>x</author><author>y</author></book>\n",
        "  <book id=\"2\"><title>B &amp; C</title><price>2</price><author>z</author></book>\n",
        "</catalog>\n"
    ));
    assert_eq!(b.num_rows(), 2);
    let names: Vec<String> = b
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["id", "title", "price", "author"]);
    assert_eq!(b.column(0).as_primitive::<Int64Type>().values(), &[1, 2]);
    assert_eq!(b.column(1).as_string::<i32>().value(1), "B & C");
    assert_eq!(
        b.column(2).as_primitive::<Float64Type>().values(),
        &[1.5, 2.0]
    );
    let authors = b.column(3).as_list::<i32>();
    assert_eq!(authors.value(0).len(), 2);
    assert_eq!(authors.value(1).len(), 1);
}
