//! Code shared by integration tests (and, for `fuzz_checks` and `json_fuzz_checks`, by the
//! fuzz targets).

pub mod fuzz_checks;
pub mod json_fuzz_checks;
pub mod xml_checks;
