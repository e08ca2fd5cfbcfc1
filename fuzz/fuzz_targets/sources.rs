//! Arbitrary bytes as a source that may be a zip archive: its directory read into one unit
//! per member (zip slip and encryption refused), each member opened, read to its end within
//! an expansion limit and fingerprinted. Any `Result` is fine, a panic is a bug. The body
//! lives in `rust/logflow-core/tests/support/fuzz_checks.rs`, shared with the regression
//! test.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../rust/logflow-core/tests/support/fuzz_checks.rs"]
mod fuzz_checks;

fuzz_target!(|data: &[u8]| fuzz_checks::sources(data));
