//! Arrow IPC input, file (`ARROW1`, Feather v2) and stream formats, through arrow-ipc's
//! readers (which validate every batch), lz4 and zstd bodies included. Decoding IPC is mostly
//! pointing at buffers, so the file is one part read in order; batches longer than the batch
//! size are cut into slices.

use std::io::{BufReader, Read};

use arrow_array::RecordBatch;
use arrow_ipc::reader::{FileReader, StreamReader};
use arrow_schema::{ArrowError, SchemaRef};

use super::{corrupt, SharedFile};
use crate::detect::Format;
use crate::error::{Error, Result};
use crate::stream::parts::{Part, Parts};

/// Batches of an IPC reader cut to at most `batch_rows` rows.
struct Batches<I> {
    reader: Option<I>,
    schema: SchemaRef,
    batch_rows: usize,
    /// The batch being sliced and the next row of it.
    current: Option<(RecordBatch, usize)>,
    /// Batches read so far, for messages.
    index: usize,
    format: Format,
}

impl<I> Parts for Batches<I>
where
    I: Iterator<Item = std::result::Result<RecordBatch, ArrowError>> + Send + 'static,
{
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn next_part(&mut self) -> Result<Option<Box<dyn Part>>> {
        // One part: the reader itself.
        Ok(self.reader.take().map(|reader| {
            Box::new(Batches {
                reader: Some(reader),
                schema: self.schema.clone(),
                batch_rows: self.batch_rows,
                current: None,
                index: 0,
                format: self.format,
            }) as Box<dyn Part>
        }))
    }
}

impl<I> Part for Batches<I>
where
    I: Iterator<Item = std::result::Result<RecordBatch, ArrowError>> + Send + 'static,
{
    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            if let Some((batch, at)) = &mut self.current {
                let rows = batch.num_rows();
                if *at < rows || (rows == 0 && *at == 0) {
                    let n = self.batch_rows.min(rows - *at);
                    let slice = batch.slice(*at, n);
                    *at += n.max(1);
                    return Ok(Some(slice));
                }
                self.current = None;
            }
            let Some(reader) = self.reader.as_mut() else {
                return Ok(None);
            };
            match reader.next() {
                None => {
                    self.reader = None;
                    return Ok(None);
                }
                Some(Ok(batch)) => {
                    self.index += 1;
                    self.current = Some((batch, 0));
                }
                Some(Err(e)) => {
                    self.reader = None;
                    return Err(ipc_error(
                        self.format,
                        &format!("record batch {}", self.index),
                        e,
                    ));
                }
            }
        }
    }
}

/// The batches of any reader, as one part.
pub(super) fn batches(
    reader: Box<dyn arrow_array::RecordBatchReader + Send>,
    batch_rows: usize,
    format: Format,
) -> impl Parts {
    Batches {
        schema: reader.schema(),
        reader: Some(reader),
        batch_rows,
        current: None,
        index: 0,
        format,
    }
}

/// An Arrow IPC file.
pub(super) fn open_file(file: SharedFile, batch_rows: usize) -> Result<impl Parts> {
    check_footer(&file)?;
    let reader = FileReader::try_new(BufReader::with_capacity(1 << 16, file.reader_at(0)), None)
        .map_err(|e| ipc_error(Format::ArrowFile, "cannot read the footer", e))?;
    Ok(Batches {
        schema: reader.schema(),
        reader: Some(reader),
        batch_rows,
        current: None,
        index: 0,
        format: Format::ArrowFile,
    })
}

/// Checks that every block the footer lists lies inside the file. The reader allocates each
/// block's declared length before reading it, and unwraps negative ones: a damaged footer
/// would otherwise cost gigabytes or a panic rather than an error.
fn check_footer(file: &SharedFile) -> Result<()> {
    let len = file.len();
    let bad = |what: String| corrupt(Format::ArrowFile, what);
    // "ARROW1" + 2 bytes of padding at the start, footer length (i32) + "ARROW1" at the end.
    if len < 18 {
        return Err(bad("too short for an Arrow IPC file".into()));
    }
    let tail = file
        .read_range(len - 10, 10)
        .map_err(|e| bad(format!("cannot read the footer: {e}")))?;
    let footer_len = tail
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(i32::from_le_bytes)
        .unwrap_or(-1);
    let footer_len = u64::try_from(footer_len)
        .ok()
        .filter(|&n| n + 18 <= len)
        .ok_or_else(|| {
            bad(format!(
                "its footer length {footer_len} does not fit the file"
            ))
        })?;
    let footer = file
        .read_range(len - 10 - footer_len, footer_len as usize)
        .map_err(|e| bad(format!("cannot read the footer: {e}")))?;
    let footer = arrow_ipc::root_as_footer(&footer)
        .map_err(|e| bad(format!("the footer is not valid: {e}")))?;
    let blocks = footer
        .dictionaries()
        .into_iter()
        .flatten()
        .chain(footer.recordBatches().into_iter().flatten());
    for (i, b) in blocks.enumerate() {
        let end = u64::try_from(b.offset()).ok().and_then(|o| {
            let meta = u64::try_from(b.metaDataLength()).ok()?;
            let body = u64::try_from(b.bodyLength()).ok()?;
            o.checked_add(meta)?.checked_add(body)
        });
        if end.is_none_or(|end| end > len) {
            return Err(bad(format!(
                "block {i} of the footer (offset {}, {} + {} bytes) lies outside the file of {len} bytes",
                b.offset(),
                b.metaDataLength(),
                b.bodyLength()
            )));
        }
    }
    Ok(())
}

/// An Arrow IPC stream.
pub(super) fn open_stream(src: Box<dyn Read + Send>, batch_rows: usize) -> Result<impl Parts> {
    let reader = StreamReader::try_new(BufReader::with_capacity(1 << 16, src), None)
        .map_err(|e| ipc_error(Format::ArrowStream, "cannot read the schema", e))?;
    Ok(Batches {
        schema: reader.schema(),
        reader: Some(reader),
        batch_rows,
        current: None,
        index: 0,
        format: Format::ArrowStream,
    })
}

fn ipc_error(format: Format, context: &str, e: ArrowError) -> Error {
    match e {
        ArrowError::ExternalError(inner) => match inner.downcast::<Error>() {
            Ok(ours) => *ours,
            Err(other) => corrupt(format, format!("{context}: {other}")),
        },
        // A corrupt compressed stream around the IPC data keeps its own message.
        ArrowError::IoError(_, io) if io.kind() != std::io::ErrorKind::UnexpectedEof => {
            Error::from(io)
        }
        other => corrupt(format, format!("{context}: {other}")),
    }
}
