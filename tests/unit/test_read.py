"""logflow.read: the one-shot Arrow stream and its interop with pyarrow, polars and DuckDB."""

from __future__ import annotations

import gc
import os
import threading
import time

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import logflow
from logflow.errors import DecodeError


def _duckdb_table(rel: duckdb.DuckDBPyRelation) -> pa.Table:
    for name in ("to_arrow_table", "fetch_arrow_table"):
        if hasattr(rel, name):
            return getattr(rel, name)()
    return rel.arrow()


# ------------------------------------------------------------------------------- interop


def test_read_pyarrow_table_matches_pyarrow_csv(sample_csv, reference_reader, same_data):
    table = pa.table(logflow.read(sample_csv))
    assert table.num_rows == 12
    same_data(table, reference_reader(sample_csv))


def test_read_pyarrow_table_event_log(event_log_csv, reference_reader, same_data):
    table = pa.table(logflow.read(event_log_csv))
    assert table.num_rows == 200_000
    same_data(table, reference_reader(event_log_csv))


def test_read_polars_dataframe_constructor(sample_csv, reference_reader, same_data):
    # the documented way to get a frame: pl.DataFrame(stream) (not pl.from_arrow)
    df = pl.DataFrame(logflow.read(sample_csv))
    assert df.shape == (12, 6)
    assert df.columns == ["event_id", "ts", "case_id", "activity", "amount", "success"]
    assert df.schema["ts"] == pl.Datetime("us")
    assert df.schema["event_id"] == pl.Int64
    same_data(df.to_arrow(), reference_reader(sample_csv))


def test_read_duckdb_replacement_scan(sample_csv, reference_reader, same_data):
    s = logflow.read(sample_csv)  # noqa: F841 - DuckDB finds `s` by name
    table = _duckdb_table(duckdb.sql("select * from s"))
    same_data(table, reference_reader(sample_csv))


def test_read_duckdb_aggregate(sample_csv):
    s = logflow.read(sample_csv)  # noqa: F841 - DuckDB finds `s` by name
    rows = duckdb.sql(
        "select count(*), count(amount), round(sum(amount), 2), count(*) filter (not success) "
        "from s"
    ).fetchall()
    assert rows == [(12, 10, 1906.98, 2)]


def test_read_matches_convert(event_log_csv, out_dir):
    dst = out_dir / "events.parquet"
    logflow.convert(event_log_csv, dst)
    assert pa.table(logflow.read(event_log_csv)).equals(pq.read_table(dst))


# ------------------------------------------------------------------------------ one-shot


def test_read_twice_raises_value_error(sample_csv):
    s = logflow.read(sample_csv)
    assert pa.table(s).num_rows == 12
    with pytest.raises(ValueError, match="already consumed"):
        pa.table(s)


def test_read_iterate_twice_raises_value_error(sample_csv):
    s = logflow.read(sample_csv)
    assert sum(b.num_rows for b in s) == 12
    with pytest.raises(ValueError, match=r"already consumed.*logflow\.read\(\)"):
        list(s)


def test_read_capsule_after_iteration_raises_value_error(sample_csv):
    s = logflow.read(sample_csv)
    list(s)
    with pytest.raises(ValueError, match="already consumed"):
        s.__arrow_c_stream__()
    # DuckDB wraps the ValueError in its own exception but keeps the message
    with pytest.raises(duckdb.Error, match="already consumed"):
        duckdb.sql("select * from s").fetchall()


def test_read_read_all_then_read_all_raises(sample_csv):
    s = logflow.read(sample_csv)
    assert s.read_all().num_rows == 12
    with pytest.raises(ValueError, match="already consumed"):
        s.read_all()


# ----------------------------------------------------------------------------- iteration


def test_read_iter_yields_record_batches(sample_csv):
    batches = list(logflow.read(sample_csv, batch_size=5))
    assert all(isinstance(b, pa.RecordBatch) for b in batches)
    assert [b.num_rows for b in batches] == [5, 5, 2]


