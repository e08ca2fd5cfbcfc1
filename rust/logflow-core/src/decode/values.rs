//! Fast parsers from field bytes to typed values. No allocation, no panics on any input.
//!
//! Each parser accepts exactly one spelling family and returns `None` for anything else, so
//! inference (`crate::schema`) and decoding agree on what a type accepts.

/// `b` without the spaces and tabs around it: padding (`  12.50`, `1 ,2`), which typed
/// columns ignore as DuckDB and pandas do. Text columns keep their bytes as they are.
#[inline]
pub fn trim_padding(b: &[u8]) -> &[u8] {
    let pad = |c: &u8| *c == b' ' || *c == b'\t';
    match (b.first(), b.last()) {
        (Some(f), Some(l)) if pad(f) || pad(l) => {
            let start = b.iter().position(|c| !pad(c)).unwrap_or(b.len());
            let end = b.iter().rposition(|c| !pad(c)).map_or(start, |e| e + 1);
            b.get(start..end).unwrap_or_default()
        }
        _ => b,
    }
}

/// `true` / `false` in lower, title or upper case.
pub fn parse_bool(b: &[u8]) -> Option<bool> {
    match b {
        b"true" | b"True" | b"TRUE" => Some(true),
        b"false" | b"False" | b"FALSE" => Some(false),
        _ => None,
    }
}

/// A base-10 integer with an optional sign that fits in `i64`.
pub fn parse_i64(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        Some(_) => (false, b),
        None => return None,
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    // Accumulate negatively so i64::MIN parses.
    let mut acc: i64 = 0;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        acc = acc.checked_mul(10)?.checked_sub(i64::from(d))?;
    }
    if neg {
        Some(acc)
    } else {
        acc.checked_neg()
    }
}

/// A decimal or scientific floating-point number, or `nan` / `inf` / `infinity` in any case
/// with an optional sign.
pub fn parse_f64(b: &[u8]) -> Option<f64> {
    // Plain decimals of extreme magnitudes are long (`1e300` printed in full is 301 digits).
    if b.is_empty() || b.len() > 1024 {
        return None;
    }
    if let Some(v) = short_decimal(b) {
        return Some(v);
    }
    // Screen bytes first: std's parser accepts a few spellings we do not want ("infinity" is
    // fine, but e.g. a lone "." or "e5" are rejected by it anyway).
    let first_digit_ok = b
        .iter()
        .all(|&c| matches!(c, b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-'));
    if !first_digit_ok {
        let rest = match b.split_first() {
            Some((b'+' | b'-', r)) => r,
            _ => b,
        };
        if !(rest.eq_ignore_ascii_case(b"nan")
            || rest.eq_ignore_ascii_case(b"inf")
            || rest.eq_ignore_ascii_case(b"infinity"))
        {
            return None;
        }
    }
    std::str::from_utf8(b).ok()?.parse::<f64>().ok()
}

/// Powers of ten that a double holds exactly.
const EXACT_POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The common case of [`parse_f64`] without its general parser: `[+-]digits[.digits]` whose
/// digits, the point left out, make an integer below 2^53 and with at most 22 after the
/// point. Both that integer and the power of ten are exact doubles, and one IEEE division
/// rounds correctly, so the result is the correctly rounded value, as the general parser
/// gives (Clinger's fast path). `None` for anything else (exponents, longer mantissas,
/// `inf`), which the general parser then reads.
#[inline]
fn short_decimal(b: &[u8]) -> Option<f64> {
    const LIMIT: u64 = 1 << 53;
    let (neg, body) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, b),
    };
    let mut mantissa = 0u64;
    let mut digits = 0usize;
    let mut point: Option<usize> = None;
    for (i, &c) in body.iter().enumerate() {
        let d = c.wrapping_sub(b'0');
        if d <= 9 {
            mantissa = mantissa * 10 + u64::from(d);
            if mantissa >= LIMIT {
                return None;
            }
            digits += 1;
        } else if c == b'.' && point.is_none() {
            point = Some(i);
        } else {
            return None;
        }
    }
    if digits == 0 {
        return None;
    }
    let after = point.map_or(0, |p| body.len() - p - 1);
    #[allow(clippy::cast_precision_loss)] // below 2^53: exact
    let v = mantissa as f64 / *EXACT_POW10.get(after)?;
    Some(if neg { -v } else { v })
}

