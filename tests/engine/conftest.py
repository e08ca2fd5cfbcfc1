"""Fixtures for the Engine's tests: warehouses, small event logs, a real PostgreSQL server.

The PostgreSQL server is Debian's (``/usr/lib/postgresql/<version>/bin``), started once per
session on 127.0.0.1 with a free port and its socket in a temporary folder, and stopped at
the end. PostgreSQL refuses to run as root, so under root it runs as ``nobody``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import logflow

ACTIVITIES = ["Create Order", "Check Credit", "Approve Order", "Ship Order", "Close Case"]


def event_rows(n: int, start: int = 0, days: int = 5) -> pa.Table:
    """``n`` events: ids from ``start``, a date and a timestamp over ``days`` days."""
    ids = list(range(start + 1, start + n + 1))
    return pa.table(
        {
            "event_id": pa.array(ids, pa.int64()),
            "date": pa.array([f"2024-01-{1 + (i % days):02d}" for i in ids], pa.string()).cast(
                pa.date32()
            ),
            "ts": pa.array(
                [
                    f"{2022 + i % 3}-{1 + i % 12:02d}-{1 + (i % days):02d}"
                    f"T{(i * 7) % 24:02d}:{i % 60:02d}:00"
                    for i in ids
                ]
            ).cast(pa.timestamp("us")),
            "case_id": pa.array([f"C-{i % 17}" for i in ids]),
            "activity": pa.array([ACTIVITIES[i % len(ACTIVITIES)] for i in ids]),
            "amount": pa.array([round(i * 1.25, 2) for i in ids], pa.float64()),
        }
    )


@pytest.fixture(scope="session")
def make_events() -> Callable[[int], pa.Table]:
    """:func:`event_rows`, for fixtures wider than one test."""
    return event_rows


WriteEvents = Callable[..., Path]


@pytest.fixture
def write_events(tmp_path: Path) -> WriteEvents:
    """``write_events(n, name=..., start=..., extra=None)``: a CSV event log of ``n`` rows;
    ``extra`` adds columns ``{name: [values]}``."""

    def write(
        n: int, name: str = "events.csv", start: int = 0, extra: dict[str, list] | None = None
    ) -> Path:
        table = event_rows(n, start)
        for col, values in (extra or {}).items():
            table = table.append_column(col, pa.array(values))
        path = tmp_path / "in" / name
        path.parent.mkdir(exist_ok=True)
        pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))
        return path

    return write


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse"


@pytest.fixture
def engine(warehouse: Path) -> Iterator[logflow.Engine]:
    with logflow.Engine(warehouse) as e:
        yield e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="session")
def postgres_uri() -> Iterator[str]:
    """A SQLAlchemy URI of a PostgreSQL server this session started (stopped at the end)."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    root = tempfile.mkdtemp(prefix="logflow-pg-")
    data, sock = os.path.join(root, "data"), os.path.join(root, "sock")
    os.makedirs(sock)
    prefix: list[str] = []
    user = pwd.getpwuid(os.getuid()).pw_name
    if os.getuid() == 0:
        nobody = pwd.getpwnam("nobody")
        for path in (root, sock):
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
        prefix = ["runuser", "-u", "nobody", "--"]
        user = "nobody"
    port = _free_port()
    log = os.path.join(root, "server.log")
    subprocess.run(
        [*prefix, str(bin_dir / "initdb"), "-D", data, "-A", "trust", "-U", user, "--no-sync"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *prefix,
            str(bin_dir / "pg_ctl"),
            "-D",
            data,
            "-l",
            log,
            "-w",
            "-o",
            f"-h 127.0.0.1 -p {port} -k {sock} -F",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        deadline = time.monotonic() + 30
        while subprocess.run(
            [str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
            capture_output=True,
        ).returncode:
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start: {Path(log).read_text()}")
            time.sleep(0.2)
        yield f"postgresql://{user}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, str(bin_dir / "pg_ctl"), "-D", data, "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)
