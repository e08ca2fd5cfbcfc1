"""Engine.ingest: one snapshot per ingest, fingerprints, schema evolution, partitioning,
and what an interrupted ingest leaves behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pyiceberg.transforms import parse_transform
from pyiceberg.types import DateType, LongType, StringType, TimestampType

import logflow
from logflow.catalog.iceberg import IcebergTable
from logflow.errors import ConfigError, DecodeError, SchemaError


def table_files(table) -> set[str]:
    return {f.path for f in table.data_files()}


def all_files(folder: str) -> set[str]:
    return {os.path.join(r, n) for r, _d, names in os.walk(folder) for n in names}


def test_ingest_commits_one_snapshot_with_the_convert_result(engine, write_events):
    src = write_events(1000)
    r = engine.ingest(src, "events")
    assert r.table == "default.events" and not r.skipped
    assert r.convert is not None and r.convert.rows_written == 1000 == r.rows_written
    table = engine.table("events")
    [snap] = table.snapshots()
    assert snap.snapshot_id == r.snapshot_id
    assert snap.summary["logflow.rows"] == "1000"
    assert table_files(table) == set(r.files)
    assert all(p.startswith(table.location) for p in r.files)
    assert engine.query("SELECT count(*) AS n, sum(amount) AS s FROM events").to_pylist() == [
        {"n": 1000, "s": pytest.approx(sum(round(i * 1.25, 2) for i in range(1, 1001)))}
    ]


def test_ingest_records_the_source_fingerprint(engine, write_events):
    src = write_events(10)
    r = engine.ingest(src, "events")
    summary = engine.table("events").current_snapshot().summary
    st = os.stat(src)
    import hashlib

    assert summary["logflow.source.size"] == str(st.st_size)
    assert summary["logflow.source.mtime-ns"] == str(st.st_mtime_ns)
    assert summary["logflow.source.sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert r.fingerprint["source.sha256"] == summary["logflow.source.sha256"]


def test_ingest_same_input_again_is_a_noop_unless_forced(engine, write_events):
    src = write_events(50)
    first = engine.ingest(src, "events")
    again = engine.ingest(src, "events")
    assert again.skipped and again.snapshot_id == first.snapshot_id and again.convert is None
    # the same content under a new modification time is still the same input
    os.utime(src, (time.time() + 10, time.time() + 10))
    touched = engine.ingest(src, "events")
    assert touched.skipped and touched.snapshot_id == first.snapshot_id
    assert len(engine.table("events").snapshots()) == 1
    forced = engine.ingest(src, "events", force=True)
    assert not forced.skipped and forced.snapshot_id != first.snapshot_id
    assert engine.query("SELECT count(*) AS n FROM events").to_pylist() == [{"n": 100}]
    # a skipped re-ingest leaves no files behind
    table = engine.table("events")
    assert {p for p in all_files(table.location) if p.endswith(".parquet")} == table_files(table)


def test_ingest_other_content_appends(engine, write_events):
    engine.ingest(write_events(10, "a.csv"), "events")
    engine.ingest(write_events(5, "b.csv", start=10), "events")
    assert engine.query("SELECT count(*) AS n, max(event_id) AS m FROM events").to_pylist() == [
        {"n": 15, "m": 15}
    ]


def test_ingest_overwrite_replaces_rows_and_is_idempotent(engine, write_events):
    a, b = write_events(10, "a.csv"), write_events(3, "b.csv", start=100)
    engine.ingest(a, "events")
    r = engine.ingest(b, "events", mode="overwrite")
    assert engine.query("SELECT min(event_id) AS lo, count(*) AS n FROM events").to_pylist() == [
        {"lo": 101, "n": 3}
    ]
    assert engine.ingest(b, "events", mode="overwrite").skipped
    # appending what the overwrite replaced is new data again
    assert not engine.ingest(a, "events").skipped
    assert engine.query("SELECT count(*) AS n FROM events").to_pylist() == [{"n": 13}]
    assert engine.query("SELECT count(*) AS n FROM events", as_of=r.snapshot_id).to_pylist() == [
        {"n": 3}
    ]


def test_ingest_new_columns_evolve_the_schema(engine, write_events):
    engine.ingest(write_events(5), "events")
    r = engine.ingest(
        write_events(3, "more.csv", start=5, extra={"channel": ["web", "app", "web"]}), "events"
    )
    table = engine.table("events")
    assert table.schema.names[-1] == "channel"
    rows = engine.query("SELECT event_id, channel FROM events ORDER BY event_id").to_pylist()
    assert [r["channel"] for r in rows] == [None] * 5 + ["web", "app", "web"]
    # the schema change is recorded in the same snapshot as the data
    assert table.current_snapshot().snapshot_id == r.snapshot_id
    assert len(table.snapshots()) == 2


def test_ingest_reads_input_in_the_tables_types(engine, write_csv):
    # 'code' is text in the table; a later file with digits only still lands as text
    engine.ingest(write_csv("code,n\nA1,1\nB2,2\n", "a.csv"), "codes")
    engine.ingest(write_csv("code,n\n17,3\n42,4\n", "b.csv"), "codes")
    assert engine.table("codes").schema.field("code").type == pa.string()
    assert engine.query("SELECT code FROM codes ORDER BY n").to_pylist() == [
        {"code": c} for c in ["A1", "B2", "17", "42"]
    ]


def test_ingest_widens_types_when_asked(engine, write_csv):
    from decimal import Decimal

    engine.ingest(write_csv("id,v\n1,2.50\n", "a.csv"), "wide", schema={"v": "decimal128(5, 2)"})
    assert engine.table("wide").schema.field("v").type == pa.decimal128(5, 2)
    r = engine.ingest(
        write_csv("id,v\n2,1234567.25\n", "b.csv"), "wide", schema={"v": "decimal128(12, 2)"}
    )
    table = engine.table("wide")
    assert table.schema.field("v").type == pa.decimal128(12, 2)
    assert table.current_snapshot().snapshot_id == r.snapshot_id
    assert engine.query("SELECT v FROM wide ORDER BY id").to_pylist() == [
        {"v": Decimal("2.50")},
        {"v": Decimal("1234567.25")},
    ]
    # narrower input into the wider column needs no change
    engine.ingest(write_csv("id,v\n3,1.00\n", "c.csv"), "wide", schema={"v": "decimal128(5, 2)"})
    assert engine.table("wide").schema.field("v").type == pa.decimal128(12, 2)


def test_ingest_schema_policies_refuse_and_commit_nothing(engine, write_events, write_csv):
    engine.ingest(write_events(5), "events")
    extra = write_events(2, "x.csv", start=5, extra={"channel": ["a", "b"]})
    for policy in ("strict", "merge"):
        with pytest.raises(SchemaError, match="channel"):
            engine.ingest(extra, "events", schema_policy=policy)
    fewer = write_csv("event_id,amount\n9,1.5\n", "fewer.csv")
    with pytest.raises(SchemaError, match="lacks"):
        engine.ingest(fewer, "events", schema_policy="strict")
    engine.ingest(fewer, "events", schema_policy="merge")
    table = engine.table("events")
    assert len(table.snapshots()) == 2
    assert {p for p in all_files(table.location) if p.endswith(".parquet")} == table_files(table)


def test_ingest_bad_values_for_the_table_type_fail_under_strict(engine, write_csv):
    engine.ingest(write_csv("id\n1\n2\n", "a.csv"), "nums")
    with pytest.raises(DecodeError):
        engine.ingest(write_csv("id\n3\nnot-a-number\n", "b.csv"), "nums")
    assert engine.query("SELECT count(*) AS n FROM nums").to_pylist() == [{"n": 2}]


def test_ingest_quarantine_keeps_bad_rows_outside_the_table(engine, write_csv, warehouse):
    r = engine.ingest(write_csv("a,b\n1,x\n2,y,extra\n3,z\n"), "q", error_policy="quarantine")
    assert r.convert.rows_quarantined == 1
    assert r.convert.quarantine_path.startswith(str(warehouse / "_quarantine"))
    assert Path(r.convert.quarantine_path).read_bytes() == b"a,b\n2,y,extra\n"
    engine.remove_orphans(older_than=__import__("datetime").timedelta(0))
    assert Path(r.convert.quarantine_path).exists()


def test_ingest_identity_partitions(engine, write_events):
    r = engine.ingest(write_events(100), "events", partition_by=["date"])
    table = engine.table("events")
    assert [(f.source, f.transform) for f in table.partitioning] == [("date", "identity")]
    assert len(r.files) == 5
    days = {f.partition["date"] for f in table.data_files()}
    assert len(days) == 5
    rows = engine.query("SELECT date, count(*) AS n FROM events GROUP BY 1 ORDER BY 1").to_pylist()
    assert rows == [{"date": date(2024, 1, d), "n": 20} for d in range(1, 6)]
    # pyiceberg fills the partition column from metadata too
    scanned = engine.catalog().iceberg.load_table("default.events").scan().to_arrow()
    assert pc.count_distinct(scanned.column("date")).as_py() == 5
    # a second ingest keeps the partitioning; naming another one is an error
    engine.ingest(write_events(10, "b.csv", start=100), "events")
    with pytest.raises(ConfigError, match="partitioned by"):
        engine.ingest(write_events(1, "c.csv", start=200), "events", partition_by=["case_id"])


@pytest.mark.parametrize(
    ("spec", "source", "source_type"),
    [
        ("year(ts)", "ts", TimestampType()),
        ("month(ts)", "ts", TimestampType()),
        ("day(ts)", "ts", TimestampType()),
        ("hour(ts)", "ts", TimestampType()),
        ("day(date)", "date", DateType()),
        ("bucket(4, event_id)", "event_id", LongType()),
        ("bucket(3, case_id)", "case_id", StringType()),
        ("truncate(3, activity)", "activity", StringType()),
        ("truncate(10, event_id)", "event_id", LongType()),
    ],
)
def test_ingest_partition_transforms(engine, write_events, spec, source, source_type):
    r = engine.ingest(write_events(60), "t", partition_by=[spec])
    table = engine.table("t")
    [field] = table.partitioning
    assert field.source == source
    transform = parse_transform(field.transform).transform(source_type)
    # every file holds one partition, and its recorded value is Iceberg's for each row
    raw = engine.catalog().iceberg.load_table("default.t")
    for f in table.data_files():
        values = pa.parquet.read_table(f.path, columns=[source]).column(source)
        internal = values.cast(pa.int64()) if source_type == TimestampType() else values
        if source_type == DateType():
            internal = pc.days_between(pa.scalar(date(1970, 1, 1)), values)
        expected = {transform(v) for v in internal.to_pylist()}
        assert expected == {f.partition[field.name]}, f.path
    assert len(r.files) == len(table.data_files()) > 1
    # the data reads back whole in DuckDB (through the engine) and in pyiceberg
    assert engine.query("SELECT count(*) AS n, sum(event_id) AS s FROM t").to_pylist() == [
        {"n": 60, "s": sum(range(1, 61))}
    ]
    assert raw.scan().to_arrow().num_rows == 60


def test_ingest_transform_partitioning_takes_more_ingests(engine, write_events):
    engine.ingest(write_events(20), "t", partition_by=["day(ts)", "bucket(2, case_id)"])
    engine.ingest(write_events(20, "b.csv", start=20), "t")
    assert engine.query("SELECT count(DISTINCT event_id) AS n FROM t").to_pylist() == [{"n": 40}]


def test_ingest_rejects_bad_options(engine, write_events):
    src = write_events(3)
    with pytest.raises(ConfigError):
        engine.ingest(src, "t", mode="upsert")
    with pytest.raises(ConfigError):
        engine.ingest(src, "t", schema_policy="loose")
    with pytest.raises(ConfigError):
        engine.ingest(src, "t", partition_by=["nope(ts)"])
    with pytest.raises(ConfigError):
        engine.ingest(src, "t", table_format="delta", partition_by=["day(ts)"])
    with pytest.raises(ConfigError, match="no column"):
        engine.ingest(src, "t", partition_by=["bucket(2, missing)"])
    assert engine.tables() == []


def test_ingest_error_in_commit_leaves_previous_snapshot_and_no_files(
    engine, write_events, monkeypatch
):
    engine.ingest(write_events(10), "events")
    table = engine.table("events")
    before = (table.current_snapshot().snapshot_id, all_files(table.location))

    def boom(*a, **k):
        raise RuntimeError("catalog went away")

    monkeypatch.setattr(IcebergTable, "commit_files", boom)
    with pytest.raises(RuntimeError, match="went away"):
        engine.ingest(write_events(10, "b.csv", start=10), "events")
    table = engine.table("events")
    assert (table.current_snapshot().snapshot_id, all_files(table.location)) == before


def test_ingest_ctrl_c_during_convert_leaves_nothing(engine, write_events):
    engine.ingest(write_events(10), "events")
    table = engine.table("events")
    before = (table.current_snapshot().snapshot_id, all_files(table.location))

    def interrupt(*_args):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        engine.ingest(write_events(50_000, "big.csv", start=10), "events", progress=interrupt)
    table = engine.table("events")
    assert (table.current_snapshot().snapshot_id, all_files(table.location)) == before
    assert engine.query("SELECT count(*) AS n FROM events").to_pylist() == [{"n": 10}]


KILL_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    import logflow

    marker = sys.argv[3]

    def progress(read, total, rows):
        # Say that the conversion is under way, then hang here: the test kills us.
        if not os.path.exists(marker):
            open(marker, "w").close()
        time.sleep(600)

    logflow.Engine(sys.argv[1]).ingest(sys.argv[2], "events", progress=progress)
    """
)