/// A number written with a decimal comma, as in much of Europe: `-1,5`, `1234,56`,
/// `1.234,56` (dots group thousands), `1.234.567`, or a plain integer. `None` for anything
/// else, including `1.234` alone (a thousand or one and a bit: it cannot be told).
pub fn parse_f64_comma(b: &[u8]) -> Option<f64> {
    const MAX: usize = 64;
    if b.is_empty() || b.len() > MAX {
        return None;
    }
    let (negative, body) = match b.split_first() {
        Some((b'-', r)) => (true, r),
        Some((b'+', r)) => (false, r),
        _ => (false, b),
    };
    let (int, frac) = match memchr::memchr(b',', body) {
        Some(i) => (body.get(..i)?, Some(body.get(i + 1..)?)),
        None => (body, None),
    };
    let digits = |p: &[u8]| !p.is_empty() && p.iter().all(u8::is_ascii_digit);
    if frac.is_some_and(|f| !digits(f)) {
        return None;
    }
    let groups = int.split(|&c| c == b'.').count();
    if groups == 1 {
        if !digits(int) {
            return None;
        }
    } else {
        let mut parts = int.split(|&c| c == b'.');
        let lead_ok = parts.next().is_some_and(|g| digits(g) && g.len() <= 3);
        if !lead_ok || !parts.all(|g| g.len() == 3 && digits(g)) {
            return None;
        }
        if frac.is_none() && groups == 2 {
            return None;
        }
    }
    // Rewritten as `-1234.56` and read by the usual parser.
    let mut buf = [0u8; MAX + 1];
    let mut n = 0;
    let mut push = |c: u8| {
        if let Some(slot) = buf.get_mut(n) {
            *slot = c;
            n += 1;
        }
    };
    if negative {
        push(b'-');
    }
    int.iter().filter(|&&c| c != b'.').for_each(|&c| push(c));
    if let Some(f) = frac {
        push(b'.');
        f.iter().for_each(|&c| push(c));
    }
    parse_f64(buf.get(..n)?)
}

/// The shape of a plain decimal number (`-123.4500`): digits before and after the point
/// (leading zeros of the integer part not counted). `None` for anything else (exponents,
/// `nan`, a lone point, more than 38 digits).
pub fn decimal_shape(b: &[u8]) -> Option<(u8, u8)> {
    let body = match b.split_first() {
        Some((b'+' | b'-', r)) => r,
        _ => b,
    };
    let (int, frac) = match memchr::memchr(b'.', body) {
        Some(i) => (body.get(..i)?, body.get(i + 1..)?),
        None => (body, &b""[..]),
    };
    if (int.is_empty() && frac.is_empty()) || !int.iter().chain(frac).all(u8::is_ascii_digit) {
        return None;
    }
    let int_digits = int.iter().skip_while(|&&c| c == b'0').count();
    if int_digits + frac.len() > 38 {
        return None;
    }
    Some((
        u8::try_from(int_digits).ok()?,
        u8::try_from(frac.len()).ok()?,
    ))
}

/// A plain decimal number as an integer scaled by `10^scale`, when it fits `precision`
/// digits and has at most `scale` digits after the point (so nothing is rounded).
pub fn parse_decimal(b: &[u8], precision: u8, scale: u8) -> Option<i128> {
    let (int_digits, frac_digits) = decimal_shape(b)?;
    if frac_digits > scale || u16::from(int_digits) + u16::from(scale) > u16::from(precision) {
        return None;
    }
    let (negative, body) = match b.split_first() {
        Some((b'-', r)) => (true, r),
        Some((b'+', r)) => (false, r),
        _ => (false, b),
    };
    let mut v: i128 = 0;
    for &c in body.iter().filter(|&&c| c != b'.') {
        v = v.checked_mul(10)?.checked_add(i128::from(c - b'0'))?;
    }
    for _ in frac_digits..scale {
        v = v.checked_mul(10)?;
    }
    Some(if negative { -v } else { v })
}

/// Days since 1970-01-01 of a proleptic Gregorian date, or `None` when the date is invalid.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> Option<i64> {
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            if leap {
                29
            } else {
                28
            }
        }
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + u32::from(d);
    }
    Some(v)
}

/// `YYYY-MM-DD` as days since the Unix epoch.
pub fn parse_date(b: &[u8]) -> Option<i32> {
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let year = digits(b.get(0..4)?)?;
    let month = digits(b.get(5..7)?)?;
    let day = digits(b.get(8..10)?)?;
    i32::try_from(days_from_civil(i64::from(year), month, day)?).ok()
}

