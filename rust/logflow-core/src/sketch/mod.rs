//! Data quality in the same pass as decoding: row checksums ([`checksum`]), distinct counts
//! ([`hll`]), frequent values ([`topk`]) and column profiles ([`profile`]).
//!
//! Everything here works on Arrow batches, so it is the same for every input format, and
//! every summary is mergeable: chunks decoded on different threads, files and ingests add up
//! to the summary of the whole, in any order.

pub mod checksum;
pub mod hll;
pub mod profile;
pub mod topk;
