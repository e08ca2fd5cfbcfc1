//! The format-neutral machinery between bytes and batches: cutting the input into chunks at
//! record ends ([`chunk`]), the [`Decoder`] each format implements, putting chunk outputs
//! back in input order and numbering records ([`sequence`]), decoding ahead of a streaming
//! consumer ([`prefetch`]), and a streaming batch reader over all of it ([`reader`]).
//!
//! A format plugs in with three parts: a [`Framing`] (where its records end, found without
//! decoding), a [`Decoder`] (a chunk of whole records to Arrow batches and rejects, and how
//! an unfinished record resumes with the next chunk), and a start step that reads the first
//! chunk, settles the schema and returns a [`Start`]. Everything else (threads, order,
//! policies, quarantine, sinks, cancellation, progress) is shared.

pub mod chunk;
pub mod parts;
pub(crate) mod prefetch;
pub mod reader;
pub mod sequence;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

pub use chunk::{count_lines, BufferPool, Chunk, Chunker, Framing, LineEnds, LineFeeds};
pub use reader::{ArrowBatches, BatchReader, ReadCounts};
pub use sequence::Sequencer;

use crate::decode::Reject;
use crate::error::Error;

/// What decoding one chunk produced.
#[derive(Debug, Default)]
pub struct ChunkOutput {
    /// The chunk's sequence number.
    pub index: u64,
    /// Good rows, in input order. Their schema is the decoder's, or for a decoder whose
    /// schema evolves, a wider one the writer merges.
    pub batches: Vec<RecordBatch>,
    /// Rejected records (chunk-local record numbers until the sequencer numbers them).
    pub rejects: Vec<Reject>,
    /// Records read (written + rejected + skipped).
    pub rows_read: u64,
    /// Records skipped on purpose (a header repeated mid-file).
    pub rows_skipped: u64,
    /// Values set to null by `on_cast_error="null"`.
    pub values_nulled: u64,
    /// An unfinished last record, when the chunk was not cut at a record end.
    pub tail: Option<Tail>,
    /// Under the strict policy, the first bad record.
    pub error: Option<Error>,
    /// The input chunk, handed back so it can be decoded again with a previous tail.
    pub chunk: Chunk,
    /// Bytes of the last bad record of an earlier chunk, an over-long line read past: they
    /// go to the quarantine after it.
    pub overflow: Vec<u8>,
    /// Where each good row came from, in the order of `batches`, when the decoder was asked
    /// to keep it ([`DecodeOptions::row_sources`](crate::decode::DecodeOptions)): rules
    /// that reject rows need the bytes and place of the rows they reject.
    pub sources: Option<RowSources>,
    /// What the quality stage found in this output (`None`: not run yet, or outputs were
    /// combined since); see [`crate::sketch::stage`].
    pub quality: Option<Box<crate::sketch::stage::ChunkQuality>>,
}

impl ChunkOutput {
    /// Appends `part`, the output of the stretch of input right after this one's: its
    /// rows, rejects and counts follow this output's, its record numbers shifted past this
    /// output's records. What the quality stage found is dropped (it no longer matches the
    /// rows): the stage runs again on the whole.
    pub fn append(&mut self, mut part: ChunkOutput) {
        let shift = self.rows_read;
        for r in &mut part.rejects {
            r.position.record += shift;
        }
        if let Some(mut theirs) = part.sources.take() {
            for s in &mut theirs.rows {
                s.record += shift;
            }
            match &mut self.sources {
                Some(mine) => mine.append(theirs),
                None => self.sources = Some(theirs),
            }
        }
        self.index = part.index;
        self.batches.append(&mut part.batches);
        self.rejects.append(&mut part.rejects);
        self.rows_read += part.rows_read;
        self.rows_skipped += part.rows_skipped;
        self.values_nulled += part.values_nulled;
        self.tail = part.tail.take();
        self.quality = None;
    }
}

/// The source of each good row of a chunk's output: its bytes exactly as in the input (line
/// terminator included), and where it starts.
#[derive(Debug, Default, Clone)]
pub struct RowSources {
    /// The rows' bytes, one after another.
    pub bytes: Vec<u8>,
    /// One per row, in order.
    pub rows: Vec<RowSource>,
    /// In nested formats, the path of what holds the records (see
    /// [`Position::path`](crate::error::Position)).
    pub path: Option<std::sync::Arc<str>>,
    /// The rows keep no bytes: a row taken out is written as a line of JSON made from its
    /// batch (binary inputs, whose quarantine holds lines of JSON), only when it is.
    pub as_json: bool,
}

/// Where one row came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowSource {
    /// Its bytes: `bytes[start..end]` of its [`RowSources`].
    pub start: usize,
    /// The end of its bytes.
    pub end: usize,
    /// Input offset of its first byte.
    pub byte: u64,
    /// Its line.
    pub line: u64,
    /// Its record number (0-based within the chunk until the sequencer numbers records).
    pub record: u64,
}