def test_ingest_kill_9_leaves_previous_snapshot_and_maintenance_cleans_up(
    engine, warehouse, write_events, tmp_path
):
    from datetime import timedelta

    engine.ingest(write_events(100), "events")
    table = engine.table("events")
    before_snap = table.current_snapshot().snapshot_id
    before_files = all_files(table.location)
    before_rows = engine.query("SELECT * FROM events ORDER BY event_id").to_arrow()

    big = write_events(300_000, "big.csv", start=100)
    marker = tmp_path / "started"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(warehouse), str(big), str(marker)],
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the ingest never started"
            time.sleep(0.02)
        time.sleep(0.3)  # let the writer put files into the table folder
        assert proc.poll() is None
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()

    fresh = logflow.Engine(warehouse)
    table = fresh.table("events")
    assert table.current_snapshot().snapshot_id == before_snap
    assert fresh.query("SELECT * FROM events ORDER BY event_id").to_arrow().equals(before_rows)
    leftovers = all_files(table.location) - before_files
    assert leftovers, "the killed ingest should have left files to clean up"
    removed = fresh.remove_orphans("events", older_than=timedelta(0))
    assert set(removed.files_removed) == leftovers
    assert all_files(table.location) == before_files
    assert fresh.query("SELECT * FROM events ORDER BY event_id").to_arrow().equals(before_rows)
    fresh.close()


