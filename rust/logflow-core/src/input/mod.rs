//! Opening an input for a text decoder: the local file, then decompression (gzip, zstd,
//! bzip2, xz, a single-member zip) and transcoding to UTF-8, each detected from the first
//! bytes unless the caller names it.
//!
//! Decoders downstream see plain UTF-8 bytes, so byte offsets and line numbers in their
//! errors and quarantine files count in the decompressed, transcoded stream. A UTF-8 byte
//! order mark is passed through (the CSV chunker skips it); other byte order marks are
//! consumed by the transcoder.
//!
//! ```
//! use std::io::Read;
//! use logflow_core::input::{self, InputOptions};
//!
//! let dir = std::env::temp_dir().join(format!("logflow-input-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("t.csv");
//! // "a;b\n1;é\n" in UTF-16LE with a byte order mark.
//! let mut bytes = vec![0xFF, 0xFE];
//! bytes.extend("a;b\n1;é\n".encode_utf16().flat_map(u16::to_le_bytes));
//! std::fs::write(&path, bytes)?;
//! let mut opened = input::open(&path, &InputOptions::default(), None)?;
//! let mut text = String::new();
//! opened.reader.read_to_string(&mut text)?;
//! assert_eq!(text, "a;b\n1;é\n");
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod archive;
mod transcode;

use std::fmt;
use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::detect::{self, Compression, Encoding, Finding, Format};
use crate::error::{Error, ErrorKind, Result};

pub use transcode::Transcoder;

/// Bytes of the (decompressed) input that encoding detection looks at.
pub const SAMPLE_BYTES: usize = 64 << 10;

/// How to open an input. `None` fields are detected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InputOptions {
    /// Compression around the data; `None` detects it from magic bytes.
    pub compression: Option<Compression>,
    /// Text encoding of the (decompressed) data; `None` detects it.
    pub encoding: Option<Encoding>,
    /// Hand every format through untouched instead of refusing those that are not delimited
    /// text: binary ones (Parquet, Avro, ...) by magic bytes, and JSON, JSON Lines, XML and
    /// XES by content (for detection, which reports them).
    pub binary_ok: bool,
    /// The caller named the delimiter: the data is delimited text even where its bytes look
    /// binary (NUL or control bytes in values).
    pub delimited: bool,
    /// How far compressed input may expand.
    pub limits: ExpansionLimits,
    /// Hand the binary formats magic bytes name (Parquet, Avro, ORC, Arrow IPC, workbooks)
    /// through, named in [`Input::format`], for the pipeline to read with their own readers;
    /// binary data no magic bytes name is still refused.
    pub native: bool,
}

