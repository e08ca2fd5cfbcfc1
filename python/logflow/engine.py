"""The Engine: tables in an embedded catalog, idempotent ingest, time travel, sandboxed SQL.

::

    import logflow

    with logflow.Engine() as engine:                  # ./warehouse, SQLite catalog inside
        engine.ingest("events.csv", "events")
        top = engine.query("SELECT activity, count(*) AS n FROM events GROUP BY 1")
        print(top.to_arrow())

Ingest writes data files with logflow's Rust ``convert`` straight into the table's folder,
then commits them in one snapshot; the rows are never read again in Python. Queries run
in DuckDB over the files of the snapshot asked for. pyiceberg, deltalake, DuckDB and
sqlglot are imported on first use, never by ``import logflow``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import shutil
import threading
import time
import urllib.parse
import uuid
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import logflow
from logflow.catalog import load_catalog
from logflow.catalog.base import (
    DEFAULT_NAMESPACE,
    Catalog,
    PartitionField,
    ReadPlan,
    SchemaPolicy,
    Snapshot,
    StagedFile,
    Table,
    WriteMode,
    parse_name,
    parse_partition,
)
from logflow.errors import (
    CommitConflictError,
    ConfigError,
    LogflowError,
    SchemaError,
    TableNotFoundError,
)
from logflow.query.cache import LruCache, ResultCache

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow as pa

    from logflow.io import ConvertResult
    from logflow.query.duckdb import DuckDBRunner
    from logflow.query.sql import ValidatedQuery
    from logflow.storage import LocalStorage

__all__ = ["Engine", "IngestResult", "MaintenanceResult", "QueryResult"]

TableFormat = Literal["iceberg", "delta", "parquet"]
_FORMATS: tuple[str, ...] = ("iceberg", "delta", "parquet")
_HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
_GLOB_CHARS = {"*": "%2A", "?": "%3F", "[": "%5B", "]": "%5D", "{": "%7B", "}": "%7D"}
# convert's ``schema=`` type names, by Arrow type text.
_HINT_TYPES = {
    "int64": "int64",
    "double": "float64",
    "string": "string",
    "large_string": "string",
    "bool": "bool",
    "date32[day]": "date32",
    "time64[us]": "time64[us]",
    "timestamp[us]": "timestamp[us]",
    "timestamp[ns]": "timestamp[ns]",
    "timestamp[us, tz=UTC]": "timestamp[us, tz=UTC]",
}
# Reading options after which logflow.detect (which takes none) may see other columns.
_DIALECT_OPTIONS = ("delimiter", "header", "skip_lines", "dialect", "quote", "escape", "encoding")
SUMMARY_PREFIX = "logflow."


@dataclass(frozen=True)
class IngestResult:
    """What :meth:`Engine.ingest` did.

    Example:
        >>> r = engine.ingest("events.csv", "events")  # doctest: +SKIP
        >>> r.snapshot_id, r.rows_written, r.skipped  # doctest: +SKIP
        (5290114981208374520, 1000000, False)
    """

    table: str
    """``namespace.table``."""
    snapshot_id: int | None
    """The snapshot committed; for a skipped re-ingest, the one that holds that input."""
    convert: ConvertResult | None
    """What the conversion did (``None`` when skipped)."""
    skipped: bool = False
    """The same input was ingested before, so nothing was done (``force=True`` redoes it)."""
    files: tuple[str, ...] = ()
    """The data files committed."""
    fingerprint: Mapping[str, str] = field(default_factory=dict)
    """The source fingerprint recorded in the snapshot summary (path, size, mtime, sha256)."""

    @property
    def rows_written(self) -> int:
        """Rows committed (0 when skipped)."""
        return self.convert.rows_written if self.convert is not None else 0


@dataclass(frozen=True)
class MaintenanceResult:
    """What a maintenance call did."""

    tables: tuple[str, ...]
    """The tables it ran on."""
    snapshots_expired: int = 0
    """Snapshots forgotten."""
    files_removed: tuple[str, ...] = ()
    """Files deleted (orphans, or files compacted away)."""
    files_added: tuple[str, ...] = ()
    """Files written (by compaction)."""
    snapshot_ids: tuple[int, ...] = ()
    """Snapshots committed (by compaction)."""


@dataclass(frozen=True)
class QueryResult:
    """A query's result: an Arrow table, with where it came from.

    Any Arrow consumer takes it through the PyCapsule interface (``pyarrow.table(r)``,
    ``polars.DataFrame(r)``, ``duckdb.sql("from r")``).

    Example:
        >>> r = engine.query("SELECT count(*) AS n FROM events")  # doctest: +SKIP
        >>> r.to_arrow().column("n")[0].as_py()  # doctest: +SKIP
        1000000
    """

    table: pa.Table = field(repr=False)
    """The rows."""
    snapshots: Mapping[str, int | None]
    """The snapshot read of each table, by name."""
    cached: bool
    """Whether the rows came from the result cache."""
    duration_s: float
    """Wall time of the call."""

    @property
    def num_rows(self) -> int:
        """Rows in the result."""
        return int(self.table.num_rows)

    @property
    def column_names(self) -> list[str]:
        """The result's column names."""
        return list(self.table.column_names)

    def __len__(self) -> int:
        return self.num_rows

    def to_arrow(self) -> pa.Table:
        """The rows as a :class:`pyarrow.Table`."""
        return self.table

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """Export the rows through the Arrow PyCapsule interface."""
        return self.table.__arrow_c_stream__(requested_schema)

    def to_pandas(self) -> pandas.DataFrame:
        """The rows as a pandas DataFrame (needs pandas)."""
        return self.table.to_pandas()

    def to_polars(self) -> polars.DataFrame:
        """The rows as a Polars DataFrame (needs polars)."""
        import polars as pl

        frame = pl.from_arrow(self.table)
        assert isinstance(frame, pl.DataFrame)
        return frame

    def to_pylist(self) -> list[dict[str, Any]]:
        """The rows as dicts (small results)."""
        return list(self.table.to_pylist())


