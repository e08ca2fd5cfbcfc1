//! Decoders: bytes of one format in, Arrow record batches out, on the shared machinery of
//! [`stream`](crate::stream). What every format shares is here: the decoding options that
//! are not the format's own ([`DecodeOptions`]), the error policies and reject reasons.

pub mod csv;
pub mod json;
pub mod nested;
pub mod values;
pub mod xml;

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
    /// How the schema may change after the sample; `None`: the format's default (merge
    /// for JSON, whose records name their fields; strict for delimited text).
    pub schema_policy: Option<SchemaPolicy>,
    /// Infer column types. Off (text mode), every column is text holding the values
    /// exactly as written (after unquoting and unescaping): no trimming, no null words;
    /// types given by name still apply.
    pub infer_types: bool,
    /// Whether an empty field is null in text columns; `None`: yes when types are
    /// inferred, no in text mode (an empty field stays an empty string).
    pub empty_as_null: Option<bool>,
    /// Keep where each good row came from ([`ChunkOutput::sources`](crate::stream::ChunkOutput)):
    /// validation rules that reject rows need its bytes and place. Off by default (it
    /// copies each good row's bytes).
    pub row_sources: bool,
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
            schema_policy: None,
            infer_types: true,
            empty_as_null: None,
            row_sources: false,
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

    /// Whether an empty field is null in text columns (see [`DecodeOptions::empty_as_null`]).
    pub fn empty_is_null(&self) -> bool {
        self.empty_as_null.unwrap_or(self.infer_types)
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

/// A value for a message: its text, cut to 60 bytes (on a character boundary) with `…`.
#[cold]
pub(crate) fn shown(raw: &[u8]) -> String {
    let mut shown = String::from_utf8_lossy(raw).into_owned();
    if shown.len() > 60 {
        let cut = (0..=60)
            .rev()
            .find(|&i| shown.is_char_boundary(i))
            .unwrap_or(0);
        shown.truncate(cut);
        shown.push('…');
    }
    shown
}

/// Share of values in a column that may fail to parse as the inferred type when the error
/// policy sets bad rows aside (strict inference allows none).
pub const INFER_TOLERANCE: f64 = 0.01;

/// How the schema may change after the sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaPolicy {
    /// The schema is the sample's: a new field, or a value its column cannot hold, is a bad
    /// record under the error policy.
    Strict,
    /// New fields become nullable columns and types widen (int -> float -> text); a value
    /// that still does not fit (an object where text is) is a bad record. For delimited
    /// text, a record with more fields than the header adds text columns.
    Merge,
    /// As merge, and a value that still does not fit turns its column into JSON text.
    Evolve,
}

impl SchemaPolicy {
    /// Parses `strict`, `merge` or `evolve`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "strict" => Ok(SchemaPolicy::Strict),
            "merge" => Ok(SchemaPolicy::Merge),
            "evolve" => Ok(SchemaPolicy::Evolve),
            other => Err(Error::invalid(format!(
                "unknown schema_policy {other:?}: use strict, merge or evolve"
            ))),
        }
    }
}

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
    /// A record that is not valid JSON.
    InvalidJson,
    /// A record that is not well-formed XML.
    InvalidXml,
    /// A record whose shape the schema does not allow: a field it does not have, or a
    /// value of another kind (an object where a number was), under a policy that does not
    /// widen the schema for it.
    SchemaMismatch,
    /// A row that broke a validation rule: the rule's name (see [`RejectReason::rule`]).
    Rule(&'static str),
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
            RejectReason::InvalidJson => "invalid_json",
            RejectReason::InvalidXml => "invalid_xml",
            RejectReason::SchemaMismatch => "schema_mismatch",
            RejectReason::Rule(name) => name,
        }
    }

    /// The reason for rows that broke the rule `name`. Rule names are interned for the life
    /// of the process (each distinct name once), so reasons stay `Copy` and results keep
    /// counting them by `&'static str`.
    pub fn rule(name: &str) -> RejectReason {
        use std::collections::BTreeSet;
        use std::sync::{Mutex, OnceLock, PoisonError};
        static NAMES: OnceLock<Mutex<BTreeSet<&'static str>>> = OnceLock::new();
        let names = NAMES.get_or_init(|| Mutex::new(BTreeSet::new()));
        let mut names = names.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(known) = names.get(name) {
            return RejectReason::Rule(known);
        }
        let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
        names.insert(leaked);
        RejectReason::Rule(leaked)
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

/// Chunk offsets (`raw` starts at `base`) of the invalid UTF-8 sequences in `raw`, in
/// order; empty for valid input, found in one pass either way. Records are cut at ASCII
/// bytes, which no multi-byte sequence contains, so a record is valid exactly when none falls
/// in it.
pub(crate) fn invalid_utf8_offsets(raw: &[u8], base: usize) -> Vec<usize> {
    // Valid input, the common case, in one vectorized pass.
    if simdutf8::basic::from_utf8(raw).is_ok() {
        return Vec::new();
    }
    let mut bad = Vec::new();
    let mut pos = 0;
    while let Some(rest) = raw.get(pos..) {
        match std::str::from_utf8(rest) {
            Ok(_) => break,
            Err(e) => {
                let at = pos + e.valid_up_to();
                bad.push(base + at);
                pos = at + e.error_len().unwrap_or(rest.len() - e.valid_up_to()).max(1);
            }
        }
    }
    bad
}

/// What is wrong with a field that is not UTF-8: the first bad byte, the text before it, and
/// the hint that the file may be in another encoding.
pub(crate) fn utf8_detail(field: &[u8]) -> String {
    let at = match std::str::from_utf8(field) {
        Ok(_) => return "invalid UTF-8".into(),
        Err(e) => e.valid_up_to(),
    };
    let before = String::from_utf8_lossy(field.get(..at).unwrap_or_default());
    let tail: String = before
        .chars()
        .rev()
        .take(20)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let byte = field.get(at).copied().unwrap_or(0);
    format!(
        "invalid UTF-8: byte 0x{byte:02X} after {tail:?}; if the file is in another \
         encoding, name it (e.g. encoding=\"windows-1252\")"
    )
}

#[cfg(test)]
mod tests {
    use super::invalid_utf8_offsets;

    #[test]
    fn invalid_utf8_is_found_wherever_it_is_in_one_pass() {
        assert!(invalid_utf8_offsets("é,ü\n".as_bytes(), 3).is_empty());
        assert_eq!(invalid_utf8_offsets(b"a\xffb\nc\xfe\n", 10), [11, 15]);
        // A sequence cut by the end, and one cut by a line feed.
        assert_eq!(invalid_utf8_offsets(b"ab\xe2\x82", 0), [2]);
        assert_eq!(invalid_utf8_offsets(b"\xe2\n\xe2\x82\xac", 0), [0]);
    }
}
