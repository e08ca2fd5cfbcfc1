//! Text encoding: byte order marks, UTF-16/32 without BOM, UTF-8, legacy charsets.

use std::borrow::Cow;

use super::Finding;

/// A text encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// UTF-8 (ASCII included); `bom`: starts with `EF BB BF`.
    Utf8 {
        /// Whether the sample starts with a byte order mark.
        bom: bool,
    },
    /// UTF-16 little endian; `bom`: starts with `FF FE`.
    Utf16Le {
        /// Whether the sample starts with a byte order mark.
        bom: bool,
    },
    /// UTF-16 big endian; `bom`: starts with `FE FF`.
    Utf16Be {
        /// Whether the sample starts with a byte order mark.
        bom: bool,
    },
    /// UTF-32 little endian; `bom`: starts with `FF FE 00 00`.
    Utf32Le {
        /// Whether the sample starts with a byte order mark.
        bom: bool,
    },
    /// UTF-32 big endian; `bom`: starts with `00 00 FE FF`.
    Utf32Be {
        /// Whether the sample starts with a byte order mark.
        bom: bool,
    },
    /// A legacy (non-Unicode) charset, by its `encoding_rs` / WHATWG name: `"windows-1252"`
    /// (which also stands for ISO-8859-1), `"Shift_JIS"`, `"GB18030"`, `"EUC-KR"`,
    /// `"windows-1251"`, `"ISO-8859-2"`, ...
    Legacy(&'static str),
}

impl Encoding {
    /// Python-style codec name: `"utf-8"`, `"utf-8-sig"` (with BOM), `"utf-16-le"`,
    /// `"utf-32-be"`, `"windows-1252"`, `"shift_jis"`, ...
    pub fn name(&self) -> String {
        match self {
            Encoding::Utf8 { bom: false } => "utf-8".into(),
            Encoding::Utf8 { bom: true } => "utf-8-sig".into(),
            Encoding::Utf16Le { .. } => "utf-16-le".into(),
            Encoding::Utf16Be { .. } => "utf-16-be".into(),
            Encoding::Utf32Le { .. } => "utf-32-le".into(),
            Encoding::Utf32Be { .. } => "utf-32-be".into(),
            Encoding::Legacy(name) => name.to_ascii_lowercase(),
        }
    }

    /// Length of the byte order mark the sample starts with under this encoding (0 if none).
    pub fn bom_len(&self) -> usize {
        match *self {
            Encoding::Utf8 { bom: true } => 3,
            Encoding::Utf16Le { bom: true } | Encoding::Utf16Be { bom: true } => 2,
            Encoding::Utf32Le { bom: true } | Encoding::Utf32Be { bom: true } => 4,
            _ => 0,
        }
    }
}

/// How much of the sample the zero-byte and chardetng checks look at.
const PROBE: usize = 16 << 10;

