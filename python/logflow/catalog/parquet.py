"""Plain Hive-partitioned Parquet tables, with a small snapshot log beside the data.

The folder is an ordinary dataset (``<table>/<col>=<value>/<file>.parquet``) that any
reader takes as it is. Snapshots are JSON files ``_logflow_log/<version>.json``, each
listing the table's files, schema and column renames at that version; a commit writes
the next version with an exclusive link, so two writers cannot both win. Through logflow,
ingests are atomic and time travel works; a plain folder reader sees new files as soon as
they are moved in (just before the commit). Files an overwrite or a compaction replaces
are deleted right after its commit, so the folder always shows the current data to plain
readers; versions from before such a commit can then no longer be read.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
import time
import urllib.parse
import uuid
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

__all__ = ["ParquetCatalog", "ParquetTable"]

LOG_DIR = "_logflow_log"


def _schema_text(schema: pa.Schema) -> str:
    return base64.b64encode(schema.serialize().to_pybytes()).decode()


def _schema_of(text: str) -> pa.Schema:
    import pyarrow as pa

    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(text)))


def _hive_dir(fields: Sequence[PartitionField], values: Mapping[str, Any]) -> str:
    parts = []
    for f in fields:
        text = value_text(values.get(f.name))
        shown = (
            "__HIVE_DEFAULT_PARTITION__"
            if text in (None, "")
            else urllib.parse.quote(text, safe=" ,-_.")
        )
        parts.append(f"{f.source}={shown}")
    return os.path.join(*parts) if parts else ""


class ParquetTable(Table):
    """A plain Parquet dataset with a JSON snapshot log.

    Example:
        >>> engine.ingest("events.csv", "plain_events", table_format="parquet")  # doctest: +SKIP
    """

    format = "parquet"
    protected_prefixes: tuple[str, ...] = ()

    def __init__(
        self, catalog: ParquetCatalog, name: str, location: str, version: int | None = None
    ) -> None:
        self._catalog = catalog
        self._name = name
        self._location = location
        self.protected_prefixes = (os.path.join(location, LOG_DIR) + os.sep,)
        self._versions = self._list_versions()
        if not self._versions:
            raise TableNotFoundError(f"no table {name}")
        self._pinned = version
        self._entry = self._read(version if version is not None else self._versions[-1])

    def _log(self, version: int) -> str:
        return os.path.join(self._location, LOG_DIR, f"{version:020d}.json")

    def _list_versions(self) -> list[int]:
        try:
            names = os.listdir(os.path.join(self._location, LOG_DIR))
        except FileNotFoundError:
            return []
        return sorted(int(n[:-5]) for n in names if n.endswith(".json") and n[:-5].isdigit())

    def _read(self, version: int) -> dict[str, Any]:
        try:
            with open(self._log(version)) as f:
                entry: dict[str, Any] = json.load(f)
        except FileNotFoundError:
            raise SnapshotNotFoundError(f"table {self._name} has no snapshot {version}") from None
        return entry

    @property
    def name(self) -> str:
        """``namespace.table``."""
        return self._name

    @property
    def location(self) -> str:
        """The dataset's folder."""
        return self._location

    @property
    def schema(self) -> pa.Schema:
        """The schema at the snapshot read."""
        return _schema_of(self._entry["schema"])

    @property
    def partitioning(self) -> tuple[PartitionField, ...]:
        """Identity partition columns."""
        return tuple(parse_partition(p) for p in self._entry["partition_by"])

    @property
    def properties(self) -> Mapping[str, str]:
        """Table properties."""
        return dict(self._entry.get("properties", {}))

    def _snapshot(self, entry: Mapping[str, Any]) -> Snapshot:
        return Snapshot(
            snapshot_id=int(entry["version"]),
            parent_id=entry.get("parent"),
            timestamp=datetime.fromtimestamp(entry["timestamp_ms"] / 1000, tz=UTC),
            operation=str(entry["operation"]),
            summary=dict(entry.get("summary", {})),
        )

    def snapshots(self) -> list[Snapshot]:
        """Every version kept, oldest first."""
        out = []
        for v in self._list_versions():
            try:
                out.append(self._snapshot(self._read(v)))
            except SnapshotNotFoundError:
                continue
        return out

    def current_snapshot(self) -> Snapshot | None:
        """The version read."""
        return self._snapshot(self._entry)

    def as_of(self, when: int | datetime) -> ParquetTable:
        """The table at a version or time."""
        if isinstance(when, datetime):
            version = self.snapshot_at(when).snapshot_id
        else:
            version = self.snapshot(int(when)).snapshot_id
        return ParquetTable(self._catalog, self._name, self._location, version)

    def _files(self) -> list[dict[str, Any]]:
        return list(self._entry["files"])

    def data_files(self) -> list[DataFileInfo]:
        """Files of the version read."""
        types = {f.name: f.type for f in self.schema}
        by_name = {f.name: f.source for f in self.partitioning}
        return [
            DataFileInfo(
                path=os.path.join(self._location, f["path"]),
                size=int(f["size"]),
                record_count=int(f["records"]),
                partition={
                    k: text_value(v, types[by_name.get(k, k)]) for k, v in f["partition"].items()
                },
            )
            for f in self._files()
        ]

    def read_plan(self) -> ReadPlan:
        """Files grouped by how their columns map onto the schema."""
        schema = self.schema
        aliases: Mapping[str, list[str]] = self._entry.get("aliases", {})
        names = [[f.name, *aliases.get(f.name, [])] for f in schema]
        files = [(d.path, d.size, dict(d.partition)) for d in self.data_files()]
        for f in self._files():
            if not os.path.exists(os.path.join(self._location, f["path"])):
                raise SnapshotNotFoundError(
                    f"table {self._name}: version {self._entry['version']} lost its files "
                    "(an overwrite removed them); it can no longer be read"
                )
        return ReadPlan(schema, group_files(schema, names, files), int(self._entry["version"]))

    # -- writing ----------------------------------------------------------------------

    def _check_writable(self) -> None:
        if self._pinned is not None:
            raise UnsupportedOperationError(
                f"table {self._name} is pinned to version {self._pinned}"
            )

    def _place(self, staged: Sequence[StagedFile]) -> list[dict[str, Any]]:
        """Move staged files into the Hive layout; their log entries."""
        import pyarrow.parquet as pq

        fields = self.partitioning
        tag = uuid.uuid4().hex[:12]
        out = []
        for i, s in enumerate(staged):
            folder = os.path.join(self._location, _hive_dir(fields, s.partition))
            os.makedirs(folder, exist_ok=True)
            target = os.path.join(folder, f"{tag}-{i:05d}.parquet")
            os.rename(s.path, target)
            _prune_empty(os.path.dirname(s.path), self._location)
            out.append(
                {
                    "path": os.path.relpath(target, self._location),
                    "size": os.path.getsize(target),
                    "records": pq.read_metadata(target).num_rows,
                    "partition": {f.name: value_text(s.partition.get(f.name)) for f in fields},
                }
            )
        return out

    def _write(self, entry: dict[str, Any]) -> Snapshot:
        version = int(self._entry["version"]) + 1
        entry = {
            **self._entry,
            **entry,
            "version": version,
            "parent": int(self._entry["version"]),
            "timestamp_ms": int(time.time() * 1000),
        }
        _publish(self._location, version, entry)
        self._catalog._changed(self._name)
        self._versions.append(version)
        self._entry = entry
        return self._snapshot(entry)

    def commit_files(
        self,
        files: Sequence[StagedFile],
        *,
        file_schema: pa.Schema,
        mode: WriteMode = "append",
        schema_policy: SchemaPolicy = "evolve",
        summary: Mapping[str, str] | None = None,
    ) -> Snapshot:
        """Move the files in and write the next log version."""
        self._check_writable()
        import pyarrow as pa

        resolve = {old: new for new, olds in self._entry.get("aliases", {}).items() for old in olds}
        change = plan_schema_change(
            self.schema, file_schema, schema_policy, resolve=resolve, table_name=self._name
        )
        schema = self.schema
        for name, new_type in change.widened:
            schema = schema.set(schema.get_field_index(name), pa.field(name, new_type))
        for f in change.added:
            schema = schema.append(f)
        placed = self._place(files)
        old = self._files()
        try:
            snap = self._write(
                {
                    "operation": "overwrite" if mode == "overwrite" else "append",
                    "summary": dict(summary or {}),
                    "schema": _schema_text(schema),
                    "files": placed if mode == "overwrite" else old + placed,
                }
            )
        except BaseException:
            self._delete([f["path"] for f in placed])  # plain readers must not see them
            raise
        if mode == "overwrite":
            self._delete([f["path"] for f in old])
        return snap

    def replace_files(
        self,
        remove: Sequence[str],
        add: Sequence[StagedFile],
        *,
        summary: Mapping[str, str] | None = None,
    ) -> Snapshot:
        """Swap files (compaction) in one version; the old files are deleted after it."""
        self._check_writable()
        gone = {os.path.relpath(p, self._location) for p in remove}
        current = self._files()
        if not gone <= {f["path"] for f in current}:
            raise CommitConflictError(f"table {self._name}: some files to replace are gone")
        placed = self._place(add)
        try:
            snap = self._write(
                {
                    "operation": "replace",
                    "summary": dict(summary or {}),
                    "files": [f for f in current if f["path"] not in gone] + placed,
                }
            )
        except BaseException:
            self._delete([f["path"] for f in placed])
            raise
        self._delete(sorted(gone))
        return snap

    def _delete(self, relative: Sequence[str]) -> None:
        """Delete files the new version no longer has.

        The folder must show only the current data to plain readers (older versions
        then cannot be read).
        """
        for rel in relative:
            path = os.path.join(self._location, rel)
            try:
                os.remove(path)
            except FileNotFoundError:
                continue
            _prune_empty(os.path.dirname(path), self._location)

    def add_column(self, name: str, type: pa.DataType) -> None:
        """Add a nullable column."""
        import pyarrow as pa

        self._check_writable()
        if name in self.schema.names:
            raise SchemaError(f"table {self._name} already has a column {name!r}", column=name)
        self._write(
            {
                "operation": "schema",
                "summary": {},
                "schema": _schema_text(self.schema.append(pa.field(name, type))),
            }
        )

    def rename_column(self, old: str, new: str) -> None:
        """Rename a column; files written before keep it under its old name."""
        self._check_writable()
        schema = self.schema
        if old not in schema.names:
            raise SchemaError(f"table {self._name} has no column {old!r}", column=old)
        if new in schema.names:
            raise SchemaError(f"table {self._name} already has a column {new!r}", column=new)
        if any(f.source == old for f in self.partitioning):
            raise UnsupportedOperationError(f"table {self._name}: {old!r} is a partition column")
        i = schema.get_field_index(old)
        aliases = {k: list(v) for k, v in self._entry.get("aliases", {}).items()}
        aliases[new] = [old, *aliases.pop(old, [])]
        self._write(
            {
                "operation": "schema",
                "summary": {},
                "schema": _schema_text(schema.set(i, schema.field(i).with_name(new))),
                "aliases": aliases,
            }
        )

    def expire_snapshots(self, older_than: datetime, *, retain_last: int = 1) -> int:
        """Delete log versions older than ``older_than`` (never the last ``retain_last``)."""
        self._check_writable()
        if older_than.tzinfo is None:
            older_than = older_than.replace(tzinfo=UTC)
        snaps = self.snapshots()
        keep = {s.snapshot_id for s in snaps[-max(retain_last, 1) :]}
        doomed = [
            s.snapshot_id for s in snaps if s.timestamp < older_than and s.snapshot_id not in keep
        ]
        for v in doomed:
            os.remove(self._log(v))
        self._versions = self._list_versions()
        self._catalog._changed(self._name)
        return len(doomed)

    def referenced_files(self) -> set[str]:
        """Data files of every kept version (log files are protected)."""
        out: set[str] = set()
        for v in self._list_versions():
            try:
                entry = self._read(v)
            except SnapshotNotFoundError:
                continue
            out.update(os.path.join(self._location, f["path"]) for f in entry["files"])
        return out

    def refresh(self) -> ParquetTable:
        """The current version, reloaded."""
        return ParquetTable(self._catalog, self._name, self._location)