/// An opened input: a reader yielding UTF-8 text, and what was found on the way.
pub struct Input {
    /// The decompressed, transcoded bytes.
    pub reader: Box<dyn Read + Send>,
    /// Size of the file on disk.
    pub size: u64,
    /// The compression, detected or given.
    pub compression: Finding<Compression>,
    /// The text encoding, detected or given.
    pub encoding: Finding<Encoding>,
    /// For a zip archive, the name of the member read.
    pub member: Option<String>,
    /// The format of the data, detected from its first bytes ([`detect::format`], on the
    /// text as transcoded to UTF-8); `Csv` when the caller named a delimiter.
    pub format: Finding<Format>,
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Input")
            .field("size", &self.size)
            .field("compression", &self.compression)
            .field("encoding", &self.encoding)
            .field("member", &self.member)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

/// Opens a local file, refusing directories and other non-files with a clear error. Returns
/// the file and its size.
pub fn open_file(path: &Path) -> Result<(File, u64)> {
    let wrap = |e: io::Error| Error::from(e).with_path(path);
    let meta = std::fs::metadata(path).map_err(wrap)?;
    if meta.is_dir() {
        return Err(
            Error::new(ErrorKind::NotAFile("is a directory, not a file".into())).with_path(path),
        );
    }
    let file = File::open(path).map_err(wrap)?;
    Ok((file, meta.len()))
}

/// Opens `path` for a text decoder: decompresses and transcodes to UTF-8 as detected (or as
/// `opts` say). `progress`, when given, counts the file bytes read (compressed size).
///
/// Errors: the file cannot be opened, a zip archive does not hold exactly one file, the data
/// is a binary format (Parquet, Avro, ...), or the compressed stream is corrupt (reported
/// when read, as a decode error naming the compression).
pub fn open(path: &Path, opts: &InputOptions, progress: Option<Arc<AtomicU64>>) -> Result<Input> {
    let (file, size) = open_file(path)?;
    let mut input =
        open_stream(Counting::new(file, progress), opts).map_err(|e| e.with_path(path))?;
    input.size = size;
    Ok(input)
}

/// [`open`] over any seekable byte source (`size` in the result is 0: unknown). The zip
/// reader seeks; the other layers read the source once, front to back.
pub fn open_stream<R: Read + Seek + Send + 'static>(
    mut src: R,
    opts: &InputOptions,
) -> Result<Input> {
    let mut head = Vec::with_capacity(SAMPLE_BYTES);
    read_up_to(&mut src, &mut head, SAMPLE_BYTES)?;
    let compression = compression_of(&head, opts);
    if compression.value == Compression::Zip {
        src.seek(SeekFrom::Start(0))?;
        let (name, reader) = archive::open_single(src, opts.limits)?;
        return text(reader, compression, Some(name), opts);
    }
    decompressed(head, src, compression, opts)
}

/// [`open`] over a byte source read once, front to back, that cannot seek (a pipe, a
/// network stream, a Python file-like). A zip archive needs its directory at the end, so
/// it is refused here: open it as a seekable source, or list its members
/// ([`archive::members`]) and open each with [`open_member`].
pub fn open_reader<R: Read + Send + 'static>(mut src: R, opts: &InputOptions) -> Result<Input> {
    let mut head = Vec::with_capacity(SAMPLE_BYTES);
    read_up_to(&mut src, &mut head, SAMPLE_BYTES)?;
    let compression = compression_of(&head, opts);
    if compression.value == Compression::Zip {
        return Err(Error::new(ErrorKind::Unsupported(
            "a zip archive is read through its directory at the end: give it as a path, \
             bytes or a seekable file"
                .into(),
        )));
    }
    decompressed(head, src, compression, opts)
}

/// One member of a zip archive (from [`archive::members`]) opened as [`open`] opens a file:
/// its data decompressed within the expansion limits, then sniffed and transcoded like any
/// input (a gzip file inside the archive is decompressed too). `compression` reports `zip`.
pub fn open_member<R: Read + Seek + Send + 'static>(
    src: R,
    member: &archive::Member,
    opts: &InputOptions,
) -> Result<Input> {
    let data = archive::open_member(src, member, opts.limits)?;
    let mut input = open_reader(data, opts)?;
    if input.compression.value == Compression::None {
        input.compression = Finding::new(Compression::Zip, 1.0, "a member of a zip archive");
    }
    input.member = Some(member.name.clone());
    input.size = member.size;
    Ok(input)
}

fn compression_of(head: &[u8], opts: &InputOptions) -> Finding<Compression> {
    match opts.compression {
        Some(c) => Finding::new(c, 1.0, "given"),
        None => detect::compression(head),
    }
}

