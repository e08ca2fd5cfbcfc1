//! Putting chunk results back in input order, repairing mis-cut chunks, and numbering records.

use std::collections::BTreeMap;

use super::chunk::Chunk;
use super::decode::{ChunkDecoder, ChunkOutput};

/// Accepts chunk outputs in any order and releases them in input order.
///
/// When a chunk ended inside a record (its cut was a guess that quoting proved wrong), the
/// next chunk's output is discarded and that chunk is decoded again, here, starting with the
/// unfinished record. Record numbers become 1-based and file-wide.
#[derive(Debug, Default)]
pub struct Sequencer {
    next: u64,
    waiting: BTreeMap<u64, ChunkOutput>,
    tail: Option<super::decode::Tail>,
    records: u64,
}

/// Whether the quote left open at the end of `tail` stays open through `chunk`: the chunk
/// holds no quote character, is not the last, and the record still fits the size limit.
fn quote_stays_open(tail: &super::decode::Tail, chunk: &Chunk, decoder: &ChunkDecoder) -> bool {
    let Some(q) = decoder.dialect.quote else {
        return false;
    };
    !chunk.last
        && !chunk.cut_line
        && tail.bytes.len() + chunk.bytes.len() <= decoder.max_record_bytes
        && memchr::memchr(q, &chunk.bytes).is_none()
}

impl Sequencer {
    /// A sequencer expecting chunk 0 first.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records released so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Chunks held back waiting for an earlier one.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Takes one output; returns every output that is now ready, in order.
    pub fn push(&mut self, out: ChunkOutput, decoder: &ChunkDecoder) -> Vec<ChunkOutput> {
        self.waiting.insert(out.index, out);
        let mut ready = Vec::new();
        while let Some(mut out) = self.waiting.remove(&self.next) {
            if let Some(mut tail) = self.tail.take() {
                if quote_stays_open(&tail, &out.chunk, decoder) {
                    // Nothing in this chunk can close the open quote: keep its bytes with
                    // the unfinished record and decode them once the record ends (or passes
                    // the size limit), instead of again with every chunk.
                    tail.bytes.extend_from_slice(&out.chunk.bytes);
                    self.tail = Some(tail);
                    self.next += 1;
                    ready.push(ChunkOutput {
                        index: out.index,
                        ..ChunkOutput::default()
                    });
                    continue;
                }
                let mut bytes = tail.bytes;
                bytes.extend_from_slice(&out.chunk.bytes);
                let merged = Chunk {
                    index: out.index,
                    bytes,
                    start: 0,
                    offset: tail.offset,
                    line: tail.line,
                    last: out.chunk.last,
                    cut_line: out.chunk.cut_line,
                    pool: None,
                };
                out = decoder.process(merged);
            }
            self.next += 1;
            self.tail = out.tail.take();
            let base = self.records + 1;
            for r in &mut out.rejects {
                r.position.record += base;
            }
            if let Some(e) = &mut out.error {
                e.shift_record(base);
            }
            self.records += out.rows_read;
            out.chunk = Chunk::default();
            let stop = out.error.is_some();
            ready.push(out);
            if stop {
                break;
            }
        }
        ready
    }

    /// Whether an unfinished record is still waiting for more input.
    pub fn has_tail(&self) -> bool {
        self.tail.is_some()
    }

    /// At the end of the input: every chunk released and no unfinished record left;
    /// anything else is a bug.
    pub fn drained(&self) -> crate::error::Result<()> {
        if self.waiting() > 0 || self.has_tail() {
            return Err(crate::error::Error::invalid(
                "internal error: the input ended with chunks out of order",
            ));
        }
        Ok(())
    }
}