def _prune_empty(folder: str, stop: str) -> None:
    """Remove ``folder`` and its parents up to ``stop`` while they are empty."""
    while os.path.abspath(folder) != os.path.abspath(stop) and folder.startswith(stop):
        try:
            os.rmdir(folder)
        except OSError:
            return
        folder = os.path.dirname(folder)


def _publish(location: str, version: int, entry: Mapping[str, Any]) -> None:
    """Write log ``version`` exclusively: the loser of a race gets CommitConflictError."""
    folder = os.path.join(location, LOG_DIR)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(entry, f)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, os.path.join(folder, f"{version:020d}.json"))
        except FileExistsError:
            raise CommitConflictError(
                f"{location}: version {version} was committed by another writer"
            ) from None
    finally:
        os.unlink(tmp)


class ParquetCatalog(FolderNames, Catalog):
    """Plain-Parquet tables in ``<warehouse>/<namespace>.db/<table>/``.

    Example:
        >>> import tempfile
        >>> ParquetCatalog(tempfile.mkdtemp()).list_tables()
        []
    """

    format = "parquet"
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
    ) -> ParquetTable:
        """Create a table (with its first files, when given) as version 0."""
        ns, tbl = parse_name(name)
        full = f"{ns}.{tbl}"
        fields = [parse_partition(p) for p in partition_by]
        for f in fields:
            if f.transform != "identity":
                raise ConfigError(
                    f"plain Parquet tables partition by columns only, not {f.transform}"
                )
            if f.source not in schema.names:
                raise ConfigError(f"partition_by: no column {f.source!r}; columns: {schema.names}")
        location = self.default_location(full)
        if os.path.isdir(os.path.join(location, LOG_DIR)):
            raise TableExistsError(f"table {full} exists")
        os.makedirs(os.path.dirname(location), exist_ok=True)
        entry: dict[str, Any] = {
            "version": 0,
            "parent": None,
            "timestamp_ms": int(time.time() * 1000),
            "operation": "create",
            "summary": {},
            "schema": _schema_text(schema),
            "partition_by": [f.source for f in fields],
            "properties": dict(properties or {}),
            "aliases": {},
            "files": [],
        }
        try:
            _publish(location, 0, entry)
        except CommitConflictError:
            raise TableExistsError(f"table {full} exists") from None
        table = ParquetTable(self, full, location)
        if files:
            table.commit_files(files, file_schema=schema, summary=summary)
        return table

    def load_table(self, name: str) -> ParquetTable:
        """The table's current version."""
        ns, tbl = parse_name(name)
        return ParquetTable(self, f"{ns}.{tbl}", self.default_location(name))

    def drop_table(self, name: str, *, purge: bool = True) -> None:
        """Remove the table's log (and with ``purge``, its folder)."""
        table = self.load_table(name)
        if purge:
            shutil.rmtree(table.location)
        else:
            shutil.rmtree(os.path.join(table.location, LOG_DIR))

    def rename_table(self, old: str, new: str) -> ParquetTable:
        """Move the table's folder."""
        table = self.load_table(old)
        target = self.default_location(new)
        if os.path.exists(target):
            raise TableExistsError(f"table {new} exists")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.rename(table.location, target)
        return self.load_table(new)

    def current_version(self, name: str) -> str | None:
        """The newest log version's file name."""
        folder = os.path.join(self.default_location(name), LOG_DIR)
        try:
            names = [n for n in os.listdir(folder) if n.endswith(".json") and not n.startswith(".")]
        except FileNotFoundError:
            return None
        return max(names) if names else None
