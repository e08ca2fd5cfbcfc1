use std::io::{Read, Write};
use std::path::PathBuf;

use super::*;
use crate::testutil::{utf16, utf32};

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "logflow-input-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read_all(path: &Path, opts: &InputOptions) -> Result<(String, Input)> {
    let mut input = open(path, opts, None)?;
    let mut out = Vec::new();
    input.reader.read_to_end(&mut out)?;
    let text = String::from_utf8(out).map_err(|e| Error::invalid(e.to_string()))?;
    Ok((text, input))
}

fn table(rows: usize) -> String {
    let mut s = String::from("id;name;amount\n");
    for i in 0..rows {
        s.push_str(&format!("{i};Zoë Ærøskøbing {i};{}.5\n", i * 3));
    }
    s
}

/// A zip archive with the given members, each stored (method 0) or deflated (8), written
/// with the local header sizes and CRC filled in.
fn zip_of(members: &[(&str, &[u8], bool)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data, deflate) in members {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let body = if *deflate {
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        } else {
            data.to_vec()
        };
        let method: u16 = if *deflate { 8 } else { 0 };
        let offset = out.len() as u32;
        let mut common = Vec::new();
        common.extend_from_slice(&20u16.to_le_bytes()); // version needed
        common.extend_from_slice(&0u16.to_le_bytes()); // flags
        common.extend_from_slice(&method.to_le_bytes());
        common.extend_from_slice(&[0, 0, 0, 0]); // time, date
        common.extend_from_slice(&crc.sum().to_le_bytes());
        common.extend_from_slice(&(body.len() as u32).to_le_bytes());
        common.extend_from_slice(&(data.len() as u32).to_le_bytes());
        common.extend_from_slice(&(name.len() as u16).to_le_bytes());
        common.extend_from_slice(&0u16.to_le_bytes()); // extra
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&common);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&body);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // version made by
        central.extend_from_slice(&common);
        central.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        central.extend_from_slice(&[0; 4]); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    let n = members.len() as u16;
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

#[test]
fn every_compression_round_trips() {
    let dir = TempDir::new("comp");
    // Larger than the detection sample, so the stream is read past it.
    let text = table(5000);
    let raw = text.as_bytes();
    let gz = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(raw).unwrap();
        e.finish().unwrap()
    };
    let zst = zstd::stream::encode_all(raw, 1).unwrap();
    let bz = {
        let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        e.write_all(raw).unwrap();
        e.finish().unwrap()
    };
    let xz = {
        let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
        e.write_all(raw).unwrap();
        e.finish().unwrap()
    };
    let cases: Vec<(&str, Vec<u8>, Compression)> = vec![
        ("plain.csv", raw.to_vec(), Compression::None),
        ("t.csv.gz", gz.clone(), Compression::Gzip),
        ("t.csv.zst", zst, Compression::Zstd),
        ("t.csv.bz2", bz, Compression::Bzip2),
        ("t.csv.xz", xz, Compression::Xz),
        (
            "stored.zip",
            zip_of(&[("t.csv", raw, false)]),
            Compression::Zip,
        ),
        (
            "deflated.zip",
            zip_of(&[("dir/", b"", false), ("dir/t.csv", raw, true)]),
            Compression::Zip,
        ),
    ];
    for (name, bytes, comp) in cases {
        let path = dir.file(name, &bytes);
        let (got, input) = read_all(&path, &InputOptions::default()).unwrap();
        assert_eq!(input.compression.value, comp, "{name}");
        assert_eq!(got, text, "{name}");
        assert_eq!(input.size, bytes.len() as u64);
    }
    // Concatenated gzip members are one stream.
    let mut two = gz.clone();
    two.extend_from_slice(&gz);
    let path = dir.file("two.gz", &two);
    let (got, _) = read_all(&path, &InputOptions::default()).unwrap();
    assert_eq!(got, format!("{text}{text}"));
}

#[test]
fn progress_counts_file_bytes() {
    let dir = TempDir::new("progress");
    let text = table(3000);
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(text.as_bytes()).unwrap();
    let gz = e.finish().unwrap();
    let path = dir.file("t.gz", &gz);
    let counter = Arc::new(AtomicU64::new(0));
    let mut input = open(&path, &InputOptions::default(), Some(counter.clone())).unwrap();
    let mut out = Vec::new();
    input.reader.read_to_end(&mut out).unwrap();
    assert_eq!(counter.load(Ordering::Relaxed), gz.len() as u64);
}

