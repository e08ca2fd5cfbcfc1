//! Data quality in the same pass as decoding: row checksums ([`checksum`]), distinct counts
//! ([`hll`]), frequent values ([`topk`]), column profiles ([`profile`]), validation rules
//! ([`rules`]), and the pipeline stage that runs them on decoded batches ([`stage`]).
//!
//! Everything here works on Arrow batches, so it is the same for every input format, and
//! every summary is mergeable: chunks decoded on different threads, files and ingests add up
//! to the summary of the whole, in any order.

pub mod checksum;
pub mod hll;
pub mod profile;
pub mod rules;
pub mod stage;
pub mod topk;
