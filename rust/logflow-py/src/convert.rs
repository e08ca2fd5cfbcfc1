//! `convert`, `read` and `write`: options parsed at the boundary, then the core's pipeline
//! with the GIL released. Every format goes through the same three functions.

use std::path::PathBuf;

use logflow_core::pipeline::{self, Control, ConvertOptions, ConvertStats, SourceOptions};
use logflow_core::sketch::stage::QualityOptions;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use crate::error::{PyLogflowError, PyLogflowResult};
use crate::input::{Failures, PySources};
use crate::options::{self, CsvArgs, DecodeArgs, ReadingArgs};
use crate::quality::{self as q, Raised};
use crate::run::{run_detached, run_detached_undo};
use crate::stream::{PyBatchStream, PySchema};

/// The result of a conversion as a dict whose keys are the fields of
/// `logflow.ConvertResult` (a test keeps the two in step).
fn stats_dict<'py>(py: Python<'py>, stats: &ConvertStats) -> PyResult<Bound<'py, PyDict>> {
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
    d.set_item("bytes_read", stats.bytes_read)?;
    d.set_item("bytes_written", stats.bytes_written)?;
    d.set_item("files", paths(&stats.files))?;
    d.set_item("duration_s", stats.duration_s)?;
    d.set_item("schema", PySchema::new(stats.schema.clone()))?;
    let reasons = PyDict::new(py);
    for (k, v) in &stats.errors_by_reason {
        reasons.set_item(k, v)?;
    }
    d.set_item("errors_by_reason", reasons)?;
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
    d.set_item("values_nulled", stats.values_nulled)?;
    let quarantine = paths(&stats.quarantine_files);
    d.set_item("quarantine_path", quarantine.first())?;
    d.set_item("errors_path", quarantine.get(1))?;
    d.set_item("input_compression", stats.input_compression)?;
    d.set_item("input_encoding", &stats.input_encoding)?;
    d.set_item("format", stats.format)?;
    let sources = PyList::empty(py);
    for s in &stats.sources {
        let f = PyDict::new(py);
        f.set_item("size", s.fingerprint.size)?;
        f.set_item("mtime", s.fingerprint.mtime)?;
        f.set_item("etag", s.fingerprint.etag.as_deref())?;
        f.set_item("sha256", s.fingerprint.sha256.as_deref())?;
        let one = PyDict::new(py);
        one.set_item("path", &s.name)?;
        one.set_item("fingerprint", f)?;
        one.set_item("format", s.format)?;
        one.set_item("compression", s.compression)?;
        one.set_item("rows_read", s.rows_read)?;
        one.set_item("rows_written", s.rows_written)?;
        one.set_item("rows_quarantined", s.rows_quarantined)?;
        one.set_item("rows_skipped", s.rows_skipped)?;
        sources.append(one)?;
    }
    d.set_item("sources", sources)?;
    d.set_item("checksum_in", q::checksum_text(stats.checksum_in))?;
    d.set_item("checksum_out", q::checksum_text(stats.checksum_out))?;
    match &stats.quality {
        Some(p) => d.set_item("quality", q::profile_dict(py, p)?)?,
        None => d.set_item("quality", py.None())?,
    }
    Ok(d)
}

/// How sources are read: the file-name column and the content hash (`"sha256"` or none).
pub fn source_options(
    file_name_column: Option<String>,
    fingerprint: Option<&str>,
) -> Result<SourceOptions, logflow_core::Error> {
    let sha256 = match fingerprint.map(str::to_ascii_lowercase).as_deref() {
        None | Some("none" | "") => false,
        Some("sha256") => true,
        Some(other) => {
            return Err(logflow_core::Error::invalid(format!(
                "fingerprint={other:?}: the content hash offered is \"sha256\" (or None)"
            )))
        }
    };
    Ok(SourceOptions {
        file_name_column,
        sha256,
    })
}

