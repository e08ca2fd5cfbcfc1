//! The one error type of the core: a coarse, stable [`ErrorKind`] plus the input path.
//!
//! Every error that input can cause carries enough context for a person to find the bad
//! bytes: the file, the 1-based line, the 0-based byte offset of the record, the column and
//! a reason. The Python binding maps each kind to one `logflow.errors` class.

use std::fmt;
use std::path::{Path, PathBuf};

/// A position in the input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Position {
    /// 0-based byte offset of the start of the record, in the (decompressed) input.
    pub byte: u64,
    /// 1-based line number of the start of the record.
    pub line: u64,
    /// 1-based data record number (the header is not counted).
    pub record: u64,
    /// In nested formats, the path of what holds the records in the document (a JSON
    /// pointer such as `/items`, `""` for a top-level array); with `record` it names the
    /// record: `/items/16` is record 17.
    pub path: Option<Box<str>>,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "byte {}", self.byte)?;
        } else {
            write!(f, "line {}, byte {}", self.line, self.byte)?;
        }
        if let (Some(path), Some(index)) = (&self.path, self.record.checked_sub(1)) {
            write!(f, ", record {path}/{index}")?;
        }
        Ok(())
    }
}

/// What went wrong. Kinds stay coarse so callers can match on them across versions.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input could not be opened or read, or the output could not be written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The output could not be created or written.
    #[error("cannot write output: {0}")]
    Output(std::io::Error),
    /// The input is not a regular readable file (it is a directory, a socket, ...).
    #[error("{0}")]
    NotAFile(String),
    /// A record could not be decoded.
    #[error("{reason} ({format}, {position}{})", column.as_ref().map(|c| format!(", column {c:?}")).unwrap_or_default())]
    Decode {
        /// The input format, e.g. `"csv"`.
        format: &'static str,
        /// Where the bad record starts.
        position: Position,
        /// The column, when the problem is one field.
        column: Option<String>,
        /// What is wrong, in words.
        reason: String,
    },
    /// The input is empty: there is nothing to infer a schema from.
    #[error("input is empty")]
    Empty,
    /// The data and a schema given by the caller do not fit together.
    #[error("{0}")]
    Schema(String),
    /// An option value is not valid.
    #[error("{0}")]
    InvalidArgument(String),
    /// A configured size limit was exceeded (field, record or nesting size).
    #[error("{0}")]
    LimitExceeded(String),
    /// The Parquet writer failed.
    #[error("parquet: {0}")]
    Parquet(String),
    /// The input is in a format (or uses a feature) this version does not read.
    #[error("{0}")]
    Unsupported(String),
    /// The work was cancelled (Ctrl-C, a timeout, or the consumer went away).
    #[error("cancelled")]
    Cancelled,
    /// An archive member whose name would reach outside the archive (`../x`, an absolute
    /// path, a drive letter): refused, whatever it holds.
    #[error("{0}")]
    UnsafeName(String),
    /// The input (or an archive member) is encrypted; logflow takes no passwords.
    #[error("{0}")]
    Encrypted(String),
    /// A row broke a validation rule under the strict policy.
    #[error("rule {rule} broken: {reason} ({position}{})", column.as_ref().map(|c| format!(", column {c:?}")).unwrap_or_default())]
    RuleViolation {
        /// The rule's name (its reason in results).
        rule: String,
        /// Where the row starts.
        position: Position,
        /// The column the rule checks, when it checks one.
        column: Option<String>,
        /// What is wrong, in words.
        reason: String,
    },
    /// The output does not hold what was read: a checksum recomputed from the files written
    /// differs (`verify`).
    #[error("integrity check failed: {0}")]
    Integrity(String),
}

/// A core error: its kind and, when known, the input or output path it concerns.
#[derive(Debug)]
pub struct Error {
    kind: Box<ErrorKind>,
    path: Option<PathBuf>,
}

