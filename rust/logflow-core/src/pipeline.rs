//! The conversion pipeline: reader/tokenizer -> decoder -> Parquet sink, one thread each,
//! joined by bounded channels so memory stays bounded whatever the input size.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::time::Instant;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use crate::decode::csv::{self, BatchDecoder, CsvOptions, RowBlock};
use crate::error::{Error, ErrorKind, Result};
use crate::write::parquet::{ParquetOptions, ParquetSink};

/// Blocks in flight between two stages; with 8 MiB blocks this bounds buffered input.
const CHANNEL_DEPTH: usize = 2;

/// Shared between a running job and whoever watches it: progress counters and a cancel flag.
#[derive(Debug, Default)]
pub struct Control {
    cancelled: AtomicBool,
    /// Input bytes read so far.
    pub bytes_read: Arc<AtomicU64>,
    /// Rows decoded so far.
    pub rows_read: AtomicU64,
    /// Total input size when known (0 otherwise).
    pub bytes_total: AtomicU64,
}

impl Control {
    /// Asks the job to stop; it returns [`ErrorKind::Cancelled`] soon after.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// Whether [`Control::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::new(ErrorKind::Cancelled))
        } else {
            Ok(())
        }
    }
}

/// Opens a local input file, refusing directories and other non-files with a clear error.
pub fn open_input(path: &Path) -> Result<(File, u64)> {
    let wrap = |e: std::io::Error| Error::from(e).with_path(path);
    let meta = std::fs::metadata(path).map_err(wrap)?;
    if meta.is_dir() {
        return Err(
            Error::new(ErrorKind::NotAFile("is a directory, not a file".into())).with_path(path),
        );
    }
    let file = File::open(path).map_err(wrap)?;
    Ok((file, meta.len()))
}

/// What a conversion did.
#[derive(Debug, Clone)]
pub struct ConvertStats {
    /// Data records read from the input.
    pub rows_read: u64,
    /// Rows written to the output.
    pub rows_written: u64,
    /// Rows set aside by an error policy.
    pub rows_quarantined: u64,
    /// Rows dropped on purpose (e.g. repeated headers).
    pub rows_skipped: u64,
    /// Input bytes read.
    pub bytes_read: u64,
    /// Output bytes written.
    pub bytes_written: u64,
    /// Files written.
    pub files: Vec<PathBuf>,
    /// Output schema.
    pub schema: SchemaRef,
    /// Wall time.
    pub duration_s: f64,
}

/// Options of [`convert_csv_to_parquet`].
#[derive(Debug, Clone, Default)]
pub struct ConvertOptions {
    /// How to read the input.
    pub csv: CsvOptions,
    /// How to write the output.
    pub parquet: ParquetOptions,
}

/// Converts a CSV/TSV file to one Parquet file. On any error (or cancellation) no output
/// file is left behind.
pub fn convert_csv_to_parquet(
    src: &Path,
    dst: &Path,
    opts: &ConvertOptions,
    ctl: &Control,
) -> Result<ConvertStats> {
    let started = Instant::now();
    let (file, size) = open_input(src)?;
    ctl.bytes_total.store(size, Ordering::Relaxed);
    let with_src = |e: Error| e.with_path(src);
    let start = csv::start(file, &opts.csv, Some(ctl.bytes_read.clone())).map_err(with_src)?;
    let decoder = start.decoder;
    let schema = decoder.schema();
    // The first block is decoded here: its batch is the sample the sink tunes encodings on.
    let first = start
        .first
        .map(|b| decoder.decode(&b))
        .transpose()
        .map_err(with_src)?;
    let mut sink = ParquetSink::create(dst, schema.clone(), &opts.parquet, first.as_ref())?;
    if let Some(batch) = &first {
        ctl.rows_read
            .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
        sink.write(batch)?;
    }
    let mut tokenizer = start.tokenizer;

    let (block_tx, block_rx) = sync_channel::<RowBlock>(CHANNEL_DEPTH);
    let (batch_tx, batch_rx) = sync_channel::<Result<RecordBatch>>(CHANNEL_DEPTH);
    let outcome = std::thread::scope(|s| {
        let tokenize = s.spawn(move || -> Result<()> {
            loop {
                ctl.check()?;
                match tokenizer.next_block()? {
                    Some(b) => {
                        if block_tx.send(b).is_err() {
                            return Ok(()); // downstream stopped; its error wins
                        }
                    }
                    None => return Ok(()),
                }
            }
        });
        let decoder_ref = &decoder;
        s.spawn(move || decode_stage(decoder_ref, &block_rx, &batch_tx, ctl));
        let written = write_stage(&mut sink, &batch_rx, ctl);
        drop(batch_rx);
        let tokenized = tokenize
            .join()
            .unwrap_or_else(|_| Err(Error::invalid("tokenizer thread panicked")));
        // A tokenizer error is the root cause when the writer only saw the channel close.
        written.and(tokenized)
    });
    outcome.map_err(with_src)?;
    let rows = sink.rows();
    let bytes_written = sink.finish()?;
    Ok(ConvertStats {
        rows_read: rows,
        rows_written: rows,
        rows_quarantined: 0,
        rows_skipped: 0,
        bytes_read: ctl.bytes_read.load(Ordering::Relaxed),
        bytes_written,
        files: vec![dst.to_path_buf()],
        schema,
        duration_s: started.elapsed().as_secs_f64(),
    })
}