/// Detects the text encoding of a sample.
///
/// In order: a byte order mark (UTF-32 before UTF-16, as `FF FE 00 00` starts both); UTF-16/32
/// without BOM by where the zero bytes fall (ASCII-range text in UTF-16LE has a zero in every
/// odd byte); valid UTF-8 (a character cut at the end of the sample is allowed); otherwise a
/// legacy charset guessed by `chardetng`.
pub fn encoding(sample: &[u8]) -> Finding<Encoding> {
    if sample.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Finding::new(Encoding::Utf8 { bom: true }, 1.0, "UTF-8 byte order mark");
    }
    if sample.starts_with(&[0xFF, 0xFE, 0, 0]) {
        return Finding::new(
            Encoding::Utf32Le { bom: true },
            0.95,
            "UTF-32LE byte order mark",
        );
    }
    if sample.starts_with(&[0, 0, 0xFE, 0xFF]) {
        return Finding::new(
            Encoding::Utf32Be { bom: true },
            1.0,
            "UTF-32BE byte order mark",
        );
    }
    if sample.starts_with(&[0xFF, 0xFE]) {
        return Finding::new(
            Encoding::Utf16Le { bom: true },
            1.0,
            "UTF-16LE byte order mark",
        );
    }
    if sample.starts_with(&[0xFE, 0xFF]) {
        return Finding::new(
            Encoding::Utf16Be { bom: true },
            1.0,
            "UTF-16BE byte order mark",
        );
    }
    let probe = sample.get(..sample.len().min(PROBE)).unwrap_or(sample);
    if let Some(f) = zero_pattern(probe) {
        return f;
    }
    match utf8_prefix_valid(sample) {
        Utf8Check::Ascii => {
            return Finding::new(Encoding::Utf8 { bom: false }, 0.9, "ASCII only");
        }
        Utf8Check::Valid => {
            return Finding::new(
                Encoding::Utf8 { bom: false },
                1.0,
                "valid UTF-8 with multi-byte characters",
            );
        }
        Utf8Check::Invalid => {
            if let Some(f) = damaged_utf8(sample) {
                return f;
            }
        }
    }
    let mut det = chardetng::EncodingDetector::new();
    // Not `last`: the sample is usually cut from a longer file.
    det.feed(probe, probe.len() == sample.len());
    let (enc, sure) = det.guess_assess(None, false);
    let name = match enc.name() {
        // GB18030 is the superset; encoding_rs decodes both the same way.
        "GBK" => "GB18030",
        n => n,
    };
    if name == "windows-1252" {
        if let Some(f) = latin9(probe) {
            return f;
        }
    }
    Finding::new(
        Encoding::Legacy(name),
        if sure { 0.8 } else { 0.4 },
        format!("not UTF-8; chardetng guesses {name}"),
    )
}

/// ISO-8859-15 (Latin-9) rather than windows-1252, which chardetng does not tell apart.
///
/// Latin-9 differs from Latin-1 in eight bytes, chiefly `A4`: `€` there, the generic currency
/// sign `¤` in Latin-1 and windows-1252, which text hardly ever uses. Windows-1252 puts its
/// `€` and curly quotes in `80`–`9F`, control codes in Latin-9. So: no byte in `80`–`9F`, and
/// `A4`, or one of `Š š Œ œ Ÿ` (`A6 A8 BC BD BE`, symbols in windows-1252) beside a letter.
/// `B4` and `B8` (`Ž ž`, or the accents `´ ¸` that Latin-1 text does use between letters)
/// are not evidence either way.
fn latin9(probe: &[u8]) -> Option<Finding<Encoding>> {
    if probe.iter().any(|b| (0x80..=0x9F).contains(b)) {
        return None;
    }
    let letter = |b: Option<&u8>| b.is_some_and(|&b| b.is_ascii_alphabetic() || b >= 0xC0);
    let euro = memchr::memchr_iter(0xA4, probe).count();
    let letters = probe
        .iter()
        .enumerate()
        .filter(|&(i, b)| {
            matches!(b, 0xA6 | 0xA8 | 0xBC | 0xBD | 0xBE)
                && (letter(probe.get(i.wrapping_sub(1))) || letter(probe.get(i + 1)))
        })
        .count();
    if euro + letters == 0 {
        return None;
    }
    Some(Finding::new(
        Encoding::Legacy("ISO-8859-15"),
        0.6,
        format!(
            "not UTF-8; Latin text with no byte in 80-9F and {euro} euro sign(s) at A4, \
             {letters} Latin-9 letter(s) at A6/A8/BC-BE"
        ),
    ))
}

enum Utf8Check {
    Ascii,
    Valid,
    Invalid,
}