/// A failed run's error: the exception a Python file-like raised, when that is what
/// stopped it, else the error itself.
pub fn with_failures(e: PyLogflowError, failures: &Failures) -> PyLogflowError {
    match e {
        PyLogflowError::Core(core) => match failures.take() {
            Some(raised) => PyLogflowError::Py(raised),
            None => PyLogflowError::Core(core),
        },
        other => other,
    }
}

/// The quality options from the Python arguments; the slot where an exception raised by a
/// check is kept.
fn quality(
    profile: bool,
    checksum: bool,
    rules: Option<&Bound<'_, PyList>>,
) -> PyLogflowResult<(QualityOptions, Raised)> {
    let (rules, raised) = q::rules(rules)?;
    Ok((
        QualityOptions {
            profile,
            checksum,
            rules,
            ..QualityOptions::default()
        },
        raised,
    ))
}

/// A failed run's error, or the exception a Python check raised, which caused it.
fn or_raised<T>(result: PyLogflowResult<T>, raised: &Raised) -> PyLogflowResult<T> {
    result.map_err(|e| {
        let kept = raised
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        match kept {
            Some(py_err) => PyLogflowError::Py(py_err),
            None => e,
        }
    })
}

/// Converts a file to Parquet; returns what happened as a dict (see [`stats_dict`]).
#[pyfunction]
#[pyo3(signature = (src, dst, *, format=None, delimiter=None, quote=Some("auto"), escape=Some("auto"), skip_initial_space=None, header=None, skip_lines=None,
    compression="zstd", compression_level=None, row_group_size=None, batch_size=None,
    error_policy="strict", on_cast_error="reject", encoding=None, schema=None, schema_policy=None,
    infer_types=true, empty_as_null=None, records_path=None, flatten=None, max_expansion=None,
    max_decompressed_size=None, threads=None, progress=None,
    max_rows_per_file=None, target_file_size=None, partition_by=None, record_path=None,
    tables=None, columns=None, sheet=None,
    file_name_column=None, fingerprint=None, profile=false, verify=false, checksum=true,
    rules=None))]
#[allow(clippy::too_many_arguments)]
pub fn convert<'py>(
    py: Python<'py>,
    src: PySources,
    dst: PathBuf,
    format: Option<&str>,
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
    schema_policy: Option<&str>,
    infer_types: bool,
    empty_as_null: Option<bool>,
    records_path: Option<String>,
    flatten: Option<Bound<'py, PyAny>>,
    max_expansion: Option<u64>,
    max_decompressed_size: Option<Bound<'py, PyAny>>,
    threads: Option<usize>,
    progress: Option<Bound<'py, PyAny>>,
    max_rows_per_file: Option<i64>,
    target_file_size: Option<Bound<'py, PyAny>>,
    partition_by: Option<Vec<String>>,
    record_path: Option<String>,
    tables: Option<&str>,
    columns: Option<Vec<String>>,
    sheet: Option<Bound<'py, PyAny>>,
    file_name_column: Option<String>,
    fingerprint: Option<&str>,
    profile: bool,
    verify: bool,
    checksum: bool,
    rules: Option<Bound<'py, PyList>>,
) -> PyLogflowResult<Bound<'py, PyDict>> {
    let (quality, raised) = quality(profile, checksum, rules.as_ref())?;
    let reading = ReadingArgs {
        format,
        native: options::native(columns, sheet.as_ref())?,
        csv: CsvArgs {
            delimiter,
            quote,
            escape,
            skip_initial_space,
            header,
            skip_lines,
        },
        decode: DecodeArgs {
            batch_size,
            error_policy,
            on_cast_error,
            schema,
            schema_policy,
            infer_types,
            empty_as_null,
        },
        encoding,
        records_path,
        record_path,
        tables,
        threads,
        max_expansion,
    };
    let opts = ConvertOptions {
        parquet: options::parquet(compression, compression_level, row_group_size)?,
        dataset: options::dataset(max_rows_per_file, target_file_size.as_ref(), partition_by)?,
        sources: source_options(file_name_column, fingerprint)?,
        quality,
        verify,
        ..reading.options(flatten.as_ref(), max_decompressed_size.as_ref())?
    };
    let ctl = Control::default();
    let (sources, failures) = src.build(py, &ctl.cancel_flag())?;
    let stats = or_raised(
        run_detached_undo(
            py,
            &ctl,
            progress.as_ref(),
            |ctl| pipeline::convert_sources(sources, &dst, &opts, ctl),
            // Interrupted after the output was in place: take it back.
            |done| pipeline::remove_output(&done),
        )
        .map_err(|e| with_failures(e, &failures)),
        &raised,
    )?;
    Ok(stats_dict(py, &stats)?)
}