impl RowSources {
    /// Adds a row whose bytes are `raw`.
    pub fn push(&mut self, raw: &[u8], byte: u64, line: u64, record: u64) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(raw);
        self.rows.push(RowSource {
            start,
            end: self.bytes.len(),
            byte,
            line,
            record,
        });
    }

    /// The bytes of row `i`.
    pub fn raw(&self, i: usize) -> &[u8] {
        self.rows
            .get(i)
            .and_then(|r| self.bytes.get(r.start..r.end))
            .unwrap_or_default()
    }

    /// Appends `other`'s rows.
    pub fn append(&mut self, other: RowSources) {
        let shift = self.bytes.len();
        self.bytes.extend_from_slice(&other.bytes);
        self.rows.extend(other.rows.into_iter().map(|mut r| {
            r.start += shift;
            r.end += shift;
            r
        }));
        if self.path.is_none() {
            self.path = other.path;
        }
        self.as_json |= other.as_json;
    }

    /// Keeps the rows `keep` says to (one flag per row).
    pub fn retain(&mut self, keep: &[bool]) {
        let mut flags = keep.iter();
        self.rows.retain(|_| flags.next().copied().unwrap_or(true));
    }
}

/// The unfinished record at the end of a chunk, to be resumed with the next chunk.
#[derive(Debug)]
pub struct Tail {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Input offset of its first byte.
    pub offset: u64,
    /// Its line.
    pub line: u64,
    /// Outputs of chunks a decoder chose to hold with the record (appended to `bytes`)
    /// instead of decoding them again with it: CSV holds chunks that cannot close a quote
    /// the record left open, each decoded on its own.
    pub held: Vec<ChunkOutput>,
    /// Length of the record's own bytes, at the start of `bytes` (held chunks' follow).
    pub own_len: usize,
}

/// What became of an unfinished record when the next chunk arrived.
#[derive(Debug)]
pub enum Resume {
    /// The record and the chunk decoded together: the chunk's output, in its place.
    Done(ChunkOutput),
    /// The chunk cannot finish the record: both are held for a later chunk, and this empty
    /// output (of the chunk's index) stands in for the chunk meanwhile.
    Held(Tail, ChunkOutput),
}

/// One format's chunk decoder: immutable once the start step made it, shared by every
/// worker thread.
pub trait Decoder: Send + Sync + 'static {
    /// The schema of the output (of the first batches, for a decoder whose schema evolves).
    fn schema(&self) -> SchemaRef;

    /// Decodes one chunk of whole records (its last record may be unfinished: see
    /// [`ChunkOutput::tail`]). Never fails: bad records become rejects, or under the
    /// strict policy [`ChunkOutput::error`]. Not called for [`Chunk::overflow`] chunks
    /// ([`decode`] passes them on).
    fn process(&self, chunk: Chunk) -> ChunkOutput;

    /// The chunk after an unfinished record `tail` arrived, with its own (discarded)
    /// decoding `next`: decodes the record and the chunk together. Formats whose framing
    /// never guesses wrong need not override this.
    fn resume(&self, tail: Tail, next: ChunkOutput) -> Resume {
        Resume::Done(self.process(rejoin(tail, &next.chunk)))
    }

    /// Sees each output in input order before it is released (after [`Self::resume`]). A
    /// decoder whose output depends on what earlier chunks decided (a plan that widens)
    /// decodes the chunk again here when a worker decoded it ahead with another plan; it
    /// says whether it did, so wrappers redo their own work on the new output.
    fn in_order(&self, _out: &mut ChunkOutput) -> bool {
        false
    }
}

/// Decodes `chunk` with `decoder`; the rest of an over-long line ([`Chunk::overflow`]) is
/// no record: its bytes are passed on for the quarantine.
pub fn decode<D: Decoder + ?Sized>(decoder: &D, mut chunk: Chunk) -> ChunkOutput {
    if chunk.overflow {
        let mut out = ChunkOutput {
            index: chunk.index,
            overflow: std::mem::take(&mut chunk.bytes),
            ..ChunkOutput::default()
        };
        out.chunk.overflow = true;
        return out;
    }
    decoder.process(chunk)
}

/// The chunk that continues `tail` with the bytes of `next`, numbered as `next`.
pub fn rejoin(tail: Tail, next: &Chunk) -> Chunk {
    let mut bytes = tail.bytes;
    bytes.extend_from_slice(&next.bytes);
    Chunk {
        index: next.index,
        bytes,
        start: 0,
        offset: tail.offset,
        line: tail.line,
        last: next.last,
        cut_line: next.cut_line,
        past_limit: false,
        overflow: false,
        pool: None,
    }
}

/// How a format's bad records are kept under the quarantine policy: a file in the input's
/// own format that starts with `header` (CSV's header line, nothing for JSON Lines), holding
/// each bad record byte for byte, ending with `footer` (an XML file's closing tag), named
/// with `extension`.
#[derive(Debug, Clone, Default)]
pub struct QuarantineFormat {
    /// Written once at the top of the quarantine file.
    pub header: Vec<u8>,
    /// Written once at the end of the quarantine file.
    pub footer: Vec<u8>,
    /// The quarantine file's extension (`csv`, `jsonl`, ...).
    pub extension: String,
    /// Whether the input file's own extension, when it has one, replaces `extension`
    /// (delimited text keeps `.tsv`, `.txt`, `.dat`).
    pub input_extension: bool,
}

/// Where decoding starts, as a format's start step leaves it: the chunker after the first
/// chunk, the decoder with the schema, the first chunk (not yet decoded), and how bad
/// records are quarantined.
pub struct Start<R, D> {
    /// The chunker, positioned after the first chunk.
    pub chunker: Chunker<R>,
    /// The decoder.
    pub decoder: D,
    /// The first chunk (numbered 0).
    pub first: Chunk,
    /// How bad records are kept.
    pub quarantine: QuarantineFormat,
}
