"""Iceberg tables through pyiceberg: any pyiceberg catalog, SQLite in the warehouse by default.

Data files are written by logflow's Rust writer without Parquet field ids; every table
carries a name mapping (``schema.name-mapping.default``), which pyiceberg extends on each
schema change, so old files keep reading right after renames and added columns. Commits
build the manifest entries from the Parquet footers (no row is read), so one ingest is one
snapshot, however many files it wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

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
    local_path,
    parse_name,
    parse_partition,
    plan_schema_change,
)
from logflow.errors import (
    CatalogError,
    CommitConflictError,
    ConfigError,
    NamespaceNotFoundError,
    SchemaError,
    SnapshotNotFoundError,
    TableExistsError,
    TableNotFoundError,
    UnsupportedOperationError,
)
from logflow.query.cache import LruCache

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.catalog import Catalog as PyIcebergCatalog
    from pyiceberg.manifest import DataFile
    from pyiceberg.schema import Schema as IcebergSchema
    from pyiceberg.table import Table as PyIcebergTable
    from pyiceberg.table import Transaction
    from pyiceberg.table.metadata import TableMetadata
    from pyiceberg.table.snapshots import Snapshot as IcebergSnapshot
    from pyiceberg.types import IcebergType

__all__ = ["IcebergCatalog", "IcebergTable"]

_EPOCH_DATE = date(1970, 1, 1)
_EPOCH = datetime(1970, 1, 1)
_EPOCH_TZ = datetime(1970, 1, 1, tzinfo=UTC)
NAME_MAPPING = "schema.name-mapping.default"


def _ident(name: str) -> tuple[str, str]:
    return parse_name(name)


def _iceberg_type(arrow_type: pa.DataType) -> IcebergType:
    import pyarrow as pa
    from pyiceberg.io.pyarrow import _pyarrow_to_schema_without_ids

    return (
        _pyarrow_to_schema_without_ids(pa.schema([pa.field("x", arrow_type)])).fields[0].field_type
    )


def _arrow_of(iceberg_type: IcebergType) -> pa.DataType:
    from pyiceberg.io.pyarrow import schema_to_pyarrow
    from pyiceberg.schema import Schema
    from pyiceberg.types import NestedField

    arrow = schema_to_pyarrow(Schema(NestedField(1, "x", iceberg_type, required=False)))
    return _plain_type(arrow.field("x").type)


def _plain_type(t: pa.DataType) -> pa.DataType:
    import pyarrow as pa

    if t == pa.large_string():
        return pa.string()
    if t == pa.large_binary():
        return pa.binary()
    return t


def _plain_schema(schema: pa.Schema) -> pa.Schema:
    """Iceberg's Arrow schema with plain string types and no field-id metadata."""
    import pyarrow as pa

    return pa.schema([pa.field(f.name, _plain_type(f.type), f.nullable) for f in schema])