/// Reads a file as `convert` does, writing nothing; returns what `convert` would (the keys
/// of `ConvertResult`), with `quality` the profile of the rows read.
#[pyfunction]
#[pyo3(signature = (src, *, format=None, delimiter=None, quote=Some("auto"), escape=Some("auto"), skip_initial_space=None, header=None, skip_lines=None,
    batch_size=None, error_policy="permissive", on_cast_error="reject", encoding=None, schema=None,
    schema_policy=None, infer_types=true, empty_as_null=None, records_path=None, flatten=None,
    threads=None, progress=None, top_k=None, rules=None))]
#[allow(clippy::too_many_arguments)]
pub fn profile<'py>(
    py: Python<'py>,
    src: PathBuf,
    format: Option<&str>,
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
    schema_policy: Option<&str>,
    infer_types: bool,
    empty_as_null: Option<bool>,
    records_path: Option<String>,
    flatten: Option<Bound<'py, PyAny>>,
    threads: Option<usize>,
    progress: Option<Bound<'py, PyAny>>,
    top_k: Option<usize>,
    rules: Option<Bound<'py, PyList>>,
) -> PyLogflowResult<Bound<'py, PyDict>> {
    let (quality, raised) = profile_quality(top_k, rules.as_ref())?;
    let reading = ReadingArgs {
        format,
        native: options::native(None, None)?,
        csv: CsvArgs {
            delimiter,
            quote,
            escape,
            skip_initial_space,
            header,
            skip_lines,
        },
        decode: DecodeArgs {
            batch_size,
            error_policy,
            on_cast_error,
            schema,
            schema_policy,
            infer_types,
            empty_as_null,
        },
        encoding,
        records_path,
        record_path: None,
        tables: None,
        threads,
        max_expansion: None,
    };
    let opts = ConvertOptions {
        quality,
        ..reading.options(flatten.as_ref(), None)?
    };
    let ctl = Control::default();
    let stats = or_raised(
        run_detached(py, &ctl, progress.as_ref(), |ctl| {
            pipeline::profile(&src, &opts, ctl)
        }),
        &raised,
    )?;
    Ok(stats_dict(py, &stats)?)
}

/// Opens a file as a one-shot Arrow stream. The start of the input (header, type-inference
/// sample) is read now, so a bad file fails here rather than in the consumer.
#[pyfunction]
#[pyo3(signature = (src, *, format=None, delimiter=None, quote=Some("auto"), escape=Some("auto"), skip_initial_space=None, header=None, skip_lines=None, batch_size=None,
    error_policy="strict", on_cast_error="reject", encoding=None, schema=None, infer_types=true,
    empty_as_null=None, records_path=None, flatten=None, max_expansion=None, max_decompressed_size=None,
    threads=None, record_path=None, tables=None, columns=None, sheet=None,
    file_name_column=None))]
