//! A local file read by position, from several threads at once: each reader of a Parquet
//! row group reads its own byte ranges without a shared cursor (the `parquet` crate's own
//! `File` reader clones the handle, and clones share one cursor).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parquet::errors::ParquetError;
use parquet::file::reader::{ChunkReader, Length};

use crate::error::Result;

/// A file shared by readers on several threads, each reading at its own offsets. Counts the
/// bytes read into the job's progress counter.
#[derive(Clone)]
pub struct SharedFile {
    file: Arc<File>,
    len: u64,
    progress: Option<Arc<AtomicU64>>,
}

impl SharedFile {
    /// Opens `path` (a regular file: directories are refused with a typed error).
    pub fn open(path: &Path, progress: Option<Arc<AtomicU64>>) -> Result<Self> {
        let (file, len) = crate::input::open_file(path)?;
        Ok(SharedFile {
            file: Arc::new(file),
            len,
            progress,
        })
    }

    /// The file's size.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads into `buf` from `offset`; returns the bytes read (0 at the end of the file).
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let n = read_at(&self.file, buf, offset)?;
        if let Some(p) = &self.progress {
            p.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }

    /// Reads exactly `length` bytes from `start`; an error (not an allocation) when the range
    /// runs past the end of the file, whatever `length` a damaged file claims.
    pub fn read_range(&self, start: u64, length: usize) -> io::Result<Vec<u8>> {
        let end = start.checked_add(length as u64);
        if end.is_none_or(|end| end > self.len) {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "{length} bytes at offset {start} run past the end of the file ({} bytes)",
                    self.len
                ),
            ));
        }
        let mut buf = vec![0; length];
        let mut done = 0;
        while let Some(rest) = buf.get_mut(done..).filter(|r| !r.is_empty()) {
            match self.read_at(rest, start + done as u64)? {
                0 => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the file is shorter than it was when opened",
                    ))
                }
                n => done += n,
            }
        }
        Ok(buf)
    }

    /// A reader from `offset` on, with its own position.
    pub fn reader_at(&self, offset: u64) -> SharedFileReader {
        SharedFileReader {
            file: self.clone(),
            pos: offset,
        }
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    // Moves the handle's cursor, which nothing else here relies on.
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

#[cfg(not(any(unix, windows)))]
fn read_at(_file: &File, _buf: &mut [u8], _offset: u64) -> io::Result<usize> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "positioned reads are not available on this platform",
    ))
}

/// A [`Read`] over a [`SharedFile`] from some offset.
pub struct SharedFileReader {
    file: SharedFile,
    pos: u64,
}

impl Read for SharedFileReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl io::Seek for SharedFileReader {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        let to = match pos {
            io::SeekFrom::Start(p) => Some(p),
            io::SeekFrom::End(d) => self.file.len.checked_add_signed(d),
            io::SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = to.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            )
        })?;
        Ok(self.pos)
    }
}

impl Length for SharedFile {
    fn len(&self) -> u64 {
        self.len
    }
}

impl ChunkReader for SharedFile {
    type T = io::BufReader<SharedFileReader>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        if start > self.len {
            return Err(ParquetError::EOF(format!(
                "offset {start} is past the end of the file ({} bytes)",
                self.len
            )));
        }
        Ok(io::BufReader::with_capacity(
            16 << 10,
            self.reader_at(start),
        ))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.read_range(start, length)
            .map(Bytes::from)
            .map_err(|e| ParquetError::EOF(e.to_string()))
    }
}
