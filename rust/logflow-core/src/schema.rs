//! Column type inference over a sample of text fields.
//!
//! Every value narrows a set of candidate types; the most specific candidate left at the end
//! wins. Empty fields (and, for typed columns, the common null tokens) are nulls and do not
//! narrow anything.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, TimeUnit};

use crate::decode::values;

/// The types inference can choose for a text column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// `true` / `false`.
    Bool,
    /// 64-bit signed integers.
    Int64,
    /// 64-bit floats.
    Float64,
    /// `YYYY-MM-DD` dates.
    Date,
    /// ISO-8601 timestamps without offset, in the given unit.
    Timestamp(TimeUnit),
    /// ISO-8601 timestamps with `Z` or an offset, normalised to UTC, in the given unit.
    TimestampUtc(TimeUnit),
    /// Anything else: UTF-8 text.
    Utf8,
}

impl ColumnType {
    /// The Arrow type this column decodes to.
    pub fn data_type(self) -> DataType {
        match self {
            ColumnType::Bool => DataType::Boolean,
            ColumnType::Int64 => DataType::Int64,
            ColumnType::Float64 => DataType::Float64,
            ColumnType::Date => DataType::Date32,
            ColumnType::Timestamp(u) => DataType::Timestamp(u, None),
            ColumnType::TimestampUtc(u) => DataType::Timestamp(u, Some("UTC".into())),
            ColumnType::Utf8 => DataType::Utf8,
        }
    }

    /// The column type for an Arrow type, when logflow can decode text into it.
    pub fn from_data_type(dt: &DataType) -> Option<Self> {
        Some(match dt {
            DataType::Boolean => ColumnType::Bool,
            DataType::Int64 => ColumnType::Int64,
            DataType::Float64 => ColumnType::Float64,
            DataType::Date32 => ColumnType::Date,
            DataType::Timestamp(u @ (TimeUnit::Microsecond | TimeUnit::Nanosecond), None) => {
                ColumnType::Timestamp(*u)
            }
            DataType::Timestamp(u @ (TimeUnit::Microsecond | TimeUnit::Nanosecond), Some(tz))
                if tz.as_ref() == "UTC" =>
            {
                ColumnType::TimestampUtc(*u)
            }
            DataType::Utf8 => ColumnType::Utf8,
            _ => return None,
        })
    }

    /// Whether a non-string column treats `NULL`, `NA`, ... as null.
    pub fn is_typed(self) -> bool {
        self != ColumnType::Utf8
    }
}

/// Tokens read as null in typed (non-text) columns, besides the empty field.
pub const NULL_TOKENS: &[&[u8]] = &[
    b"NULL", b"null", b"Null", b"NA", b"N/A", b"n/a", b"None", b"none", b"-",
];

/// Whether `b` is a null in a typed column.
#[inline]
pub fn is_null_token(b: &[u8]) -> bool {
    match b.first() {
        None => true,
        // Every token starts with one of these; most values are rejected on the first byte.
        Some(b'N' | b'n' | b'-') => NULL_TOKENS.contains(&b),
        Some(_) => false,
    }
}

const BOOL: u8 = 1;
const INT: u8 = 2;
const FLOAT: u8 = 4;
const DATE: u8 = 8;
const TS: u8 = 16;
const TS_UTC: u8 = 32;
const ALL: u8 = BOOL | INT | FLOAT | DATE | TS | TS_UTC;

/// Accumulates evidence for one column.
#[derive(Debug, Clone)]
pub struct ColumnInference {
    candidates: u8,
    non_null: u64,
    max_fraction_digits: u8,
}

impl Default for ColumnInference {
    fn default() -> Self {
        ColumnInference {
            candidates: ALL,
            non_null: 0,
            max_fraction_digits: 0,
        }
    }
}

