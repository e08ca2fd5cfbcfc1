"""Delta tables through ``deltalake`` (delta-rs), behind the same :class:`Table` interface.

Ingest commits logflow's files with add actions (partition values from the Hive folders,
row counts from the footers), so a whole ingest is one Delta version. Snapshot ids are
Delta versions. Delta tables without column mapping cannot rename columns, so
:meth:`DeltaTable.rename_column` raises :class:`~logflow.errors.UnsupportedOperationError`.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from logflow.catalog._dirs import FolderNames, text_value, value_text
from logflow.catalog.base import (
    Catalog,
    DataFileInfo,
    PartitionField,
    ReadPlan,
    SchemaPolicy,
    Snapshot,
    StagedFile,
    Table,
    WriteMode,
    group_files,
    parse_name,
    parse_partition,
    plan_schema_change,
)
from logflow.errors import (
    CommitConflictError,
    ConfigError,
    SchemaError,
    SnapshotNotFoundError,
    TableExistsError,
    TableNotFoundError,
    UnsupportedOperationError,
)

if TYPE_CHECKING:
    import pyarrow as pa
    from deltalake import DeltaTable as RawDeltaTable
    from deltalake.transaction import AddAction

__all__ = ["DeltaCatalog", "DeltaTable"]

LOG_DIR = "_delta_log"
_SUMMARY_KEY = "logflow"


def _summary_of(commit: Mapping[str, Any]) -> dict[str, str]:
    raw = commit.get(_SUMMARY_KEY)
    if isinstance(raw, str):
        try:
            decoded = json.loads(raw)
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in decoded.items()}
    return {}


def _arrow_schema(dt: RawDeltaTable) -> pa.Schema:
    import pyarrow as pa

    return pa.schema(dt.schema())


def _add_action(location: str, staged: StagedFile, fields: Sequence[PartitionField]) -> AddAction:
    import pyarrow.parquet as pq
    from deltalake.transaction import AddAction

    stat = os.stat(staged.path)
    rows = pq.read_metadata(staged.path).num_rows
    return AddAction(
        path=os.path.relpath(staged.path, location),
        size=stat.st_size,
        partition_values={f.source: value_text(staged.partition.get(f.name)) for f in fields},
        modification_time=int(stat.st_mtime * 1000),
        data_change=True,
        stats=json.dumps({"numRecords": rows}),
    )


class DeltaTable(Table):
    """A Delta table, reading its latest version or a pinned one.

    Example:
        >>> engine.ingest("events.csv", "events_delta", table_format="delta")  # doctest: +SKIP
    """

    format = "delta"

    def __init__(
        self, catalog: DeltaCatalog, name: str, location: str, version: int | None = None
    ) -> None:
        import deltalake

        self._catalog = catalog
        self._name = name
        self._location = location
        self.protected_prefixes = (os.path.join(location, LOG_DIR) + os.sep,)
        if not deltalake.DeltaTable.is_deltatable(location):
            raise TableNotFoundError(f"no table {name}")
        try:
            self._dt = deltalake.DeltaTable(location, version=version)
        except Exception as e:  # delta-rs raises its own error types
            if version is not None:
                raise SnapshotNotFoundError(f"table {name} has no version {version}") from e
            raise
        self._pinned = version

    @property
    def name(self) -> str:
        """``namespace.table``."""
        return self._name

    @property
    def location(self) -> str:
        """The table's folder."""
        return self._location

    @property
    def schema(self) -> pa.Schema:
        """The schema at the version read."""
        return _arrow_schema(self._dt)

    @property
    def partitioning(self) -> tuple[PartitionField, ...]:
        """Partition columns."""
        return tuple(parse_partition(c) for c in self._dt.metadata().partition_columns)

    @property
    def properties(self) -> Mapping[str, str]:
        """The table configuration."""
        return {str(k): str(v) for k, v in self._dt.metadata().configuration.items()}

    def snapshots(self) -> list[Snapshot]:
        """Versions in the log, oldest first."""
        out = []
        for commit in sorted(self._dt.history(), key=lambda c: int(c["version"])):
            version = int(commit["version"])
            out.append(
                Snapshot(
                    snapshot_id=version,
                    parent_id=version - 1 if version > 0 else None,
                    timestamp=datetime.fromtimestamp(int(commit["timestamp"]) / 1000, tz=UTC),
                    operation=str(commit.get("operation", "")).lower(),
                    summary=_summary_of(commit),
                )
            )
        return out

    def current_snapshot(self) -> Snapshot | None:
        """The version read."""
        version = self._dt.version()
        for s in self.snapshots():
            if s.snapshot_id == version:
                return s
        return None

    def as_of(self, when: int | datetime) -> DeltaTable:
        """The table at a version or time."""
        if isinstance(when, datetime):
            version = self.snapshot_at(when).snapshot_id
        else:
            # Checked against the log first: delta-rs looks for a missing version at length.
            version = self.snapshot(int(when)).snapshot_id
        return DeltaTable(self._catalog, self._name, self._location, version)

    def data_files(self) -> list[DataFileInfo]:
        """Files of the version read."""
        import pyarrow as pa

        actions = pa.table(self._dt.get_add_actions(flatten=True))
        types = {f.name: f.type for f in self.schema}
        out = []
        for row in actions.to_pylist():
            partition = {
                k[len("partition.") :]: v for k, v in row.items() if k.startswith("partition.")
            }
            values = {
                k: v if not isinstance(v, str) else text_value(v, types[k])
                for k, v in partition.items()
            }
            out.append(
                DataFileInfo(
                    path=os.path.join(self._location, urllib.parse.unquote(row["path"])),
                    size=int(row["size_bytes"]),
                    record_count=int(row.get("num_records") or 0),
                    partition=values,
                )
            )
        return out

    def read_plan(self) -> ReadPlan:
        """Files grouped by the columns they hold (partition values from the log)."""
        schema = self.schema
        files = [(d.path, d.size, dict(d.partition)) for d in self.data_files()]
        return ReadPlan(
            schema, group_files(schema, [[f.name] for f in schema], files), self._dt.version()
        )

    def _check_writable(self) -> None:
        if self._pinned is not None:
            raise UnsupportedOperationError(
                f"table {self._name} is pinned to version {self._pinned}"
            )

    def _transact(
        self, actions: list[Any], mode: str, schema: pa.Schema, summary: Mapping[str, str]
    ) -> Snapshot:
        from deltalake import CommitProperties
        from deltalake.exceptions import CommitFailedError, DeltaError, SchemaMismatchError

        before = self._dt.version()
        try:
            self._dt.create_write_transaction(
                actions,
                mode=mode,
                schema=schema,
                partition_by=[f.source for f in self.partitioning] or None,
                commit_properties=CommitProperties(
                    custom_metadata={_SUMMARY_KEY: json.dumps(dict(summary))}, max_commit_retries=0
                ),
            )
        except CommitFailedError as e:
            raise CommitConflictError(f"table {self._name}: {e}") from e
        except (SchemaMismatchError, DeltaError) as e:
            raise SchemaError(f"table {self._name}: {e}") from e
        self._dt.update_incremental()
        self._catalog._changed(self._name)
        if self._dt.version() == before:
            raise CommitConflictError(f"table {self._name}: nothing was committed")
        snap = self.current_snapshot()
        assert snap is not None
        return snap

    def commit_files(
        self,
        files: Sequence[StagedFile],
        *,
        file_schema: pa.Schema,
        mode: WriteMode = "append",
        schema_policy: SchemaPolicy = "evolve",
        summary: Mapping[str, str] | None = None,
    ) -> Snapshot:
        """Commit add actions (and a widened schema) as one version."""
        self._check_writable()
        import pyarrow as pa

        change = plan_schema_change(self.schema, file_schema, schema_policy, table_name=self._name)
        if change.widened:
            names = ", ".join(n for n, _ in change.widened)
            raise SchemaError(
                f"table {self._name}: Delta tables cannot widen column types ({names})"
            )
        if change.added:
            # delta-rs commits a schema change as its own version: it comes just before the
            # data's version (an interruption between the two leaves only new empty columns).
            from deltalake import Schema as DeltaSchema

            self._dt.alter.add_columns(list(DeltaSchema.from_arrow(pa.schema(change.added)).fields))
            self._dt.update_incremental()
        schema = self.schema
        actions = [_add_action(self._location, s, self.partitioning) for s in files]
        return self._transact(
            actions, "overwrite" if mode == "overwrite" else "append", schema, summary or {}
        )

    def replace_files(
        self,
        remove: Sequence[str],
        add: Sequence[StagedFile],
        *,
        summary: Mapping[str, str] | None = None,
    ) -> Snapshot:
        """Remove and add actions in one version (compaction)."""
        self._check_writable()
        from deltalake.transaction import RemoveAction

        current = {d.path: d for d in self.data_files()}
        if not set(remove) <= set(current):
            raise CommitConflictError(f"table {self._name}: some files to replace are gone")
        now = int(time.time() * 1000)
        fields = self.partitioning
        actions: list[Any] = [
            RemoveAction(
                path=os.path.relpath(p, self._location),
                data_change=False,
                deletion_timestamp=now,
                size=current[p].size,
                partition_values={
                    f.source: value_text(current[p].partition.get(f.source)) for f in fields
                },
            )
            for p in remove
        ]
        actions += [_add_action(self._location, s, fields) for s in add]
        for a in actions[len(remove) :]:
            a.data_change = False
        return self._transact(actions, "append", self.schema, summary or {})

    def add_column(self, name: str, type: pa.DataType) -> None:
        """Add a nullable column."""
        self._check_writable()
        import pyarrow as pa
        from deltalake import Field, Schema

        if name in self.schema.names:
            raise SchemaError(f"table {self._name} already has a column {name!r}", column=name)
        field = Schema.from_arrow(pa.schema([pa.field(name, type)])).fields[0]
        assert isinstance(field, Field)
        self._dt.alter.add_columns([field])
        self._dt.update_incremental()
        self._catalog._changed(self._name)

    def rename_column(self, old: str, new: str) -> None:
        """Not possible without Delta column mapping, which delta-rs cannot write."""
        raise UnsupportedOperationError(
            f"table {self._name}: Delta tables without column mapping cannot rename columns"
        )

    def expire_snapshots(self, older_than: datetime, *, retain_last: int = 1) -> int:
        """Delete log entries older than ``older_than``, after a checkpoint of the state.

        Returns how many versions became unreachable.
        """
        self._check_writable()
        if older_than.tzinfo is None:
            older_than = older_than.replace(tzinfo=UTC)
        snaps = self.snapshots()
        keep = {s.snapshot_id for s in snaps[-max(retain_last, 1) :]}
        doomed = [s for s in snaps if s.timestamp < older_than and s.snapshot_id not in keep]
        if not doomed:
            return 0
        self._dt.create_checkpoint()
        cutoff = datetime.fromtimestamp(
            max(s.timestamp.timestamp() for s in doomed) + 0.001, tz=UTC
        )
        removed = 0
        log = os.path.join(self._location, LOG_DIR)
        last_kept = min(keep)
        for s in doomed:
            if s.snapshot_id >= last_kept or s.timestamp >= cutoff:
                continue
            path = os.path.join(log, f"{s.snapshot_id:020d}.json")
            if os.path.exists(path):
                os.remove(path)
                removed += 1
        self._catalog._changed(self._name)
        return removed

    def referenced_files(self) -> set[str]:
        """Data files of every version still in the log (the log is protected)."""
        import deltalake

        out: set[str] = set()
        for s in self.snapshots():
            try:
                dt = deltalake.DeltaTable(self._location, version=s.snapshot_id)
            except Exception:  # a version whose log entry was expired
                continue
            out.update(os.path.join(self._location, p) for p in _relative_files(dt))
        return out

    def refresh(self) -> DeltaTable:
        """The latest version, reloaded."""
        return DeltaTable(self._catalog, self._name, self._location)


