//! Sources: where an input's bytes come from (a local file, bytes in memory, any reader such
//! as a Python file-like), how a zip archive becomes one unit per member, and the
//! fingerprint each source reports (size, modification time or ETag, and on request a
//! SHA-256 of its content, computed as the bytes stream past).
//!
//! ```
//! use std::sync::Arc;
//! use logflow_core::source::{units, Source, SourceData};
//! use logflow_core::input::InputOptions;
//!
//! let src = Source::new("mem.csv", SourceData::Bytes(Arc::from(&b"a,b\n1,2\n"[..])));
//! let units = units(vec![src], &InputOptions::default())?;
//! let mut opened = units.into_iter().next().unwrap().open(&InputOptions::default(), true, None)?;
//! let mut text = String::new();
//! std::io::Read::read_to_string(&mut opened.input.reader, &mut text)?;
//! assert_eq!(text, "a,b\n1,2\n");
//! assert_eq!(opened.fingerprint().size, Some(8));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use sha2::{Digest, Sha256};

use crate::detect::{self, Compression};
use crate::error::{Error, Result};
use crate::input::archive::{self, Member, ReadSeek, Shared};
use crate::input::{self, Input, InputOptions};

/// Where a source's bytes are.
pub enum SourceData {
    /// A local file (opened by the core).
    Path(PathBuf),
    /// Bytes in memory.
    Bytes(Arc<[u8]>),
    /// A stream read once, front to back (a Python file-like, an iterator of bytes, a
    /// socket). A zip archive cannot be read from one.
    Reader(Box<dyn Read + Send>),
    /// A stream that can also seek (a seekable Python file-like, an object-store reader
    /// with range reads): zip archives are read from it member by member.
    Seekable(Box<dyn ReadSeek>),
}

impl fmt::Debug for SourceData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceData::Path(p) => f.debug_tuple("Path").field(p).finish(),
            SourceData::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            SourceData::Reader(_) => f.write_str("Reader"),
            SourceData::Seekable(_) => f.write_str("Seekable"),
        }
    }
}

/// One input as the caller names it.
#[derive(Debug)]
pub struct Source {
    /// How errors, results and the file-name column name it (a path, a URI, `<bytes>`).
    pub name: String,
    /// Its bytes.
    pub data: SourceData,
    /// What the caller already knows of it (an object store's size, ETag and modification
    /// time); the core adds what it finds.
    pub known: Fingerprint,
}

impl Source {
    /// A source with nothing known of it yet.
    pub fn new(name: impl Into<String>, data: SourceData) -> Self {
        Source {
            name: name.into(),
            data,
            known: Fingerprint::default(),
        }
    }

    /// A local file, named by its path.
    pub fn path(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        Source::new(path.to_string_lossy().into_owned(), SourceData::Path(path))
    }
}

/// What identifies a source's content, for results and for skipping inputs already seen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fingerprint {
    /// Size in bytes (as stored: compressed for a compressed file; a zip member's
    /// uncompressed size).
    pub size: Option<u64>,
    /// Modification time, seconds since the Unix epoch.
    pub mtime: Option<f64>,
    /// An object store's entity tag (or an HTTP `ETag`).
    pub etag: Option<String>,
    /// Lowercase hex SHA-256 of the content as stored (of a zip member's data once
    /// decompressed), when asked for.
    pub sha256: Option<String>,
}

impl Fingerprint {
    /// `self` with the fields it lacks taken from `other`.
    #[must_use]
    pub fn or(self, other: &Fingerprint) -> Fingerprint {
        Fingerprint {
            size: self.size.or(other.size),
            mtime: self.mtime.or(other.mtime),
            etag: self.etag.or_else(|| other.etag.clone()),
            sha256: self.sha256.or_else(|| other.sha256.clone()),
        }
    }
}

/// One stream of data to decode: a whole source, or one member of a zip archive.
pub struct Unit {
    /// The source's name, or `archive.zip/member.csv` for a member.
    pub name: String,
    data: UnitData,
    known: Fingerprint,
}

impl fmt::Debug for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unit")
            .field("name", &self.name)
            .field("known", &self.known)
            .finish_non_exhaustive()
    }
}

enum UnitData {
    Whole(SourceData),
    Member {
        archive: ArchiveData,
        member: Member,
    },
}

/// Where the members of an archive are read from: each member gets its own reader.
#[derive(Clone)]
enum ArchiveData {
    Path(PathBuf),
    Bytes(Arc<[u8]>),
    Shared(Shared),
}

/// Bytes read ahead to tell a zip archive from other data.
const SNIFF: usize = 4096;

