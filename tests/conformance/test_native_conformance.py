"""Binary formats against the Parquet and Arrow projects' test files.

- Every file the reference reader reads (pyarrow for Parquet and Arrow IPC, fastavro for
  Avro) is read by ``logflow.read`` to a table with the same values and types, and Parquet
  files are converted to Parquet that reads back the same. Files where the ``parquet`` crate
  behind logflow knowingly differs from pyarrow are listed in KNOWN with the reason.
- Every other file (the deliberately damaged ``bad_data`` and fuzzer finds, files no reader
  here reads) gives a ``logflow.errors`` exception or a table: never a crash, a hang, an
  untyped exception or a memory blow-up. Files run in child processes under an address-space
  limit and a timeout (``native_worker.py``).

The suites are ``$LOGFLOW_CONFORMANCE/{parquet-testing,arrow-testing}`` (default
``<repo>/../shared/conformance``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
ROOT = Path(os.environ.get("LOGFLOW_CONFORMANCE", REPO.parent / "shared" / "conformance"))
WORKER = Path(__file__).with_name("native_worker.py")
MEMORY_MB = 2048
TIMEOUT_S = 300

if not (ROOT / "parquet-testing").is_dir() and not (ROOT / "arrow-testing").is_dir():
    pytest.skip(
        f"parquet-testing / arrow-testing not found under {ROOT} (set LOGFLOW_CONFORMANCE)",
        allow_module_level=True,
    )

# Files the reference reads but logflow's reader (the parquet crate) reads differently. A
# Parquet file the crate refuses is converted by pyarrow instead (and read by it when the
# crate refuses the footer), so most such files are not here.
KNOWN = {
    "nation.dict-malformed.parquet": "a dictionary page the parquet crate takes as malformed: "
    "convert() falls back to pyarrow, read() raises a typed DecodeError (mid-stream)",
    "repeated_no_annotation.parquet": "the footer says 0 rows; the parquet crate believes it "
    "(an empty table), pyarrow counts the row group's 6",
    "int96_from_spark.parquet": "INT96 timestamps outside the nanosecond range wrap "
    "differently in the parquet crate and in pyarrow",
    "ARROW-17100.parquet": "a byte-array page the parquet crate finds short: convert() "
    "falls back to pyarrow, read() raises a typed DecodeError (mid-stream)",
    "duration_uuid.avro": "fastavro returns an Avro duration's 12 raw bytes; logflow an "
    "interval (months, days, nanoseconds)",
    "timestamp_logical_types.avro": "fastavro does not know timestamp-nanos and returns the "
    "integer; logflow a nanosecond timestamp",
}


# Deliberately damaged files: a typed error is right even where pyarrow reads them.
BAD: set[str] = set()


def _files() -> dict[str, list[Path]]:
    pt, at = ROOT / "parquet-testing", ROOT / "arrow-testing" / "data"
    good = sorted((pt / "data").glob("*.parquet")) + sorted((at / "parquet").glob("*.parquet"))
    bad = sorted((pt / "bad_data").glob("*.parquet")) + sorted(
        p
        for d in ("fuzzing", "encoding-fuzzing")
        for p in (at / "parquet" / d).glob("*")
        if p.is_file() and p.name != "README.md"
    )
    BAD.update(p.name for p in bad)
    return {
        "parquet": good + bad,
        "avro": sorted((at / "avro").glob("*.avro")),
        "ipc": sorted(
            p
            for p in (at / "arrow-ipc-stream").rglob("*")
            if p.suffix in (".arrow_file", ".stream")
        ),
    }


FILES = _files()


def _run(kind: str, paths: list[Path]) -> dict[str, dict[str, Any]]:
    """Each file's outcome; a file whose child died carries ``died``."""
    out: dict[str, dict[str, Any]] = {}
    todo = [str(p) for p in paths]
    while todo:
        proc = subprocess.run(
            [sys.executable, str(WORKER), kind, str(MEMORY_MB), *todo],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
        started = None
        for line in proc.stdout.splitlines():
            rec = json.loads(line)
            if "start" in rec:
                started = rec["start"]
            else:
                out[rec["path"]] = rec
                started = None
        if started is None:
            break
        out[started] = {"died": f"exit {proc.returncode}: {proc.stderr[-500:]}"}
        todo = todo[todo.index(started) + 1 :]
    return out


@pytest.fixture(scope="module")
def outcomes() -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for kind, paths in FILES.items():
        if paths:
            results.update(_run(kind, paths))
    return results


@pytest.mark.parametrize("kind", ["parquet", "avro", "ipc"])
def test_native_conformance_never_crashes_and_errors_are_typed(outcomes, kind):
    bad = {}
    for path in FILES[kind]:
        rec = outcomes.get(str(path), {"died": "no outcome"})
        problems = [
            f"{k}: {v}"
            for k, v in rec.items()
            if k == "died" or (k in ("read", "convert") and str(v).startswith("untyped"))
        ]
        if problems:
            bad[path.name] = problems
    assert bad == {}


@pytest.mark.parametrize("kind", ["parquet", "avro", "ipc"])
def test_native_conformance_reads_what_the_reference_reads(outcomes, kind):
    differ = {}
    for path in FILES[kind]:
        rec = outcomes.get(str(path), {})
        if rec.get("ref") != "ok" or path.name in KNOWN or path.name in BAD:
            continue
        keys = ["read", "equal"]
        if kind == "parquet":
            keys += ["convert", "converted_equal"]
        if any(rec.get(k) not in ("ok", True) for k in keys):
            differ[path.name] = {k: rec.get(k) for k in keys}
    assert differ == {}


def test_native_conformance_known_gaps_still_differ(outcomes):
    # A listed file that now reads the same should leave the list.
    for name in KNOWN:
        matches = [p for kind in FILES for p in FILES[kind] if p.name == name]
        for path in matches:
            rec = outcomes.get(str(path), {})
            same = rec.get("equal") and rec.get("converted_equal", True)
            assert not same, name