def _to_internal(value: Any) -> Any:  # noqa: ANN401 - any partition value
    """A Python value as Iceberg keeps it in partition tuples."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return (value - _EPOCH_TZ) // timedelta(microseconds=1)
        return (value - _EPOCH) // timedelta(microseconds=1)
    if isinstance(value, date):
        return (value - _EPOCH_DATE).days
    if isinstance(value, time):
        return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + (
            value.microsecond
        )
    return value


def _from_internal(value: Any, iceberg_type: IcebergType) -> Any:  # noqa: ANN401
    """An Iceberg partition value as the Python value of its column."""
    from pyiceberg.types import DateType, TimestampType, TimestamptzType, TimeType

    if value is None:
        return None
    if isinstance(iceberg_type, DateType) and isinstance(value, int):
        return _EPOCH_DATE + timedelta(days=value)
    if isinstance(iceberg_type, TimestampType) and isinstance(value, int):
        return _EPOCH + timedelta(microseconds=value)
    if isinstance(iceberg_type, TimestamptzType) and isinstance(value, int):
        return _EPOCH_TZ + timedelta(microseconds=value)
    if isinstance(iceberg_type, TimeType) and isinstance(value, int):
        return (datetime.min + timedelta(microseconds=value)).time()
    if isinstance(value, Decimal):
        return value
    return value


def _snapshot(snap: IcebergSnapshot) -> Snapshot:
    summary = snap.summary
    props: dict[str, str] = {}
    operation = "append"
    if summary is not None:
        operation = summary.operation.value
        props = {str(k): str(v) for k, v in summary.additional_properties.items()}
    return Snapshot(
        snapshot_id=snap.snapshot_id,
        parent_id=snap.parent_snapshot_id,
        timestamp=datetime.fromtimestamp(snap.timestamp_ms / 1000, tz=UTC),
        operation=operation,
        summary=props,
    )


class IcebergTable(Table):
    """An Iceberg table, reading the current snapshot or a pinned one.

    Example:
        >>> t = engine.table("analytics.events")  # doctest: +SKIP
        >>> t.format, t.partitioning  # doctest: +SKIP
        ('iceberg', (PartitionField(source='date', transform='identity', name='date'),))
    """

    format = "iceberg"

    def __init__(
        self, catalog: IcebergCatalog, table: PyIcebergTable, snapshot_id: int | None = None
    ) -> None:
        self._catalog = catalog
        self._tbl = table
        self._pinned = snapshot_id

    # -- reading -----------------------------------------------------------------------

    @property
    def name(self) -> str:
        """``namespace.table``."""
        return ".".join(self._tbl.name()[-2:])

    @property
    def location(self) -> str:
        """The table's folder."""
        return local_path(self._tbl.location())

    @property
    def metadata_location(self) -> str:
        """The metadata file this object was loaded from."""
        return str(self._tbl.metadata_location)

    def _snap(self) -> IcebergSnapshot | None:
        if self._pinned is not None:
            return self._tbl.metadata.snapshot_by_id(self._pinned)
        return self._tbl.metadata.current_snapshot()

    def _iceberg_schema(self) -> IcebergSchema:
        snap = self._snap()
        if self._pinned is not None and snap is not None and snap.schema_id is not None:
            schema = self._tbl.metadata.schema_by_id(snap.schema_id)
            if schema is not None:
                return schema
        return self._tbl.metadata.schema()

    @property
    def schema(self) -> pa.Schema:
        """The schema of the snapshot read (the current schema when not pinned)."""
        return _plain_schema(self._iceberg_schema().as_arrow())

    @property
    def partitioning(self) -> tuple[PartitionField, ...]:
        """The default partition spec."""
        schema = self._tbl.metadata.schema()
        out = []
        for f in self._tbl.metadata.spec().fields:
            out.append(
                PartitionField(schema.find_column_name(f.source_id) or "", str(f.transform), f.name)
            )
        return tuple(out)

    @property
    def properties(self) -> Mapping[str, str]:
        """Table properties."""
        return dict(self._tbl.metadata.properties)

    def snapshots(self) -> list[Snapshot]:
        """Snapshots kept, oldest first."""
        snaps = sorted(
            self._tbl.metadata.snapshots, key=lambda s: (s.timestamp_ms, s.sequence_number)
        )
        return [_snapshot(s) for s in snaps]

    def current_snapshot(self) -> Snapshot | None:
        """The snapshot read."""
        snap = self._snap()
        return _snapshot(snap) if snap is not None else None

    def as_of(self, when: int | datetime) -> IcebergTable:
        """The table at a snapshot id or time."""
        if isinstance(when, datetime):
            snapshot_id = self.snapshot_at(when).snapshot_id
        else:
            if self._tbl.metadata.snapshot_by_id(int(when)) is None:
                raise SnapshotNotFoundError(f"table {self.name} has no snapshot {when}")
            snapshot_id = int(when)
        return IcebergTable(self._catalog, self._tbl, snapshot_id)

    def _entries(self) -> list[DataFile]:
        snap = self._snap()
        if snap is None:
            return []
        key = (self.metadata_location, snap.snapshot_id)
        cached = self._catalog._files_cache.get(key)
        if cached is not None:
            return cached
        from pyiceberg.manifest import DataFileContent

        io = self._tbl.io
        files: list[DataFile] = []
        for manifest in snap.manifests(io):
            for entry in manifest.fetch_manifest_entry(io, discard_deleted=True):
                if entry.data_file.content != DataFileContent.DATA:
                    raise UnsupportedOperationError(
                        f"table {self.name}: snapshot {snap.snapshot_id} has row-level delete "
                        "files, which logflow's reader does not apply"
                    )
                files.append(entry.data_file)
        self._catalog._files_cache.put(key, files)
        return files

    def _partition_values(self, df: DataFile) -> dict[str, Any]:
        """Partition values by field name.

        Identity values come as their column's Python values (dates, datetimes), other
        transforms as Iceberg keeps them (ints, text).
        """
        spec = self._tbl.metadata.specs().get(df.spec_id)
        if spec is None:
            return {}
        schema = self._tbl.metadata.schema()
        out = {}
        for i, f in enumerate(spec.fields):
            value = df.partition[i]
            if str(f.transform) == "identity":
                source = schema.find_field(f.source_id)
                value = _from_internal(value, source.field_type)
            out[f.name] = value
        return out

    def data_files(self) -> list[DataFileInfo]:
        """The data files of the snapshot read."""
        return [
            DataFileInfo(
                path=local_path(df.file_path),
                size=df.file_size_in_bytes,
                record_count=df.record_count,
                partition=self._partition_values(df),
            )
            for df in self._entries()
        ]

    def _names_by_id(self) -> dict[int, list[str]]:
        """Every name a top-level field may have in a file: name mapping first."""
        from pyiceberg.table.name_mapping import NameMapping

        out: dict[int, list[str]] = {}
        raw = self._tbl.metadata.properties.get(NAME_MAPPING)
        if raw:
            mapping = NameMapping.model_validate_json(raw)
            for mf in mapping:
                if mf.field_id is not None:
                    out.setdefault(mf.field_id, []).extend(mf.names)
        return out

    def read_plan(self) -> ReadPlan:
        """Files grouped by how their columns map onto the schema (by field id)."""
        schema = self._iceberg_schema()
        arrow = _plain_schema(schema.as_arrow())
        snap = self._snap()
        key = ("plan", self.metadata_location, snap.snapshot_id if snap else None, schema.schema_id)
        cached = self._catalog._files_cache.get(key)
        if cached is not None:
            return cached
        aliases = self._names_by_id()
        names = []
        for f in schema.fields:
            extra = [n for n in aliases.get(f.field_id, []) if n != f.name]
            names.append([f.name, *extra])
        specs = self._tbl.metadata.specs()
        by_id = {f.field_id: f for f in schema.fields}
        files = []
        for df in self._entries():
            fill: dict[str, Any] = {}
            spec = specs.get(df.spec_id)
            if spec is not None:
                for i, pf in enumerate(spec.fields):
                    src = by_id.get(pf.source_id)
                    if src is not None and str(pf.transform) == "identity":
                        fill[src.name] = _from_internal(df.partition[i], src.field_type)
            files.append((local_path(df.file_path), df.file_size_in_bytes, fill))
        plan = ReadPlan(arrow, group_files(arrow, names, files), snap.snapshot_id if snap else None)
        self._catalog._files_cache.put(key, plan)
        return plan

    # -- writing -----------------------------------------------------------------------

    def _check_writable(self) -> None:
        if self._pinned is not None:
            raise UnsupportedOperationError(
                f"table {self.name} is pinned to snapshot {self._pinned}; "
                "write to the current table"
            )

    def _resolve(self) -> dict[str, str]:
        schema = self._tbl.metadata.schema()
        out: dict[str, str] = {}
        for field_id, names in self._names_by_id().items():
            try:
                current = schema.find_column_name(field_id)
            except ValueError:
                continue
            if current is None:
                continue
            for n in names:
                out.setdefault(n, current)
        return out

    def _apply_schema_change(
        self, tx: Transaction, file_schema: pa.Schema, policy: SchemaPolicy
    ) -> None:
        change = plan_schema_change(
            _plain_schema(self._tbl.metadata.schema().as_arrow()),
            file_schema,
            policy,
            resolve=self._resolve(),
            table_name=self.name,
        )
        if change.empty:
            return
        from pyiceberg.types import PrimitiveType

        with tx.update_schema() as update:
            for f in change.added:
                update.add_column(f.name, _iceberg_type(f.type))
            for name, new_type in change.widened:
                ice = _iceberg_type(new_type)
                if not isinstance(ice, PrimitiveType):
                    raise SchemaError(f"table {self.name}: cannot widen {name!r} to {new_type}")
                update.update_column(name, field_type=ice)

    def _commit(self, tx: Transaction) -> Snapshot:
        from pyiceberg.exceptions import CommitFailedException

        try:
            self._tbl = tx.commit_transaction()
        except CommitFailedException as e:
            raise CommitConflictError(f"table {self.name}: {e}") from e
        self._catalog._changed(self.name)
        snap = self._tbl.metadata.current_snapshot()
        assert snap is not None
        return _snapshot(snap)

    def commit_files(
        self,
        files: Sequence[StagedFile],
        *,
        file_schema: pa.Schema,
        mode: WriteMode = "append",
        schema_policy: SchemaPolicy = "evolve",
        summary: Mapping[str, str] | None = None,
    ) -> Snapshot:
        """Commit staged files (and the schema change they need) as one snapshot."""
        self._check_writable()
        if mode not in ("append", "overwrite"):
            raise ConfigError(f"mode must be 'append' or 'overwrite', got {mode!r}")
        tx = self._tbl.transaction()
        self._apply_schema_change(tx, file_schema, schema_policy)
        _write_snapshot(tx, self._tbl, files, mode, summary or {}, current=self._entries())
        return self._commit(tx)

    def replace_files(
        self,
        remove: Sequence[str],
        add: Sequence[StagedFile],
        *,
        summary: Mapping[str, str] | None = None,
    ) -> Snapshot:
        """Swap files for others with the same rows, in one snapshot."""
        self._check_writable()
        wanted = set(remove)
        old = [df for df in self._entries() if local_path(df.file_path) in wanted]
        if len(old) != len(wanted):
            raise CommitConflictError(
                f"table {self.name}: some files to replace are no longer in the table"
            )
        tx = self._tbl.transaction()
        props = dict(summary or {})
        with tx.update_snapshot(snapshot_properties=props).overwrite() as ow:
            for df in old:
                ow.delete_data_file(df)
            for staged in add:
                ow.append_data_file(_data_file(tx.table_metadata, staged))
        return self._commit(tx)

    def add_column(self, name: str, type: pa.DataType) -> None:
        """Add a nullable column."""
        self._check_writable()
        from pyiceberg.exceptions import CommitFailedException

        try:
            with self._tbl.update_schema() as update:
                update.add_column(name, _iceberg_type(type))
        except ValueError as e:
            raise SchemaError(f"table {self.name}: {e}") from e
        except CommitFailedException as e:
            raise CommitConflictError(f"table {self.name}: {e}") from e
        self._refresh_self()

    def rename_column(self, old: str, new: str) -> None:
        """Rename a column; the name mapping keeps the old name for old files."""
        self._check_writable()
        try:
            with self._tbl.update_schema() as update:
                update.rename_column(old, new)
        except ValueError as e:
            raise SchemaError(f"table {self.name}: {e}", column=old) from e
        self._refresh_self()

    def _refresh_self(self) -> None:
        self._catalog._changed(self.name)
        self._tbl = self._tbl.refresh()

    def expire_snapshots(self, older_than: datetime, *, retain_last: int = 1) -> int:
        """Expire old snapshots (never the current one or the last ``retain_last``)."""
        self._check_writable()
        if older_than.tzinfo is None:
            older_than = older_than.replace(tzinfo=UTC)
        snaps = self.snapshots()
        keep = {s.snapshot_id for s in snaps[-max(retain_last, 1) :]}
        current = self._tbl.metadata.current_snapshot()
        if current is not None:
            keep.add(current.snapshot_id)
        ids = [
            s.snapshot_id for s in snaps if s.timestamp < older_than and s.snapshot_id not in keep
        ]
        if not ids:
            return 0
        self._tbl.maintenance.expire_snapshots().by_ids(ids).commit()
        self._refresh_self()
        return len(ids)

    def referenced_files(self) -> set[str]:
        """Data files, manifests, manifest lists and metadata files of every kept snapshot."""
        meta = self._tbl.metadata
        io = self._tbl.io
        out = {local_path(self.metadata_location)}
        out.update(local_path(e.metadata_file) for e in meta.metadata_log)
        for stat in list(meta.statistics) + list(getattr(meta, "partition_statistics", [])):
            out.add(local_path(stat.statistics_path))
        for snap in meta.snapshots:
            out.add(local_path(snap.manifest_list))
            for manifest in snap.manifests(io):
                out.add(local_path(manifest.manifest_path))
                for entry in manifest.fetch_manifest_entry(io, discard_deleted=True):
                    out.add(local_path(entry.data_file.file_path))
        return out

    def refresh(self) -> IcebergTable:
        """The current table, reloaded."""
        return self._catalog.load_table(self.name)


