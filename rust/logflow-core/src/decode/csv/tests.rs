//! Decoder behaviour end to end (tokenize, chunk, decode, sequence).

use super::*;
use crate::decode::DecodeOptions;
use crate::decode::{CastErrorPolicy, ErrorPolicy};
use crate::testutil::Opts;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::Array;
use arrow_array::RecordBatch;
use arrow_schema::{DataType, TimeUnit};

fn read(s: &str, opts: Opts) -> Result<Vec<RecordBatch>> {
    opts.reader(s.as_bytes())?.collect()
}

fn column_types(b: &RecordBatch) -> Vec<DataType> {
    b.schema()
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect()
}

fn read_one(s: &str) -> RecordBatch {
    let batches = read(s, Opts::default()).unwrap();
    assert_eq!(batches.len(), 1);
    batches.into_iter().next().unwrap()
}

#[test]
fn infers_types_and_reads_values() {
    let b =
        read_one("a,b,c,d,e,f\n1,1.5,true,2024-01-02,2024-01-02T03:04:05,x\n-2,,false,,,\"y,z\"\n");
    let types = column_types(&b);
    assert_eq!(
        types,
        [
            DataType::Int64,
            DataType::Float64,
            DataType::Boolean,
            DataType::Date32,
            DataType::Timestamp(TimeUnit::Microsecond, None),
            DataType::Utf8
        ]
    );
    assert_eq!(b.column(0).as_primitive::<Int64Type>().values(), &[1, -2]);
    assert!(b.column(1).is_null(1));
    assert_eq!(b.column(1).as_primitive::<Float64Type>().value(0), 1.5);
    assert_eq!(b.column(5).as_string::<i32>().value(1), "y,z");
}

#[test]
fn crlf_bom_blank_lines_and_no_final_newline() {
    let b = read_one("\u{feff}a;b\r\n\r\n1;x\r\n\n2;\"q\"\"q\"");
    assert_eq!(b.num_rows(), 2);
    assert_eq!(b.schema().field(0).name(), "a");
    assert_eq!(b.column(1).as_string::<i32>().value(1), "q\"q");
}

#[test]
fn ragged_row_reports_line_and_byte() {
    let err = read("a,b\n1,2\n\n3,4,5\n", Opts::default()).unwrap_err();
    let pos = err.position().unwrap();
    assert_eq!((pos.line, pos.byte, pos.record), (4, 9, 2));
    assert!(
        err.to_string().contains("expected 2 fields, found 3"),
        "{err}"
    );
}

