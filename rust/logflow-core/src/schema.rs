//! Column type inference over a sample of text fields.
//!
//! Every value narrows a set of candidate types; the most specific candidate left at the end
//! wins. Empty fields (and, for typed columns, the common null tokens) are nulls and do not
//! narrow anything.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, TimeUnit};

use crate::decode::values::{self, DateFormat, TimeShape};

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
    /// Times of day (`10:30`, `10:30:15.25`, `1:15 PM`), in microseconds.
    Time,
    /// Decimals kept exact: precision (1-38 digits) and scale (digits after the point).
    /// Inferred for plain numbers that a float64 would change (more than 15 significant
    /// digits, such as 20-digit ids or long amounts).
    Decimal(u8, u8),
    /// Anything else: UTF-8 text.
    Utf8,
    /// A column with no values at all, only nulls (Arrow's null type). Inferred only when
    /// the sample is the whole input: a column empty at the start of a longer file may
    /// still hold values further on, so it stays text.
    Null,
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
            ColumnType::Time => DataType::Time64(TimeUnit::Microsecond),
            ColumnType::Decimal(p, s) => DataType::Decimal128(p, i8::try_from(s).unwrap_or(0)),
            ColumnType::Utf8 => DataType::Utf8,
            ColumnType::Null => DataType::Null,
        }
    }

    /// The column type for an Arrow type, when logflow can decode text into it.
    pub fn from_data_type(dt: &DataType) -> Option<Self> {
        Some(match dt {
            DataType::Boolean => ColumnType::Bool,
            DataType::Int64 => ColumnType::Int64,
            DataType::Float64 => ColumnType::Float64,
            DataType::Decimal128(p, s)
                if (1..=38).contains(p) && (0..=i8::try_from(*p).unwrap_or(38)).contains(s) =>
            {
                ColumnType::Decimal(*p, s.unsigned_abs())
            }
            DataType::Date32 => ColumnType::Date,
            DataType::Timestamp(u @ (TimeUnit::Microsecond | TimeUnit::Nanosecond), None) => {
                ColumnType::Timestamp(*u)
            }
            DataType::Timestamp(u @ (TimeUnit::Microsecond | TimeUnit::Nanosecond), Some(tz))
                if tz.as_ref() == "UTC" =>
            {
                ColumnType::TimestampUtc(*u)
            }
            DataType::Time64(TimeUnit::Microsecond) => ColumnType::Time,
            DataType::Utf8 => ColumnType::Utf8,
            DataType::Null => ColumnType::Null,
            _ => return None,
        })
    }

    /// Parses a type name as users write it: `int64`/`int`/`integer`, `float64`/`double`/
    /// `float`, `bool`/`boolean`, `date`/`date32`, `timestamp`/`timestamp[us]`,
    /// `timestamp[ns]`, `timestamp[us, tz=UTC]`, `string`/`utf8`/`str`/`text`, `null`.
    pub fn parse(name: &str) -> Option<Self> {
        let n: String = name
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        Some(match n.as_str() {
            "bool" | "boolean" => ColumnType::Bool,
            "int" | "int64" | "integer" | "long" | "bigint" => ColumnType::Int64,
            "float" | "float64" | "double" => ColumnType::Float64,
            "date" | "date32" | "date32[day]" => ColumnType::Date,
            "timestamp" | "timestamp[us]" | "datetime" => {
                ColumnType::Timestamp(TimeUnit::Microsecond)
            }
            "timestamp[ns]" => ColumnType::Timestamp(TimeUnit::Nanosecond),
            "timestamp[us,tz=utc]" | "timestamptz" => {
                ColumnType::TimestampUtc(TimeUnit::Microsecond)
            }
            "timestamp[ns,tz=utc]" => ColumnType::TimestampUtc(TimeUnit::Nanosecond),
            "time" | "time64[us]" => ColumnType::Time,
            "string" | "utf8" | "str" | "text" | "large_string" => ColumnType::Utf8,
            "null" | "na" => ColumnType::Null,
            other => {
                // `decimal128(20, 2)` (as pyarrow writes it) or `decimal(20,2)`.
                let args = other
                    .strip_prefix("decimal128(")
                    .or_else(|| other.strip_prefix("decimal("))?
                    .strip_suffix(')')?;
                let (p, s) = args.split_once(',')?;
                let (p, s) = (p.parse::<u8>().ok()?, s.parse::<u8>().ok()?);
                if !(1..=38).contains(&p) || s > p {
                    return None;
                }
                ColumnType::Decimal(p, s)
            }
        })
    }

    /// Whether a non-string column treats `NULL`, `NA`, ... as null.
    pub fn is_typed(self) -> bool {
        self != ColumnType::Utf8
    }
}

