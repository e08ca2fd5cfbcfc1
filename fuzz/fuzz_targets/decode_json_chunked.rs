//! JSON decoded from small chunks in small batches against one chunk in one batch: the same
//! records, and the same rows and rejects whenever the schemas agree. The body lives in
//! `rust/logflow-core/tests/support/json_fuzz_checks.rs`, shared with the regression test.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../rust/logflow-core/tests/support/json_fuzz_checks.rs"]
mod json_fuzz_checks;

fuzz_target!(|data: &[u8]| json_fuzz_checks::decode_json_chunked(data));
