"""The Catalog / Table contract, run against every implementation: Iceberg on SQLite, in
memory and on PostgreSQL; Delta; plain Parquet."""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from logflow.catalog import Catalog, StagedFile, load_catalog
from logflow.errors import (
    NamespaceNotFoundError,
    SchemaError,
    SnapshotNotFoundError,
    TableExistsError,
    TableNotFoundError,
    UnsupportedOperationError,
)

SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string()), ("day", pa.date32())])


@pytest.fixture(params=["sqlite", "memory", "postgres", "delta", "parquet"])
def catalog(request, tmp_path) -> Catalog:
    wh = tmp_path / "wh"
    if request.param == "sqlite":
        cat = load_catalog("sql", warehouse=wh)
    elif request.param == "memory":
        cat = load_catalog("memory", warehouse=wh)
    elif request.param == "postgres":
        uri = request.getfixturevalue("postgres_uri")
        cat = load_catalog("sql", warehouse=wh, uri=uri, catalog_name=f"c{uuid.uuid4().hex[:10]}")
    else:
        cat = load_catalog(request.param, warehouse=wh)
    yield cat
    cat.close()


def stage(catalog: Catalog, name: str, rows: list[dict], schema: pa.Schema = SCHEMA) -> StagedFile:
    """A data file written inside the (future) table folder, as an ingest does."""
    folder = os.path.join(catalog.default_location(name), "data", uuid.uuid4().hex)
    os.makedirs(folder)
    path = os.path.join(folder, "part-00000.parquet")
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return StagedFile(path)


ROWS = [
    {"id": 1, "name": "a", "day": datetime(2024, 1, 1).date()},
    {"id": 2, "name": "b", "day": datetime(2024, 1, 2).date()},
]


def test_catalog_namespaces_create_list_drop(catalog):
    catalog.create_namespace("sales")
    assert "sales" in catalog.list_namespaces()
    with pytest.raises(TableExistsError):
        catalog.create_namespace("sales")
    catalog.drop_namespace("sales")
    assert "sales" not in catalog.list_namespaces()
    with pytest.raises(NamespaceNotFoundError):
        catalog.drop_namespace("sales")


def test_catalog_create_get_list_drop_table(catalog):
    table = catalog.create_table("db.t", SCHEMA)
    assert table.name == "db.t" and table.format == catalog.format
    assert table.schema.names == SCHEMA.names
    assert catalog.load_table("db.t").location == table.location
    assert catalog.list_tables("db") == ["db.t"]
    assert catalog.list_tables() == ["db.t"]
    assert catalog.table_exists("db.t")
    with pytest.raises(TableExistsError):
        catalog.create_table("db.t", SCHEMA)
    catalog.drop_table("db.t")
    assert not catalog.table_exists("db.t")
    with pytest.raises(TableNotFoundError):
        catalog.load_table("db.t")
    with pytest.raises(LookupError):  # the builtin a caller already catches
        catalog.drop_table("db.t")


def test_catalog_rename_table_keeps_data(catalog):
    catalog.create_table("db.old", SCHEMA, files=[stage(catalog, "db.old", ROWS)])
    renamed = catalog.rename_table("db.old", "other.new")
    assert renamed.name == "other.new"
    assert not catalog.table_exists("db.old")
    assert catalog.load_table("other.new").to_arrow().num_rows == 2
    catalog.create_table("db.taken", SCHEMA)
    with pytest.raises(TableExistsError):
        catalog.rename_table("other.new", "db.taken")
    with pytest.raises(TableNotFoundError):
        catalog.rename_table("db.ghost", "db.x")


def test_table_commits_are_snapshots_with_summaries(catalog):
    t = catalog.create_table(
        "db.t", SCHEMA, files=[stage(catalog, "db.t", ROWS)], summary={"logflow.k": "1"}
    )
    first = t.current_snapshot()
    assert first is not None and first.summary["logflow.k"] == "1"
    time.sleep(0.01)
    second = t.commit_files(
        [stage(catalog, "db.t", [{"id": 3, "name": "c", "day": None}])],
        file_schema=SCHEMA,
        summary={"logflow.k": "2"},
    )
    assert second.snapshot_id != first.snapshot_id
    assert second.parent_id == first.snapshot_id
    ids = [s.snapshot_id for s in catalog.load_table("db.t").snapshots()]
    assert ids[-2:] == [first.snapshot_id, second.snapshot_id]
    assert sorted(catalog.load_table("db.t").to_arrow().column("id").to_pylist()) == [1, 2, 3]


def test_table_as_of_snapshot_id_and_time(catalog):
    t = catalog.create_table("db.t", SCHEMA, files=[stage(catalog, "db.t", ROWS)])
    first = t.current_snapshot()
    time.sleep(0.02)
    t.commit_files([stage(catalog, "db.t", ROWS)], file_schema=SCHEMA)
    t = catalog.load_table("db.t")
    assert t.to_arrow().num_rows == 4
    assert t.as_of(first.snapshot_id).to_arrow().num_rows == 2
    assert t.as_of(first.timestamp).to_arrow().num_rows == 2
    assert t.as_of(datetime.now(UTC) + timedelta(days=1)).to_arrow().num_rows == 4
    with pytest.raises(SnapshotNotFoundError):
        t.as_of(datetime(2000, 1, 1, tzinfo=UTC))
    with pytest.raises(SnapshotNotFoundError):
        t.as_of(987654321)


