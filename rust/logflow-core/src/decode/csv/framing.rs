//! Where CSV records end, guessed without tokenizing: the last line end outside quotes by
//! quote parity. The guess is wrong only when a quote character appears inside an unquoted
//! field; the decoder then finds the record unfinished and the sequencer has it resumed
//! with the next chunk.

use crate::error::Result;
use crate::stream::{Framing, LineEnds};

/// How far back from a chunk's end to look for a line end outside quotes before settling for
/// the last line end.
const PARITY_WINDOW: usize = 256 << 10;

/// CSV framing: line ends outside quotes, by the parity of quote characters before them.
#[derive(Debug, Clone, Copy)]
pub struct QuoteParity {
    quote: Option<u8>,
}

impl QuoteParity {
    /// Framing for records quoted with `quote` (`None`: no quoting, any line end is a cut).
    pub fn new(quote: Option<u8>) -> Self {
        QuoteParity { quote }
    }
}

impl Framing for QuoteParity {
    /// Just past the last line end that quote parity puts outside quotes, or past the last
    /// line end when parity finds none near the end of the buffer.
    fn cut_point(&mut self, buf: &[u8]) -> Result<Option<usize>> {
        let Some((eol, last_nl)) = LineEnds::last(buf) else {
            return Ok(None);
        };
        let Some(q) = self.quote else {
            return Ok(Some(last_nl + 1));
        };
        let total = memchr::memchr_iter(q, buf).count();
        let mut after = memchr::memchr_iter(q, buf.get(last_nl..).unwrap_or_default()).count();
        let mut nl = last_nl;
        let floor = buf.len().saturating_sub(PARITY_WINDOW);
        loop {
            if (total - after) % 2 == 0 {
                return Ok(Some(nl + 1));
            }
            let Some(prev) = memchr::memrchr(eol, buf.get(..nl).unwrap_or_default()) else {
                return Ok(None);
            };
            if prev < floor {
                return Ok(Some(last_nl + 1));
            }
            after += memchr::memchr_iter(q, buf.get(prev..nl).unwrap_or_default()).count();
            nl = prev;
        }
    }

    /// Just past the last line end: a quote still open past the size limit is rejected
    /// with its first line and the lines after it are read on as records, so a chunk ends
    /// where they do.
    fn forced_cut(&self, buf: &[u8]) -> usize {
        LineEnds::last(buf).map_or(buf.len(), |(_, at)| at + 1)
    }
}
