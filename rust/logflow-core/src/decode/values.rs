//! Fast parsers from field bytes to typed values. No allocation, no panics on any input.
//!
//! Each parser accepts exactly one spelling family and returns `None` for anything else, so
//! inference (`crate::schema`) and decoding agree on what a type accepts.

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
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') {
        return None;
    }
    let hour = digits(b.get(11..13)?)?;
    let minute = digits(b.get(14..16)?)?;
    let mut i = 16;
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
