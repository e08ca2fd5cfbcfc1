#!/usr/bin/env python3
"""Run the shared yardstick (``../shared/bench/yardstick.py``) with logflow included.

The yardstick runs every (case, tool) in a fresh subprocess of *this* interpreter, so
logflow takes part whenever ``import logflow`` works here (its ``w_logflow`` hook calls
``logflow.convert(src, dst)``). Steps:

1. generate the event log with ``gen_data.py`` if it is not cached yet
   (``benches/.data/rows_<N>/``, N = ``--rows``, default 1,000,000);
2. run ``yardstick.py --data DIR --only csv,tsv,jsonl,json,xes,dirty --json
   benches/results/<name>.json``;
3. save the printed tables next to it as ``<name>.md`` and say where both went.

    python benches/run_yardstick.py                       # 1M rows, csv+tsv, 3 rounds
    python benches/run_yardstick.py --rows 100000 --runs 1 --only csv --tools duckdb

The shared bench folder is ``$LOGFLOW_BENCH_DIR`` (default ``<repo>/../shared/bench``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from data import BENCHES, BenchDataUnavailable, bench_dir, ensure_data

RESULTS = BENCHES / "results"
CASES = ("csv", "tsv", "jsonl", "json", "xes", "dirty")  # the cases logflow takes part in


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows to generate (1,000,000)")
    ap.add_argument(
        "--only", default=",".join(CASES), help="yardstick cases (csv,tsv,jsonl,json,xes,dirty)"
    )
    ap.add_argument("--tools", default=None, help="yardstick tools to keep (default: all)")
    ap.add_argument("--runs", type=int, default=None, help="rounds per case (yardstick: 3)")
    ap.add_argument("--timeout", type=int, default=None, help="seconds per run")
    ap.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = ap.parse_args(argv)

    cases = [c.strip() for c in args.only.split(",") if c.strip()]
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        ap.error(f"case(s) {','.join(unknown)} not supported here; choose from {','.join(CASES)}")

    yardstick = bench_dir() / "yardstick.py"
    if not yardstick.is_file():
        print(f"run_yardstick: {yardstick} not found (set LOGFLOW_BENCH_DIR)", file=sys.stderr)
        return 1
    try:
        data = ensure_data(args.rows, formats=tuple(cases))
    except BenchDataUnavailable as e:
        print(f"run_yardstick: {e}", file=sys.stderr)
        return 1

    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"yardstick_{args.rows}_{'-'.join(cases)}_{time.strftime('%Y%m%d-%H%M%S')}"
    json_path = args.out / f"{stem}.json"
    md_path = args.out / f"{stem}.md"

    cmd = [sys.executable, str(yardstick), "--data", str(data), "--only", ",".join(cases)]
    cmd += ["--json", str(json_path), "--work", str(data / "yardstick_out")]
    if args.tools:
        cmd += ["--tools", args.tools]
    if args.runs is not None:
        cmd += ["--runs", str(args.runs)]
    if args.timeout is not None:
        cmd += ["--timeout", str(args.timeout)]

    print("run_yardstick:", " ".join(cmd), file=sys.stderr, flush=True)
    # progress goes to stderr as it happens; the tables (stdout) are kept for the .md file
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    sys.stdout.write(proc.stdout)
    md_path.write_text(proc.stdout)
    if proc.returncode != 0:
        print(f"run_yardstick: yardstick exited {proc.returncode}", file=sys.stderr)
        return proc.returncode
    print(f"\nresults: {json_path}\ntables:  {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