#[allow(clippy::too_many_arguments)]
pub fn read(
    py: Python<'_>,
    src: PySources,
    format: Option<&str>,
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
    infer_types: bool,
    empty_as_null: Option<bool>,
    records_path: Option<String>,
    flatten: Option<Bound<'_, PyAny>>,
    max_expansion: Option<u64>,
    max_decompressed_size: Option<Bound<'_, PyAny>>,
    threads: Option<usize>,
    record_path: Option<String>,
    tables: Option<&str>,
    columns: Option<Vec<String>>,
    sheet: Option<Bound<'_, PyAny>>,
    file_name_column: Option<String>,
) -> PyLogflowResult<PyBatchStream> {
    let reading = ReadingArgs {
        format,
        native: options::native(columns, sheet.as_ref())?,
        csv: CsvArgs {
            delimiter,
            quote,
            escape,
            skip_initial_space,
            header,
            skip_lines,
        },
        decode: DecodeArgs {
            batch_size,
            error_policy,
            on_cast_error,
            schema,
            schema_policy: None,
            infer_types,
            empty_as_null,
        },
        encoding,
        records_path,
        record_path,
        tables,
        threads,
        max_expansion,
    };
    let opts = ConvertOptions {
        sources: source_options(file_name_column, None)?,
        ..reading.options(flatten.as_ref(), max_decompressed_size.as_ref())?
    };
    let ctl = Control::default();
    // A stream outlives this call: its file-likes stop when it is dropped, not on Ctrl-C.
    let (sources, failures) = src.build(py, &ctl.cancel_flag())?;
    let reading = run_detached(py, &ctl, None, |_| pipeline::read_sources(sources, &opts))
        .map_err(|e| with_failures(e, &failures))?;
    Ok(PyBatchStream::with_counts(reading.reader, reading.counts).with_failures(failures))
}

/// Writes the batches of any object exporting an Arrow stream (`__arrow_c_stream__`) to
/// Parquet, as `convert` writes decoded rows.
#[pyfunction]
#[pyo3(signature = (data, dst, *, compression="zstd", compression_level=None, row_group_size=None,
    threads=None, progress=None, max_rows_per_file=None, target_file_size=None, partition_by=None,
    format=None, columns=None, schema=None, error_policy="strict", on_cast_error="reject",
    verify=false, profile=false, rules=None))]
#[allow(clippy::too_many_arguments)]
pub fn write<'py>(
    py: Python<'py>,
    data: Bound<'py, PyAny>,
    dst: PathBuf,
    compression: &str,
    compression_level: Option<i32>,
    row_group_size: Option<usize>,
    threads: Option<usize>,
    progress: Option<Bound<'py, PyAny>>,
    max_rows_per_file: Option<i64>,
    target_file_size: Option<Bound<'py, PyAny>>,
    partition_by: Option<Vec<String>>,
    format: Option<&str>,
    columns: Option<Vec<String>>,
    schema: Option<Vec<(String, String)>>,
    error_policy: &str,
    on_cast_error: &str,
    verify: bool,
    profile: bool,
    rules: Option<Bound<'py, PyList>>,
) -> PyLogflowResult<Bound<'py, PyDict>> {
    // Batches handed over are hashed on the writing thread: only when verifying.
    let (quality, raised) = quality(profile, verify, rules.as_ref())?;
    let opts = ConvertOptions {
        parquet: options::parquet(compression, compression_level, row_group_size)?,
        dataset: options::dataset(max_rows_per_file, target_file_size.as_ref(), partition_by)?,
        threads: threads.unwrap_or(0),
        format: options::format(format)?,
        decode: arrow_decode(schema, error_policy, on_cast_error)?,
        native: options::native(columns, None)?,
        quality,
        verify,
        ..ConvertOptions::default()
    };
    let mut reader = crate::ffi::import_stream(&data)?;
    let ctl = Control::default();
    let stats = or_raised(
        run_detached_undo(
            py,
            &ctl,
            progress.as_ref(),
            |ctl| pipeline::write_batches(&mut reader, &dst, &opts, ctl),
            |done| pipeline::remove_output(&done),
        ),
        &raised,
    )?;
    Ok(stats_dict(py, &stats)?)
}

