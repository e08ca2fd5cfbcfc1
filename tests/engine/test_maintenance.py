"""Compaction, snapshot expiry and orphan removal."""

from __future__ import annotations

import os
from datetime import timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import logflow
from logflow.catalog import maintenance
from logflow.errors import SnapshotNotFoundError


def data_files_on_disk(location: str) -> set[str]:
    return {
        os.path.join(r, n)
        for r, _d, names in os.walk(location)
        for n in names
        if n.endswith(".parquet")
    }


@pytest.mark.parametrize("fmt", ["iceberg", "delta", "parquet"])
def test_compact_packs_small_files_in_one_snapshot(engine, write_events, fmt):
    for i in range(4):
        engine.ingest(write_events(25, f"p{i}.csv", start=25 * i), "t", table_format=fmt)
    before = engine.query("SELECT * FROM t ORDER BY event_id").to_arrow()
    table = engine.table("t")
    assert len(table.data_files()) == 4
    snaps = len(table.snapshots())
    r = engine.compact("t", target_file_size="64MB")
    table = engine.table("t")
    assert len(table.data_files()) == 1 and len(r.files_added) == 1
    assert len(r.files_removed) == 4 and len(r.snapshot_ids) == 1
    assert len(table.snapshots()) == snaps + 1
    assert table.current_snapshot().summary["logflow.operation"] == "compact"
    assert engine.query("SELECT * FROM t ORDER BY event_id").to_arrow().equals(before)
    # nothing left to do a second time
    assert engine.compact("t", target_file_size="64MB").snapshot_ids == ()


def test_compact_keeps_partitions_and_renamed_columns(engine, write_events, write_csv):
    for i in range(3):
        engine.ingest(write_events(30, f"p{i}.csv", start=30 * i), "t", partition_by=["date"])
    table = engine.table("t")
    table.rename_column("amount", "value")
    engine.ingest(write_csv("event_id,date,value\n999,2024-01-01,7.5\n", "late.csv"), "t")
    before = engine.query("SELECT * FROM t ORDER BY event_id").to_arrow()
    engine.compact("t", target_file_size="64MB")
    table = engine.table("t")
    assert len(table.data_files()) == 5  # one per day
    assert engine.query("SELECT * FROM t ORDER BY event_id").to_arrow().equals(before)
    theirs = engine.catalog().iceberg.load_table("default.t").scan().to_arrow()
    assert theirs.num_rows == before.num_rows
    assert sorted(theirs.column("value").to_pylist()) == sorted(before.column("value").to_pylist())


def test_compact_leaves_big_files_alone(engine, write_events):
    engine.ingest(write_events(50), "t")
    engine.ingest(write_events(50, "b.csv", start=50), "t")
    r = engine.compact("t", target_file_size=1000)  # both files are over half of it
    assert r.snapshot_ids == ()


def test_time_travel_survives_compaction_until_expiry(engine, write_events):
    first = engine.ingest(write_events(10), "t")
    engine.ingest(write_events(10, "b.csv", start=10), "t")
    engine.compact("t", target_file_size="64MB")
    assert engine.query("SELECT count(*) AS n FROM t", as_of=first.snapshot_id).to_pylist() == [
        {"n": 10}
    ]
    expired = engine.expire_snapshots("t", older_than=timedelta(0))
    assert expired.snapshots_expired == 2
    removed = engine.remove_orphans("t", older_than=timedelta(0))
    assert removed.files_removed
    table = engine.table("t")
    assert data_files_on_disk(table.location) == {f.path for f in table.data_files()}
    assert engine.query("SELECT count(*) AS n FROM t").to_pylist() == [{"n": 20}]
    with pytest.raises(SnapshotNotFoundError):
        engine.query("SELECT count(*) AS n FROM t", as_of=first.snapshot_id)