#[test]
fn corrupt_and_unsupported_inputs_are_clear_errors() {
    let dir = TempDir::new("bad");
    let text = table(3000);
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(text.as_bytes()).unwrap();
    let gz = e.finish().unwrap();

    // Truncated and bit-flipped gzip: a decode error naming gzip, never a panic.
    let cut = dir.file("cut.gz", gz.get(..gz.len() / 2).unwrap());
    let err = read_all(&cut, &InputOptions::default()).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Decode { format: "gzip", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("cut.gz"), "{err}");
    let mut flipped = gz.clone();
    for b in flipped.iter_mut().skip(40).step_by(97) {
        *b ^= 0x5A;
    }
    let path = dir.file("flipped.gz", &flipped);
    let err = read_all(&path, &InputOptions::default()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Decode { .. }), "{err}");

    let two = zip_of(&[("a.csv", b"a\n1\n", false), ("b.csv", b"b\n2\n", false)]);
    let err = read_all(&dir.file("two.zip", &two), &InputOptions::default()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Unsupported(_)), "{err}");
    assert!(err.to_string().contains("a.csv, b.csv"), "{err}");

    let mut bad_crc = zip_of(&[("a.csv", b"a\n1\n", false)]);
    if let Some(b) = bad_crc.get_mut(30 + 5 + 1) {
        *b = b'9';
    }
    let err = read_all(&dir.file("crc.zip", &bad_crc), &InputOptions::default()).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Decode { format: "zip", .. }),
        "{err}"
    );

    let empty = zip_of(&[]);
    let err = read_all(&dir.file("empty.zip", &empty), &InputOptions::default()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Empty), "{err}");

    let parquet = dir.file("x.csv", b"PAR1\x15\x04\x15\x00\x00garbage");
    let err = read_all(&parquet, &InputOptions::default()).unwrap_err();
    assert!(err.to_string().contains("Parquet") || err.to_string().contains("parquet"));
    // Text that merely starts like a magic number is still text.
    let orcid = dir.file("orcid.csv", b"ORCID,name\n1,a\n");
    assert!(read_all(&orcid, &InputOptions::default()).is_ok());

    let err = open(&dir.0, &InputOptions::default(), None).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NotAFile(_)));
}

#[test]
fn every_encoding_round_trips_to_the_same_utf8() {
    let dir = TempDir::new("enc");
    let latin = "id,name,city\n".to_string()
        + &(0..400)
            .map(|i| format!("{i},José Müller-Lüdenscheidt {i},Göteborg Œuvre café\n"))
            .collect::<String>();
    let cyrillic = "id,имя\n".to_string()
        + &(0..400)
            .map(|i| format!("{i},Пётр Ильич Чайковский {i}\n"))
            .collect::<String>();
    let japanese = "id,名前\n".to_string()
        + &(0..400)
            .map(|i| format!("{i},東京都新宿区の山田太郎さん{i}\n"))
            .collect::<String>();
    let chinese = "id,名称\n".to_string()
        + &(0..400)
            .map(|i| format!("{i},北京市海淀区中关村大街{i}号\n"))
            .collect::<String>();
    let korean = "id,이름\n".to_string()
        + &(0..400)
            .map(|i| format!("{i},서울특별시 강남구 테헤란로 {i}\n"))
            .collect::<String>();
    let legacy: [(&str, &str, &String); 5] = [
        ("windows-1252", "windows-1252", &latin),
        ("windows-1251", "windows-1251", &cyrillic),
        ("Shift_JIS", "Shift_JIS", &japanese),
        ("GB18030", "gb18030", &chinese),
        ("EUC-KR", "EUC-KR", &korean),
    ];
    for (name, label, text) in legacy {
        let enc = encoding_rs::Encoding::for_label(label.as_bytes()).unwrap();
        let (bytes, _, lossy) = enc.encode(text);
        assert!(!lossy, "{name}");
        let path = dir.file(&format!("{name}.csv"), &bytes);
        let (got, input) = read_all(&path, &InputOptions::default()).unwrap();
        assert_eq!(input.encoding.value, Encoding::Legacy(name), "{name}");
        assert_eq!(&got, text, "{name}");
        // Named by the caller instead of detected.
        let given = InputOptions {
            encoding: Some(parse_encoding(label).unwrap()),
            ..InputOptions::default()
        };
        let (got, _) = read_all(&path, &given).unwrap();
        assert_eq!(&got, text, "{name} given");
    }
    // Larger than the sample and the transcoder's block, so code units straddle reads.
    let big = latin.repeat(60) + "末尾 😀\n";
    let unicode: Vec<(&str, Vec<u8>, Encoding)> = vec![
        (
            "u8bom",
            [&[0xEF, 0xBB, 0xBF][..], big.as_bytes()].concat(),
            Encoding::Utf8 { bom: true },
        ),
        (
            "u16le",
            utf16(&big, true, true),
            Encoding::Utf16Le { bom: true },
        ),
        (
            "u16be",
            utf16(&big, false, true),
            Encoding::Utf16Be { bom: true },
        ),
        (
            "u16le-nobom",
            utf16(&big, true, false),
            Encoding::Utf16Le { bom: false },
        ),
        (
            "u16be-nobom",
            utf16(&big, false, false),
            Encoding::Utf16Be { bom: false },
        ),
        (
            "u32le",
            utf32(&big, true, true),
            Encoding::Utf32Le { bom: true },
        ),
        (
            "u32be",
            utf32(&big, false, true),
            Encoding::Utf32Be { bom: true },
        ),
        (
            "u32le-nobom",
            utf32(&big, true, false),
            Encoding::Utf32Le { bom: false },
        ),
    ];
    for (name, bytes, enc) in unicode {
        let path = dir.file(name, &bytes);
        let (got, input) = read_all(&path, &InputOptions::default()).unwrap();
        assert_eq!(input.encoding.value, enc, "{name}");
        let want = if name == "u8bom" {
            format!("\u{feff}{big}")
        } else {
            big.clone()
        };
        assert!(got == want, "{name}: transcoding differs");
    }
}

