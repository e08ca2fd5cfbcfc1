//! Cutting a byte stream into chunks that end between records, so chunks can be decoded
//! independently (and in parallel).
//!
//! Where a record ends is the format's business: a [`Framing`] finds the last record end in
//! a buffer without decoding it (the last line end for JSON Lines, the last line feed outside
//! quotes by quote parity for CSV, the end of the last complete element for a JSON array).
//! A framing may guess: CSV's parity is wrong when a quote character appears inside an
//! unquoted field. The decoder checks the guess: a chunk whose last record runs past its end
//! reports a tail, and the [`Sequencer`](super::sequence::Sequencer) has the decoder resume
//! it with the next chunk, so output always equals what one sequential pass would give.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::Result;

/// How a format's records end: where a chunk may be cut without decoding it.
///
/// The chunker keeps one framing for the whole input and calls it with buffers that start
/// at a record start (the input's start, or the previous cut), growing the same buffer
/// until a cut is found; a framing that scans forward may remember how far it got.
pub trait Framing: Send {
    /// Just past the last record end in `buf`, or `None` when no record ends in it yet.
    /// `buf` is never empty. An error stops reading: the input's structure is broken where
    /// no later record can be found (a JSON array that never closes its last element).
    fn cut_point(&mut self, buf: &[u8]) -> Result<Option<usize>>;

    /// Called after a cut at `at`: the next buffer starts there.
    fn cut_at(&mut self, at: usize) {
        let _ = at;
    }

    /// Called at the end of the input with the bytes after the last cut (possibly none):
    /// an error when they cannot end the input (an array left open).
    fn finish(&mut self, rest: &[u8]) -> Result<()> {
        let _ = rest;
        Ok(())
    }

    /// Whether a carriage return that no line feed follows ends a line, in input without
    /// line feeds (old Mac text): for line counts and over-long lines. Formats whose lines
    /// end only at line feeds (JSON Lines, JSON) say no.
    fn lone_cr_ends_lines(&self) -> bool {
        true
    }

    /// Where to cut `buf`, which holds line ends but no record end and has grown past the
    /// record size limit: the whole buffer by default. A format whose decoder, on
    /// rejecting the record there, reads on line by line says just past the last line end,
    /// so that no later record is split between chunks.
    fn forced_cut(&self, buf: &[u8]) -> usize {
        buf.len()
    }
}

/// Records end at line feeds only (a lone carriage return is part of its line): JSON Lines,
/// whose lines end with `\n` or `\r\n`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LineFeeds;

impl Framing for LineFeeds {
    fn cut_point(&mut self, buf: &[u8]) -> Result<Option<usize>> {
        Ok(memchr::memrchr(b'\n', buf).map(|at| at + 1))
    }

    fn lone_cr_ends_lines(&self) -> bool {
        false
    }
}

/// Records end at line ends: the last line feed, or, in input without line feeds, the last
/// carriage return (old Mac text). JSON Lines, logs, and CSV without quoting.
#[derive(Debug, Clone, Copy, Default)]
pub struct LineEnds;

impl LineEnds {
    /// The last line end in `buf` and the byte that ends lines there (`\n`, or `\r` in
    /// input that has no line feed). A carriage return as the buffer's last byte may be the
    /// first half of a CRLF whose line feed is still unread: it is no line end yet.
    pub fn last(buf: &[u8]) -> Option<(u8, usize)> {
        match memchr::memrchr(b'\n', buf) {
            Some(at) => Some((b'\n', at)),
            None => memchr::memrchr(
                b'\r',
                buf.get(..buf.len().saturating_sub(1)).unwrap_or_default(),
            )
            .map(|at| (b'\r', at)),
        }
    }
}

impl Framing for LineEnds {
    fn cut_point(&mut self, buf: &[u8]) -> Result<Option<usize>> {
        Ok(LineEnds::last(buf).map(|(_, at)| at + 1))
    }
}

/// Chunk buffers given back once their chunk is decoded, so the next chunks reuse memory
/// that is already mapped instead of faulting in (and zeroing) fresh pages for every 4 MiB.
#[derive(Debug)]
pub struct BufferPool {
    free: Mutex<Vec<Vec<u8>>>,
    keep: usize,
}

impl BufferPool {
    /// A pool holding at most `keep` idle buffers.
    pub fn new(keep: usize) -> Self {
        BufferPool {
            free: Mutex::new(Vec::new()),
            keep,
        }
    }

