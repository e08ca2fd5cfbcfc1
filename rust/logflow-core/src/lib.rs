//! logflow-core: streaming decoders from text formats to Arrow, and Parquet writing.
//!
//! Pure Rust, no Python. Bytes go in, Arrow [`RecordBatch`](arrow_array::RecordBatch)es of
//! bounded size come out; the [`pipeline`] runs decoding and writing on separate threads with
//! bounded channels, so memory does not grow with the input. Formats plug into the shared
//! machinery of [`stream`] (chunks, order, prefetch, streaming reads) with a framing, a
//! decoder and a start step of their own ([`decode`]); binary formats (Parquet, Avro, Arrow
//! IPC, workbooks) are read by their projects' Arrow readers ([`native`]).
//!
//! ```
//! use logflow_core::decode::csv::{self, CsvOptions};
//! use logflow_core::decode::DecodeOptions;
//!
//! let data = "id,when,ok\n1,2024-05-01T10:00:00,true\n2,2024-05-02T11:30:00,false\n";
//! let reader = csv::reader(data.as_bytes(), &DecodeOptions::default(), &CsvOptions::default())?;
//! let batches = reader.collect::<Result<Vec<_>, _>>()?;
//! assert_eq!(batches[0].num_rows(), 2);
//! assert_eq!(batches[0].schema().field(1).data_type().to_string(), "Timestamp(µs)");
//! # Ok::<(), logflow_core::Error>(())
//! ```

#![forbid(unsafe_code)]

pub mod decode;
pub mod detect;
pub mod error;
pub mod input;
pub mod native;
pub mod pipeline;
pub mod schema;
pub mod sketch;
pub mod source;
pub mod stream;
pub mod work;
pub mod write;

#[cfg(test)]
mod testutil;

pub use error::{Error, ErrorKind, Position, Result};