@pytest.mark.parametrize("fmt", ["delta", "parquet"])
def test_ingest_other_table_formats(engine, write_events, fmt, warehouse):
    r = engine.ingest(write_events(40), "ev", table_format=fmt, partition_by=["activity"])
    assert engine.table("ev").format == fmt
    assert engine.ingest(write_events(40), "ev").skipped
    r2 = engine.ingest(write_events(10, "b.csv", start=40), "ev")
    assert engine.query("SELECT count(*) AS n FROM ev").to_pylist() == [{"n": 50}]
    assert engine.query("SELECT count(*) AS n FROM ev", as_of=r.snapshot_id).to_pylist() == [
        {"n": 40}
    ]
    assert r2.snapshot_id == r.snapshot_id + 1
    expected = engine.query("SELECT * FROM ev ORDER BY event_id").to_arrow()
    if fmt == "delta":
        import deltalake

        theirs = pa.table(deltalake.DeltaTable(engine.table("ev").location).to_pyarrow_table())
    else:
        import pyarrow.dataset as ds

        theirs = ds.dataset(
            engine.table("ev").location, partitioning="hive", ignore_prefixes=["_", "."]
        ).to_table()
    theirs = theirs.select(expected.column_names).sort_by("event_id")
    assert theirs.cast(expected.schema).equals(expected)


def test_ingest_to_table_is_ingest(engine, write_events):
    r = engine.ingest_to_table(write_events(7), "analytics.events", partition_by=["date"])
    assert r.table == "analytics.events" and r.rows_written == 7
    assert engine.tables() == ["analytics.events"]


def test_ingest_passes_unknown_options_to_convert(engine, write_events):
    r = engine.ingest(write_events(100), "events", max_rows_per_file=30)
    assert len(r.files) == 4
    with pytest.raises(TypeError):
        engine.ingest(write_events(5, "b.csv"), "other", no_such_option=1)
    assert engine.tables() == ["default.events"]


def test_ingest_snapshot_timestamps_are_times(engine, write_events):
    engine.ingest(write_events(3), "events")
    snap = engine.table("events").current_snapshot()
    assert isinstance(snap.timestamp, datetime) and snap.timestamp.tzinfo is not None
