//! `detect`: what a file is, as plain Python values.

use std::io::Read;
use std::path::PathBuf;

use logflow_core::decode::csv::{self, CsvOptions};
use logflow_core::detect::{Compression, Encoding, Finding, Format, Terminator};
use logflow_core::pipeline::{self, Control};
use logflow_core::Error;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::error::PyLogflowResult;
use crate::run::run_detached;
use crate::stream::PySchema;

/// Bytes the detectors look at.
const SAMPLE: usize = 64 << 10;

fn encoding_name(e: &Encoding) -> String {
    match e {
        Encoding::Utf8 { bom: false } => "utf-8".into(),
        Encoding::Utf8 { bom: true } => "utf-8-sig".into(),
        Encoding::Utf16Le { .. } => "utf-16-le".into(),
        Encoding::Utf16Be { .. } => "utf-16-be".into(),
        Encoding::Utf32Le { .. } => "utf-32-le".into(),
        Encoding::Utf32Be { .. } => "utf-32-be".into(),
        Encoding::Legacy(name) => name.to_ascii_lowercase(),
    }
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Csv => "csv",
        Format::Json => "json",
        Format::Jsonl => "jsonl",
        Format::Xml => "xml",
        Format::Xes => "xes",
        Format::Parquet => "parquet",
        Format::Avro => "avro",
        Format::Orc => "orc",
        Format::ArrowFile => "arrow",
        Format::ArrowStream => "arrow-stream",
        Format::Xlsx => "xlsx",
        Format::Xls => "xls",
        Format::Syslog3164 => "syslog-rfc3164",
        Format::Syslog5424 => "syslog-rfc5424",
        Format::ApacheCommon => "apache-common",
        Format::ApacheCombined => "apache-combined",
        Format::Logfmt => "logfmt",
        Format::Empty => "empty",
        _ => "binary",
    }
}

fn finding<'py, T>(
    py: Python<'py>,
    f: &Finding<T>,
    value: impl IntoPyObject<'py>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("value", value)?;
    d.set_item("confidence", f.confidence)?;
    d.set_item("evidence", &f.evidence)?;
    Ok(d)
}

fn char_of(b: Option<u8>) -> Option<String> {
    b.map(|b| char::from(b).to_string())
}

/// Detects compression, encoding, format, dialect and columns of a file.
#[pyfunction]
pub fn detect<'py>(py: Python<'py>, src: PathBuf) -> PyLogflowResult<Bound<'py, PyDict>> {
    let ctl = Control::default();
    let (found, start) = run_detached(py, &ctl, None, |_| {
        let (mut file, _) = pipeline::open_input(&src)?;
        let mut sample = Vec::with_capacity(SAMPLE);
        (&mut file)
            .take(SAMPLE as u64)
            .read_to_end(&mut sample)
            .map_err(|e| Error::from(e).with_path(&src))?;
        let found = logflow_core::detect::detect(&sample);
        let plain_utf8 = matches!(found.encoding.value, Encoding::Utf8 { .. });
        // Columns come from the decoder's own start-up, so they are what convert() will use.
        let start = if found.format.value == Format::Csv
            && found.compression.value == Compression::None
            && plain_utf8
        {
            let (file, _) = pipeline::open_input(&src)?;
            Some(csv::start(file, &CsvOptions::default(), None).map_err(|e| e.with_path(&src))?)
        } else {
            None
        };
        Ok((found, start))
    })?;
    let d = PyDict::new(py);
    d.set_item("path", src.to_string_lossy().into_owned())?;
    d.set_item(
        "compression",
        finding(py, &found.compression, found.compression.value.name())?,
    )?;
    d.set_item(
        "encoding",
        finding(py, &found.encoding, encoding_name(&found.encoding.value))?,
    )?;
    d.set_item(
        "format",
        finding(py, &found.format, format_name(found.format.value))?,
    )?;
    match &found.dialect {
        Some(f) => {
            let v = &f.value;
            let dd = finding(py, f, py.None())?;
            dd.set_item("delimiter", char_of(Some(v.delimiter)))?;
            dd.set_item("quote", char_of(v.quote))?;
            dd.set_item("escape", char_of(v.escape))?;
            let term = match v.terminator {
                Terminator::CrLf => "\r\n",
                Terminator::Cr => "\r",
                _ => "\n",
            };
            dd.set_item("terminator", term)?;
            dd.set_item("header", v.header)?;
            dd.set_item("skip_lines", v.skip_lines)?;
            dd.set_item("ragged", v.ragged)?;
            d.set_item("dialect", dd)?;
        }
        None => d.set_item("dialect", py.None())?,
    }
    match start {
        Some(s) => {
            let nulls = PyList::empty(py);
            for n in s.decoder.null_tokens() {
                let words: Vec<String> = n
                    .tokens()
                    .map(|t| String::from_utf8_lossy(t).into_owned())
                    .collect();
                nulls.append(words)?;
            }
            d.set_item("schema", PySchema::new(s.decoder.schema()))?;
            d.set_item("null_tokens", nulls)?;
        }
        None => {
            d.set_item("schema", py.None())?;
            d.set_item("null_tokens", PyList::empty(py))?;
        }
    }
    Ok(d)
}