#[test]
fn bad_utf8_names_the_column() {
    let mut data = b"a,b\n1,ok\n2,".to_vec();
    data.extend_from_slice(b"\xff\xfe\n");
    let err = Opts::default()
        .reader(&data[..])
        .unwrap()
        .find_map(Result::err)
        .unwrap();
    match err.kind() {
        ErrorKind::Decode {
            position, column, ..
        } => {
            assert_eq!(position.line, 3);
            assert_eq!(column.as_deref(), Some("b"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn value_that_does_not_fit_the_inferred_type_is_an_error() {
    let opts = Opts {
        decode: DecodeOptions {
            chunk_bytes: 4,
            ..DecodeOptions::default()
        },
        csv: CsvOptions::default(),
    };
    let err = read("n\n1\n2\nx\n", opts).unwrap_err();
    assert!(
        err.to_string().contains("cannot parse \"x\" as Int64"),
        "{err}"
    );
    assert_eq!(err.position().map(|p| p.line), Some(4));
}

#[test]
fn empty_and_header_only() {
    assert!(matches!(
        read("", Opts::default()).unwrap_err().kind(),
        ErrorKind::Empty
    ));
    assert!(matches!(
        read(" \n\n", Opts::default()).unwrap_err().kind(),
        ErrorKind::Empty
    ));
    let r = Opts::default().reader(&b"a,b\n"[..]).unwrap();
    assert_eq!(r.schema().fields().len(), 2);
    assert_eq!(r.count(), 0);
}

#[test]
fn no_header_generates_names() {
    let b = read(
        "1,2\n3,4\n",
        Opts {
            decode: DecodeOptions::default(),
            csv: CsvOptions {
                header: Some(false),
                ..CsvOptions::default()
            },
        },
    )
    .unwrap();
    assert_eq!(b[0].schema().field(1).name(), "column_2");
    assert_eq!(b[0].num_rows(), 2);
}

#[test]
fn unterminated_quote_is_an_error() {
    let err = read("a,b\n1,\"never closed\n2,3\n4,5\n", Opts::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("unterminated quote: the quote is never closed"),
        "{err}"
    );
    assert_eq!(err.position().map(|p| p.line), Some(2));
    let mut long = String::from("a,b\n1,\"open\n");
    for i in 0..2000 {
        long.push_str(&format!("{i},{i}\n"));
    }
    let opts = Opts {
        decode: DecodeOptions {
            max_record_bytes: 100,
            chunk_bytes: 64,
            ..DecodeOptions::default()
        },
        csv: CsvOptions::default(),
    };
    let err = read(&long, opts).unwrap_err();
    assert!(err.to_string().contains("runs past 100 bytes"), "{err}");
    // A quoted last field without a final newline is fine.
    let b = read("a,b\n1,\"x\"", Opts::default()).unwrap();
    assert_eq!(b[0].num_rows(), 1);
}

#[test]
fn a_line_longer_than_the_limit_is_rejected_and_skipped_whole() {
    // 1,000 bytes without a line end, over a limit of 100, in chunks of 64: one bad record,
    // and decoding resumes on the next line, whatever the line ending.
    for eol in ["\n", "\r\n", "\r"] {
        let mut s = format!("a,b{eol}1,2{eol}3,");
        s.push_str(&"x".repeat(1000));
        s.push_str(eol);
        for i in 4..40 {
            s.push_str(&format!("{i},{i}{eol}"));
        }
        let opts = |p| Opts {
            decode: DecodeOptions {
                max_record_bytes: 100,
                chunk_bytes: 64,
                error_policy: p,
                ..DecodeOptions::default()
            },
            csv: CsvOptions::default(),
        };
        let err = read(&s, opts(ErrorPolicy::Strict)).unwrap_err();
        assert!(err.to_string().contains("record too long"), "{err}");
        assert_eq!(err.position().map(|p| p.line), Some(3), "{eol:?}");
        let mut r = opts(ErrorPolicy::Permissive).reader(s.as_bytes()).unwrap();
        let batches: Vec<RecordBatch> = r.by_ref().collect::<Result<_>>().unwrap();
        let a: Vec<i64> = batches
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
            .collect();
        let mut want = vec![1];
        want.extend(4..40);
        assert_eq!(a, want, "{eol:?}");
        assert_eq!((r.rows_read(), r.rows_rejected()), (38, 1), "{eol:?}");
    }
}

#[test]
fn a_quote_left_open_is_carried_past_chunks_without_quotes() {
    // Chunks of 64 bytes without a quote character after an unclosed one: they join the
    // open record undecoded until it passes the limit, then only its first line is
    // rejected and every later row decodes, as in one pass.
    let mut s = String::from("a,b\n0,\"q, 0\"\n1,\"never closed\n");
    for i in 2..300 {
        s.push_str(&format!("{i},plain {i}\n"));
    }
    let opts = |chunk_bytes| Opts {
        decode: DecodeOptions {
            max_record_bytes: 1000,
            chunk_bytes,
            error_policy: ErrorPolicy::Permissive,
            ..DecodeOptions::default()
        },
        csv: CsvOptions {
            delimiter: Some(b','),
            quote: Some(Some(b'"')),
            header: Some(true),
            ..CsvOptions::default()
        },
    };
    let ids = |chunk_bytes| {
        let mut r = opts(chunk_bytes).reader(s.as_bytes()).unwrap();
        let batches: Vec<RecordBatch> = r.by_ref().collect::<Result<_>>().unwrap();
        let ids: Vec<String> = batches
            .iter()
            .flat_map(|b| {
                let c = b.column(0);
                (0..c.len())
                    .map(|i| match c.as_primitive_opt::<Int64Type>() {
                        Some(a) => a.value(i).to_string(),
                        None => c.as_string::<i32>().value(i).to_string(),
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        (ids, r.rows_read(), r.rows_rejected())
    };
    let whole = ids(1 << 20);
    let want: Vec<String> = std::iter::once(0)
        .chain(2..300)
        .map(|i: i32| i.to_string())
        .collect();
    assert_eq!(whole, (want, 300, 1));
    assert_eq!(ids(64), whole);
    let strict = Opts {
        decode: DecodeOptions {
            error_policy: ErrorPolicy::Strict,
            ..opts(64).decode.clone()
        },
        csv: opts(64).csv.clone(),
    };
    let err = read(&s, strict).unwrap_err();
    assert!(err.to_string().contains("unterminated quote"), "{err}");
    assert_eq!(err.position().map(|p| p.line), Some(3));
}

#[test]
fn wide_records_get_a_sample_of_several_lines() {
    // 12,000 columns: the 64 KiB sample holds part of the header line only, too little to
    // tell the header from the rows; detection then looks at more of the chunk.
    let cols = 12_000;
    let mut s: String = (0..cols)
        .map(|i| format!("col{i}"))
        .collect::<Vec<_>>()
        .join(",");
    s.push('\n');
    for r in 0..12 {
        s.push_str(
            &(0..cols)
                .map(|i| (r * i).to_string())
                .collect::<Vec<_>>()
                .join(","),
        );
        s.push('\n');
    }
    assert!(s.find('\n').unwrap() > 64 << 10);
    let b = read(&s, Opts::default()).unwrap();
    assert_eq!(b.iter().map(RecordBatch::num_rows).sum::<usize>(), 12);
    let schema = b[0].schema();
    assert_eq!(schema.field(0).name(), "col0");
    assert_eq!(schema.field(cols - 1).data_type(), &DataType::Int64);
}

#[test]
fn blocks_respect_row_bound_and_keep_order() {
    let mut s = String::from("i\n");
    for i in 0..1000 {
        s.push_str(&format!("{i}\n"));
    }
    let batches = read(
        &s,
        Opts {
            decode: DecodeOptions {
                batch_rows: 64,
                ..DecodeOptions::default()
            },
            csv: CsvOptions::default(),
        },
    )
    .unwrap();
    assert!(batches.iter().all(|b| b.num_rows() <= 64));
    let all: Vec<i64> = batches
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
        .collect();
    assert_eq!(all, (0..1000).collect::<Vec<_>>());
}

fn policy(p: ErrorPolicy) -> Opts {
    Opts {
        decode: DecodeOptions {
            error_policy: p,
            ..DecodeOptions::default()
        },
        csv: CsvOptions::default(),
    }
}

#[test]
fn permissive_drops_bad_rows_and_keeps_types() {
    let mut s = String::from("id,amount,name\n");
    for i in 0..300 {
        s.push_str(&format!("{i},{i}.5,n{i}\n"));
    }
    s.push_str("300,oops,bad\n301,1.0\n302,2.0,x,extra\n303,3.5,ok\n");
    let mut r = policy(ErrorPolicy::Permissive)
        .reader(s.as_bytes())
        .unwrap();
    let batches: Vec<RecordBatch> = r.by_ref().collect::<Result<_>>().unwrap();
    assert_eq!(batches[0].schema().field(1).data_type(), &DataType::Float64);
    let n: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(n, 301);
    assert_eq!(r.rows_rejected(), 3);
    assert_eq!(r.rows_read(), 304);
}

#[test]
fn strict_reports_the_earliest_problem() {
    let s = "a,b\n1,2\n3,x\n4,5,6\n";
    let opts = Opts {
        decode: DecodeOptions::default(),
        csv: CsvOptions {
            types: Some(vec![ColumnType::Int64, ColumnType::Int64]),
            ..CsvOptions::default()
        },
    };
    let err = read(s, opts).unwrap_err();
    assert_eq!(
        err.position().map(|p| (p.line, p.record)),
        Some((3, 2)),
        "{err}"
    );
}

#[test]
fn chunked_decoding_matches_whole_decoding_even_with_quoted_newlines() {
    let mut s = String::from("k,v\n");
    for i in 0..500 {
        if i % 7 == 0 {
            s.push_str(&format!("{i},\"multi\nline \"\"{i}\"\"\n\"\n"));
        } else {
            s.push_str(&format!("{i},\"x{i}\"\n"));
        }
    }
    let whole = read(&s, Opts::default()).unwrap();
    for chunk_bytes in [1, 3, 16, 100, 1000] {
        // Types are fixed: inference looks at the first chunk only, which is tiny here.
        let types = Some(
            whole[0]
                .schema()
                .fields()
                .iter()
                .map(|f| ColumnType::from_data_type(f.data_type()).unwrap())
                .collect(),
        );
        let parts = read(
            &s,
            Opts {
                decode: DecodeOptions {
                    chunk_bytes,
                    ..DecodeOptions::default()
                },
                csv: CsvOptions {
                    types,
                    ..CsvOptions::default()
                },
            },
        )
        .unwrap();
        let a = arrow_select::concat::concat_batches(&whole[0].schema(), &whole).unwrap();
        let b = arrow_select::concat::concat_batches(&parts[0].schema(), &parts).unwrap();
        if a != b {
            for r in 0..a.num_rows().min(b.num_rows()) {
                if a.slice(r, 1) != b.slice(r, 1) {
                    panic!(
                        "chunk_bytes={chunk_bytes}: row {r}: {:?} vs {:?} (rows {} vs {})",
                        a.slice(r, 1).columns(),
                        b.slice(r, 1).columns(),
                        a.num_rows(),
                        b.num_rows()
                    );
                }
            }
            panic!(
                "chunk_bytes={chunk_bytes}: rows {} vs {}",
                a.num_rows(),
                b.num_rows()
            );
        }
    }
}

#[test]
fn repeated_header_is_skipped() {
    // A header repeated in the data looks like data to detection: say there is one.
    let opts = Opts {
        decode: DecodeOptions::default(),
        csv: CsvOptions {
            header: Some(true),
            ..CsvOptions::default()
        },
    };
    let mut r = opts.reader(&b"a,b\n1,2\na,b\n3,4\n"[..]).unwrap();
    let batches: Vec<RecordBatch> = r.by_ref().collect::<Result<_>>().unwrap();
    let n: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(n, 2);
    assert_eq!(batches[0].schema().field(0).data_type(), &DataType::Int64);
}

#[test]
fn cast_errors_can_become_nulls() {
    let opts = Opts {
        decode: DecodeOptions {
            on_cast_error: CastErrorPolicy::Null,
            ..DecodeOptions::default()
        },
        csv: CsvOptions {
            types: Some(vec![ColumnType::Int64]),
            header: Some(true),
            ..CsvOptions::default()
        },
    };
    let b = read("n\n1\nx\n3\n", opts).unwrap();
    assert_eq!(b[0].num_rows(), 3);
    assert!(b[0].column(0).is_null(1));
}

#[test]
fn a_given_split_recomputes_the_preamble_under_its_quoting() {
    // Read without quotes, the first lines look like a preamble; with the quote the caller
    // gives, they are one quoted field spanning lines, and nothing may be skipped.
    let text = "c0\n\"a\n,aa\"\"\"\n\"aaa , a\"\n";
    let opts = Opts {
        decode: DecodeOptions::default(),
        csv: CsvOptions {
            delimiter: Some(b','),
            quote: Some(Some(b'"')),
            header: Some(true),
            ..CsvOptions::default()
        },
    };
    let batches = read(text, opts).unwrap();
    let values: Vec<String> = batches
        .iter()
        .flat_map(|b| {
            let col = b.column(0).as_string::<i32>();
            col.iter()
                .map(|v| v.unwrap_or_default().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(values, vec!["a\n,aa\"".to_string(), "aaa , a".to_string()]);
}

#[test]
fn types_given_by_name_override_inference() {
    let text = "zip,n,day\n01234,1,31/12/2024\n98765,2,01/01/2025\n";
    let opts = Opts {
        decode: DecodeOptions {
            column_types: vec![
                ("zip".into(), ColumnType::Utf8),
                ("n".into(), ColumnType::Float64),
            ],
            ..DecodeOptions::default()
        },
        csv: CsvOptions::default(),
    };
    let batches = read(text, opts).unwrap();
    let schema = batches[0].schema();
    let types: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| f.data_type().to_string())
        .collect();
    assert_eq!(types, ["Utf8", "Float64", "Date32"]);
    assert_eq!(batches[0].column(0).as_string::<i32>().value(0), "01234");

    let opts = Opts {
        decode: DecodeOptions {
            column_types: vec![("nope".into(), ColumnType::Int64)],
            ..DecodeOptions::default()
        },
        csv: CsvOptions::default(),
    };
    let err = read(text, opts).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Schema(_)), "{err}");
    assert!(err.to_string().contains("\"zip\", \"n\", \"day\""), "{err}");

    // A type the data contradicts: a decode error naming the column.
    let opts = Opts {
        decode: DecodeOptions {
            column_types: vec![("day".into(), ColumnType::Int64)],
            ..DecodeOptions::default()
        },
        csv: CsvOptions::default(),
    };
    let err = read(text, opts).unwrap_err();
    assert!(err.to_string().contains("column \"day\""), "{err}");
}

#[test]
fn the_header_fits_the_width_the_records_agree_on() {
    // An extra empty header cell is dropped; a short header gets a generated name.
    let batch = read_one("id,,name\n1,a\n2,b\n3,c\n");
    let names: Vec<String> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["id", "name"]);
    assert_eq!(batch.num_rows(), 3);
    let opts = Opts {
        decode: DecodeOptions::default(),
        csv: CsvOptions {
            header: Some(true),
            skip_lines: Some(0),
            ..CsvOptions::default()
        },
    };
    let batch = read("id,name\n1,a,\n2,b,\n3,c,\n", opts).unwrap().remove(0);
    let names: Vec<String> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["id", "name", "column_3"]);
    assert_eq!(batch.num_rows(), 3);
    // Records that disagree among themselves leave the header alone.
    let err = read("a,b,c\n1,2\n3,4,5\n6,7\n8,9,10\n", Opts::default()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Decode { .. }), "{err}");
}

#[test]
fn types_given_keep_the_date_format_the_sample_shows() {
    let opts = Opts {
        decode: DecodeOptions::default(),
        csv: CsvOptions {
            types: Some(vec![ColumnType::Int64, ColumnType::Date]),
            ..CsvOptions::default()
        },
    };
    let b = read("id,day\n1,31/12/2024\n2,13/01/2025\n", opts).unwrap();
    let days = b[0]
        .column(1)
        .as_primitive::<arrow_array::types::Date32Type>();
    assert_eq!(days.values(), &[20088, 20101]);
}

#[test]
fn blank_lines_filling_the_first_chunks_are_skipped() {
    let opts = |chunk_bytes| Opts {
        decode: DecodeOptions {
            chunk_bytes,
            ..DecodeOptions::default()
        },
        csv: CsvOptions::default(),
    };
    let b = read("\n\r\n\n\na,b\n1,2\n", opts(2)).unwrap();
    assert_eq!(b.iter().map(RecordBatch::num_rows).sum::<usize>(), 1);
    assert_eq!(b[0].schema().field(1).name(), "b");
    // Positions still count the skipped lines.
    let err = read("\n\n\na,b\n1,2,3\n", opts(2)).unwrap_err();
    assert_eq!(err.position().map(|p| p.line), Some(5));
    assert!(matches!(
        read("\n\n\n\n", opts(2)).unwrap_err().kind(),
        ErrorKind::Empty
    ));
}

#[test]
fn a_headerless_first_record_cut_by_the_first_chunk_still_sets_the_width() {
    let opts = Opts {
        decode: DecodeOptions {
            chunk_bytes: 8,
            ..DecodeOptions::default()
        },
        csv: CsvOptions {
            header: Some(false),
            ..CsvOptions::default()
        },
    };
    // The quote inside `1"` misleads the chunker's quote parity: its first cut lands inside
    // the first record.
    let text = ",1\",\"\n\u{8}\"";
    let whole = read(
        text,
        Opts {
            decode: DecodeOptions::default(),
            csv: CsvOptions {
                header: Some(false),
                ..CsvOptions::default()
            },
        },
    )
    .unwrap();
    let cut = read(text, opts).unwrap();
    assert_eq!(cut[0].schema(), whole[0].schema());
    assert!(cut[0].num_columns() > 0);
    let rows = |b: &[RecordBatch]| b.iter().map(RecordBatch::num_rows).sum::<usize>();
    assert_eq!(rows(&cut), rows(&whole));
}

#[test]
fn a_column_without_values_is_null_when_the_sample_is_the_whole_input() {
    let b = read_one("a,b,c\n1,,NA\n2,,NA\n3,,\n");
    let types = column_types(&b);
    assert_eq!(types, [DataType::Int64, DataType::Null, DataType::Null]);
    assert_eq!(b.num_rows(), 3);
    assert_eq!(b.column(1).logical_null_count(), 3);

    // A column empty at the start of a longer input may hold values later: it stays text,
    // and the later values are kept.
    let mut text = String::from("a,b\n");
    for i in 0..200 {
        text.push_str(&format!("{i},\n"));
    }
    text.push_str("200,late\n");
    let opts = Opts {
        decode: DecodeOptions {
            chunk_bytes: 256,
            ..DecodeOptions::default()
        },
        csv: CsvOptions::default(),
    };
    let batches = read(&text, opts).unwrap();
    assert_eq!(batches[0].schema().field(1).data_type(), &DataType::Utf8);
    let last = batches.last().unwrap();
    assert_eq!(
        last.column(1).as_string::<i32>().value(last.num_rows() - 1),
        "late"
    );
}

#[test]
fn a_value_in_a_null_column_is_a_cast_error() {
    let opts = Opts {
        decode: DecodeOptions {
            column_types: vec![("b".into(), ColumnType::Null)],
            error_policy: ErrorPolicy::Permissive,
            ..DecodeOptions::default()
        },
        csv: CsvOptions::default(),
    };
    let mut reader = opts.reader("a,b\n1,\n2,x\n3,NULL\n".as_bytes()).unwrap();
    let rows: usize = reader.by_ref().map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, 2);
    assert_eq!(reader.rows_rejected(), 1);
}

#[test]
fn decoding_ahead_on_threads_gives_the_same_batches_counts_and_errors() {
    let mut text = String::from("id,note,n\n");
    for i in 0..3000 {
        // Quoted line breaks and delimiters make some chunk cuts wrong guesses.
        text.push_str(&format!("{i},\"a,\nb {i}\",{}\n", i % 7));
    }
    text.push_str("3000,x,not a number\n3001,y,1\n");
    let run = |threads: usize, policy: ErrorPolicy| {
        let opts = Opts {
            decode: DecodeOptions {
                chunk_bytes: 512,
                batch_rows: 100,
                error_policy: policy,
                ..DecodeOptions::default()
            },
            csv: CsvOptions::default(),
        };
        let src = std::io::Cursor::new(text.clone().into_bytes());
        let mut reader = opts.reader(src).unwrap().with_threads(threads);
        let mut batches = Vec::new();
        let mut error = None;
        for b in reader.by_ref() {
            match b {
                Ok(b) => batches.push(b),
                Err(e) => error = Some(e.to_string()),
            }
        }
        (batches, error, reader.rows_read(), reader.rows_rejected())
    };
    for policy in [ErrorPolicy::Strict, ErrorPolicy::Permissive] {
        let one = run(1, policy);
        let two = run(2, policy);
        assert_eq!(one.0, two.0, "{policy:?}");
        assert_eq!((&one.1, one.2, one.3), (&two.1, two.2, two.3), "{policy:?}");
    }
    let (batches, error, read, rejected) = run(3, ErrorPolicy::Permissive);
    assert!(error.is_none());
    assert_eq!((read, rejected), (3002, 1));
    assert_eq!(
        batches.iter().map(RecordBatch::num_rows).sum::<usize>(),
        3001
    );
    let (_, error, _, _) = run(2, ErrorPolicy::Strict);
    assert!(error.unwrap().contains("not a number"));
}

#[test]
fn typed_columns_ignore_padding_and_text_columns_keep_it() {
    let b = read_one("n,x,d,s\n 1 ,2.5 ,\t2024-01-02, a \n3,  ,2024-01-03,b\n  ,\t-1, ,c\n");
    let types = column_types(&b);
    assert_eq!(
        types,
        [
            DataType::Int64,
            DataType::Float64,
            DataType::Date32,
            DataType::Utf8
        ]
    );
    let n = b.column(0).as_primitive::<Int64Type>();
    assert_eq!((n.value(0), n.value(1), n.is_null(2)), (1, 3, true));
    let x = b.column(1).as_primitive::<Float64Type>();
    assert_eq!((x.value(0), x.is_null(1), x.value(2)), (2.5, true, -1.0));
    assert!(b.column(2).is_null(2));
    assert_eq!(b.column(3).as_string::<i32>().value(0), " a ");
}

#[test]
fn decimal_commas_are_numbers_where_the_comma_is_not_the_delimiter() {
    let b = read_one("price;qty;code\n1.234,56;2;1,5\n-0,5;3;x\n12;4;7\n");
    let types = column_types(&b);
    assert_eq!(types, [DataType::Float64, DataType::Int64, DataType::Utf8]);
    let p = b.column(0).as_primitive::<Float64Type>();
    assert_eq!((p.value(0), p.value(1), p.value(2)), (1234.56, -0.5, 12.0));
    // With a comma delimiter, a quoted "1,5" stays text.
    let b = read_one("a,b\n\"1,5\",1\n\"2,5\",2\n");
    assert_eq!(b.schema().field(0).data_type(), &DataType::Utf8);
}
