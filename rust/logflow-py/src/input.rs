//! Inputs from Python: a path, bytes (any buffer), or a binary file-like, as one
//! `FromPyObject` enum; or a list of named ones (what `logflow` resolves globs, directories,
//! object-store and HTTP URLs into). They become core [`Source`]s.
//!
//! A file-like is the slow path: a worker thread calls its `read(n)` with the GIL attached
//! (`Python::attach`), in blocks of 4 MiB so round trips are rare. The pipeline runs with the
//! GIL released (`run.rs`, and `stream.rs` releases it around every batch a consumer pulls),
//! so the worker can always attach; no Rust lock is held across an attach. The job's cancel
//! flag is checked before every call into Python, so Ctrl-C stops a run within one block.
//! An exception raised by the file-like is kept and re-raised as it was.

use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use logflow_core::input::SourceError;
use logflow_core::source::{Fingerprint, Source, SourceData};
use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

/// Bytes asked of a file-like per call.
const BLOCK: usize = 4 << 20;

/// One input as Python gives it.
pub enum PyInput {
    /// A local path (`str` or `os.PathLike`).
    Path(PathBuf),
    /// The bytes of any buffer (`bytes`, `bytearray`, `memoryview`), copied once.
    Bytes(Vec<u8>),
    /// A binary file-like: anything with `read(n)`.
    File(Py<PyAny>),
}

impl<'a, 'py> FromPyObject<'a, 'py> for PyInput {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let obj = obj.to_owned();
        if let Ok(b) = obj.cast::<PyBytes>() {
            return Ok(PyInput::Bytes(b.as_bytes().to_vec()));
        }
        if obj.is_instance_of::<PyString>() || obj.hasattr("__fspath__")? {
            return Ok(PyInput::Path(obj.extract()?));
        }
        if obj.hasattr("read")? {
            return Ok(PyInput::File(obj.unbind()));
        }
        if let Ok(buffer) = PyBuffer::<u8>::get(&obj) {
            return Ok(PyInput::Bytes(buffer.to_vec(obj.py())?));
        }
        Err(PyTypeError::new_err(format!(
            "an input is a path, bytes or a binary file-like object (with read()), got {}",
            obj.get_type().name()?
        )))
    }
}

/// Python exceptions raised by file-likes during a run, to re-raise in place of the
/// storage error they caused.
#[derive(Clone, Default)]
pub struct Failures(Arc<Mutex<Option<PyErr>>>);

impl Failures {
    /// The first exception a file-like raised, if any.
    pub fn take(&self) -> Option<PyErr> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    fn keep(&self, e: PyErr) {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(e);
        }
    }
}

/// Inputs as the native functions take them: one input, or a list of
/// `(name, input, fingerprint)` tuples whose fingerprint is a dict with any of `size`,
/// `mtime`, `etag` (what an object store's listing already says).
pub struct PySources(Vec<(String, PyInput, Fingerprint)>);

impl<'a, 'py> FromPyObject<'a, 'py> for PySources {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let obj = obj.to_owned();
        if let Ok(list) = obj.cast::<PyList>() {
            let mut out = Vec::with_capacity(list.len());
            for item in list.iter() {
                let t = item.cast::<PyTuple>().map_err(|_| {
                    PyTypeError::new_err(
                        "a list of sources holds (name, input, fingerprint) tuples",
                    )
                })?;
                let name: String = t.get_item(0)?.extract()?;
                let input: PyInput = t.get_item(1)?.extract()?;
                let known = match t.get_item(2) {
                    Ok(d) if !d.is_none() => fingerprint(d.cast::<PyDict>()?)?,
                    _ => Fingerprint::default(),
                };
                out.push((name, input, known));
            }
            return Ok(PySources(out));
        }
        let input: PyInput = obj.extract()?;
        let name = match &input {
            PyInput::Path(p) => p.to_string_lossy().into_owned(),
            PyInput::Bytes(_) => "<bytes>".to_string(),
            PyInput::File(f) => f
                .bind(obj.py())
                .getattr("name")
                .ok()
                .and_then(|n| n.extract::<String>().ok())
                .unwrap_or_else(|| "<stream>".to_string()),
        };
        Ok(PySources(vec![(name, input, Fingerprint::default())]))
    }
}

fn fingerprint(d: &Bound<'_, PyDict>) -> PyResult<Fingerprint> {
    let get = |k: &str| -> PyResult<Option<Bound<'_, PyAny>>> {
        Ok(d.get_item(k)?.filter(|v| !v.is_none()))
    };
    Ok(Fingerprint {
        size: get("size")?.map(|v| v.extract()).transpose()?,
        mtime: get("mtime")?.map(|v| v.extract()).transpose()?,
        etag: get("etag")?.map(|v| v.extract()).transpose()?,
        sha256: None,
    })
}

