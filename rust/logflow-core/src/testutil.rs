//! Helpers shared by unit tests of several modules.

/// `text` in UTF-16, little or big endian, with or without a byte order mark.
pub(crate) fn utf16(text: &str, le: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(if le { &[0xFF, 0xFE] } else { &[0xFE, 0xFF] });
    }
    for u in text.encode_utf16() {
        out.extend_from_slice(&if le { u.to_le_bytes() } else { u.to_be_bytes() });
    }
    out
}

/// `text` in UTF-32, little or big endian, with or without a byte order mark.
pub(crate) fn utf32(text: &str, le: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(if le {
            &[0xFF, 0xFE, 0, 0]
        } else {
            &[0, 0, 0xFE, 0xFF]
        });
    }
    for c in text.chars() {
        let u = u32::from(c);
        out.extend_from_slice(&if le { u.to_le_bytes() } else { u.to_be_bytes() });
    }
    out
}

/// A zip local file header naming `name` (no data): enough for the magic-byte checks.
pub(crate) fn zip_local_header(name: &str) -> Vec<u8> {
    let mut out = b"PK\x03\x04".to_vec();
    out.extend_from_slice(&[0u8; 22]);
    out.extend_from_slice(&u16::try_from(name.len()).unwrap_or(0).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(name.as_bytes());
    out
}

/// A CSV read's options in one value: the decoding options and the dialect.
#[derive(Debug, Clone, Default)]
pub(crate) struct Opts {
    pub decode: crate::decode::DecodeOptions,
    pub csv: crate::decode::csv::CsvOptions,
}

impl Opts {
    /// A streaming reader over `src` with these options.
    pub fn reader<R: std::io::Read>(
        &self,
        src: R,
    ) -> crate::Result<crate::decode::csv::CsvReader<R>> {
        crate::decode::csv::reader(src, &self.decode, &self.csv)
    }
}
