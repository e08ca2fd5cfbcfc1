//! Arrow streams handed to Python through the Arrow PyCapsule interface.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{Array, RecordBatch, RecordBatchReader, StructArray};
use arrow_schema::SchemaRef;
use logflow_core::stream::ReadCounts;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyTuple};

use crate::error::PyLogflowResult;
use crate::input::Failures;

/// The reader behind a stream: any core batch source.
pub type BoxedReader = Box<dyn RecordBatchReader + Send>;

/// A one-shot stream of record batches.
#[pyclass(name = "BatchStream", module = "logflow._native", frozen)]
pub struct PyBatchStream {
    schema: SchemaRef,
    reader: Mutex<Option<BoxedReader>>,
    counts: Option<Arc<ReadCounts>>,
    /// Exceptions raised by the file-likes the stream reads, re-raised in its errors' place.
    failures: Option<Failures>,
}

impl PyBatchStream {
    /// Wraps a reader.
    pub fn new(reader: BoxedReader) -> Self {
        PyBatchStream {
            schema: reader.schema(),
            reader: Mutex::new(Some(reader)),
            counts: None,
            failures: None,
        }
    }

    /// Re-raises what the stream's file-likes raise instead of the errors they cause.
    #[must_use]
    pub fn with_failures(mut self, failures: Failures) -> Self {
        self.failures = Some(failures);
        self
    }

    /// Wraps a reader whose counters the stream reports.
    pub fn with_counts(reader: BoxedReader, counts: Arc<ReadCounts>) -> Self {
        PyBatchStream {
            counts: Some(counts),
            ..PyBatchStream::new(reader)
        }
    }

    fn count(&self, f: impl Fn(&ReadCounts) -> &AtomicU64) -> u64 {
        self.counts
            .as_ref()
            .map_or(0, |c| f(c).load(Ordering::Relaxed))
    }

    fn take(&self) -> PyResult<BoxedReader> {
        self.reader
            .lock()
            .map_err(|_| PyRuntimeError::new_err("stream lock poisoned"))?
            .take()
            .ok_or_else(|| {
                PyValueError::new_err("this stream was already consumed; call logflow.read() again")
            })
    }
}

fn schema_capsule<'py>(py: Python<'py>, schema: &SchemaRef) -> PyResult<Bound<'py, PyCapsule>> {
    let ffi = FFI_ArrowSchema::try_from(schema.as_ref())
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    PyCapsule::new_with_value(py, ffi, c"arrow_schema")
}

#[pymethods]
impl PyBatchStream {
    /// Exports the remaining batches as an `ArrowArrayStream` capsule (consumes the stream).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        // The schema is fixed by the data; a request for another one is not honoured (the
        // protocol allows this), the consumer casts if it must.
        let _ = requested_schema;
        let stream = FFI_ArrowArrayStream::new(Box::new(GilFree(self.take()?)));
        PyCapsule::new_with_value(py, stream, c"arrow_array_stream")
    }

    /// Exports the schema as an `ArrowSchema` capsule.
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        schema_capsule(py, &self.schema)
    }

    /// Data records read so far.
    #[getter]
    fn rows_read(&self) -> u64 {
        self.count(|c| &c.rows_read)
    }

    /// Bad records dropped so far (permissive policy).
    #[getter]
    fn rows_rejected(&self) -> u64 {
        self.count(|c| &c.rows_rejected)
    }

    /// Headers repeated mid-file, dropped so far.
    #[getter]
    fn rows_skipped(&self) -> u64 {
        self.count(|c| &c.rows_skipped)
    }

    /// Decodes the next batch with the GIL released; `None` at the end.
    fn next_batch(&self, py: Python<'_>) -> PyLogflowResult<Option<PyBatch>> {
        let mut guard = self
            .reader
            .lock()
            .map_err(|_| PyRuntimeError::new_err("stream lock poisoned"))?;
        let Some(reader) = guard.as_mut() else {
            return Err(PyValueError::new_err(
                "this stream was already consumed; call logflow.read() again",
            )
            .into());
        };
        // One batch is short work: release the GIL for it, no watcher thread needed.
        let next = py.detach(|| reader.next().transpose());
        let next = match (next, &self.failures) {
            (Ok(n), _) => n,
            (Err(e), Some(f)) => match f.take() {
                Some(raised) => return Err(raised.into()),
                None => return Err(logflow_core::Error::from(e).into()),
            },
            (Err(e), None) => return Err(logflow_core::Error::from(e).into()),
        };
        if next.is_none() {
            *guard = None;
        }
        Ok(next.map(|b| PyBatch(Arc::new(b))))
    }
}

/// A reader whose batches are made with the GIL released, whoever pulls them: a consumer
/// of the exported C stream may hold the GIL while it calls in (some do), and the threads
/// decoding ahead may need it to read a Python file-like. Attaching is a no-op on a thread
/// that holds the GIL already, and takes it first on one that does not.
struct GilFree(BoxedReader);

impl Iterator for GilFree {
    type Item = Result<RecordBatch, arrow_schema::ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let reader = &mut self.0;
        match Python::try_attach(|py| py.detach(|| reader.next())) {
            Some(next) => next,
            None => self.0.next(),
        }
    }
}

impl RecordBatchReader for GilFree {
    fn schema(&self) -> SchemaRef {
        self.0.schema()
    }
}

/// One record batch, exportable through `__arrow_c_array__`.
#[pyclass(name = "Batch", module = "logflow._native", frozen)]
pub struct PyBatch(Arc<RecordBatch>);

impl PyBatch {
    /// Wraps a batch.
    pub fn new(batch: Arc<RecordBatch>) -> Self {
        PyBatch(batch)
    }
}

#[pymethods]
impl PyBatch {
    /// Exports the batch as a struct array: `(ArrowSchema capsule, ArrowArray capsule)`.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let _ = requested_schema;
        let data = StructArray::from(self.0.as_ref().clone()).into_data();
        let array = FFI_ArrowArray::new(&data);
        let schema = FFI_ArrowSchema::try_from(data.data_type())
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let schema = PyCapsule::new_with_value(py, schema, c"arrow_schema")?;
        let array = PyCapsule::new_with_value(py, array, c"arrow_array")?;
        PyTuple::new(py, [schema.into_any(), array.into_any()])
    }

    /// Number of rows.
    #[getter]
    fn num_rows(&self) -> usize {
        self.0.num_rows()
    }
}

/// A schema, exportable through `__arrow_c_schema__`.
#[pyclass(name = "Schema", module = "logflow._native", frozen)]
pub struct PySchema(SchemaRef);

impl PySchema {
    /// Wraps a schema.
    pub fn new(schema: SchemaRef) -> Self {
        PySchema(schema)
    }
}

#[pymethods]
impl PySchema {
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        schema_capsule(py, &self.0)
    }
}
