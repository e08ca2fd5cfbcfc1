//! Putting chunk outputs back in input order, resuming records a chunk left unfinished, and
//! numbering records.

use std::collections::BTreeMap;

use super::{Chunk, ChunkOutput, Decoder, Resume, Tail};

/// Accepts chunk outputs in any order and releases them in input order.
///
/// When a chunk ended inside a record (its cut was a guess the decoder proved wrong), the
/// decoder resumes that record with the next chunk ([`Decoder::resume`]), here, in order.
/// Record numbers become 1-based and file-wide.
#[derive(Debug, Default)]
pub struct Sequencer {
    next: u64,
    waiting: BTreeMap<u64, ChunkOutput>,
    tail: Option<Tail>,
    records: u64,
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
    pub fn push<D: Decoder + ?Sized>(&mut self, out: ChunkOutput, decoder: &D) -> Vec<ChunkOutput> {
        self.waiting.insert(out.index, out);
        let mut ready = Vec::new();
        while let Some(mut out) = self.waiting.remove(&self.next) {
            if out.chunk.overflow || !out.overflow.is_empty() {
                // The rest of an over-long line: no record, nothing to resume.
                self.next += 1;
                out.chunk = Chunk::default();
                ready.push(out);
                continue;
            }
            if let Some(tail) = self.tail.take() {
                match decoder.resume(tail, out) {
                    Resume::Done(whole) => out = whole,
                    Resume::Held(tail, placeholder) => {
                        self.tail = Some(tail);
                        self.next += 1;
                        ready.push(placeholder);
                        continue;
                    }
                }
            }
            decoder.in_order(&mut out);
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
