"""pytest-benchmark suite set-up: collect ``bench_*.py`` and provide the generated data."""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path

import pytest

from data import BenchDataUnavailable, bench_rows, ensure_data


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    # pytest only collects test_*.py by default; take bench_*.py here unless pytest's own
    # collector already does (the file was named on the command line, or python_files
    # includes bench_*.py).
    if file_path.suffix != ".py" or not fnmatch(file_path.name, "bench_*.py"):
        return None
    patterns = parent.config.getini("python_files")
    if parent.session.isinitpath(file_path) or any(fnmatch(file_path.name, p) for p in patterns):
        return None
    return pytest.Module.from_parent(parent, path=file_path)


@pytest.fixture(scope="session")
def bench_data() -> Path:
    """Folder with events.csv and events.tsv (``$LOGFLOW_BENCH_ROWS`` rows)."""
    try:
        return ensure_data(formats=("csv", "tsv"))
    except BenchDataUnavailable as e:
        pytest.skip(str(e))


@pytest.fixture(scope="session")
def expected_rows() -> int:
    return bench_rows()
