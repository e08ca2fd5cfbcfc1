"""The :class:`Catalog` and :class:`Table` interfaces, and what they hand out.

A catalog names tables (``"namespace.table"``); a table has a schema, a location, a
partitioning, properties and a list of snapshots, each naming the data files that make the
table at that moment. Every implementation passes the same contract suite
(``tests/engine/test_catalog_contract.py``).

Queries read a table through its :class:`ReadPlan`: the files of one snapshot grouped by
how their columns map onto the table's (renamed columns, columns added after a file was
written, partition values kept in metadata rather than in the file).
"""

from __future__ import annotations

import functools
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from logflow.errors import ConfigError, SchemaError, SnapshotNotFoundError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "Catalog",
    "ColumnChange",
    "DataFileInfo",
    "FileGroup",
    "PartitionField",
    "ReadPlan",
    "Snapshot",
    "StagedFile",
    "Table",
    "WriteMode",
    "parse_name",
]

WriteMode = Literal["append", "overwrite"]
SchemaPolicy = Literal["strict", "merge", "evolve"]
DEFAULT_NAMESPACE = "default"


def parse_name(name: str, default_namespace: str = DEFAULT_NAMESPACE) -> tuple[str, str]:
    """Split ``"ns.table"`` into ``("ns", "table")``; a bare name goes to the default namespace.

    Example:
        >>> parse_name("analytics.events"), parse_name("events")
        (('analytics', 'events'), ('default', 'events'))
    """
    parts = name.split(".")
    if not all(p.strip() for p in parts) or len(parts) > 2:
        raise ConfigError(f"invalid table name {name!r}: use 'table' or 'namespace.table'")
    for part in parts:
        if "/" in part or "\\" in part or part.startswith("_"):
            raise ConfigError(f"invalid table name {name!r}: no '/', '\\' or leading '_'")
    if len(parts) == 1:
        return default_namespace, parts[0]
    return parts[0], parts[1]


@dataclass(frozen=True)
class Snapshot:
    """One committed version of a table."""

    snapshot_id: int
    """The id (Iceberg snapshot id, Delta version, or the plain-Parquet log's number)."""
    parent_id: int | None
    """The snapshot this one was made from."""
    timestamp: datetime
    """When it was committed (UTC)."""
    operation: str
    """``append``, ``overwrite``, ``replace`` (a compaction), ``delete``..."""
    summary: Mapping[str, str] = field(default_factory=dict)
    """Free-form properties; logflow keeps the ingest's source fingerprint here."""


@dataclass(frozen=True)
class PartitionField:
    """One partition field: a transform of a source column."""

    source: str
    """The source column."""
    transform: str
    """``identity``, ``year``, ``month``, ``day``, ``hour``, ``bucket[N]`` or ``truncate[W]``."""
    name: str
    """The partition field's own name (the column name, for identity)."""


@dataclass(frozen=True)
class DataFileInfo:
    """One data file of a snapshot."""

    path: str
    """Absolute local path."""
    size: int
    """Bytes."""
    record_count: int
    """Rows."""
    partition: Mapping[str, Any] = field(default_factory=dict)
    """Partition values by partition field name."""


@dataclass(frozen=True)
class StagedFile:
    """A data file written for a commit, with its partition values."""

    path: str
    """Absolute local path (inside the table location)."""
    partition: Mapping[str, Any] = field(default_factory=dict)
    """Partition values by partition field name (for identity: the column name)."""


@dataclass(frozen=True)
class FileGroup:
    """Files that map onto the table's columns the same way.

    For column ``i`` of the plan, ``sources[i]`` names the column in these files that holds
    it, or is ``None`` when the files lack it: then ``constants[i]`` is its value (a
    partition value kept in metadata) or ``None`` (NULL).
    """

    files: tuple[str, ...]
    sources: tuple[str | None, ...]
    constants: tuple[Any, ...]
    file_types: tuple[pa.DataType | None, ...]
    """The type of each source column in the files (``None`` where absent)."""


