use std::io::{Read, Write};
use std::sync::Arc;

use super::*;
use crate::error::ErrorKind;
use crate::input::archive::reaches_out;
use crate::input::ExpansionLimits;

/// A zip archive written by hand (stored or deflated members; `flags` on every member).
fn zip_of(members: &[(&str, &[u8], bool)], flags: u16) -> Vec<u8> {
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
        common.extend_from_slice(&20u16.to_le_bytes());
        common.extend_from_slice(&flags.to_le_bytes());
        common.extend_from_slice(&method.to_le_bytes());
        common.extend_from_slice(&[0, 0, 0x21, 0]);
        common.extend_from_slice(&crc.sum().to_le_bytes());
        common.extend_from_slice(&(body.len() as u32).to_le_bytes());
        common.extend_from_slice(&(data.len() as u32).to_le_bytes());
        common.extend_from_slice(&(name.len() as u16).to_le_bytes());
        common.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&common);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&body);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&common);
        central.extend_from_slice(&[0; 10]);
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

fn bytes_source(name: &str, b: Vec<u8>) -> Source {
    Source::new(name, SourceData::Bytes(Arc::from(b)))
}

fn read_unit(unit: Unit, opts: &InputOptions) -> (String, OpenedUnit) {
    let mut opened = unit.open(opts, true, None).unwrap();
    let mut text = String::new();
    opened.input.reader.read_to_string(&mut text).unwrap();
    (text, opened)
}

#[test]
fn names_that_reach_outside_an_archive() {
    for bad in [
        "../x",
        "a/../../x",
        "/etc/x",
        "\\x",
        "C:x",
        "c:\\x",
        "a\\..\\x",
        "a\0b",
    ] {
        assert!(reaches_out(bad), "{bad:?}");
    }
    for ok in ["x.csv", "dir/x.csv", "a..b/c", "..x", "dir/"] {
        assert!(!reaches_out(ok), "{ok:?}");
    }
}

#[test]
fn a_zip_becomes_one_unit_per_member_in_order() {
    let zip = zip_of(
        &[
            ("dir/", b"", false),
            ("a.csv", b"a\n1\n", false),
            ("__MACOSX/._a.csv", b"junk", false),
            ("dir/b.csv", b"a\n2\n3\n", true),
        ],
        0,
    );
    let opts = InputOptions::default();
    let units = units(vec![bytes_source("z.zip", zip)], &opts).unwrap();
    let names: Vec<&str> = units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["z.zip/a.csv", "z.zip/dir/b.csv"]);
    let texts: Vec<String> = units.into_iter().map(|u| read_unit(u, &opts).0).collect();
    assert_eq!(texts, ["a\n1\n", "a\n2\n3\n"]);
}

#[test]
fn zip_slip_and_encrypted_members_are_refused() {
    let opts = InputOptions::default();
    let slip = zip_of(
        &[("ok.csv", b"a\n", false), ("/etc/x.csv", b"a\n", false)],
        0,
    );
    let err = units(vec![bytes_source("s.zip", slip)], &opts).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::UnsafeName(_)), "{err}");
    assert!(err.to_string().contains("/etc/x.csv"), "{err}");
    let locked = zip_of(&[("a.csv", b"a\n1\n", false)], 1);
    let err = units(vec![bytes_source("e.zip", locked)], &opts).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Encrypted(_)), "{err}");
}

#[test]
fn expansion_limits_apply_to_each_member() {
    let big = vec![b'x'; 300_000];
    let zip = zip_of(&[("a.csv", &big, true), ("b.csv", &big, true)], 0);
    let mut opts = InputOptions {
        limits: ExpansionLimits {
            max_bytes: Some(400_000),
            ..ExpansionLimits::default()
        },
        ..InputOptions::default()
    };
    // Each member stays under the limit, though both together pass it.
    for unit in units(vec![bytes_source("z.zip", zip.clone())], &opts).unwrap() {
        assert_eq!(read_unit(unit, &opts).0.len(), 300_000);
    }
    opts.limits.max_bytes = Some(100_000);
    let unit = units(vec![bytes_source("z.zip", zip)], &opts)
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    let mut opened = unit.open(&opts, false, None).unwrap();
    let mut sink = Vec::new();
    let err = opened.input.reader.read_to_end(&mut sink).unwrap_err();
    assert!(err.to_string().contains("expands past the limit"), "{err}");
}

#[test]
fn fingerprints_count_and_hash_what_streams_past() {
    let opts = InputOptions::default();
    let data = b"a,b\n1,2\n".to_vec();
    let reader = Source::new(
        "<stream>",
        SourceData::Reader(Box::new(std::io::Cursor::new(data.clone()))),
    );
    let unit = units(vec![reader], &opts)
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    let (text, opened) = read_unit(unit, &opts);
    assert_eq!(text.as_bytes(), &data[..]);
    let fp = opened.fingerprint();
    assert_eq!(fp.size, Some(8));
    // sha256("a,b\n1,2\n")
    let want = {
        let mut h = Sha256::new();
        h.update(&data);
        hex(&h.finalize())
    };
    assert_eq!(fp.sha256.as_deref(), Some(want.as_str()));
    assert_eq!(want.len(), 64);
}

#[test]
fn members_of_a_shared_seekable_source_read_independently() {
    let zip = zip_of(&[("a.csv", b"a\n1\n", true), ("b.csv", b"b\n2\n", true)], 0);
    let opts = InputOptions::default();
    let src = Source::new(
        "z.zip",
        SourceData::Seekable(Box::new(std::io::Cursor::new(zip))),
    );
    let mut opened: Vec<OpenedUnit> = units(vec![src], &opts)
        .unwrap()
        .into_iter()
        .map(|u| u.open(&opts, false, None).unwrap())
        .collect();
    // Interleaved reads: each member keeps its own position on the one source.
    let mut a = [0u8; 2];
    let mut b = [0u8; 2];
    opened[0].input.reader.read_exact(&mut a).unwrap();
    opened[1].input.reader.read_exact(&mut b).unwrap();
    assert_eq!((&a, &b), (b"a\n", b"b\n"));
    let mut rest = String::new();
    opened[0].input.reader.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "1\n");
}

#[test]
fn a_zip_from_a_stream_that_cannot_seek_is_refused() {
    let zip = zip_of(&[("a.csv", b"a\n1\n", false)], 0);
    let opts = InputOptions::default();
    let src = Source::new(
        "<stream>",
        SourceData::Reader(Box::new(std::io::Cursor::new(zip))),
    );
    let unit = units(vec![src], &opts).unwrap().into_iter().next().unwrap();
    let err = unit.open(&opts, false, None).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Unsupported(_)), "{err}");
    assert!(err.to_string().contains("seekable"), "{err}");
}
