//! Parquet input: the `parquet` crate's Arrow reader, one part per row group, reading only
//! the columns asked for. Every encoding and codec the crate reads is read (codecs: snappy,
//! gzip, brotli, lz4 (both framings), zstd, none); the Arrow schema a writer embedded is
//! honoured, so types round-trip.

use arrow_array::RecordBatch;
use arrow_array::RecordBatchReader as _;
use arrow_schema::{ArrowError, SchemaRef};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use parquet::errors::ParquetError;

use super::{corrupt, SharedFile};
use crate::detect::Format;
use crate::error::{Error, ErrorKind, Result};
use crate::stream::parts::{Part, Parts};

/// Largest column chunk (uncompressed) read: 1 GiB.
const MAX_COLUMN_CHUNK: u64 = 1 << 30;

/// A Parquet file's row groups, as parts.
pub(super) struct ParquetParts {
    file: SharedFile,
    meta: ArrowReaderMetadata,
    mask: ProjectionMask,
    batch_rows: usize,
    next: usize,
    schema: SchemaRef,
}

/// Reads the footer of `file`; `columns` (top-level names or dotted paths to nested ones)
/// limits the columns read.
pub(super) fn open(
    file: SharedFile,
    columns: Option<&[String]>,
    batch_rows: usize,
) -> Result<ParquetParts> {
    let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
        .map_err(|e| parquet_error("cannot read the footer", e))?;
    let descr = meta.metadata().file_metadata().schema_descr_ptr();
    let mask = match columns {
        None => ProjectionMask::all(),
        Some(names) => {
            for name in names {
                let parts: Vec<&str> = name.split('.').collect();
                let known = descr.columns().iter().any(|c| {
                    let path = c.path().parts();
                    parts.len() <= path.len() && parts.iter().zip(path).all(|(a, b)| a == b)
                });
                if !known {
                    let top: Vec<&str> = meta
                        .schema()
                        .fields()
                        .iter()
                        .map(|f| f.name().as_str())
                        .collect();
                    return Err(Error::invalid(format!(
                        "columns: the input has no column {name:?} (its columns: {})",
                        crate::schema::quoted_names(&top)
                    )));
                }
            }
            ProjectionMask::columns(&descr, names.iter().map(String::as_str))
        }
    };
    // The schema of the batches the projection gives.
    let schema = ParquetRecordBatchReaderBuilder::new_with_metadata(file.clone(), meta.clone())
        .with_projection(mask.clone())
        .with_row_groups(Vec::new())
        .build()
        .map_err(|e| parquet_error("cannot read the schema", e))?
        .schema();
    Ok(ParquetParts {
        file,
        meta,
        mask,
        batch_rows,
        next: 0,
        schema,
    })
}

impl Parts for ParquetParts {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn next_part(&mut self) -> Result<Option<Box<dyn Part>>> {
        let group = self.next;
        if group >= self.meta.metadata().num_row_groups() {
            return Ok(None);
        }
        self.next += 1;
        // A column chunk whose pages decompress to more than this is refused before any page
        // is read: a page is decompressed whole, and a damaged or hostile header could ask
        // for any size.
        let meta = self.meta.metadata();
        if let Some(rg) = meta.row_groups().get(group) {
            for c in rg.columns() {
                let size = u64::try_from(c.uncompressed_size()).unwrap_or(u64::MAX);
                if size > MAX_COLUMN_CHUNK {
                    return Err(Error::new(ErrorKind::LimitExceeded(format!(
                        "row group {group}, column {}: {size} bytes uncompressed, more than \
                         logflow reads in one column chunk ({MAX_COLUMN_CHUNK} bytes)",
                        c.column_path().string()
                    ))));
                }
            }
        }
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(
            self.file.clone(),
            self.meta.clone(),
        )
        .with_projection(self.mask.clone())
        .with_row_groups(vec![group])
        .with_batch_size(self.batch_rows)
        .build()
        .map_err(|e| parquet_error(&format!("row group {group}"), e))?;
        Ok(Some(Box::new(RowGroup { reader, group })))
    }
}

/// One row group being read.
struct RowGroup {
    reader: ParquetRecordBatchReader,
    group: usize,
}

impl Part for RowGroup {
    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        self.reader
            .next()
            .transpose()
            .map_err(|e| arrow_error(&format!("row group {}", self.group), e))
    }
}

/// A reader error as logflow's: features the crate does not implement are
/// [`ErrorKind::Unsupported`], anything else is a damaged file ([`ErrorKind::Decode`]).
fn parquet_error(context: &str, e: ParquetError) -> Error {
    match e {
        ParquetError::NYI(what) => Error::new(ErrorKind::Unsupported(format!(
            "{context}: this Parquet file uses a feature logflow cannot read: {what}"
        ))),
        ParquetError::ArrowError(what) => corrupt(Format::Parquet, format!("{context}: {what}")),
        other => {
            let text = other.to_string();
            if text.contains("encrypt") {
                Error::new(ErrorKind::Unsupported(format!(
                    "{context}: this Parquet file is encrypted, which logflow does not read ({text})"
                )))
            } else {
                corrupt(Format::Parquet, format!("{context}: {text}"))
            }
        }
    }
}

fn arrow_error(context: &str, e: ArrowError) -> Error {
    match e {
        ArrowError::ParquetError(text) if text.contains("not yet implemented") => {
            Error::new(ErrorKind::Unsupported(format!(
                "{context}: this Parquet file uses a feature logflow cannot read: {text}"
            )))
        }
        ArrowError::ExternalError(inner) => match inner.downcast::<ParquetError>() {
            Ok(p) => parquet_error(context, *p),
            Err(other) => corrupt(Format::Parquet, format!("{context}: {other}")),
        },
        other => corrupt(Format::Parquet, format!("{context}: {other}")),
    }
}
