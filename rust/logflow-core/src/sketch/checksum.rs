//! Checksums of rows: xxh3 over a canonical encoding of each value, combined so that the
//! order of rows (and so the order chunks are decoded in) does not matter.
//!
//! # The scheme
//!
//! - A **cell** (one non-null value of one column) hashes to
//!   `xxh3_64(canonical bytes, seed = xxh3_64(column name) ^ kind tag)`. The canonical bytes
//!   depend on the value, not on the Arrow type that holds it, wherever the writer may move a
//!   value from one type to another without changing it ([`crate::write::conform`]):
//!   - integers (any width, and floats and decimals holding an integer) are one signed
//!     64-bit little-endian integer (128-bit past that range): `5`, `5.0` and `5.00` are one
//!     value;
//!   - other floats are their IEEE bits (NaN one value, `-0.0` is `0`); other decimals are
//!     the mantissa without trailing zeros and the scale (`1.50` = `1.5`);
//!   - dates and timestamps are nanoseconds since the epoch as 128-bit integers (a date is its
//!     midnight; the time zone is not part of the value), times of day nanoseconds since
//!     midnight;
//!   - text is its UTF-8 bytes, binary its bytes, booleans one byte;
//!   - a struct is the mixed sum of its non-null fields (each seeded with its name under the
//!     column's seed), a list the ordered fold of its elements (nulls included), a map the
//!     list of its entries; dictionary-encoded values hash as their values.
//! - Nulls contribute nothing, so a column a batch lacks and a column of nulls agree.
//! - A **row** hashes to `fmix64(sum of its cells ^ ROW)` (wrapping sum; `fmix64` is the
//!   murmur3 finalizer), so swapping two values between rows changes it.
//! - A **table** hashes to the wrapping sum of its rows' hashes: parallel chunks, batches
//!   and files add up in any order, and a row can be taken out again by subtracting it.
//!
//! Text rendered from another type (a column widened to text by a schema change) is a
//! different value: `5` and `"5"` do not hash alike.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Decimal128Type, Decimal256Type, DurationMicrosecondType,
    DurationMillisecondType, DurationNanosecondType, DurationSecondType, Float16Type, Float32Type,
    Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, Time32MillisecondType,
    Time32SecondType, Time64MicrosecondType, Time64NanosecondType, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrowPrimitiveType, OffsetSizeTrait, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use twox_hash::XxHash3_64;

const TAG_INT: u64 = 0x9e37_79b9_7f4a_7c15;
const TAG_BIGINT: u64 = 0xc2b2_ae3d_27d4_eb4f;
const TAG_FLOAT: u64 = 0x1656_67b1_9e37_79f9;
const TAG_NAN: u64 = 0x27d4_eb2f_1656_67c5;
const TAG_DECIMAL: u64 = 0x85eb_ca77_c2b2_ae63;
const TAG_INSTANT: u64 = 0x94d0_49bb_1331_11eb;
const TAG_TIME: u64 = 0xbf58_476d_1ce4_e5b9;
const TAG_DURATION: u64 = 0x2545_f491_4f6c_dd1d;
const TAG_BOOL: u64 = 0xd6e8_feb8_6659_fd93;
const TAG_TEXT: u64 = 0xa076_1d64_78bd_642f;
const TAG_BINARY: u64 = 0xe703_7ed1_a0b4_28db;
const TAG_STRUCT: u64 = 0x8ebc_6af0_9c88_c6e3;
const TAG_LIST: u64 = 0x5899_65cc_7537_4cc3;
const TAG_NULL_ELEMENT: u64 = 0x1d8e_4e27_c47d_124f;
const TAG_OPAQUE: u64 = 0x7a1f_3b5c_9d2e_6f40;
const ROW: u64 = 0x4cf5_ad43_2745_937f;

const NANOS_PER_DAY: i128 = 86_400 * 1_000_000_000;

/// The murmur3 64-bit finalizer: a bijective mix of all 64 bits.
#[inline]
pub fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

/// xxh3 (64-bit) of `bytes` with `seed`.
#[inline]
pub fn xxh3(seed: u64, bytes: &[u8]) -> u64 {
    XxHash3_64::oneshot_with_seed(seed, bytes)
}

