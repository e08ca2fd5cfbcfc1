//! `logflow._native`: the thin binding over logflow-core. Python wrappers in
//! `python/logflow` own the public signatures and docs; this module parses options once,
//! releases the GIL for all heavy work, and maps errors to `logflow.errors`.

mod convert;
mod detect;
mod error;
mod ffi;
mod input;
mod options;
mod quality;
mod run;
mod stream;

use pyo3::prelude::*;

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "build_profile",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    )?;
    m.add_function(wrap_pyfunction!(convert::convert, m)?)?;
    m.add_function(wrap_pyfunction!(convert::read, m)?)?;
    m.add_function(wrap_pyfunction!(convert::write, m)?)?;
    m.add_function(wrap_pyfunction!(convert::read_stream, m)?)?;
    m.add_function(wrap_pyfunction!(convert::profile, m)?)?;
    m.add_function(wrap_pyfunction!(convert::profile_stream, m)?)?;
    m.add_function(wrap_pyfunction!(detect::detect, m)?)?;
    m.add_function(wrap_pyfunction!(quality::merge_profiles, m)?)?;
    m.add_class::<stream::PyBatchStream>()?;
    m.add_class::<stream::PyBatch>()?;
    m.add_class::<stream::PySchema>()?;
    Ok(())
}
