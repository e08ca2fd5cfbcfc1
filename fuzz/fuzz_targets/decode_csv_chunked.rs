//! Decoding with `batch_rows` = 1..=7 gives the same rows as decoding in one batch.
//! The body lives in `rust/logflow-core/tests/support/fuzz_checks.rs`, shared with the
//! regression test.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../rust/logflow-core/tests/support/fuzz_checks.rs"]
mod fuzz_checks;

fuzz_target!(|data: &[u8]| fuzz_checks::decode_csv_chunked(data));