def _write_snapshot(
    tx: Transaction,
    tbl: PyIcebergTable | None,
    files: Sequence[StagedFile],
    mode: WriteMode,
    summary: Mapping[str, str],
    *,
    current: Sequence[DataFile] = (),
) -> None:
    props = dict(summary)
    snapshot = tx.update_snapshot(snapshot_properties=props)
    if mode == "overwrite" and current:
        with snapshot.overwrite() as ow:
            for df in current:
                ow.delete_data_file(df)
            for staged in files:
                ow.append_data_file(_data_file(tx.table_metadata, staged))
    else:
        with snapshot.fast_append() as fa:
            for staged in files:
                fa.append_data_file(_data_file(tx.table_metadata, staged))


def _column_mapping(metadata: TableMetadata) -> dict[str, int]:
    from pyiceberg.io.pyarrow import parquet_path_to_id_mapping
    from pyiceberg.table.name_mapping import NameMapping

    mapping = parquet_path_to_id_mapping(metadata.schema())
    raw = metadata.properties.get(NAME_MAPPING)
    if raw:
        for mf in NameMapping.model_validate_json(raw):
            if mf.field_id is not None and not mf.fields:
                for n in mf.names:
                    mapping.setdefault(n, mf.field_id)
    return mapping


def _data_file(metadata: TableMetadata, staged: StagedFile) -> DataFile:
    """A manifest entry for a written Parquet file, from its footer alone."""
    import os

    import pyarrow.parquet as pq
    from pyiceberg.io.pyarrow import (
        compute_statistics_plan,
        data_file_statistics_from_parquet_metadata,
    )
    from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
    from pyiceberg.typedef import Record

    footer = pq.read_metadata(staged.path)
    schema = metadata.schema()
    stats = data_file_statistics_from_parquet_metadata(
        parquet_metadata=footer,
        stats_columns=compute_statistics_plan(schema, metadata.properties),
        parquet_column_mapping=_column_mapping(metadata),
    )
    spec = metadata.spec()
    values = []
    for f in spec.fields:
        if f.name not in staged.partition:
            raise SchemaError(f"{staged.path}: no value for partition field {f.name!r}")
        values.append(_to_internal(staged.partition[f.name]))
    return DataFile.from_args(
        content=DataFileContent.DATA,
        file_path=staged.path,
        file_format=FileFormat.PARQUET,
        partition=Record(*values),
        file_size_in_bytes=os.path.getsize(staged.path),
        sort_order_id=None,
        spec_id=metadata.default_spec_id,
        equality_ids=None,
        key_metadata=None,
        **stats.to_serialized_dict(),
    )