/// Result alias used throughout the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with no path yet.
    #[cold]
    pub fn new(kind: ErrorKind) -> Self {
        Error {
            kind: Box::new(kind),
            path: None,
        }
    }

    /// A decode error at `position`.
    #[cold]
    pub fn decode(
        format: &'static str,
        position: Position,
        column: Option<String>,
        reason: impl Into<String>,
    ) -> Self {
        Error::new(ErrorKind::Decode {
            format,
            position,
            column,
            reason: reason.into(),
        })
    }

    /// Changes the position of a decode error (a no-op for other kinds).
    pub fn relocate(&mut self, f: impl FnOnce(&mut Position)) {
        if let ErrorKind::Decode { position, .. } | ErrorKind::RuleViolation { position, .. } =
            self.kind.as_mut()
        {
            f(position);
        }
    }

    /// An invalid-argument error.
    #[cold]
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArgument(msg.into()))
    }

    /// An output error.
    #[cold]
    pub fn output(e: std::io::Error) -> Self {
        Error::new(ErrorKind::Output(e))
    }

    /// Attaches a path unless one is set already.
    #[must_use]
    pub fn with_path(mut self, path: &Path) -> Self {
        if self.path.is_none() {
            self.path = Some(path.to_path_buf());
        }
        self
    }

    /// The kind of error.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The path the error concerns, if known.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Adds `base` to the record number of a decode error (chunks number records locally).
    pub fn shift_record(&mut self, base: u64) {
        if let ErrorKind::Decode { position, .. } | ErrorKind::RuleViolation { position, .. } =
            &mut *self.kind
        {
            position.record += base;
        }
    }

    /// The input position, for decode errors and rule violations.
    pub fn position(&self) -> Option<Position> {
        match &*self.kind {
            ErrorKind::Decode { position, .. } | ErrorKind::RuleViolation { position, .. } => {
                Some(position.clone())
            }
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}: {}", p.display(), self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.kind {
            ErrorKind::Io(e) | ErrorKind::Output(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error::new(kind)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        // A decompression bomb stopped by the expansion limits.
        if e.get_ref()
            .is_some_and(|r| r.is::<crate::input::ExpansionLimit>())
        {
            return Error::new(ErrorKind::LimitExceeded(e.to_string()));
        }
        // A corrupt compressed stream surfaces through `Read` as an io::Error; it is bad
        // input, so it becomes a decode error.
        if e.get_ref()
            .is_some_and(|r| r.is::<crate::input::CorruptStream>())
        {
            if let Some(c) = e
                .into_inner()
                .and_then(|r| r.downcast::<crate::input::CorruptStream>().ok())
            {
                return Error::decode(
                    c.format,
                    Position {
                        byte: c.offset,
                        line: 0,
                        record: 0,
                        path: None,
                    },
                    None,
                    format!("corrupt {} data: {}", c.format, c.reason),
                );
            }
            return Error::new(ErrorKind::Unsupported("corrupt compressed data".into()));
        }
        Error::new(ErrorKind::Io(e))
    }
}

impl From<parquet::errors::ParquetError> for Error {
    fn from(e: parquet::errors::ParquetError) -> Self {
        Error::new(ErrorKind::Parquet(e.to_string()))
    }
}

impl From<arrow_schema::ArrowError> for Error {
    fn from(e: arrow_schema::ArrowError) -> Self {
        match e {
            arrow_schema::ArrowError::ExternalError(inner) => match inner.downcast::<Error>() {
                Ok(err) => *err,
                Err(other) => Error::new(ErrorKind::Parquet(other.to_string())),
            },
            other => Error::new(ErrorKind::Parquet(other.to_string())),
        }
    }
}

impl From<Error> for arrow_schema::ArrowError {
    fn from(e: Error) -> Self {
        arrow_schema::ArrowError::ExternalError(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_path_position_and_column() {
        let e = Error::decode(
            "csv",
            Position {
                byte: 10,
                line: 3,
                record: 2,
                path: None,
            },
            Some("a".into()),
            "bad",
        )
        .with_path(Path::new("x.csv"));
        assert_eq!(
            e.to_string(),
            "x.csv: bad (csv, line 3, byte 10, column \"a\")"
        );
        assert_eq!(e.position().map(|p| p.line), Some(3));
    }

    #[test]
    fn arrow_round_trip_keeps_the_kind() {
        let e = Error::decode("csv", Position::default(), None, "r");
        let back = Error::from(arrow_schema::ArrowError::from(e));
        assert!(matches!(back.kind(), ErrorKind::Decode { .. }));
    }
}