def test_remove_orphans_spares_young_files(engine, write_events):
    engine.ingest(write_events(10), "t")
    location = engine.table("t").location
    stray = os.path.join(location, "data", "crashed-ingest", "part-00000.parquet")
    os.makedirs(os.path.dirname(stray))
    pq.write_table(pa.table({"x": [1]}), stray)
    assert engine.remove_orphans("t").files_removed == ()  # younger than an hour
    assert os.path.exists(stray)
    assert engine.remove_orphans("t", older_than=timedelta(0)).files_removed == (stray,)
    assert not os.path.exists(os.path.dirname(stray))
    assert engine.query("SELECT count(*) AS n FROM t").to_pylist() == [{"n": 10}]


def test_maintain_runs_expiry_then_orphans_on_all_tables(engine, write_events):
    engine.ingest(write_events(5), "a")
    engine.ingest(write_events(5, "b.csv", start=5), "a", mode="overwrite")
    engine.ingest(write_events(5), "b", table_format="delta")
    r = engine.maintain(expire_older_than=timedelta(0), orphans_older_than=timedelta(0))
    assert set(r.tables) == {"default.a", "default.b"}
    assert r.snapshots_expired >= 1 and r.files_removed
    assert engine.query("SELECT count(*) AS n FROM a").to_pylist() == [{"n": 5}]


def _reader(n: int) -> pa.RecordBatchReader:
    table = pa.table(
        {"id": pa.array(range(n), pa.int64()), "s": pa.array([f"v{i}" for i in range(n)])}
    )
    return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=1000))


def test_rewrite_with_pyarrow_sizes_files(tmp_path, monkeypatch):
    monkeypatch.delattr(logflow, "write", raising=False)
    files = maintenance._rewrite(_reader(20_000), str(tmp_path / "out"), 20_000)
    assert len(files) > 1
    back = pa.concat_tables(pq.read_table(f) for f in files)
    assert back.num_rows == 20_000 and back.column("id").to_pylist() == list(range(20_000))


def test_rewrite_uses_logflow_write_when_there(tmp_path, monkeypatch):
    calls = []

    def write(source, dst, **options):
        calls.append(options)
        os.makedirs(dst)
        pq.write_table(pa.table(source), os.path.join(dst, "part-00000.parquet"))

        class Result:
            files = (os.path.join(dst, "part-00000.parquet"),)

        return Result()

    monkeypatch.setattr(logflow, "write", write, raising=False)
    files = maintenance._rewrite(_reader(10), str(tmp_path / "out"), 12345)
    assert calls == [{"target_file_size": 12345}]
    assert pq.read_table(files[0]).num_rows == 10


def test_engine_storage_must_be_the_local_warehouse(warehouse, tmp_path):
    from logflow.errors import ConfigError
    from logflow.storage import LocalStorage, MemoryStorage

    for bad in (MemoryStorage(), LocalStorage(tmp_path / "elsewhere")):
        with pytest.raises(ConfigError, match="LocalStorage rooted at the warehouse"):
            logflow.Engine(warehouse, storage=bad)
    with logflow.Engine(warehouse, storage=LocalStorage(warehouse)) as engine:
        assert engine.storage.root == LocalStorage(warehouse).root


def test_remove_orphans_goes_through_the_engines_storage(engine, write_events, monkeypatch):
    engine.ingest(write_events(5), "t")
    stray = os.path.join(engine.table("t").location, "data", "x", "part-00000.parquet")
    os.makedirs(os.path.dirname(stray))
    pq.write_table(pa.table({"x": [1]}), stray)
    deleted = []
    real = type(engine.storage).delete_many

    def spy(self, keys):
        keys = list(keys)
        deleted.extend(keys)
        return real(self, keys)

    monkeypatch.setattr(type(engine.storage), "delete_many", spy)
    engine.remove_orphans("t", older_than=timedelta(0))
    assert deleted == ["default.db/t/data/x/part-00000.parquet"]
    assert not os.path.exists(stray)
