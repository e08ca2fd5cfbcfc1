//! Arrow streams handed to Rust by Python through the Arrow PyCapsule interface.
//!
//! The one place in the project with `unsafe` code: taking the C stream struct out of a
//! capsule. Neither pyo3-arrow nor arrow-pyarrow pairs with this project's arrow and pyo3
//! versions, and the move itself is a single audited line.

#![allow(unsafe_code)]

use arrow_array::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use logflow_core::Error;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyCapsuleMethods};

use crate::error::PyLogflowResult;

/// Takes the record batches of any object that exports an Arrow C stream
/// (`__arrow_c_stream__`: pyarrow tables, readers and datasets' scanners, Polars frames,
/// DuckDB results, logflow streams).
pub fn import_stream(obj: &Bound<'_, PyAny>) -> PyLogflowResult<RecordBatchStreamReader> {
    if !obj.hasattr("__arrow_c_stream__")? {
        let kind = obj.get_type().name()?.to_string();
        return Err(PyTypeError::new_err(format!(
            "expected an object exporting an Arrow stream (__arrow_c_stream__), such as a \
             pyarrow Table or RecordBatchReader, got {kind}"
        ))
        .into());
    }
    let capsule = obj
        .call_method0("__arrow_c_stream__")?
        .cast_into::<PyCapsule>()
        .map_err(PyErr::from)?;
    let ptr = capsule.pointer_checked(Some(c"arrow_array_stream"))?;
    // SAFETY: the capsule is named "arrow_array_stream", so by the Arrow PyCapsule protocol
    // its pointer is a valid, aligned, initialised `ArrowArrayStream` that the capsule owns.
    // `from_raw` moves it out and leaves a released stream behind, so the capsule's
    // destructor (which releases only unreleased streams) does not free it a second time.
    let stream = unsafe { FFI_ArrowArrayStream::from_raw(ptr.cast().as_ptr()) };
    RecordBatchStreamReader::try_new(stream).map_err(|e| Error::from(e).into())
}
