//! Sinks for record batches: one Parquet file ([`parquet`]), a directory of them
//! ([`dataset`]), the quarantine of bad records ([`quarantine`]); [`conform`] brings batches
//! of evolving schemas to the one schema a sink writes. The pipeline drives data
//! sinks through [`BatchSink`], so it does not know which kind it writes.

pub mod conform;
pub mod dataset;
pub mod evolve;
pub mod parquet;
pub mod partition;
pub mod quarantine;

use std::path::PathBuf;

use arrow_array::RecordBatch;

use crate::error::Result;

/// Where the rows of a run go. Nothing is visible under the final names until the closed
/// output is committed.
pub trait BatchSink: Send {
    /// Appends one batch (its schema is the sink's).
    fn write(&mut self, batch: &RecordBatch) -> Result<()>;

    /// Rows written so far.
    fn rows(&self) -> u64;

    /// Completes every file (still under temporary names).
    fn close(self: Box<Self>) -> Result<Box<dyn ClosedOutput>>;
}

/// Complete output files not yet in place.
pub trait ClosedOutput: Send {
    /// The final paths of the data files, in the order they were started.
    fn files(&self) -> Vec<PathBuf>;

    /// Bytes in all files.
    fn size(&self) -> u64;

    /// Moves the files into place; returns the directories created for them, parents
    /// first.
    fn commit(self: Box<Self>) -> Result<Vec<PathBuf>>;

    /// Where each file is now, and where it would go.
    fn staged(&self) -> Vec<evolve::Staged>;
}

impl BatchSink for parquet::ParquetSink {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        parquet::ParquetSink::write(self, batch)
    }

    fn rows(&self) -> u64 {
        parquet::ParquetSink::rows(self)
    }

    fn close(self: Box<Self>) -> Result<Box<dyn ClosedOutput>> {
        Ok(Box::new(parquet::ParquetSink::close(*self)?))
    }
}

impl ClosedOutput for parquet::Closed {
    fn files(&self) -> Vec<PathBuf> {
        vec![self.path().to_path_buf()]
    }

    fn size(&self) -> u64 {
        self.size
    }

    fn commit(self: Box<Self>) -> Result<Vec<PathBuf>> {
        parquet::Closed::commit(*self).map(|()| Vec::new())
    }

    fn staged(&self) -> Vec<evolve::Staged> {
        vec![self.staged()]
    }
}

impl BatchSink for dataset::DatasetSink {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        dataset::DatasetSink::write(self, batch)
    }

    fn rows(&self) -> u64 {
        dataset::DatasetSink::rows(self)
    }

    fn close(self: Box<Self>) -> Result<Box<dyn ClosedOutput>> {
        Ok(Box::new(dataset::DatasetSink::finish(*self)?))
    }
}

impl ClosedOutput for dataset::ClosedDataset {
    fn files(&self) -> Vec<PathBuf> {
        self.paths()
    }

    fn size(&self) -> u64 {
        dataset::ClosedDataset::size(self)
    }

    fn commit(self: Box<Self>) -> Result<Vec<PathBuf>> {
        dataset::ClosedDataset::commit(*self)
    }

    fn staged(&self) -> Vec<evolve::Staged> {
        self.staged()
    }
}
