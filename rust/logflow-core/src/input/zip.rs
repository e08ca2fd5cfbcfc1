//! Reading the one file of a single-member zip archive (stored or deflated, zip64 included),
//! checked against its CRC-32 and size.
//!
//! Only what a data file shipped as `.zip` needs: the central directory is read to find the
//! member (so archives written with data descriptors work too), directories and macOS
//! resource forks (`__MACOSX/`) are ignored, and anything else (several files, encryption,
//! other compression methods) is a clear error.

use std::io::{self, Read, Seek, SeekFrom};

use crate::error::{Error, ErrorKind, Result};

const EOCD_SIG: u32 = 0x0605_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const LOCAL_SIG: u32 = 0x0403_4b50;
/// End-of-central-directory record (22 bytes) plus the longest comment.
const EOCD_SEARCH: u64 = 22 + 0xFFFF;
/// A central directory larger than this is not a single-member archive.
const MAX_CENTRAL: u64 = 64 << 20;

fn corrupt(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Unsupported(format!(
        "not a readable zip archive: {}",
        msg.into()
    )))
}

fn le16(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at + 2)?;
    Some(u64::from(u16::from_le_bytes([
        s.first().copied()?,
        s.get(1).copied()?,
    ])))
}

fn le32(b: &[u8], at: usize) -> Option<u64> {
    let s: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(u64::from(u32::from_le_bytes(s)))
}

fn le64(b: &[u8], at: usize) -> Option<u64> {
    let s: [u8; 8] = b.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(s))
}

fn read_at<R: Read + Seek>(src: &mut R, at: u64, len: u64) -> Result<Vec<u8>> {
    src.seek(SeekFrom::Start(at))?;
    let mut buf = Vec::new();
    src.by_ref().take(len).read_to_end(&mut buf)?;
    if (buf.len() as u64) < len {
        return Err(corrupt("the file ends early"));
    }
    Ok(buf)
}

/// One entry of the central directory.
#[derive(Debug)]
struct Entry {
    name: String,
    flags: u64,
    method: u64,
    crc: u32,
    compressed: u64,
    size: u64,
    local_offset: u64,
}

/// Finds the central directory: (offset, size, entries).
fn central_directory<R: Read + Seek>(src: &mut R) -> Result<(u64, u64, u64)> {
    let len = src.seek(SeekFrom::End(0))?;
    let from = len.saturating_sub(EOCD_SEARCH);
    let tail = read_at(src, from, len - from)?;
    let at = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| le32(&tail, i) == Some(u64::from(EOCD_SIG)))
        .ok_or_else(|| corrupt("no end of central directory record"))?;
    let field = |o: usize| le16(&tail, at + o).ok_or_else(|| corrupt("truncated end record"));
    let entries = field(10)?;
    let size = le32(&tail, at + 12).ok_or_else(|| corrupt("truncated end record"))?;
    let offset = le32(&tail, at + 16).ok_or_else(|| corrupt("truncated end record"))?;
    if entries != 0xFFFF && size != 0xFFFF_FFFF && offset != 0xFFFF_FFFF {
        return Ok((offset, size, entries));
    }
    // zip64: a locator sits just before the end record.
    let eocd_abs = from + at as u64;
    let loc = read_at(src, eocd_abs.saturating_sub(20), 20)?;
    if le32(&loc, 0) != Some(u64::from(ZIP64_LOCATOR_SIG)) {
        return Err(corrupt("zip64 locator missing"));
    }
    let z_at = le64(&loc, 8).ok_or_else(|| corrupt("zip64 locator truncated"))?;
    let z = read_at(src, z_at, 56)?;
    if le32(&z, 0) != Some(u64::from(ZIP64_EOCD_SIG)) {
        return Err(corrupt("zip64 end record missing"));
    }
    let get = |o: usize| le64(&z, o).ok_or_else(|| corrupt("zip64 end record truncated"));
    Ok((get(48)?, get(40)?, get(32)?))
}

