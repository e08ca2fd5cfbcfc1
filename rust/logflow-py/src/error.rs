//! Core errors -> `logflow.errors` exceptions.
//!
//! The orphan rule forbids `From<logflow_core::Error> for PyErr` here, so a local wrapper
//! carries either a core error or a `PyErr`. The exception classes live in Python
//! (`python/logflow/errors.py`), which keeps them documentable and picklable.

use logflow_core::{Error, ErrorKind};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// Either a core error or a Python exception already raised.
pub enum PyLogflowError {
    /// An error from the core.
    Core(Error),
    /// A Python exception (a failing callback, a KeyboardInterrupt, ...).
    Py(PyErr),
}

impl From<Error> for PyLogflowError {
    fn from(e: Error) -> Self {
        PyLogflowError::Core(e)
    }
}

impl From<PyErr> for PyLogflowError {
    fn from(e: PyErr) -> Self {
        PyLogflowError::Py(e)
    }
}

impl From<PyLogflowError> for PyErr {
    #[cold]
    fn from(e: PyLogflowError) -> PyErr {
        match e {
            PyLogflowError::Py(e) => e,
            PyLogflowError::Core(e) => Python::attach(|py| to_pyerr(py, &e)),
        }
    }
}

/// Result type of binding functions.
pub type PyLogflowResult<T> = Result<T, PyLogflowError>;

fn class_name(e: &Error) -> &'static str {
    match e.kind() {
        ErrorKind::Io(io) => match io.kind() {
            std::io::ErrorKind::NotFound => "InputNotFoundError",
            std::io::ErrorKind::PermissionDenied => "PermissionDeniedError",
            std::io::ErrorKind::IsADirectory => "NotAFileError",
            _ => "StorageError",
        },
        ErrorKind::Output(_) => "WriteError",
        ErrorKind::NotAFile(_) => "NotAFileError",
        ErrorKind::Decode { .. } => "DecodeError",
        ErrorKind::Empty => "EmptyInputError",
        ErrorKind::Schema(_) => "SchemaError",
        ErrorKind::InvalidArgument(_) => "ConfigError",
        ErrorKind::LimitExceeded(_) => "LimitExceededError",
        ErrorKind::Parquet(_) => "WriteError",
        ErrorKind::Unsupported(_) => "UnsupportedFormatError",
        ErrorKind::Cancelled => "CancelledError",
        ErrorKind::UnsafeName(_) => "UnsafeArchiveError",
        ErrorKind::Encrypted(_) => "EncryptedInputError",
        ErrorKind::RuleViolation { .. } => "RuleViolationError",
        ErrorKind::Integrity(_) => "IntegrityError",
        _ => "LogflowError",
    }
}

/// Builds the `logflow.errors` exception for a core error:
/// `Class(message, path, line, offset, record, column, format)`.
#[cold]
pub fn to_pyerr(py: Python<'_>, e: &Error) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let cls = py.import("logflow.errors")?.getattr(class_name(e))?;
        let path = e.path().map(|p| p.to_string_lossy().into_owned());
        let (line, offset, record, column, format) = match e.kind() {
            ErrorKind::Decode {
                format,
                position,
                column,
                ..
            } => (
                Some(position.line).filter(|&l| l > 0),
                Some(position.byte),
                Some(position.record).filter(|&r| r > 0),
                column.clone(),
                Some(*format),
            ),
            ErrorKind::RuleViolation {
                position, column, ..
            } => (
                Some(position.line).filter(|&l| l > 0),
                Some(position.byte),
                Some(position.record).filter(|&r| r > 0),
                column.clone(),
                None,
            ),
            _ => (None, None, None, None, None),
        };
        let args = PyTuple::new(
            py,
            [
                e.to_string().into_pyobject(py)?.into_any(),
                path.into_pyobject(py)?,
                line.into_pyobject(py)?,
                offset.into_pyobject(py)?,
                record.into_pyobject(py)?,
                column.into_pyobject(py)?,
                format.into_pyobject(py)?,
            ],
        )?;
        Ok(PyErr::from_value(cls.call1(args)?))
    };
    build().unwrap_or_else(|import_failed| {
        PyRuntimeError::new_err(format!("{e} (and logflow.errors failed: {import_failed})"))
    })
}