def _parse_hive(text: str, arrow_type: pa.DataType) -> Any:  # noqa: ANN401
    """A Hive directory value as a Python value of the column's type."""
    import pyarrow as pa

    if text == _HIVE_NULL:
        return None
    value = urllib.parse.unquote(text)
    if pa.types.is_integer(arrow_type):
        return int(value)
    if pa.types.is_floating(arrow_type):
        return float(value)
    if pa.types.is_boolean(arrow_type):
        return value.lower() == "true"
    if pa.types.is_date(arrow_type):
        return date.fromisoformat(value)
    if pa.types.is_timestamp(arrow_type):
        parsed = datetime.fromisoformat(value.replace(" ", "T"))
        if arrow_type.tz is None:
            return parsed.replace(tzinfo=None)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if pa.types.is_decimal(arrow_type):
        return Decimal(value)
    return value


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


class _Hasher(threading.Thread):
    """sha256 of a file on a thread (hashlib releases the GIL), beside the conversion."""

    def __init__(self, path: str) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.digest: str | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        # Let the conversion have the cores: on Linux a thread has its own nice value, so
        # the hash fills idle time and finishes on its own once the writer is done.
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        try:
            self.digest = _sha256(self.path)
        except BaseException as e:  # reported by result()
            self.error = e

    def result(self) -> str:
        self.join()
        if self.error is not None:
            raise self.error
        assert self.digest is not None
        return self.digest


def _lineage(table: Table) -> list[Snapshot]:
    """The current snapshot and its ancestors, newest first."""
    by_id = {s.snapshot_id: s for s in table.snapshots()}
    out = []
    cur = table.current_snapshot()
    while cur is not None:
        out.append(cur)
        cur = by_id.get(cur.parent_id) if cur.parent_id is not None else None
    return out


def _ingests_since_overwrite(table: Table) -> list[Snapshot]:
    """Ingest snapshots of the current data: back to (and with) the last overwrite."""
    out = []
    for snap in _lineage(table):
        if snap.summary.get(SUMMARY_PREFIX + "operation") != "ingest":
            continue
        out.append(snap)
        if snap.summary.get(SUMMARY_PREFIX + "mode") == "overwrite":
            break
    return out