/// Words that may mean null in a typed (non-text) column, besides the empty field.
pub const NULL_TOKENS: &[&[u8]] = &[
    b"NULL", b"null", b"Null", b"NA", b"N/A", b"n/a", b"None", b"none", b"-",
];

/// A set of [`NULL_TOKENS`] (bit `i` stands for `NULL_TOKENS[i]`). Inference picks, per
/// column, the tokens the data really uses as nulls; an empty field is always null.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NullTokens(u16);

impl NullTokens {
    /// Every token.
    pub const ALL: NullTokens = NullTokens((1 << NULL_TOKENS.len()) - 1);
    /// Only the empty field.
    pub const EMPTY_ONLY: NullTokens = NullTokens(0);

    /// Whether `b` is null under this set.
    #[inline]
    pub fn is_null(self, b: &[u8]) -> bool {
        match b.first() {
            None => true,
            // Every token starts with one of these; most values are rejected on the first byte.
            Some(b'N' | b'n' | b'-') if self.0 != 0 => {
                token_index(b).is_some_and(|i| self.0 & (1 << i) != 0)
            }
            Some(_) => false,
        }
    }

    /// The tokens in the set.
    pub fn tokens(self) -> impl Iterator<Item = &'static [u8]> {
        NULL_TOKENS
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, t)| *t)
    }
}

fn token_index(b: &[u8]) -> Option<usize> {
    // Every token starts with one of these bytes and is at most 4 long.
    if !matches!(b.first(), Some(b'N' | b'n' | b'-')) || b.len() > 4 {
        return None;
    }
    NULL_TOKENS.iter().position(|t| *t == b)
}

/// Whether `b` is null when every token counts (used where no inference ran).
#[inline]
pub fn is_null_token(b: &[u8]) -> bool {
    NullTokens::ALL.is_null(b)
}

const BOOL: u8 = 1;
const INT: u8 = 2;
const FLOAT: u8 = 4;
const DATE: u8 = 8;
const TS: u8 = 16;
const TS_UTC: u8 = 32;
const TIME: u8 = 64;

/// Accumulates evidence for one column: for each candidate type, how many values did not
/// fit it.
#[derive(Debug, Clone, Default)]
pub struct ColumnInference {
    misfits: [u64; 7],
    non_null: u64,
    seen: u64,
    tokens: [u64; NULL_TOKENS.len()],
    max_fraction_digits: u8,
    /// Values that are not a date / a date or timestamp in each of [`DateFormat::OTHERS`].
    other_date_misfits: [u64; DateFormat::OTHERS.len()],
    other_ts_misfits: [u64; DateFormat::OTHERS.len()],
    /// Smallest and largest integer seen.
    int_range: Option<(i64, i64)>,
    /// Over the numbers seen: most digits before and after the point, most significant
    /// digits, and whether every one was a plain decimal (no exponent, `nan`, `inf`).
    int_digits: u8,
    frac_digits: u8,
    significant: u8,
    not_plain: bool,
    /// Some number changes when read as a float64 (see [`float_keeps`]).
    float_changes: bool,
    /// Some plain decimal has more than 38 digits: no decimal128 holds it.
    too_long: bool,
    /// A candidate with more misfits than this cannot win (see
    /// [`ColumnInference::with_misfit_limit`]), so its parser is no longer run.
    limit: Option<u64>,
    /// Whether numbers with a decimal comma are a candidate (see
    /// [`ColumnInference::with_decimal_comma`]); values that are not such a number, and
    /// whether one had a comma.
    decimal_comma: bool,
    comma_misfits: u64,
    saw_comma: bool,
    /// How the timestamps and the times of day seen are written (for reporting formats).
    ts_shape: Option<TimeShape>,
    time_shape: Option<TimeShape>,
}

const KINDS: [u8; 7] = [BOOL, INT, FLOAT, DATE, TS, TS_UTC, TIME];

impl ColumnInference {
    /// An inference that stops trying a type once more than `limit` values did not fit it.
    /// With `limit` at least the allowance the column will be resolved with (the tolerance
    /// times the values to be observed), the result is the same, only reached sooner.
    pub fn with_misfit_limit(limit: u64) -> Self {
        ColumnInference {
            limit: Some(limit),
            ..Self::default()
        }
    }