    /// An empty buffer with room for at least `capacity` bytes.
    pub fn get(&self, capacity: usize) -> Vec<u8> {
        let reused = self.free.lock().ok().and_then(|mut f| f.pop());
        match reused {
            Some(mut v) => {
                v.clear();
                v.reserve(capacity);
                v
            }
            None => Vec::with_capacity(capacity),
        }
    }

    /// Takes a buffer back (dropped when the pool is full).
    pub fn put(&self, v: Vec<u8>) {
        if v.capacity() == 0 {
            return;
        }
        if let Ok(mut free) = self.free.lock() {
            if free.len() < self.keep {
                free.push(v);
            }
        }
    }
}

/// A run of input bytes, cut at a line feed (except the last chunk).
#[derive(Debug, Default)]
pub struct Chunk {
    /// 0-based sequence number.
    pub index: u64,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// First byte to tokenize (past a header or a byte order mark).
    pub start: usize,
    /// Input offset of `bytes[0]`.
    pub offset: u64,
    /// 1-based line number of `bytes[0]`.
    pub line: u64,
    /// Whether the input ends with this chunk.
    pub last: bool,
    /// Whether the chunk ends inside a line longer than the limit (it holds none of the
    /// line's end): the rest of that line is skipped, not in the next chunk.
    pub cut_line: bool,
    /// Whether the record at `start` is known to run past the record size limit (the input
    /// goes on, but the record is rejected as too long): set by a decoder resuming a record
    /// it held, such as a CSV quote that never closes.
    pub past_limit: bool,
    /// The bytes are the rest of the over-long line the chunk before was cut in: no
    /// record, only bytes for the quarantine to add to that record (when kept; empty
    /// otherwise).
    pub overflow: bool,
    /// Where `bytes` goes back when the chunk is dropped.
    pub pool: Option<Arc<BufferPool>>,
}

impl Drop for Chunk {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            pool.put(std::mem::take(&mut self.bytes));
        }
    }
}

/// The line ends in `b` for a framing (see [`Framing::lone_cr_ends_lines`]).
fn lines_in(b: &[u8], lone_cr: bool) -> u64 {
    if lone_cr {
        count_lines(b)
    } else {
        memchr::memchr_iter(b'\n', b).count() as u64
    }
}

/// Whether `b` holds a line end, for a framing (see [`Framing::lone_cr_ends_lines`]).
fn has_line_end(b: &[u8], lone_cr: bool) -> bool {
    if lone_cr {
        memchr::memchr2(b'\n', b'\r', b).is_some()
    } else {
        memchr::memchr(b'\n', b).is_some()
    }
}

/// The line ends in `b`: its line feeds, or where it has none, its carriage returns (the
/// lines of input that ends them with a lone CR).
pub fn count_lines(b: &[u8]) -> u64 {
    match memchr::memchr_iter(b'\n', b).count() {
        0 => memchr::memchr_iter(b'\r', b).count() as u64,
        n => n as u64,
    }
}

/// Reads chunks of about `chunk_bytes` from a source, cut where its [`Framing`] says a
/// record ends.
pub struct Chunker<R> {
    src: R,
    carry: Vec<u8>,
    offset: u64,
    line: u64,
    index: u64,
    eof: bool,
    done: bool,
    chunk_bytes: usize,
    framing: Box<dyn Framing>,
    max_line: usize,
    bytes_read: Option<Arc<AtomicU64>>,
    pool: Arc<BufferPool>,
    /// The last chunk was cut inside an over-long line, whose rest is still to be skipped.
    skip_line: bool,
    /// Hand the rest of an over-long line on (see [`Chunker::keep_overflow`]).
    keep_overflow: bool,
}

impl<R> std::fmt::Debug for Chunker<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chunker")
            .field("offset", &self.offset)
            .field("line", &self.line)
            .field("index", &self.index)
            .field("chunk_bytes", &self.chunk_bytes)
            .finish_non_exhaustive()
    }
}

/// Bytes asked of the source by a chunk's first read; later reads double.
const FIRST_READ: usize = 64 << 10;

/// Idle chunk buffers kept for reuse (at most 2 x cores + 2 chunks are in flight).
const POOLED_BUFFERS: usize = 8;

impl<R: Read> Chunker<R> {
    /// A chunker over `src` that cuts where `framing` finds record ends. A line longer than
    /// `max_line` bytes is cut anyway (the decoder then rejects it as too long).
    pub fn new(src: R, chunk_bytes: usize, framing: Box<dyn Framing>, max_line: usize) -> Self {
        Chunker {
            src,
            carry: Vec::new(),
            offset: 0,
            line: 1,
            index: 0,
            eof: false,
            done: false,
            chunk_bytes: chunk_bytes.max(1),
            framing,
            max_line,
            bytes_read: None,
            pool: Arc::new(BufferPool::new(POOLED_BUFFERS)),
            skip_line: false,
            keep_overflow: false,
        }
    }

