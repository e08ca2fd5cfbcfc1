//! `detect`: what a file is, as plain Python values.

use std::path::Path;

use logflow_core::decode::csv::{self, CsvOptions};
use logflow_core::decode::json::{self, JsonOptions};
use logflow_core::decode::values::DateFormat;
use logflow_core::decode::xml::{self, xes, XmlOptions};
use logflow_core::decode::DecodeOptions;
use logflow_core::detect::{Detection, Finding, Format, Terminator};
use logflow_core::input::InputOptions;
use logflow_core::pipeline::{self, Control};
use logflow_core::schema::{written_format, ColumnType};
use logflow_core::source;
use logflow_core::stream::Decoder;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::convert::with_failures;
use crate::error::PyLogflowResult;
use crate::input::PySources;
use crate::run::run_detached;
use crate::stream::PySchema;

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

/// Detects compression, encoding, format, dialect and columns of a source (of the first
/// file of many, the first member of an archive); `infer_types`: the columns' types, or
/// text mode's all-text columns.
#[pyfunction]
#[pyo3(signature = (src, *, infer_types=true))]
pub fn detect<'py>(
    py: Python<'py>,
    src: PySources,
    infer_types: bool,
) -> PyLogflowResult<Bound<'py, PyDict>> {
    let decode = DecodeOptions {
        infer_types,
        ..DecodeOptions::default()
    };
    let ctl = Control::default();
    let (sources, failures) = src.build(py, &ctl.cancel_flag())?;
    let detected = run_detached(py, &ctl, None, |_| {
        // Decompressed and transcoded as convert() would read it; binary formats pass. The
        // text is read once: the decoder's start-up goes on with the same reader.
        let probe = InputOptions {
            binary_ok: true,
            ..InputOptions::default()
        };
        let unit = source::units(sources, &probe)?
            .into_iter()
            .next()
            .ok_or_else(|| logflow_core::Error::new(logflow_core::ErrorKind::Empty))?;
        let opened = unit.open(&probe, false, None)?;
        let name = opened.name;
        let src = Path::new(&name);
        let opened = opened.input;
        let mut format = opened.format.clone();
        // The format convert() will read it as (a suffix may break a tie).
        if !format.value.is_binary() && !matches!(format.value, Format::Binary | Format::Empty) {
            let chosen = pipeline::choose_format(src, None, &opened)?;
            if chosen != format.value {
                format = Finding::new(
                    chosen,
                    format.confidence,
                    format!(
                        "{}; read as {} (the file's name and content agree on it)",
                        format.evidence,
                        chosen.name()
                    ),
                );
            }
        }
        // Dialect and columns come from the decoder's own start-up, so they are what
        // convert() will use.
        let compression = opened.compression;
        let encoding = opened.encoding;
        let mut reader = Some(opened.reader);
        let start = match (
            format.value,
            reader.take_if(|_| format.value == Format::Csv),
        ) {
            (Format::Csv, Some(r)) => Some(
                csv::start(r, &decode, &CsvOptions::default(), None)
                    .map_err(|e| e.with_path(src))?,
            ),
            _ => None,
        };
        let json = if let Some(r) =
            reader.take_if(|_| matches!(format.value, Format::Json | Format::Jsonl))
        {
            let opts = JsonOptions {
                named_lines: pipeline::suffix_format(src) == Some(Format::Jsonl),
                ..JsonOptions::default()
            };
            let s = json::start(r, &decode, &opts, None, false).map_err(|e| e.with_path(src))?;
            // What the records are decides the format reported: JSON Lines or a document.
            format = Finding::new(
                s.layout.format(),
                format.confidence,
                format!("{}; {}", format.evidence, s.layout.describe()),
            );
            Some((s.start.decoder.schema(), s.layout))
        } else {
            None
        };
        // XML: the records' path and their columns; XES: the event table's columns and
        // what the log declares.
        let xml = match format.value {
            Format::Xml => {
                let Some(r) = reader.take() else {
                    return Err(logflow_core::Error::new(logflow_core::ErrorKind::Empty));
                };
                let s = xml::start(r, &decode, &XmlOptions::default(), false)
                    .map_err(|e| e.with_path(src))?;
                format = Finding::new(
                    Format::Xml,
                    format.confidence,
                    format!(
                        "{}; records at {}: {}",
                        format.evidence, s.layout.records_path, s.layout.evidence
                    ),
                );
                Some((s.start.decoder.schema(), s.layout.records_path, None))
            }
            Format::Xes => {
                let Some(r) = reader.take() else {
                    return Err(logflow_core::Error::new(logflow_core::ErrorKind::Empty));
                };
                let s = xes::start(
                    r,
                    &decode,
                    &XmlOptions::default(),
                    xes::Tables::Events,
                    false,
                )
                .map_err(|e| e.with_path(src))?;
                Some((
                    s.start.decoder.schema(),
                    s.layout.records_path,
                    Some(s.info),
                ))
            }
            _ => None,
        };
        // Binary formats: the schema from the footer, header or first rows (of a local file;
        // they are read by position).
        let native = if format.value.is_binary() && format.value != Format::Orc && src.is_file() {
            let opts = pipeline::ConvertOptions {
                decode: decode.clone(),
                ..pipeline::ConvertOptions::default()
            };
            Some(pipeline::native_schema(src, format.value, &opts)?)
        } else {
            None
        };
        let found = Detection {
            compression,
            encoding,
            format,
            dialect: start.as_ref().map(|s| s.dialect.clone()),
        };
        Ok((found, start, json, xml, native, name))
    })
    .map_err(|e| with_failures(e, &failures))?;
    let (found, start, json_found, xml_found, native, name) = detected;
    let d = PyDict::new(py);
    d.set_item("path", name)?;
    d.set_item(
        "compression",
        finding(py, &found.compression, found.compression.value.name())?,
    )?;
    d.set_item(
        "encoding",
        finding(py, &found.encoding, found.encoding.value.name())?,
    )?;
    d.set_item(
        "format",
        finding(py, &found.format, found.format.value.name())?,
    )?;
    match &found.dialect {
        Some(f) => {
            let v = &f.value;
            let dd = finding(py, f, py.None())?;
            let delimiter = match v.delimiter_lead {
                Some(lead) => String::from_utf8_lossy(&[lead, v.delimiter]).into_owned(),
                None => char::from(v.delimiter).to_string(),
            };
            dd.set_item("delimiter", delimiter)?;
            dd.set_item("quote", char_of(v.quote))?;
            dd.set_item("escape", char_of(v.escape))?;
            dd.set_item("skip_initial_space", v.skip_initial_space)?;
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
            for n in s.start.decoder.null_tokens() {
                let words: Vec<String> = n
                    .tokens()
                    .map(|t| String::from_utf8_lossy(t).into_owned())
                    .collect();
                nulls.append(words)?;
            }
            let formats = PyDict::new(py);
            let comma = PyList::empty(py);
            let schema = s.start.decoder.schema();
            for (((ty, fmt), shape), field) in s
                .start
                .decoder
                .types()
                .iter()
                .zip(s.start.decoder.date_formats())
                .zip(&s.time_shapes)
                .zip(schema.fields())
            {
                if *ty == ColumnType::Float64 && *fmt == DateFormat::DECIMAL_COMMA {
                    comma.append(field.name())?;
                } else if let Some(text) = written_format(*ty, *fmt, *shape) {
                    formats.set_item(field.name(), text)?;
                }
            }
            d.set_item("schema", PySchema::new(schema))?;
            d.set_item("null_tokens", nulls)?;
            d.set_item("date_formats", formats)?;
            d.set_item("decimal_comma", comma)?;
        }
        None => {
            let schema = json_found
                .as_ref()
                .map(|(schema, _)| PySchema::new(schema.clone()))
                .or_else(|| {
                    xml_found
                        .as_ref()
                        .map(|(schema, _, _)| PySchema::new(schema.clone()))
                })
                .or_else(|| native.map(PySchema::new));
            d.set_item("schema", schema)?;
            d.set_item("null_tokens", PyList::empty(py))?;
            d.set_item("date_formats", PyDict::new(py))?;
            d.set_item("decimal_comma", PyList::empty(py))?;
        }
    }
    let records_path = json_found
        .as_ref()
        .and_then(|(_, layout)| layout.records_path())
        .or_else(|| xml_found.as_ref().map(|(_, path, _)| path.clone()));
    d.set_item("records_path", records_path)?;
    let info = xml_found.as_ref().and_then(|(_, _, info)| info.as_ref());
    d.set_item(
        "xes",
        match info {
            Some(info) => Some(xes_dict(py, info)?),
            None => None,
        },
    )?;
    Ok(d)
}