impl ColumnInference {
    /// Narrows the candidates with one field value.
    pub fn observe(&mut self, b: &[u8]) {
        if is_null_token(b) || self.candidates == 0 {
            if !b.is_empty() && self.candidates == 0 {
                self.non_null += 1;
            }
            return;
        }
        self.non_null += 1;
        let mut fits = 0;
        let first = b.first().copied().unwrap_or(0);
        if self.candidates & BOOL != 0 && values::parse_bool(b).is_some() {
            fits |= BOOL;
        }
        if self.candidates & (INT | FLOAT) != 0 {
            if values::parse_i64(b).is_some() {
                fits |= INT | FLOAT;
            } else if values::parse_f64(b).is_some() {
                fits |= FLOAT;
            }
        }
        if self.candidates & (DATE | TS | TS_UTC) != 0 && first.is_ascii_digit() && b.len() >= 10 {
            if values::parse_date(b).is_some() {
                fits |= DATE | TS;
            } else if let Some(t) = values::parse_timestamp(b) {
                fits |= if t.has_offset { TS_UTC } else { TS };
                self.max_fraction_digits = self.max_fraction_digits.max(t.fraction_digits);
            }
        }
        self.candidates &= fits;
    }

    /// The chosen type.
    pub fn resolve(&self) -> ColumnType {
        let c = self.candidates;
        if self.non_null == 0 {
            return ColumnType::Utf8;
        }
        let unit = if self.max_fraction_digits > 6 {
            TimeUnit::Nanosecond
        } else {
            TimeUnit::Microsecond
        };
        if c & BOOL != 0 {
            ColumnType::Bool
        } else if c & INT != 0 {
            ColumnType::Int64
        } else if c & FLOAT != 0 {
            ColumnType::Float64
        } else if c & DATE != 0 {
            ColumnType::Date
        } else if c & TS != 0 {
            ColumnType::Timestamp(unit)
        } else if c & TS_UTC != 0 {
            ColumnType::TimestampUtc(unit)
        } else {
            ColumnType::Utf8
        }
    }
}

/// Makes column names usable: blanks become `column_N` (1-based), duplicates get `_2`, `_3`...
pub fn unique_names(raw: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, name) in raw.into_iter().enumerate() {
        let trimmed = name.trim();
        let base = if trimmed.is_empty() {
            format!("column_{}", i + 1)
        } else {
            trimmed.to_string()
        };
        let mut candidate = base.clone();
        let mut n = 2;
        while out.contains(&candidate) {
            candidate = format!("{base}_{n}");
            n += 1;
        }
        out.push(candidate);
    }
    out
}

/// An Arrow schema of nullable columns.
pub fn arrow_schema(names: &[String], types: &[ColumnType]) -> Arc<Schema> {
    Arc::new(Schema::new(
        names
            .iter()
            .zip(types)
            .map(|(n, t)| Field::new(n, t.data_type(), true))
            .collect::<Vec<_>>(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infer(vals: &[&str]) -> ColumnType {
        let mut c = ColumnInference::default();
        for v in vals {
            c.observe(v.as_bytes());
        }
        c.resolve()
    }

    #[test]
    fn lattice() {
        use ColumnType::*;
        let us = TimeUnit::Microsecond;
        for (vals, want) in [
            (&["1", "2", ""][..], Int64),
            (&["1", "2.5"], Float64),
            (&["1", "NA", "3"], Int64),
            (&["true", "False", ""], Bool),
            (&["1", "true"], Utf8),
            (&["2024-01-01", "2024-12-31"], Date),
            (&["2024-01-01", "2024-01-01T10:00:00"], Timestamp(us)),
            (&["2024-01-01T10:00:00Z"], TimestampUtc(us)),
            (&["2024-01-01T10:00:00Z", "2024-01-01T10:00:00"], Utf8),
            (
                &["2024-01-01T10:00:00.123456789"],
                Timestamp(TimeUnit::Nanosecond),
            ),
            (&["", ""], Utf8),
            (&["NA", "x"], Utf8),
            (&["1e400"], Float64),
            (&["abc", "1"], Utf8),
        ] {
            assert_eq!(infer(vals), want, "{vals:?}");
        }
    }

    #[test]
    fn names_are_made_unique() {
        let got = unique_names(["a", "", "a", " b ", "a"].map(String::from));
        assert_eq!(got, ["a", "column_2", "a_2", "b", "a_3"]);
    }
}
