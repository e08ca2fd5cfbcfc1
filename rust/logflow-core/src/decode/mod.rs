//! Decoders: bytes of one format in, Arrow record batches out.

pub mod csv;
pub mod values;

use crate::error::{Error, Result};

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
