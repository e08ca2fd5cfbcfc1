//! Profiles, checksums and validation rules across the boundary: rules parsed from the
//! dicts `logflow.rules` builds, a Python check called on whole batches, and profiles
//! handed back as plain values (with their mergeable state as bytes).

use std::sync::{Arc, Mutex, PoisonError};

use arrow_array::RecordBatch;
use logflow_core::sketch::checksum;
use logflow_core::sketch::profile::{ColumnProfile, Profile, Scalar};
use logflow_core::sketch::rules::{BatchCheck, Literal, Rule, RuleKind};
use logflow_core::{Error, Result};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString};

use crate::error::PyLogflowResult;
use crate::stream::PyBatch;

/// The first exception a Python check raised, kept to be re-raised as it is once the job
/// has stopped.
pub type Raised = Arc<Mutex<Option<PyErr>>>;

/// A Python function called with each batch (a `logflow._native.Batch`), through
/// `logflow.rules._run_check`, which turns its answer into one byte per row.
struct PyCheck {
    func: Py<PyAny>,
    raised: Raised,
}

impl BatchCheck for PyCheck {
    fn check(&self, batch: &RecordBatch) -> Result<Vec<bool>> {
        // Called on the writing thread, which holds no GIL: the pipeline runs detached
        // from Python. Attaching here waits for the interpreter (the calling thread gives
        // it up every 100 ms slice), once per batch.
        let called = Python::attach(|py| -> PyResult<Vec<bool>> {
            let run = py.import("logflow.rules")?.getattr("_run_check")?;
            let arg = Py::new(py, PyBatch::new(Arc::new(batch.clone())))?;
            let flags = run.call1((self.func.bind(py), arg))?;
            let bytes = flags.cast::<PyBytes>()?;
            Ok(bytes.as_bytes().iter().map(|&b| b != 0).collect())
        });
        called.map_err(|e| {
            let mut slot = self.raised.lock().unwrap_or_else(PoisonError::into_inner);
            let text = e.to_string();
            if slot.is_none() {
                *slot = Some(e);
            }
            Error::invalid(format!("a check raised: {text}"))
        })
    }
}

fn literal(v: &Bound<'_, PyAny>) -> PyResult<Literal> {
    if v.is_instance_of::<PyBool>() {
        return Ok(Literal::Bool(v.extract()?));
    }
    if v.is_instance_of::<PyInt>() {
        return Ok(Literal::Int(v.extract()?));
    }
    if v.is_instance_of::<PyFloat>() {
        return Ok(Literal::Float(v.extract()?));
    }
    if v.is_instance_of::<PyString>() {
        return Ok(Literal::Text(v.extract()?));
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "a rule value must be a bool, int, float or str, got {}",
        v.get_type().name()?
    )))
}

fn opt<'py, T>(d: &Bound<'py, PyDict>, key: &str) -> PyResult<Option<T>>
where
    T: for<'a> FromPyObject<'a, 'py, Error = PyErr>,
{
    match d.get_item(key)? {
        Some(v) if !v.is_none() => Ok(Some(v.extract()?)),
        _ => Ok(None),
    }
}

fn opt_literal(d: &Bound<'_, PyDict>, key: &str) -> PyResult<Option<Literal>> {
    match d.get_item(key)? {
        Some(v) if !v.is_none() => Ok(Some(literal(&v)?)),
        _ => Ok(None),
    }
}

/// The rules from `logflow.rules`' dicts (`{"kind": "range", "column": "x", "min": 0,
/// ...}`), and where an exception raised by a check is kept.
pub fn rules(list: Option<&Bound<'_, PyList>>) -> PyLogflowResult<(Vec<Rule>, Raised)> {
    let raised: Raised = Arc::default();
    let mut out = Vec::new();
    for item in list.into_iter().flatten() {
        let d = item.cast::<PyDict>().map_err(PyErr::from)?;
        let kind: String = opt(d, "kind")?.unwrap_or_default();
        let name: Option<String> = opt(d, "name")?;
        let column: Option<String> = opt(d, "column")?;
        let need_column = || {
            column
                .clone()
                .ok_or_else(|| Error::invalid(format!("a {kind} rule needs a column")))
        };
        let rule = match kind.as_str() {
            "not_null" => Rule::on(&need_column()?, RuleKind::NotNull, name)?,
            "range" => Rule::on(
                &need_column()?,
                RuleKind::Range {
                    min: opt_literal(d, "min")?,
                    max: opt_literal(d, "max")?,
                },
                name,
            )?,
            "regex" => {
                let pattern: String = opt(d, "pattern")?.unwrap_or_default();
                Rule::regex(&need_column()?, &pattern, name)?
            }
            "allowed" => {
                let values = match d.get_item("values")? {
                    Some(v) => v
                        .try_iter()?
                        .map(|x| literal(&x?))
                        .collect::<PyResult<Vec<_>>>()?,
                    None => Vec::new(),
                };
                Rule::on(&need_column()?, RuleKind::Allowed(values), name)?
            }
            "length" => Rule::on(
                &need_column()?,
                RuleKind::Length {
                    min: opt(d, "min")?,
                    max: opt(d, "max")?,
                },
                name,
            )?,
            "unique" => {
                let columns: Vec<String> = opt(d, "columns")?.unwrap_or_default();
                Rule::unique(columns, opt(d, "memory")?, name)?
            }
            "check" => {
                let func = d
                    .get_item("function")?
                    .filter(|f| f.is_callable())
                    .ok_or_else(|| Error::invalid("a check rule needs a function"))?;
                let label: String = name.clone().unwrap_or_else(|| "check".into());
                let check = PyCheck {
                    func: func.unbind(),
                    raised: Arc::clone(&raised),
                };
                let mut r = Rule::check(Arc::new(check), &label);
                if let Some(n) = name {
                    r.name = n;
                }
                r
            }
            other => {
                return Err(Error::invalid(format!(
                    "unknown rule kind {other:?}: use not_null, unique, range, regex, allowed, \
                     length or check"
                ))
                .into())
            }
        };
        out.push(rule);
    }
    Ok((out, raised))
}