/// The rest of opening once the compression is known: the decompressor over `head`
/// followed by the rest of `src`, then [`text`].
fn decompressed<R: Read + Send + 'static>(
    head: Vec<u8>,
    src: R,
    compression: Finding<Compression>,
    opts: &InputOptions,
) -> Result<Input> {
    let compressed = Arc::new(AtomicU64::new(0));
    let limits = opts.limits;
    let raw = CountRead {
        inner: Cursor::new(head).chain(src),
        count: Arc::clone(&compressed),
    };
    let raw: Box<dyn Read + Send> = Box::new(raw);
    let wrap = |r: Box<dyn Read + Send>, f| corrupt_as_decode(r, f, &compressed, limits);
    let reader = match compression.value {
        Compression::Gzip => wrap(Box::new(flate2::read::MultiGzDecoder::new(raw)), "gzip"),
        Compression::Zstd => wrap(Box::new(zstd::stream::read::Decoder::new(raw)?), "zstd"),
        Compression::Bzip2 => wrap(Box::new(bzip2::read::MultiBzDecoder::new(raw)), "bzip2"),
        Compression::Xz => wrap(
            Box::new(liblzma::read::XzDecoder::new_multi_decoder(raw)),
            "xz",
        ),
        Compression::None | Compression::Zip => raw,
    };
    text(reader, compression, None, opts)
}

/// The decompressed stream sniffed (binary formats, encoding, format) and transcoded to
/// UTF-8.
fn text(
    decompressed: Box<dyn Read + Send>,
    compression: Finding<Compression>,
    member: Option<String>,
    opts: &InputOptions,
) -> Result<Input> {
    // Encoding from the first bytes of the decompressed stream.
    let mut sample = Vec::with_capacity(SAMPLE_BYTES);
    let mut decompressed = decompressed;
    read_up_to(&mut decompressed, &mut sample, SAMPLE_BYTES)?;
    let binary = binary_format(&sample);
    if let (Some(f), false) = (binary, opts.binary_ok || opts.native) {
        return Err(Error::new(ErrorKind::Unsupported(format!(
            "this is a {}{} file, not delimited text",
            f.name(),
            inside(compression.value)
        ))));
    }
    let encoding = match (opts.encoding, binary) {
        (_, Some(_)) => Finding::new(
            Encoding::Utf8 { bom: false },
            0.0,
            "not examined: binary format",
        ),
        (Some(e), None) => Finding::new(with_bom(e, &sample), 1.0, "given"),
        (None, None) => {
            let found = detect::encoding(&sample);
            match xml_encoding(&sample, &found.value)? {
                Some((e, why)) => Finding::new(e, 1.0, why),
                None => found,
            }
        }
    };
    let format = match (binary, opts.delimited) {
        (Some(f), _) => Finding::new(f, 1.0, "magic bytes"),
        (None, true) => Finding::new(Format::Csv, 1.0, "a delimiter was given"),
        (None, false) => detect::format(&detect::to_utf8(&sample, &encoding.value)),
    };
    let wide = matches!(
        encoding.value,
        Encoding::Utf16Le { .. }
            | Encoding::Utf16Be { .. }
            | Encoding::Utf32Le { .. }
            | Encoding::Utf32Be { .. }
    );
    if !opts.binary_ok && !opts.delimited && !wide && binary.is_none() {
        refuse_binary(&sample, compression.value)?;
    }
    let text: Box<dyn Read + Send> = Box::new(Cursor::new(sample).chain(decompressed));
    let reader = match encoding.value {
        Encoding::Utf8 { .. } => text,
        other => Box::new(Transcoder::new(text, other)?),
    };
    Ok(Input {
        reader,
        size: 0,
        compression,
        encoding,
        member,
        format,
    })
}

