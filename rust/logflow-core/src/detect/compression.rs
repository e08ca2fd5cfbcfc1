//! Compression by magic bytes.

use super::format::is_xlsx_zip;
use super::Finding;

/// A compression (or archive) wrapped around the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// Not compressed (or a format that compresses internally, like Parquet or xlsx).
    None,
    /// gzip (`1F 8B`).
    Gzip,
    /// Zstandard (`28 B5 2F FD`).
    Zstd,
    /// bzip2 (`BZh` + block size digit).
    Bzip2,
    /// xz (`FD 37 7A 58 5A 00`).
    Xz,
    /// A zip archive (`PK 03 04`, or `PK 05 06` for an empty one) that is not a workbook.
    Zip,
}

impl Compression {
    /// Lower-case name (`"gzip"`, `"zstd"`, ...; `"none"`).
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
            Compression::Zip => "zip",
        }
    }
}

/// Detects compression from the first bytes of a sample.
///
/// A zip archive whose local file headers name a workbook's entries (xlsx, xlsb, ods) is a
/// [`Format`](super::Format), not a compression, so it is reported as [`Compression::None`].
pub fn compression(sample: &[u8]) -> Finding<Compression> {
    let (value, evidence) = if sample.starts_with(&[0x1F, 0x8B]) {
        (Compression::Gzip, "gzip magic 1F 8B")
    } else if sample.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) {
        (Compression::Zstd, "zstd magic 28 B5 2F FD")
    } else if sample.starts_with(b"BZh") && sample.get(3).is_none_or(|b| (b'1'..=b'9').contains(b))
    {
        (Compression::Bzip2, "bzip2 magic \"BZh\" + block size")
    } else if sample.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0x00]) {
        (Compression::Xz, "xz magic FD 37 7A 58 5A 00")
    } else if sample.starts_with(b"PK\x03\x04") || sample.starts_with(b"PK\x05\x06") {
        if is_xlsx_zip(sample) {
            (
                Compression::None,
                "zip container of a workbook (xlsx, xlsb or ods: a format)",
            )
        } else {
            (Compression::Zip, "zip magic PK 03 04")
        }
    } else {
        return Finding::new(Compression::None, 0.9, "no compression magic bytes");
    };
    Finding::new(value, 1.0, evidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes() {
        let xlsx = crate::testutil::zip_local_header("xl/worksheets/s.xml");
        let xlsx = xlsx.as_slice();
        for (sample, want) in [
            (&b"\x1f\x8b\x08\x00"[..], Compression::Gzip),
            (b"\x1f\x8b", Compression::Gzip),
            (b"\x28\xb5\x2f\xfd\x24\x00", Compression::Zstd),
            (b"BZh91AY&SY", Compression::Bzip2),
            (b"BZh", Compression::Bzip2),
            (b"BZhx", Compression::None),
            (b"\xfd7zXZ\x00\x00\x04", Compression::Xz),
            (b"PK\x03\x04\x14\x00\x00\x00data.csv", Compression::Zip),
            (b"PK\x05\x06\x00\x00", Compression::Zip),
            (xlsx, Compression::None),
            (b"PAR1", Compression::None),
            (b"a,b\n1,2\n", Compression::None),
            (b"", Compression::None),
            (b"\x1f", Compression::None),
        ] {
            let got = compression(sample);
            assert_eq!(got.value, want, "{sample:?}");
            assert!(!got.evidence.is_empty());
        }
    }
}
