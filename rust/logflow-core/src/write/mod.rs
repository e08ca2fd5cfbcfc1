//! Sinks for record batches.

pub mod parquet;