/// UTF-8 text with a few damaged lines, rather than a legacy charset: valid multi-byte
/// characters on more lines than invalid bytes, or invalid bytes on one line only or on
/// fewer than 1% of the lines. Reading such a file as UTF-8 rejects just the damaged records; reading it as a
/// legacy charset would silently change every non-ASCII character.
fn damaged_utf8(sample: &[u8]) -> Option<Finding<Encoding>> {
    let (mut lines, mut invalid, mut multibyte) = (0usize, 0usize, 0usize);
    let mut rest = sample;
    while !rest.is_empty() {
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (
                rest.get(..i).unwrap_or_default(),
                rest.get(i + 1..).unwrap_or_default(),
            ),
            None => (rest, &[][..]),
        };
        let last = next.is_empty();
        rest = next;
        lines += 1;
        match std::str::from_utf8(line) {
            Ok(s) if !s.is_ascii() => multibyte += 1,
            Ok(_) => {}
            // A character cut by the end of the sample is not damage.
            Err(e) if last && e.error_len().is_none() => {}
            Err(_) => invalid += 1,
        }
    }
    if invalid == 0 || (multibyte <= invalid && invalid >= 2 && invalid * 100 >= lines) {
        return None;
    }
    Some(Finding::new(
        Encoding::Utf8 { bom: false },
        0.6,
        format!("UTF-8 with invalid bytes on {invalid} of {lines} lines"),
    ))
}

/// Validates UTF-8, allowing one character cut by the end of the sample.
fn utf8_prefix_valid(sample: &[u8]) -> Utf8Check {
    match std::str::from_utf8(sample) {
        Ok(s) if s.is_ascii() => Utf8Check::Ascii,
        Ok(_) => Utf8Check::Valid,
        Err(e) if e.error_len().is_none() && sample.len() - e.valid_up_to() < 4 => {
            if sample.iter().all(u8::is_ascii) {
                Utf8Check::Ascii
            } else {
                Utf8Check::Valid
            }
        }
        Err(_) => Utf8Check::Invalid,
    }
}