class Engine:
    """Tables in a warehouse folder, ingested by logflow and queried with DuckDB.

    Args:
        warehouse: Folder for the tables (and the default SQLite catalog file). Default:
            ``$LOGFLOW_WAREHOUSE`` or ``./warehouse``.
        catalog: Where Iceberg tables are registered: ``None`` for SQLite inside the
            warehouse; a SQLAlchemy URI (``"postgresql://user@host/db"``,
            ``"sqlite:///path.db"``); a :class:`~logflow.catalog.Catalog`; or any pyiceberg
            catalog object.
        default_namespace: Namespace of table names given without one.
        memory_limit: DuckDB memory limit for queries, e.g. ``"2GB"``.
        threads: DuckDB threads for queries.
        query_timeout: Seconds a query may run by default (``None``: no limit).
        cache_bytes: Budget of the query result cache (0 turns it off).
        storage: The :class:`~logflow.storage.ObjectStorage` maintenance lists and deletes
            files through; a :class:`~logflow.storage.LocalStorage` rooted at the
            warehouse (the default), since logflow's writer writes local files.

    Example:
        >>> import logflow, tempfile
        >>> engine = logflow.Engine(warehouse=tempfile.mkdtemp())
        >>> r = engine.ingest("tests/data/csv/sample.csv", "events")
        >>> engine.query("SELECT count(*) AS n FROM events").to_pylist()
        [{'n': 12}]
        >>> engine.close()
    """

    def __init__(
        self,
        warehouse: str | os.PathLike[str] | None = None,
        *,
        catalog: str | Catalog | object | None = None,
        default_namespace: str = DEFAULT_NAMESPACE,
        memory_limit: str | None = None,
        threads: int | None = None,
        query_timeout: float | None = None,
        cache_bytes: int = 256 << 20,
        storage: LocalStorage | None = None,
    ) -> None:
        if warehouse is None:
            warehouse = os.environ.get("LOGFLOW_WAREHOUSE", "./warehouse")
        self.warehouse = os.path.abspath(os.fspath(warehouse))
        os.makedirs(self.warehouse, exist_ok=True)
        self.default_namespace = default_namespace
        self.storage = self._local_storage(storage)
        self._catalogs: dict[str, Catalog] = {"iceberg": self._iceberg_catalog(catalog)}
        self._memory_limit = memory_limit
        self._threads = threads
        self.query_timeout = query_timeout
        self.results = ResultCache(cache_bytes)
        self._plans = LruCache(512)
        self._where: dict[str, str] = {}
        self._runner: DuckDBRunner | None = None
        self._validated: Any = None
        self._lock = threading.RLock()
        self._closed = False

    def _local_storage(self, storage: LocalStorage | None) -> LocalStorage:
        from logflow.storage import LocalStorage

        if storage is None:
            return LocalStorage(self.warehouse)
        if not isinstance(storage, LocalStorage) or str(storage.root) != os.path.realpath(
            self.warehouse
        ):
            raise ConfigError(
                "storage must be a LocalStorage rooted at the warehouse: logflow's writer "
                f"writes local files (warehouse {self.warehouse})"
            )
        return storage

    def _iceberg_catalog(self, catalog: str | Catalog | object | None) -> Catalog:
        if catalog is None:
            return load_catalog("sql", warehouse=self.warehouse)
        if isinstance(catalog, Catalog):
            return catalog
        if isinstance(catalog, str):
            return load_catalog("sql", warehouse=self.warehouse, uri=catalog)
        return load_catalog("iceberg", iceberg_catalog=catalog, warehouse=self.warehouse)

    def catalog(self, format: TableFormat = "iceberg") -> Catalog:
        """The catalog of tables of one format.

        Delta and plain-Parquet tables live in the warehouse folder, found by their logs.

        Example:
            >>> engine.catalog("delta").list_tables()  # doctest: +SKIP
            ['default.events_delta']
        """
        if format not in _FORMATS:
            raise ConfigError(f"table format must be one of {list(_FORMATS)}, got {format!r}")
        cat = self._catalogs.get(format)
        if cat is None:
            cat = load_catalog(format, warehouse=self.warehouse)
            self._catalogs[format] = cat
        return cat

    # -- context management -----------------------------------------------------------

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the query database and the catalogs' connections."""
        if self._closed:
            return
        self._closed = True
        if self._runner is not None:
            self._runner.close()
        for cat in self._catalogs.values():
            cat.close()

    # -- tables -------------------------------------------------------------------------

    def _full(self, name: str) -> str:
        ns, tbl = parse_name(name, self.default_namespace)
        return f"{ns}.{tbl}"

    def _locate(self, full: str) -> str | None:
        """The format of the table ``full``, or ``None`` when no catalog has it."""
        known = self._where.get(full)
        if known is not None:
            return known
        for fmt in _FORMATS:
            if fmt != "iceberg" and not self._format_in_use(fmt):
                continue
            if self.catalog(fmt).table_exists(full):  # type: ignore[arg-type]
                self._where[full] = fmt
                return fmt
        return None

    def _format_in_use(self, fmt: str) -> bool:
        if fmt in self._catalogs:
            return True
        from logflow.catalog.delta import DeltaCatalog
        from logflow.catalog.parquet import ParquetCatalog

        cls = DeltaCatalog if fmt == "delta" else ParquetCatalog
        return cls.any_tables(self.warehouse)

    def table(self, name: str) -> Table:
        """The table's current state, whatever its format.

        Raises:
            logflow.errors.TableNotFoundError: No such table.

        Example:
            >>> engine.table("events").snapshots()  # doctest: +SKIP
        """
        full = self._full(name)
        fmt = self._locate(full)
        if fmt is None:
            raise TableNotFoundError(f"no table {full}")
        try:
            return self.catalog(fmt).load_table(full)  # type: ignore[arg-type]
        except TableNotFoundError:
            self._where.pop(full, None)
            raise

    def tables(self, namespace: str | None = None) -> list[str]:
        """Every table's ``namespace.table`` name, over all formats, sorted.

        Example:
            >>> engine.tables()  # doctest: +SKIP
            ['analytics.events', 'default.events']
        """
        names: set[str] = set()
        for fmt in _FORMATS:
            if fmt != "iceberg" and not self._format_in_use(fmt):
                continue
            from logflow.errors import NamespaceNotFoundError

            try:
                names.update(self.catalog(fmt).list_tables(namespace))  # type: ignore[arg-type]
            except NamespaceNotFoundError:
                continue
        return sorted(names)

    def drop_table(self, name: str) -> None:
        """Drop a table and delete its files.

        Raises:
            logflow.errors.TableNotFoundError: No such table.
        """
        table = self.table(name)
        self.catalog(table.format).drop_table(table.name)  # type: ignore[arg-type]
        self._invalidate(table.name)
        self._where.pop(table.name, None)

    def _invalidate(self, full: str) -> None:
        self.results.invalidate(full)
        self._plans.drop(lambda k: isinstance(k, tuple) and k[0] == full)
        if self._runner is not None:
            self._runner.drop_views(full)
        if self._validated is not None:
            self._validated.clear()

    # -- ingest -------------------------------------------------------------------------

    def ingest(
        self,
        src: str | os.PathLike[str],
        table: str,
        *,
        mode: WriteMode = "append",
        partition_by: Sequence[str] | str | None = None,
        schema_policy: SchemaPolicy = "evolve",
        error_policy: str = "strict",
        table_format: TableFormat | None = None,
        force: bool = False,
        **convert_options: Any,  # noqa: ANN401 - passed to logflow.convert as given
    ) -> IngestResult:
        """Convert ``src`` into a table and commit it as one snapshot.

        logflow's Rust writer puts the Parquet files straight into the table's folder
        (a new subfolder per ingest); the commit then registers them from their footers.
        Until the commit, no reader sees them: an error, Ctrl-C or kill -9 leaves the
        table at its previous snapshot, and :meth:`remove_orphans` deletes what was left.

        The source's size, modification time and sha256 go into the snapshot summary.
        Ingesting content that is already in the table (since its last overwrite) does
        nothing and returns the snapshot that holds it, unless ``force=True``.

        Args:
            src: The input file (any input :func:`logflow.convert` reads).
            table: ``namespace.table`` or ``table``; created if missing.
            mode: ``"append"`` adds rows; ``"overwrite"`` replaces every row.
            partition_by: For a new table: column names (identity) or Iceberg transforms
                ``year(c)``, ``month(c)``, ``day(c)``, ``hour(c)``, ``bucket(N, c)``,
                ``truncate(W, c)``. An existing table keeps its partitioning; giving a
                different one is an error.
            schema_policy: ``"evolve"`` (default) adds new columns and widens types as a
                schema change in the same commit; ``"merge"`` accepts fewer or narrower
                columns but changes nothing; ``"strict"`` needs the table's exact columns.
                This is the table's policy; the input is decoded with its format's own
                default (see :func:`logflow.convert`).
            error_policy: Passed to :func:`logflow.convert`. Quarantined rows are moved
                to ``<warehouse>/_quarantine/<table>/<ingest id>/``.
            table_format: Format of a new table: ``"iceberg"`` (default), ``"delta"`` or
                ``"parquet"`` (plain Hive-partitioned Parquet with a snapshot log).
            force: Ingest even if this input was ingested before.
            **convert_options: Passed to :func:`logflow.convert` as they are (e.g.
                ``delimiter=``, ``schema=``, ``target_file_size=``, and ``format=`` for
                the input format where convert has it).

        Returns:
            An :class:`IngestResult` with the :class:`~logflow.ConvertResult` and the
            snapshot id.

        Raises:
            logflow.errors.SchemaError: The input does not fit the table under the policy.
            logflow.errors.ConfigError: Bad options (partitioning that differs, ...).
            logflow.errors.CommitConflictError: Another writer kept winning the commit.
            Any error of :func:`logflow.convert`, with nothing committed.

        Example:
            >>> r = engine.ingest("events.csv", "events", partition_by=["date"])  # doctest: +SKIP
            >>> r.snapshot_id, r.rows_written  # doctest: +SKIP
        """
        if mode not in ("append", "overwrite"):
            raise ConfigError(f"mode must be 'append' or 'overwrite', got {mode!r}")
        if schema_policy not in ("strict", "merge", "evolve"):
            raise ConfigError(
                f"schema_policy must be 'strict', 'merge' or 'evolve', got {schema_policy!r}"
            )
        src_s = os.fspath(src)
        full = self._full(table)
        existing: Table | None = None
        fmt = self._locate(full)
        if fmt is not None:
            try:
                existing = self.catalog(fmt).load_table(full)  # type: ignore[arg-type]
            except TableNotFoundError:  # dropped by another process since we looked
                self._where.pop(full, None)
                fmt = None
        if existing is not None and fmt is not None:
            if table_format is not None and table_format != fmt:
                raise ConfigError(f"table {full} is a {fmt} table, not {table_format}")
        else:
            fmt = table_format or "iceberg"
            if fmt not in _FORMATS:
                raise ConfigError(f"table_format must be one of {list(_FORMATS)}, got {fmt!r}")
        fields = self._partitioning(full, fmt, existing, partition_by)

        fingerprint: dict[str, str] = {}
        hasher: _Hasher | None = None
        if os.path.isfile(src_s):
            st = os.stat(src_s)
            fingerprint = {
                "source.path": os.path.abspath(src_s),
                "source.size": str(st.st_size),
                "source.mtime-ns": str(st.st_mtime_ns),
            }
            if existing is not None and not force:
                done = self._already_ingested(existing, mode, size=st.st_size, mtime=st.st_mtime_ns)
                if done is not None:
                    fingerprint["source.sha256"] = done[1]
                    return IngestResult(full, done[0].snapshot_id, None, True, (), fingerprint)
            hasher = _Hasher(src_s)
            hasher.start()

        if existing is not None:
            location = existing.location
        else:
            location = self.catalog(fmt).default_location(full)  # type: ignore[arg-type]
        ingest_id = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:12]
        data_dir = os.path.join(location, "data", ingest_id)
        stage_dir = os.path.join(location, "data", f"_stage-{ingest_id}")
        opts = dict(convert_options)
        opts["error_policy"] = error_policy
        if existing is not None:
            hints = self._type_hints(src_s, existing, opts)
            if hints:
                given = opts.get("schema") or {}
                if not isinstance(given, Mapping):  # a pyarrow.Schema
                    given = {f.name: f.type for f in given}
                opts["schema"] = {**hints, **given}
        try:
            result, staged = self._write_files(src_s, data_dir, stage_dir, fields, opts)
            result = self._keep_quarantine(result, full, ingest_id)
            if hasher is not None:
                digest = hasher.result()
                hasher = None
                fingerprint["source.sha256"] = digest
                if existing is not None and not force:
                    done = self._already_ingested(existing, mode, sha256=digest)
                    if done is not None:
                        shutil.rmtree(data_dir, ignore_errors=True)
                        return IngestResult(full, done[0].snapshot_id, None, True, (), fingerprint)
            summary = {SUMMARY_PREFIX + k: v for k, v in fingerprint.items()}
            summary.update(
                {
                    SUMMARY_PREFIX + "operation": "ingest",
                    SUMMARY_PREFIX + "mode": mode,
                    SUMMARY_PREFIX + "ingest-id": ingest_id,
                    SUMMARY_PREFIX + "rows": str(result.rows_written),
                    SUMMARY_PREFIX + "version": logflow.__version__,
                }
            )
            snap = self._commit(
                full, fmt, existing, staged, result.schema, fields, mode, schema_policy, summary
            )
        except BaseException:
            if hasher is not None:
                hasher.join()
            shutil.rmtree(data_dir, ignore_errors=True)
            raise
        finally:
            shutil.rmtree(stage_dir, ignore_errors=True)
        self._where[full] = fmt
        self._invalidate(full)
        return IngestResult(
            full, snap.snapshot_id, result, False, tuple(f.path for f in staged), fingerprint
        )

    def ingest_to_table(
        self,
        src: str | os.PathLike[str],
        table: str,
        **options: Any,  # noqa: ANN401
    ) -> IngestResult:
        """The same as :meth:`ingest` (the name the original API used).

        Example:
            >>> engine.ingest_to_table("ev.csv", "ev", partition_by=["date"])  # doctest: +SKIP
        """
        return self.ingest(src, table, **options)

    def _partitioning(
        self,
        full: str,
        fmt: str,
        existing: Table | None,
        partition_by: Sequence[str] | str | None,
    ) -> tuple[PartitionField, ...]:
        given: tuple[PartitionField, ...] | None = None
        if partition_by is not None:
            specs = [partition_by] if isinstance(partition_by, str) else list(partition_by)
            given = tuple(parse_partition(p) for p in specs)
        if existing is not None:
            current = existing.partitioning
            if given is not None and [(f.source, f.transform) for f in given] != [
                (f.source, f.transform) for f in current
            ]:
                raise ConfigError(
                    f"table {full} is partitioned by "
                    f"{[_spec_text(f) for f in current] or 'nothing'}; "
                    f"partition_by={[_spec_text(f) for f in given]} differs"
                )
            return current
        fields = given or ()
        if fmt != "iceberg" and any(f.transform != "identity" for f in fields):
            raise ConfigError(
                f"{fmt} tables partition by column values only; transforms such as "
                f"{_spec_text(next(f for f in fields if f.transform != 'identity'))} need "
                "an Iceberg table"
            )
        return fields

    def _already_ingested(
        self,
        table: Table,
        mode: WriteMode,
        *,
        size: int | None = None,
        mtime: int | None = None,
        sha256: str | None = None,
    ) -> tuple[Snapshot, str] | None:
        """The snapshot holding this input's content, if the current data has it."""
        ingests = _ingests_since_overwrite(table)
        if mode == "overwrite":
            last = ingests[0] if ingests else None
            ingests = (
                [last]
                if last is not None
                and len(ingests) == 1
                and last.summary.get(SUMMARY_PREFIX + "mode") == "overwrite"
                else []
            )
        for snap in ingests:
            s = snap.summary
            recorded = s.get(SUMMARY_PREFIX + "source.sha256")
            if recorded is None:
                continue
            if sha256 is not None:
                if recorded == sha256:
                    return snap, recorded
            elif s.get(SUMMARY_PREFIX + "source.size") == str(size) and s.get(
                SUMMARY_PREFIX + "source.mtime-ns"
            ) == str(mtime):
                path = s.get(SUMMARY_PREFIX + "source.path")
                if path and os.path.isfile(path) and _sha256(path) == recorded:
                    return snap, recorded
        return None

    def _type_hints(self, src: str, table: Table, opts: Mapping[str, Any]) -> dict[str, str]:
        """Column types for ``convert`` so the files come out in the table's types."""
        if any(opts.get(k) is not None for k in _DIALECT_OPTIONS) or opts.get("format"):
            return {}
        try:
            detected = logflow.detect(src)
        except LogflowError:
            return {}
        if detected.schema is None:
            return {}
        types = {f.name: f.type for f in table.schema}
        resolve = getattr(table, "_resolve", None)
        aliases: dict[str, str] = resolve() if resolve is not None else {}
        hints = {}
        for f in detected.schema:
            target = types.get(aliases.get(f.name, f.name))
            if target is None:
                continue
            name = _HINT_TYPES.get(str(target))
            if name is None and str(target).startswith("decimal128("):
                name = str(target)
            if name is not None:
                hints[f.name] = name
        return hints

    def _write_files(
        self,
        src: str,
        data_dir: str,
        stage_dir: str,
        fields: Sequence[PartitionField],
        opts: dict[str, Any],
    ) -> tuple[ConvertResult, list[StagedFile]]:
        identity = all(f.transform == "identity" for f in fields)
        os.makedirs(os.path.dirname(data_dir), exist_ok=True)
        if identity:
            cols = [f.source for f in fields]
            multi = bool(cols) or any(
                opts.get(k) is not None for k in ("max_rows_per_file", "target_file_size")
            )
            if multi:
                result = logflow.convert(src, data_dir, partition_by=cols or None, **opts)
            else:
                os.makedirs(data_dir, exist_ok=True)
                result = logflow.convert(src, os.path.join(data_dir, "part-00000.parquet"), **opts)
            types = {f.name: f.type for f in result.schema}
            staged = []
            for path in result.files:
                values: dict[str, Any] = {}
                rel = os.path.relpath(os.path.dirname(path), data_dir)
                for part in [] if rel == "." else rel.split(os.sep):
                    key, _, text = part.partition("=")
                    if key in types:
                        values[key] = _parse_hive(text, types[key])
                for f in fields:
                    if f.source not in values:
                        raise SchemaError(f"{path}: no partition value for {f.source!r}")
                staged.append(
                    StagedFile(_glob_safe(path), {f.name: values[f.source] for f in fields})
                )
            return result, staged
        from logflow.query.split import split_by_transforms

        os.makedirs(stage_dir, exist_ok=True)
        result = logflow.convert(src, os.path.join(stage_dir, "part-00000.parquet"), **opts)
        staged = split_by_transforms(
            list(result.files), data_dir, fields, result.schema, threads=self._threads
        )
        return dataclasses.replace(result, files=tuple(s.path for s in staged)), staged

    def _keep_quarantine(self, result: ConvertResult, full: str, ingest_id: str) -> ConvertResult:
        paths = [p for p in (result.quarantine_path, result.errors_path) if p]
        if not paths:
            return result
        dest = Path(self.warehouse, "_quarantine", full, ingest_id)
        dest.mkdir(parents=True, exist_ok=True)
        moved = {}
        for p in paths:
            target = dest / os.path.basename(p)
            shutil.move(p, target)
            moved[p] = str(target)
        return dataclasses.replace(
            result,
            quarantine_path=moved.get(result.quarantine_path or "", result.quarantine_path),
            errors_path=moved.get(result.errors_path or "", result.errors_path),
        )

    def _commit(
        self,
        full: str,
        fmt: str,
        existing: Table | None,
        staged: list[StagedFile],
        file_schema: pa.Schema,
        fields: Sequence[PartitionField],
        mode: WriteMode,
        policy: SchemaPolicy,
        summary: dict[str, str],
    ) -> Snapshot:
        attempts = 3
        for attempt in range(attempts):
            try:
                if existing is None:
                    from logflow.errors import TableExistsError

                    try:
                        created = self.catalog(fmt).create_table(  # type: ignore[arg-type]
                            full,
                            file_schema,
                            partition_by=[_spec_text(f) for f in fields],
                            files=staged,
                            summary=summary,
                        )
                    except TableExistsError:
                        # Another writer created it meanwhile: append to theirs.
                        existing = self.catalog(fmt).load_table(full)  # type: ignore[arg-type]
                        continue
                    snap = created.current_snapshot()
                    assert snap is not None
                    return snap
                return existing.commit_files(
                    staged,
                    file_schema=file_schema,
                    mode=mode,
                    schema_policy=policy,
                    summary=summary,
                )
            except CommitConflictError:
                if attempt == attempts - 1 or existing is None:
                    raise
                existing = existing.refresh()
        raise CommitConflictError(f"table {full}: gave up after {attempts} commit conflicts")

    # -- queries -------------------------------------------------------------------------

    def _runner_(self) -> DuckDBRunner:
        if self._runner is None:
            with self._lock:
                if self._runner is None:
                    from logflow.query.duckdb import DuckDBRunner
                    from logflow.query.sql import ValidationCache

                    self._validated = ValidationCache()
                    self._runner = DuckDBRunner(
                        [self.warehouse],
                        memory_limit=self._memory_limit,
                        threads=self._threads,
                    )
        return self._runner

    def _resolve_name(self, ns: str | None, name: str) -> str | None:
        full = f"{ns or self.default_namespace}.{name}"
        return full if self._locate(full) is not None else None

    def _snapshot_plan(
        self, full: str, as_of: int | datetime | None
    ) -> tuple[Hashable, ReadPlan, int | None]:
        fmt = self._locate(full)
        if fmt is None:
            raise TableNotFoundError(f"no table {full}")
        catalog = self.catalog(fmt)  # type: ignore[arg-type]
        token = catalog.current_version(full)
        key: tuple[Any, ...] = (full, token, as_of)
        if token is not None:
            hit = self._plans.get(key)
            if hit is not None:
                return hit  # type: ignore[no-any-return]
        table = catalog.load_table(full)
        if as_of is not None:
            table = table.as_of(as_of)
        plan = table.read_plan()
        token = token if token is not None else getattr(table, "metadata_location", None)
        view_key = (full, token, plan.snapshot_id, tuple(plan.schema.names))
        entry = (view_key, plan, plan.snapshot_id)
        if token is not None:
            self._plans.put((full, token, as_of), entry)
        return entry

    def query(
        self,
        sql: str,
        *,
        as_of: int | datetime | Mapping[str, int | datetime] | None = None,
        timeout: float | None = None,
        params: Sequence[Any] | Mapping[str, Any] | None = None,
    ) -> QueryResult:
        """Run one read-only SQL query (DuckDB dialect) over the tables.

        Args:
            sql: One ``SELECT`` / ``WITH`` / set operation naming tables as ``table`` or
                ``namespace.table``.
            as_of: Read the tables as of a snapshot id or a time; a mapping gives each
                table its own (``{"events": 123}``).
            timeout: Seconds before the query is interrupted (default: the engine's).
            params: Values for ``?`` / ``$name`` placeholders.

        Returns:
            A :class:`QueryResult`.

        Raises:
            logflow.errors.SqlNotAllowedError: Not one read-only query, a table function
                or file path, a forbidden statement or function; says which.
            logflow.errors.TableNotFoundError: An unknown table.
            logflow.errors.SnapshotNotFoundError: No such snapshot / none that old.
            logflow.errors.QueryTimeoutError: It ran past the timeout.
            logflow.errors.QueryError: DuckDB failed on it.

        Example:
            >>> r = engine.query("SELECT count(*) AS n FROM events")  # doctest: +SKIP
            >>> r.to_arrow()  # doctest: +SKIP
        """
        start = time.perf_counter()
        runner = self._runner_()
        validated = self._validate(sql)
        views: list[str] = []
        snapshots: dict[str, int | None] = {}
        read: list[Hashable] = []
        plans = []
        for full in validated.tables:
            when = (
                as_of.get(full, as_of.get(full.split(".", 1)[1]))
                if isinstance(as_of, Mapping)
                else as_of
            )
            view_key, plan, snap_id = self._snapshot_plan(full, when)
            snapshots[full] = snap_id
            read.append(view_key)
            plans.append((view_key, plan))
        key = (validated.sql, _params_key(params), tuple(read))
        hit = self.results.get(key) if self.results.max_bytes else None
        if hit is not None:
            return QueryResult(hit, snapshots, True, time.perf_counter() - start)
        for view_key, plan in plans:
            views.append(runner.view(view_key, plan))
        table = runner.run(
            validated.render(views),
            params,
            timeout=timeout if timeout is not None else self.query_timeout,
        )
        if self.results.max_bytes:
            self.results.put(key, table)
        return QueryResult(table, snapshots, False, time.perf_counter() - start)

    def _validate(self, sql: str) -> ValidatedQuery:
        from logflow.query.sql import validate

        hit = self._validated.get((sql, self.default_namespace))
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        checked = validate(sql, self._resolve_name)
        self._validated.put((sql, self.default_namespace), checked)
        return checked

    # -- maintenance ----------------------------------------------------------------------

    def _targets(self, name: str | None) -> list[Table]:
        return [self.table(name)] if name is not None else [self.table(n) for n in self.tables()]

    def compact(
        self,
        name: str,
        *,
        target_file_size: int | str = "128MB",
        min_files: int = 2,
    ) -> MaintenanceResult:
        """Rewrite a table's small files into files of about ``target_file_size``.

        Files under half the target are packed per partition, rewritten (by logflow's
        writer where it takes Arrow input), and swapped in in one snapshot. The rows and
        what queries return stay the same. The old files stay for time travel until
        :meth:`expire_snapshots` and :meth:`remove_orphans`.

        Example:
            >>> engine.compact("events", target_file_size="64MB")  # doctest: +SKIP
        """
        from logflow.catalog.maintenance import compact

        table = self.table(name)
        result = compact(
            table, _size_bytes(target_file_size), min_files=min_files, threads=self._threads
        )
        self._invalidate(table.name)
        return result

    def expire_snapshots(
        self,
        name: str | None = None,
        *,
        older_than: datetime | timedelta = timedelta(days=7),
        retain_last: int = 1,
    ) -> MaintenanceResult:
        """Forget snapshots older than ``older_than`` (a time, or an age).

        The current snapshot and the last ``retain_last`` stay; on one table or all.

        Example:
            >>> engine.expire_snapshots("events", older_than=timedelta(hours=1))  # doctest: +SKIP
        """
        cutoff = datetime.now(UTC) - older_than if isinstance(older_than, timedelta) else older_than
        names = []
        expired = 0
        for table in self._targets(name):
            expired += table.expire_snapshots(cutoff, retain_last=retain_last)
            names.append(table.name)
            self._invalidate(table.name)
        return MaintenanceResult(tuple(names), snapshots_expired=expired)

    def remove_orphans(
        self, name: str | None = None, *, older_than: timedelta = timedelta(hours=1)
    ) -> MaintenanceResult:
        """Delete files in table folders that no kept snapshot references.

        Those are leftovers of interrupted ingests and files of expired snapshots.
        Files younger than ``older_than`` are spared, so an ingest running now is not
        harmed.

        Example:
            >>> engine.remove_orphans(older_than=timedelta(0))  # doctest: +SKIP
        """
        from logflow.catalog.maintenance import remove_orphans

        removed: list[str] = []
        names = []
        for table in self._targets(name):
            inside = os.path.realpath(table.location).startswith(str(self.storage.root) + os.sep)
            removed.extend(remove_orphans(table, older_than, self.storage if inside else None))
            names.append(table.name)
        return MaintenanceResult(tuple(names), files_removed=tuple(removed))

    def maintain(
        self,
        name: str | None = None,
        *,
        expire_older_than: datetime | timedelta = timedelta(days=7),
        orphans_older_than: timedelta = timedelta(hours=1),
    ) -> MaintenanceResult:
        """Expire old snapshots, then remove orphan files; on one table or all."""
        expired = self.expire_snapshots(name, older_than=expire_older_than)
        orphans = self.remove_orphans(name, older_than=orphans_older_than)
        return MaintenanceResult(
            orphans.tables,
            snapshots_expired=expired.snapshots_expired,
            files_removed=orphans.files_removed,
        )