/// A min or max as `(kind, value, ...)`, which `logflow.quality` turns into a Python value.
fn scalar<'py>(py: Python<'py>, s: Option<&Scalar>) -> PyResult<Bound<'py, PyAny>> {
    let Some(s) = s else {
        return Ok(py.None().into_bound(py));
    };
    let unit = |u: arrow_schema::TimeUnit| match u {
        arrow_schema::TimeUnit::Second => "s",
        arrow_schema::TimeUnit::Millisecond => "ms",
        arrow_schema::TimeUnit::Microsecond => "us",
        arrow_schema::TimeUnit::Nanosecond => "ns",
    };
    Ok(match s {
        Scalar::Bool(b) => ("bool", *b).into_pyobject(py)?.into_any(),
        Scalar::Int(v) => ("int", *v).into_pyobject(py)?.into_any(),
        Scalar::Float(v) => ("float", *v).into_pyobject(py)?.into_any(),
        Scalar::Decimal { .. } => ("decimal", s.render()).into_pyobject(py)?.into_any(),
        Scalar::Date(d) => ("date", *d).into_pyobject(py)?.into_any(),
        Scalar::Timestamp { value, unit: u, tz } => ("timestamp", *value, unit(*u), tz.as_deref())
            .into_pyobject(py)?
            .into_any(),
        Scalar::Time { value, unit: u } => ("time", *value, unit(*u)).into_pyobject(py)?.into_any(),
        Scalar::Text(v) => ("text", v.as_str()).into_pyobject(py)?.into_any(),
    })
}

fn column<'py>(py: Python<'py>, c: &ColumnProfile) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("name", &c.name)?;
    d.set_item("type", c.data_type.to_string())?;
    d.set_item("rows", c.rows)?;
    d.set_item("nulls", c.nulls)?;
    d.set_item("distinct", c.distinct_count())?;
    d.set_item("conformed", c.conformed())?;
    d.set_item("invalid", c.invalid)?;
    d.set_item("min", scalar(py, c.min.as_ref())?)?;
    d.set_item("max", scalar(py, c.max.as_ref())?)?;
    let moments = c.moments.filter(|m| m.n > 0);
    d.set_item("mean", moments.map(|m| m.mean))?;
    d.set_item("stddev", moments.and_then(|m| m.stddev()))?;
    d.set_item("min_length", c.lengths.map(|l| l.0))?;
    d.set_item("max_length", c.lengths.map(|l| l.1))?;
    d.set_item("entropy", c.entropy())?;
    match &c.top {
        Some(t) => {
            let items = PyList::empty(py);
            for it in t.items().iter().take(10) {
                items.append((it.value.as_str(), it.count))?;
            }
            d.set_item("top", items)?;
            d.set_item("top_error", t.error())?;
        }
        None => {
            d.set_item("top", py.None())?;
            d.set_item("top_error", 0)?;
        }
    }
    Ok(d)
}

/// A profile as a dict: `rows`, `columns` (one dict per column) and `state` (bytes that
/// [`merge_profiles`] reads back).
pub fn profile_dict<'py>(py: Python<'py>, p: &Profile) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("rows", p.rows)?;
    let columns = PyList::empty(py);
    for c in &p.columns {
        columns.append(column(py, c)?)?;
    }
    d.set_item("columns", columns)?;
    d.set_item("state", PyBytes::new(py, &p.to_bytes()))?;
    Ok(d)
}

/// A checksum as it is shown (16 hex digits).
pub fn checksum_text(c: Option<u64>) -> Option<String> {
    c.map(checksum::format)
}

/// Merges profiles given by their `state` bytes, in order; returns the profile of all of
/// them as [`profile_dict`] does.
#[pyfunction]
pub fn merge_profiles<'py>(
    py: Python<'py>,
    states: Vec<Vec<u8>>,
) -> PyLogflowResult<Bound<'py, PyDict>> {
    let mut whole = Profile::default();
    for s in &states {
        whole.merge(&Profile::from_bytes(s)?);
    }
    whole.settle();
    Ok(profile_dict(py, &whole)?)
}