/// The units of `sources`, in order: a zip archive becomes one unit per member (its
/// directory is read now: a name reaching outside the archive or an encrypted member is an
/// error here), anything else one unit. Compression named in `opts` other than zip keeps
/// archives whole.
pub fn units(sources: Vec<Source>, opts: &InputOptions) -> Result<Vec<Unit>> {
    let mut out = Vec::with_capacity(sources.len());
    let zip_ok = matches!(opts.compression, None | Some(Compression::Zip));
    for source in sources {
        let Source { name, data, known } = source;
        let with_name = |e: Error| e.with_path(Path::new(&name));
        let (data, archive) = match data {
            SourceData::Path(path) => {
                let (mut file, _) = input::open_file(&path)?;
                let zip = zip_ok && is_zip(&mut file).map_err(|e| with_name(e.into()))?;
                if zip {
                    let members = archive::members(&mut file).map_err(with_name)?;
                    (None, Some((ArchiveData::Path(path), members)))
                } else {
                    (Some(SourceData::Path(path)), None)
                }
            }
            SourceData::Bytes(bytes) => {
                let head = bytes.get(..bytes.len().min(SNIFF)).unwrap_or_default();
                if zip_ok && detect::compression(head).value == Compression::Zip {
                    let members =
                        archive::members(&mut Cursor::new(bytes.as_ref())).map_err(with_name)?;
                    (None, Some((ArchiveData::Bytes(bytes), members)))
                } else {
                    (Some(SourceData::Bytes(bytes)), None)
                }
            }
            SourceData::Seekable(mut src) => {
                let zip = zip_ok && is_zip(&mut src).map_err(|e| with_name(e.into()))?;
                if zip {
                    let mut shared = Shared::new(src);
                    let members = archive::members(&mut shared).map_err(with_name)?;
                    (None, Some((ArchiveData::Shared(shared), members)))
                } else {
                    (Some(SourceData::Seekable(src)), None)
                }
            }
            reader @ SourceData::Reader(_) => (Some(reader), None),
        };
        if let Some((archive, members)) = archive {
            for member in members {
                out.push(Unit {
                    name: format!("{name}/{}", member.name),
                    known: Fingerprint {
                        size: Some(member.size),
                        ..Fingerprint::default()
                    },
                    data: UnitData::Member {
                        archive: archive.clone(),
                        member,
                    },
                });
            }
        } else if let Some(data) = data {
            out.push(Unit {
                name,
                data: UnitData::Whole(data),
                known,
            });
        }
    }
    Ok(out)
}

/// Whether a seekable source starts like a zip archive (and not like a workbook, which is
/// a zip of its own); leaves it at its start.
fn is_zip<R: Read + Seek + ?Sized>(src: &mut R) -> io::Result<bool> {
    let mut head = vec![0u8; SNIFF];
    src.seek(SeekFrom::Start(0))?;
    let mut filled = 0;
    while let Some(room) = head.get_mut(filled..).filter(|r| !r.is_empty()) {
        match src.read(room)? {
            0 => break,
            n => filled += n,
        }
    }
    head.truncate(filled);
    src.seek(SeekFrom::Start(0))?;
    Ok(detect::compression(&head).value == Compression::Zip)
}

/// An opened unit: the input as [`input::open`] makes it, and the fingerprint being worked
/// out as it is read.
pub struct OpenedUnit {
    /// The decompressed, transcoded input.
    pub input: Input,
    /// The unit's name.
    pub name: String,
    known: Fingerprint,
    tally: Arc<Tally>,
}

impl fmt::Debug for OpenedUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenedUnit")
            .field("name", &self.name)
            .field("input", &self.input)
            .finish_non_exhaustive()
    }
}

impl OpenedUnit {
    /// The fingerprint: what was known, the size (counted when it was not known, once the
    /// input was read to its end) and the SHA-256 (once read to the end, when asked for).
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint_handle().get()
    }

    /// A handle on the fingerprint that stays valid after the input is handed on.
    pub fn fingerprint_handle(&self) -> FingerprintHandle {
        FingerprintHandle {
            known: self.known.clone(),
            tally: Arc::clone(&self.tally),
        }
    }
}

/// The fingerprint of a unit whose reader went elsewhere (see
/// [`OpenedUnit::fingerprint_handle`]).
#[derive(Debug, Clone)]
pub struct FingerprintHandle {
    known: Fingerprint,
    tally: Arc<Tally>,
}