/// What an XML document's own declaration says about its encoding, against what the bytes
/// showed (`found`):
/// - a charset named where the bytes cannot tell (an ASCII head read as UTF-8, or a legacy
///   charset guessed) is used (`Ok(Some)`);
/// - XML without an encoding declaration is UTF-8 (or UTF-16 with a byte order mark): a
///   legacy charset guessed for it does not apply;
/// - a declaration that contradicts a byte order mark, or names UTF-16/32 for bytes that
///   are not, is an error (the document is not well-formed; `encoding=` overrides it).
fn xml_encoding(sample: &[u8], found: &Encoding) -> Result<Option<(Encoding, String)>> {
    let text = detect::to_utf8(sample, found);
    let body = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&text);
    let wide = |e: &Encoding| {
        matches!(
            e,
            Encoding::Utf16Le { .. }
                | Encoding::Utf16Be { .. }
                | Encoding::Utf32Le { .. }
                | Encoding::Utf32Be { .. }
        )
    };
    let Some(label) = crate::decode::xml::declared_encoding(body) else {
        let xml = matches!(detect::format(body).value, Format::Xml | Format::Xes);
        if xml && matches!(found, Encoding::Legacy(_)) {
            return Ok(Some((
                Encoding::Utf8 { bom: false },
                "XML without an encoding declaration is UTF-8".into(),
            )));
        }
        return Ok(None);
    };
    let Ok(declared) = parse_encoding(&label) else {
        return Ok(None);
    };
    let conflict = |what: String| {
        Err(Error::decode(
            "xml",
            crate::error::Position {
                byte: 0,
                line: 1,
                record: 0,
                path: None,
            },
            None,
            format!("{what}: the document is not well-formed (pass encoding= to read it anyway)"),
        ))
    };
    match found {
        Encoding::Utf8 { bom: true } if !matches!(declared, Encoding::Utf8 { .. }) => conflict(
            format!("a UTF-8 byte order mark, but the XML declaration says encoding=\"{label}\""),
        ),
        Encoding::Utf8 { bom: true } => Ok(None),
        f if wide(f) && !wide(&declared) => conflict(format!(
            "the text is {}, but the XML declaration says encoding=\"{label}\"",
            f.name()
        )),
        f if wide(f) => Ok(None),
        _ if wide(&declared) => conflict(format!(
            "the XML declaration says encoding=\"{label}\", but the bytes are not {label}"
        )),
        f if declared != *f => Ok(Some((
            declared,
            format!("named by the XML declaration (encoding=\"{label}\")"),
        ))),
        _ => Ok(None),
    }
}

/// Refuses binary data that no magic bytes name ([`detect::binary_evidence`]): read as
/// text it would give columns named and filled with garbage.
fn refuse_binary(sample: &[u8], compression: Compression) -> Result<()> {
    match detect::binary_evidence(sample) {
        None => Ok(()),
        Some(why) => Err(Error::new(ErrorKind::Unsupported(format!(
            "this is binary data{} ({why}), not delimited text",
            inside(compression)
        )))),
    }
}

/// ` inside gzip` (or nothing for uncompressed input), for messages about the data within.
pub fn inside(compression: Compression) -> String {
    if compression == Compression::None {
        String::new()
    } else {
        format!(" inside {}", compression.name())
    }
}

/// A binary format named by its magic bytes, when the sample is clearly not text (it holds
/// NUL bytes or is not UTF-8), so a text file starting with e.g. `ORC` is still read.
fn binary_format(sample: &[u8]) -> Option<Format> {
    let found = detect::magic(sample)?;
    let binary = memchr::memchr(0, sample).is_some() || std::str::from_utf8(sample).is_err();
    (binary && found.value != Format::Csv).then_some(found.value)
}

/// An encoding the caller named, with its byte order mark noted when the data starts with it.
fn with_bom(e: Encoding, sample: &[u8]) -> Encoding {
    match e {
        Encoding::Utf8 { .. } => Encoding::Utf8 {
            bom: sample.starts_with(&[0xEF, 0xBB, 0xBF]),
        },
        Encoding::Utf16Le { .. } => Encoding::Utf16Le {
            bom: sample.starts_with(&[0xFF, 0xFE]),
        },
        Encoding::Utf16Be { .. } => Encoding::Utf16Be {
            bom: sample.starts_with(&[0xFE, 0xFF]),
        },
        Encoding::Utf32Le { .. } => Encoding::Utf32Le {
            bom: sample.starts_with(&[0xFF, 0xFE, 0, 0]),
        },
        Encoding::Utf32Be { .. } => Encoding::Utf32Be {
            bom: sample.starts_with(&[0, 0, 0xFE, 0xFF]),
        },
        legacy @ Encoding::Legacy(_) => legacy,
    }
}

