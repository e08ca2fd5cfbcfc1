"""What is in a file: :func:`profile` and the :class:`QualityReport` it returns.

The profile is computed in Rust while the rows are decoded, on the decode threads, in the
same pass as a conversion (``convert(..., profile=True)`` puts it in
:attr:`~logflow.ConvertResult.quality`). Per column: null and distinct counts (distinct
values are estimated with a HyperLogLog++ sketch, within about 1% below a few thousand
values and typically 0.6% beyond), min and max, mean and standard deviation of numbers,
length range, most frequent values and Shannon entropy of text. Reports of several files
merge (:meth:`QualityReport.merge`) into the report of all of them.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from logflow import _native

if TYPE_CHECKING:
    from logflow.detection import Dialect
    from logflow.io import CastErrorPolicy, Format, ProgressCallback, SchemaLike, SchemaPolicy
    from logflow.rules import RulesLike

__all__ = ["ColumnProfile", "QualityReport", "profile"]

_EPOCH = datetime.datetime(1970, 1, 1)
_PER_MICRO = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": 1}


def _scalar(v: tuple[Any, ...] | None) -> object:
    """A min or max from the native ``(kind, value, ...)`` tuple."""
    if v is None:
        return None
    kind, value = v[0], v[1]
    try:
        if kind == "decimal":
            return decimal.Decimal(value)
        if kind == "date":
            return datetime.date(1970, 1, 1) + datetime.timedelta(days=value)
        if kind == "timestamp":
            unit, tz = v[2], v[3]
            micros = value // 1000 if unit == "ns" else value * _PER_MICRO[unit]
            ts = _EPOCH + datetime.timedelta(microseconds=micros)
            return ts.replace(tzinfo=datetime.UTC) if tz else ts
        if kind == "time":
            micros = value // 1000 if v[2] == "ns" else value
            base = datetime.datetime.combine(datetime.date(2000, 1, 1), datetime.time())
            return (base + datetime.timedelta(microseconds=micros)).time()
    except (OverflowError, ValueError):
        return value
    return value


def _jsonable(v: object) -> object:
    if isinstance(v, datetime.date | datetime.time):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


@dataclass(frozen=True)
class ColumnProfile:
    """The profile of one column.

    Example:
        >>> report = logflow.profile("tests/data/csv/sample.csv")  # doctest: +SKIP
        >>> c = report.columns["amount"]  # doctest: +SKIP
        >>> c.nulls, c.distinct, c.min, c.max  # doctest: +SKIP
        (2, 4, 15.0, 1200.0)
    """

    name: str
    """The column's name."""
    type: str
    """Its Arrow type, as Arrow prints it (``Int64``, ``Utf8``, ``Timestamp(µs)``, ...)."""
    rows: int
    """Rows profiled."""
    nulls: int
    """Rows without a value."""
    distinct: int
    """Distinct non-null values: exact up to 8,192, beyond that a HyperLogLog++ estimate
    (0.6% standard error, within 2% on columns of 10^2 to 10^7 values)."""
    conformed: int
    """Values that conform to the column's type (the non-null values: a value that does
    not parse as the type is a rejected row, or a null with ``on_cast_error="null"``)."""
    invalid: int
    """Values that did not parse as the column's type (their rows rejected as
    ``cast_error`` naming this column)."""
    min: object = None
    """The smallest value (text: its first 256 bytes), as a Python value."""
    max: object = None
    """The largest value."""
    mean: float | None = None
    """The mean of a numeric column (booleans: the share of ``True``)."""
    stddev: float | None = None
    """The population standard deviation of a numeric column."""
    min_length: int | None = None
    """Text: the fewest characters in a value."""
    max_length: int | None = None
    """Text: the most characters in a value."""
    entropy: float | None = None
    """Text: Shannon entropy of the values, in bits, from the frequent values' counts and
    the distinct count (the values not counted share the rest of the mass evenly); exact
    when the column has at most 128 distinct values."""
    top: tuple[tuple[str, int], ...] | None = None
    """Text: the most frequent values (up to 10) with their counts, largest first."""
    top_error: int = 0
    """How much any count in :attr:`top` may fall short of the true count (0: exact)."""

    @property
    def null_fraction(self) -> float:
        """Share of rows without a value."""
        return self.nulls / self.rows if self.rows else 0.0

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> ColumnProfile:
        values = dict(d)
        values["min"] = _scalar(values["min"])
        values["max"] = _scalar(values["max"])
        top = values.get("top")
        values["top"] = None if top is None else tuple((str(v), int(n)) for v, n in top)
        return cls(**values)

    def to_dict(self) -> dict[str, object]:
        """The profile as JSON-ready values (dates, times and decimals as ISO text)."""
        return {
            "name": self.name,
            "type": self.type,
            "rows": self.rows,
            "nulls": self.nulls,
            "distinct": self.distinct,
            "conformed": self.conformed,
            "invalid": self.invalid,
            "min": _jsonable(self.min),
            "max": _jsonable(self.max),
            "mean": _jsonable(self.mean),
            "stddev": _jsonable(self.stddev),
            "min_length": self.min_length,
            "max_length": self.max_length,
            "entropy": self.entropy,
            "top": None if self.top is None else [list(t) for t in self.top],
            "top_error": self.top_error,
        }


