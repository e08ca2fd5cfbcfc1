//! Transcoding a byte stream to UTF-8 on the fly.
//!
//! UTF-16 and legacy charsets go through `encoding_rs`; UTF-32 (which `encoding_rs` does not
//! carry) is decoded here. A byte order mark is consumed. A malformed sequence becomes the
//! byte `FF`, which is never valid UTF-8: the decoder downstream then rejects just the record
//! holding it as invalid encoding (and the error policy decides), rather than the text being
//! silently changed to U+FFFD.

use std::io::{self, Read};

use crate::detect::Encoding;
use crate::error::{Error, Result};

/// Input bytes read per refill.
const IN_BLOCK: usize = 64 << 10;

enum Codec {
    Rs(encoding_rs::Decoder),
    Utf32 { le: bool },
}

/// A reader yielding the UTF-8 transcoding of another reader's text.
pub struct Transcoder<R> {
    src: R,
    codec: Codec,
    /// Input not yet decoded: `inbuf[in_pos..]`.
    inbuf: Vec<u8>,
    in_pos: usize,
    /// Output not yet handed out: `out[out_pos..]`.
    out: Vec<u8>,
    out_pos: usize,
    /// Bytes of byte order mark still to drop from the start.
    bom_left: usize,
    eof: bool,
    finished: bool,
}

impl<R: Read> Transcoder<R> {
    /// A transcoder from `encoding` (not UTF-8, which needs none) to UTF-8.
    pub fn new(src: R, encoding: Encoding) -> Result<Self> {
        let codec = match encoding {
            Encoding::Utf8 { .. } => {
                return Err(Error::invalid("UTF-8 input needs no transcoding"));
            }
            Encoding::Utf16Le { .. } => {
                Codec::Rs(encoding_rs::UTF_16LE.new_decoder_without_bom_handling())
            }
            Encoding::Utf16Be { .. } => {
                Codec::Rs(encoding_rs::UTF_16BE.new_decoder_without_bom_handling())
            }
            Encoding::Utf32Le { .. } => Codec::Utf32 { le: true },
            Encoding::Utf32Be { .. } => Codec::Utf32 { le: false },
            Encoding::Legacy(name) => match encoding_rs::Encoding::for_label(name.as_bytes()) {
                Some(e) => Codec::Rs(e.new_decoder_without_bom_handling()),
                None => return Err(Error::invalid(format!("unknown encoding {name:?}"))),
            },
        };
        Ok(Transcoder {
            src,
            codec,
            inbuf: Vec::with_capacity(IN_BLOCK),
            in_pos: 0,
            out: Vec::new(),
            out_pos: 0,
            bom_left: encoding.bom_len(),
            eof: false,
            finished: false,
        })
    }

    /// Reads more input; returns false at the end of input.
    fn refill(&mut self) -> io::Result<()> {
        self.inbuf.drain(..self.in_pos);
        self.in_pos = 0;
        let have = self.inbuf.len();
        self.inbuf.resize(have + IN_BLOCK, 0);
        let dst = self.inbuf.get_mut(have..).unwrap_or_default();
        let n = loop {
            match self.src.read(dst) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.inbuf.truncate(have);
                    return Err(e);
                }
            }
        };
        self.inbuf.truncate(have + n);
        if n == 0 {
            self.eof = true;
        }
        if self.bom_left > 0 {
            let drop = self.bom_left.min(self.inbuf.len());
            self.inbuf.drain(..drop);
            self.bom_left -= drop;
        }
        Ok(())
    }

    /// Decodes what input there is into `out`.
    fn decode(&mut self) {
        self.out.clear();
        self.out_pos = 0;
        let input = self.inbuf.get(self.in_pos..).unwrap_or_default();
        let last = self.eof;
        match &mut self.codec {
            Codec::Rs(dec) => {
                let cap = dec
                    .max_utf8_buffer_length_without_replacement(input.len())
                    .unwrap_or(input.len().saturating_mul(3))
                    + 8;
                self.out.resize(cap, 0);
                let mut read_total = 0;
                let mut written_total = 0;
                loop {
                    let src = input.get(read_total..).unwrap_or_default();
                    let dst = self.out.get_mut(written_total..).unwrap_or_default();
                    let (result, read, written) =
                        dec.decode_to_utf8_without_replacement(src, dst, last);
                    read_total += read;
                    written_total += written;
                    match result {
                        encoding_rs::DecoderResult::InputEmpty => break,
                        encoding_rs::DecoderResult::OutputFull => {
                            let grow = self.out.len().max(64);
                            self.out.resize(self.out.len() + grow, 0);
                        }
                        encoding_rs::DecoderResult::Malformed(_, _) => {
                            if written_total >= self.out.len() {
                                self.out.push(0);
                            }
                            if let Some(b) = self.out.get_mut(written_total) {
                                *b = 0xFF;
                            }
                            written_total += 1;
                        }
                    }
                }
                self.out.truncate(written_total);
                self.in_pos += read_total;
                if last {
                    self.finished = true;
                }
            }
            Codec::Utf32 { le } => {
                let whole = input.len() / 4 * 4;
                self.out.reserve(whole);
                for c in input.get(..whole).unwrap_or_default().chunks_exact(4) {
                    let b = [
                        c.first().copied().unwrap_or(0),
                        c.get(1).copied().unwrap_or(0),
                        c.get(2).copied().unwrap_or(0),
                        c.get(3).copied().unwrap_or(0),
                    ];
                    let u = if *le {
                        u32::from_le_bytes(b)
                    } else {
                        u32::from_be_bytes(b)
                    };
                    match char::from_u32(u) {
                        Some(ch) => {
                            let mut tmp = [0u8; 4];
                            self.out
                                .extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                        }
                        None => self.out.push(0xFF),
                    }
                }
                self.in_pos += whole;
                if last {
                    if self.in_pos < self.inbuf.len() {
                        // A cut-off code unit at the very end.
                        self.out.push(0xFF);
                        self.in_pos = self.inbuf.len();
                    }
                    self.finished = true;
                }
            }
        }
    }
}

impl<R: Read> Read for Transcoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_pos >= self.out.len() {
            if self.finished {
                return Ok(0);
            }
            self.refill()?;
            self.decode();
        }
        let avail = self.out.get(self.out_pos..).unwrap_or_default();
        let n = avail.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), avail.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.out_pos += n;
        Ok(n)
    }
}