/// The seed of a column's cells: its name, hashed.
pub fn column_seed(name: &str) -> u64 {
    xxh3(0, name.as_bytes())
}

/// The seed of a nested field `name` under a column (or field) seeded `parent`.
fn field_seed(parent: u64, name: &str) -> u64 {
    xxh3(parent, name.as_bytes())
}

/// The seed text values of a column seeded `seed` are hashed with (see [`hash_values`]).
pub(crate) fn text_seed(seed: u64) -> u64 {
    seed ^ TAG_TEXT
}

/// The hash of an integer value.
#[inline]
fn int_cell(seed: u64, v: i64) -> u64 {
    xxh3(seed ^ TAG_INT, &v.to_le_bytes())
}

/// The hash of an integer value of any size.
#[inline]
fn wide_int_cell(seed: u64, v: i128) -> u64 {
    match i64::try_from(v) {
        Ok(v) => int_cell(seed, v),
        Err(_) => xxh3(seed ^ TAG_BIGINT, &v.to_le_bytes()),
    }
}

/// Largest magnitude (exclusive) of a float read as an i64 without loss: 2^63.
const I64_BOUND: f64 = 9_223_372_036_854_775_808.0;

/// The hash of a float: as an integer when it holds one.
#[inline]
fn float_cell(seed: u64, v: f64) -> u64 {
    if v.is_nan() {
        return xxh3(seed ^ TAG_NAN, &[]);
    }
    if v.fract() == 0.0 && v.abs() < I64_BOUND {
        // Exact: an integral float below 2^63 converts without rounding.
        #[allow(clippy::cast_possible_truncation)]
        return int_cell(seed, v as i64);
    }
    xxh3(seed ^ TAG_FLOAT, &v.to_bits().to_le_bytes())
}

/// The hash of a decimal `v * 10^-scale`: trailing zeros dropped, as an integer when it is
/// one.
fn decimal_cell(seed: u64, mut v: i128, mut scale: i8) -> u64 {
    while scale > 0 && v % 10 == 0 {
        v /= 10;
        scale -= 1;
    }
    while scale < 0 {
        match v.checked_mul(10) {
            Some(w) => {
                v = w;
                scale += 1;
            }
            None => break,
        }
    }
    if scale == 0 {
        return wide_int_cell(seed, v);
    }
    let mut bytes = [0u8; 17];
    if let Some((head, tail)) = bytes.split_first_mut() {
        *head = scale.to_le_bytes().first().copied().unwrap_or(0);
        tail.copy_from_slice(&v.to_le_bytes());
    }
    xxh3(seed ^ TAG_DECIMAL, &bytes)
}

#[inline]
fn instant_cell(seed: u64, nanos: i128) -> u64 {
    xxh3(seed ^ TAG_INSTANT, &nanos.to_le_bytes())
}

