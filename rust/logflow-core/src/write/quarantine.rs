//! Where bad records go under the quarantine policy: a file in the input's own format holding
//! each bad record byte for byte (after the input's header, so it can be fixed and
//! re-ingested), and a Parquet error table saying where each came from and why.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, BinaryArray, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::decode::Reject;
use crate::error::{Error, Result};
use crate::write::parquet::{sync_buffered, AtomicFile, Closed, ParquetOptions, ParquetSink};

/// Rejects buffered before a batch goes to the error table.
const FLUSH_ROWS: usize = 4096;

/// Bytes of a record kept in the error table's `raw` column; a longer record is whole in
/// the quarantine file, and its detail says so.
pub const ERROR_RAW_BYTES: usize = 1 << 20;

/// The two quarantine paths for an output `dst`: `<stem>.quarantine.<ext>` and
/// `<stem>.errors.parquet`, beside it.
pub fn paths_for(dst: &Path, input_ext: &str) -> (PathBuf, PathBuf) {
    let stem = dst
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    (
        dst.with_file_name(format!("{stem}.quarantine.{input_ext}")),
        dst.with_file_name(format!("{stem}.errors.parquet")),
    )
}

/// The error table's schema.
pub fn error_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("line", DataType::Int64, false),
        Field::new("offset", DataType::Int64, false),
        Field::new("record", DataType::Int64, false),
        Field::new("column", DataType::Utf8, true),
        Field::new("reason", DataType::Utf8, false),
        Field::new("detail", DataType::Utf8, false),
        Field::new("raw", DataType::Binary, false),
    ]))
}

/// Writes quarantined records; created on the first bad record.
pub struct QuarantineSink {
    raw: BufWriter<File>,
    raw_file: AtomicFile,
    errors: ParquetSink,
    pending: Vec<Reject>,
    rows: u64,
    /// The last record written has no line end yet: one is written before the next
    /// record, unless the record goes on ([`QuarantineSink::continue_record`]).
    open_line: bool,
    raw_path: PathBuf,
    footer: Vec<u8>,
}

impl QuarantineSink {
    /// Creates both files (under temporary names) and writes `header` to the raw file.
    pub fn create(raw_path: &Path, errors_path: &Path, header: &[u8]) -> Result<Self> {
        let (raw_file, handle) = AtomicFile::create(raw_path)?;
        let mut raw = BufWriter::with_capacity(1 << 16, handle);
        raw.write_all(header)
            .map_err(|e| Error::output(e).with_path(raw_path))?;
        if !header.is_empty() && !header.ends_with(b"\n") && !header.ends_with(b"\r") {
            raw.write_all(b"\n")
                .map_err(|e| Error::output(e).with_path(raw_path))?;
        }
        let errors = ParquetSink::create(
            errors_path,
            error_schema(),
            &ParquetOptions::default(),
            None,
        )?;
        Ok(QuarantineSink {
            raw,
            raw_file,
            errors,
            pending: Vec::new(),
            rows: 0,
            open_line: false,
            raw_path: raw_path.to_path_buf(),
            footer: Vec::new(),
        })
    }

    /// Writes `footer` at the end of the raw file when it is closed (an XML quarantine's
    /// closing tag).
    #[must_use]
    pub fn with_footer(mut self, footer: &[u8]) -> Self {
        self.footer = footer.to_vec();
        self
    }

    /// Records quarantined so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Adds one record.
    pub fn write(&mut self, mut r: Reject) -> Result<()> {
        self.end_line()?;
        self.raw.write_all(&r.raw).map_err(Error::output)?;
        // Keep one record per line even when the last input line had no line feed.
        self.open_line = !r.raw.ends_with(b"\n") && !r.raw.ends_with(b"\r");
        if r.raw.len() > ERROR_RAW_BYTES {
            r.detail.push_str(&format!(
                "; the record is {} bytes, the error table keeps its first {ERROR_RAW_BYTES} \
                 (the quarantine file holds it whole)",
                r.raw.len()
            ));
            r.raw.truncate(ERROR_RAW_BYTES);
            r.raw.shrink_to_fit();
        }
        self.rows += 1;
        self.pending.push(r);
        if self.pending.len() >= FLUSH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the line end the last record is waiting for.
    fn end_line(&mut self) -> Result<()> {
        if std::mem::take(&mut self.open_line) {
            self.raw
                .write_all(b"\n")
                .map_err(|e| Error::output(e).with_path(&self.raw_path))?;
        }
        Ok(())
    }

    /// Appends `bytes` to the last record written: the rest of an over-long line, read
    /// past in pieces after the record was cut at the size limit.
    pub fn continue_record(&mut self, bytes: &[u8]) -> Result<()> {
        self.raw
            .write_all(bytes)
            .map_err(|e| Error::output(e).with_path(&self.raw_path))?;
        self.open_line = !bytes.ends_with(b"\n") && !bytes.ends_with(b"\r");
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let p = std::mem::take(&mut self.pending);
        let int = |f: &dyn Fn(&Reject) -> u64| -> ArrayRef {
            Arc::new(Int64Array::from_iter_values(
                p.iter().map(|r| i64::try_from(f(r)).unwrap_or(i64::MAX)),
            ))
        };
        let columns: Vec<ArrayRef> = vec![
            int(&|r| r.position.line),
            int(&|r| r.position.byte),
            int(&|r| r.position.record),
            Arc::new(StringArray::from_iter(
                p.iter().map(|r| r.column.as_deref()),
            )),
            Arc::new(StringArray::from_iter_values(
                p.iter().map(|r| r.reason.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                p.iter().map(|r| r.detail.as_str()),
            )),
            Arc::new(BinaryArray::from_iter_values(
                p.iter().map(|r| r.raw.as_slice()),
            )),
        ];
        self.errors
            .write(&RecordBatch::try_new(error_schema(), columns)?)
    }

    /// Completes both files (still under temporary names).
    pub fn close(mut self) -> Result<Vec<Closed>> {
        self.flush()?;
        self.end_line()?;
        if !self.footer.is_empty() {
            self.raw.write_all(&self.footer).map_err(Error::output)?;
        }
        let QuarantineSink {
            raw,
            raw_file,
            errors,
            ..
        } = self;
        let size = sync_buffered(raw)?;
        Ok(vec![Closed::new(raw_file, size), errors.close()?])
    }
}
