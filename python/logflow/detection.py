"""What a file is.

:func:`detect` reports compression, encoding, format, CSV dialect and columns, each with a
confidence and the evidence behind it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from logflow import _native, _sources

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["Detection", "Dialect", "Finding", "XesAttribute", "XesLog", "detect"]


@dataclass(frozen=True)
class Finding:
    """One detected property."""

    value: str
    """What was found, e.g. ``"csv"``, ``"utf-8"``, ``"gzip"`` or ``"none"``."""
    confidence: float
    """From 0 (a guess) to 1 (certain)."""
    evidence: str
    """Why, in words."""


@dataclass(frozen=True)
class Dialect:
    """How a delimited text file is written."""

    delimiter: str
    """Field delimiter."""
    quote: str | None
    """Quote character, or ``None`` when fields are not quoted."""
    escape: str | None
    """Escape character inside quotes, or ``None`` when quotes are doubled."""
    skip_initial_space: bool
    """Whether the spaces after a delimiter are padding, not data (``a, "b, c", d``)."""
    terminator: str
    """Line terminator: ``"\\n"``, ``"\\r\\n"`` or ``"\\r"``."""
    header: bool
    """Whether the first record of the table names the columns."""
    skip_lines: int
    """Lines before the table (titles, comments)."""
    ragged: bool
    """Whether records have different numbers of fields."""
    confidence: float
    """From 0 to 1."""
    evidence: str
    """Why, in words."""


@dataclass(frozen=True)
class XesAttribute:
    """An attribute an XES log declares (its own, or a global default)."""

    key: str
    """Its key, e.g. ``"concept:name"``."""
    type: str
    """``string``, ``date``, ``int``, ``float``, ``boolean``, ``id``, ``list`` or
    ``container``."""
    value: str | None
    """Its value as written (``None`` for lists and containers)."""


@dataclass(frozen=True)
class XesLog:
    """What an XES event log declares before its traces."""

    version: str | None
    """``xes.version``, e.g. ``"1849-2016"``."""
    features: str | None
    """``xes.features``, e.g. ``"nested-attributes"``."""
    extensions: tuple[dict[str, str], ...]
    """Each extension's ``name``, ``prefix`` and ``uri``."""
    classifiers: tuple[dict[str, str | None], ...]
    """Each classifier's ``name``, ``keys`` (space separated) and ``scope``."""
    globals: dict[str, tuple[XesAttribute, ...]]
    """Global attributes (their defaults) by scope: ``"trace"``, ``"event"``."""
    attributes: tuple[XesAttribute, ...]
    """The log's own attributes."""


def _xes_attribute(d: dict[str, Any]) -> XesAttribute:
    return XesAttribute(key=d["key"], type=d["type"], value=d["value"])


def _xes_log(d: dict[str, Any]) -> XesLog:
    return XesLog(
        version=d["version"],
        features=d["features"],
        extensions=tuple(dict(e) for e in d["extensions"]),
        classifiers=tuple(dict(c) for c in d["classifiers"]),
        globals={k: tuple(_xes_attribute(a) for a in v) for k, v in d["globals"].items()},
        attributes=tuple(_xes_attribute(a) for a in d["attributes"]),
    )


