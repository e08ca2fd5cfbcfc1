#!/usr/bin/env python3
"""Parquet -> Parquet (zstd) with logflow and with DuckDB, side by side, in one run.

Each tool runs in a fresh subprocess whose peak RSS is read from ``ru_maxrss`` of the
waited child, alternating tools for ``--runs`` rounds; the best and median wall times are
printed. The input is made once from a CSV with ``logflow.convert`` when it does not exist.

    python benches/reencode_parquet.py --csv /work/bench-data/d1m/events.csv --runs 3

DuckDB's side is ``COPY (SELECT * FROM 'in.parquet') TO 'out.parquet' (FORMAT parquet,
COMPRESSION zstd)``; it needs ``duckdb`` importable by ``--duckdb-python`` (default: this
interpreter).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LOGFLOW = """
import sys, logflow
logflow.convert(sys.argv[1], sys.argv[2], compression="zstd")
"""

DUCKDB = """
import sys, duckdb
src, dst = sys.argv[1], sys.argv[2]
duckdb.sql(f"COPY (SELECT * FROM '{src}') TO '{dst}' (FORMAT parquet, COMPRESSION zstd)")
"""


def run(python: str, code: str, src: Path, dst: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run in a fresh process."""
    if dst.exists():
        dst.unlink()
    t0 = time.perf_counter()
    proc = subprocess.Popen([python, "-c", code, str(src), str(dst)])
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"{python} failed with status {status}")
    return wall, usage.ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--csv", type=Path, required=True, help="CSV to make the input from")
    ap.add_argument("--parquet", type=Path, default=None, help="input (made if missing)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duckdb-python", default=sys.executable)
    args = ap.parse_args()
    src = args.parquet or Path(tempfile.gettempdir()) / f"{args.csv.stem}.reencode-in.parquet"
    if not src.exists():
        import logflow

        logflow.convert(args.csv, src)
    out = Path(tempfile.mkdtemp(prefix="reencode-"))
    times: dict[str, list[tuple[float, float]]] = {"logflow": [], "duckdb": []}
    for _ in range(args.runs):
        times["logflow"].append(run(sys.executable, LOGFLOW, src, out / "logflow.parquet"))
        times["duckdb"].append(run(args.duckdb_python, DUCKDB, src, out / "duckdb.parquet"))
    size = src.stat().st_size / 1e6
    print(f"input {src} ({size:.1f} MB), {args.runs} runs each, {os.cpu_count()} cores")
    for tool, rs in times.items():
        walls = [w for w, _ in rs]
        rss = max(m for _, m in rs)
        out_mb = (out / f"{tool}.parquet").stat().st_size / 1e6
        print(
            f"{tool:8} best {min(walls):6.2f} s  median {statistics.median(walls):6.2f} s  "
            f"peak RSS {rss:6.0f} MB  output {out_mb:.1f} MB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
