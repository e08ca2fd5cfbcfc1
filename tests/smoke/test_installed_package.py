"""Smoke tests of an installed logflow: what a user does first, on any platform.

They need only the installed package, its dependency pyarrow, pytest and this directory's
``pytest.ini``, so ``ci/smoke_wheel.py`` runs them against a wheel installed into a fresh
environment (no Rust toolchain, no source tree on the path) on every platform the release
workflow builds for. ``make test`` runs them too, against the development build.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "csv" / "sample.csv"
HEADER = ["event_id", "ts", "case_id", "activity", "amount", "success"]


def _run(*cmd: str | Path) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, f"{cmd} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc


def _cli() -> Path:
    scripts = Path(sysconfig.get_path("scripts"))
    exe = scripts / ("logflow.exe" if sys.platform == "win32" else "logflow")
    assert exe.is_file(), f"the logflow command is not installed in {scripts}"
    return exe


def test_runs_the_installed_package_not_the_source_tree():
    import logflow

    where = Path(logflow.__file__).resolve()
    assert "site-packages" in where.parts, where
    native = Path(logflow._native.__file__).name
    assert native.startswith("_native.") and native.endswith((".so", ".pyd")), native


def test_version_is_the_distribution_version():
    import logflow

    assert logflow.__version__ == importlib.metadata.version("logflow")


def test_import_does_not_load_pyarrow_or_duckdb():
    code = (
        "import sys, logflow; "
        "print(sorted(m for m in ('pyarrow', 'duckdb', 'numpy', 'polars') if m in sys.modules))"
    )
    proc = _run(sys.executable, "-c", code)
    assert proc.stdout.strip() == "[]"


def test_convert_the_sample_and_read_it_back(tmp_path):
    import pyarrow.parquet as pq

    import logflow

    out = tmp_path / "sample.parquet"
    result = logflow.convert(SAMPLE, out)
    assert (result.rows_read, result.rows_written, result.rows_quarantined) == (12, 12, 0)
    table = pq.read_table(out)
    assert table.num_rows == 12
    assert table.column_names == HEADER
    assert table.column("case_id")[0].as_py() == "C-1001"
    assert table.column("amount")[0].as_py() == pytest.approx(120.5)


def test_read_streams_arrow():
    import pyarrow as pa

    import logflow

    table = pa.table(logflow.read(SAMPLE))
    assert table.num_rows == 12
    assert table.column_names == HEADER


def test_detect_finds_the_dialect():
    import logflow

    found = logflow.detect(SAMPLE)
    assert found.dialect.delimiter == ","
    assert found.schema.names == HEADER


def test_cli_version():
    import logflow

    proc = _run(_cli(), "--version")
    assert proc.stdout.strip() == f"logflow {logflow.__version__}"


def test_cli_convert(tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "cli.parquet"
    proc = _run(_cli(), "convert", SAMPLE, out)
    assert "12 rows written" in proc.stdout
    assert pq.read_metadata(out).num_rows == 12
