//! Avro object container files.
//!
//! logflow reads the container itself: the header (schema, codec, sync marker), then the
//! blocks, each a record count, a byte size, the (compressed) records and the sync marker. A
//! run of blocks of about one chunk (4 MiB) is a part; parts decode in parallel. Each block
//! is decompressed here (null, deflate, snappy with its CRC, zstandard, bzip2, xz), with a
//! limit on what it may expand to, and arrow-avro's streaming decoder reads its records one
//! at a time under the writer schema. A block's records must take exactly its bytes: fewer
//! bytes than its records need, or bytes left after them, is a damaged block. So a damaged
//! block is found and named (its number and byte offset) whatever went wrong with it:
//! framing, sync marker, checksum, decompression or the records themselves.
//!
//! Types are arrow-avro's: primitives; records as structs, arrays as lists, maps as maps;
//! enums as dictionaries; fixed as fixed-size binary; `decimal` as decimal128/256, `date`,
//! `time-millis`/`-micros`, `timestamp-millis`/`-micros` (UTC) and `local-timestamp-*`, and
//! `duration` as an interval; a union with `null` as a nullable column, other unions as Arrow
//! unions (a struct of one member per branch in Parquet). `uuid` columns become their
//! canonical text (`8-4-4-4-12` hex digits).

use std::collections::VecDeque;
use std::io::{self, BufReader, Cursor, Read};
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{Array, ArrayRef, FixedSizeBinaryArray, RecordBatch};
use arrow_avro::reader::{Decoder, DecoderMode, ReaderBuilder};
use arrow_avro::schema::{AvroSchema, SchemaStore};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

use super::corrupt;
use crate::decode::DecodeOptions;
use crate::detect::Format;
use crate::error::{Error, ErrorKind, Position, Result};
use crate::stream::parts::{Part, Parts};

const MAGIC: &[u8; 4] = b"Obj\x01";
/// Largest header (schema and metadata) read.
const MAX_HEADER_BYTES: u64 = 64 << 20;

/// The container's codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Codec {
    Null,
    Deflate,
    Snappy,
    Zstandard,
    Bzip2,
    Xz,
}

impl Codec {
    fn parse(name: &[u8]) -> Result<Self> {
        Ok(match name {
            b"null" | b"" => Codec::Null,
            b"deflate" => Codec::Deflate,
            b"snappy" => Codec::Snappy,
            b"zstandard" => Codec::Zstandard,
            b"bzip2" => Codec::Bzip2,
            b"xz" => Codec::Xz,
            other => {
                return Err(Error::new(ErrorKind::Unsupported(format!(
                    "Avro codec {:?} is not supported (null, deflate, snappy, zstandard, \
                     bzip2 and xz are)",
                    String::from_utf8_lossy(other)
                ))))
            }
        })
    }

    fn name(self) -> &'static str {
        match self {
            Codec::Null => "null",
            Codec::Deflate => "deflate",
            Codec::Snappy => "snappy",
            Codec::Zstandard => "zstandard",
            Codec::Bzip2 => "bzip2",
            Codec::Xz => "xz",
        }
    }
}

/// A reader that counts what it has read (the byte offset of blocks).
struct Counted<R> {
    inner: R,
    pos: u64,
}

