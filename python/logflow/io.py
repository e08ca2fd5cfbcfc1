"""The one-call API: :func:`convert` a file to Parquet, or :func:`read` it as an Arrow stream."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Union

from logflow import _native, _orc, _sources
from logflow.errors import ConfigError, DecodeError
from logflow.quality import QualityReport

if TYPE_CHECKING:
    import pyarrow as pa

    from logflow.detection import Dialect
    from logflow.rules import RulesLike

__all__ = [
    "ConvertResult",
    "ErrorSample",
    "Fingerprint",
    "SourceResult",
    "Stream",
    "convert",
    "read",
    "write",
]

Compression = Literal["zstd", "snappy", "gzip", "lz4", "none"]
Format = Literal[
    "csv",
    "tsv",
    "json",
    "jsonl",
    "xml",
    "xes",
    "parquet",
    "avro",
    "orc",
    "arrow",
    "arrow-stream",
    "xlsx",
    "xlsb",
    "xls",
    "ods",
]
XesTables = Literal["events", "traces", "both"]
ErrorPolicy = Literal["strict", "permissive", "quarantine"]
CastErrorPolicy = Literal["null", "reject"]
SchemaPolicy = Literal["strict", "merge", "evolve"]
ProgressCallback = Callable[[int, int, int], Any]
"""Called about every 100 ms with ``(bytes_read, bytes_total, rows_read)``."""
Source = _sources.SourceLike

_TAB_SUFFIXES = {".tsv", ".tab"}
# Compression is detected from the bytes; these suffixes only hide the inner one.
_COMPRESSED_SUFFIXES = {".gz", ".gzip", ".zst", ".zstd", ".bz2", ".xz", ".zip"}


def _inner_suffix(src: str) -> str:
    """The suffix naming the data format: ``.csv`` for ``x.csv.gz``."""
    stem, suffix = os.path.splitext(src)
    if suffix.lower() in _COMPRESSED_SUFFIXES:
        suffix = os.path.splitext(stem)[1]
    return suffix.lower()


def _partition_columns(partition_by: list[str] | str | None) -> list[str] | None:
    """``partition_by`` as a list of names: one name, or a sequence of them."""
    if partition_by is None:
        return None
    names = [partition_by] if isinstance(partition_by, str) else list(partition_by)
    if not all(isinstance(n, str) for n in names):
        raise ConfigError(f"partition_by takes column names, got {partition_by!r}")
    return names


SchemaLike = Union["pa.Schema", Mapping[str, Union[str, "pa.DataType"]]]
"""Types for some or all columns: a :class:`pyarrow.Schema`, or ``{name: type}`` with a
pyarrow type or its name (``"int64"``, ``"float64"``, ``"string"``, ``"bool"``,
``"date32"``, ``"time64[us]"``, ``"timestamp[us]"``, ``"timestamp[ns]"``,
``"timestamp[us, tz=UTC]"``, ``"decimal128(20, 2)"``, ``"null"``)."""


def _schema_pairs(schema: SchemaLike | None) -> list[tuple[str, str]] | None:
    if schema is None:
        return None
    if isinstance(schema, Mapping):
        return [(str(name), str(ty)) for name, ty in schema.items()]
    return [(field.name, str(field.type)) for field in schema]


# The reading options a dialect sets, with the values that mean "not given, detect".
_DIALECT_DEFAULTS: dict[str, Any] = {
    "delimiter": None,
    "quote": "auto",
    "escape": "auto",
    "header": None,
    "skip_lines": None,
}
_DIALECT_INFO = {"terminator", "ragged", "confidence", "evidence"}
# Dialect keys with no option of their own: ``None`` detects them.
_DIALECT_ONLY = ("skip_initial_space",)


def _reading_options(
    src: str,
    format: str | None,
    dialect: Dialect | Mapping[str, Any] | None,
    **given: str | bool | int | None,
) -> dict[str, Any]:
    """The dialect options for the decoder: ``dialect`` merged with those passed one by one.

    ``dialect`` is a detected :class:`~logflow.detection.Dialect` or a mapping with some of
    its keys; an option passed one by one that names another value is a
    :class:`~logflow.errors.ConfigError`. ``.tsv`` files, and ``format="tsv"``, default to a
    tab delimiter.
    """
    out: dict[str, Any] = dict(given)
    out.update(dict.fromkeys(_DIALECT_ONLY))
    if dialect is not None:
        if isinstance(dialect, Mapping):
            d = dict(dialect)
        else:
            d = {k: getattr(dialect, k) for k in (*_DIALECT_DEFAULTS, *_DIALECT_ONLY)}
        unknown = set(d) - set(_DIALECT_DEFAULTS) - set(_DIALECT_ONLY) - _DIALECT_INFO
        if unknown:
            raise ConfigError(
                f"dialect: unknown keys {sorted(unknown)}; it takes "
                f"{[*_DIALECT_DEFAULTS, *_DIALECT_ONLY]}"
            )
        for key in _DIALECT_ONLY:
            out[key] = d.get(key)
        for key, unset in _DIALECT_DEFAULTS.items():
            if key not in d:
                continue
            if given[key] != unset and given[key] != d[key]:
                raise ConfigError(
                    f"{key}={given[key]!r} contradicts the dialect's {key}={d[key]!r}; "
                    "give one of them"
                )
            out[key] = d[key]
    tab = format == "tsv" or (format is None and _inner_suffix(src) in _TAB_SUFFIXES)
    if out["delimiter"] is None and tab:
        out["delimiter"] = "\t"
    return out


def _columns(columns: Sequence[str] | str | None) -> list[str] | None:
    """``columns`` as a list of names: one name, or a sequence of them."""
    if columns is None:
        return None
    names = [columns] if isinstance(columns, str) else list(columns)
    if not names or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"columns takes one or more column names, got {columns!r}")
    return names


def _is_orc(src: str, format: str | None) -> bool:
    """Whether to read ``src`` as ORC: named so, or detected from its bytes."""
    return format == "orc" or (format is None and _orc.is_orc(src))


@dataclass(frozen=True)
class ErrorSample:
    """One bad record, as kept in :attr:`ConvertResult.error_samples`."""

    line: int
    """1-based line where the record starts."""
    offset: int
    """0-based byte offset where the record starts."""
    record: int
    """1-based data record number."""
    column: str | None
    """The column concerned, for cast and encoding errors."""
    reason: str
    """``too_many_fields``, ``too_few_fields``, ``invalid_utf8``, ``cast_error``,
    ``unterminated_quote`` (a quote opened on this line and never closed),
    ``swallowed_by_quote`` (a line inside such a quote, from an earlier line),
    ``record_too_long`` (a record longer than 64 MiB: a line with no end within them keeps
    its first 64 MiB here, the rest of the line is skipped), ``invalid_json``,
    ``invalid_xml`` (a record that is not well-formed XML), ``schema_mismatch`` (a field
    or value the schema does not allow), or the name of a validation rule the row broke
    (``not_null:id``, ``unique:id``, ...)."""
    detail: str
    """What is wrong, in words."""
    raw: bytes
    """The record's bytes as in the input (cut to 1 KiB)."""


