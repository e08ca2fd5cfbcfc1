//! Resuming a record a chunk left unfinished. Chunks are cut by quote parity, so a record
//! runs on into the next chunk only when a quote is open at the cut: the record and the next
//! chunk are decoded again as one, unless the next chunk cannot close the quote (it holds
//! no quote character), in which case it is held with the record instead, or the quote is
//! sure never to close, in which case the held chunks' own decodings are used.

use super::decode::ChunkDecoder;
use crate::decode::ErrorPolicy;
use crate::stream::{rejoin, Chunk, ChunkOutput, Decoder, Resume, Tail};

/// The continuation of `tail` with the next chunk's output `out`: see the module docs.
pub(super) fn resume(decoder: &ChunkDecoder, mut tail: Tail, mut out: ChunkOutput) -> Resume {
    if quote_stays_open(&tail, &out.chunk, decoder) {
        // Nothing in this chunk can close the open quote: keep its bytes with the
        // unfinished record and decode them once the record ends (or passes the size
        // limit), instead of again with every chunk. Its own decode is kept too, for when
        // the quote never closes.
        let index = out.index;
        tail.bytes.extend_from_slice(&out.chunk.bytes);
        out.chunk = Chunk::default();
        tail.held.push(out);
        return Resume::Held(
            tail,
            ChunkOutput {
                index,
                ..ChunkOutput::default()
            },
        );
    }
    if let Some(whole) = never_closes(&mut tail, &mut out, decoder) {
        return Resume::Done(whole);
    }
    Resume::Done(decoder.process(rejoin(tail, &out.chunk)))
}

/// Whether the quote left open at the end of `tail` stays open through `chunk`: the chunk
/// holds no quote character, is not the last, and the record still fits the size limit.
fn quote_stays_open(tail: &Tail, chunk: &Chunk, decoder: &ChunkDecoder) -> bool {
    let Some(q) = decoder.dialect.quote else {
        return false;
    };
    !chunk.last
        && !chunk.cut_line
        && tail.bytes.len() + chunk.bytes.len() <= decoder.max_record_bytes
        && memchr::memchr(q, &chunk.bytes).is_none()
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
        past_limit: tail.bytes.len() + out.chunk.bytes.len() > decoder.max_record_bytes,
        overflow: false,
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
fn append(whole: &mut ChunkOutput, part: ChunkOutput) {
    whole.append(part);
}