impl<R: Read> Counted<R> {
    /// One byte, or `None` at the end of the input.
    fn byte(&mut self) -> io::Result<Option<u8>> {
        let mut b = [0u8; 1];
        loop {
            match self.inner.read(&mut b) {
                Ok(0) => return Ok(None),
                Ok(_) => {
                    self.pos += 1;
                    return Ok(b.first().copied());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// A zigzag varint `long`; `None` at the end of the input before its first byte.
    fn long(&mut self) -> Result<Option<i64>> {
        let mut v: u64 = 0;
        for shift in (0..70).step_by(7) {
            let Some(b) = self.byte()? else {
                return if shift == 0 {
                    Ok(None)
                } else {
                    Err(truncated(self.pos))
                };
            };
            if shift == 63 && b > 1 {
                return Err(corrupt(
                    Format::Avro,
                    format!("a number at byte {} is longer than 64 bits", self.pos),
                ));
            }
            v |= u64::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                let n = i64::try_from(v >> 1).unwrap_or(i64::MAX);
                return Ok(Some(if v & 1 == 1 { -n - 1 } else { n }));
            }
        }
        Err(corrupt(
            Format::Avro,
            format!("a number at byte {} is longer than 64 bits", self.pos),
        ))
    }

    fn exact(&mut self, n: u64, what: &str) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        let got = (&mut self.inner).take(n).read_to_end(&mut buf)?;
        self.pos += got as u64;
        if (got as u64) < n {
            return Err(corrupt(
                Format::Avro,
                format!("the file ends inside {what} ({n} bytes declared, {got} there)"),
            ));
        }
        Ok(buf)
    }
}

#[cold]
fn truncated(pos: u64) -> Error {
    corrupt(
        Format::Avro,
        format!("the file ends inside a number at byte {pos}"),
    )
}

fn zigzag(v: i64, out: &mut Vec<u8>) {
    // Zigzag: the sign moves to the lowest bit (the cast keeps the bits).
    #[allow(clippy::cast_sign_loss)]
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    loop {
        let b = u8::try_from(z & 0x7F).unwrap_or(0);
        z >>= 7;
        if z == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn bytes(b: &[u8], out: &mut Vec<u8>) {
    zigzag(i64::try_from(b.len()).unwrap_or(i64::MAX), out);
    out.extend_from_slice(b);
}

/// The header: what the blocks need.
struct Header {
    codec: Codec,
    sync: [u8; 16],
    /// The same header with the codec `null`: the container the schema is read from.
    plain: Arc<Vec<u8>>,
    /// The writer schema (JSON).
    schema: String,
}

fn read_header<R: Read>(src: &mut Counted<R>) -> Result<Header> {
    let magic = src.exact(4, "the header").map_err(|_| {
        corrupt(
            Format::Avro,
            "not an Avro object container file (too short)",
        )
    })?;
    if magic.as_slice() != MAGIC {
        return Err(corrupt(
            Format::Avro,
            "not an Avro object container file (no \"Obj\\x01\" magic)",
        ));
    }
    let mut entries: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    loop {
        let Some(mut count) = src.long()? else {
            return Err(truncated(src.pos));
        };
        if count == 0 {
            break;
        }
        if count < 0 {
            count = count.checked_neg().unwrap_or(0);
            let _block_bytes = src.long()?;
        }
        for _ in 0..count {
            let mut item = || -> Result<Vec<u8>> {
                let len = src.long()?.ok_or_else(|| truncated(src.pos))?;
                let len = u64::try_from(len).map_err(|_| {
                    corrupt(
                        Format::Avro,
                        format!("a negative length in the header at byte {}", src.pos),
                    )
                })?;
                if src.pos + len > MAX_HEADER_BYTES {
                    return Err(Error::new(ErrorKind::LimitExceeded(format!(
                        "the Avro header runs past {MAX_HEADER_BYTES} bytes"
                    ))));
                }
                src.exact(len, "the header")
            };
            let key = item()?;
            let value = item()?;
            entries.push((key, value));
        }
    }
    let sync: [u8; 16] = src
        .exact(16, "the header's sync marker")?
        .try_into()
        .map_err(|_| truncated(src.pos))?;
    let codec = entries
        .iter()
        .find(|(k, _)| k.as_slice() == b"avro.codec")
        .map_or(Ok(Codec::Null), |(_, v)| Codec::parse(v))?;
    let Some(schema) = entries
        .iter()
        .find(|(k, _)| k.as_slice() == b"avro.schema")
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    else {
        return Err(corrupt(Format::Avro, "the header has no avro.schema"));
    };
    let mut plain = MAGIC.to_vec();
    let kept: Vec<&(Vec<u8>, Vec<u8>)> = entries
        .iter()
        .filter(|(k, _)| k.as_slice() != b"avro.codec")
        .collect();
    zigzag(i64::try_from(kept.len()).unwrap_or(0), &mut plain);
    for (k, v) in kept {
        bytes(k, &mut plain);
        bytes(v, &mut plain);
    }
    plain.push(0);
    plain.extend_from_slice(&sync);
    Ok(Header {
        codec,
        sync,
        plain: Arc::new(plain),
        schema,
    })
}

/// One block as read: its place in the file, its record count and its (compressed) bytes.
struct RawBlock {
    index: u64,
    offset: u64,
    count: i64,
    data: Vec<u8>,
}

/// An Avro file's blocks as parts of about `chunk_bytes` each.
pub(super) struct AvroParts {
    src: Counted<BufReader<Box<dyn Read + Send>>>,
    header: Arc<Header>,
    schema: SchemaRef,
    uuids: Arc<Vec<usize>>,
    chunk_bytes: usize,
    max_block_bytes: usize,
    batch_rows: usize,
    blocks: u64,
    done: bool,
}

fn builder(batch_rows: usize) -> ReaderBuilder {
    ReaderBuilder::new()
        .with_batch_size(batch_rows)
        .with_tz(arrow_avro::codec::Tz::Utc)
}

/// A decoder of bare records of the file's writer schema, one record per call.
fn record_decoder(header: &Header, batch_rows: usize) -> Result<Decoder> {
    let mut store = SchemaStore::new();
    let fp = store
        .register(AvroSchema::new(header.schema.clone()))
        .map_err(|e| schema_error(&e))?;
    builder(batch_rows)
        .with_writer_schema_store(store)
        .with_active_fingerprint(fp)
        .with_decoder_mode(DecoderMode::UnframedDatum)
        .build_decoder()
        .map_err(|e| schema_error(&e))
}

/// Reads the header of the Avro file `src`.
pub(super) fn open(src: Box<dyn Read + Send>, decode: &DecodeOptions) -> Result<AvroParts> {
    let mut src = Counted {
        inner: BufReader::with_capacity(1 << 16, src),
        pos: 0,
    };
    let header = read_header(&mut src)?;
    let reader = builder(decode.batch_rows)
        .build(Cursor::new(header.plain.as_slice()))
        .map_err(|e| schema_error(&e))?;
    let (schema, uuids) = with_uuid_text(&reader.schema());
    Ok(AvroParts {
        src,
        header: Arc::new(header),
        schema,
        uuids: Arc::new(uuids),
        chunk_bytes: decode.chunk_bytes,
        max_block_bytes: decode.max_record_bytes,
        batch_rows: decode.batch_rows,
        blocks: 0,
        done: false,
    })
}

fn schema_error(e: &ArrowError) -> Error {
    let text = e.to_string();
    if text.contains("not supported")
        || text.contains("Unsupported")
        || text.contains("NotYetImplemented")
    {
        Error::new(ErrorKind::Unsupported(format!("Avro schema: {text}")))
    } else {
        corrupt(
            Format::Avro,
            format!("the Avro schema cannot be read: {text}"),
        )
    }
}

/// The schema with `uuid` columns as text, and the positions of those columns.
fn with_uuid_text(schema: &SchemaRef) -> (SchemaRef, Vec<usize>) {
    let uuids: Vec<usize> = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| is_uuid(f))
        .map(|(i, _)| i)
        .collect();
    if uuids.is_empty() {
        return (Arc::clone(schema), uuids);
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            if is_uuid(f) {
                f.as_ref().clone().with_data_type(DataType::Utf8)
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    (
        Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())),
        uuids,
    )
}

fn is_uuid(f: &Field) -> bool {
    f.data_type() == &DataType::FixedSizeBinary(16)
        && f.metadata().get("logicalType").is_some_and(|t| t == "uuid")
}

impl AvroParts {
    /// The next block, `None` at the end of the file.
    fn block(&mut self) -> Result<Option<RawBlock>> {
        let index = self.blocks;
        let offset = self.src.pos;
        let at = |what: String| corrupt_block(index, offset, what);
        let Some(count) = self.src.long()? else {
            return Ok(None);
        };
        let size = self
            .src
            .long()?
            .ok_or_else(|| at("the file ends in its header".into()))?;
        if count < 0 || size < 0 {
            return Err(at(format!(
                "a negative record count or size ({count}, {size})"
            )));
        }
        // A block's records take exactly its bytes: bytes with no records are damage.
        if count == 0 && size > 0 {
            return Err(at(format!("{size} bytes but no records")));
        }
        let size = size.unsigned_abs();
        if size > self.max_block_bytes as u64 {
            return Err(Error::new(ErrorKind::LimitExceeded(format!(
                "Avro block {index} at byte {offset} declares {size} bytes, more than the \
                 limit of {} bytes",
                self.max_block_bytes
            ))));
        }
        let data = self
            .src
            .exact(size, &format!("block {index}"))
            .map_err(|e| relocate(e, index, offset))?;
        let sync = self
            .src
            .exact(16, &format!("the sync marker of block {index}"))
            .map_err(|e| relocate(e, index, offset))?;
        if sync.as_slice() != self.header.sync {
            return Err(at(
                "its sync marker differs from the header's (the file is damaged here)".into(),
            ));
        }
        self.blocks += 1;
        Ok(Some(RawBlock {
            index,
            offset,
            count,
            data,
        }))
    }
}

impl Parts for AvroParts {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn next_part(&mut self) -> Result<Option<Box<dyn Part>>> {
        if self.done {
            return Ok(None);
        }
        let mut blocks = VecDeque::new();
        let mut bytes = 0usize;
        while bytes < self.chunk_bytes {
            match self.block() {
                Ok(Some(b)) => {
                    bytes += b.data.len();
                    blocks.push_back(b);
                }
                Ok(None) => {
                    self.done = true;
                    break;
                }
                Err(e) => {
                    self.done = true;
                    if blocks.is_empty() {
                        return Err(e);
                    }
                    // The blocks before the damage decode first.
                    return Ok(Some(Box::new(Run::new(self, blocks, Some(e)))));
                }
            }
        }
        if blocks.is_empty() {
            return Ok(None);
        }
        Ok(Some(Box::new(Run::new(self, blocks, None))))
    }
}

/// Records of one block that take no bytes at all (a schema of empty records) are allowed
/// up to this many: past it, a block declaring billions of them is refused as damaged.
const MAX_EMPTY_RECORDS: u64 = 1 << 24;

/// A run of blocks being decoded.
struct Run {
    header: Arc<Header>,
    uuids: Arc<Vec<usize>>,
    batch_rows: usize,
    max_block_bytes: usize,
    blocks: VecDeque<RawBlock>,
    /// An error found after the last block (framing), raised when the blocks are done.
    after: Option<Error>,
    decoder: Option<Decoder>,
    /// The block being decoded: its place, its records (decompressed), how far they are
    /// read and how many records are left.
    current: Option<Current>,
}

struct Current {
    index: u64,
    offset: u64,
    count: u64,
    records: Vec<u8>,
    at: usize,
    left: u64,
    empty: u64,
}

impl Run {
    fn new(parts: &AvroParts, blocks: VecDeque<RawBlock>, after: Option<Error>) -> Self {
        Run {
            header: Arc::clone(&parts.header),
            uuids: Arc::clone(&parts.uuids),
            batch_rows: parts.batch_rows,
            max_block_bytes: parts.max_block_bytes,
            blocks,
            after,
            decoder: None,
            current: None,
        }
    }

    /// The next block, decompressed; `None` when the run has no more.
    fn next_block(&mut self) -> Result<Option<Current>> {
        let Some(block) = self.blocks.pop_front() else {
            return Ok(None);
        };
        let codec = self.header.codec;
        let records =
            decompress(codec, &block.data, self.max_block_bytes).map_err(|why| match why {
                Inflate::TooBig => Error::new(ErrorKind::LimitExceeded(format!(
                    "Avro block {} at byte {} decompresses to more than {} bytes",
                    block.index, block.offset, self.max_block_bytes
                ))),
                Inflate::Bad(why) => corrupt_block(
                    block.index,
                    block.offset,
                    format!("its {} data cannot be decompressed: {why}", codec.name()),
                ),
            })?;
        let count = block.count.unsigned_abs();
        Ok(Some(Current {
            index: block.index,
            offset: block.offset,
            count,
            records,
            at: 0,
            left: count,
            empty: 0,
        }))
    }

    /// The finished rows so far as a batch, if any.
    fn flush(&mut self) -> Result<Option<RecordBatch>> {
        let Some(decoder) = self.decoder.as_mut() else {
            return Ok(None);
        };
        let batch = decoder.flush().map_err(|e| {
            corrupt(
                Format::Avro,
                format!("the decoded records do not form a batch: {e}"),
            )
        })?;
        match batch {
            Some(batch) => Ok(Some(uuid_text(batch, &self.uuids)?)),
            None => Ok(None),
        }
    }
}

impl Part for Run {
    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        if self.decoder.is_none() {
            self.decoder = Some(record_decoder(&self.header, self.batch_rows)?);
        }
        loop {
            if self.decoder.as_ref().is_some_and(Decoder::batch_is_full) {
                return self.flush();
            }
            let Some(cur) = self.current.as_mut() else {
                match self.next_block() {
                    Ok(Some(next)) => {
                        self.current = Some(next);
                        continue;
                    }
                    Ok(None) => {
                        if let Some(batch) = self.flush()? {
                            return Ok(Some(batch));
                        }
                        return match self.after.take() {
                            Some(e) => Err(e),
                            None => Ok(None),
                        };
                    }
                    Err(e) => {
                        self.blocks.clear();
                        return Err(e);
                    }
                }
            };
            let rest = cur.records.get(cur.at..).unwrap_or_default();
            if cur.left == 0 {
                if !rest.is_empty() {
                    let e = corrupt_block(
                        cur.index,
                        cur.offset,
                        format!(
                            "{} bytes are left after its {} records",
                            rest.len(),
                            cur.count
                        ),
                    );
                    self.blocks.clear();
                    self.current = None;
                    return Err(e);
                }
                self.current = None;
                continue;
            }
            let Some(decoder) = self.decoder.as_mut() else {
                return Ok(None);
            };
            let done = cur.count - cur.left;
            let read = decoder.decode(rest).map_err(|e| {
                corrupt_block(
                    cur.index,
                    cur.offset,
                    format!("record {done} of its {} does not decode: {e}", cur.count),
                )
            });
            let n = match read {
                Ok(n) => n,
                Err(e) => {
                    self.blocks.clear();
                    self.current = None;
                    return Err(e);
                }
            };
            if n == 0 {
                cur.empty += 1;
                if cur.empty > MAX_EMPTY_RECORDS {
                    let e = corrupt_block(
                        cur.index,
                        cur.offset,
                        format!(
                            "it declares {} records and more than {MAX_EMPTY_RECORDS} of them \
                             take no bytes",
                            cur.count
                        ),
                    );
                    self.blocks.clear();
                    self.current = None;
                    return Err(e);
                }
            }
            cur.at += n;
            cur.left -= 1;
        }
    }
}

/// `uuid` columns (16 bytes) as their canonical text.
fn uuid_text(batch: RecordBatch, uuids: &[usize]) -> Result<RecordBatch> {
    if uuids.is_empty() {
        return Ok(batch);
    }
    let (schema, _) = with_uuid_text(batch.schema_ref());
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    for &i in uuids {
        let Some(col) = columns.get_mut(i) else {
            continue;
        };
        let Some(bin) = col.as_any().downcast_ref::<FixedSizeBinaryArray>() else {
            continue;
        };
        let mut out = StringBuilder::with_capacity(bin.len(), bin.len() * 36);
        for v in bin.iter() {
            match v {
                Some(b) => out.append_value(uuid_string(b)),
                None => out.append_null(),
            }
        }
        *col = Arc::new(out.finish());
    }
    Ok(RecordBatch::try_new(schema, columns)?)
}

fn uuid_string(b: &[u8]) -> String {
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push_str(&format!("{byte:02x}"));
    }
    s
}

enum Inflate {
    TooBig,
    Bad(String),
}

/// A block's records decompressed, at most `limit` bytes of them.
fn decompress(codec: Codec, data: &[u8], limit: usize) -> std::result::Result<Vec<u8>, Inflate> {
    let bounded = |r: &mut dyn Read| -> std::result::Result<Vec<u8>, Inflate> {
        let mut out = Vec::new();
        r.take(limit as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| Inflate::Bad(e.to_string()))?;
        if out.len() > limit {
            return Err(Inflate::TooBig);
        }
        Ok(out)
    };
    match codec {
        Codec::Null => Ok(data.to_vec()),
        Codec::Deflate => bounded(&mut flate2::read::DeflateDecoder::new(data)),
        Codec::Zstandard => {
            let mut d =
                zstd::stream::read::Decoder::new(data).map_err(|e| Inflate::Bad(e.to_string()))?;
            bounded(&mut d)
        }
        Codec::Bzip2 => bounded(&mut bzip2::read::MultiBzDecoder::new(data)),
        Codec::Xz => bounded(&mut liblzma::read::XzDecoder::new_multi_decoder(data)),
        Codec::Snappy => {
            let split = data
                .len()
                .checked_sub(4)
                .ok_or_else(|| Inflate::Bad("shorter than its checksum".into()))?;
            let (body, crc) = data.split_at(split);
            let len = snap::raw::decompress_len(body).map_err(|e| Inflate::Bad(e.to_string()))?;
            if len > limit {
                return Err(Inflate::TooBig);
            }
            let out = snap::raw::Decoder::new()
                .decompress_vec(body)
                .map_err(|e| Inflate::Bad(e.to_string()))?;
            let want = u32::from_be_bytes(
                crc.try_into()
                    .map_err(|_| Inflate::Bad("no checksum".into()))?,
            );
            if crc32fast::hash(&out) != want {
                return Err(Inflate::Bad(
                    "the CRC-32 of the records does not match".into(),
                ));
            }
            Ok(out)
        }
    }
}

/// A damaged block: named by its number (from 0) and byte offset.
#[cold]
fn corrupt_block(index: u64, offset: u64, what: String) -> Error {
    Error::decode(
        Format::Avro.name(),
        Position {
            byte: offset,
            ..Position::default()
        },
        None,
        format!("Avro block {index} (at byte {offset}) is damaged: {what}"),
    )
}

/// An error of reading block `index` reported at that block.
fn relocate(e: Error, index: u64, offset: u64) -> Error {
    match e.kind() {
        ErrorKind::Decode { reason, .. } => corrupt_block(index, offset, reason.clone()),
        _ => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_round_trips_through_the_reader() {
        for v in [0i64, 1, -1, 63, -64, 64, 1 << 40, i64::MAX, i64::MIN] {
            let mut buf = Vec::new();
            zigzag(v, &mut buf);
            let mut r = Counted {
                inner: buf.as_slice(),
                pos: 0,
            };
            assert_eq!(r.long().unwrap(), Some(v), "{v}");
            assert_eq!(r.pos, buf.len() as u64);
        }
    }

    #[test]
    fn uuid_text_is_canonical() {
        let b: Vec<u8> = (0u8..16).collect();
        assert_eq!(uuid_string(&b), "00010203-0405-0607-0809-0a0b0c0d0e0f");
    }
}
