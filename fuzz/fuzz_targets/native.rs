//! Arbitrary bytes as a file in a binary format (Parquet, Avro, Arrow IPC, workbooks; the
//! option byte names it or leaves it to detection) through `pipeline::read`. The body lives
//! in `rust/logflow-core/tests/support/fuzz_checks.rs`, shared with the regression test.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../rust/logflow-core/tests/support/fuzz_checks.rs"]
mod fuzz_checks;

fuzz_target!(|data: &[u8]| fuzz_checks::native(data));
