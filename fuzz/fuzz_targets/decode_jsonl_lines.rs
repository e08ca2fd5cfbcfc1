//! Bytes read as JSON Lines (permissive): every non-blank line is exactly one record,
//! whatever the chunk size. The body lives in
//! `rust/logflow-core/tests/support/json_fuzz_checks.rs`, shared with the regression test.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../rust/logflow-core/tests/support/json_fuzz_checks.rs"]
mod json_fuzz_checks;

fuzz_target!(|data: &[u8]| json_fuzz_checks::decode_jsonl_lines(data));