class IcebergCatalog(Catalog):
    """Iceberg tables in any pyiceberg catalog.

    Args:
        catalog: A pyiceberg catalog (``SqlCatalog`` on SQLite or PostgreSQL, REST, ...).
        warehouse: The folder new tables go under (``<warehouse>/<namespace>.db/<table>``).

    Example:
        >>> from logflow.catalog import load_catalog
        >>> cat = load_catalog("sql", warehouse="/tmp/wh")  # doctest: +SKIP
    """

    format = "iceberg"

    def __init__(self, catalog: PyIcebergCatalog, warehouse: str) -> None:
        self.iceberg = catalog
        self.warehouse = local_path(warehouse)
        self._files_cache = LruCache(512)
        self._version_probe = _sql_probe(catalog)

    def _changed(self, name: str) -> None:
        """Hook: a table of this catalog committed (the engine clears its caches)."""

    def default_location(self, name: str) -> str:
        """Where a table of this name lives: ``<warehouse>/<namespace>.db/<table>``."""
        ns, tbl = _ident(name)
        return f"{self.warehouse.rstrip('/')}/{ns}.db/{tbl}"

    def create_namespace(self, namespace: str) -> None:
        """Create a namespace."""
        from pyiceberg.exceptions import NamespaceAlreadyExistsError

        try:
            self.iceberg.create_namespace(namespace)
        except NamespaceAlreadyExistsError:
            raise TableExistsError(f"namespace {namespace!r} exists") from None

    def list_namespaces(self) -> list[str]:
        """Every namespace."""
        return sorted(".".join(ns) for ns in self.iceberg.list_namespaces())

    def drop_namespace(self, namespace: str) -> None:
        """Drop an empty namespace."""
        from pyiceberg.exceptions import NamespaceNotEmptyError, NoSuchNamespaceError

        try:
            self.iceberg.drop_namespace(namespace)
        except NoSuchNamespaceError:
            raise NamespaceNotFoundError(f"no namespace {namespace!r}") from None
        except NamespaceNotEmptyError:
            raise CatalogError(f"namespace {namespace!r} still holds tables") from None

    def create_table(
        self,
        name: str,
        schema: pa.Schema,
        *,
        partition_by: Sequence[str] = (),
        properties: Mapping[str, str] | None = None,
        files: Sequence[StagedFile] = (),
        summary: Mapping[str, str] | None = None,
    ) -> IcebergTable:
        """Create a table; with ``files``, its first snapshot is committed in the same step."""
        from pyiceberg.exceptions import TableAlreadyExistsError

        ns, tbl = _ident(name)
        self.iceberg.create_namespace_if_not_exists(ns)
        fields = [parse_partition(p) for p in partition_by]
        for f in fields:
            if f.source not in schema.names:
                raise ConfigError(
                    f"partition_by: no column {f.source!r} in {name}; columns: {schema.names}"
                )
        try:
            tx = self.iceberg.create_table_transaction(
                (ns, tbl),
                schema=schema,
                location=self.default_location(name),
                properties=dict(properties or {}),
            )
        except TableAlreadyExistsError:
            raise TableExistsError(f"table {name} exists") from None
        tx.set_properties({NAME_MAPPING: tx.table_metadata.schema().name_mapping.model_dump_json()})
        if fields:
            from pyiceberg.transforms import parse_transform

            with tx.update_spec() as spec:
                for f in fields:
                    spec.add_field(f.source, parse_transform(f.transform), f.name)
        if files:
            _write_snapshot(tx, None, files, "append", summary or {})
        from pyiceberg.exceptions import CommitFailedException

        try:
            tx.commit_transaction()
        except (TableAlreadyExistsError, CommitFailedException):
            if self.table_exists(name):
                raise TableExistsError(f"table {name} exists") from None
            raise
        self._changed(name)
        return self.load_table(name)

    def load_table(self, name: str) -> IcebergTable:
        """The table's current state."""
        from pyiceberg.exceptions import NoSuchTableError

        try:
            return IcebergTable(self, self.iceberg.load_table(_ident(name)))
        except NoSuchTableError:
            raise TableNotFoundError(f"no table {name}") from None

    def list_tables(self, namespace: str | None = None) -> list[str]:
        """Tables in one namespace or all."""
        from pyiceberg.exceptions import NoSuchNamespaceError

        spaces = [namespace] if namespace is not None else self.list_namespaces()
        out: list[str] = []
        for ns in spaces:
            try:
                out.extend(".".join(t) for t in self.iceberg.list_tables(ns))
            except NoSuchNamespaceError:
                if namespace is not None:
                    raise NamespaceNotFoundError(f"no namespace {namespace!r}") from None
        return sorted(out)

    def drop_table(self, name: str, *, purge: bool = True) -> None:
        """Drop a table (and its folder, with ``purge``)."""
        import shutil

        from pyiceberg.exceptions import NoSuchTableError

        table = self.load_table(name)
        try:
            self.iceberg.drop_table(_ident(name))
        except NoSuchTableError:
            raise TableNotFoundError(f"no table {name}") from None
        self._changed(name)
        if purge:
            shutil.rmtree(table.location, ignore_errors=True)

    def rename_table(self, old: str, new: str) -> IcebergTable:
        """Rename a table (its files stay where they are)."""
        from pyiceberg.exceptions import NoSuchTableError, TableAlreadyExistsError

        self.iceberg.create_namespace_if_not_exists(_ident(new)[0])
        try:
            renamed = self.iceberg.rename_table(_ident(old), _ident(new))
        except NoSuchTableError:
            raise TableNotFoundError(f"no table {old}") from None
        except TableAlreadyExistsError:
            raise TableExistsError(f"table {new} exists") from None
        self._changed(old)
        self._changed(new)
        return IcebergTable(self, renamed)

    def current_version(self, name: str) -> str | None:
        """The table's metadata location, read straight from a SQL catalog's table."""
        if self._version_probe is None:
            return None
        ns, tbl = _ident(name)
        return self._version_probe(ns, tbl)

    def close(self) -> None:
        """Dispose of a SQL catalog's connection pool."""
        engine = getattr(self.iceberg, "engine", None)
        if engine is not None:
            engine.dispose()


def _sql_probe(catalog: PyIcebergCatalog) -> Callable[[str, str], str | None] | None:
    """For a pyiceberg ``SqlCatalog``: a function reading a table's metadata location."""
    try:
        from pyiceberg.catalog.sql import IcebergTables, SqlCatalog
    except ImportError:  # pragma: no cover - the sql extra is a dependency
        return None
    if not isinstance(catalog, SqlCatalog):
        return None
    from sqlalchemy import bindparam, select

    engine = catalog.engine
    query = select(IcebergTables.metadata_location).where(
        IcebergTables.catalog_name == catalog.name,
        IcebergTables.table_namespace == bindparam("ns"),
        IcebergTables.table_name == bindparam("tbl"),
    )

    def probe(ns: str, tbl: str) -> str | None:
        with engine.connect() as conn:
            row = conn.execute(query, {"ns": ns, "tbl": tbl}).first()
        return None if row is None else str(row[0])

    return probe