def test_table_data_files_have_sizes_and_counts(catalog):
    t = catalog.create_table("db.t", SCHEMA, files=[stage(catalog, "db.t", ROWS)])
    [f] = t.data_files()
    assert os.path.isfile(f.path) and f.size == os.path.getsize(f.path)
    assert f.record_count in (2, 0) if catalog.format == "delta" else f.record_count == 2


def test_table_overwrite_replaces_rows(catalog):
    t = catalog.create_table("db.t", SCHEMA, files=[stage(catalog, "db.t", ROWS)])
    t.commit_files([stage(catalog, "db.t", ROWS[:1])], file_schema=SCHEMA, mode="overwrite")
    assert catalog.load_table("db.t").to_arrow().column("id").to_pylist() == [1]


def test_table_schema_evolution_adds_columns(catalog):
    t = catalog.create_table("db.t", SCHEMA, files=[stage(catalog, "db.t", ROWS)])
    wider = SCHEMA.append(pa.field("extra", pa.string()))
    t.commit_files(
        [stage(catalog, "db.t", [{"id": 9, "name": "z", "day": None, "extra": "new"}], wider)],
        file_schema=wider,
    )
    data = catalog.load_table("db.t").to_arrow().sort_by("id")
    assert data.column_names == [*SCHEMA.names, "extra"]
    assert data.column("extra").to_pylist() == [None, None, "new"]


def test_table_schema_policy_refuses_what_it_must(catalog):
    t = catalog.create_table("db.t", SCHEMA, files=[stage(catalog, "db.t", ROWS)])
    wider = SCHEMA.append(pa.field("extra", pa.string()))
    for policy in ("strict", "merge"):
        with pytest.raises(SchemaError, match="extra"):
            t.commit_files(
                [stage(catalog, "db.t", [], wider)], file_schema=wider, schema_policy=policy
            )
    clash = pa.schema([("id", pa.string())])
    with pytest.raises(SchemaError, match="id"):
        t.commit_files([stage(catalog, "db.t", [], clash)], file_schema=clash)
    assert len(catalog.load_table("db.t").snapshots()) == len(t.snapshots())


def test_table_add_and_rename_columns(catalog):
    t = catalog.create_table("db.t", SCHEMA, files=[stage(catalog, "db.t", ROWS)])
    t.add_column("note", pa.string())
    assert catalog.load_table("db.t").schema.names[-1] == "note"
    if catalog.format == "delta":
        with pytest.raises(UnsupportedOperationError):
            t.rename_column("name", "label")
        return
    t.rename_column("name", "label")
    data = catalog.load_table("db.t").to_arrow().sort_by("id")
    assert data.column("label").to_pylist() == ["a", "b"]
    assert data.column("note").to_pylist() == [None, None]


def test_table_replace_files_keeps_rows_in_one_snapshot(catalog):
    t = catalog.create_table("db.t", SCHEMA, files=[stage(catalog, "db.t", ROWS)])
    t.commit_files([stage(catalog, "db.t", ROWS)], file_schema=SCHEMA)
    t = catalog.load_table("db.t")
    before = len(t.snapshots())
    old = [f.path for f in t.data_files()]
    merged = stage(catalog, "db.t", ROWS + ROWS)
    t.replace_files(old, [merged])
    t = catalog.load_table("db.t")
    assert len(t.data_files()) == 1
    assert t.to_arrow().num_rows == 4
    assert len(t.snapshots()) == before + 1


def test_table_expire_snapshots_keeps_current(catalog):
    t = catalog.create_table("db.t", SCHEMA, files=[stage(catalog, "db.t", ROWS)])
    for _ in range(2):
        t.commit_files([stage(catalog, "db.t", ROWS)], file_schema=SCHEMA)
    t = catalog.load_table("db.t")
    current = t.current_snapshot().snapshot_id
    expired = t.expire_snapshots(datetime.now(UTC) + timedelta(seconds=1))
    t = catalog.load_table("db.t")
    assert expired >= 1
    assert t.current_snapshot().snapshot_id == current
    assert t.to_arrow().num_rows == 6
    assert all(f.path in t.referenced_files() for f in t.data_files())


def test_table_read_plan_covers_every_file_once(catalog):
    t = catalog.create_table("db.t", SCHEMA, files=[stage(catalog, "db.t", ROWS)])
    t.commit_files([stage(catalog, "db.t", ROWS)], file_schema=SCHEMA)
    t = catalog.load_table("db.t")
    plan = t.read_plan()
    planned = sorted(p for g in plan.groups for p in g.files)
    assert planned == sorted(f.path for f in t.data_files())
    assert plan.snapshot_id == t.current_snapshot().snapshot_id


def test_table_stale_writer_conflicts_or_merges(catalog):
    from logflow.errors import CommitConflictError

    catalog.create_table("db.t", SCHEMA, files=[stage(catalog, "db.t", ROWS)])
    first, stale = catalog.load_table("db.t"), catalog.load_table("db.t")
    first.commit_files([stage(catalog, "db.t", ROWS)], file_schema=SCHEMA)
    late = stage(catalog, "db.t", ROWS[:1])
    try:
        stale.commit_files([late], file_schema=SCHEMA)
    except CommitConflictError:
        table = catalog.load_table("db.t")
        assert table.to_arrow().num_rows == 4
        if catalog.format == "parquet":  # its files were moved in for plain readers: gone again
            on_disk = {
                os.path.join(r, n)
                for r, _d, names in os.walk(table.location)
                for n in names
                if n.endswith(".parquet") and "/data/" not in r
            }
            assert on_disk == {f.path for f in table.data_files()}
    else:  # formats whose commits merge concurrent appends
        assert catalog.load_table("db.t").to_arrow().num_rows == 5