fn unit_nanos(unit: TimeUnit) -> i128 {
    match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

/// Fills `out` (cleared first) with one hash per value of `array`, which must be of a
/// primitive type `T`, mapped by `f`; null slots get 0.
fn primitive<T: ArrowPrimitiveType>(
    array: &dyn Array,
    out: &mut Vec<u64>,
    mut f: impl FnMut(T::Native) -> u64,
) {
    out.clear();
    let Some(a) = array.as_primitive_opt::<T>() else {
        out.resize(array.len(), 0);
        return;
    };
    out.extend(a.values().iter().map(|&v| f(v)));
}

fn bytes_like<O: OffsetSizeTrait>(array: &dyn Array, tag: u64, seed: u64, out: &mut Vec<u64>) {
    out.clear();
    let (offsets, data) = if let Some(a) = array.as_string_opt::<O>() {
        (a.value_offsets(), a.value_data())
    } else if let Some(a) = array.as_binary_opt::<O>() {
        (a.value_offsets(), a.value_data())
    } else {
        out.resize(array.len(), 0);
        return;
    };
    let seed = seed ^ tag;
    out.extend(offsets.windows(2).map(|w| {
        let (start, end) = match w {
            [s, e] => (s.as_usize(), e.as_usize()),
            _ => (0, 0),
        };
        xxh3(seed, data.get(start..end).unwrap_or_default())
    }));
}

/// The hash of every value of `array` (one per slot; null slots hold an unspecified
/// value, left out by the caller) for a column seeded `seed`: see the module docs. `out` is
/// cleared first.
pub fn hash_values(array: &dyn Array, seed: u64, out: &mut Vec<u64>) {
    let s = seed;
    match array.data_type() {
        DataType::Null => {
            out.clear();
            out.resize(array.len(), 0);
        }
        DataType::Boolean => {
            out.clear();
            let a = array.as_boolean();
            let (f, t) = (xxh3(s ^ TAG_BOOL, &[0]), xxh3(s ^ TAG_BOOL, &[1]));
            out.extend(a.values().iter().map(|b| if b { t } else { f }));
        }
        DataType::Int8 => primitive::<Int8Type>(array, out, |v| int_cell(s, v.into())),
        DataType::Int16 => primitive::<Int16Type>(array, out, |v| int_cell(s, v.into())),
        DataType::Int32 => primitive::<Int32Type>(array, out, |v| int_cell(s, v.into())),
        DataType::Int64 => primitive::<Int64Type>(array, out, |v| int_cell(s, v)),
        DataType::UInt8 => primitive::<UInt8Type>(array, out, |v| int_cell(s, v.into())),
        DataType::UInt16 => primitive::<UInt16Type>(array, out, |v| int_cell(s, v.into())),
        DataType::UInt32 => primitive::<UInt32Type>(array, out, |v| int_cell(s, v.into())),
        DataType::UInt64 => primitive::<UInt64Type>(array, out, |v| wide_int_cell(s, v.into())),
        DataType::Float16 => {
            primitive::<Float16Type>(array, out, |v| float_cell(s, v.to_f64()));
        }
        DataType::Float32 => primitive::<Float32Type>(array, out, |v| float_cell(s, v.into())),
        DataType::Float64 => primitive::<Float64Type>(array, out, |v| float_cell(s, v)),
        DataType::Decimal128(_, scale) => {
            let scale = *scale;
            primitive::<Decimal128Type>(array, out, |v| decimal_cell(s, v, scale));
        }
        DataType::Decimal256(_, scale) => {
            let scale = *scale;
            primitive::<Decimal256Type>(array, out, |v| match v.to_i128() {
                Some(v) => decimal_cell(s, v, scale),
                None => xxh3(s ^ TAG_DECIMAL, &v.to_le_bytes()),
            });
        }
        DataType::Date32 => primitive::<Date32Type>(array, out, |v| {
            instant_cell(s, i128::from(v) * NANOS_PER_DAY)
        }),
        DataType::Date64 => {
            primitive::<Date64Type>(array, out, |v| instant_cell(s, i128::from(v) * 1_000_000))
        }
        DataType::Timestamp(unit, _) => {
            let k = unit_nanos(*unit);
            let f = |v: i64| instant_cell(s, i128::from(v) * k);
            match unit {
                TimeUnit::Second => primitive::<TimestampSecondType>(array, out, f),
                TimeUnit::Millisecond => primitive::<TimestampMillisecondType>(array, out, f),
                TimeUnit::Microsecond => primitive::<TimestampMicrosecondType>(array, out, f),
                TimeUnit::Nanosecond => primitive::<TimestampNanosecondType>(array, out, f),
            }
        }
        DataType::Time32(unit) => {
            let k = unit_nanos(*unit);
            let f = |v: i32| xxh3(s ^ TAG_TIME, &(i128::from(v) * k).to_le_bytes());
            match unit {
                TimeUnit::Second => primitive::<Time32SecondType>(array, out, f),
                _ => primitive::<Time32MillisecondType>(array, out, f),
            }
        }
        DataType::Time64(unit) => {
            let k = unit_nanos(*unit);
            let f = |v: i64| xxh3(s ^ TAG_TIME, &(i128::from(v) * k).to_le_bytes());
            match unit {
                TimeUnit::Nanosecond => primitive::<Time64NanosecondType>(array, out, f),
                _ => primitive::<Time64MicrosecondType>(array, out, f),
            }
        }
        DataType::Duration(unit) => {
            let k = unit_nanos(*unit);
            let f = |v: i64| xxh3(s ^ TAG_DURATION, &(i128::from(v) * k).to_le_bytes());
            match unit {
                TimeUnit::Second => primitive::<DurationSecondType>(array, out, f),
                TimeUnit::Millisecond => primitive::<DurationMillisecondType>(array, out, f),
                TimeUnit::Microsecond => primitive::<DurationMicrosecondType>(array, out, f),
                TimeUnit::Nanosecond => primitive::<DurationNanosecondType>(array, out, f),
            }
        }
        DataType::Utf8 => bytes_like::<i32>(array, TAG_TEXT, s, out),
        DataType::LargeUtf8 => bytes_like::<i64>(array, TAG_TEXT, s, out),
        DataType::Binary => bytes_like::<i32>(array, TAG_BINARY, s, out),
        DataType::LargeBinary => bytes_like::<i64>(array, TAG_BINARY, s, out),
        DataType::Utf8View => {
            out.clear();
            let a = array.as_string_view();
            out.extend(
                a.iter()
                    .map(|v| xxh3(s ^ TAG_TEXT, v.unwrap_or("").as_bytes())),
            );
        }
        DataType::BinaryView => {
            out.clear();
            let a = array.as_binary_view();
            out.extend(
                a.iter()
                    .map(|v| xxh3(s ^ TAG_BINARY, v.unwrap_or_default())),
            );
        }
        DataType::FixedSizeBinary(_) => {
            out.clear();
            let a = array.as_fixed_size_binary();
            out.extend((0..a.len()).map(|i| xxh3(s ^ TAG_BINARY, a.value(i))));
        }
        DataType::Dictionary(_, _) => dictionary(array, s, out),
        DataType::Struct(_) => structure(array, s, out),
        DataType::List(_) => list::<i32>(array, s, out),
        DataType::LargeList(_) => list::<i64>(array, s, out),
        DataType::Map(_, _) => map(array, s, out),
        DataType::FixedSizeList(_, _) => fixed_list(array, s, out),
        _ => {
            // Types no decoder produces and no conform step reaches (unions, intervals, ...):
            // present, but their value is not part of the checksum.
            out.clear();
            out.resize(array.len(), xxh3(s ^ TAG_OPAQUE, &[]));
        }
    }
}

fn dictionary(array: &dyn Array, seed: u64, out: &mut Vec<u64>) {
    let Some(d) = array.as_any_dictionary_opt() else {
        out.clear();
        out.resize(array.len(), 0);
        return;
    };
    let mut values = Vec::new();
    hash_values(d.values().as_ref(), seed, &mut values);
    out.clear();
    out.extend(
        d.normalized_keys()
            .iter()
            .map(|&k| values.get(k).copied().unwrap_or(0)),
    );
}

fn structure(array: &dyn Array, seed: u64, out: &mut Vec<u64>) {
    let s = array.as_struct();
    let mut acc = vec![0u64; s.len()];
    let mut child = Vec::new();
    for (field, column) in s.fields().iter().zip(s.columns()) {
        hash_values(column.as_ref(), field_seed(seed, field.name()), &mut child);
        for (i, (a, h)) in acc.iter_mut().zip(&child).enumerate() {
            if column.is_valid(i) {
                *a = a.wrapping_add(*h);
            }
        }
    }
    out.clear();
    out.extend(acc.into_iter().map(|a| fmix64(a ^ seed ^ TAG_STRUCT)));
}

/// Folds the element hashes `values[start..end]` (validity from `elements`) into one.
fn fold(seed: u64, values: &[u64], elements: &dyn Array, start: usize, end: usize) -> u64 {
    let mut h = seed ^ TAG_LIST;
    for i in start..end {
        let e = if elements.is_valid(i) {
            values.get(i).copied().unwrap_or(0)
        } else {
            TAG_NULL_ELEMENT
        };
        h = fmix64(h.rotate_left(23) ^ e);
    }
    fmix64(h ^ (end - start) as u64)
}

fn list<O: OffsetSizeTrait>(array: &dyn Array, seed: u64, out: &mut Vec<u64>) {
    let Some(l) = array.as_list_opt::<O>() else {
        out.clear();
        out.resize(array.len(), 0);
        return;
    };
    let item_seed = field_seed(seed, "\u{0}item");
    let mut values = Vec::new();
    hash_values(l.values().as_ref(), item_seed, &mut values);
    out.clear();
    out.extend(l.value_offsets().windows(2).map(|w| match w {
        [a, b] => fold(
            seed,
            &values,
            l.values().as_ref(),
            a.as_usize(),
            b.as_usize(),
        ),
        _ => 0,
    }));
}

fn fixed_list(array: &dyn Array, seed: u64, out: &mut Vec<u64>) {
    let l = array.as_fixed_size_list();
    let size = usize::try_from(l.value_length()).unwrap_or(0);
    let item_seed = field_seed(seed, "\u{0}item");
    let mut values = Vec::new();
    hash_values(l.values().as_ref(), item_seed, &mut values);
    out.clear();
    let base = l.offset() * size;
    out.extend((0..l.len()).map(|i| {
        let start = base + i * size;
        fold(seed, &values, l.values().as_ref(), start, start + size)
    }));
}

fn map(array: &dyn Array, seed: u64, out: &mut Vec<u64>) {
    let m = array.as_map();
    // Entries by position (key, value), whatever the entry fields are called.
    let mut keys = Vec::new();
    let mut vals = Vec::new();
    hash_values(m.keys().as_ref(), field_seed(seed, "\u{0}key"), &mut keys);
    hash_values(
        m.values().as_ref(),
        field_seed(seed, "\u{0}value"),
        &mut vals,
    );
    let entries: Vec<u64> = keys
        .iter()
        .zip(&vals)
        .enumerate()
        .map(|(i, (k, v))| {
            let v = if m.values().is_valid(i) { *v } else { 0 };
            fmix64(k.wrapping_add(v) ^ seed ^ TAG_STRUCT)
        })
        .collect();
    out.clear();
    out.extend(m.value_offsets().windows(2).map(|w| match w {
        [a, b] => fold(
            seed,
            &entries,
            m.entries(),
            usize::try_from(*a).unwrap_or(0),
            usize::try_from(*b).unwrap_or(0),
        ),
        _ => 0,
    }));
}

/// Adds the hash of every non-null cell of `array` (hashes in `cells`) to `acc`, one
/// accumulator per row.
pub fn add_cells(acc: &mut [u64], cells: &[u64], array: &dyn Array) {
    match array.logical_nulls() {
        None => {
            for (a, c) in acc.iter_mut().zip(cells) {
                *a = a.wrapping_add(*c);
            }
        }
        Some(nulls) => {
            for ((a, c), valid) in acc.iter_mut().zip(cells).zip(nulls.iter()) {
                if valid {
                    *a = a.wrapping_add(*c);
                }
            }
        }
    }
}

/// The hash of a row whose cells add up to `acc`.
#[inline]
pub fn row_hash(acc: u64) -> u64 {
    fmix64(acc ^ ROW)
}

/// Per-row hashes of `batch` (see the module docs), computed with `scratch` as the cell
/// buffer.
pub fn row_hashes(batch: &RecordBatch, scratch: &mut Vec<u64>) -> Vec<u64> {
    let mut acc = vec![0u64; batch.num_rows()];
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        hash_values(column.as_ref(), column_seed(field.name()), scratch);
        add_cells(&mut acc, scratch, column.as_ref());
    }
    for a in &mut acc {
        *a = row_hash(*a);
    }
    acc
}

