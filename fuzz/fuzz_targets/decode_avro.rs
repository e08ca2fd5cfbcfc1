//! Arbitrary bytes as an Avro object container file through `pipeline::read`: logflow's
//! container framing and block decompression, then arrow-avro's record decoding. A panic,
//! even one the part reader contains as an error, is a bug. The body lives in
//! `rust/logflow-core/tests/support/fuzz_checks.rs`, shared with the regression test.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../rust/logflow-core/tests/support/fuzz_checks.rs"]
mod fuzz_checks;

fuzz_target!(|data: &[u8]| fuzz_checks::decode_avro(data));
