//! Sinks for record batches.

pub mod dataset;
pub mod parquet;
pub mod partition;
pub mod quarantine;
