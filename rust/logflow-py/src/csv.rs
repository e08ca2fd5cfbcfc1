//! `convert_csv` and `read_csv`: option parsing at the boundary, then the core with the GIL
//! released.

use std::path::PathBuf;

use logflow_core::decode::csv::{CsvOptions, CsvReader};
use logflow_core::decode::{CastErrorPolicy, ErrorPolicy};
use logflow_core::input::{self, InputOptions};
use logflow_core::pipeline::{self, Control, ConvertOptions};
use logflow_core::schema::ColumnType;
use logflow_core::write::dataset::{self, DatasetOptions};
use logflow_core::write::parquet::{Compression, ParquetOptions};
use logflow_core::Error;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyInt, PyList, PyString};

use crate::error::PyLogflowResult;
use crate::run::{run_detached, run_detached_undo};
use crate::stream::{PyBatchStream, PySchema};

fn one_byte(what: &str, s: Option<&str>) -> Result<Option<u8>, Error> {
    match s {
        None => Ok(None),
        Some(s) if s.len() == 1 && s.is_ascii() => Ok(s.bytes().next()),
        Some("\\t") => Ok(Some(b'\t')),
        Some(s) => Err(Error::invalid(format!(
            "{what} must be one ASCII character, got {s:?}"
        ))),
    }
}

/// `"auto"` -> detect (`None`); Python `None` -> off (`Some(None)`); a character -> it.
fn auto_byte(what: &str, s: Option<&str>) -> Result<Option<Option<u8>>, Error> {
    match s {
        Some("auto") => Ok(None),
        other => one_byte(what, other).map(Some),
    }
}

/// A size in bytes given as an int or as text like `"128MB"`.
fn size_arg(what: &str, v: &Bound<'_, PyAny>) -> Result<u64, Error> {
    if v.is_instance_of::<PyInt>() && !v.is_instance_of::<PyBool>() {
        return match v.extract::<i64>() {
            Ok(n) if n > 0 => Ok(n.unsigned_abs()),
            _ => Err(Error::invalid(format!(
                "{what} must be a positive number of bytes, got {v}"
            ))),
        };
    }
    if v.is_instance_of::<PyString>() {
        let text: String = v
            .extract()
            .map_err(|_| Error::invalid(format!("{what} is not valid text")))?;
        return dataset::parse_size(&text)
            .map_err(|e| Error::invalid(format!("{what}: {}", e.kind())));
    }
    Err(Error::invalid(format!(
        "{what} must be bytes (an int) or text like \"128MB\", got {}",
        v.get_type()
            .name()
            .map_or_else(|_| "?".to_string(), |n| n.to_string())
    )))
}

/// The dataset options, when any is given: `dst` is then a directory.
fn dataset_options(
    max_rows_per_file: Option<i64>,
    target_file_size: Option<&Bound<'_, PyAny>>,
    partition_by: Option<Vec<String>>,
) -> Result<Option<DatasetOptions>, Error> {
    if max_rows_per_file.is_none() && target_file_size.is_none() && partition_by.is_none() {
        return Ok(None);
    }
    let max_rows_per_file = match max_rows_per_file {
        None => None,
        Some(n) if n > 0 => Some(n.unsigned_abs()),
        Some(n) => {
            return Err(Error::invalid(format!(
                "max_rows_per_file must be positive, got {n}"
            )))
        }
    };
    Ok(Some(DatasetOptions {
        max_rows_per_file,
        target_file_size: target_file_size
            .map(|v| size_arg("target_file_size", v))
            .transpose()?,
        partition_by: partition_by.unwrap_or_default(),
        ..DatasetOptions::default()
    }))
}

/// A delimiter: one ASCII character, `\t`, or a character of two bytes in UTF-8 (`§`).
/// Returns the lead byte (two-byte delimiters only) and the delimiter byte.
fn delimiter_bytes(s: Option<&str>) -> Result<(Option<u8>, Option<u8>), Error> {
    match s.map(str::as_bytes) {
        Some(&[lead, last]) if s.is_some_and(|c| c.chars().count() == 1) => {
            Ok((Some(lead), Some(last)))
        }
        _ => one_byte("delimiter", s).map(|b| (None, b)).map_err(|_| {
            Error::invalid(format!(
                "delimiter must be one ASCII character or a two-byte one such as \"§\", got {:?}",
                s.unwrap_or_default()
            ))
        }),
    }
}

