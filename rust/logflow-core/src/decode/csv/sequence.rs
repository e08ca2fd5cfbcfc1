//! Putting chunk results back in input order, repairing mis-cut chunks, and numbering records.

use std::collections::BTreeMap;

use super::chunk::Chunk;
use super::decode::{ChunkDecoder, ChunkOutput, Tail};
use crate::decode::ErrorPolicy;

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

/// The unfinished record and the chunk after it, decoded again as one.
fn merge(tail: Tail, out: ChunkOutput, decoder: &ChunkDecoder) -> ChunkOutput {
    let mut bytes = tail.bytes;
    bytes.extend_from_slice(&out.chunk.bytes);
    decoder.process(Chunk {
        index: out.index,
        bytes,
        start: 0,
        offset: tail.offset,
        line: tail.line,
        last: out.chunk.last,
        cut_line: out.chunk.cut_line,
        quote_past_limit: false,
        pool: None,
    })
}

/// When the quote the unfinished record opened is sure never to close (the chunk `out`
/// brings no quote character, and the input ends there or the record passes the size
/// limit), its result without decoding everything again serially: the record's own bytes
/// decoded with that quote rejected (its first line dropped, the rest read on), then the
/// held chunks' and `out`'s own outputs, which are exactly what reading on gives, as one
/// output. `None` where that does not hold (strict policy, which stops at the quote anyway;
/// other quotes after the first line; lines not ended by line feeds).
fn never_closes(
    tail: &mut Tail,
    out: &mut ChunkOutput,
    decoder: &ChunkDecoder,
) -> Option<ChunkOutput> {
    let q = decoder.dialect.quote?;
    if decoder.policy == ErrorPolicy::Strict
        || out.chunk.cut_line
        || out.error.is_some()
        || memchr::memchr(q, &out.chunk.bytes).is_some()
        || tail
            .held
            .iter()
            .any(|h| h.tail.is_some() || h.error.is_some())
    {
        return None;
    }
    let own = tail.bytes.get(..tail.own_len)?;
    let first_line = memchr::memchr(b'\n', own)?;
    let after = own.get(first_line + 1..)?;
    if !own.ends_with(b"\n") || memchr::memchr(q, after).is_some() {
        return None;
    }
    let mut whole = decoder.process(Chunk {
        index: out.index,
        bytes: own.to_vec(),
        start: 0,
        offset: tail.offset,
        line: tail.line,
        last: true,
        cut_line: false,
        // As decoding the record and the chunk together would judge it.
        quote_past_limit: tail.bytes.len() + out.chunk.bytes.len() > decoder.max_record_bytes,
        pool: None,
    });
    if whole.error.is_some() || whole.tail.is_some() {
        return None;
    }
    for part in tail
        .held
        .drain(..)
        .chain(std::iter::once(std::mem::take(out)))
    {
        append(&mut whole, part);
    }
    Some(whole)
}

/// Appends a later output of the same stretch of input to `whole`.
fn append(whole: &mut ChunkOutput, mut part: ChunkOutput) {
    for r in &mut part.rejects {
        r.position.record += whole.rows_read;
    }
    whole.index = part.index;
    whole.batches.append(&mut part.batches);
    whole.rejects.append(&mut part.rejects);
    whole.rows_read += part.rows_read;
    whole.rows_skipped += part.rows_skipped;
    whole.values_nulled += part.values_nulled;
    whole.tail = part.tail.take();
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
                    // the size limit), instead of again with every chunk. Its own decode is
                    // kept too, for when the quote never closes.
                    let index = out.index;
                    tail.bytes.extend_from_slice(&out.chunk.bytes);
                    out.chunk = Chunk::default();
                    tail.held.push(out);
                    self.tail = Some(tail);
                    self.next += 1;
                    ready.push(ChunkOutput {
                        index,
                        ..ChunkOutput::default()
                    });
                    continue;
                }
                if let Some(whole) = never_closes(&mut tail, &mut out, decoder) {
                    out = whole;
                } else {
                    out = merge(tail, out, decoder);
                }
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