    /// Also considers float64 numbers written with a decimal comma (`1.234,56`): for files
    /// whose delimiter is not a comma. Chosen only when the usual types do not fit and some
    /// value has a comma.
    #[must_use]
    pub fn with_decimal_comma(mut self, on: bool) -> Self {
        self.decimal_comma = on;
        self
    }

    fn alive(&self, misfits: u64) -> bool {
        self.limit.is_none_or(|l| misfits <= l)
    }

    fn kind_alive(&self, i: usize) -> bool {
        self.misfits.get(i).is_some_and(|&m| self.alive(m))
    }

    /// Counts one field value.
    pub fn observe(&mut self, b: &[u8]) {
        self.seen += 1;
        // Typed readings ignore padding; a field of spaces only is blank.
        let b = values::trim_padding(b);
        if b.is_empty() {
            return;
        }
        if let Some(i) = token_index(b) {
            if let Some(n) = self.tokens.get_mut(i) {
                *n += 1;
            }
            return;
        }
        self.non_null += 1;
        let mut fits = 0;
        if self.kind_alive(0) && values::parse_bool(b).is_some() {
            fits |= BOOL;
        }
        let int_alive = self.kind_alive(1);
        if int_alive || self.kind_alive(2) {
            if let Some(v) = values::parse_i64(b) {
                fits |= INT | FLOAT;
                self.int_range = Some(match self.int_range {
                    Some((lo, hi)) => (lo.min(v), hi.max(v)),
                    None => (v, v),
                });
                // Its digits, should the column turn out decimal: at most 19, all significant.
                let digits = u8::try_from(v.unsigned_abs().checked_ilog10().map_or(1, |l| l + 1))
                    .unwrap_or(u8::MAX);
                self.int_digits = self.int_digits.max(digits);
                self.significant = self.significant.max(digits);
            } else if values::parse_f64(b).is_some() {
                fits |= FLOAT;
                self.observe_decimal(b);
            }
        }
        let dates_alive = (3..=5).any(|i| self.kind_alive(i));
        if dates_alive && b.first().is_some_and(u8::is_ascii_digit) && b.len() >= 10 {
            if values::parse_date(b).is_some() {
                fits |= DATE | TS;
            } else if let Some(t) = values::parse_timestamp(b) {
                fits |= if t.has_offset { TS_UTC } else { TS };
                self.max_fraction_digits = self.max_fraction_digits.max(t.fraction_digits);
                note_shape(&mut self.ts_shape, TimeShape::of_timestamp(b));
            }
        }
        if self.decimal_comma && self.alive(self.comma_misfits) {
            if values::parse_f64_comma(b).is_some() {
                self.saw_comma |= b.contains(&b',');
            } else {
                self.comma_misfits += 1;
            }
        }
        if self.kind_alive(6)
            && b.len() <= 24
            && b.get(1..3).is_some_and(|s| s.contains(&b':'))
            && values::parse_time(b).is_some()
        {
            fits |= TIME;
            note_shape(&mut self.time_shape, TimeShape::of_time(b));
        }
        for (m, kind) in self.misfits.iter_mut().zip(KINDS) {
            *m += u64::from(fits & kind == 0);
        }
        // Dates and timestamps written another way (`31/12/2024`, `12/31/2024 3:45 PM`).
        let other = fits & (DATE | TS | TS_UTC) == 0
            && b.len() >= 6
            && b.first().is_some_and(u8::is_ascii_digit);
        let mut other_ts = false;
        for (k, f) in DateFormat::OTHERS.iter().enumerate() {
            let alive =
                |m: &[u64; DateFormat::OTHERS.len()]| m.get(k).is_some_and(|&m| self.alive(m));
            let other = other && (alive(&self.other_date_misfits) || alive(&self.other_ts_misfits));
            let (date, ts) = if !other {
                (false, false)
            } else if f.parse_date(b).is_some() {
                (true, true)
            } else {
                match f.parse_timestamp(b) {
                    Some(t) if !t.has_offset => {
                        self.max_fraction_digits = self.max_fraction_digits.max(t.fraction_digits);
                        if !other_ts {
                            other_ts = true;
                            note_shape(&mut self.ts_shape, TimeShape::of_timestamp(b));
                        }
                        (false, true)
                    }
                    _ => (false, false),
                }
            };
            if let Some(m) = self.other_date_misfits.get_mut(k) {
                *m += u64::from(!date);
            }
            if let Some(m) = self.other_ts_misfits.get_mut(k) {
                *m += u64::from(!ts);
            }
        }
    }