/// A parsed ISO-8601 timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    /// Seconds since the Unix epoch (in UTC when `has_offset`, else wall-clock time).
    pub seconds: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
    /// Number of fraction digits written in the input (0-9).
    pub fraction_digits: u8,
    /// Whether the input carried `Z` or a numeric UTC offset.
    pub has_offset: bool,
}

impl Timestamp {
    /// The value in microseconds, truncating finer digits; `None` on overflow.
    pub fn micros(&self) -> Option<i64> {
        self.seconds
            .checked_mul(1_000_000)?
            .checked_add(i64::from(self.nanos / 1000))
    }

    /// The value in nanoseconds; `None` outside the range of `i64` nanoseconds.
    pub fn nanos_total(&self) -> Option<i64> {
        self.seconds
            .checked_mul(1_000_000_000)?
            .checked_add(i64::from(self.nanos))
    }
}

/// `YYYY-MM-DD[T| ]HH:MM[:SS[.fffffffff]][Z|±HH[:MM]|±HHMM]`.
pub fn parse_timestamp(b: &[u8]) -> Option<Timestamp> {
    if b.len() < 16 || b.len() > 40 {
        return None;
    }
    let date = parse_date(b.get(0..10)?)?;
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    time_of_day(b, 11, date, true)
}

/// The time after a date ending at `i - 1`: `HH:MM[:SS[.f{1,9}]]`, then an optional ` AM` /
/// ` PM` and `Z` or a numeric offset. `two_digit_hour`: the hour must have two digits (ISO).
#[inline]
fn time_of_day(b: &[u8], mut i: usize, date: i32, two_digit_hour: bool) -> Option<Timestamp> {
    let hour_len = if b.get(i + 1) == Some(&b':') && !two_digit_hour {
        1
    } else {
        2
    };
    let mut hour = digits(b.get(i..i + hour_len)?)?;
    i += hour_len;
    if b.get(i) != Some(&b':') {
        return None;
    }
    let minute = digits(b.get(i + 1..i + 3)?)?;
    i += 3;
    let mut second = 0;
    let mut nanos = 0u32;
    let mut fraction_digits = 0u8;
    if b.get(i) == Some(&b':') {
        second = digits(b.get(i + 1..i + 3)?)?;
        i += 3;
        if matches!(b.get(i), Some(b'.' | b',')) {
            i += 1;
            let start = i;
            while let Some(c) = b.get(i) {
                if !c.is_ascii_digit() {
                    break;
                }
                i += 1;
            }
            let frac = b.get(start..i)?;
            if frac.is_empty() || frac.len() > 9 {
                return None;
            }
            nanos = digits(frac)? * 10u32.pow(9 - u32::try_from(frac.len()).ok()?);
            fraction_digits = u8::try_from(frac.len()).ok()?;
        }
    }
    // A 12-hour clock.
    if let Some(m) = b.get(i..i + 3) {
        let pm = matches!(m, b" PM" | b" pm");
        if pm || matches!(m, b" AM" | b" am") {
            if !(1..=12).contains(&hour) {
                return None;
            }
            hour = hour % 12 + if pm { 12 } else { 0 };
            i += 3;
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut offset_seconds: i64 = 0;
    let mut has_offset = false;
    match b.get(i) {
        None => {}
        Some(b'Z' | b'z') if i + 1 == b.len() => has_offset = true,
        Some(&sign @ (b'+' | b'-')) => {
            let rest = b.get(i + 1..)?;
            let (oh, om) = match rest.len() {
                2 => (digits(rest)?, 0),
                4 => (digits(rest.get(0..2)?)?, digits(rest.get(2..4)?)?),
                5 if rest.get(2) == Some(&b':') => {
                    (digits(rest.get(0..2)?)?, digits(rest.get(3..5)?)?)
                }
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            offset_seconds = i64::from(oh * 3600 + om * 60);
            if sign == b'-' {
                offset_seconds = -offset_seconds;
            }
            has_offset = true;
        }
        Some(_) => return None,
    }
    let seconds =
        i64::from(date) * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset_seconds;
    Some(Timestamp {
        seconds,
        nanos,
        fraction_digits,
        has_offset,
    })
}

/// A time of day, `H[H]:MM[:SS[.f{1,9}]]` with an optional ` AM` / ` PM`, as microseconds
/// since midnight (finer digits are cut).
pub fn parse_time(b: &[u8]) -> Option<i64> {
    if b.len() < 4 || b.len() > 24 || !b.first()?.is_ascii_digit() {
        return None;
    }
    // The clock reading of `time_of_day` on day 0, without a zone.
    let t = time_of_day(b, 0, 0, false)?;
    if t.has_offset || t.seconds >= 86_400 {
        return None;
    }
    t.seconds
        .checked_mul(1_000_000)?
        .checked_add(i64::from(t.nanos / 1000))
}

/// How a time of day is written (`10:30`, `10:30:15.250`, `1:15 PM`, `10:30:15Z`), and in a
/// timestamp what separates it from the date: what a column's format says about its times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeShape {
    /// Between date and time: `T` or a space (unused for a time of day alone).
    pub sep: u8,
    /// Seconds are written.
    pub seconds: bool,
    /// The mark before a fraction of a second (`.` or `,`), when one is written.
    pub fraction: Option<u8>,
    /// A 12-hour clock with `AM` / `PM`.
    pub twelve_hour: bool,
    /// A zone follows: `Z` or a numeric offset.
    pub zone: bool,
}

impl Default for TimeShape {
    /// `YYYY-MM-DD HH:MM:SS`'s time.
    fn default() -> Self {
        TimeShape {
            sep: b' ',
            seconds: true,
            fraction: None,
            twelve_hour: false,
            zone: false,
        }
    }
}

impl TimeShape {
    /// The shape of a time of day alone (`H[H]:MM[:SS[.f]][ AM|PM]`), as [`parse_time`]
    /// reads it; `None` when `b` is not written so.
    pub fn of_time(b: &[u8]) -> Option<TimeShape> {
        let colon = b.iter().position(|&c| c == b':')?;
        let mut shape = TimeShape::default();
        let mut i = colon + 3;
        shape.seconds = b.get(i) == Some(&b':');
        if shape.seconds {
            i += 3;
            if let Some(&mark @ (b'.' | b',')) = b.get(i) {
                shape.fraction = Some(mark);
                i += 1;
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
            }
        }
        if let Some(m) = b.get(i..i + 3) {
            if m.first() == Some(&b' ') && m.get(2).is_some_and(|c| c.eq_ignore_ascii_case(&b'm')) {
                shape.twelve_hour = true;
                i += 3;
            }
        }
        shape.zone = matches!(b.get(i), Some(b'Z' | b'z' | b'+' | b'-'));
        Some(shape)
    }

    /// The shape of the time in a timestamp: what follows the first `T` or space.
    pub fn of_timestamp(b: &[u8]) -> Option<TimeShape> {
        let sep = b.iter().position(|c| matches!(c, b'T' | b't' | b' '))?;
        let mut shape = TimeShape::of_time(b.get(sep + 1..)?)?;
        shape.sep = match b.get(sep)? {
            b' ' => b' ',
            _ => b'T',
        };
        Some(shape)
    }

    /// One shape for a column whose values are written in both: parts written in either
    /// (seconds, a fraction) are in the result.
    #[must_use]
    pub fn merge(self, other: TimeShape) -> TimeShape {
        TimeShape {
            sep: self.sep,
            seconds: self.seconds || other.seconds,
            fraction: self.fraction.or(other.fraction),
            twelve_hour: self.twelve_hour || other.twelve_hour,
            zone: self.zone || other.zone,
        }
    }

    /// The time in `strftime` notation: `%H:%M`, `%H:%M:%S.%f%z`, `%I:%M %p`, ...
    pub fn strftime(self) -> String {
        let mut out = String::from(if self.twelve_hour { "%I:%M" } else { "%H:%M" });
        if self.seconds {
            out.push_str(":%S");
            if let Some(mark) = self.fraction {
                out.push(char::from(mark));
                out.push_str("%f");
            }
        }
        if self.twelve_hour {
            out.push_str(" %p");
        }
        if self.zone {
            out.push_str("%z");
        }
        out
    }
}

/// Order of year, month and day in a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateOrder {
    /// Year, month, day (`2024-05-31`, `2024/05/31`).
    Ymd,
    /// Day, month, year (`31/05/2024`, `31.05.2024`).
    Dmy,
    /// Month, day, year (`05/31/2024`).
    Mdy,
    /// Not a date but a count since 1970-01-01 UTC: seconds (`1717236000`).
    EpochSeconds,
    /// Milliseconds since 1970-01-01 UTC (`1717236000000`).
    EpochMillis,
    /// Not a date either: a float64 column whose numbers are written with a decimal comma
    /// (`1.234,56`, read by [`parse_f64_comma`]).
    DecimalComma,
}

/// How a column's values are written: for a date or timestamp column, the order of the
/// date's parts and the separator between them (years have four digits; day and month one
/// or two), or an epoch unit; for a float64 column, a decimal comma or (ISO) a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateFormat {
    /// Order of the parts.
    pub order: DateOrder,
    /// Separator: `-`, `/` or `.`.
    pub sep: u8,
}