@pytest.mark.parametrize(
    ("batch_size", "limit"), [(1, 2_000), (7, 14_000), (4_096, None), (65_536, None)]
)
def test_read_batch_size_bound(event_log_csv, batch_size, limit):
    # tiny batches cost a round trip each: check only a prefix of the file for those
    rows = 0
    for batch in logflow.read(event_log_csv, batch_size=batch_size):
        assert 0 < batch.num_rows <= batch_size
        rows += batch.num_rows
        if limit and rows >= limit:
            break
    assert rows == (limit or 200_000)


def test_read_batches_share_schema(event_log_csv):
    # batch_size is an upper bound: the input is decoded in 4 MiB chunks and a batch does
    # not span chunks, so there may be more than rows / batch_size batches.
    s = logflow.read(event_log_csv, batch_size=50_000)
    schema = s.schema
    batches = list(s)
    assert len(batches) >= 4
    assert all(0 < b.num_rows <= 50_000 for b in batches)
    assert sum(b.num_rows for b in batches) == 200_000
    assert all(b.schema.equals(schema) for b in batches)


# -------------------------------------------------------------------------------- schema


def test_read_schema_property(sample_csv):
    s = logflow.read(sample_csv)
    assert isinstance(s.schema, pa.Schema)
    assert s.schema.names == ["event_id", "ts", "case_id", "activity", "amount", "success"]
    assert s.schema.field("ts").type == pa.timestamp("us")
    assert pa.schema(s).equals(s.schema)
    table = s.read_all()
    assert table.schema.equals(s.schema)
    assert s.schema.equals(table.schema)  # still available once consumed


def test_read_schema_of_header_only_file(write_csv):
    s = logflow.read(write_csv("a,b\n"))
    assert s.schema.names == ["a", "b"]
    assert s.read_all().num_rows == 0


# ---------------------------------------------------------------------------- bad input


# Late bad values: `late_bad_csv` (conftest) puts one bad value of column "a" after more
# than 4 MiB of good rows, past the chunk that type inference reads.


def test_read_opens_lazily_past_the_sample(late_bad_csv):
    # read() only decodes the inference sample, so a late bad value does not fail here
    s = logflow.read(late_bad_csv("int").path)
    assert s.schema.field("a").type == pa.int64()


@pytest.mark.parametrize("threads", [1, 2])
def test_read_read_all_late_bad_value_typed(late_bad_csv, threads):
    late = late_bad_csv("int")
    s = logflow.read(late.path, error_policy="strict", threads=threads)
    with pytest.raises(DecodeError) as info:
        s.read_all()
    e = info.value
    assert (e.line, e.record, e.offset, e.column, e.path) == (
        late.line,
        late.record,
        late.offset,
        "a",
        str(late.path),
    )


def test_read_iter_late_bad_value_typed_after_good_batches(late_bad_csv):
    # Good batches come out before the error, in input order. The chunk holding the bad
    # record fails as a whole, so how many of its good rows come first is not fixed; at
    # least the whole first chunk does.
    late = late_bad_csv("int")
    s = logflow.read(late.path, batch_size=65_536, error_policy="strict")
    got: list[int] = []
    with pytest.raises(DecodeError) as info:
        for batch in s:
            assert batch.num_rows <= 65_536
            got.extend(batch.column("a").to_pylist())
    assert info.value.line == late.line
    assert 65_536 <= len(got) <= late.good_rows
    assert got == list(range(len(got)))


def test_read_capsule_late_bad_value_raises(late_bad_csv):
    late = late_bad_csv("int")
    s = logflow.read(late.path, error_policy="strict")
    # Through the C stream interface the consumer decides the exception type (documented).
    with pytest.raises(pa.ArrowInvalid, match=f"line {late.line}"):
        pa.table(s)