    /// Changes how later cuts are placed (after detection settled the format's details).
    pub fn set_framing(&mut self, framing: Box<dyn Framing>) {
        self.framing = framing;
    }

    /// Bytes read ahead of the last chunk (the start of the next one), for a decoder that
    /// looks at the input before the first chunk is cut.
    pub fn pending(&self) -> &[u8] {
        &self.carry
    }

    /// Adds the bytes read from the source to `counter` as they are read.
    #[must_use]
    pub fn with_progress(mut self, counter: Arc<AtomicU64>) -> Self {
        self.bytes_read = Some(counter);
        self
    }

    fn read_into(&mut self, buf: &mut Vec<u8>, want: usize) -> Result<()> {
        // Room must be zeroed before it is read into. It grows by doubling from 64 KiB and
        // stays zeroed across short reads (decompressors return a block at a time), so each
        // byte is zeroed once, and a small input does not pay for a whole chunk's worth.
        let mut filled = buf.len();
        while filled < want && !self.eof {
            if filled == buf.len() {
                buf.resize(filled + (want - filled).min(filled.max(FIRST_READ)), 0);
            }
            let dst = buf.get_mut(filled..).unwrap_or_default();
            match self.src.read(dst) {
                Ok(0) => self.eof = true,
                Ok(n) => {
                    filled += n;
                    if let Some(c) = &self.bytes_read {
                        c.fetch_add(n as u64, Ordering::Relaxed);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    buf.truncate(filled);
                    return Err(e.into());
                }
            }
        }
        buf.truncate(filled);
        Ok(())
    }

    /// The next chunk; `None` once the input is exhausted.
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>> {
        if self.done {
            return Ok(None);
        }
        if self.skip_line {
            let offset = self.offset;
            let (ended, rest) = self.skip_rest_of_line()?;
            if !ended || !rest.is_empty() {
                // Inside the line (or at its end): a chunk of no record, holding the bytes
                // read past when they are kept for the quarantine, so that the caller can
                // check for cancellation between reads of a line that may run on for
                // gigabytes.
                let mut chunk = Chunk::default();
                (chunk.index, chunk.offset, chunk.line) = (self.index, offset, self.line);
                chunk.overflow = true;
                chunk.start = rest.len();
                chunk.bytes = rest;
                self.index += 1;
                return Ok(Some(chunk));
            }
        }
        let mut buf = self.pool.get(self.chunk_bytes.max(self.carry.len()) + 1);
        buf.extend_from_slice(&self.carry);
        self.carry.clear();
        let mut want = self.chunk_bytes.max(buf.len() + 1);
        let mut cut_line = false;
        let split = loop {
            self.read_into(&mut buf, want)?;
            if self.eof {
                if let Err(e) = self.framing.finish(&buf) {
                    return Err(self.locate(e, &buf));
                }
                break buf.len();
            }
            let cut = match self.framing.cut_point(&buf) {
                Ok(cut) => cut,
                Err(e) => return Err(self.locate(e, &buf)),
            };
            if let Some(cut) = cut {
                self.framing.cut_at(cut);
                break cut;
            }
            if buf.len() > self.max_line {
                // Past the limit: cut anyway. A buffer without any line end is one line too
                // long to keep, so the rest of it is skipped (and the line rejected).
                cut_line = !has_line_end(&buf, self.framing.lone_cr_ends_lines());
                if cut_line {
                    break buf.len();
                }
                break self.framing.forced_cut(&buf).min(buf.len());
            }
            // No line end outside quotes yet: a very long record. Read more, up to the limit.
            want = buf.len().saturating_mul(2).min(self.max_line + 1);
        };
        if buf.is_empty() && self.index == 0 {
            self.done = true;
            return Ok(None);
        }
        // Past the first chunk, an empty input end still yields an (empty) last chunk: it
        // tells the sequencer that an unfinished record before it will get no more bytes.
        self.carry
            .extend_from_slice(buf.get(split..).unwrap_or_default());
        buf.truncate(split);
        let last = self.eof && self.carry.is_empty();
        let start = if self.index == 0 && buf.starts_with(b"\xef\xbb\xbf") {
            3
        } else {
            0
        };
        let chunk = Chunk {
            index: self.index,
            bytes: buf,
            start,
            offset: self.offset,
            line: self.line,
            last,
            cut_line: cut_line && !last,
            past_limit: false,
            overflow: false,
            pool: Some(Arc::clone(&self.pool)),
        };
        self.skip_line = chunk.cut_line;
        self.index += 1;
        self.offset += chunk.bytes.len() as u64;
        self.line += lines_in(&chunk.bytes, self.framing.lone_cr_ends_lines());
        self.done = last;
        Ok(Some(chunk))
    }

    /// A framing's error, whose position counts from the start of `buf`, placed in the
    /// input: byte offset and line.
    fn locate(&self, mut e: crate::error::Error, buf: &[u8]) -> crate::error::Error {
        let (offset, line) = (self.offset, self.line);
        let lone_cr = self.framing.lone_cr_ends_lines();
        e.relocate(|p| {
            let at = usize::try_from(p.byte).unwrap_or(usize::MAX).min(buf.len());
            p.line = line + lines_in(buf.get(..at).unwrap_or_default(), lone_cr);
            p.byte += offset;
        });
        e
    }

    /// Reads on past the end of the line the last chunk was cut in: input offset and line
    /// count move on, and reading resumes on the next line. Reads one chunk's worth of
    /// bytes per call; returns whether the line (or the input) ended, and the bytes read
    /// past (line end included) when they are kept ([`Chunker::keep_overflow`]).
    fn skip_rest_of_line(&mut self) -> Result<(bool, Vec<u8>)> {
        let mut scratch = self.pool.get(self.chunk_bytes);
        self.read_into(&mut scratch, self.chunk_bytes)?;
        let found = if self.framing.lone_cr_ends_lines() {
            memchr::memchr2(b'\n', b'\r', &scratch)
        } else {
            memchr::memchr(b'\n', &scratch)
        };
        let ended = match found {
            Some(at) => {
                if at + 1 == scratch.len() && scratch.get(at) == Some(&b'\r') {
                    // Whether a line feed follows decides where the line ends.
                    self.read_into(&mut scratch, at + 2)?;
                }
                let crlf = scratch.get(at) == Some(&b'\r') && scratch.get(at + 1) == Some(&b'\n');
                let end = at + 1 + usize::from(crlf);
                self.offset += end as u64;
                self.line += 1;
                self.carry
                    .extend_from_slice(scratch.get(end..).unwrap_or_default());
                scratch.truncate(end);
                true
            }
            None => {
                self.offset += scratch.len() as u64;
                self.eof
            }
        };
        self.skip_line = !ended;
        let kept = if self.keep_overflow {
            scratch
        } else {
            self.pool.put(scratch);
            Vec::new()
        };
        Ok((ended, kept))
    }

    /// Keeps the bytes of an over-long line read past, in chunks marked
    /// [`Chunk::overflow`], for a quarantine that holds every bad record whole.
    pub fn keep_overflow(&mut self, keep: bool) {
        self.keep_overflow = keep;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted() -> Box<dyn Framing> {
        Box::new(crate::decode::csv::QuoteParity::new(Some(b'"')))
    }

    fn chunks(data: &[u8], size: usize) -> Vec<Chunk> {
        let mut c = Chunker::new(data, size, quoted(), 1 << 20);
        let mut out = Vec::new();
        while let Some(ch) = c.next_chunk().unwrap() {
            out.push(ch);
        }
        out
    }

    #[test]
    fn chunks_end_on_line_feeds_and_cover_the_input() {
        let data = b"a,b\n1,2\n3,4\n5,6\n7,8";
        let cs = chunks(data, 6);
        let joined: Vec<u8> = cs.iter().flat_map(|c| c.bytes.clone()).collect();
        assert_eq!(joined, data);
        for c in &cs[..cs.len() - 1] {
            assert_eq!(c.bytes.last(), Some(&b'\n'));
            assert!(!c.last);
        }
        assert!(cs.last().unwrap().last);
        let lines: Vec<u64> = cs.iter().map(|c| c.line).collect();
        let mut expect = vec![1];
        for c in &cs[..cs.len() - 1] {
            expect.push(
                expect.last().unwrap() + c.bytes.iter().filter(|&&b| b == b'\n').count() as u64,
            );
        }
        assert_eq!(lines, expect);
    }

    #[test]
    fn cut_prefers_a_line_feed_outside_quotes() {
        let data = b"x\n\"a\nb\nc\"\n";
        let cs = chunks(data, 8);
        // The first cut may not fall inside the quoted field.
        assert!(
            cs[0].bytes == b"x\n" || cs[0].bytes.len() >= 10,
            "{:?}",
            cs[0]
        );
    }

    #[test]
    fn input_without_line_feeds_is_cut_at_carriage_returns() {
        let data = b"a,b\r1,\"x\ry\"\r2,z\r3,w\r";
        let cs = chunks(data, 6);
        assert!(cs.len() > 2);
        let joined: Vec<u8> = cs.iter().flat_map(|c| c.bytes.clone()).collect();
        assert_eq!(joined, data);
        for c in &cs[..cs.len() - 1] {
            assert_eq!(c.bytes.last(), Some(&b'\r'));
            // Never inside the quoted field.
            assert!(!c.bytes.ends_with(b"\"x\r"), "{c:?}");
        }
        let lines: Vec<u64> = cs.iter().map(|c| c.line).collect();
        let mut expect = vec![1];
        for c in &cs[..cs.len() - 1] {
            expect.push(expect.last().unwrap() + count_lines(&c.bytes));
        }
        assert_eq!(lines, expect);
        assert_eq!(count_lines(b"a\r\nb\r\n"), 2);
        assert_eq!(count_lines(b"a\rb\r"), 2);
    }

    #[test]
    fn a_crlf_is_never_split_between_chunks() {
        // The first line is longer than a chunk, and a buffer of one chunk ends on its CR.
        let data = b"aaaaa\r\nb\r\nc";
        let cs = chunks(data, 6);
        assert!(cs.iter().all(|c| !c.bytes.starts_with(b"\n")), "{cs:?}");
        let joined: Vec<u8> = cs.iter().flat_map(|c| c.bytes.clone()).collect();
        assert_eq!(joined, data);
        let last = cs.last().unwrap();
        assert_eq!(last.line + count_lines(&last.bytes), 3);
    }

    #[test]
    fn skipping_an_over_long_line_keeps_its_crlf_whole() {
        // A line past the limit, whose CR ends the first read after the cut.
        let mut data = vec![b'x'; 12];
        data.extend_from_slice(b"\r\nnext\r\n");
        let mut c = Chunker::new(&data[..], 4, Box::new(LineEnds), 8);
        let mut lines = Vec::new();
        while let Some(ch) = c.next_chunk().unwrap() {
            if !ch.bytes.is_empty() {
                lines.push((ch.line, ch.bytes.clone(), ch.cut_line));
            }
        }
        let (line, bytes, _) = lines.last().unwrap();
        assert_eq!(
            (*line, bytes.as_slice()),
            (2, &b"next\r\n"[..]),
            "{lines:?}"
        );
    }

    #[test]
    fn a_quote_open_past_the_limit_is_cut_at_a_line_end() {
        // The quote never closes, so no line end is outside quotes; past the 16-byte limit
        // the buffer is cut after its last line end, not inside the line after it.
        let data = b"a\n\"open\nxxxxxxxxxxxxxxxxxxxxxxx\nyy\n";
        let mut c = Chunker::new(&data[..], 24, quoted(), 16);
        let mut cs = Vec::new();
        while let Some(ch) = c.next_chunk().unwrap() {
            cs.push(ch);
        }
        let joined: Vec<u8> = cs.iter().flat_map(|c| c.bytes.clone()).collect();
        assert_eq!(joined, data);
        for ch in &cs[..cs.len() - 1] {
            assert!(!ch.cut_line, "{ch:?}");
            assert!(ch.bytes.ends_with(b"\n"), "{ch:?}");
        }
    }

    /// A source that returns at most three bytes per read, as pipes and decompressors
    /// return less than asked.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(3).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn short_reads_give_the_same_chunks() {
        let data: Vec<u8> = (0..2000)
            .flat_map(|i| format!("{i},\"x{i}\"\n").into_bytes())
            .collect();
        let collect = |src: &mut dyn Read| {
            let mut c = Chunker::new(src, 100, quoted(), 1 << 20);
            let mut out = Vec::new();
            while let Some(ch) = c.next_chunk().unwrap() {
                out.push((ch.bytes.clone(), ch.offset, ch.line, ch.last));
            }
            out
        };
        let whole = collect(&mut &data[..]);
        let trickled = collect(&mut Trickle(&data));
        assert!(whole.len() > 10);
        assert_eq!(whole, trickled);
    }

    #[test]
    fn empty_input_has_no_chunk() {
        assert!(chunks(b"", 4).is_empty());
    }

    #[test]
    fn input_ending_on_a_cut_ends_with_an_empty_last_chunk() {
        let cs = chunks(b"ab\ncd\n", 3);
        assert!(cs.last().unwrap().last);
        assert!(cs[..cs.len() - 1].iter().all(|c| !c.last));
    }

    #[test]
    fn bom_is_skipped() {
        let cs = chunks(b"\xef\xbb\xbfa\n1\n", 64);
        assert_eq!(cs[0].start, 3);
    }
}