@dataclass(frozen=True)
class ReadPlan:
    """How to read one snapshot of a table: its columns, and file groups to union."""

    schema: pa.Schema
    groups: tuple[FileGroup, ...]
    snapshot_id: int | None


@dataclass(frozen=True)
class ColumnChange:
    """The schema change an ingest asks for, worked out by :func:`plan_schema_change`."""

    added: tuple[pa.Field, ...] = ()
    """New columns (appended, nullable)."""
    widened: tuple[tuple[str, pa.DataType], ...] = ()
    """Existing columns whose type becomes wider."""

    @property
    def empty(self) -> bool:
        """Whether nothing changes."""
        return not self.added and not self.widened


@functools.lru_cache(maxsize=65536)
def _footer_schema(path: str, size: int) -> pa.Schema:
    import pyarrow.parquet as pq

    return pq.read_schema(path)


def file_schema(path: str, size: int | None = None) -> pa.Schema:
    """The Arrow schema in a Parquet file's footer (cached; data files never change)."""
    return _footer_schema(path, os.path.getsize(path) if size is None else size)


def _promotable(src: pa.DataType, dst: pa.DataType) -> bool:
    """Whether values of ``src`` read as ``dst`` with no loss (the widenings tables allow)."""
    import pyarrow as pa

    if src == dst:
        return True
    if pa.types.is_integer(src) and pa.types.is_integer(dst):
        return pa.types.is_signed_integer(src) == pa.types.is_signed_integer(dst) and (
            src.bit_width <= dst.bit_width
        )
    if pa.types.is_floating(src) and pa.types.is_floating(dst):
        return bool(src.bit_width <= dst.bit_width)
    if pa.types.is_decimal(src) and pa.types.is_decimal(dst):
        return bool(src.scale == dst.scale and src.precision <= dst.precision)
    if pa.types.is_string(src) and pa.types.is_large_string(dst):
        return True
    return False


def plan_schema_change(
    table: pa.Schema,
    incoming: pa.Schema,
    policy: SchemaPolicy,
    *,
    resolve: Mapping[str, str] | None = None,
    table_name: str = "",
) -> ColumnChange:
    """What ``incoming`` data needs of the table's schema under ``policy``.

    ``strict``: the same columns with the same types. ``merge``: a subset of the columns,
    each of the table's type or narrower (missing columns read as NULL). ``evolve``: as
    ``merge``, and new columns are added and types widened (int32 -> int64,
    float32 -> float64, decimal precision up).

    Args:
        table: The table's schema.
        incoming: The schema of the files to commit.
        policy: ``strict``, ``merge`` or ``evolve``.
        resolve: Maps an incoming name to the table column it is (old names after renames).
        table_name: For messages.

    Raises:
        logflow.errors.SchemaError: The data does not fit, with what and why.
    """
    if policy not in ("strict", "merge", "evolve"):
        raise ConfigError(f"schema_policy must be 'strict', 'merge' or 'evolve', got {policy!r}")
    resolve = resolve or {}
    where = f"table {table_name}: " if table_name else ""
    by_name = {f.name: f for f in table}
    added: list[pa.Field] = []
    widened: list[tuple[str, pa.DataType]] = []
    seen: set[str] = set()
    for f in incoming:
        name = resolve.get(f.name, f.name)
        current = by_name.get(name)
        if current is None:
            if policy != "evolve":
                raise SchemaError(
                    f"{where}the input has a column {f.name!r} ({f.type}) the table does not "
                    f"have; schema_policy={policy!r} adds no columns (use 'evolve')",
                    column=f.name,
                )
            added.append(f.with_nullable(True))
            continue
        seen.add(name)
        if f.type == current.type:
            continue
        if policy != "strict" and _promotable(f.type, current.type):
            continue
        if policy == "evolve" and _promotable(current.type, f.type):
            widened.append((name, f.type))
            continue
        raise SchemaError(
            f"{where}column {name!r} is {current.type} in the table but {f.type} in the input; "
            + (
                "schema_policy='strict' needs the same type"
                if policy == "strict"
                else "that is not a widening the table can record"
            ),
            column=name,
        )
    missing = [n for n in by_name if n not in seen]
    if policy == "strict" and missing:
        raise SchemaError(
            f"{where}the input lacks columns {missing}; schema_policy='strict' needs them all"
        )
    return ColumnChange(tuple(added), tuple(widened))