def _spec_text(f: PartitionField) -> str:
    if f.transform == "identity":
        return f.source
    if "[" in f.transform:
        func, arg = f.transform.rstrip("]").split("[")
        return f"{func}({arg}, {f.source})"
    return f"{f.transform}({f.source})"


def _params_key(params: Sequence[Any] | Mapping[str, Any] | None) -> Hashable:
    if params is None:
        return None
    if isinstance(params, Mapping):
        return tuple(sorted((k, repr(v)) for k, v in params.items()))
    return tuple(repr(v) for v in params)


def _size_bytes(size: int | str) -> int:
    if isinstance(size, int):
        if size <= 0:
            raise ConfigError(f"target_file_size must be positive, got {size}")
        return size
    import re

    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?)B?\s*", size, re.I)
    if m is None:
        raise ConfigError(f"target_file_size: cannot read {size!r}; use bytes or e.g. '128MB'")
    base = 1024 if m.group(3) or (m.group(2) and not size.strip().upper().endswith("B")) else 1000
    power = "KMGT".find(m.group(2).upper()) + 1 if m.group(2) else 0
    return int(float(m.group(1)) * base**power)


def _glob_safe(path: str) -> str:
    """Move a file whose path has glob characters to one without (DuckDB globs paths)."""
    if not any(c in path for c in _GLOB_CHARS):
        return path
    safe = "".join(_GLOB_CHARS.get(c, c) for c in path)
    os.renames(path, safe)
    return safe