    /// Notes the shape of a number that is not an int64 (for [`ColumnType::Decimal`]).
    fn observe_decimal(&mut self, b: &[u8]) {
        match values::decimal_shape(b) {
            Some((int, frac)) => {
                self.int_digits = self.int_digits.max(int);
                self.frac_digits = self.frac_digits.max(frac);
                // Significant digits: leading zeros of a number below 1 do not count.
                let digits = b.iter().filter(|c| c.is_ascii_digit());
                let significant = digits.skip_while(|&&c| c == b'0').count();
                self.significant = self
                    .significant
                    .max(u8::try_from(significant).unwrap_or(u8::MAX));
                // Up to 15 digits always survive a float64; 16 or 17 (as written from
                // floats) may or may not.
                if significant >= 16 && !float_keeps(b) {
                    self.float_changes = true;
                }
            }
            None => {
                let body = b
                    .strip_prefix(b"-")
                    .or_else(|| b.strip_prefix(b"+"))
                    .unwrap_or(b);
                let plain = !body.is_empty()
                    && body.iter().all(|c| c.is_ascii_digit() || *c == b'.')
                    && body.iter().filter(|&&c| c == b'.').count() <= 1;
                if plain {
                    // Longer than a decimal128 holds: text, unless a float64 reads it back
                    // as written (`1e300` written in full).
                    if float_keeps(b) {
                        self.not_plain = true;
                    } else {
                        self.too_long = true;
                    }
                } else {
                    self.not_plain = true;
                }
            }
        }
    }

    /// For a column of numbers, a decimal type when a float64 would not keep them: some
    /// value has more than 17 significant digits or does not survive a float64, every number
    /// is a plain decimal, and all fit 38 digits. Numbers written from float64s (at most 17
    /// digits, each reading back as itself) stay float64.
    fn exact_decimal(&self) -> Option<ColumnType> {
        let precision = u16::from(self.int_digits) + u16::from(self.frac_digits);
        if self.not_plain
            || self.too_long
            || !(self.significant > 17 || self.float_changes)
            || precision > 38
        {
            return None;
        }
        Some(ColumnType::Decimal(
            u8::try_from(precision.max(1)).ok()?,
            self.frac_digits,
        ))
    }

    /// Whether some plain decimal seen would change through a float64 (it does not read
    /// back the same, or it is longer than any decimal128).
    fn float_rounds(&self) -> bool {
        !self.not_plain && (self.float_changes || self.too_long)
    }