/// Profiles an Arrow stream (``__arrow_c_stream__``) as `profile` profiles a file, writing
/// nothing; `src` names the input in errors and in the result.
#[pyfunction]
#[pyo3(signature = (data, src, *, format=None, schema=None, error_policy="permissive",
    on_cast_error="reject", threads=None, progress=None, top_k=None, rules=None))]
#[allow(clippy::too_many_arguments)]
pub fn profile_stream<'py>(
    py: Python<'py>,
    data: Bound<'py, PyAny>,
    src: PathBuf,
    format: Option<&str>,
    schema: Option<Vec<(String, String)>>,
    error_policy: &str,
    on_cast_error: &str,
    threads: Option<usize>,
    progress: Option<Bound<'py, PyAny>>,
    top_k: Option<usize>,
    rules: Option<Bound<'py, PyList>>,
) -> PyLogflowResult<Bound<'py, PyDict>> {
    let (quality, raised) = profile_quality(top_k, rules.as_ref())?;
    let opts = ConvertOptions {
        threads: threads.unwrap_or(0),
        format: options::format(format)?,
        decode: arrow_decode(schema, error_policy, on_cast_error)?,
        quality,
        ..ConvertOptions::default()
    };
    let mut reader = crate::ffi::import_stream(&data)?;
    let ctl = Control::default();
    let stats = or_raised(
        run_detached(py, &ctl, progress.as_ref(), |ctl| {
            pipeline::profile_batches(&mut reader, &src, &opts, ctl)
        }),
        &raised,
    )?;
    Ok(stats_dict(py, &stats)?)
}

/// The quality options of a profile (profile and checksum on), with `top_k` counters per
/// text column for frequent values when given (it must be positive).
fn profile_quality(
    top_k: Option<usize>,
    rules: Option<&Bound<'_, PyList>>,
) -> PyLogflowResult<(QualityOptions, Raised)> {
    let (mut quality, raised) = quality(true, true, rules)?;
    match top_k {
        Some(0) => return Err(logflow_core::Error::invalid("top_k must be positive").into()),
        Some(k) => quality.top_k = k,
        None => {}
    }
    Ok((quality, raised))
}

/// The decoding options that apply to Arrow data handed over: types by name and what to do
/// with values that do not fit them.
fn arrow_decode(
    schema: Option<Vec<(String, String)>>,
    error_policy: &str,
    on_cast_error: &str,
) -> PyLogflowResult<logflow_core::decode::DecodeOptions> {
    let args = DecodeArgs {
        batch_size: None,
        error_policy,
        on_cast_error,
        schema,
        schema_policy: None,
        infer_types: true,
        empty_as_null: None,
    };
    Ok(args.options()?)
}

/// Streams the batches of any object exporting an Arrow stream with `columns` and `schema`
/// applied as for binary inputs (ORC stripes read by pyarrow come this way); bad values are
/// dropped and counted, or raise under `error_policy="strict"`.
#[pyfunction]
#[pyo3(signature = (data, *, format=None, columns=None, schema=None, error_policy="permissive",
    on_cast_error="reject", batch_size=None))]
#[allow(clippy::too_many_arguments)]
pub fn read_stream(
    data: Bound<'_, PyAny>,
    format: Option<&str>,
    columns: Option<Vec<String>>,
    schema: Option<Vec<(String, String)>>,
    error_policy: &str,
    on_cast_error: &str,
    batch_size: Option<usize>,
) -> PyLogflowResult<PyBatchStream> {
    let mut decode = arrow_decode(schema, error_policy, on_cast_error)?;
    if let Some(n) = batch_size.filter(|&n| n > 0) {
        decode.batch_rows = n;
    }
    let format = options::format(format)?;
    let native = options::native(columns, None)?;
    let reader = crate::ffi::import_stream(&data)?;
    let reading = pipeline::read_arrow(Box::new(reader), format, &decode, &native)?;
    Ok(PyBatchStream::with_counts(reading.reader, reading.counts))
}