impl Default for DateFormat {
    fn default() -> Self {
        DateFormat::ISO
    }
}

impl DateFormat {
    /// ISO 8601, `YYYY-MM-DD` (two-digit month and day).
    pub const ISO: DateFormat = DateFormat {
        order: DateOrder::Ymd,
        sep: b'-',
    };

    /// Seconds since the epoch.
    pub const EPOCH_SECONDS: DateFormat = DateFormat::new(DateOrder::EpochSeconds, b' ');
    /// Milliseconds since the epoch.
    pub const EPOCH_MILLIS: DateFormat = DateFormat::new(DateOrder::EpochMillis, b' ');
    /// Numbers with a decimal comma (float64 columns).
    pub const DECIMAL_COMMA: DateFormat = DateFormat::new(DateOrder::DecimalComma, b',');

    /// The non-ISO formats inference considers.
    pub const OTHERS: [DateFormat; 7] = [
        DateFormat::new(DateOrder::Dmy, b'/'),
        DateFormat::new(DateOrder::Mdy, b'/'),
        DateFormat::new(DateOrder::Dmy, b'.'),
        DateFormat::new(DateOrder::Dmy, b'-'),
        DateFormat::new(DateOrder::Mdy, b'-'),
        DateFormat::new(DateOrder::Ymd, b'/'),
        DateFormat::new(DateOrder::Ymd, b'.'),
    ];