    /// Adds what `other` saw (another part of the same column) to this inference.
    pub fn merge(&mut self, other: &ColumnInference) {
        for (a, b) in self.misfits.iter_mut().zip(other.misfits) {
            *a += b;
        }
        self.non_null += other.non_null;
        self.seen += other.seen;
        for (a, b) in self.tokens.iter_mut().zip(other.tokens) {
            *a += b;
        }
        self.max_fraction_digits = self.max_fraction_digits.max(other.max_fraction_digits);
        for (a, b) in self
            .other_date_misfits
            .iter_mut()
            .zip(other.other_date_misfits)
        {
            *a += b;
        }
        for (a, b) in self.other_ts_misfits.iter_mut().zip(other.other_ts_misfits) {
            *a += b;
        }
        self.int_range = match (self.int_range, other.int_range) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (x, y) => x.or(y),
        };
        self.int_digits = self.int_digits.max(other.int_digits);
        self.frac_digits = self.frac_digits.max(other.frac_digits);
        self.significant = self.significant.max(other.significant);
        self.not_plain |= other.not_plain;
        self.float_changes |= other.float_changes;
        self.too_long |= other.too_long;
        self.comma_misfits += other.comma_misfits;
        self.saw_comma |= other.saw_comma;
        note_shape(&mut self.ts_shape, other.ts_shape);
        note_shape(&mut self.time_shape, other.time_shape);
    }

    /// Values seen that are not null (nor a null word).
    pub fn non_null(&self) -> u64 {
        self.non_null
    }

    /// The most specific type that every value fits.
    pub fn resolve(&self) -> ColumnType {
        self.resolve_tolerant(0.0)
    }

    /// The most specific type that all but a `tolerance` fraction of the values fit. With a
    /// tolerance, a few bad values in a numeric column leave it numeric (they are then
    /// rejected by the error policy) instead of turning it into text.
    pub fn resolve_tolerant(&self, tolerance: f64) -> ColumnType {
        self.resolve_with_nulls(tolerance).0
    }

    /// The null tokens this column uses: those seen often enough (at least twice, and in at
    /// least 0.1% of the values) to be a convention rather than a stray bad value.
    pub fn null_tokens(&self) -> NullTokens {
        let floor = (self.seen / 1000).max(2);
        let mut bits = 0u16;
        for (i, &n) in self.tokens.iter().enumerate() {
            if n >= floor {
                bits |= 1 << i;
            }
        }
        NullTokens(bits)
    }

    /// Null words seen too rarely to be this column's convention: values that fit no typed
    /// candidate.
    fn stray_tokens(&self, nulls: NullTokens) -> u64 {
        self.tokens
            .iter()
            .enumerate()
            .filter(|(i, _)| nulls.0 & (1 << i) == 0)
            .map(|(_, &n)| n)
            .sum()
    }

    /// Whether values were seen and every one of them is null: empty, or one of the null
    /// words the column uses.
    pub fn only_nulls(&self) -> bool {
        self.seen > 0 && self.non_null + self.stray_tokens(self.null_tokens()) == 0
    }

    /// The type (as [`ColumnInference::resolve_tolerant`]) and the null tokens to read it with.
    pub fn resolve_with_nulls(&self, tolerance: f64) -> (ColumnType, NullTokens) {
        let (ty, nulls, _) = self.resolve_full(tolerance);
        (ty, nulls)
    }

    /// The type, the null tokens and, for date and timestamp columns, how their dates are
    /// written. A date format is chosen only when exactly one fits: dates that read both as
    /// day-first and month-first (every day up to 12) stay text rather than be guessed.
    pub fn resolve_full(&self, tolerance: f64) -> (ColumnType, NullTokens, DateFormat) {
        let nulls = self.null_tokens();
        let stray = self.stray_tokens(nulls);
        let non_null = self.non_null + stray;
        if non_null == 0 {
            return (ColumnType::Utf8, NullTokens::EMPTY_ONLY, DateFormat::ISO);
        }
        // Truncation is intended: the allowance is a whole number of values.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let allowed = (non_null as f64 * tolerance).floor() as u64;
        let unit = if self.max_fraction_digits > 6 {
            TimeUnit::Nanosecond
        } else {
            TimeUnit::Microsecond
        };
        let fits = |i: usize| self.misfits.get(i).is_some_and(|&m| m + stray <= allowed);
        let only = |misfits: &[u64]| {
            let mut fitting = DateFormat::OTHERS
                .iter()
                .zip(misfits)
                .filter(|(_, &m)| m + stray <= allowed)
                .map(|(f, _)| *f);
            match (fitting.next(), fitting.next()) {
                (Some(f), None) => Some(f),
                _ => None,
            }
        };
        let iso = DateFormat::ISO;
        let (ty, format) = if fits(0) {
            (ColumnType::Bool, iso)
        } else if fits(1) {
            (ColumnType::Int64, iso)
        } else if fits(2) {
            // Numbers a float64 would change and a decimal128 cannot hold (over 38 digits)
            // stay text: never silently rounded.
            let ty = match self.exact_decimal() {
                Some(d) => d,
                None if self.float_rounds() => ColumnType::Utf8,
                None => ColumnType::Float64,
            };
            (ty, iso)
        } else if fits(3) {
            (ColumnType::Date, iso)
        } else if fits(4) {
            (ColumnType::Timestamp(unit), iso)
        } else if fits(5) {
            (ColumnType::TimestampUtc(unit), iso)
        } else if fits(6) {
            (ColumnType::Time, iso)
        } else if let Some(f) = only(&self.other_date_misfits) {
            (ColumnType::Date, f)
        } else if let Some(f) = only(&self.other_ts_misfits) {
            (ColumnType::Timestamp(unit), f)
        } else if self.decimal_comma && self.saw_comma && self.comma_misfits + stray <= allowed {
            (ColumnType::Float64, DateFormat::DECIMAL_COMMA)
        } else {
            (ColumnType::Utf8, iso)
        };
        let nulls = if ty == ColumnType::Utf8 {
            NullTokens::EMPTY_ONLY
        } else {
            nulls
        };
        (ty, nulls, format)
    }
}

/// How a column of type `ty` is written, in `strftime` notation: for a date column its
/// date format, for a timestamp column date and time (`%d/%m/%Y %H:%M`), for a time column
/// its time; `None` for other types.
pub fn written_format(
    ty: ColumnType,
    format: DateFormat,
    time: Option<TimeShape>,
) -> Option<String> {
    match ty {
        ColumnType::Date => Some(format.strftime(None)),
        ColumnType::Timestamp(_) | ColumnType::TimestampUtc(_) => {
            Some(format.strftime(Some(time.unwrap_or_default())))
        }
        ColumnType::Time => Some(time.unwrap_or_default().strftime()),
        _ => None,
    }
}

