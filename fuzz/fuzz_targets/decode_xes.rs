//! Arbitrary bytes read as an XES log: no panic, consistent batches and counts.
//! The body lives in `rust/logflow-core/tests/support/xml_checks.rs`, shared with the
//! regression test.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../rust/logflow-core/tests/support/xml_checks.rs"]
mod xml_checks;

fuzz_target!(|data: &[u8]| xml_checks::decode_xes(data));
