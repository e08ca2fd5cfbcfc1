"""Benchmark inputs: the yardstick's synthetic event log, generated on first use.

Data comes from ``gen_data.py`` in the shared bench folder (``$LOGFLOW_BENCH_DIR``, default
``<repo>/../shared/bench``) and is cached in ``benches/.data/rows_<N>/`` (gitignored).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCHES = Path(__file__).resolve().parent
REPO = BENCHES.parent
CACHE = BENCHES / ".data"
DEFAULT_ROWS = 200_000


class BenchDataUnavailable(RuntimeError):
    """gen_data.py is not there, so the benchmark data cannot be generated."""


def bench_dir() -> Path:
    """The shared bench folder holding gen_data.py and yardstick.py."""
    return Path(os.environ.get("LOGFLOW_BENCH_DIR", REPO.parent / "shared" / "bench")).resolve()


def gen_data_script() -> Path:
    script = bench_dir() / "gen_data.py"
    if not script.is_file():
        raise BenchDataUnavailable(
            f"{script} not found: set LOGFLOW_BENCH_DIR to the folder holding gen_data.py"
        )
    return script


def bench_rows() -> int:
    """Rows to generate: ``$LOGFLOW_BENCH_ROWS`` (default 200,000)."""
    return int(os.environ.get("LOGFLOW_BENCH_ROWS", DEFAULT_ROWS))


def ensure_data(
    rows: int | None = None, formats: tuple[str, ...] = ("csv", "tsv"), root: Path = CACHE
) -> Path:
    """Return a folder holding ``events.<fmt>`` for every format, generating it if missing.

    A ``.complete-<formats>`` marker is written only after gen_data.py succeeds, so an
    interrupted run regenerates instead of benchmarking a truncated file.
    """
    rows = bench_rows() if rows is None else rows
    out = root / f"rows_{rows}"
    marker = out / f".complete-{'-'.join(sorted(formats))}"
    files = {"dirty": "dirty.csv"}
    if marker.is_file() and all((out / files.get(f, f"events.{f}")).is_file() for f in formats):
        return out
    script = gen_data_script()
    out.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        str(script),
        str(out),
        "--rows",
        str(rows),
        "--formats",
        ",".join(formats),
    ]
    print(f"generating benchmark data: {' '.join(cmd)}", file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True)
    marker.write_text(f"{rows}\n")
    return out