/// Adds the shape of one value to a column's.
fn note_shape(seen: &mut Option<TimeShape>, shape: Option<TimeShape>) {
    if let Some(shape) = shape {
        *seen = Some(seen.map_or(shape, |s| s.merge(shape)));
    }
}

/// Whether the plain decimal `b` reads back with the same digits after a trip through a
/// float64 (its shortest representation).
fn float_keeps(b: &[u8]) -> bool {
    let Some(f) = values::parse_f64(b) else {
        return false;
    };
    // Digits without sign, point, or leading and trailing zeros: `0.0250` -> `25`.
    fn digits(text: &[u8]) -> Vec<u8> {
        let d: Vec<u8> = text.iter().copied().filter(u8::is_ascii_digit).collect();
        let start = d.iter().position(|&c| c != b'0').unwrap_or(d.len());
        let end = d.iter().rposition(|&c| c != b'0').map_or(start, |i| i + 1);
        d.get(start..end).unwrap_or_default().to_vec()
    }
    digits(b) == digits(format!("{f}").as_bytes())
}

/// Epoch seconds between 2000-01-01 and 2100-01-01 UTC.
const EPOCH_SECONDS: std::ops::RangeInclusive<i64> = 946_684_800..=4_102_444_800;

impl ColumnInference {
    /// How the column's values of type `ty` write their time of day, for a timestamp or
    /// time column in which one was seen.
    pub fn time_shape(&self, ty: ColumnType) -> Option<TimeShape> {
        match ty {
            ColumnType::Timestamp(_) | ColumnType::TimestampUtc(_) => self.ts_shape,
            ColumnType::Time => self.time_shape,
            _ => None,
        }
    }

    /// For an integer column whose name says it holds times (`ts`, `timestamp`,
    /// `created_at`, `eventTime`, ...), the epoch unit its values fit: seconds or
    /// milliseconds between 2000 and 2100. Other integer columns, ids and counts included,
    /// stay integers.
    pub fn epoch_format(&self, name: &str) -> Option<DateFormat> {
        let (lo, hi) = self.int_range?;
        if !names_a_time(name) {
            return None;
        }
        let within = |k: i64| {
            EPOCH_SECONDS.contains(&lo.div_euclid(k)) && EPOCH_SECONDS.contains(&hi.div_euclid(k))
        };
        if lo >= 1_000_000_000_000 && within(1000) {
            Some(DateFormat::EPOCH_MILLIS)
        } else if hi < 1_000_000_000_000 && within(1) {
            Some(DateFormat::EPOCH_SECONDS)
        } else {
            None
        }
    }
}

/// Whether a column name says it holds points in time: a word `time`, `timestamp`, `ts`,
/// `epoch`, `datetime` or `date`, or an `_at` / `At` suffix (`created_at`, `updatedAt`).
fn names_a_time(name: &str) -> bool {
    if name.ends_with("_at") || name.ends_with("At") {
        return true;
    }
    // Words split at non-alphanumerics and at lower-to-upper case changes.
    let mut words = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for ch in name.chars() {
        let boundary = !ch.is_alphanumeric() || (ch.is_uppercase() && prev_lower);
        if boundary && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if ch.is_alphanumeric() {
            word.extend(ch.to_lowercase());
        }
        prev_lower = ch.is_lowercase();
    }
    words.push(word);
    words.iter().any(|w| {
        matches!(
            w.as_str(),
            "time" | "timestamp" | "ts" | "epoch" | "datetime" | "date" | "unixtime"
        )
    })
}