def _relative_files(dt: RawDeltaTable) -> list[str]:
    import pyarrow as pa

    paths = pa.table(dt.get_add_actions(flatten=True)).column("path").to_pylist()
    return [urllib.parse.unquote(str(p)) for p in paths]


class DeltaCatalog(FolderNames, Catalog):
    """Delta tables in ``<warehouse>/<namespace>.db/<table>/``.

    Example:
        >>> import tempfile
        >>> DeltaCatalog(tempfile.mkdtemp()).list_tables()
        []
    """

    format = "delta"
    marker = LOG_DIR

    def __init__(self, warehouse: str | os.PathLike[str]) -> None:
        super().__init__(warehouse)

    def _changed(self, name: str) -> None:
        """Hook: a table committed."""

    def create_table(
        self,
        name: str,
        schema: pa.Schema,
        *,
        partition_by: Sequence[str] = (),
        properties: Mapping[str, str] | None = None,
        files: Sequence[StagedFile] = (),
        summary: Mapping[str, str] | None = None,
    ) -> DeltaTable:
        """Create a table; with ``files``, its first version holds them."""
        from deltalake import CommitProperties
        from deltalake import DeltaTable as RawDeltaTable
        from deltalake import Schema as DeltaSchema
        from deltalake.transaction import create_table_with_add_actions

        ns, tbl = parse_name(name)
        full = f"{ns}.{tbl}"
        fields = [parse_partition(p) for p in partition_by]
        for f in fields:
            if f.transform != "identity":
                raise ConfigError(f"Delta tables partition by columns only, not {f.transform}")
            if f.source not in schema.names:
                raise ConfigError(f"partition_by: no column {f.source!r}; columns: {schema.names}")
        location = self.default_location(full)
        if RawDeltaTable.is_deltatable(location):
            raise TableExistsError(f"table {full} exists")
        os.makedirs(location, exist_ok=True)
        props = CommitProperties(custom_metadata={_SUMMARY_KEY: json.dumps(dict(summary or {}))})
        try:
            create_table_with_add_actions(
                location,
                DeltaSchema.from_arrow(schema),
                [_add_action(location, s, fields) for s in files],
                mode="error",
                partition_by=[f.source for f in fields] or None,
                configuration=dict(properties or {}) or None,
                commit_properties=props,
            )
        except Exception as e:  # delta-rs: the table appeared meanwhile, or refused schema
            if RawDeltaTable.is_deltatable(location):
                raise TableExistsError(f"table {full} exists") from e
            raise SchemaError(f"table {full}: {e}") from e
        self._changed(full)
        return DeltaTable(self, full, location)

    def load_table(self, name: str) -> DeltaTable:
        """The latest version."""
        ns, tbl = parse_name(name)
        return DeltaTable(self, f"{ns}.{tbl}", self.default_location(name))

    def drop_table(self, name: str, *, purge: bool = True) -> None:
        """Delete the table's folder (or only its log, without ``purge``)."""
        table = self.load_table(name)
        shutil.rmtree(table.location if purge else os.path.join(table.location, LOG_DIR))

    def rename_table(self, old: str, new: str) -> DeltaTable:
        """Move the table's folder (paths in the log are relative)."""
        table = self.load_table(old)
        target = self.default_location(new)
        if os.path.exists(target):
            raise TableExistsError(f"table {new} exists")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.rename(table.location, target)
        return self.load_table(new)

    def current_version(self, name: str) -> str | None:
        """The newest log file's name."""
        folder = os.path.join(self.default_location(name), LOG_DIR)
        try:
            names = [n for n in os.listdir(folder) if n.endswith(".json") and n[:-5].isdigit()]
        except FileNotFoundError:
            return None
        return max(names) if names else None
