//! Arbitrary bytes as a file in a binary format (Parquet, Avro, Arrow IPC, workbooks; the
//! option byte names it or leaves it to detection) through `pipeline::read`. The body lives
//! in `rust/logflow-core/tests/support/fuzz_checks.rs`, shared with the regression test.
//! A panic inside the `parquet` or `arrow-ipc` crate on damaged input is contained by the
//! part reader as a typed error, so this target replaces libFuzzer's abort-on-any-panic hook
//! with a silent one; a panic that escapes the pipeline still aborts (the harness catches
//! it and aborts), and `decode_avro` keeps the strict hook for logflow's own Avro code.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../rust/logflow-core/tests/support/fuzz_checks.rs"]
mod fuzz_checks;

fuzz_target!(
    init: std::panic::set_hook(Box::new(|info| eprintln!("panic (contained unless the run aborts): {info}"))),
    |data: &[u8]| fuzz_checks::native(data)
);