/// Column names for a message: `"a", "b", "c"`.
pub fn quoted_names<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(|n| format!("{:?}", n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Makes column names usable: blanks become `column_N` (1-based), duplicates get `_2`, `_3`...,
/// and a NUL byte (which Arrow's C interface cannot carry in a name) becomes U+FFFD.
pub fn unique_names(raw: impl IntoIterator<Item = String>) -> Vec<String> {
    distinct_names(raw.into_iter().enumerate().map(|(i, name)| {
        let trimmed = name.trim();
        if trimmed.is_empty() {
            format!("column_{}", i + 1)
        } else {
            trimmed.replace('\0', "\u{FFFD}")
        }
    }))
}

/// `names` with each repeat of an earlier name suffixed `_2`, `_3`... (to a name not taken).
pub fn distinct_names(names: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut taken = std::collections::HashSet::new();
    for base in names {
        let mut candidate = base.clone();
        let mut n = 2;
        while taken.contains(&candidate) {
            candidate = format!("{base}_{n}");
            n += 1;
        }
        taken.insert(candidate.clone());
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
            (&["1", "NA", "3", "NA"], Int64),
            (&["1", "NA", "3"], Utf8),
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
            (&["10:30", "9:05:01", "23:59:59.5", ""], Time),
            (&["10:30", "1:15 PM"], Time),
            (&["10:30", "2024-01-01"], Utf8),
        ] {
            assert_eq!(infer(vals), want, "{vals:?}");
        }
    }

    #[test]
    fn other_date_formats_when_unambiguous() {
        use crate::decode::values::DateOrder;
        let resolve = |vals: &[&str]| {
            let mut c = ColumnInference::default();
            for v in vals {
                c.observe(v.as_bytes());
            }
            let (ty, _, f) = c.resolve_full(0.0);
            (
                ty,
                written_format(ty, f, c.time_shape(ty)).unwrap_or_default(),
            )
        };
        let us = TimeUnit::Microsecond;
        assert_eq!(
            resolve(&["31/12/2024", "1/2/2024", ""]),
            (ColumnType::Date, "%d/%m/%Y".into())
        );
        assert_eq!(
            resolve(&["12/31/2024", "1/2/2024"]),
            (ColumnType::Date, "%m/%d/%Y".into())
        );
        assert_eq!(
            resolve(&["24.12.2024", "01.02.2024"]),
            (ColumnType::Date, "%d.%m.%Y".into())
        );
        assert_eq!(
            resolve(&["2024/12/24", "2024/1/2"]),
            (ColumnType::Date, "%Y/%m/%d".into())
        );
        assert_eq!(
            resolve(&["12/31/2024 3:45 PM", "1/2/2024 10:00:00 AM", "1/3/2024"]),
            (ColumnType::Timestamp(us), "%m/%d/%Y %I:%M:%S %p".into())
        );
        assert_eq!(
            resolve(&["31/12/2024 13:45", "1/2/2024 9:05"]),
            (ColumnType::Timestamp(us), "%d/%m/%Y %H:%M".into())
        );
        assert_eq!(
            resolve(&["2024-12-31T13:45:00.5Z", "2024-01-02T09:05:00+01:00"]),
            (
                ColumnType::TimestampUtc(us),
                "%Y-%m-%dT%H:%M:%S.%f%z".into()
            )
        );
        assert_eq!(
            resolve(&["13:45", "9:05"]),
            (ColumnType::Time, "%H:%M".into())
        );
        // Day-first or month-first cannot be told apart: text, not a guess.
        assert_eq!(resolve(&["01/02/2024", "03/04/2024"]).0, ColumnType::Utf8);
        // Mixed with ISO: text.
        assert_eq!(resolve(&["31/12/2024", "2024-12-31"]).0, ColumnType::Utf8);
        let mut c = ColumnInference::default();
        c.observe(b"31.12.2024");
        assert_eq!(
            c.resolve_full(0.0).2,
            DateFormat {
                order: DateOrder::Dmy,
                sep: b'.'
            }
        );
    }

    #[test]
    fn epoch_columns_need_a_time_name_and_plausible_values() {
        let col = |vals: &[&str]| {
            let mut c = ColumnInference::default();
            for v in vals {
                c.observe(v.as_bytes());
            }
            c
        };
        let secs = col(&["1717236000", "1717239600", ""]);
        let millis = col(&["1717236000000", "1717236000500"]);
        assert_eq!(secs.epoch_format("ts"), Some(DateFormat::EPOCH_SECONDS));
        assert_eq!(
            secs.epoch_format("created_at"),
            Some(DateFormat::EPOCH_SECONDS)
        );
        assert_eq!(
            secs.epoch_format("eventTime"),
            Some(DateFormat::EPOCH_SECONDS)
        );
        assert_eq!(
            millis.epoch_format("timestamp_ms"),
            Some(DateFormat::EPOCH_MILLIS)
        );
        // Not a time name, or not plausible seconds/milliseconds: stays an integer.
        assert_eq!(secs.epoch_format("id"), None);
        assert_eq!(secs.epoch_format("counts"), None);
        assert_eq!(col(&["1", "2"]).epoch_format("ts"), None);
        assert_eq!(
            col(&["1717236000", "17172360000000"]).epoch_format("ts"),
            None
        );
        assert_eq!(col(&["abc"]).epoch_format("ts"), None);
    }

    #[test]
    fn tolerance_keeps_a_numeric_column_numeric() {
        let mut c = ColumnInference::default();
        for i in 0..1000 {
            c.observe(i.to_string().as_bytes());
        }
        c.observe(b"oops");
        assert_eq!(c.resolve(), ColumnType::Utf8);
        assert_eq!(c.resolve_tolerant(0.01), ColumnType::Int64);
        c.observe(b"1.5");
        assert_eq!(c.resolve_tolerant(0.01), ColumnType::Int64);
        assert_eq!(c.resolve_tolerant(0.0), ColumnType::Utf8);
    }

    #[test]
    fn rare_null_words_are_bad_values_not_nulls() {
        let mut c = ColumnInference::default();
        for i in 0..5000 {
            c.observe(format!("{i}.5").as_bytes());
        }
        c.observe(b"N/A");
        c.observe(b"");
        assert_eq!(c.null_tokens(), NullTokens::EMPTY_ONLY);
        assert_eq!(c.resolve_with_nulls(0.01).0, ColumnType::Float64);
        for _ in 0..10 {
            c.observe(b"NULL");
        }
        let (ty, nulls) = c.resolve_with_nulls(0.0);
        assert_eq!(
            ty,
            ColumnType::Utf8,
            "the stray N/A still blocks strict inference"
        );
        assert_eq!(nulls, NullTokens::EMPTY_ONLY);
        assert!(c.null_tokens().is_null(b"NULL") && !c.null_tokens().is_null(b"N/A"));
    }

    #[test]
    fn names_are_made_unique() {
        let got = unique_names(["a", "", "a", " b ", "a"].map(String::from));
        assert_eq!(got, ["a", "column_2", "a_2", "b", "a_3"]);
        let got = unique_names(["a\0b", "a_2", "a", "a"].map(String::from));
        assert_eq!(got, ["a\u{FFFD}b", "a_2", "a", "a_3"]);
    }

    proptest::proptest! {
        #[test]
        fn a_misfit_limit_never_changes_the_result(
            picks in proptest::collection::vec(0usize..16, 1..300),
            strict in proptest::bool::ANY,
        ) {
            const VALUES: [&str; 16] = [
                "1", "-42", "3.5", "true", "no", "2024-02-29", "2024-02-29T10:00:00",
                "2024-02-29T10:00:00+02:00", "10:30", "31/12/2024", "12/31/2024 3:45 PM",
                "NA", "", "abc", "1700000000", "-",
            ];
            let tolerance = if strict { 0.0 } else { 0.01 };
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
            let limit = (picks.len() as f64 * tolerance).floor() as u64;
            let mut full = ColumnInference::default();
            let mut limited = ColumnInference::with_misfit_limit(limit);
            for &p in &picks {
                full.observe(VALUES[p].as_bytes());
                limited.observe(VALUES[p].as_bytes());
            }
            let resolved = full.resolve_full(tolerance);
            proptest::prop_assert_eq!(resolved, limited.resolve_full(tolerance));
            // The integer range only matters (for epoch times) in an integer column.
            if resolved.0 == ColumnType::Int64 {
                proptest::prop_assert_eq!(full.epoch_format("ts"), limited.epoch_format("ts"));
            }
        }
    }

    #[test]
    fn decimals_only_where_a_float_would_change_the_value() {
        // Amounts with few digits stay float64 (exact enough to print back the same).
        assert_eq!(infer(&["60.88", "1.5", "-3"]), ColumnType::Float64);
        // Ids beyond int64, and long amounts: exact decimals.
        assert_eq!(
            infer(&["12345678901234567890", "7"]),
            ColumnType::Decimal(20, 0)
        );
        assert_eq!(
            infer(&["1234567890123456.25", "-0.125", "42"]),
            ColumnType::Decimal(19, 3)
        );
        // Floats written in full (17 digits) read back as themselves: still float64.
        assert_eq!(
            infer(&["0.30000000000000004", "0.1", "1.7976931348623157"]),
            ColumnType::Float64
        );
        // 17 digits a float64 would round: exact.
        assert_eq!(
            infer(&["9007199254740993.5", "1"]),
            ColumnType::Decimal(17, 1)
        );
        // An exponent anywhere keeps the column float64.
        assert_eq!(infer(&["1234567890123456.25", "1e5"]), ColumnType::Float64);
        assert_eq!(
            ColumnType::parse("decimal128(20, 2)"),
            Some(ColumnType::Decimal(20, 2))
        );
        assert_eq!(ColumnType::parse("decimal(5,6)"), None);
    }
}
