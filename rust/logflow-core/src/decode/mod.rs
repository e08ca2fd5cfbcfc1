//! Decoders: bytes of one format in, Arrow record batches out, on the shared machinery of
//! [`stream`](crate::stream). What every format shares is here: the decoding options that
//! are not the format's own ([`DecodeOptions`]), the error policies and reject reasons.

pub mod csv;
pub mod values;

use crate::error::{Error, Result};
use crate::schema::ColumnType;

/// How to decode, whatever the format: batch and chunk sizes, limits, policies and the
/// types the caller gives. Each format adds its own options (a CSV dialect, a JSON records
/// path).
#[derive(Debug, Clone)]
pub struct DecodeOptions {
    /// Most rows in one record batch.
    pub batch_rows: usize,
    /// Size of the chunks the input is cut into (the unit of parallel work).
    pub chunk_bytes: usize,
    /// Largest record accepted; a record running longer is rejected (`record_too_long`, or
    /// for CSV a quoted field running longer is an unterminated quote).
    pub max_record_bytes: usize,
    /// What to do with bad records.
    pub error_policy: ErrorPolicy,
    /// What to do with values that do not parse as their column's type.
    pub on_cast_error: CastErrorPolicy,
    /// Types for some columns by name; the others are inferred. A name the input does not
    /// have is a schema error.
    pub column_types: Vec<(String, ColumnType)>,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            batch_rows: 64 * 1024,
            chunk_bytes: 4 << 20,
            max_record_bytes: 64 << 20,
            error_policy: ErrorPolicy::Strict,
            on_cast_error: CastErrorPolicy::Reject,
            column_types: Vec::new(),
        }
    }
}

impl DecodeOptions {
    /// Checks the sizes are positive.
    pub fn validate(&self) -> Result<()> {
        if self.batch_rows == 0 || self.chunk_bytes == 0 || self.max_record_bytes == 0 {
            return Err(Error::invalid(
                "batch_rows, chunk_bytes and max_record_bytes must be positive",
            ));
        }
        Ok(())
    }

    /// Share of sampled values that may misfit an inferred type: none under the strict
    /// policy, [`INFER_TOLERANCE`] when bad rows are set aside.
    pub fn infer_tolerance(&self) -> f64 {
        if self.error_policy == ErrorPolicy::Strict {
            0.0
        } else {
            INFER_TOLERANCE
        }
    }
}

/// Share of values in a column that may fail to parse as the inferred type when the error
/// policy sets bad rows aside (strict inference allows none).
pub const INFER_TOLERANCE: f64 = 0.01;

/// What to do with a record that cannot be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorPolicy {
    /// The first bad record fails the whole run; nothing is written.
    #[default]
    Strict,
    /// Bad records are dropped, counted by reason, and a few kept as samples.
    Permissive,
    /// Bad records are written byte for byte to a quarantine file beside the output, with an
    /// error table saying where and why.
    Quarantine,
}

impl ErrorPolicy {
    /// Parses `strict`, `permissive` or `quarantine`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "strict" => Ok(ErrorPolicy::Strict),
            "permissive" => Ok(ErrorPolicy::Permissive),
            "quarantine" => Ok(ErrorPolicy::Quarantine),
            other => Err(Error::invalid(format!(
                "unknown error_policy {other:?}: use strict, permissive or quarantine"
            ))),
        }
    }
}

/// What to do with a value that does not parse as its column's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CastErrorPolicy {
    /// The value becomes null and the row is kept.
    Null,
    /// The row is bad (handled by the [`ErrorPolicy`]).
    #[default]
    Reject,
}

impl CastErrorPolicy {
    /// Parses `null` or `reject`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "null" => Ok(CastErrorPolicy::Null),
            "reject" => Ok(CastErrorPolicy::Reject),
            other => Err(Error::invalid(format!(
                "unknown on_cast_error {other:?}: use null or reject"
            ))),
        }
    }
}

/// Why a record was rejected. The names are stable: they appear in results and error tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RejectReason {
    /// More fields than the header.
    TooManyFields,
    /// Fewer fields than the header.
    TooFewFields,
    /// Bytes that are not UTF-8.
    InvalidUtf8,
    /// A value that does not parse as its column's type.
    CastError,
    /// A quote that is never closed: the record runs to the end of input or past the size
    /// limit (only its first line is rejected and decoding resumes on the next line), or a
    /// record spanning several lines has the wrong field count (its first line; the others
    /// are [`RejectReason::SwallowedByQuote`]).
    UnterminatedQuote,
    /// A line inside the quote of an [`RejectReason::UnterminatedQuote`] record on an
    /// earlier line: part of that record as parsed, kept (and counted) line by line.
    SwallowedByQuote,
    /// A line with no line end within the record size limit: its first bytes (up to the
    /// limit) are kept and the rest of the line is skipped unread.
    RecordTooLong,
}

impl RejectReason {
    /// The stable name, e.g. `"too_many_fields"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::TooManyFields => "too_many_fields",
            RejectReason::TooFewFields => "too_few_fields",
            RejectReason::InvalidUtf8 => "invalid_utf8",
            RejectReason::CastError => "cast_error",
            RejectReason::UnterminatedQuote => "unterminated_quote",
            RejectReason::SwallowedByQuote => "swallowed_by_quote",
            RejectReason::RecordTooLong => "record_too_long",
        }
    }
}

/// One rejected record.
#[derive(Debug, Clone)]
pub struct Reject {
    /// Where it starts.
    pub position: crate::error::Position,
    /// The column concerned, for cast and encoding errors.
    pub column: Option<String>,
    /// Why.
    pub reason: RejectReason,
    /// Details in words.
    pub detail: String,
    /// The record's bytes exactly as in the input, line terminator included.
    pub raw: Vec<u8>,
}