class Table(ABC):
    """A table: schema, location, partitioning, properties, snapshots, data files.

    A table object reads the state of one snapshot: the current one when loaded, or the
    one chosen with :meth:`as_of`. Writes (:meth:`commit_files`, :meth:`replace_files`,
    schema changes) commit a new snapshot and refresh the object.

    Example:
        >>> t = engine.table("analytics.events")  # doctest: +SKIP
        >>> [s.snapshot_id for s in t.snapshots()]  # doctest: +SKIP
    """

    format: str = ""
    """``iceberg``, ``delta`` or ``parquet``."""

    @property
    @abstractmethod
    def name(self) -> str:
        """``namespace.table``."""

    @property
    def namespace(self) -> str:
        """The namespace part of the name."""
        return self.name.rsplit(".", 1)[0]

    @property
    @abstractmethod
    def location(self) -> str:
        """The folder holding the table's data and metadata."""

    @property
    @abstractmethod
    def schema(self) -> pa.Schema:
        """The schema of the snapshot this object reads (Arrow)."""

    @property
    @abstractmethod
    def partitioning(self) -> tuple[PartitionField, ...]:
        """The partition fields new data is written with (empty: unpartitioned)."""

    @property
    @abstractmethod
    def properties(self) -> Mapping[str, str]:
        """Table properties."""

    @abstractmethod
    def snapshots(self) -> list[Snapshot]:
        """Every snapshot still kept, oldest first."""

    @abstractmethod
    def current_snapshot(self) -> Snapshot | None:
        """The snapshot this object reads, or ``None`` for a table with no data yet."""

    @abstractmethod
    def as_of(self, when: int | datetime) -> Table:
        """The table as it was at a snapshot id, or at a time (the last snapshot then).

        Raises:
            logflow.errors.SnapshotNotFoundError: No such snapshot, or none that old.
        """

    @abstractmethod
    def data_files(self) -> list[DataFileInfo]:
        """The data files of the snapshot this object reads."""

    @abstractmethod
    def read_plan(self) -> ReadPlan:
        """How to read the snapshot this object reads (see :class:`ReadPlan`)."""

    @abstractmethod
    def commit_files(
        self,
        files: Sequence[StagedFile],
        *,
        file_schema: pa.Schema,
        mode: WriteMode = "append",
        schema_policy: SchemaPolicy = "evolve",
        summary: Mapping[str, str] | None = None,
    ) -> Snapshot:
        """Commit data files already written inside the table location, as one snapshot.

        The schema changes ``file_schema`` needs (see :func:`plan_schema_change`) are
        committed with the data, atomically. ``overwrite`` replaces every current file.

        Raises:
            logflow.errors.SchemaError: The files do not fit the table under the policy.
            logflow.errors.CommitConflictError: Another writer committed first.
        """

    @abstractmethod
    def replace_files(
        self,
        remove: Sequence[str],
        add: Sequence[StagedFile],
        *,
        summary: Mapping[str, str] | None = None,
    ) -> Snapshot:
        """Swap data files for others holding the same rows (compaction), in one snapshot."""

    @abstractmethod
    def add_column(self, name: str, type: pa.DataType) -> None:
        """Add a nullable column; existing rows read it as NULL."""

    @abstractmethod
    def rename_column(self, old: str, new: str) -> None:
        """Rename a column; files written before keep reading right."""

    @abstractmethod
    def expire_snapshots(self, older_than: datetime, *, retain_last: int = 1) -> int:
        """Forget snapshots committed before ``older_than``, keeping the last ``retain_last``.

        Returns how many were expired. Their files become orphans.
        """

    @abstractmethod
    def referenced_files(self) -> set[str]:
        """Every file (data and metadata) that some kept snapshot needs."""

    @abstractmethod
    def refresh(self) -> Table:
        """The table's current state, reloaded from the catalog."""

    def snapshot(self, snapshot_id: int) -> Snapshot:
        """The snapshot with this id.

        Raises:
            logflow.errors.SnapshotNotFoundError: No such snapshot.
        """
        for s in self.snapshots():
            if s.snapshot_id == snapshot_id:
                return s
        raise SnapshotNotFoundError(f"table {self.name} has no snapshot {snapshot_id}")

    def snapshot_at(self, when: datetime) -> Snapshot:
        """The last snapshot committed at or before ``when`` (naive times are UTC).

        Raises:
            logflow.errors.SnapshotNotFoundError: The table is younger than ``when``.
        """
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        older = [s for s in self.snapshots() if s.timestamp <= when]
        if not older:
            raise SnapshotNotFoundError(
                f"table {self.name} has no snapshot as old as {when.isoformat()}"
            )
        return max(older, key=lambda s: (s.timestamp, s.snapshot_id))

    def to_arrow(self) -> pa.Table:
        """Read the snapshot this object reads into memory (small tables, tests)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        plan = self.read_plan()
        parts: list[pa.Table] = []
        for group in plan.groups:
            for path in group.files:
                cols = [s for s in group.sources if s is not None]
                data = pq.read_table(path, columns=cols)
                arrays = []
                for i, f in enumerate(plan.schema):
                    src = group.sources[i]
                    if src is None:
                        arrays.append(pa.array([group.constants[i]] * data.num_rows, type=f.type))
                    else:
                        arrays.append(data.column(src).cast(f.type))
                parts.append(pa.table(arrays, schema=plan.schema))
        if not parts:
            return plan.schema.empty_table()
        return pa.concat_tables(parts)


class Catalog(ABC):
    """Namespaces and tables: create, get, list, drop, rename.

    Example:
        >>> from logflow.catalog import load_catalog
        >>> cat = load_catalog("sql", warehouse="/tmp/wh")  # doctest: +SKIP
        >>> cat.create_namespace("analytics")  # doctest: +SKIP
    """

    format: str = ""
    """The format of the tables this catalog makes."""

    @abstractmethod
    def create_namespace(self, namespace: str) -> None:
        """Create a namespace.

        Raises:
            logflow.errors.TableExistsError: It exists.
        """

    @abstractmethod
    def list_namespaces(self) -> list[str]:
        """Every namespace, sorted."""

    @abstractmethod
    def drop_namespace(self, namespace: str) -> None:
        """Drop an empty namespace.

        Raises:
            logflow.errors.NamespaceNotFoundError: No such namespace.
            logflow.errors.CatalogError: It still holds tables.
        """

    @abstractmethod
    def create_table(
        self,
        name: str,
        schema: pa.Schema,
        *,
        partition_by: Sequence[str] = (),
        properties: Mapping[str, str] | None = None,
        files: Sequence[StagedFile] = (),
        summary: Mapping[str, str] | None = None,
    ) -> Table:
        """Create a table (its namespace is created if missing).

        Args:
            name: ``namespace.table``.
            schema: Its columns.
            partition_by: Column names (identity) or transforms such as ``"day(ts)"``,
                ``"bucket(16, id)"``, ``"truncate(4, name)"`` where the format has them.
            properties: Table properties.
            files: Data files already written under :meth:`default_location`; when given,
                the table's first snapshot holds them, committed with its creation.
            summary: Properties of that first snapshot.

        Raises:
            logflow.errors.TableExistsError: A table of that name exists.
        """

    @abstractmethod
    def default_location(self, name: str) -> str:
        """The folder a table of this name gets (data can be written there first)."""

    @abstractmethod
    def load_table(self, name: str) -> Table:
        """The table's current state.

        Raises:
            logflow.errors.TableNotFoundError: No such table.
        """

    @abstractmethod
    def list_tables(self, namespace: str | None = None) -> list[str]:
        """The ``namespace.table`` names in one namespace, or in all; sorted."""

    @abstractmethod
    def drop_table(self, name: str, *, purge: bool = True) -> None:
        """Remove a table from the catalog (and with ``purge``, its files).

        Raises:
            logflow.errors.TableNotFoundError: No such table.
        """

    @abstractmethod
    def rename_table(self, old: str, new: str) -> Table:
        """Rename a table (possibly into another namespace).

        Raises:
            logflow.errors.TableNotFoundError: ``old`` does not exist.
            logflow.errors.TableExistsError: ``new`` exists.
        """

    def table_exists(self, name: str) -> bool:
        """Whether the table exists."""
        from logflow.errors import TableNotFoundError

        try:
            self.load_table(name)
        except TableNotFoundError:
            return False
        return True

    def current_version(self, name: str) -> str | None:
        """A cheap token that changes whenever the table commits (``None``: unknown).

        Caches key on it; the default says nothing, so callers reload.
        """
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


_TRANSFORM_SUFFIX = {
    "year": "year",
    "month": "month",
    "day": "day",
    "hour": "hour",
    "bucket": "bucket",
    "truncate": "trunc",
}


def parse_partition(spec: str) -> PartitionField:
    """Parse one ``partition_by`` entry: a column name, or a transform of one.

    Example:
        >>> parse_partition("date").transform, parse_partition("bucket(16, id)").transform
        ('identity', 'bucket[16]')
        >>> parse_partition("day(ts)")
        PartitionField(source='ts', transform='day', name='ts_day')
    """
    import re

    text = spec.strip()
    m = re.fullmatch(r"(\w+)\s*\(\s*(?:(\d+)\s*,\s*)?([^\s,()]+)\s*\)", text)
    if m is None:
        if not text or "(" in text or ")" in text:
            raise ConfigError(
                f"partition_by: cannot parse {spec!r}; use a column name, year(col), "
                "month(col), day(col), hour(col), bucket(N, col) or truncate(W, col)"
            )
        return PartitionField(text, "identity", text)
    func, arg, col = m.group(1).lower(), m.group(2), m.group(3)
    if func not in _TRANSFORM_SUFFIX:
        raise ConfigError(f"partition_by: unknown transform {func!r} in {spec!r}")
    needs_arg = func in ("bucket", "truncate")
    if needs_arg != (arg is not None) or (arg is not None and int(arg) <= 0):
        raise ConfigError(
            f"partition_by: {func} takes "
            + ("a positive number and a column" if needs_arg else "only a column")
            + f", got {spec!r}"
        )
    transform = f"{func}[{arg}]" if needs_arg else func
    return PartitionField(col, transform, f"{col}_{_TRANSFORM_SUFFIX[func]}")


def group_files(
    schema: pa.Schema,
    names: Sequence[Sequence[str]],
    files: Sequence[tuple[str, int, Mapping[str, Any]]],
) -> tuple[FileGroup, ...]:
    """Group data files by how their columns map onto ``schema``.

    Args:
        schema: The table's columns.
        names: For each column, the names a file may hold it under (current name first,
            then older names).
        files: ``(path, size, fill)``: ``fill`` gives values for columns a file lacks
            (identity partition values kept in metadata).
    """
    groups: dict[tuple[Any, ...], list[str]] = {}
    for path, size, fill in files:
        physical = {f.name: f.type for f in file_schema(path, size)}
        sources: list[str | None] = []
        consts: list[Any] = []
        types: list[pa.DataType | None] = []
        for i, f in enumerate(schema):
            src = next((n for n in names[i] if n in physical), None)
            sources.append(src)
            types.append(physical[src] if src is not None else None)
            consts.append(None if src is not None else fill.get(f.name))
        groups.setdefault((tuple(sources), tuple(consts), tuple(types)), []).append(path)
    return tuple(FileGroup(tuple(paths), key[0], key[1], key[2]) for key, paths in groups.items())


def local_path(location: str) -> str:
    """A local path for a ``file:`` URI or a path."""
    if location.startswith("file://"):
        return location[len("file://") :]
    if location.startswith("file:"):
        return location[len("file:") :]
    return location