/// Parses an encoding name as users write it: `utf-8`, `utf-16le`, `latin-1`, `cp1252`,
/// `shift_jis`, ... (WHATWG labels, plus UTF-32).
pub fn parse_encoding(label: &str) -> Result<Encoding> {
    let l = label.trim().to_ascii_lowercase().replace('_', "-");
    let e = match l.as_str() {
        "utf-8" | "utf8" | "utf-8-sig" => Encoding::Utf8 { bom: false },
        "utf-16le" | "utf-16" => Encoding::Utf16Le { bom: false },
        "utf-16be" => Encoding::Utf16Be { bom: false },
        "utf-32le" | "utf-32" | "utf32" => Encoding::Utf32Le { bom: false },
        "utf-32be" => Encoding::Utf32Be { bom: false },
        "latin-1" | "latin1" | "iso-8859-1" | "cp1252" => Encoding::Legacy("windows-1252"),
        _ => match encoding_rs::Encoding::for_label(l.as_bytes()) {
            Some(enc) if enc == encoding_rs::UTF_8 => Encoding::Utf8 { bom: false },
            Some(enc) if enc == encoding_rs::UTF_16LE => Encoding::Utf16Le { bom: false },
            Some(enc) if enc == encoding_rs::UTF_16BE => Encoding::Utf16Be { bom: false },
            Some(enc) => Encoding::Legacy(enc.name()),
            None => {
                return Err(Error::invalid(format!(
                    "unknown encoding {label:?} (try utf-8, utf-16le, windows-1252, latin-1, \
                     shift_jis, gb18030, euc-kr, ...)"
                )))
            }
        },
    };
    Ok(e)
}

/// Parses a compression name: `gzip`/`gz`, `zstd`/`zst`, `bzip2`/`bz2`, `xz`, `zip`, `none`.
pub fn parse_compression(name: &str) -> Result<Compression> {
    Ok(match name.trim().to_ascii_lowercase().as_str() {
        "none" | "" => Compression::None,
        "gzip" | "gz" => Compression::Gzip,
        "zstd" | "zst" => Compression::Zstd,
        "bzip2" | "bz2" => Compression::Bzip2,
        "xz" => Compression::Xz,
        "zip" => Compression::Zip,
        _ => {
            return Err(Error::invalid(format!(
                "unknown compression {name:?} (none, gzip, zstd, bzip2, xz or zip)"
            )))
        }
    })
}

/// Reads until `buf` holds `limit` bytes or the input ends.
fn read_up_to<R: Read + ?Sized>(src: &mut R, buf: &mut Vec<u8>, limit: usize) -> io::Result<()> {
    let have = buf.len() as u64;
    src.take((limit as u64).saturating_sub(have))
        .read_to_end(buf)
        .map(|_| ())
}

/// A failure of the source itself (a Python file-like that raised, a network error), carried
/// through `io::Error` untouched by the decompressors: it is no sign of corrupt data. The
/// caller that made the source knows what it holds (the binding re-raises the Python
/// exception).
#[derive(Debug)]
pub struct SourceError(pub String);

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SourceError {}

/// A corrupt compressed stream, carried through `io::Error` to become a decode error.
#[derive(Debug)]
pub(crate) struct CorruptStream {
    pub(crate) format: &'static str,
    pub(crate) offset: u64,
    pub(crate) reason: String,
}

impl fmt::Display for CorruptStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "corrupt {} data: {}", self.format, self.reason)
    }
}

impl std::error::Error for CorruptStream {}