@pytest.mark.parametrize("threads", [1, 2])
def test_read_permissive_drops_late_bad_value(late_bad_csv, threads):
    late = late_bad_csv("int")
    s = logflow.read(late.path, error_policy="permissive", threads=threads)
    table = s.read_all()
    assert table.schema.field("a").type == pa.int64()
    assert table.column("a").to_pylist() == list(range(late.good_rows))
    assert (s.rows_read, s.rows_rejected) == (late.good_rows + 1, 1)


def test_read_on_cast_error_null_keeps_late_row(late_bad_csv):
    late = late_bad_csv("int")
    table = logflow.read(late.path, on_cast_error="null").read_all()
    assert table.num_rows == late.good_rows + 1
    assert table.column("a")[-1].as_py() is None
    assert table.column("b")[-1].as_py() == "y"
    assert table.column("a").null_count == 1


def test_read_missing_fails_at_open(in_dir):
    with pytest.raises(FileNotFoundError):
        logflow.read(in_dir / "missing.csv")


# ----------------------------------------------------------------------------------- GIL


def _spin_during(work) -> tuple[int, float, float]:
    """Run ``work()`` while a Python thread counts; returns (count, elapsed, solo rate).

    The work is repeated until it has run for a quarter of a second, so a fast machine
    still gives the counting thread time to show whether the GIL was held. The solo rate is
    the lower of the rates just before and just after, so load that comes and goes on the
    machine lowers the bar rather than raising it.
    """
    count = 0
    stop = threading.Event()

    def spin() -> None:
        nonlocal count
        while not stop.is_set():
            count += 1

    t = threading.Thread(target=spin, daemon=True)
    t.start()
    try:
        time.sleep(0.2)
        solo_rate = count / 0.2
        before = count
        t0 = time.perf_counter()
        work()
        while time.perf_counter() - t0 < 0.25:
            work()
        elapsed = time.perf_counter() - t0
        during = count - before
        after = count
        time.sleep(0.2)
        solo_rate = min(solo_rate, (count - after) / 0.2)
    finally:
        stop.set()
        t.join()
    return during, elapsed, solo_rate


def test_convert_releases_gil(csv_30mb, out_dir):
    dst = out_dir / "big.parquet"
    during, elapsed, solo_rate = _spin_during(lambda: logflow.convert(csv_30mb, dst))
    # Holding the GIL would leave the counter at zero; released, the thread keeps a good
    # share of a core (Rust uses the other workers). The bar is low (1%) on purpose: it
    # separates "never ran" from "ran", however busy the machine is.
    assert during > 0.01 * solo_rate * elapsed, (during, elapsed, solo_rate)


def test_read_iteration_releases_gil(csv_30mb):
    def consume() -> None:
        for _ in logflow.read(csv_30mb, batch_size=200_000):
            pass

    during, elapsed, solo_rate = _spin_during(consume)
    assert during > 0.01 * solo_rate * elapsed, (during, elapsed, solo_rate)


# ------------------------------------------------------------------------------- threads


def test_read_threads_give_the_same_batches(csv_30mb):
    one = logflow.read(csv_30mb, threads=1, batch_size=100_000)
    two = logflow.read(csv_30mb, threads=2, batch_size=100_000)
    b1, b2 = list(one), list(two)
    assert [b.num_rows for b in b1] == [b.num_rows for b in b2]
    assert pa.Table.from_batches(b1).equals(pa.Table.from_batches(b2))
    assert one.rows_read == two.rows_read == sum(b.num_rows for b in b1)


def _threads_now() -> int:
    return len(os.listdir("/proc/self/task"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs /proc")
def test_read_stopped_early_lets_its_threads_go(csv_30mb):
    before = _threads_now()
    s = logflow.read(csv_30mb, threads=2)
    next(iter(s))
    assert _threads_now() > before  # decoding ahead
    del s
    gc.collect()
    deadline = time.monotonic() + 5
    while _threads_now() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _threads_now() == before