#[test]
fn malformed_sequences_become_invalid_utf8_not_replacement_characters() {
    let dir = TempDir::new("malformed");
    // An unpaired surrogate in UTF-16LE.
    let mut bytes = utf16("a,b\n1,x", true, true);
    bytes.extend_from_slice(&0xD800u16.to_le_bytes());
    bytes.extend_from_slice(&utf16("y\n2,z\n", true, false));
    let path = dir.file("bad16.csv", &bytes);
    let mut input = open(&path, &InputOptions::default(), None).unwrap();
    let mut out = Vec::new();
    input.reader.read_to_end(&mut out).unwrap();
    assert_eq!(out, b"a,b\n1,x\xFFy\n2,z\n");
}

#[test]
fn a_few_bad_bytes_in_utf8_text_keep_it_utf8() {
    // One invalid line in hundreds is damage, not a legacy charset: transcoding it would
    // change every row silently instead of rejecting one.
    let dir = TempDir::new("fewbad");
    let mut text = table(2000).into_bytes();
    let at = text.len() / 2;
    text.splice(at..at, [0xE9u8, b'x']);
    let path = dir.file("t.csv", &text);
    let input = open(&path, &InputOptions::default(), None).unwrap();
    assert!(
        matches!(input.encoding.value, Encoding::Utf8 { .. }),
        "{:?}",
        input.encoding
    );
}

#[test]
fn names_parse() {
    assert_eq!(
        parse_encoding("latin-1").unwrap(),
        Encoding::Legacy("windows-1252")
    );
    assert_eq!(
        parse_encoding("UTF_16BE").unwrap(),
        Encoding::Utf16Be { bom: false }
    );
    assert_eq!(
        parse_encoding("sjis").unwrap(),
        Encoding::Legacy("Shift_JIS")
    );
    assert!(parse_encoding("klingon").is_err());
    assert_eq!(parse_compression("gz").unwrap(), Compression::Gzip);
    assert!(parse_compression("rar").is_err());
}

#[test]
fn json_and_xml_text_is_named_whatever_the_file_is_called() {
    let format = |bytes: &[u8]| {
        open_stream(
            std::io::Cursor::new(bytes.to_vec()),
            &InputOptions::default(),
        )
        .unwrap()
        .format
        .value
    };
    for (text, f) in [
        (&b"{\"a\": 1}\n{\"a\": 2}\n"[..], Format::Jsonl),
        (b"[{\"a\": 1}, {\"a\": 2}]\n", Format::Json),
        (
            b"<?xml version=\"1.0\"?>\n<rows><row a=\"1\"/></rows>\n",
            Format::Xml,
        ),
    ] {
        assert_eq!(format(text), f);
    }
    // Delimited text whose fields hold JSON is still delimited text.
    assert_eq!(format(b"id,doc\n1,\"{\"\"a\"\": 1}\"\n"), Format::Csv);
    // Text in UTF-16 is named by its transcoded bytes.
    let utf16: Vec<u8> = "{\"a\": 1}\n{\"a\": 2}\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    assert_eq!(format(&[&[0xFF, 0xFE][..], &utf16].concat()), Format::Jsonl);
}