/// The reading options shared by `convert_csv` and `read_csv`.
struct ReadArgs<'a> {
    delimiter: Option<&'a str>,
    quote: Option<&'a str>,
    escape: Option<&'a str>,
    skip_initial_space: Option<bool>,
    header: Option<bool>,
    skip_lines: Option<usize>,
    batch_size: Option<usize>,
    error_policy: &'a str,
    on_cast_error: &'a str,
    encoding: Option<&'a str>,
    schema: Option<Vec<(String, String)>>,
}

impl ReadArgs<'_> {
    fn options(&self) -> Result<CsvOptions, Error> {
        let (delimiter_lead, delimiter) = delimiter_bytes(self.delimiter)?;
        let mut o = CsvOptions {
            delimiter,
            delimiter_lead,
            quote: auto_byte("quote", self.quote)?,
            escape: auto_byte("escape", self.escape)?,
            skip_initial_space: self.skip_initial_space,
            header: self.header,
            skip_lines: self.skip_lines,
            error_policy: ErrorPolicy::parse(self.error_policy)?,
            on_cast_error: CastErrorPolicy::parse(self.on_cast_error)?,
            ..CsvOptions::default()
        };
        if let Some(n) = self.batch_size {
            if n == 0 {
                return Err(Error::invalid("batch_size must be positive"));
            }
            o.batch_rows = n;
        }
        for (name, ty) in self.schema.iter().flatten() {
            let t = ColumnType::parse(ty).ok_or_else(|| {
                Error::invalid(format!(
                    "schema: column {name:?} has type {ty:?}; logflow reads int64, float64, \
                     decimal128(precision, scale), bool, string, date32, time64[us], \
                     timestamp[us], timestamp[ns], timestamp[us, tz=UTC], null"
                ))
            })?;
            o.column_types.push((name.clone(), t));
        }
        Ok(o)
    }

    fn input(&self) -> Result<InputOptions, Error> {
        Ok(InputOptions {
            encoding: match self.encoding {
                None | Some("auto") => None,
                Some(label) => Some(input::parse_encoding(label)?),
            },
            delimited: self.delimiter.is_some(),
            ..InputOptions::default()
        })
    }
}

/// Converts a delimited text file to Parquet; returns the counts as a dict.
#[pyfunction]
#[pyo3(signature = (src, dst, *, delimiter=None, quote=Some("auto"), escape=Some("auto"), skip_initial_space=None, header=None, skip_lines=None,
    compression="zstd", compression_level=None, row_group_size=None, batch_size=None,
    error_policy="strict", on_cast_error="reject", encoding=None, schema=None, threads=None, progress=None,
    max_rows_per_file=None, target_file_size=None, partition_by=None))]
