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

/// The batches brought to one schema (the join of theirs, as the writer does) and
/// concatenated.
fn joined(batches: &[RecordBatch]) -> RecordBatch {
    let mut schema = batches[0].schema().as_ref().clone();
    for b in batches {
        schema = crate::write::conform::join_schemas(&schema, &b.schema(), false).unwrap();
    }
    let schema = Arc::new(schema);
    let conformed: Vec<RecordBatch> = batches
        .iter()
        .map(|b| crate::write::conform::conform(b, &schema).unwrap())
        .collect();
    arrow_select::concat::concat_batches(&schema, &conformed).unwrap()
}

fn names(b: &RecordBatch) -> Vec<String> {
    b.schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

fn records_path(text: &str) -> String {
    start(
        text.as_bytes(),
        &DecodeOptions::default(),
        &XmlOptions::default(),
        false,
    )
    .unwrap()
    .layout
    .records_path
}

#[test]
fn records_are_found() {
    assert_eq!(
        records_path("<rss><channel><title>t</title><item><title>a</title></item><item><title>b</title></item></channel></rss>"),
        "/rss/channel/item"
    );
    assert_eq!(
        records_path("<feed xmlns='http://www.w3.org/2005/Atom'><title>x</title><entry><id>1</id><link href='a'/><link href='b'/></entry><entry><id>2</id></entry></feed>"),
        "/feed/entry"
    );
    // One entry with two links: the entry is the record (a known layout).
    assert_eq!(
        records_path("<feed xmlns='http://www.w3.org/2005/Atom'><entry><id>1</id><link href='a'/><link href='b'/></entry></feed>"),
        "/feed/entry"
    );
    // A book holding authors is the record, not the author.
    assert_eq!(
        records_path(
            "<c><book><a>1</a><a>2</a><a>3</a></book><book><a>4</a><a>5</a><a>6</a></book></c>"
        ),
        "/c/book"
    );
    // One kind of child, once.
    assert_eq!(records_path("<c><book><t>1</t></book></c>"), "/c/book");
    // Nothing repeats: the root is the record.
    assert_eq!(records_path("<config><a>1</a><b>2</b></config>"), "/config");
    assert_eq!(
        records_path("<?xml version='1.0'?><!-- x --><r><meta/><row id='1'/><row id='2'/></r>"),
        "/r/row"
    );
}

#[test]
fn record_path_given() {
    let text = "<a:root xmlns:a='u'><a:head><a:n>1</a:n></a:head><a:rec><a:v>1</a:v></a:rec><a:rec><a:v>2</a:v></a:rec></a:root>";
    for given in ["a:root/a:rec", "/root/rec", "rec", "root.rec"] {
        let opts = XmlOptions {
            record_path: Some(given.into()),
            ..XmlOptions::default()
        };
        let b = read_with(text, &DecodeOptions::default(), &opts).unwrap();
        assert_eq!(
            b.iter().map(RecordBatch::num_rows).sum::<usize>(),
            2,
            "{given}"
        );
        assert_eq!(names(&b[0]), ["v"], "{given}");
    }
    let opts = XmlOptions {
        record_path: Some("nope/rec".into()),
        ..XmlOptions::default()
    };
    assert!(read_with(text, &DecodeOptions::default(), &opts).is_err());
}

#[test]
fn text_is_typed_as_csv_cells_are() {
    let b = read(concat!(
        "<r><x><i>1</i><f>1.5</f><b>true</b><d>2024-05-01</d><t>2024-05-01T10:00:00Z</t><s>007</s><e></e><n>12345678901234567890</n></x>",
        "<x><i>2</i><f>-3</f><b>false</b><d>2024-05-02</d><t>2024-05-02T11:00:00Z</t><s>abc</s><e/><n>1</n></x></r>"
    ));
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
            "Float64",
            "Boolean",
            "Date32",
            "Timestamp(µs, \"UTC\")",
            "Utf8",
            "Null",
            "Decimal128(20, 0)"
        ]
    );
    assert_eq!(b.column(5).as_string::<i32>().value(0), "007");
}

#[test]
fn nesting_lists_text_and_names() {
    let text = concat!(
        "<lib xmlns:dc='http://purl.org/dc/elements/1.1/'>",
        "<book id='1' lang='en'><dc:creator>X</dc:creator><title lang='fr'>T</title><id>b1</id>",
        "<p>Hello <b>big</b> world</p><tag>a</tag><tag>b</tag></book>",
        "<book id='2'><title lang='de'>U</title><id>b2</id><p>Hi</p><tag>c</tag><tag>d</tag></book>",
        "</lib>"
    );
    let b = read(text);
    assert_eq!(
        names(&b),
        ["@id", "lang", "creator", "title", "id", "p", "tag"]
    );
    let title = b.column(3).as_struct();
    assert_eq!(
        title
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>(),
        ["lang", "#text"]
    );
    assert_eq!(title.column(1).as_string::<i32>().value(0), "T");
    let p = b.column(5).as_struct();
    assert_eq!(
        p.column_by_name("#text")
            .unwrap()
            .as_string::<i32>()
            .value(0),
        "Hello  world"
    );
    assert_eq!(
        b.column(6)
            .as_list::<i32>()
            .value(1)
            .as_string::<i32>()
            .value(1),
        "d"
    );
    // Flattened.
    let opts = XmlOptions {
        flatten: Some(usize::MAX),
        ..XmlOptions::default()
    };
    let flat = read_with(text, &DecodeOptions::default(), &opts).unwrap();
    assert!(
        names(&flat[0]).contains(&"title.#text".to_string()),
        "{:?}",
        names(&flat[0])
    );
}