@dataclass(frozen=True)
class Fingerprint:
    """What identifies a source's content."""

    size: int | None = None
    """Size in bytes as stored (compressed for a compressed file; a zip member's size once
    decompressed); ``None`` when unknown (a stream not read to its end)."""
    mtime: float | None = None
    """Modification time, seconds since the epoch (local files, object stores, HTTP
    ``Last-Modified``)."""
    etag: str | None = None
    """The object store's or HTTP server's entity tag."""
    sha256: str | None = None
    """Lowercase hex SHA-256 of the content as stored, with ``fingerprint="sha256"``."""


@dataclass(frozen=True)
class SourceResult:
    """What one source gave in a :func:`convert` run.

    A source is a file, a stream, an object, or a member of a zip archive.
    """

    path: str
    """Its path, URL, ``archive.zip/member.csv``, ``<bytes>`` or ``<stream>``."""
    fingerprint: Fingerprint
    """Its size, modification time or ETag, and hash."""
    format: str
    """The format read."""
    compression: str
    """The compression found (``"zip"`` for an archive member)."""
    rows_read: int
    """Data records read from it."""
    rows_written: int
    """Its rows written."""
    rows_quarantined: int = 0
    """Its rows set aside by the error policy."""
    rows_skipped: int = 0
    """Its rows dropped on purpose."""

    @classmethod
    def _from_native(cls, d: dict[str, Any]) -> SourceResult:
        values = dict(d)
        values["fingerprint"] = Fingerprint(**values["fingerprint"])
        return cls(**values)