/// What an XES log declares, as plain Python values.
fn xes_dict<'py>(py: Python<'py>, info: &xes::LogInfo) -> PyResult<Bound<'py, PyDict>> {
    let attr = |a: &xes::Attribute| -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("key", &a.key)?;
        d.set_item("type", &a.kind)?;
        d.set_item("value", a.value.as_deref())?;
        Ok(d)
    };
    let d = PyDict::new(py);
    d.set_item("version", info.version.as_deref())?;
    d.set_item("features", info.features.as_deref())?;
    let extensions = PyList::empty(py);
    for e in &info.extensions {
        let x = PyDict::new(py);
        x.set_item("name", &e.name)?;
        x.set_item("prefix", &e.prefix)?;
        x.set_item("uri", &e.uri)?;
        extensions.append(x)?;
    }
    d.set_item("extensions", extensions)?;
    let classifiers = PyList::empty(py);
    for c in &info.classifiers {
        let x = PyDict::new(py);
        x.set_item("name", &c.name)?;
        x.set_item("keys", &c.keys)?;
        x.set_item("scope", c.scope.as_deref())?;
        classifiers.append(x)?;
    }
    d.set_item("classifiers", classifiers)?;
    let globals = PyDict::new(py);
    for (scope, attrs) in &info.globals {
        let list = PyList::empty(py);
        for a in attrs {
            list.append(attr(a)?)?;
        }
        globals.set_item(scope, list)?;
    }
    d.set_item("globals", globals)?;
    let attributes = PyList::empty(py);
    for a in &info.attributes {
        attributes.append(attr(a)?)?;
    }
    d.set_item("attributes", attributes)?;
    Ok(d)
}
