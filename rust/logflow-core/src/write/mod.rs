//! Sinks for record batches.

pub mod parquet;
pub mod quarantine;