    const fn new(order: DateOrder, sep: u8) -> Self {
        DateFormat { order, sep }
    }

    /// The format in `strftime` notation, e.g. `%d/%m/%Y`, or with the time of day written
    /// as `time` shows, `%d/%m/%Y %H:%M`.
    pub fn strftime(self, time: Option<TimeShape>) -> String {
        let s = char::from(self.sep);
        let mut out = match self.order {
            DateOrder::Ymd => format!("%Y{s}%m{s}%d"),
            DateOrder::Dmy => format!("%d{s}%m{s}%Y"),
            DateOrder::Mdy => format!("%m{s}%d{s}%Y"),
            // strftime's own notation for epoch seconds; milliseconds have none.
            DateOrder::EpochSeconds => return "%s".into(),
            DateOrder::EpochMillis => return "epoch milliseconds".into(),
            DateOrder::DecimalComma => return "decimal comma".into(),
        };
        if let Some(t) = time {
            out.push(char::from(t.sep));
            out.push_str(&t.strftime());
        }
        out
    }

    /// Parses the date at the start of `b`: days since the epoch and the length of the date.
    fn date_prefix(self, b: &[u8]) -> Option<(i32, usize)> {
        if self == DateFormat::ISO {
            return Some((parse_date(b.get(..10)?)?, 10));
        }
        let mut parts = [0u32; 3];
        let mut lens = [0usize; 3];
        let mut i = 0;
        for k in 0..3 {
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) && i - start < 4 {
                i += 1;
            }
            let n = i - start;
            let v = digits(b.get(start..i)?)?;
            *parts.get_mut(k)? = v;
            *lens.get_mut(k)? = n;
            if k < 2 {
                if b.get(i) != Some(&self.sep) {
                    return None;
                }
                i += 1;
            }
        }
        let [a, m, c] = parts;
        let [la, lm, lc] = lens;
        let short = |l: usize| (1..=2).contains(&l);
        let (year, month, day) = match self.order {
            DateOrder::Ymd if la == 4 && short(lm) && short(lc) => (a, m, c),
            DateOrder::Dmy if short(la) && short(lm) && lc == 4 => (c, m, a),
            DateOrder::Mdy if short(la) && short(lm) && lc == 4 => (c, a, m),
            _ => return None,
        };
        let days = i32::try_from(days_from_civil(i64::from(year), month, day)?).ok()?;
        Some((days, i))
    }

    /// A whole value as a date in this format.
    pub fn parse_date(self, b: &[u8]) -> Option<i32> {
        match self.date_prefix(b)? {
            (d, n) if n == b.len() => Some(d),
            _ => None,
        }
    }

    /// A whole value as a timestamp whose date is in this format (ISO: exactly as
    /// [`parse_timestamp`]; otherwise the hour may have one digit).
    pub fn parse_timestamp(self, b: &[u8]) -> Option<Timestamp> {
        if self == DateFormat::ISO {
            return parse_timestamp(b);
        }
        let per_second: i64 = match self.order {
            DateOrder::EpochSeconds => 1,
            DateOrder::EpochMillis => 1000,
            _ => 0,
        };
        if per_second > 0 {
            let n = parse_i64(b)?;
            return Some(Timestamp {
                seconds: n.div_euclid(per_second),
                nanos: u32::try_from(n.rem_euclid(per_second) * (1_000_000_000 / per_second))
                    .ok()?,
                fraction_digits: if per_second > 1 { 3 } else { 0 },
                has_offset: false,
            });
        }
        if b.len() > 48 {
            return None;
        }
        let (date, n) = self.date_prefix(b)?;
        if !matches!(b.get(n), Some(b'T' | b' ')) {
            return None;
        }
        time_of_day(b, n + 1, date, false)
    }
}