/// UTF-16/32 without a BOM, from the share of zero bytes at each position modulo 4.
fn zero_pattern(probe: &[u8]) -> Option<Finding<Encoding>> {
    if probe.len() < 8 {
        return None;
    }
    let mut zeros = [0usize; 4];
    let mut total = [0usize; 4];
    for (i, &b) in probe.iter().enumerate() {
        let k = i % 4;
        if let (Some(t), Some(z)) = (total.get_mut(k), zeros.get_mut(k)) {
            *t += 1;
            *z += usize::from(b == 0);
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let share = |k: usize| -> f32 {
        let z = zeros.get(k).copied().unwrap_or(0);
        let t = total.get(k).copied().unwrap_or(0).max(1);
        z as f32 / t as f32
    };
    let (s0, s1, s2, s3) = (share(0), share(1), share(2), share(3));
    let hi = 0.5;
    let lo = 0.05;
    if s1 > hi && s2 > hi && s3 > hi && s0 < lo {
        return Some(Finding::new(
            Encoding::Utf32Le { bom: false },
            0.9,
            "zero bytes in 3 of every 4 positions (UTF-32LE)",
        ));
    }
    if s0 > hi && s1 > hi && s2 > hi && s3 < lo {
        return Some(Finding::new(
            Encoding::Utf32Be { bom: false },
            0.9,
            "zero bytes in 3 of every 4 positions (UTF-32BE)",
        ));
    }
    let even = (s0 + s2) / 2.0;
    let odd = (s1 + s3) / 2.0;
    if odd > 0.3 && even < lo {
        return Some(Finding::new(
            Encoding::Utf16Le { bom: false },
            (odd + 0.2).min(0.95),
            "zero bytes at odd offsets (UTF-16LE)",
        ));
    }
    if even > 0.3 && odd < lo {
        return Some(Finding::new(
            Encoding::Utf16Be { bom: false },
            (even + 0.2).min(0.95),
            "zero bytes at even offsets (UTF-16BE)",
        ));
    }
    None
}

/// The sample as UTF-8 text under `enc` (BOM dropped, malformed sequences replaced by
/// U+FFFD, a character cut at the end dropped). Borrowed when it already is UTF-8.
pub(crate) fn to_utf8<'a>(sample: &'a [u8], enc: &Encoding) -> Cow<'a, [u8]> {
    let body = sample.get(enc.bom_len()..).unwrap_or_default();
    let codec = match *enc {
        Encoding::Utf8 { .. } => return Cow::Borrowed(body),
        Encoding::Utf16Le { .. } => encoding_rs::UTF_16LE,
        Encoding::Utf16Be { .. } => encoding_rs::UTF_16BE,
        Encoding::Utf32Le { .. } | Encoding::Utf32Be { .. } => {
            let le = matches!(enc, Encoding::Utf32Le { .. });
            let mut out = String::with_capacity(body.len() / 4);
            for c in body.chunks_exact(4) {
                let b = [
                    c.first().copied().unwrap_or(0),
                    c.get(1).copied().unwrap_or(0),
                    c.get(2).copied().unwrap_or(0),
                    c.get(3).copied().unwrap_or(0),
                ];
                let u = if le {
                    u32::from_le_bytes(b)
                } else {
                    u32::from_be_bytes(b)
                };
                out.push(char::from_u32(u).unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            return Cow::Owned(out.into_bytes());
        }
        Encoding::Legacy(name) => match encoding_rs::Encoding::for_label(name.as_bytes()) {
            Some(e) => e,
            None => return Cow::Borrowed(body),
        },
    };
    let mut dec = codec.new_decoder_without_bom_handling();
    let cap = dec
        .max_utf8_buffer_length(body.len())
        .unwrap_or(body.len().saturating_mul(3));
    let mut out = String::with_capacity(cap);
    // `last = false`: a sequence cut at the end is dropped rather than replaced.
    let (_, _, _) = dec.decode_to_string(body, &mut out, false);
    Cow::Owned(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{utf16, utf32};

    const LATIN: &str = "Größe,Preis,Straße\nÄpfel,1.50 €,Königstraße\nNaïve café,2.00 €,Rue de la Paix\nCrème brûlée,3.20 €,Façade\nØre,4 €,Ålesund\n";
    const FRENCH: &str = "nom,prix,note\nŒuvre complète,12,chef-d'œuvre\nL'Haÿ-les-Roses,8,Ÿ majuscule\nBœuf bourguignon,15,très bon\n";
    const FRENCH_LATIN1: &str =
        "nom,prix,note\nCrème brûlée,1½,très bon\nCafé,2¼,naïf\nDon´t,3¾,«citation»\n";
    const JAPANESE: &str = "名前,年齢,住所\n山田太郎,30,東京都千代田区\n鈴木花子,25,大阪府大阪市北区\n佐藤次郎,40,北海道札幌市中央区\n日本語のテキストです。これはテストです。\n";
    const CHINESE: &str = "姓名,年龄,城市\n张伟,30,北京市朝阳区\n王芳,25,上海市浦东新区\n李娜,40,广州市天河区\n这是一个用于测试字符编码检测的中文句子。\n";
    const KOREAN: &str = "이름,나이,도시\n김철수,30,서울특별시 강남구\n이영희,25,부산광역시 해운대구\n박민수,40,대구광역시 중구\n이것은 문자 인코딩 감지를 위한 한국어 문장입니다.\n";
    const CYRILLIC: &str = "Имя,Возраст,Город\nИван Петров,30,Москва\nМария Иванова,25,Санкт-Петербург\nСергей Смирнов,40,Новосибирск\nЭто предложение на русском языке для проверки.\n";
    const CENTRAL: &str = "Jméno,Věk,Město\nJiří Novák,30,Praha\nŽofie Dvořáková,25,Brno\nŘehoř Černý,40,Ostrava\nPříliš žluťoučký kůň úpěl ďábelské ódy.\nZażółć gęślą jaźń, łódź, źdźbło.\n";

    fn encode(text: &str, label: &str) -> Vec<u8> {
        let enc = encoding_rs::Encoding::for_label(label.as_bytes()).unwrap_or(encoding_rs::UTF_8);
        let (bytes, _, unmappable) = enc.encode(text);
        assert!(!unmappable, "{label} cannot encode the test text");
        // Repeat so chardetng has enough evidence, as a real 64 KiB sample would.
        bytes.repeat(4)
    }

    #[test]
    fn legacy_charsets() {
        for (text, label, want) in [
            (LATIN, "windows-1252", "windows-1252"),
            (JAPANESE, "Shift_JIS", "Shift_JIS"),
            (CHINESE, "GB18030", "GB18030"),
            (CHINESE, "GBK", "GB18030"),
            (KOREAN, "EUC-KR", "EUC-KR"),
            (CYRILLIC, "windows-1251", "windows-1251"),
            (CENTRAL, "ISO-8859-2", "ISO-8859-2"),
            (LATIN, "ISO-8859-15", "ISO-8859-15"),
            (FRENCH, "ISO-8859-15", "ISO-8859-15"),
            // Latin-1 text without a euro sign stays windows-1252, its superset.
            (FRENCH_LATIN1, "ISO-8859-1", "windows-1252"),
        ] {
            let bytes = encode(text, label);
            let got = encoding(&bytes);
            assert_eq!(
                got.value,
                Encoding::Legacy(want),
                "{label}: {}",
                got.evidence
            );
            // Transcoding gives the text back.
            let back = to_utf8(&bytes, &got.value);
            assert!(
                back.as_ref() == text.repeat(4).as_bytes(),
                "{label}: transcoding"
            );
        }
    }

    #[test]
    fn unicode_forms() {
        let ascii = "id,name\n1,alpha\n2,beta\n3,gamma\n";
        let mut utf8_bom = vec![0xEF, 0xBB, 0xBF];
        utf8_bom.extend_from_slice(JAPANESE.as_bytes());
        // A multi-byte character cut by the end of the sample is still UTF-8.
        let cut = JAPANESE
            .as_bytes()
            .get(..JAPANESE.len() - 2)
            .unwrap_or_default()
            .to_vec();
        for (bytes, want) in [
            (ascii.as_bytes().to_vec(), Encoding::Utf8 { bom: false }),
            (JAPANESE.as_bytes().to_vec(), Encoding::Utf8 { bom: false }),
            (cut, Encoding::Utf8 { bom: false }),
            (utf8_bom, Encoding::Utf8 { bom: true }),
            (utf16(ascii, true, true), Encoding::Utf16Le { bom: true }),
            (utf16(ascii, false, true), Encoding::Utf16Be { bom: true }),
            (utf16(ascii, true, false), Encoding::Utf16Le { bom: false }),
            (utf16(ascii, false, false), Encoding::Utf16Be { bom: false }),
            (utf16(LATIN, true, false), Encoding::Utf16Le { bom: false }),
            (utf16(LATIN, false, false), Encoding::Utf16Be { bom: false }),
            (utf16(JAPANESE, true, true), Encoding::Utf16Le { bom: true }),
            (utf32(ascii, true, true), Encoding::Utf32Le { bom: true }),
            (utf32(ascii, false, true), Encoding::Utf32Be { bom: true }),
            (utf32(ascii, true, false), Encoding::Utf32Le { bom: false }),
            (utf32(ascii, false, false), Encoding::Utf32Be { bom: false }),
            (Vec::new(), Encoding::Utf8 { bom: false }),
        ] {
            let got = encoding(&bytes);
            assert_eq!(got.value, want, "{bytes:?}: {}", got.evidence);
        }
    }

    #[test]
    fn encoder_written_utf16() {
        // encoding_rs only encodes to UTF-8 and legacy charsets (UTF-16 output is not part of
        // the WHATWG encoders), so check that its UTF-16 decoders read back what we wrote.
        for (le, bom) in [(true, true), (true, false), (false, true), (false, false)] {
            let bytes = utf16(LATIN, le, bom);
            let got = encoding(&bytes);
            let back = to_utf8(&bytes, &got.value);
            assert_eq!(back.as_ref(), LATIN.as_bytes(), "le={le} bom={bom}");
        }
        let bytes = utf32(CHINESE, true, true);
        let back = to_utf8(&bytes, &encoding(&bytes).value);
        assert_eq!(back.as_ref(), CHINESE.as_bytes());
    }
}