fn decode_stage(
    decoder: &BatchDecoder,
    blocks: &Receiver<RowBlock>,
    out: &SyncSender<Result<RecordBatch>>,
    ctl: &Control,
) {
    for block in blocks {
        let res = ctl.check().and_then(|()| decoder.decode(&block));
        ctl.rows_read
            .fetch_add(block.len() as u64, Ordering::Relaxed);
        let failed = res.is_err();
        if out.send(res).is_err() || failed {
            return;
        }
    }
}

fn write_stage(
    sink: &mut ParquetSink,
    batches: &Receiver<Result<RecordBatch>>,
    ctl: &Control,
) -> Result<()> {
    for batch in batches {
        ctl.check()?;
        sink.write(&batch?)?;
    }
    ctl.check()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("logflow-pipe-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn converts_and_counts() {
        let d = tmpdir("ok");
        let src = d.join("in.csv");
        let mut text = String::from("a,b\n");
        for i in 0..5000 {
            text.push_str(&format!("{i},x{i}\n"));
        }
        std::fs::write(&src, &text).unwrap();
        let opts = ConvertOptions {
            csv: CsvOptions {
                batch_rows: 700,
                ..CsvOptions::default()
            },
            ..ConvertOptions::default()
        };
        let stats =
            convert_csv_to_parquet(&src, &d.join("out.parquet"), &opts, &Control::default())
                .unwrap();
        assert_eq!((stats.rows_read, stats.rows_written), (5000, 5000));
        assert_eq!(stats.bytes_read, text.len() as u64);
        assert!(stats.bytes_written > 0);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn late_error_leaves_no_output() {
        let d = tmpdir("bad");
        let src = d.join("in.csv");
        let mut text = String::from("a\n");
        for i in 0..3000 {
            text.push_str(&format!("{i}\n"));
        }
        text.push_str("oops\n");
        std::fs::write(&src, &text).unwrap();
        let opts = ConvertOptions {
            csv: CsvOptions {
                batch_rows: 100,
                ..CsvOptions::default()
            },
            ..ConvertOptions::default()
        };
        let dst = d.join("out.parquet");
        let err = convert_csv_to_parquet(&src, &dst, &opts, &Control::default()).unwrap_err();
        assert_eq!(err.position().map(|p| p.line), Some(3002));
        assert_eq!(err.path(), Some(src.as_path()));
        assert_eq!(
            std::fs::read_dir(&d).unwrap().count(),
            1,
            "only the input is left"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn cancelled_job_stops_and_leaves_no_output() {
        let d = tmpdir("cancel");
        let src = d.join("in.csv");
        std::fs::write(&src, "a\n1\n2\n").unwrap();
        let ctl = Control::default();
        ctl.cancel();
        let err =
            convert_csv_to_parquet(&src, &d.join("o.parquet"), &ConvertOptions::default(), &ctl)
                .unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Cancelled));
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn directory_and_missing_inputs() {
        let d = tmpdir("inputs");
        let err = convert_csv_to_parquet(
            &d,
            &d.join("o.parquet"),
            &ConvertOptions::default(),
            &Control::default(),
        )
        .unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::NotAFile(_)));
        let err = convert_csv_to_parquet(
            &d.join("nope.csv"),
            &d.join("o.parquet"),
            &ConvertOptions::default(),
            &Control::default(),
        )
        .unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Io(e) if e.kind() == std::io::ErrorKind::NotFound));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