/// The value of a timestamp column for the text `b`: a timestamp written in `fmt` (a bare
/// date is midnight, in a column without offset), carrying an offset exactly when the column
/// is UTC (`utc`), in nanoseconds (`nanos`) or microseconds. The one rule every decoder
/// applies to timestamp columns.
pub fn timestamp_value(b: &[u8], fmt: DateFormat, utc: bool, nanos: bool) -> Option<i64> {
    let t = match fmt.parse_timestamp(b) {
        Some(t) => t,
        None if !utc => Timestamp {
            seconds: i64::from(fmt.parse_date(b)?) * 86_400,
            nanos: 0,
            fraction_digits: 0,
            has_offset: false,
        },
        None => return None,
    };
    if t.has_offset != utc {
        return None;
    }
    if nanos {
        t.nanos_total()
    } else {
        t.micros()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The fast path gives what the general parser gives, bit for bit.
        #[test]
        fn short_decimals_parse_as_std_does(
            sign in proptest::sample::select(vec!["", "-", "+"]),
            int in "[0-9]{0,18}",
            frac in proptest::option::of("[0-9]{0,24}"),
        ) {
            let text = match &frac {
                Some(f) => format!("{sign}{int}.{f}"),
                None => format!("{sign}{int}"),
            };
            let want = text.parse::<f64>().ok();
            let got = parse_f64(text.as_bytes());
            proptest::prop_assert_eq!(got.map(f64::to_bits), want.map(f64::to_bits), "{}", text);
        }
    }

    #[test]
    fn decimal_comma_numbers() {
        for (text, want) in [
            ("1,5", Some(1.5)),
            ("-1.234,56", Some(-1234.56)),
            ("+12", Some(12.0)),
            ("1.234.567", Some(1_234_567.0)),
            ("0,001", Some(0.001)),
            ("1.234", None),
            ("12.34,5", None),
            ("1,", None),
            (",5", None),
            ("1,2,3", None),
            ("1.5", None),
            ("", None),
            ("-", None),
            ("1 234,5", None),
        ] {
            assert_eq!(parse_f64_comma(text.as_bytes()), want, "{text:?}");
        }
    }

    #[test]
    fn padding_is_trimmed_from_both_ends_only() {
        assert_eq!(trim_padding(b"  12.5\t"), b"12.5");
        assert_eq!(trim_padding(b"1 2"), b"1 2");
        assert_eq!(trim_padding(b" \t "), b"");
        assert_eq!(trim_padding(b""), b"");
        assert_eq!(trim_padding(b"x"), b"x");
    }

    #[test]
    fn decimals_parse_exactly_or_not_at_all() {
        assert_eq!(parse_decimal(b"-123.45", 10, 3), Some(-123_450));
        assert_eq!(parse_decimal(b"+0.5", 3, 1), Some(5));
        assert_eq!(parse_decimal(b"007", 3, 0), Some(7));
        assert_eq!(parse_decimal(b"1.234", 10, 2), None); // would round
        assert_eq!(parse_decimal(b"123456", 5, 0), None); // too many digits
        assert_eq!(parse_decimal(b"1e5", 10, 0), None);
        assert_eq!(parse_decimal(b".", 10, 0), None);
        assert_eq!(
            parse_decimal(b"99999999999999999999999999999999999999", 38, 0),
            Some(99_999_999_999_999_999_999_999_999_999_999_999_999)
        );
        assert_eq!(decimal_shape(b"-000123.4500"), Some((3, 4)));
    }

    #[test]
    fn ints() {
        for (s, v) in [
            ("0", Some(0)),
            ("-12", Some(-12)),
            ("+7", Some(7)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("", None),
            ("-", None),
            ("1.0", None),
            ("1e3", None),
            (" 1", None),
            ("99999999999999999999", None),
        ] {
            assert_eq!(parse_i64(s.as_bytes()), v, "{s}");
        }
    }

    #[test]
    fn floats() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-0.0").map(f64::is_sign_negative), Some(true));
        assert_eq!(parse_f64(b"5."), Some(5.0));
        assert_eq!(parse_f64(b".5"), Some(0.5));
        assert_eq!(parse_f64(b"."), None);
        assert_eq!(parse_f64(b"1.2.3"), None);
        assert_eq!(
            parse_f64(b"9007199254740993"),
            Some(9_007_199_254_740_993.0)
        );
        assert_eq!(parse_f64(b"-2e3"), Some(-2000.0));
        assert_eq!(parse_f64(b"inf"), Some(f64::INFINITY));
        assert!(parse_f64(b"NaN").is_some_and(f64::is_nan));
        for bad in ["", ".", "1.2.3", "abc", "1,5", "0x10", "e"] {
            assert_eq!(parse_f64(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn bools() {
        assert_eq!(parse_bool(b"true"), Some(true));
        assert_eq!(parse_bool(b"FALSE"), Some(false));
        assert_eq!(parse_bool(b"yes"), None);
        assert_eq!(parse_bool(b"1"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date(b"1970-01-01"), Some(0));
        assert_eq!(parse_date(b"2000-03-01"), Some(11017));
        assert_eq!(parse_date(b"1969-12-31"), Some(-1));
        assert_eq!(parse_date(b"2024-02-29"), Some(19782));
        assert_eq!(parse_date(b"2023-02-29"), None);
        assert_eq!(parse_date(b"2023-13-01"), None);
        assert_eq!(parse_date(b"2023-1-01"), None);
    }

    #[test]
    fn timestamps() {
        let t = parse_timestamp(b"1970-01-01T00:00:01.5").unwrap();
        assert_eq!(
            (t.seconds, t.nanos, t.fraction_digits, t.has_offset),
            (1, 500_000_000, 1, false)
        );
        assert_eq!(t.micros(), Some(1_500_000));
        let z = parse_timestamp(b"1970-01-01 01:00:00+01:00").unwrap();
        assert_eq!((z.seconds, z.has_offset), (0, true));
        assert_eq!(
            parse_timestamp(b"1970-01-01T00:00Z").map(|t| t.seconds),
            Some(0)
        );
        assert_eq!(
            parse_timestamp(b"1970-01-01T00:00:00-0130").map(|t| t.seconds),
            Some(5400)
        );
        for bad in [
            "1970-01-01",
            "1970-01-01T25:00:00",
            "1970-01-01T00:00:00.",
            "1970-01-01T00:00:00+1",
            "1970-01-01X00:00:00",
        ] {
            assert_eq!(parse_timestamp(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn other_date_formats() {
        let dmy = DateFormat::new(DateOrder::Dmy, b'/');
        let mdy = DateFormat::new(DateOrder::Mdy, b'/');
        let de = DateFormat::new(DateOrder::Dmy, b'.');
        assert_eq!(dmy.parse_date(b"31/12/1969"), Some(-1));
        assert_eq!(dmy.parse_date(b"1/1/1970"), Some(0));
        assert_eq!(mdy.parse_date(b"12/31/1969"), Some(-1));
        assert_eq!(mdy.parse_date(b"31/12/1969"), None);
        assert_eq!(de.parse_date(b"29.02.2024"), Some(19782));
        assert_eq!(de.parse_date(b"29.02.2023"), None);
        assert_eq!(dmy.parse_date(b"1/1/70"), None);
        assert_eq!(dmy.parse_date(b"1/1/1970 "), None);
        assert_eq!(DateFormat::ISO.parse_date(b"1970-01-01"), Some(0));
        let t = mdy.parse_timestamp(b"1/1/1970 1:02 PM").unwrap();
        assert_eq!(t.seconds, 13 * 3600 + 120);
        let t = mdy.parse_timestamp(b"01/01/1970 12:00:01 AM").unwrap();
        assert_eq!(t.seconds, 1);
        let t = dmy.parse_timestamp(b"02/01/1970 00:00:00.25").unwrap();
        assert_eq!((t.seconds, t.nanos), (86_400, 250_000_000));
        assert_eq!(dmy.parse_timestamp(b"02/01/1970 13:00 PM"), None);
        assert_eq!(dmy.parse_timestamp(b"02/01/1970"), None);
        assert_eq!(
            dmy.strftime(Some(TimeShape::default())),
            "%d/%m/%Y %H:%M:%S"
        );
        assert_eq!(de.strftime(None), "%d.%m.%Y");
        // Never panics on junk.
        for junk in [
            "",
            "/",
            "1/",
            "1//",
            "99999/1/1",
            "1/1/1/1",
            "1.1.",
            "\u{e9}/1/2024",
        ] {
            for f in DateFormat::OTHERS {
                let _ = f.parse_date(junk.as_bytes());
                let _ = f.parse_timestamp(junk.as_bytes());
            }
        }
    }

    #[test]
    fn times_of_day() {
        assert_eq!(parse_time(b"00:00"), Some(0));
        assert_eq!(parse_time(b"10:30"), Some(37_800_000_000));
        assert_eq!(parse_time(b"9:05:01"), Some(32_701_000_000));
        assert_eq!(parse_time(b"23:59:59.999999"), Some(86_399_999_999));
        assert_eq!(parse_time(b"12:00 AM"), Some(0));
        assert_eq!(parse_time(b"1:15 PM"), Some(47_700_000_000));
        for bad in [
            "24:00",
            "10:60",
            "10",
            "10:3",
            "10:30Z",
            "10:30+01:00",
            "13:00 PM",
            "a:bc",
            "",
        ] {
            assert_eq!(parse_time(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn time_shapes_name_the_written_format() {
        let date = |b: &str| {
            let shape = TimeShape::of_timestamp(b.as_bytes()).unwrap();
            DateFormat::ISO.strftime(Some(shape))
        };
        for (text, want) in [
            ("2024-01-02 03:04:05", "%Y-%m-%d %H:%M:%S"),
            ("2024-01-02T03:04", "%Y-%m-%dT%H:%M"),
            ("2024-01-02T03:04:05.123Z", "%Y-%m-%dT%H:%M:%S.%f%z"),
            ("2024-01-02 03:04:05,5+02:00", "%Y-%m-%d %H:%M:%S,%f%z"),
            ("2024-01-02t03:04:05-0500", "%Y-%m-%dT%H:%M:%S%z"),
            ("2024-01-02 3:04 PM", "%Y-%m-%d %I:%M %p"),
            ("2024-01-02 03:04:05 am", "%Y-%m-%d %I:%M:%S %p"),
        ] {
            assert_eq!(date(text), want, "{text}");
        }
        let time = |b: &str| TimeShape::of_time(b.as_bytes()).map(TimeShape::strftime);
        assert_eq!(time("9:05").as_deref(), Some("%H:%M"));
        assert_eq!(time("23:59:59.999").as_deref(), Some("%H:%M:%S.%f"));
        assert_eq!(time("1:15 PM").as_deref(), Some("%I:%M %p"));
        assert_eq!(time("noon"), None);
        let merged = TimeShape::of_time(b"10:30")
            .unwrap()
            .merge(TimeShape::of_time(b"10:30:01").unwrap());
        assert_eq!(merged.strftime(), "%H:%M:%S");
        // Never panics on junk.
        for junk in ["", ":", "1:", "T", " :", "2024-01-02T", "2024-01-02 :1 PM"] {
            let _ = TimeShape::of_time(junk.as_bytes());
            let _ = TimeShape::of_timestamp(junk.as_bytes());
        }
    }

    #[test]
    fn epochs() {
        let t = DateFormat::EPOCH_SECONDS.parse_timestamp(b"86401").unwrap();
        assert_eq!((t.seconds, t.nanos), (86_401, 0));
        let t = DateFormat::EPOCH_MILLIS.parse_timestamp(b"-1500").unwrap();
        assert_eq!((t.seconds, t.nanos), (-2, 500_000_000));
        assert_eq!(t.micros(), Some(-1_500_000));
        assert_eq!(DateFormat::EPOCH_SECONDS.parse_timestamp(b"1.5"), None);
        assert_eq!(DateFormat::EPOCH_SECONDS.parse_date(b"86401"), None);
        assert_eq!(
            DateFormat::EPOCH_MILLIS.strftime(Some(TimeShape::default())),
            "epoch milliseconds"
        );
    }
}