#[allow(clippy::too_many_arguments)]
pub fn convert_csv<'py>(
    py: Python<'py>,
    src: PathBuf,
    dst: PathBuf,
    delimiter: Option<&str>,
    quote: Option<&str>,
    escape: Option<&str>,
    skip_initial_space: Option<bool>,
    header: Option<bool>,
    skip_lines: Option<usize>,
    compression: &str,
    compression_level: Option<i32>,
    row_group_size: Option<usize>,
    batch_size: Option<usize>,
    error_policy: &str,
    on_cast_error: &str,
    encoding: Option<&str>,
    schema: Option<Vec<(String, String)>>,
    threads: Option<usize>,
    progress: Option<Bound<'py, PyAny>>,
    max_rows_per_file: Option<i64>,
    target_file_size: Option<Bound<'py, PyAny>>,
    partition_by: Option<Vec<String>>,
) -> PyLogflowResult<Bound<'py, PyDict>> {
    let mut parquet = ParquetOptions {
        compression: Compression::parse(compression, compression_level)?,
        ..ParquetOptions::default()
    };
    if let Some(n) = row_group_size {
        parquet.row_group_rows = n;
    }
    let args = ReadArgs {
        delimiter,
        quote,
        escape,
        skip_initial_space,
        header,
        skip_lines,
        batch_size,
        error_policy,
        on_cast_error,
        encoding,
        schema,
    };
    let opts = ConvertOptions {
        csv: args.options()?,
        input: args.input()?,
        parquet,
        threads: threads.unwrap_or(0),
        dataset: dataset_options(max_rows_per_file, target_file_size.as_ref(), partition_by)?,
    };
    let ctl = Control::default();
    let stats = run_detached_undo(
        py,
        &ctl,
        progress.as_ref(),
        |ctl| pipeline::convert_csv_to_parquet(&src, &dst, &opts, ctl),
        // Interrupted after the output was in place: take it back.
        |done| pipeline::remove_output(&done),
    )?;
    let paths = |v: &[PathBuf]| {
        v.iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
    };
    let d = PyDict::new(py);
    d.set_item("rows_read", stats.rows_read)?;
    d.set_item("rows_written", stats.rows_written)?;
    d.set_item("rows_quarantined", stats.rows_quarantined)?;
    d.set_item("rows_skipped", stats.rows_skipped)?;
    d.set_item("values_nulled", stats.values_nulled)?;
    d.set_item("bytes_read", stats.bytes_read)?;
    d.set_item("bytes_written", stats.bytes_written)?;
    d.set_item("files", paths(&stats.files))?;
    d.set_item("quarantine_files", paths(&stats.quarantine_files))?;
    d.set_item("duration_s", stats.duration_s)?;
    d.set_item("schema", PySchema::new(stats.schema))?;
    let reasons = PyDict::new(py);
    for (k, v) in &stats.errors_by_reason {
        reasons.set_item(k, v)?;
    }
    d.set_item("errors_by_reason", reasons)?;
    d.set_item("input_compression", stats.input_compression)?;
    d.set_item("input_encoding", &stats.input_encoding)?;
    let samples = PyList::empty(py);
    for r in &stats.error_samples {
        let s = PyDict::new(py);
        s.set_item("line", r.position.line)?;
        s.set_item("offset", r.position.byte)?;
        s.set_item("record", r.position.record)?;
        s.set_item("column", r.column.as_deref())?;
        s.set_item("reason", r.reason.as_str())?;
        s.set_item("detail", &r.detail)?;
        s.set_item("raw", PyBytes::new(py, &r.raw))?;
        samples.append(s)?;
    }
    d.set_item("error_samples", samples)?;
    Ok(d)
}

/// Opens a delimited text file as a one-shot Arrow stream. The header and the type-inference
/// sample are read now, so a bad file fails here rather than in the consumer.
#[pyfunction]
#[pyo3(signature = (src, *, delimiter=None, quote=Some("auto"), escape=Some("auto"), skip_initial_space=None, header=None, skip_lines=None, batch_size=None,
    error_policy="strict", on_cast_error="reject", encoding=None, schema=None, threads=None))]
#[allow(clippy::too_many_arguments)]
pub fn read_csv(
    py: Python<'_>,
    src: PathBuf,
    delimiter: Option<&str>,
    quote: Option<&str>,
    escape: Option<&str>,
    skip_initial_space: Option<bool>,
    header: Option<bool>,
    skip_lines: Option<usize>,
    batch_size: Option<usize>,
    error_policy: &str,
    on_cast_error: &str,
    encoding: Option<&str>,
    schema: Option<Vec<(String, String)>>,
    threads: Option<usize>,
) -> PyLogflowResult<PyBatchStream> {
    let args = ReadArgs {
        delimiter,
        quote,
        escape,
        skip_initial_space,
        header,
        skip_lines,
        batch_size,
        error_policy,
        on_cast_error,
        encoding,
        schema,
    };
    let input_opts = args.input()?;
    let opts = args.options()?;
    if opts.error_policy == ErrorPolicy::Quarantine {
        return Err(Error::invalid(
            "error_policy=\"quarantine\" needs an output to put bad records beside; use convert(), \
             or \"permissive\" to drop them while streaming",
        )
        .into());
    }
    let ctl = Control::default();
    let reader = run_detached(py, &ctl, None, |_| {
        let opened = input::open(&src, &input_opts, None)?;
        CsvReader::new(opened.reader, &opts).map_err(|e| e.with_path(&src))
    })?;
    let threads = match threads {
        Some(n) if n > 0 => n,
        _ => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
    };
    let reader = reader.with_path(&src).with_threads(threads);
    let counts = reader.counts();
    Ok(PyBatchStream::with_counts(
        Box::new(reader.into_arrow()),
        counts,
    ))
}
