//! Binary inputs, read by the Arrow readers their projects maintain: Parquet (the `parquet`
//! crate), Avro object container files (arrow-avro, on blocks this module frames and
//! decompresses), Arrow IPC files and streams (arrow-ipc), and Excel / OpenDocument
//! workbooks (calamine). ORC is read by pyarrow in the Python package and handed over as an
//! Arrow stream.
//!
//! Each reader becomes [`Parts`](crate::stream::parts::Parts) decoded in parallel and in
//! order by [`PartReader`](crate::stream::parts::PartReader); every batch then goes through
//! a [`Shape`] (column selection, the types `schema=` names, types Parquet cannot hold) and
//! joins the pipeline the text formats use: the same writer, sinks, datasets, error policies
//! and `read()` streams. A workbook's sheet is rendered as delimited text and read by the
//! CSV decoder, so its header, titles and column types are found as for a CSV file.

mod avro;
pub mod excel;
mod file;
mod ipc;
mod parquet;
mod shape;

use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use arrow_schema::SchemaRef;

pub use file::SharedFile;
pub(crate) use shape::row_json;
pub use shape::{storable_schema, Shape};

use crate::decode::DecodeOptions;
use crate::detect::Format;
use crate::error::{Error, ErrorKind, Position, Result};
use crate::input::{self, InputOptions};
use crate::stream::parts::Parts;

/// Options of binary inputs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NativeOptions {
    /// The columns to read, in this order (top-level names; for Parquet also dotted paths
    /// into nested columns, `a.b`); `None` reads every column.
    pub columns: Option<Vec<String>>,
    /// The sheet of a workbook; `None`: the first sheet that holds any cell.
    pub sheet: Option<Sheet>,
}

/// A sheet of a workbook, by name or by 0-based position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sheet {
    /// The sheet of this name.
    Name(String),
    /// The sheet at this 0-based position among all sheets (hidden ones included).
    Index(usize),
}

/// Whether logflow reads `format` through this module's part readers (workbooks go through
/// the CSV decoder instead: see [`excel`]).
pub fn reads(format: Format) -> bool {
    matches!(
        format,
        Format::Parquet | Format::Avro | Format::ArrowFile | Format::ArrowStream
    )
}

/// Whether `format` is a workbook.
pub fn is_workbook(format: Format) -> bool {
    matches!(
        format,
        Format::Xlsx | Format::Xlsb | Format::Xls | Format::Ods
    )
}

/// Opens `src` in `format` as parts, reading only `columns` where the format lets a reader
/// skip the others (Parquet). `progress` counts the file bytes read.
pub fn open(
    src: &Path,
    format: Format,
    decode: &DecodeOptions,
    native: &NativeOptions,
    progress: Option<Arc<AtomicU64>>,
) -> Result<Box<dyn Parts>> {
    let columns = native.columns.as_deref();
    // The readers parse headers and footers here; one that panics on a damaged file (the
    // arrow-ipc file reader unwraps lengths) fails with a typed error instead.
    let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        open_parts(src, format, columns, decode, progress)
    }))
    .unwrap_or_else(|panic| Err(crate::stream::parts::panicked(format.name(), &*panic)));
    opened.map_err(|e| e.with_path(src))
}

fn open_parts(
    src: &Path,
    format: Format,
    columns: Option<&[String]>,
    decode: &DecodeOptions,
    progress: Option<Arc<AtomicU64>>,
) -> Result<Box<dyn Parts>> {
    match format {
        Format::Parquet => {
            let file = random_access(src, format, progress)?;
            parquet::open(file, columns, decode.batch_rows).map(|p| Box::new(p) as _)
        }
        Format::ArrowFile => {
            let file = random_access(src, format, progress)?;
            ipc::open_file(file, decode.batch_rows).map(|p| Box::new(p) as _)
        }
        Format::ArrowStream => {
            let opened = input::open(src, &binary(), progress)?;
            ipc::open_stream(opened.reader, decode.batch_rows).map(|p| Box::new(p) as _)
        }
        Format::Avro => {
            let opened = input::open(src, &binary(), progress)?;
            avro::open(opened.reader, decode).map(|p| Box::new(p) as _)
        }
        other => Err(Error::new(ErrorKind::Unsupported(format!(
            "{} input is not read by this version",
            other.title()
        )))),
    }
}

/// Any Arrow reader (a stream handed over from Python: ORC stripes pyarrow reads) as one
/// part, its batches cut to `batch_rows`; errors are decode errors of `format`.
pub fn stream_parts(
    reader: Box<dyn arrow_array::RecordBatchReader + Send>,
    batch_rows: usize,
    format: Format,
) -> Box<dyn Parts> {
    Box::new(ipc::batches(reader, batch_rows, format))
}

/// Options that hand a binary format through [`input::open`] (decompressed, not refused).
fn binary() -> InputOptions {
    InputOptions {
        binary_ok: true,
        ..InputOptions::default()
    }
}

/// The file of a format read by position (Parquet, Arrow IPC files, workbooks), refused with
/// a typed error when it is compressed: its reader needs to seek, which a decompressing
/// stream cannot.
pub(crate) fn random_access(
    src: &Path,
    format: Format,
    progress: Option<Arc<AtomicU64>>,
) -> Result<SharedFile> {
    let opened = input::open(src, &binary(), None)?;
    let compression = opened.compression.value;
    if compression != crate::detect::Compression::None && opened.format.value == format {
        return Err(Error::new(ErrorKind::Unsupported(format!(
            "this is a {} file{}: {} files are read by position, so decompress it first",
            format.title(),
            input::inside(compression),
            format.title(),
        ))));
    }
    SharedFile::open(src, progress)
}

/// The schema a binary input is read with (after `columns` and the conversions [`Shape`]
/// makes), cheap to find: from the file's footer or header.
pub fn schema(
    src: &Path,
    format: Format,
    decode: &DecodeOptions,
    native: &NativeOptions,
) -> Result<SchemaRef> {
    let parts = open(src, format, decode, native, None)?;
    let shape =
        Shape::new(&parts.schema(), format.name(), decode, native).map_err(|e| e.with_path(src))?;
    Ok(shape.schema())
}

/// A decode error of a binary format, at no particular record.
#[cold]
pub(crate) fn corrupt(format: Format, reason: impl Into<String>) -> Error {
    Error::decode(format.name(), Position::default(), None, reason)
}