@dataclass(frozen=True)
class QualityReport:
    """What a file holds: counts by outcome and a :class:`ColumnProfile` per column.

    ``str(report)`` renders a table; :meth:`to_json` serialises it (with ``state=True``,
    along with the sketches, so that :meth:`from_json` and :meth:`merge` work on it later).

    Example:
        >>> import logflow
        >>> report = logflow.profile("tests/data/csv/sample.csv")
        >>> report.columns["activity"].distinct
        8
        >>> report.rows_read
        12
    """

    columns: Mapping[str, ColumnProfile]
    """The columns by name, in the order they first appeared."""
    rows: int
    """Rows profiled: the rows decoded (before validation rules took any out)."""
    rows_read: int = 0
    """Records read."""
    rows_written: int = 0
    """Rows kept (for :func:`profile`: the rows a conversion would write)."""
    rows_quarantined: int = 0
    """Rows set aside by ``error_policy="quarantine"``."""
    rows_skipped: int = 0
    """Rows dropped (bad rows under ``"permissive"``, repeated headers)."""
    errors_by_reason: Mapping[str, int] = field(default_factory=dict)
    """Bad rows by reason (validation rules count under their names)."""
    checksum: str | None = None
    """The checksum of the rows kept (see :attr:`logflow.ConvertResult.checksum_in`)."""
    source: str | None = None
    """The file profiled (``None`` for a merged report)."""
    _state: bytes = field(default=b"", repr=False, compare=False)

    @classmethod
    def _from_native(
        cls, quality: Mapping[str, Any], stats: Mapping[str, Any], source: str | None
    ) -> QualityReport:
        columns = {c["name"]: ColumnProfile._from_native(c) for c in quality["columns"]}
        return cls(
            columns=columns,
            rows=int(quality["rows"]),
            rows_read=int(stats.get("rows_read", 0)),
            rows_written=int(stats.get("rows_written", 0)),
            rows_quarantined=int(stats.get("rows_quarantined", 0)),
            rows_skipped=int(stats.get("rows_skipped", 0)),
            errors_by_reason=dict(stats.get("errors_by_reason", {})),
            checksum=stats.get("checksum_in"),
            source=source,
            _state=bytes(quality.get("state", b"")),
        )

    def merge(self, *others: QualityReport) -> QualityReport:
        """The report of this file's rows and those of ``others`` together.

        Counts add, sketches merge (distinct counts stay estimates of the union, not sums),
        and checksums add up, so the merged checksum is that of all rows.

        Example:
            >>> a = logflow.profile("jan.csv")  # doctest: +SKIP
            >>> both = a.merge(logflow.profile("feb.csv"))  # doctest: +SKIP
        """
        reports = (self, *others)
        if not all(r._state for r in reports):
            raise ValueError("a report without its sketches cannot merge (to_json(state=True))")
        merged = _native.merge_profiles([r._state for r in reports])
        reasons: dict[str, int] = {}
        for r in reports:
            for k, v in r.errors_by_reason.items():
                reasons[k] = reasons.get(k, 0) + v
        checksum: str | None = None
        if all(r.checksum is not None for r in reports):
            total = sum(int(r.checksum, 16) for r in reports if r.checksum is not None)
            checksum = f"{total % (1 << 64):016x}"
        stats = {
            "rows_read": sum(r.rows_read for r in reports),
            "rows_written": sum(r.rows_written for r in reports),
            "rows_quarantined": sum(r.rows_quarantined for r in reports),
            "rows_skipped": sum(r.rows_skipped for r in reports),
            "errors_by_reason": reasons,
            "checksum_in": checksum,
        }
        return QualityReport._from_native(merged, stats, None)

    def to_dict(self, *, state: bool = False) -> dict[str, object]:
        """The report as JSON-ready values; with ``state``, the sketches too (base64)."""
        d: dict[str, object] = {
            "source": self.source,
            "rows": self.rows,
            "rows_read": self.rows_read,
            "rows_written": self.rows_written,
            "rows_quarantined": self.rows_quarantined,
            "rows_skipped": self.rows_skipped,
            "errors_by_reason": dict(self.errors_by_reason),
            "checksum": self.checksum,
            "columns": [c.to_dict() for c in self.columns.values()],
        }
        if state:
            d["state"] = base64.b64encode(self._state).decode("ascii")
        return d

    def to_json(self, *, indent: int | None = 2, state: bool = False) -> str:
        """The report as JSON text (see :meth:`to_dict`)."""
        return json.dumps(self.to_dict(state=state), indent=indent, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> QualityReport:
        """A report from :meth:`to_json` output written with ``state=True``."""
        d = json.loads(text)
        if not d.get("state"):
            raise ValueError("this JSON has no sketches; write it with to_json(state=True)")
        quality = _native.merge_profiles([base64.b64decode(d["state"])])
        stats = {**d, "checksum_in": d.get("checksum")}
        return cls._from_native(quality, stats, d.get("source"))

    def render(self, *, width: int = 24) -> str:
        """A table for people: one line per column, cells cut to ``width`` characters."""

        def cell(v: object) -> str:
            if v is None:
                return ""
            if isinstance(v, float):
                text = f"{v:,.6g}" if abs(v) < 1e15 else f"{v:.6g}"
            elif isinstance(v, int) and not isinstance(v, bool):
                text = f"{v:,}"
            elif isinstance(v, datetime.date | datetime.time):
                text = v.isoformat()
            else:
                text = str(v)
            text = text.replace("\n", "\\n").replace("\t", "\\t")
            return text if len(text) <= width else text[: width - 1] + "…"

        head = (
            f"{self.source or 'merged'}: {self.rows_read:,} rows read, {self.rows_written:,} "
            f"kept, {self.rows_quarantined:,} quarantined, {self.rows_skipped:,} skipped"
        )
        lines = [head]
        if self.checksum:
            lines.append(f"checksum {self.checksum}")
        if self.errors_by_reason:
            lines.append(
                "bad rows by reason: "
                + ", ".join(f"{k}: {v:,}" for k, v in sorted(self.errors_by_reason.items()))
            )
        names = ["column", "type", "nulls", "distinct", "min", "max", "mean", "stddev", "len"]
        names += ["entropy", "top"]
        rows = []
        for c in self.columns.values():
            top = ""
            if c.top:
                total = c.rows - c.nulls
                shown = [f"{v} ({n / total:.0%})" if total else v for v, n in c.top[:3]]
                top = ", ".join(shown)
            lengths = "" if c.min_length is None else f"{c.min_length}-{c.max_length}"
            rows.append(
                [
                    cell(c.name),
                    cell(c.type),
                    cell(c.nulls),
                    cell(c.distinct),
                    cell(c.min),
                    cell(c.max),
                    cell(c.mean),
                    cell(c.stddev),
                    lengths,
                    "" if c.entropy is None else f"{c.entropy:.2f}",
                    top if len(top) <= 2 * width else top[: 2 * width - 1] + "…",
                ]
            )
        widths = [max([len(n), *(len(r[i]) for r in rows)]) for i, n in enumerate(names)]
        lines.append("  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip())
        lines.append("  ".join("-" * w for w in widths))
        for r in rows:
            lines.append("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


def profile(
    src: str | os.PathLike[str],
    *,
    format: Format | None = None,
    delimiter: str | None = None,
    quote: str | None = "auto",
    escape: str | None = "auto",
    header: bool | None = None,
    skip_lines: int | None = None,
    batch_size: int | None = None,
    error_policy: str = "permissive",
    on_cast_error: CastErrorPolicy = "reject",
    encoding: str | None = None,
    schema: SchemaLike | None = None,
    schema_policy: SchemaPolicy | None = None,
    infer_types: bool = True,
    empty_as_null: bool | None = None,
    records_path: str | None = None,
    flatten: bool | int = False,
    dialect: Dialect | Mapping[str, Any] | None = None,
    threads: int | None = None,
    progress: ProgressCallback | None = None,
    top_k: int | None = None,
    rules: RulesLike | None = None,
) -> QualityReport:
    """Profile a file: read it as :func:`~logflow.convert` would, write nothing.

    One pass, decoded on all cores, in bounded memory: the same pipeline as a conversion,
    with the rows counted, checked and summarised instead of written.

    Args:
        src: Input file (any format and compression :func:`~logflow.convert` reads).
        format: The input's format; ``None`` detects it.
        delimiter: Field delimiter, as in :func:`~logflow.convert`.
        quote: Quote character, as in :func:`~logflow.convert`.
        escape: Escape character, as in :func:`~logflow.convert`.
        header: Whether the first record names the columns; ``None`` detects it.
        skip_lines: Lines before the table; ``None`` detects them.
        batch_size: Most rows per decoded batch.
        error_policy: ``"permissive"`` (default) counts bad rows by reason; ``"strict"``
            raises on the first.
        on_cast_error: ``"reject"`` (default) or ``"null"``, as in :func:`~logflow.convert`.
        encoding: Text encoding; ``None`` detects it.
        schema: Types for some or all columns, as in :func:`~logflow.convert`.
        schema_policy: As in :func:`~logflow.convert`.
        infer_types: ``False`` for text mode.
        empty_as_null: Whether an empty field is null in text columns.
        records_path: For a JSON document, where the records are.
        flatten: For JSON, nested objects as ``parent.child`` columns.
        dialect: A whole dialect at once, as in :func:`~logflow.convert`.
        threads: Threads decoding (default: one per core).
        progress: Called about every 100 ms with ``(bytes_read, bytes_total, rows_read)``.
        top_k: Counters per text column for its frequent values (default 128; the report
            shows the first 10).
        rules: Validation rules (:mod:`logflow.rules`), counted under their names in
            :attr:`QualityReport.errors_by_reason`.

    Returns:
        The :class:`QualityReport`.

    Raises:
        logflow.errors.DecodeError: Under ``error_policy="strict"``, a bad record.
        logflow.errors.InputNotFoundError: ``src`` does not exist.

    Example:
        >>> import logflow
        >>> report = logflow.profile("tests/data/csv/sample.csv")
        >>> report.columns["amount"].nulls
        2
    """
    from logflow import _orc
    from logflow.errors import DecodeError
    from logflow.io import _is_orc, _pyarrow_parquet, _reading_options, _schema_pairs
    from logflow.rules import _native_rules

    src_s = os.fspath(src)
    arrow_args: dict[str, Any] = {
        "schema": _schema_pairs(schema),
        "error_policy": error_policy,
        "on_cast_error": on_cast_error,
        "threads": threads,
        "progress": progress,
        "top_k": top_k,
        "rules": _native_rules(rules),
    }
    if _is_orc(src_s, format):
        # pyarrow reads ORC (see logflow._orc); the rows then take the path convert's do.
        reader = _orc.open_orc(src_s, None, batch_size)
        stats = _native.profile_stream(reader, src_s, format="orc", **arrow_args)
        stats["bytes_read"] = _orc.size_of(src_s)
        return QualityReport._from_native(stats["quality"], stats, src_s)
    opts = _reading_options(
        src_s,
        format,
        dialect,
        delimiter=delimiter,
        quote=quote,
        escape=escape,
        header=header,
        skip_lines=skip_lines,
    )
    try:
        stats = _native.profile(
            src_s,
            format=format,
            **opts,
            batch_size=batch_size,
            encoding=encoding,
            schema_policy=schema_policy,
            infer_types=infer_types,
            empty_as_null=empty_as_null,
            records_path=records_path,
            flatten=flatten,
            **arrow_args,
        )
    except DecodeError as e:
        # A Parquet file only pyarrow reads, as convert reads it.
        fallback = _pyarrow_parquet(e, src_s, None, batch_size)
        if fallback is None:
            raise
        stats = _native.profile_stream(fallback, src_s, format="parquet", **arrow_args)
        stats["bytes_read"] = _orc.size_of(src_s)
    return QualityReport._from_native(stats["quality"], stats, src_s)