/// How far a compressed input may expand: past either limit reading stops with
/// [`ExpansionLimit`] (a `LimitExceededError`), so a decompression bomb costs neither memory
/// nor much time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpansionLimits {
    /// Most decompressed bytes for each compressed byte read, judged once more than
    /// [`ExpansionLimits::grace`] bytes came out.
    pub ratio: u64,
    /// Decompressed bytes out before the ratio is judged.
    pub grace: u64,
    /// Most decompressed bytes in all; `None`: no limit.
    pub max_bytes: Option<u64>,
}

impl Default for ExpansionLimits {
    fn default() -> Self {
        ExpansionLimits {
            ratio: 200,
            grace: 64 << 20,
            max_bytes: None,
        }
    }
}

/// A compressed input expanded past its [`ExpansionLimits`].
#[derive(Debug)]
pub struct ExpansionLimit {
    format: &'static str,
    what: String,
}

impl fmt::Display for ExpansionLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the {} data expands past the limit ({}): a decompression bomb, or raise the limit",
            self.format, self.what
        )
    }
}

impl std::error::Error for ExpansionLimit {}

/// Turns read errors of a decompressor into [`CorruptStream`] errors (the decompressed
/// position is where decoding stopped), and stops reading past the expansion limits.
struct Decompressed<R> {
    inner: R,
    format: &'static str,
    out: u64,
    /// Compressed bytes read so far.
    compressed: Arc<AtomicU64>,
    limits: ExpansionLimits,
}

pub(crate) fn corrupt_as_decode<R: Read + Send + 'static>(
    inner: R,
    format: &'static str,
    compressed: &Arc<AtomicU64>,
    limits: ExpansionLimits,
) -> Box<dyn Read + Send> {
    Box::new(Decompressed {
        inner,
        format,
        out: 0,
        compressed: Arc::clone(compressed),
        limits,
    })
}

impl<R> Decompressed<R> {
    fn check_limits(&self) -> io::Result<()> {
        let what = if self.limits.max_bytes.is_some_and(|m| self.out > m) {
            format!("more than {} bytes", self.limits.max_bytes.unwrap_or(0))
        } else {
            let compressed = self.compressed.load(Ordering::Relaxed).max(1);
            if self.out <= self.limits.grace || self.out / compressed <= self.limits.ratio {
                return Ok(());
            }
            format!(
                "{} bytes from {compressed} compressed, over {}:1",
                self.out, self.limits.ratio
            )
        };
        Err(io::Error::other(ExpansionLimit {
            format: self.format,
            what,
        }))
    }
}

impl<R: Read> Read for Decompressed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.out += n as u64;
                self.check_limits()?;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e)
                if e.get_ref().is_some_and(|r| {
                    r.is::<CorruptStream>() || r.is::<ExpansionLimit>() || r.is::<SourceError>()
                }) =>
            {
                Err(e)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::InvalidData
                        | io::ErrorKind::InvalidInput
                        | io::ErrorKind::UnexpectedEof
                        | io::ErrorKind::Other
                ) =>
            {
                Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    CorruptStream {
                        format: self.format,
                        offset: self.out,
                        reason: if e.kind() == io::ErrorKind::UnexpectedEof {
                            "the stream ends early (truncated file?)".to_string()
                        } else {
                            e.to_string()
                        },
                    },
                ))
            }
            Err(e) => Err(e),
        }
    }
}

/// A source that counts the bytes read from it (the compressed side of a decompressor).
pub(crate) struct CountRead<R> {
    pub(crate) inner: R,
    pub(crate) count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: Seek> Seek for CountRead<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// A file that counts the bytes read from it into a shared counter.
struct Counting {
    file: File,
    counter: Option<Arc<AtomicU64>>,
}

impl Counting {
    fn new(file: File, counter: Option<Arc<AtomicU64>>) -> Self {
        Counting { file, counter }
    }
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        if let Some(c) = &self.counter {
            c.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

impl Seek for Counting {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.file.seek(pos)
    }
}

#[cfg(test)]
mod tests;
