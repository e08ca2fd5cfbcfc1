"""The Engine against raw DuckDB and plain ``convert``, side by side, in one process.

Three checks, each as a ratio measured in the same run on the same data:

* GROUP BY over a table of the yardstick's event log through ``engine.query`` with the
  result cache off (validation, snapshot lookup, view, Arrow hand-off included) against
  the same query in raw DuckDB over the same Parquet files (``read_parquet([...])``):
  median ratio should be at most 1.5.
* The same query repeated with the result cache on: median under 1 ms.
* ``engine.ingest`` of events.csv into a new table against ``logflow.convert`` of it to
  one Parquet file: median ratio should be at most 1.2.

Run as a script for the side-by-side report (``LOGFLOW_BENCH_ROWS``, default 1,000,000)::

    .venv/bin/python benches/bench_engine.py [--rounds N] [--data DIR]

or through ``make bench``, where each case is a pytest-benchmark case.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

QUERY = (
    "SELECT activity, count(*) AS n, sum(amount) AS amount, avg(quantity) AS q "
    "FROM events GROUP BY activity ORDER BY n DESC"
)


def _median_s(fn: Callable[[], object], rounds: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class Setup:
    """A warehouse with the event log ingested, and a raw DuckDB over the same files."""

    def __init__(self, csv: Path, root: Path) -> None:
        import duckdb

        import logflow

        self.csv = csv
        self.root = root
        self.engine = logflow.Engine(root / "warehouse", cache_bytes=0)
        self.engine.ingest(csv, "events")
        self.cached = logflow.Engine(root / "warehouse")
        files = [f.path for f in self.engine.table("events").data_files()]
        self.raw = duckdb.connect()
        listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        self.raw_sql = QUERY.replace("FROM events", f"FROM read_parquet([{listed}])")

    def engine_query(self) -> object:
        return self.engine.query(QUERY).to_arrow()

    def raw_query(self) -> object:
        return self.raw.sql(self.raw_sql).to_arrow_table()

    def cached_query(self) -> object:
        return self.cached.query(QUERY)

    def close(self) -> None:
        self.engine.close()
        self.cached.close()
        self.raw.close()


class Ingests:
    """One engine (opened once, as an application would); each call ingests into a new table."""

    def __init__(self, csv: Path, root: Path) -> None:
        import logflow

        self.csv = csv
        self.engine = logflow.Engine(root / "ingest-warehouse")
        self.n = 0

    def __call__(self) -> None:
        self.n += 1
        r = self.engine.ingest(self.csv, f"events_{self.n}")
        self.engine.drop_table(r.table)

    def close(self) -> None:
        self.engine.close()


def convert_once(csv: Path, root: Path) -> None:
    import logflow

    folder = Path(tempfile.mkdtemp(dir=root))
    logflow.convert(csv, folder / "events.parquet")
    shutil.rmtree(folder)


def report(csv: Path, rounds: int) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix="logflow-bench-engine-"))
    try:
        s = Setup(csv, root)
        assert s.engine_query().equals(s.raw_query()), "engine and raw DuckDB disagree"
        raw = _median_s(s.raw_query, rounds)
        ours = _median_s(s.engine_query, rounds)
        s.cached_query()
        cached = statistics.median(
            [s.cached_query().duration_s for _ in range(max(rounds, 20))]  # type: ignore[attr-defined]
        )
        s.close()
        ingest_rounds = max(5, rounds // 5)
        ingests = Ingests(csv, root)
        conv = _median_s(lambda: convert_once(csv, root), ingest_rounds, warmup=1)
        ing = _median_s(ingests, ingest_rounds, warmup=1)
        ingests.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {
        "raw_duckdb_ms": raw * 1e3,
        "engine_query_ms": ours * 1e3,
        "query_ratio": ours / raw,
        "cached_repeat_ms": cached * 1e3,
        "convert_s": conv,
        "ingest_s": ing,
        "ingest_ratio": ing / conv,
    }


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from data import bench_dir, ensure_data

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--data", type=Path, default=None, help="folder holding events.csv")
    args = p.parse_args(argv)
    rows = int(os.environ.get("LOGFLOW_BENCH_ROWS", 1_000_000))
    folder = args.data or ensure_data(rows=rows, formats=("csv",))
    csv = folder / "events.csv"
    print(f"data: {csv} ({csv.stat().st_size / 1e6:,.0f} MB); gen_data from {bench_dir()}")
    r = report(csv, args.rounds)
    print(f"GROUP BY, raw DuckDB over the files : {r['raw_duckdb_ms']:8.2f} ms (median)")
    print(
        f"GROUP BY, engine.query, no cache    : {r['engine_query_ms']:8.2f} ms "
        f"-> {r['query_ratio']:.2f}x (target <= 1.5x)"
    )
    print(f"GROUP BY, cached repeat             : {r['cached_repeat_ms']:8.3f} ms (target < 1 ms)")
    print(f"convert events.csv -> Parquet       : {r['convert_s']:8.3f} s (median)")
    print(
        f"engine.ingest events.csv            : {r['ingest_s']:8.3f} s "
        f"-> {r['ingest_ratio']:.2f}x (target <= 1.2x)"
    )
    return 0


# -- pytest-benchmark cases (make bench) ---------------------------------------------------

try:
    import pytest
except ImportError:  # pragma: no cover - running as a script without pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture(scope="module")
    def engine_setup(bench_data, tmp_path_factory):
        s = Setup(bench_data / "events.csv", tmp_path_factory.mktemp("engine"))
        yield s
        s.close()

    def test_engine_query_uncached(benchmark, engine_setup):
        benchmark(engine_setup.engine_query)

    def test_raw_duckdb_query(benchmark, engine_setup):
        benchmark(engine_setup.raw_query)

    def test_engine_query_cached(benchmark, engine_setup):
        engine_setup.cached_query()
        result = benchmark(engine_setup.cached_query)
        assert result.cached

    def test_engine_ingest(benchmark, bench_data, tmp_path):
        ingests = Ingests(bench_data / "events.csv", tmp_path)
        benchmark.pedantic(ingests, rounds=3, warmup_rounds=1)
        ingests.close()

    def test_plain_convert(benchmark, bench_data, tmp_path):
        benchmark.pedantic(convert_once, args=(bench_data / "events.csv", tmp_path), rounds=3)


if __name__ == "__main__":
    sys.exit(main())
