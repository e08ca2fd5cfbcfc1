"""``import logflow`` stays light: the Engine's dependencies load on first use."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pyiceberg", "duckdb", "deltalake", "sqlglot", "sqlalchemy", "pyarrow")


def test_import_logflow_loads_no_engine_dependency():
    code = (
        "import sys, logflow\n"
        f"loaded = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "assert not loaded, loaded\n"
        "assert 'logflow.engine' not in sys.modules\n"
        "assert logflow.Engine.__name__ == 'Engine'\n"
        "assert 'duckdb' not in sys.modules and 'pyiceberg' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_engine_exported():
    import logflow

    assert "Engine" in logflow.__all__
    from logflow import Engine

    assert Engine is logflow.engine.Engine
