//! Arbitrary bytes through the JSON decoder under option variations picked by the first two
//! bytes (format, error and schema policies, flattening, records path, chunk and batch
//! sizes): any `Result` is fine, a panic is a bug, and a successful read accounts for every
//! record. The body lives in `rust/logflow-core/tests/support/json_fuzz_checks.rs`, shared
//! with the regression test.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../rust/logflow-core/tests/support/json_fuzz_checks.rs"]
mod json_fuzz_checks;

fuzz_target!(|data: &[u8]| json_fuzz_checks::decode_json(data));
