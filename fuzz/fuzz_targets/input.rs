//! Arbitrary "files" through the input layer (decompression, single-file zip, transcoding to
//! UTF-8) and then the CSV decoder, under an option byte choosing overrides: any `Result` is
//! fine, a panic or non-UTF-8 transcoder output is a bug. The body lives in
//! `rust/logflow-core/tests/support/fuzz_checks.rs`, shared with the regression test.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../rust/logflow-core/tests/support/fuzz_checks.rs"]
mod fuzz_checks;

fuzz_target!(|data: &[u8]| fuzz_checks::input(data));
