"""Exceptions raised by logflow.

Every error logflow raises is a :class:`LogflowError`. Each class also inherits the standard
exception a caller would already catch, so ``except FileNotFoundError`` and
``except ValueError`` keep working::

    import logflow
    from logflow.errors import DecodeError

    try:
        logflow.convert("broken.csv", "out.parquet")
    except DecodeError as e:
        print(e.path, e.line, e.offset, e.column)

Errors about one place in the input carry ``path``, ``line`` (1-based), ``offset`` (0-based
byte offset of the record), ``record`` (1-based data record number), ``column`` and
``format``; the others leave those ``None``.
"""

from __future__ import annotations

__all__ = [
    "CancelledError",
    "CatalogError",
    "CommitConflictError",
    "ConfigError",
    "DecodeError",
    "EmptyInputError",
    "EncryptedInputError",
    "InputNotFoundError",
    "IntegrityError",
    "LimitExceededError",
    "LogflowError",
    "NamespaceNotFoundError",
    "NotAFileError",
    "NotInstalledError",
    "ObjectNotFoundError",
    "PermissionDeniedError",
    "QueryError",
    "QueryTimeoutError",
    "RuleViolationError",
    "SchemaError",
    "SnapshotNotFoundError",
    "SqlNotAllowedError",
    "StorageError",
    "TableExistsError",
    "TableNotFoundError",
    "UnsafeArchiveError",
    "UnsupportedFormatError",
    "UnsupportedOperationError",
    "WriteError",
]


class LogflowError(Exception):
    """Base class of every logflow error.

    Args:
        message: What went wrong, including the path and position when known.
        path: The input or output file concerned.
        line: 1-based line where the bad record starts.
        offset: 0-based byte offset where the bad record starts.
        record: 1-based number of the bad data record (the header is not counted).
        column: The column concerned.
        format: The input format, e.g. ``"csv"``.
    """

    def __init__(
        self,
        message: str,
        path: str | None = None,
        line: int | None = None,
        offset: int | None = None,
        record: int | None = None,
        column: str | None = None,
        format: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.offset = offset
        self.record = record
        self.column = column
        self.format = format

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type[LogflowError], tuple[object, ...]]:
        # Keep every field across pickling (e.g. between scheduler processes).
        return (
            type(self),
            (
                self.message,
                self.path,
                self.line,
                self.offset,
                self.record,
                self.column,
                self.format,
            ),
        )


class ConfigError(LogflowError, ValueError):
    """An option has a value logflow cannot use."""


class DecodeError(LogflowError, ValueError):
    """The input could not be decoded.

    A ragged row, invalid UTF-8, a value that does not parse as its column's type, an
    unterminated quote, ...
    """


class RuleViolationError(LogflowError, ValueError):
    """A row broke a validation rule (``error_policy="strict"``).

    ``line``, ``offset`` and ``record`` locate the row, ``column`` names the column the rule
    checks; the message names the rule and the value.
    """


class IntegrityError(LogflowError):
    """The output read back does not hold what was written, or what was read.

    Raised by ``convert(..., verify=True)`` before anything is put in place; the message
    gives both checksums.
    """


class EmptyInputError(DecodeError):
    """The input holds no data at all (not even a header)."""


class SchemaError(LogflowError, ValueError):
    """The data does not fit the schema that was given."""


class UnsupportedFormatError(LogflowError, ValueError):
    """The input's format is one this version of logflow cannot read."""


class EncryptedInputError(UnsupportedFormatError):
    """The input, or a member of a zip archive, is encrypted; logflow takes no passwords."""


class UnsafeArchiveError(LogflowError, ValueError):
    """A zip archive holds a member whose name reaches outside it (``../x``, ``/etc/x``).

    Such "zip slip" names are refused whatever the member holds, since they are a sign of
    a crafted archive.
    """


class NotInstalledError(LogflowError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class LimitExceededError(LogflowError):
    """A size limit was exceeded (a record, a field or a batch too large)."""


class StorageError(LogflowError, OSError):
    """Reading the input or writing the output failed at the storage level."""


class InputNotFoundError(StorageError, FileNotFoundError):
    """The input path does not exist."""


class PermissionDeniedError(StorageError, PermissionError):
    """The input or output is not accessible."""


class NotAFileError(StorageError):
    """The input path exists but is not a regular file (e.g. a directory)."""


class WriteError(StorageError):
    """The output could not be created or written.

    A missing output folder, a full disk, no permission, ...
    """


class CancelledError(LogflowError):
    """The work was cancelled before it finished."""


class ObjectNotFoundError(StorageError, FileNotFoundError):
    """An object storage key does not exist."""


class CatalogError(LogflowError, RuntimeError):
    """A table catalog refused or failed an operation."""


class TableNotFoundError(CatalogError, LookupError):
    """No table of that name exists in the catalog."""


class NamespaceNotFoundError(CatalogError, LookupError):
    """No namespace of that name exists in the catalog."""


class TableExistsError(CatalogError, ValueError):
    """A table (or namespace) of that name already exists."""


class SnapshotNotFoundError(CatalogError, LookupError):
    """A table has no snapshot with that id, or none as old as that time."""


class CommitConflictError(CatalogError):
    """Another writer committed to the table first; nothing was committed."""


class UnsupportedOperationError(CatalogError, TypeError):
    """The table format cannot do this (e.g. renaming a column of a Delta table)."""


class QueryError(LogflowError, RuntimeError):
    """A query failed while it ran (a bad column name, a type error, out of memory, ...)."""


class SqlNotAllowedError(QueryError, ValueError):
    """The SQL was refused before it ran: not a single read-only query over known tables.

    The message says what was refused: a statement kind (``COPY``, ``ATTACH``, ``SET``, ...),
    a table function (``read_csv``), a file path used as a table, a function outside the
    allow-list, or more than one statement.
    """


class QueryTimeoutError(QueryError, TimeoutError):
    """A query ran past its timeout and was interrupted."""