@dataclass(frozen=True)
class Detection:
    """The result of :func:`detect`."""

    path: str
    """The file examined (of many, the first; of a zip archive, ``archive.zip/member``)."""
    compression: Finding
    """``none``, ``gzip``, ``zstd``, ``bzip2``, ``xz`` or ``zip``."""
    encoding: Finding
    """``utf-8``, ``utf-8-sig``, ``utf-16-le``, ..., or a legacy encoding's name."""
    format: Finding
    """``csv``, ``json``, ``jsonl``, ``xml``, ``xes``, ``parquet``, ``avro``, ``orc``,
    ``arrow``, ``xlsx``, ``xls``, a log format, ``empty`` or ``binary``."""
    dialect: Dialect | None
    """For delimited text, how it is written."""
    schema: pa.Schema | None
    """For delimited text, JSON, XML and XES, the columns and types
    :func:`logflow.convert` will produce (for JSON and XML, from the first 4 MiB; later
    fields widen it under the default ``schema_policy``; for XES, the event table)."""
    null_tokens: tuple[tuple[str, ...], ...]
    """Per column of ``schema``, the words read as null besides the empty field."""
    date_formats: dict[str, str] = field(default_factory=dict)
    """For date, timestamp and time columns, how their values are written, in ``strftime``
    notation as the sample shows them: ``{"day": "%d/%m/%Y", "ts": "%Y-%m-%dT%H:%M:%S%z",
    "at": "%I:%M %p"}`` (epoch columns: ``"%s"`` or ``"epoch milliseconds"``). A column whose
    dates read both day-first and month-first (every day up to 12) is left as text."""
    decimal_comma: tuple[str, ...] = ()
    """The float64 columns whose numbers are written with a decimal comma (``1.234,56``),
    which is considered where the delimiter is not a comma."""
    records_path: str | None = None
    """For a JSON document, where its records are, as a JSON pointer: ``""`` for a
    top-level array, ``"/items"`` for ``{"items": [...]}``; ``None`` for JSON Lines and for
    values one after another (the format's evidence says which). For XML, the element path
    of the records (``"/catalog/book"``); for XES, ``"/log/trace"``."""
    xes: XesLog | None = None
    """For an XES event log, its extensions, classifiers, global and log attributes."""


def _schema(raw: dict[str, Any]) -> pa.Schema | None:
    """The schema the native module found, or ORC's from pyarrow (which reads ORC)."""
    import pyarrow as pa

    if raw["schema"] is not None:
        return pa.schema(raw["schema"])
    if raw["format"]["value"] == "orc":
        import pyarrow.orc as orc

        try:
            return orc.ORCFile(raw["path"]).schema
        except (pa.ArrowException, OSError):
            return None
    return None


def _finding(d: dict[str, Any]) -> Finding:
    return Finding(value=str(d["value"]), confidence=float(d["confidence"]), evidence=d["evidence"])


def detect(
    src: _sources.SourceLike,
    *,
    infer_types: bool = True,
    storage_options: Mapping[str, Any] | None = None,
) -> Detection:
    """Detect what a file is, from a 64 KiB sample (plus the first chunk for the columns).

    Args:
        src: Anything :func:`logflow.convert` reads: a path, a URL (``s3://``, ``gs://``,
            ``az://``, ``http(s)://``, ``file://``), ``bytes``, a binary file-like or an
            iterator of ``bytes``. Of many sources (a directory, a glob, a zip archive), the
            first one is examined; :attr:`Detection.path` names it. Only the head of the
            input is read.
        infer_types: ``False`` reports the columns of text mode (every column text), as
            :func:`logflow.convert` with ``infer_types=False`` writes them.
        storage_options: Settings for URLs, as in :func:`logflow.convert`.

    Returns:
        A :class:`Detection`.

    Raises:
        logflow.errors.InputNotFoundError: ``src`` does not exist.
        logflow.errors.NotAFileError: ``src`` is a directory.

    Example:
        >>> import logflow
        >>> d = logflow.detect("tests/data/csv/sample.csv")
        >>> d.format.value, d.dialect.delimiter, d.dialect.header
        ('csv', ',', True)
    """
    native_src = _sources.resolve(src, storage_options)
    if isinstance(native_src, list):
        native_src = native_src[:1]
    raw = _native.detect(native_src, infer_types=infer_types)
    dialect = None
    if raw["dialect"] is not None:
        d = raw["dialect"]
        dialect = Dialect(
            delimiter=d["delimiter"],
            quote=d["quote"],
            escape=d["escape"],
            skip_initial_space=d["skip_initial_space"],
            terminator=d["terminator"],
            header=d["header"],
            skip_lines=d["skip_lines"],
            ragged=d["ragged"],
            confidence=float(d["confidence"]),
            evidence=d["evidence"],
        )
    return Detection(
        path=raw["path"],
        compression=_finding(raw["compression"]),
        encoding=_finding(raw["encoding"]),
        format=_finding(raw["format"]),
        dialect=dialect,
        schema=_schema(raw),
        null_tokens=tuple(tuple(t) for t in raw["null_tokens"]),
        date_formats=dict(raw["date_formats"]),
        decimal_comma=tuple(raw["decimal_comma"]),
        records_path=raw["records_path"],
        xes=_xes_log(raw["xes"]) if raw.get("xes") is not None else None,
    )