class _ArrowSchemaField:
    """A dataclass field whose schema becomes a :class:`pyarrow.Schema` on first access.

    The native module exports the schema; a conversion itself does not need pyarrow, whose
    import (a fifth of a second, and numpy's thread pool) would otherwise be part of every
    ``convert`` call.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self._slot = f"_{name}_value"

    def __get__(self, obj: object, objtype: type | None = None) -> pa.Schema:
        if obj is None:
            raise AttributeError(self._slot)
        value = obj.__dict__[self._slot]
        import pyarrow as pa

        if not isinstance(value, pa.Schema):
            value = pa.schema(value)
            obj.__dict__[self._slot] = value
        return value

    def __set__(self, obj: object, value: object) -> None:
        obj.__dict__[self._slot] = value


@dataclass(frozen=True)
class ConvertResult:
    """What :func:`convert` did.

    ``rows_read == rows_written + rows_quarantined + rows_skipped`` always holds.

    Example:
        >>> r = logflow.convert("events.csv", "events.parquet")  # doctest: +SKIP
        >>> r.rows_written, r.files  # doctest: +SKIP
        (1000000, ('events.parquet',))
    """

    rows_read: int
    """Data records read from the input (the header is not counted)."""
    rows_written: int
    """Rows written to the output."""
    rows_quarantined: int
    """Rows set aside by the error policy."""
    rows_skipped: int
    """Rows dropped on purpose: bad rows under ``error_policy="permissive"`` and headers
    repeated mid-file."""
    bytes_read: int
    """Input bytes read."""
    bytes_written: int
    """Output bytes written, over all files."""
    files: tuple[str, ...]
    """The data files written, in the order they were started: ``(dst,)``, or with
    ``max_rows_per_file``, ``target_file_size`` or ``partition_by``, every
    ``part-NNNNN.parquet`` under ``dst``."""
    duration_s: float
    """Wall time of the conversion, in seconds."""
    schema: pa.Schema = field(default=_ArrowSchemaField(), repr=False)  # type: ignore[assignment]
    """The schema of the rows. With ``partition_by``, the files hold these columns but the
    partition columns, whose values are in the directory names."""
    errors_by_reason: dict[str, int] = field(default_factory=dict)
    """Bad rows by reason (see :class:`ErrorSample`)."""
    error_samples: tuple[ErrorSample, ...] = ()
    """The first bad rows (at most 20)."""
    values_nulled: int = 0
    """Values set to null by ``on_cast_error="null"``."""
    quarantine_path: str | None = None
    """Under ``error_policy="quarantine"``, the file holding every bad row byte for byte
    (after the input's header line), when there was any."""
    errors_path: str | None = None
    """The Parquet error table beside the quarantine file: line, offset, record, column,
    reason, detail and raw bytes of every quarantined row."""
    input_compression: str = "none"
    """Compression of the input as detected: ``"none"``, ``"gzip"``, ``"zstd"``,
    ``"bzip2"``, ``"xz"`` or ``"zip"``."""
    input_encoding: str = "utf-8"
    """Text encoding of the input as detected or given: ``"utf-8"``, ``"utf-8-sig"``,
    ``"utf-16-le"``, ``"windows-1252"``, ..."""
    format: str = "csv"
    """The format read, as given or detected: ``"csv"``, ``"json"``, ``"jsonl"``, ``"xml"``,
    ``"xes"``, ``"parquet"``, ...; ``"arrow"`` for :func:`write`; ``"mixed"`` when sources
    differ (so do ``input_compression`` and ``input_encoding``)."""
    sources: tuple[SourceResult, ...] = ()
    """Per source, in input order: its fingerprint and rows read, written, quarantined and
    skipped (one entry for one file; each file of a glob or directory, each member of a zip
    archive; none for :func:`write`)."""
    checksum_in: str | None = None
    """The checksum of the rows read and kept (decoded, and past every validation rule), as
    16 hex digits: xxh3 of each value in a canonical form (a number is hashed as its value,
    not its type: ``5``, ``5.0`` and ``5.00`` are one value; dates and timestamps as
    nanoseconds), mixed per row, summed over the rows, so the order rows come in does not
    matter. ``None`` when checksums are off (:func:`write` without ``verify``)."""
    checksum_out: str | None = None
    """The checksum of the rows as written, computed the same way. It equals
    :attr:`checksum_in` unless a schema change turned a column's values into text (a number
    and its text are different values) or widened an integer past 2^53 to a float;
    ``verify=True`` reads the files back and checks them against it."""
    quality: QualityReport | None = None
    """What the rows hold (see :class:`~logflow.QualityReport`); ``None`` with
    ``profile=False`` and from :func:`write`."""

    @classmethod
    def _from_native(cls, stats: dict[str, Any]) -> ConvertResult:
        """The result from the native module's dict, whose keys are this class's fields."""
        values = dict(stats)
        values["files"] = tuple(values["files"])
        values["sources"] = tuple(SourceResult._from_native(s) for s in values["sources"])
        values["errors_by_reason"] = dict(values["errors_by_reason"])
        values["error_samples"] = tuple(ErrorSample(**s) for s in values["error_samples"])
        if values["quality"] is not None:
            values["quality"] = QualityReport._from_native(values["quality"], stats, None)
        return cls(**values)

    def __getstate__(self) -> dict[str, Any]:
        # Pickled (e.g. back from a worker process) as a pyarrow schema, which pickles.
        _ = self.schema
        return dict(self.__dict__)

    @property
    def rows_per_s(self) -> float:
        """Rows written per second of wall time."""
        return self.rows_written / self.duration_s if self.duration_s > 0 else 0.0

    def summary(self) -> str:
        """One line for people: rows, sizes, time and throughput."""
        mb_in = self.bytes_read / 1e6
        mb_out = self.bytes_written / 1e6
        line = (
            f"{self.rows_written:,} rows written ({self.rows_read:,} read, "
            f"{self.rows_quarantined:,} quarantined, {self.rows_skipped:,} skipped); "
            f"{mb_in:,.1f} MB -> {mb_out:,.1f} MB in {self.duration_s:.2f} s "
            f"({self.rows_per_s:,.0f} rows/s)"
        )
        if self.errors_by_reason:
            reasons = ", ".join(f"{k}: {v:,}" for k, v in sorted(self.errors_by_reason.items()))
            line += f"\nbad rows by reason: {reasons}"
        if self.quarantine_path:
            line += f"\nquarantined rows: {self.quarantine_path} (errors: {self.errors_path})"
        return line


def convert(
    src: Source,
    dst: str | os.PathLike[str],
    *,
    format: Format | None = None,
    compression: Compression = "zstd",
    compression_level: int | None = None,
    delimiter: str | None = None,
    quote: str | None = "auto",
    escape: str | None = "auto",
    header: bool | None = None,
    skip_lines: int | None = None,
    row_group_size: int | None = None,
    batch_size: int | None = None,
    error_policy: ErrorPolicy = "strict",
    on_cast_error: CastErrorPolicy = "reject",
    encoding: str | None = None,
    schema: SchemaLike | None = None,
    schema_policy: SchemaPolicy | None = None,
    infer_types: bool = True,
    empty_as_null: bool | None = None,
    records_path: str | None = None,
    flatten: bool | int = False,
    max_expansion: int | None = None,
    max_decompressed_size: int | str | None = None,
    dialect: Dialect | Mapping[str, Any] | None = None,
    threads: int | None = None,
    progress: ProgressCallback | None = None,
    max_rows_per_file: int | None = None,
    target_file_size: int | str | None = None,
    partition_by: list[str] | str | None = None,
    record_path: str | None = None,
    tables: XesTables = "events",
    columns: Sequence[str] | str | None = None,
    sheet: str | int | None = None,
    include_file_name: bool | str = False,
    fingerprint: Literal["sha256"] | None = None,
    storage_options: Mapping[str, Any] | None = None,
    profile: bool = True,
    verify: bool = False,
    rules: RulesLike | None = None,
) -> ConvertResult:
    r"""Convert a data file to a Parquet file or dataset.

    Text (CSV, TSV and other delimited text, JSON, JSON Lines, XML, XES) is decoded and typed by
    logflow; binary formats are read by their own projects' readers and enter the same
    writer: Parquet (row groups decoded in parallel, only ``columns`` read), Avro object
    container files, Arrow IPC files and streams, ORC (through pyarrow), and Excel and
    OpenDocument workbooks (xlsx, xlsm, xlsb, xls, ods: a sheet is typed as a CSV file would
    be, its header row found below any titles).

    ``src`` is one file or many: a path, a directory (every file under it), a glob
    (``"logs/2024-*.csv.gz"``), a zip archive (every member), an object-store URL
    (``s3://``, ``gs://``, ``az://``: read with range requests, never downloaded first;
    needs ``logflow[cloud]``), an ``http(s)://`` URL (streamed), ``bytes``, a binary
    file-like, an iterator of ``bytes``, or a list of these. Many sources become one
    output: they are opened and decoded in parallel, several ahead of the writer, and
    their schemas merge (columns join by name, types widen) unless
    ``schema_policy="strict"``, which makes a source with other columns an error.
    :attr:`ConvertResult.sources` reports each one's rows and fingerprint. Binary formats
    (Parquet, Avro, Arrow IPC, ORC, workbooks) are read from one local file at a time.

    The input may be compressed (gzip, zstd, bzip2, xz, or a zip archive holding one file:
    detected from its first bytes) and in any common text encoding (detected, or given as
    ``encoding``); it is decompressed and transcoded to UTF-8 as it streams. Line numbers,
    byte offsets and the quarantine file then refer to that decompressed UTF-8 text.

    Decoding and writing run in Rust on separate threads with the GIL released; memory stays
    bounded whatever the input size. The output is written under a temporary name and moved
    into place only when complete, so a failed or interrupted run leaves no file behind.

    With ``max_rows_per_file``, ``target_file_size`` or ``partition_by``, ``dst`` is a
    directory (created if missing) of ``part-00000.parquet``, ``part-00001.parquet``, ...
    files, which ``pyarrow.dataset``, DuckDB, Polars and Spark read as one dataset. All files
    are written into a hidden staging directory inside ``dst`` and moved into place together
    at the end; a failed or interrupted run leaves nothing (and removes ``dst`` if it created
    it). ``dst`` must be missing, empty, or hold only a dataset logflow wrote before, which is
    then replaced; anything else there raises :class:`~logflow.errors.ConfigError` rather than
    mixing datasets.

    Args:
        src: The input(s), as above.
        dst: Output Parquet file (replaced if it exists); a directory with
            ``max_rows_per_file``, ``target_file_size`` or ``partition_by``.
        format: The input's format: ``"csv"`` (any delimited text), ``"tsv"`` (tab
            delimited), ``"json"``, ``"jsonl"``, ``"xml"`` or ``"xes"`` (an event log);
            ``None`` (default) detects it from the bytes, whatever the file is called (the
            suffix decides only when the bytes could be either).
        compression: Parquet codec: ``"zstd"`` (default), ``"snappy"``, ``"gzip"``,
            ``"lz4"`` or ``"none"``.
        compression_level: Codec level (zstd 1-22, gzip 0-9); ``None`` for the default.
        delimiter: Field delimiter: one ASCII character or a two-byte one such as ``"§"``;
            ``None`` detects it (``.tsv`` files default to tab).
        quote: Quote character, ``None`` to turn quoting off, or ``"auto"`` (default) to
            detect it.
        escape: Escape character inside quotes (e.g. ``"\\"``), ``None`` for quotes
            escaped by doubling them, or ``"auto"`` (default) to detect it.
        header: Whether the first record of the table names the columns; ``None`` detects
            it.
        skip_lines: Lines before the table (titles, comments) to skip; ``None`` detects
            them.
        row_group_size: Most rows per Parquet row group (default 524,288).
        batch_size: Most rows per decoded batch (default 65,536). Column types are inferred
            from the first 4 MiB chunk of the input.
        error_policy: What to do with a bad row (wrong field count, invalid UTF-8, a value
            that does not fit its column, an unterminated quote): ``"strict"`` (default)
            raises :class:`~logflow.errors.DecodeError` and writes nothing;
            ``"permissive"`` drops it and counts it in ``errors_by_reason``;
            ``"quarantine"`` writes it byte for byte to ``<dst stem>.quarantine.csv``
            (``.jsonl`` for JSON, ``.xml`` for XML, ``.xes`` for XES: the records between
            ``<quarantine>`` tags) beside the output, plus an error table
            ``<dst stem>.errors.parquet``. Under the
            last two, a column stays typed when at most 1% of the sampled values do not fit.
        on_cast_error: ``"reject"`` (default) treats a value that does not parse as its
            column's type as a bad row; ``"null"`` stores null and keeps the row.
        encoding: Text encoding of the input (``"utf-8"``, ``"utf-16-le"``,
            ``"windows-1252"``, ``"latin-1"``, ``"shift_jis"``, ``"gb18030"``, ...);
            ``None`` (default) detects it. Bytes that are invalid in the encoding make their
            record bad (reason ``invalid_utf8``), never silently replaced.
        schema: Types for some or all columns, by name (a :class:`pyarrow.Schema` or
            ``{"zip": "string", "amount": "float64"}``); the other columns are inferred. A
            name a CSV header does not have raises :class:`~logflow.errors.SchemaError`; for
            JSON it is a column of that type (null in records without the field, as fields
            may appear anywhere). Values that do not fit the given type are bad rows under
            the error policy.
        schema_policy: How the schema may change after the sample the types are inferred
            from (JSON: the first 4 MiB chunk): ``"strict"`` (a field that was not in the
            sample, or a value its column cannot hold, is a bad row under the error policy),
            ``"merge"`` (new fields become nullable columns; types widen int64 -> float64 ->
            text, dates -> timestamps; the rows written before are rewritten once at the
            end, with the wider schema) or ``"evolve"`` (as merge, and a value that still
            does not fit, such as an object where text was, turns its column into JSON
            text). ``None`` (default): ``"merge"`` for JSON; delimited text keeps its
            header's columns and types (``"strict"``).
        infer_types: ``True`` (default) infers column types; ``False`` is text mode, like
            DuckDB's ``all_varchar`` or pandas' ``dtype=str``: every column is text holding
            each value exactly as written (after unquoting and unescaping; no trimming, no
            null words; JSON numbers and booleans keep their JSON text, objects and arrays
            are JSON text). ``schema=`` still types the columns it names.
        empty_as_null: Whether an empty field is null in text columns. ``None`` (default):
            yes for delimited text when types are inferred; no in text mode and for JSON,
            where ``""`` and ``null`` differ.
        records_path: For a JSON document, where the records are: the key path of their
            array (``"items"``, ``"data.items"`` or ``"/data/items"``). ``None`` (default)
            finds it: a top-level array, or the largest array of objects in the top-level
            object (three levels deep at most); a lone object is one row. For XML, the
            same as ``record_path``.
        flatten: For JSON and XML, nested objects (elements, XES containers) as
            ``parent.child`` columns instead of struct columns: ``True`` for every level, a
            number for that many levels. Arrays (repeated elements) stay list columns.
        max_expansion: For compressed input, the most decompressed bytes per compressed
            byte (default 200, judged once 64 MiB came out; ``0``: no limit): past it the
            input is a decompression bomb and :class:`~logflow.errors.LimitExceededError`
            stops the run at once, its memory bounded.
        max_decompressed_size: For compressed input, the most decompressed bytes in all
            (bytes, or text such as ``"10GB"``); ``None`` (default): no limit.
        dialect: A whole dialect at once: ``logflow.detect(src).dialect`` (e.g. detected
            on a clean sample and reused) or a mapping with some of ``delimiter``,
            ``quote``, ``escape``, ``skip_initial_space`` (spaces after a delimiter are
            padding: ``a, "b, c"``), ``header``, ``skip_lines``. An option also passed on
            its own must agree with it (:class:`~logflow.errors.ConfigError` otherwise).
        threads: Threads decoding and encoding Parquet (default: one per core; 1 runs the
            whole job on one thread).
        progress: Called about every 100 ms with ``(bytes_read, bytes_total, rows_read)``,
            and once more with the final counts when the conversion is done. If it raises,
            the conversion stops (or is undone) and the exception propagates.
        max_rows_per_file: Start a new file once one holds this many rows (exact).
        target_file_size: Start a new file once one reaches about this size: bytes, or text
            such as ``"128MB"`` (powers of 1000), ``"1GiB"`` or ``"512M"`` (powers of 1024).
            The size is estimated while writing (bytes written plus the expected size of
            the open row group, its page in progress counted uncompressed), so a file may
            pass the target by up to 8,192 rows' worth, and with targets of a few MB or
            less and very compressible data, files come out smaller than the target.
        partition_by: Column name(s) to partition by, Hive style:
            ``dst/col=value/part-00000.parquet``, one directory level per column in the order
            given. The files do not hold the partition columns; readers put them back from
            the directory names (``pyarrow.dataset.dataset(dst, partitioning="hive")``,
            DuckDB ``read_parquet("dst/**/*.parquet", hive_partitioning=true)``), typing
            them as they infer. Values are written as text with ``/``, ``=``, ``%``, ``:``,
            control characters and the like percent-encoded (``a/b`` -> ``a%2Fb``); null
            and empty values go to ``col=__HIVE_DEFAULT_PARTITION__``. Memory stays
            bounded: at most 64 files are open at once, and rows of other partitions wait in
            memory; when open row groups and waiting rows pass 256 MiB, the largest waiting
            rows get a file (the least recently written open file is closed for it, and its
            partition continues in a new file later) or the largest row group is written
            early. Up to 64 partitions, or input that fits the budget, gives one file per
            partition (and ``max_rows_per_file`` / ``target_file_size``); input with many
            more partitions gives fewer, larger files when sorted or grouped by them.
            Partitioning by a float column works but is a bad idea: every distinct value
            becomes a directory. A value whose directory name would pass 255 bytes raises
            :class:`~logflow.errors.LimitExceededError`.
        record_path: For XML, the element path of the records from the root:
            ``"catalog/book"`` (or ``"/catalog/book"``, or ``"book"`` below the root; a
            name without a prefix also matches a prefixed one, ``entry`` for
            ``atom:entry``). ``None`` (default) finds it: the element that repeats most
            under its parent, taken at its outermost repeating ancestor (a book holding
            authors is the record, not the author), whose instances hold data. Attributes
            and child elements become columns (attributes under their name, or ``@name``
            where a child has the same name), repeated children list columns, nested
            elements struct columns, an element's own text beside children ``#text``;
            namespaced names by their local name unless two would clash. Text is typed as
            CSV cells are.
        tables: For an XES event log: ``"events"`` (default: one row per event with
            ``case:concept:name``, ``concept:name``, ``time:timestamp``, ``org:resource``,
            ``lifecycle:transition``, the other event attributes by key and the trace
            attributes as ``case:<key>``), ``"traces"`` (one row per trace, its attributes
            as ``case:<key>``) or ``"both"`` (the events to ``dst`` and the traces to
            ``<dst stem>.traces.parquet`` beside it, read in a second pass; both are in
            ``files``).
        columns: For binary formats (Parquet, Avro, Arrow IPC, ORC), the columns to read, in
            this order (one name or a list); for Parquet also dotted paths into nested
            columns (``"user.id"`` keeps that member of the ``user`` struct), and the other
            columns are not even read from disk. ``None`` (default) reads all. A name the
            input does not have raises :class:`~logflow.errors.ConfigError` listing them.
        sheet: For a workbook, the sheet to read: its name, or its 0-based position among
            all sheets. ``None`` (default): the first sheet holding any cell.
        include_file_name: Add a text column naming each row's source (its path, URL or
            ``archive.zip/member``): ``True`` names the column ``file_name``, a string
            names it so.
        fingerprint: ``"sha256"`` hashes each source's content as it streams past (no
            second read) into :attr:`SourceResult.fingerprint`; size, modification time
            and ETag are always reported.
        storage_options: For URLs: the object store's settings (obstore's names, e.g.
            ``{"endpoint": "http://127.0.0.1:9000", "region": "us-east-1",
            "access_key_id": ..., "secret_access_key": ..., "client_options":
            {"allow_http": True}}``; the usual environment variables are read too), or for
            ``http(s)://`` the limits ``timeout`` (seconds per connect or read, default 30),
            ``max_size`` (bytes), ``retries`` (default 3) and ``headers``.
        profile: Profile the rows as they are decoded (on the decode threads, in the same
            pass; on by default, it adds under a tenth to the time of a conversion):
            :attr:`ConvertResult.quality` holds the :class:`~logflow.QualityReport`.
            ``False`` skips it.
        verify: Before the output is put in place, read it back with an independent
            Parquet reader and check that it holds what was written, and what was read
            (:attr:`ConvertResult.checksum_in` and ``checksum_out``); a mismatch raises
            :class:`~logflow.errors.IntegrityError` and leaves nothing behind. Costs a read
            of the output.
        rules: Validation rules (:mod:`logflow.rules` objects, or the path of a TOML or
            YAML file listing them). A row that breaks one is a bad row under
            ``error_policy``, counted (and quarantined) under the rule's name.

    Returns:
        Counts, sizes, the files written, the output schema and each source's rows.

    Raises:
        logflow.errors.DecodeError: A record is malformed (wrong field count, invalid
            UTF-8, a value that does not fit its column's type, an unterminated quote);
            the error names the path, line, byte offset and column.
        logflow.errors.EmptyInputError: The input holds no data.
        logflow.errors.InputNotFoundError: ``src`` does not exist.
        logflow.errors.NotAFileError: ``src`` is a directory with no files in it.
        logflow.errors.DecodeError: A binary input is damaged (a Parquet page, an Avro block
            (named by number and byte offset), an IPC message, an ORC stripe, a workbook's
            parts).
        logflow.errors.UnsupportedFormatError: ``src`` is in a format logflow does not read
            (logs), binary data that is not text at all, a password-protected workbook, an
            encrypted Parquet file, a compressed Parquet / Arrow IPC file / workbook (these
            are read by position: decompress them first), or, of many sources, a binary
            format (read one local file at a time).
        logflow.errors.EncryptedInputError: A zip member is encrypted.
        logflow.errors.UnsafeArchiveError: A zip member's name reaches outside the archive
            (``../x``, an absolute path).
        logflow.errors.StorageError: An object store or HTTP server failed
            (:class:`~logflow.errors.ObjectNotFoundError` for a missing object).
        logflow.errors.SchemaError: With ``schema_policy="strict"``, a source whose
            columns differ from the first one's.
        logflow.errors.ConfigError: An option value is invalid, a ``partition_by`` column does
            not exist (the message lists the columns), or ``dst`` holds files that are not a
            logflow dataset.
        logflow.errors.RuleViolationError: Under ``error_policy="strict"``, a row broke a
            validation rule.
        logflow.errors.IntegrityError: With ``verify=True``, the output read back does not
            hold what was written or read.
        KeyboardInterrupt: Ctrl-C; the partial output is removed first.

    Example:
        >>> import logflow
        >>> r = logflow.convert("tests/data/csv/sample.csv", "/tmp/sample.parquet")
        >>> r.rows_read == r.rows_written + r.rows_quarantined + r.rows_skipped
        True
    """
    dst_s = os.fspath(dst)
    from logflow.rules import _native_rules

    partition_cols = _partition_columns(partition_by)
    native_src = _sources.resolve(src, storage_options)
    # ORC (read by pyarrow) and the pyarrow fallback for Parquet take one local file.
    local = native_src if isinstance(native_src, str) else None
    written: dict[str, Any] = {
        "compression": compression,
        "compression_level": compression_level,
        "row_group_size": row_group_size,
        "threads": threads,
        "progress": progress,
        "max_rows_per_file": max_rows_per_file,
        "target_file_size": target_file_size,
        "partition_by": partition_cols,
        "schema": _schema_pairs(schema),
        "error_policy": error_policy,
        "on_cast_error": on_cast_error,
        "profile": profile,
        "verify": verify,
        "rules": _native_rules(rules),
    }
    if local is not None and _is_orc(local, format):
        reader = _orc.open_orc(local, _columns(columns), batch_size)
        return _convert_arrow(reader, local, dst_s, "orc", written)
    opts = _reading_options(
        _first_name(native_src),
        format,
        dialect,
        delimiter=delimiter,
        quote=quote,
        escape=escape,
        header=header,
        skip_lines=skip_lines,
    )
    try:
        stats = _native.convert(
            native_src,
            dst_s,
            format=format,
            **opts,
            compression=compression,
            compression_level=compression_level,
            row_group_size=row_group_size,
            batch_size=batch_size,
            error_policy=error_policy,
            on_cast_error=on_cast_error,
            encoding=encoding,
            schema=_schema_pairs(schema),
            schema_policy=schema_policy,
            infer_types=infer_types,
            empty_as_null=empty_as_null,
            records_path=records_path,
            flatten=flatten,
            max_expansion=max_expansion,
            max_decompressed_size=max_decompressed_size,
            threads=threads,
            progress=progress,
            max_rows_per_file=max_rows_per_file,
            target_file_size=target_file_size,
            partition_by=partition_cols,
            columns=_columns(columns),
            sheet=sheet,
            record_path=record_path,
            tables=tables,
            file_name_column=_file_name_column(include_file_name),
            fingerprint=fingerprint,
            profile=profile,
            verify=verify,
            rules=_native_rules(rules),
        )
    except DecodeError as e:
        if local is None:
            raise
        fallback = _pyarrow_parquet(e, local, _columns(columns), batch_size)
        if fallback is None:
            raise
        return _convert_arrow(fallback, local, dst_s, "parquet", written)
    return ConvertResult._from_native(stats)


def _convert_arrow(
    reader: pa.RecordBatchReader, src: str, dst: str, format: str, written: dict[str, Any]
) -> ConvertResult:
    """Writes what pyarrow reads (ORC, or Parquet the native reader refused) as convert does."""
    stats = _native.write(reader, dst, format=format, **written)
    stats["bytes_read"] = _orc.size_of(src)
    return ConvertResult._from_native(stats)


def _pyarrow_parquet(
    error: DecodeError, src: str, columns: list[str] | None, batch_size: int | None
) -> pa.RecordBatchReader | None:
    """A reader by pyarrow of a Parquet file the native reader refused, if pyarrow reads it.

    The ``parquet`` crate refuses a few files other writers made that pyarrow reads (an
    unusual footer, a dictionary page it takes as malformed); they are read by pyarrow
    instead, through the same writer. ``None`` when the error is not a Parquet one or pyarrow
    cannot open the file either (the native error is then the one raised).
    """
    if error.format != "parquet" or error.column is not None:
        # Not a Parquet reader's error (a value that does not fit a type names its column).
        return None
    import itertools

    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        f = pq.ParquetFile(src)
        batches = f.iter_batches(batch_size=batch_size or 65_536, columns=columns)
        first = next(batches, None)
    except (pa.ArrowException, OSError, ValueError):
        return None
    if first is None:
        schema = f.schema_arrow
        if columns is not None:
            schema = pa.schema([schema.field(c) for c in columns if c in schema.names])
        return pa.RecordBatchReader.from_batches(schema, iter(()))
    return pa.RecordBatchReader.from_batches(first.schema, itertools.chain([first], batches))


def _first_name(native_src: _sources.Native) -> str:
    """The name of the first source, for suffix hints (``.tsv``)."""
    if isinstance(native_src, list):
        return str(native_src[0][0]) if native_src else ""
    return _sources.display_name(native_src)


def _file_name_column(include_file_name: bool | str) -> str | None:
    if include_file_name is True:
        return "file_name"
    if include_file_name is False or include_file_name is None:
        return None
    if isinstance(include_file_name, str) and include_file_name:
        return include_file_name
    raise ConfigError(
        f"include_file_name takes True, False or a column name, got {include_file_name!r}"
    )


class Stream:
    """A one-shot stream of Arrow record batches, decoded lazily in Rust.

    Any library that speaks the Arrow PyCapsule interface takes it without a copy:
    ``pyarrow.table(s)``, ``polars.DataFrame(s)``, ``duckdb.sql("from s")``. Iterating
    yields :class:`pyarrow.RecordBatch` objects and raises :mod:`logflow.errors` exceptions
    on bad records. A stream can be consumed once.

    Example:
        >>> import logflow, pyarrow as pa
        >>> table = pa.table(logflow.read("tests/data/csv/sample.csv"))
        >>> table.num_rows > 0
        True
    """

    __slots__ = ("_inner",)

    def __init__(self, inner: _native.BatchStream) -> None:
        self._inner = inner

    @property
    def schema(self) -> pa.Schema:
        """The schema every batch has."""
        import pyarrow as pa

        return pa.schema(self._inner)

    def __arrow_c_schema__(self) -> object:
        """Export the schema through the Arrow PyCapsule interface."""
        return self._inner.__arrow_c_schema__()

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """Export the remaining batches through the Arrow PyCapsule interface."""
        return self._inner.__arrow_c_stream__(requested_schema)

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        while (batch := self._inner.next_batch()) is not None:
            yield pa.record_batch(batch)

    @property
    def rows_read(self) -> int:
        """Data records read so far (the header is not counted)."""
        return self._inner.rows_read

    @property
    def rows_rejected(self) -> int:
        """Bad records dropped so far under ``error_policy="permissive"``."""
        return self._inner.rows_rejected

    @property
    def rows_skipped(self) -> int:
        """Headers repeated mid-file, dropped so far.

        Once the stream is consumed, ``rows_read`` equals the rows returned plus
        ``rows_rejected`` plus ``rows_skipped``.
        """
        return self._inner.rows_skipped

    def read_all(self) -> pa.Table:
        """Decode everything left into one :class:`pyarrow.Table`.

        Unlike ``pyarrow.table(stream)``, bad input raises the typed
        :mod:`logflow.errors` exception rather than a generic Arrow error.
        """
        import pyarrow as pa

        schema = self.schema
        return pa.Table.from_batches(list(self), schema=schema)


def read(
    src: Source,
    *,
    format: Format | None = None,
    delimiter: str | None = None,
    quote: str | None = "auto",
    escape: str | None = "auto",
    header: bool | None = None,
    skip_lines: int | None = None,
    batch_size: int | None = None,
    error_policy: Literal["strict", "permissive"] = "permissive",
    on_cast_error: CastErrorPolicy = "reject",
    encoding: str | None = None,
    schema: SchemaLike | None = None,
    infer_types: bool = True,
    empty_as_null: bool | None = None,
    records_path: str | None = None,
    flatten: bool | int = False,
    max_expansion: int | None = None,
    max_decompressed_size: int | str | None = None,
    dialect: Dialect | Mapping[str, Any] | None = None,
    threads: int | None = None,
    record_path: str | None = None,
    tables: Literal["events", "traces"] = "events",
    columns: Sequence[str] | str | None = None,
    sheet: str | int | None = None,
    include_file_name: bool | str = False,
    storage_options: Mapping[str, Any] | None = None,
) -> Stream:
    """Open a data file as a stream of Arrow record batches.

    Every format :func:`convert` reads is streamed: text decoded in chunks; Parquet row
    groups, Avro blocks and Arrow IPC batches decoded ahead of the consumer, in order; ORC
    stripe by stripe; a workbook's sheet row by row. Binary formats keep their own Arrow
    types (an Arrow union stays a union here; :func:`convert` writes what Parquet can hold).

    ``src`` takes everything :func:`convert` takes: many sources stream one after another
    (started ahead in parallel) in the schema of the first one; a later source's batches
    are brought to it (missing columns are null, types widen to it), and a source whose
    columns or types do not fit raises :class:`~logflow.errors.SchemaError` (use
    :func:`convert`, which merges schemas).

    The header and the first batch (the type-inference sample) are read at once, so a
    missing, empty or unreadable file fails here. Later chunks are decoded on background
    threads a few chunks ahead of the consumer (at most ``2 * threads + 2`` chunks of 4 MiB
    in memory), in file order.

    Reading is for loading what a file holds, so by default a bad row (wrong field count,
    invalid encoding, a value that does not fit its column) is dropped and counted in
    :attr:`Stream.rows_rejected` rather than failing the load; pass
    ``error_policy="strict"`` to fail on the first one, or use :func:`convert` with
    ``error_policy="quarantine"`` to keep every bad row.

    Args:
        src: The input(s), as in :func:`convert`.
        format: The input's format, as in :func:`convert`; ``None`` (default) detects it.
        delimiter: Field delimiter: one ASCII character or a two-byte one such as ``"§"``;
            ``None`` detects it (``.tsv`` files default to tab).
        quote: Quote character, ``None`` for no quoting, ``"auto"`` (default) to detect.
        escape: Escape character inside quotes, ``None`` for doubled quotes, ``"auto"``
            (default) to detect.
        header: Whether the first record of the table names the columns; ``None`` detects it.
        skip_lines: Lines before the table to skip; ``None`` detects them.
        batch_size: Most rows per batch (default 65,536).
        error_policy: ``"permissive"`` (default) drops bad rows and counts them;
            ``"strict"`` raises :class:`~logflow.errors.DecodeError` on the first one.
            (Quarantine needs an output: use :func:`convert`.)
        on_cast_error: ``"reject"`` (default) or ``"null"``, as in :func:`convert`.
        encoding: Text encoding; ``None`` (default) detects it. Compressed input is
            decompressed, as in :func:`convert`.
        schema: Types for some or all columns, as in :func:`convert`.
        infer_types: ``False`` for text mode, as in :func:`convert`.
        empty_as_null: Whether an empty field is null in text columns, as in
            :func:`convert`.
        records_path: For a JSON document, where the records are, as in :func:`convert`.
        flatten: For JSON and XML, nested objects as ``parent.child`` columns, as in
            :func:`convert`.
        max_expansion: Decompression limit, as in :func:`convert`.
        max_decompressed_size: Decompression limit, as in :func:`convert`.
        dialect: A whole dialect at once, as in :func:`convert`.
        threads: Threads decoding ahead (default: one per core); 1 decodes each batch on
            the consumer's thread when it asks for it.
        record_path: For XML, the element path of the records, as in :func:`convert`.
        tables: For an XES event log, ``"events"`` (default) or ``"traces"``, as in
            :func:`convert`.
        columns: For binary formats, the columns to read, as in :func:`convert`.
        sheet: For a workbook, the sheet to read, as in :func:`convert`.
        include_file_name: A column naming each row's source, as in :func:`convert`.
        storage_options: Settings for URLs, as in :func:`convert`.

    Returns:
        A :class:`Stream`.

    Example:
        >>> import logflow
        >>> for batch in logflow.read("tests/data/csv/sample.csv"):
        ...     print(batch.num_columns)
        6
    """
    native_src = _sources.resolve(src, storage_options)
    local = native_src if isinstance(native_src, str) else None
    if local is not None and _is_orc(local, format):
        return Stream(
            _native.read_stream(
                _orc.open_orc(local, _columns(columns), batch_size),
                format="orc",
                schema=_schema_pairs(schema),
                error_policy=error_policy,
                on_cast_error=on_cast_error,
                batch_size=batch_size,
            )
        )
    opts = _reading_options(
        _first_name(native_src),
        format,
        dialect,
        delimiter=delimiter,
        quote=quote,
        escape=escape,
        header=header,
        skip_lines=skip_lines,
    )
    try:
        inner = _native.read(
            native_src,
            format=format,
            **opts,
            batch_size=batch_size,
            error_policy=error_policy,
            on_cast_error=on_cast_error,
            encoding=encoding,
            schema=_schema_pairs(schema),
            infer_types=infer_types,
            empty_as_null=empty_as_null,
            records_path=records_path,
            flatten=flatten,
            max_expansion=max_expansion,
            max_decompressed_size=max_decompressed_size,
            threads=threads,
            record_path=record_path,
            tables=tables,
            columns=_columns(columns),
            sheet=sheet,
            file_name_column=_file_name_column(include_file_name),
        )
    except DecodeError as e:
        if local is None:
            raise
        fallback = _pyarrow_parquet(e, local, _columns(columns), batch_size)
        if fallback is None:
            raise
        inner = _native.read_stream(
            fallback,
            format="parquet",
            schema=_schema_pairs(schema),
            error_policy=error_policy,
            on_cast_error=on_cast_error,
            batch_size=batch_size,
        )
    return Stream(inner)


def write(
    data: object,
    dst: str | os.PathLike[str],
    *,
    compression: Compression = "zstd",
    compression_level: int | None = None,
    row_group_size: int | None = None,
    threads: int | None = None,
    progress: ProgressCallback | None = None,
    max_rows_per_file: int | None = None,
    target_file_size: int | str | None = None,
    partition_by: list[str] | str | None = None,
    verify: bool = False,
) -> ConvertResult:
    """Write Arrow data to a Parquet file or dataset with logflow's writer.

    ``data`` is anything that exports an Arrow stream through the PyCapsule interface
    (``__arrow_c_stream__``): a :class:`pyarrow.Table` or ``RecordBatchReader``, a Polars
    ``DataFrame``, a DuckDB result, a :class:`Stream` from :func:`read`. Batches are taken
    one at a time, so a reader larger than memory is written in bounded memory. The files,
    their encodings, the atomic commit and the dataset options are those of :func:`convert`.

    Args:
        data: The rows.
        dst: Output Parquet file; a directory with ``max_rows_per_file``,
            ``target_file_size`` or ``partition_by``.
        compression: Parquet codec, as in :func:`convert`.
        compression_level: Codec level, as in :func:`convert`.
        row_group_size: Most rows per row group (default 524,288).
        threads: Threads encoding columns (default: one per core).
        progress: Called about every 100 ms with ``(0, 0, rows_read)``.
        max_rows_per_file: As in :func:`convert`.
        target_file_size: As in :func:`convert`.
        partition_by: As in :func:`convert`.
        verify: Checksum the rows as they are handed over and as written, and read the
            output back before it is put in place (as in :func:`convert`); otherwise the
            result's checksums are ``None``.

    Returns:
        The counts (``rows_read == rows_written``), the files written and the schema.

    Raises:
        TypeError: ``data`` does not export an Arrow stream.
        logflow.errors.ConfigError: An option is invalid, or ``dst`` holds files that are
            not a logflow dataset.

    Example:
        >>> import logflow, pyarrow as pa
        >>> r = logflow.write(pa.table({"a": [1, 2]}), "/tmp/a.parquet")
        >>> r.rows_written
        2
    """
    stats = _native.write(
        data,
        os.fspath(dst),
        compression=compression,
        compression_level=compression_level,
        row_group_size=row_group_size,
        threads=threads,
        progress=progress,
        max_rows_per_file=max_rows_per_file,
        target_file_size=target_file_size,
        partition_by=_partition_columns(partition_by),
        verify=verify,
    )
    return ConvertResult._from_native(stats)