#[test]
fn references_cdata_and_entities() {
    let b = read(concat!(
        "<?xml version='1.0'?>\n<!DOCTYPE r [<!ENTITY co 'ACME &amp; Co'><!ENTITY ext SYSTEM 'http://example.invalid/x'>]>\n",
        "<r><x a='&co;&#10;x'>&co; &#x41;&lt;<![CDATA[<raw>&amp;]]>&ext;</x><x a='b'>2</x></r>"
    ));
    let a = b.column(0).as_string::<i32>();
    assert_eq!(a.value(0), "ACME & Co\nx");
    let t = b.column(1).as_string::<i32>();
    assert_eq!(t.value(0), "ACME & Co A<<raw>&amp;");
}

fn policy(p: ErrorPolicy) -> DecodeOptions {
    DecodeOptions {
        error_policy: p,
        ..DecodeOptions::default()
    }
}

#[test]
fn a_malformed_record_is_one_bad_record() {
    let text =
        "<r>\n<x><a>1</a></x>\n<x><a>2</x>\n<x><a b='1' b='2'>3</a></x>\n<x><a>4</a></x>\n</r>";
    let s = start(
        text.as_bytes(),
        &policy(ErrorPolicy::Permissive),
        &XmlOptions::default(),
        false,
    )
    .unwrap();
    let mut reader = BatchReader::new(s.start);
    let batches: Vec<RecordBatch> = reader.by_ref().collect::<Result<_>>().unwrap();
    let b = joined(&batches);
    assert_eq!(b.num_rows(), 2);
    assert_eq!(b.column(0).as_primitive::<Int64Type>().values(), &[1, 4]);
    let counts = reader.counts();
    assert_eq!(
        counts
            .rows_rejected
            .load(std::sync::atomic::Ordering::Relaxed),
        2
    );
    // Strict: an error naming the line and the offset.
    let err = read_with(text, &DecodeOptions::default(), &XmlOptions::default()).unwrap_err();
    let pos = err.position().unwrap();
    assert_eq!((pos.line, pos.byte), (3, 20), "{err}");
    assert!(err.to_string().contains("not well-formed"), "{err}");
}

#[test]
fn broken_documents_are_errors() {
    for text in [
        "<r><x>1</x></s>",
        "<r><x>1</x></r>junk",
        "<r><x>1</x></r><r/>",
        "<r><x>1</x>",
        "<?xml version='1.0'?><?xml version='1.0'?><r/>",
        "text<r/>",
        "<r><x>1</x><x>2</x><y \u{1}/></r>",
    ] {
        assert!(
            read_with(
                text,
                &policy(ErrorPolicy::Permissive),
                &XmlOptions::default()
            )
            .is_err(),
            "{text}"
        );
    }
}

#[test]
fn entity_bombs_are_refused() {
    let mut dtd = String::from("<!DOCTYPE r [<!ENTITY l0 'lollollollollollollollollollol'>");
    for i in 1..10 {
        dtd.push_str(&format!(
            "<!ENTITY l{i} '{}'>",
            format!("&l{};", i - 1).repeat(10)
        ));
    }
    dtd.push_str("]>");
    let text = format!("{dtd}<r><x>&l9;</x><x>1</x></r>");
    let err = read_with(
        &text,
        &policy(ErrorPolicy::Permissive),
        &XmlOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::LimitExceeded(_)), "{err}");
    // Quadratic blow-up: one big entity referenced many times in a record.
    let big = "x".repeat(100_000);
    let text = format!(
        "<!DOCTYPE r [<!ENTITY b '{big}'>]><r><x>{}</x><x>1</x></r>",
        "&b;".repeat(200)
    );
    assert!(read_with(
        &text,
        &policy(ErrorPolicy::Permissive),
        &XmlOptions::default()
    )
    .is_err());
}

/// `text` read in chunks of many sizes gives what one chunk gives.
fn check_chunked(text: &str) {
    let whole =
        joined(&read_with(text, &DecodeOptions::default(), &XmlOptions::default()).unwrap());
    for chunk_bytes in [1, 2, 7, 33, 100, 1000] {
        let d = DecodeOptions {
            chunk_bytes,
            batch_rows: 3,
            ..DecodeOptions::default()
        };
        let parts = read_with(text, &d, &XmlOptions::default()).unwrap();
        assert_eq!(joined(&parts), whole, "{chunk_bytes}");
    }
}

