//! Zip archives: the directory is read with the `zip` crate (zip64, name encodings, data
//! descriptors, encryption flags), each member's data is streamed through the input layer's
//! own decompressors, so the expansion limits apply to every member and a member reader owns
//! its source (members of one archive are read in parallel, each at its own position).
//!
//! Names that would reach outside the archive (`../x`, `/etc/x`, `C:\x`: "zip slip") and
//! encrypted members are refused with their own error kinds; directories, symbolic links
//! and macOS resource forks (`__MACOSX/`) are not data and are passed over.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};

use super::{corrupt_as_decode, CountRead, ExpansionLimits};
use crate::error::{Error, ErrorKind, Result};

/// A source that can be read and seeked, as one trait object.
pub trait ReadSeek: Read + Seek + Send {}

impl<T: Read + Seek + Send> ReadSeek for T {}

fn corrupt(msg: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Unsupported(format!(
        "not a readable zip archive: {msg}"
    )))
}

/// One file of an archive, as its directory describes it.
#[derive(Debug, Clone)]
pub struct Member {
    /// Its name in the archive (`dir/file.csv`).
    pub name: String,
    /// Its size once decompressed, as the directory says.
    pub size: u64,
    /// Its stored (compressed) size.
    pub compressed: u64,
    crc: u32,
    method: u16,
    data_start: u64,
}

/// The files of a zip archive, in directory order. Refuses the whole archive when a
/// member's name reaches outside it ([`ErrorKind::UnsafeName`]) or a member is encrypted
/// ([`ErrorKind::Encrypted`]).
pub fn members<R: Read + Seek>(src: &mut R) -> Result<Vec<Member>> {
    src.seek(SeekFrom::Start(0))?;
    let mut archive = ::zip::ZipArchive::new(src).map_err(zip_error)?;
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(zip_error)?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        if entry.enclosed_name().is_none() || reaches_out(&name) {
            return Err(Error::new(ErrorKind::UnsafeName(format!(
                "zip member {name:?} has a name that reaches outside the archive (an absolute \
                 path or `..`); the archive is refused"
            ))));
        }
        if entry.is_dir() || entry.is_symlink() || name.starts_with("__MACOSX/") {
            continue;
        }
        if entry.encrypted() {
            return Err(Error::new(ErrorKind::Encrypted(format!(
                "zip member {name:?} is encrypted; logflow reads no password-protected archives"
            ))));
        }
        // The method's number: the enum's variants depend on which codec features other
        // crates of the graph turn on, the number does not.
        #[allow(deprecated)]
        let method = entry.compression().to_u16();
        let data_start = entry
            .data_start()
            .ok_or_else(|| corrupt(format!("no data offset for member {name:?}")))?;
        out.push(Member {
            size: entry.size(),
            compressed: entry.compressed_size(),
            crc: entry.crc32(),
            method,
            data_start,
            name,
        });
    }
    Ok(out)
}

/// Whether a member name would reach outside the archive if written out: absolute
/// (`/x`, `\\x`, `C:x`), with a `..` component anywhere, or holding a NUL byte. The `zip`
/// crate's `enclosed_name` accepts a leading `/` (it reads it as relative); the name itself
/// is the sign of a crafted archive, so it is refused too.
pub fn reaches_out(name: &str) -> bool {
    let bytes = name.as_bytes();
    let drive = matches!(bytes, [letter, b':', ..] if letter.is_ascii_alphabetic());
    name.starts_with(['/', '\\'])
        || drive
        || name.contains('\0')
        || name.split(['/', '\\']).any(|part| part == "..")
}

fn zip_error(e: ::zip::result::ZipError) -> Error {
    match e {
        ::zip::result::ZipError::Io(io) => Error::from(ErrorKind::Io(io)),
        other => corrupt(other),
    }
}

/// Streams one member's data: decompressed, within `limits`, checked against its CRC-32 and
/// size at the end. A corrupt member is a decode error naming `zip`.
pub fn open_member<R: Read + Seek + Send + 'static>(
    mut src: R,
    member: &Member,
    limits: ExpansionLimits,
) -> Result<Box<dyn Read + Send>> {
    src.seek(SeekFrom::Start(member.data_start))?;
    let compressed = Arc::new(AtomicU64::new(0));
    let raw = CountRead {
        inner: src.take(member.compressed),
        count: Arc::clone(&compressed),
    };
    let inner: Box<dyn Read + Send> = match member.method {
        0 => Box::new(raw),
        8 => Box::new(flate2::read::DeflateDecoder::new(raw)),
        12 => Box::new(bzip2::read::BzDecoder::new(raw)),
        93 => Box::new(zstd::stream::read::Decoder::new(raw)?),
        95 => Box::new(liblzma::read::XzDecoder::new(raw)),
        m => {
            return Err(Error::new(ErrorKind::Unsupported(format!(
                "zip member {:?} uses compression method {m} ({}); stored, deflate, bzip2, \
                 zstd and xz are read",
                member.name,
                ::zip::CompressionMethod::name_from_u16(m)
            ))))
        }
    };
    let checked = Checked {
        inner: flate2::CrcReader::new(inner),
        crc: member.crc,
        size: member.size,
    };
    Ok(corrupt_as_decode(checked, "zip", &compressed, limits))
}

/// Opens the single file of a zip archive. Returns its name and a reader of its contents.
pub(super) fn open_single<R: Read + Seek + Send + 'static>(
    mut src: R,
    limits: ExpansionLimits,
) -> Result<(String, Box<dyn Read + Send>)> {
    let files = members(&mut src)?;
    match files.as_slice() {
        [one] => Ok((one.name.clone(), open_member(src, one, limits)?)),
        [] => Err(Error::new(ErrorKind::Empty)),
        many => {
            let names: Vec<&str> = many.iter().take(5).map(|e| e.name.as_str()).collect();
            Err(Error::new(ErrorKind::Unsupported(format!(
                "the zip archive holds {} files ({}{}); read it as a source of many files \
                 (convert and read do), or name one member",
                many.len(),
                names.join(", "),
                if many.len() > 5 { ", ..." } else { "" }
            ))))
        }
    }
}

/// One seekable source shared by readers that each keep their own position (the members
/// of an archive read in parallel): every read seeks first, unless the source is already
/// where the reader left it.
#[derive(Clone)]
pub struct Shared {
    inner: Arc<Mutex<SharedState>>,
    pos: u64,
}

struct SharedState {
    src: Box<dyn ReadSeek>,
    /// Where `src` is now.
    at: Option<u64>,
}

impl Shared {
    /// Shares `src`; readers made by cloning start at offset 0.
    pub fn new(src: Box<dyn ReadSeek>) -> Self {
        Shared {
            inner: Arc::new(Mutex::new(SharedState { src, at: None })),
            pos: 0,
        }
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("pos", &self.pos).finish()
    }
}

impl Read for Shared {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut s = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if s.at != Some(self.pos) {
            s.at = None;
            s.src.seek(SeekFrom::Start(self.pos))?;
        }
        let n = s.src.read(buf)?;
        self.pos += n as u64;
        s.at = Some(self.pos);
        Ok(n)
    }
}

impl Seek for Shared {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = match to {
            SeekFrom::Start(p) => p,
            SeekFrom::Current(d) => self.pos.checked_add_signed(d).ok_or_else(bad_seek)?,
            SeekFrom::End(d) => {
                let mut s = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
                let end = s.src.seek(SeekFrom::End(0))?;
                s.at = Some(end);
                end.checked_add_signed(d).ok_or_else(bad_seek)?
            }
        };
        Ok(self.pos)
    }
}

fn bad_seek() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "seek before the start")
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