impl FingerprintHandle {
    /// As [`OpenedUnit::fingerprint`].
    pub fn get(&self) -> Fingerprint {
        let counted = self
            .tally
            .done
            .get()
            .map(|_| self.tally.bytes.load(Ordering::Relaxed));
        Fingerprint {
            size: self.known.size.or(counted),
            sha256: self.tally.sha256.get().cloned(),
            ..self.known.clone()
        }
    }
}

/// What the stream past a unit's reader has shown: bytes, and the digest at the end.
#[derive(Debug, Default)]
struct Tally {
    bytes: AtomicU64,
    done: OnceLock<()>,
    sha256: OnceLock<String>,
}

impl Unit {
    /// Its size when known before reading (a file's, an archive member's, or one the caller
    /// gave).
    pub fn known_size(&self) -> Option<u64> {
        match &self.data {
            UnitData::Whole(SourceData::Path(p)) => self
                .known
                .size
                .or_else(|| std::fs::metadata(p).ok().map(|m| m.len())),
            UnitData::Whole(SourceData::Bytes(b)) => Some(b.len() as u64),
            _ => self.known.size,
        }
    }

    /// The local file, when the unit is a whole local file.
    pub fn whole_path(&self) -> Option<&Path> {
        match &self.data {
            UnitData::Whole(SourceData::Path(p)) => Some(p),
            _ => None,
        }
    }

    /// Opens the unit as [`input::open`] opens a file. `sha256`: hash the content as it
    /// streams; `progress` counts the bytes read from the source.
    pub fn open(
        self,
        opts: &InputOptions,
        sha256: bool,
        progress: Option<Arc<AtomicU64>>,
    ) -> Result<OpenedUnit> {
        let Unit { name, data, known } = self;
        let tally = Arc::new(Tally::default());
        let tallying = |r| Tallying {
            inner: r,
            hasher: sha256.then(Sha256::new),
            tally: Arc::clone(&tally),
            progress: progress.clone(),
        };
        let mut known = known;
        let opened = match data {
            UnitData::Whole(SourceData::Path(path)) => {
                let (file, size) = input::open_file(&path)?;
                known.size = known.size.or(Some(size));
                known.mtime = known.mtime.or_else(|| mtime(&file));
                input::open_reader(tallying(Box::new(file) as Box<dyn Read + Send>), opts)
            }
            UnitData::Whole(SourceData::Bytes(b)) => {
                known.size = known.size.or(Some(b.len() as u64));
                input::open_reader(tallying(Box::new(Cursor::new(b))), opts)
            }
            UnitData::Whole(SourceData::Reader(r)) => input::open_reader(tallying(r), opts),
            UnitData::Whole(SourceData::Seekable(r)) => {
                input::open_reader(tallying(Box::new(r)), opts)
            }
            UnitData::Member { archive, member } => {
                let src: Box<dyn ReadSeek> = match archive {
                    ArchiveData::Path(p) => Box::new(input::open_file(&p)?.0),
                    ArchiveData::Bytes(b) => Box::new(Cursor::new(b)),
                    ArchiveData::Shared(s) => Box::new(s),
                };
                let data = archive::open_member(src, &member, opts.limits)?;
                let mut input = input::open_reader(tallying(data), opts)?;
                if input.compression.value == Compression::None {
                    input.compression =
                        detect::Finding::new(Compression::Zip, 1.0, "a member of a zip archive");
                }
                input.member = Some(member.name.clone());
                Ok(input)
            }
        };
        let mut input = opened.map_err(|e| e.with_path(Path::new(&name)))?;
        input.size = known.size.unwrap_or(0);
        Ok(OpenedUnit {
            input,
            name,
            known,
            tally,
        })
    }
}

fn mtime(file: &File) -> Option<f64> {
    let modified = file.metadata().ok()?.modified().ok()?;
    let since = modified.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(since.as_secs_f64())
}

/// Counts and (when asked) hashes the bytes read past it; notes the end of the stream.
struct Tallying<R> {
    inner: R,
    hasher: Option<Sha256>,
    tally: Arc<Tally>,
    progress: Option<Arc<AtomicU64>>,
}

impl<R: Read> Read for Tallying<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(read) = buf.get(..n).filter(|r| !r.is_empty()) {
            if let Some(h) = &mut self.hasher {
                h.update(read);
            }
            self.tally.bytes.fetch_add(n as u64, Ordering::Relaxed);
            if let Some(p) = &self.progress {
                p.fetch_add(n as u64, Ordering::Relaxed);
            }
        } else if !buf.is_empty() {
            if let Some(h) = self.hasher.take() {
                let _ = self.tally.sha256.set(hex(&h.finalize()));
            }
            let _ = self.tally.done.set(());
        }
        Ok(n)
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 15] {
            s.push(char::from(
                DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests;