#[test]
fn chunked_equals_whole() {
    check_chunked(concat!(
        "<?xml version='1.0'?>\n<c>\n<title>x</title>\n",
        "<b id='1'><t>a</t></b>\n<b id='2'><t>b</t><t>c</t></b>\n",
        "<b id='3'><t lang='en'>d</t><n>1.5</n></b>\n<b/>\n</c>\n"
    ));
}

#[test]
fn later_records_widen_the_plan() {
    let mut text = String::from("<c>");
    for i in 0..50 {
        text.push_str(&format!("<b><n>{i}</n><t>x</t></b>"));
    }
    text.push_str("<b><n>1.5</n><t lang='en'>y</t><t>z</t><new>q</new></b></c>");
    let d = DecodeOptions {
        chunk_bytes: 256,
        ..DecodeOptions::default()
    };
    let b = joined(&read_with(&text, &d, &XmlOptions::default()).unwrap());
    assert_eq!(b.num_rows(), 51);
    assert_eq!(names(&b), ["n", "t", "new"]);
    assert_eq!(b.column(0).data_type().to_string(), "Float64");
    let t = b.column(1).as_list::<i32>();
    assert_eq!(t.value(50).len(), 2);
    assert_eq!(t.value(0).len(), 1);
    let first = t.value(0);
    let first = first.as_struct();
    assert_eq!(
        first
            .column_by_name("#text")
            .unwrap()
            .as_string::<i32>()
            .value(0),
        "x"
    );
    check_chunked(&text);
}

#[test]
fn bad_characters_and_encodings() {
    let text = "<r><x>1</x><x>\u{1}</x><x>3</x></r>";
    let s = start(
        text.as_bytes(),
        &policy(ErrorPolicy::Permissive),
        &XmlOptions::default(),
        false,
    )
    .unwrap();
    let mut reader = BatchReader::new(s.start);
    let rows: usize = reader.by_ref().map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(
        (
            rows,
            reader
                .counts()
                .rows_rejected
                .load(std::sync::atomic::Ordering::Relaxed)
        ),
        (2, 1)
    );
    let bytes = b"<r><x>1</x><x>\xff</x></r>";
    let s = start(
        &bytes[..],
        &policy(ErrorPolicy::Permissive),
        &XmlOptions::default(),
        false,
    )
    .unwrap();
    let mut reader = BatchReader::new(s.start);
    let rows: usize = reader.by_ref().map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(
        (
            rows,
            reader
                .counts()
                .rows_rejected
                .load(std::sync::atomic::Ordering::Relaxed)
        ),
        (1, 1)
    );
}

#[test]
fn deep_nesting_is_refused_or_read_in_bounds() {
    let deep = format!("<r>{}{}</r>", "<a>".repeat(20_000), "</a>".repeat(20_000));
    assert!(read_with(
        &deep,
        &policy(ErrorPolicy::Permissive),
        &XmlOptions::default()
    )
    .is_err());
    let text = format!(
        "<r><x>{}1{}</x><x>2</x><x>3</x></r>",
        "<a>".repeat(500),
        "</a>".repeat(500)
    );
    let s = start(
        text.as_bytes(),
        &policy(ErrorPolicy::Permissive),
        &XmlOptions::default(),
        false,
    )
    .unwrap();
    let mut reader = BatchReader::new(s.start);
    let rows: usize = reader.by_ref().map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(
        (
            rows,
            reader
                .counts()
                .rows_rejected
                .load(std::sync::atomic::Ordering::Relaxed)
        ),
        (2, 1)
    );
}

#[test]
fn threads_decode_as_one_thread_across_widenings() {
    // Records whose `t` turns from a number into text, then into a struct, with chunks of a
    // few records: workers decoding ahead meet each widening before or after the chunks
    // around it, and every output must still be what one thread decodes.
    let mut text = String::from("<c>");
    for i in 0..400 {
        match i {
            150 => text.push_str("<b><t>x</t></b>"),
            300 => text.push_str("<b><t><u>1</u></t><v>2</v></b>"),
            _ => text.push_str(&format!("<b><t>{i}</t></b>")),
        }
    }
    text.push_str("</c>");
    let d = DecodeOptions {
        chunk_bytes: 64,
        batch_rows: 7,
        ..DecodeOptions::default()
    };
    let read_on = |threads: usize| -> Vec<RecordBatch> {
        let src = std::io::Cursor::new(text.clone().into_bytes());
        let s = start(src, &d, &XmlOptions::default(), false).unwrap();
        BatchReader::new(s.start)
            .with_threads(threads)
            .collect::<Result<_>>()
            .unwrap()
    };
    let one = read_on(1);
    assert_eq!(one.iter().map(RecordBatch::num_rows).sum::<usize>(), 400);
    for _ in 0..20 {
        assert_eq!(read_on(3), one);
    }
}