impl PySources {
    /// The core sources; file-likes read through [`PyReader`]s that stop when `cancel` is
    /// set and keep what they raise in the returned [`Failures`].
    pub fn build(
        self,
        py: Python<'_>,
        cancel: &Arc<AtomicBool>,
    ) -> PyResult<(Vec<Source>, Failures)> {
        let failures = Failures::default();
        let mut out = Vec::with_capacity(self.0.len());
        for (name, input, known) in self.0 {
            let data = match input {
                PyInput::Path(p) => SourceData::Path(p),
                PyInput::Bytes(b) => SourceData::Bytes(Arc::from(b)),
                PyInput::File(f) => {
                    let seekable = is_seekable(f.bind(py));
                    let reader = PyReader {
                        obj: f,
                        buf: Vec::new(),
                        at: 0,
                        pos: None,
                        cancel: Arc::clone(cancel),
                        failures: failures.clone(),
                    };
                    if seekable {
                        SourceData::Seekable(Box::new(reader))
                    } else {
                        SourceData::Reader(Box::new(reader))
                    }
                }
            };
            out.push(Source { name, data, known });
        }
        Ok((out, failures))
    }
}

/// Whether a file-like says it can seek (`seekable()`), or has `seek` and `tell` without
/// saying.
fn is_seekable(obj: &Bound<'_, PyAny>) -> bool {
    match obj.call_method0("seekable") {
        Ok(v) => v.is_truthy().unwrap_or(false),
        Err(_) => obj.hasattr("seek").unwrap_or(false) && obj.hasattr("tell").unwrap_or(false),
    }
}

/// A Python binary file-like as a Rust reader (see the module docs).
pub struct PyReader {
    obj: Py<PyAny>,
    /// Bytes read from Python, not yet handed on: `buf[at..]`.
    buf: Vec<u8>,
    at: usize,
    /// The file-like's own position (where its next `read` starts), when known.
    pos: Option<u64>,
    cancel: Arc<AtomicBool>,
    failures: Failures,
}

impl PyReader {
    fn failed(&self, e: PyErr) -> io::Error {
        let msg = Python::attach(|py| e.value(py).to_string());
        self.failures.keep(e);
        io::Error::other(SourceError(msg))
    }

    fn check_cancel(&self) -> io::Result<()> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(io::Error::other(SourceError("cancelled".into())));
        }
        Ok(())
    }

    /// Calls `read(n)` and copies what it returns into `out` (at most `n` bytes); 0 at
    /// the end.
    fn read_py(&mut self, n: usize, out: &mut Vec<u8>) -> io::Result<usize> {
        self.check_cancel()?;
        let got = Python::attach(|py| -> PyResult<usize> {
            let r = self.obj.bind(py).call_method1("read", (n,))?;
            if r.is_none() {
                // A non-blocking stream with nothing yet: treated as no data now.
                return Ok(0);
            }
            if let Ok(b) = r.cast::<PyBytes>() {
                let bytes = b.as_bytes();
                let take = bytes.len().min(n);
                out.extend_from_slice(bytes.get(..take).unwrap_or_default());
                return Ok(take);
            }
            let buffer = PyBuffer::<u8>::get(&r).map_err(|_| {
                PyTypeError::new_err(format!(
                    "read() of a binary input must return bytes, got {}",
                    r.get_type()
                        .name()
                        .map_or_else(|_| "?".into(), |n| n.to_string())
                ))
            })?;
            let v = buffer.to_vec(py)?;
            let take = v.len().min(n);
            out.extend_from_slice(v.get(..take).unwrap_or_default());
            Ok(take)
        });
        let got = got.map_err(|e| self.failed(e))?;
        if let Some(p) = &mut self.pos {
            *p += got as u64;
        }
        Ok(got)
    }
}

impl Read for PyReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        if self.at >= self.buf.len() {
            self.buf.clear();
            self.at = 0;
            let mut fresh = std::mem::take(&mut self.buf);
            let got = self.read_py(BLOCK.max(out.len()), &mut fresh);
            self.buf = fresh;
            if got? == 0 {
                return Ok(0);
            }
        }
        let ready = self.buf.get(self.at..).unwrap_or_default();
        let n = ready.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), ready.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.at += n;
        Ok(n)
    }
}

impl Seek for PyReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        // Within the block in hand: no call into Python.
        let buffered = (self.buf.len() - self.at.min(self.buf.len())) as u64;
        if let (Some(pos), SeekFrom::Start(target)) = (self.pos, to) {
            let window = pos.saturating_sub(self.buf.len() as u64);
            if (window..pos).contains(&target) {
                self.at = usize::try_from(target - window).unwrap_or(usize::MAX);
                return Ok(target);
            }
        }
        self.check_cancel()?;
        let (offset, whence) = match to {
            SeekFrom::Start(p) => (i128::from(p), 0),
            // The file-like is ahead of the reader by what is buffered.
            SeekFrom::Current(d) => (i128::from(d) - i128::from(buffered), 1),
            SeekFrom::End(d) => (i128::from(d), 2),
        };
        let now = Python::attach(|py| -> PyResult<u64> {
            let f = self.obj.bind(py);
            let r = f.call_method1("seek", (offset, whence))?;
            // Some file-likes' seek() returns nothing: ask where they are.
            if r.is_none() {
                f.call_method0("tell")?.extract::<u64>()
            } else {
                r.extract::<u64>()
            }
        });
        let now = now.map_err(|e| self.failed(e))?;
        self.buf.clear();
        self.at = 0;
        self.pos = Some(now);
        Ok(now)
    }
}