/// The checksum of `batch`: the wrapping sum of its row hashes.
pub fn batch_checksum(batch: &RecordBatch) -> u64 {
    let mut scratch = Vec::new();
    sum(&row_hashes(batch, &mut scratch))
}

/// The wrapping sum of `hashes`.
pub fn sum(hashes: &[u64]) -> u64 {
    hashes.iter().fold(0u64, |s, h| s.wrapping_add(*h))
}

/// A checksum as it is shown: 16 hexadecimal digits.
pub fn format(checksum: u64) -> String {
    format!("{checksum:016x}")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{
        ArrayRef, Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array, StringArray,
        TimestampMicrosecondArray,
    };
    use arrow_schema::{Field, Schema};

    use super::*;

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect();
        RecordBatch::try_new(
            Arc::new(Schema::new(fields)),
            columns.into_iter().map(|(_, a)| a).collect(),
        )
        .unwrap()
    }

    #[test]
    fn widened_values_keep_their_checksum() {
        let ints = batch(vec![("x", Arc::new(Int64Array::from(vec![1, 2, -7])))]);
        let floats = batch(vec![(
            "x",
            Arc::new(Float64Array::from(vec![1.0, 2.0, -7.0])),
        )]);
        let small = batch(vec![("x", Arc::new(Int32Array::from(vec![1, 2, -7])))]);
        let dec = batch(vec![(
            "x",
            Arc::new(
                Decimal128Array::from(vec![100, 200, -700])
                    .with_precision_and_scale(10, 2)
                    .unwrap(),
            ),
        )]);
        let c = batch_checksum(&ints);
        assert_eq!(batch_checksum(&floats), c);
        assert_eq!(batch_checksum(&small), c);
        assert_eq!(batch_checksum(&dec), c);
        let dates = batch(vec![("d", Arc::new(Date32Array::from(vec![19_000])))]);
        let ts = batch(vec![(
            "d",
            Arc::new(TimestampMicrosecondArray::from(vec![
                19_000 * 86_400 * 1_000_000,
            ])),
        )]);
        assert_eq!(batch_checksum(&dates), batch_checksum(&ts));
        let half = batch(vec![(
            "x",
            Arc::new(
                Decimal128Array::from(vec![150])
                    .with_precision_and_scale(10, 2)
                    .unwrap(),
            ),
        )]);
        let half1 = batch(vec![(
            "x",
            Arc::new(
                Decimal128Array::from(vec![15])
                    .with_precision_and_scale(10, 1)
                    .unwrap(),
            ),
        )]);
        assert_eq!(batch_checksum(&half), batch_checksum(&half1));
    }

    #[test]
    fn order_independent_but_value_sensitive() {
        let a = batch(vec![
            ("id", Arc::new(Int64Array::from(vec![1, 2, 3]))),
            (
                "s",
                Arc::new(StringArray::from(vec![Some("a"), None, Some("c")])),
            ),
        ]);
        let shuffled = batch(vec![
            ("id", Arc::new(Int64Array::from(vec![3, 1, 2]))),
            (
                "s",
                Arc::new(StringArray::from(vec![Some("c"), Some("a"), None])),
            ),
        ]);
        assert_eq!(batch_checksum(&a), batch_checksum(&shuffled));
        // Values swapped between rows of one column.
        let swapped = batch(vec![
            ("id", Arc::new(Int64Array::from(vec![1, 2, 3]))),
            (
                "s",
                Arc::new(StringArray::from(vec![Some("c"), None, Some("a")])),
            ),
        ]);
        assert_ne!(batch_checksum(&a), batch_checksum(&swapped));
        // One value changed; the column renamed; a null made a value.
        let changed = batch(vec![
            ("id", Arc::new(Int64Array::from(vec![1, 2, 4]))),
            (
                "s",
                Arc::new(StringArray::from(vec![Some("a"), None, Some("c")])),
            ),
        ]);
        assert_ne!(batch_checksum(&a), batch_checksum(&changed));
        let renamed = batch(vec![
            ("id2", Arc::new(Int64Array::from(vec![1, 2, 3]))),
            (
                "s",
                Arc::new(StringArray::from(vec![Some("a"), None, Some("c")])),
            ),
        ]);
        assert_ne!(batch_checksum(&a), batch_checksum(&renamed));
        // A missing column and a column of nulls agree.
        let without = batch(vec![("id", Arc::new(Int64Array::from(vec![1])))]);
        let nulls = batch(vec![
            ("id", Arc::new(Int64Array::from(vec![1]))),
            ("s", Arc::new(StringArray::from(vec![None::<&str>]))),
        ]);
        assert_eq!(batch_checksum(&without), batch_checksum(&nulls));
        // Sliced batches add up to the whole.
        let parts = batch_checksum(&a.slice(0, 1)).wrapping_add(batch_checksum(&a.slice(1, 2)));
        assert_eq!(parts, batch_checksum(&a));
    }

    #[test]
    fn text_is_not_a_number() {
        let n = batch(vec![("x", Arc::new(Int64Array::from(vec![5])))]);
        let t = batch(vec![("x", Arc::new(StringArray::from(vec!["5"])))]);
        assert_ne!(batch_checksum(&n), batch_checksum(&t));
        assert_eq!(format(0xab), "00000000000000ab");
    }
}