fn entries<R: Read + Seek>(src: &mut R) -> Result<Vec<Entry>> {
    let (offset, size, count) = central_directory(src)?;
    if size > MAX_CENTRAL {
        return Err(corrupt(format!("central directory of {size} bytes")));
    }
    let cd = read_at(src, offset, size)?;
    let mut out = Vec::new();
    let mut p = 0usize;
    let bad = || corrupt("truncated central directory entry");
    while out.len() < usize::try_from(count).unwrap_or(usize::MAX) && p + 46 <= cd.len() {
        if le32(&cd, p) != Some(u64::from(CENTRAL_SIG)) {
            return Err(corrupt("bad central directory entry"));
        }
        let flags = le16(&cd, p + 8).ok_or_else(bad)?;
        let method = le16(&cd, p + 10).ok_or_else(bad)?;
        let crc = u32::try_from(le32(&cd, p + 16).ok_or_else(bad)?).unwrap_or(0);
        let mut compressed = le32(&cd, p + 20).ok_or_else(bad)?;
        let mut size = le32(&cd, p + 24).ok_or_else(bad)?;
        let name_len = le16(&cd, p + 28).ok_or_else(bad)? as usize;
        let extra_len = le16(&cd, p + 30).ok_or_else(bad)? as usize;
        let comment_len = le16(&cd, p + 32).ok_or_else(bad)? as usize;
        let mut local_offset = le32(&cd, p + 42).ok_or_else(bad)?;
        let name_at = p + 46;
        let name = cd.get(name_at..name_at + name_len).ok_or_else(bad)?;
        let extra = cd
            .get(name_at + name_len..name_at + name_len + extra_len)
            .ok_or_else(bad)?;
        // zip64 extended information: the 64-bit values of the fields saturated above.
        let mut e = 0usize;
        while e + 4 <= extra.len() {
            let id = le16(extra, e).unwrap_or(0);
            let len = le16(extra, e + 2).unwrap_or(0) as usize;
            if id == 1 {
                let mut q = e + 4;
                for field in [&mut size, &mut compressed, &mut local_offset] {
                    if *field == 0xFFFF_FFFF {
                        *field = le64(extra, q).ok_or_else(bad)?;
                        q += 8;
                    }
                }
            }
            e += 4 + len;
        }
        out.push(Entry {
            name: String::from_utf8_lossy(name).into_owned(),
            flags,
            method,
            crc,
            compressed,
            size,
            local_offset,
        });
        p = name_at + name_len + extra_len + comment_len;
    }
    Ok(out)
}

/// Opens the single file of a zip archive. Returns its name and a reader of its contents.
pub(super) fn open_single<R: Read + Seek + Send + 'static>(
    mut src: R,
) -> Result<(String, Box<dyn Read + Send>)> {
    let all = entries(&mut src)?;
    let files: Vec<&Entry> = all
        .iter()
        .filter(|e| !e.name.ends_with('/') && !e.name.starts_with("__MACOSX/"))
        .collect();
    let entry = match files.as_slice() {
        [one] => *one,
        [] => return Err(Error::new(ErrorKind::Empty)),
        many => {
            let names: Vec<&str> = many.iter().take(5).map(|e| e.name.as_str()).collect();
            return Err(Error::new(ErrorKind::Unsupported(format!(
                "the zip archive holds {} files ({}{}); only single-file archives are read",
                many.len(),
                names.join(", "),
                if many.len() > 5 { ", ..." } else { "" }
            ))));
        }
    };
    if entry.flags & 1 != 0 {
        return Err(Error::new(ErrorKind::Unsupported(format!(
            "zip member {:?} is encrypted",
            entry.name
        ))));
    }
    let local = read_at(&mut src, entry.local_offset, 30)?;
    if le32(&local, 0) != Some(u64::from(LOCAL_SIG)) {
        return Err(corrupt("bad local file header"));
    }
    let name_len = le16(&local, 26).unwrap_or(0);
    let extra_len = le16(&local, 28).unwrap_or(0);
    src.seek(SeekFrom::Start(
        entry.local_offset + 30 + name_len + extra_len,
    ))?;
    let data = src.take(entry.compressed);
    let inner: Box<dyn Read + Send> = match entry.method {
        0 => Box::new(data),
        8 => Box::new(flate2::read::DeflateDecoder::new(data)),
        m => {
            return Err(Error::new(ErrorKind::Unsupported(format!(
                "zip member {:?} uses compression method {m}; stored and deflate are read",
                entry.name
            ))))
        }
    };
    let checked = Checked {
        inner: flate2::CrcReader::new(inner),
        crc: entry.crc,
        size: entry.size,
    };
    Ok((entry.name.clone(), Box::new(checked)))
}

/// Checks CRC-32 and size of the member when its end is reached.
struct Checked<R> {
    inner: flate2::CrcReader<R>,
    crc: u32,
    size: u64,
}

impl<R: Read> Read for Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            let crc = self.inner.crc();
            if u64::from(crc.amount()) != self.size & 0xFFFF_FFFF || crc.sum() != self.crc {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "member size or CRC-32 mismatch ({} bytes, crc {:08x}; expected {} \
                         bytes, crc {:08x})",
                        crc.amount(),
                        crc.sum(),
                        self.size,
                        self.crc
                    ),
                ));
            }
        }
        Ok(n)
    }
}
