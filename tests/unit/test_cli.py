"""The ``logflow`` command line, run as a real subprocess."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import logflow

MODULE = [sys.executable, "-m", "logflow.cli"]


def _script() -> list[str]:
    # The console script of the interpreter running the tests (its venv's bin), else PATH.
    beside = Path(sys.executable).parent / "logflow"
    path = str(beside) if beside.is_file() else shutil.which("logflow")
    if path is None:
        pytest.skip("the `logflow` console script is not on PATH (wheel not installed?)")
    return [path]


@pytest.fixture(params=["module", "script"])
def cli(request) -> list[str]:
    """The command to run: ``python -m logflow.cli`` or the ``logflow`` console script."""
    return MODULE if request.param == "module" else _script()


def run(
    cmd: list[str], *args: str | os.PathLike[str], timeout: float = 60
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*cmd, *map(str, args)], capture_output=True, text=True, timeout=timeout, check=False
    )


def assert_one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("logflow: error: "), lines[0]
    return lines[0]


# ------------------------------------------------------------------------------- success


def test_cli_convert_success_summary(cli, sample_csv, out_dir):
    dst = out_dir / "sample.parquet"
    proc = run(cli, "convert", sample_csv, dst)
    assert proc.returncode == 0, proc.stderr
    assert "12 rows written" in proc.stdout
    assert str(dst) in proc.stdout
    assert pq.read_table(dst).num_rows == 12
    assert proc.stderr == ""  # no progress bar when stderr is not a terminal


def test_cli_convert_quiet_prints_nothing(sample_csv, out_dir):
    dst = out_dir / "q.parquet"
    proc = run(MODULE, "convert", "-q", sample_csv, dst)
    assert proc.returncode == 0
    assert proc.stdout == proc.stderr == ""
    assert dst.is_file()


def test_cli_version(cli):
    proc = run(cli, "--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"logflow {logflow.__version__}"


def test_cli_compression_snappy(cli, sample_csv, out_dir):
    dst = out_dir / "snappy.parquet"
    proc = run(cli, "convert", sample_csv, dst, "--compression", "snappy")
    assert proc.returncode == 0, proc.stderr
    assert pq.ParquetFile(dst).metadata.row_group(0).column(0).compression == "SNAPPY"


def test_cli_delimiter_and_no_header(write_csv, out_dir):
    src = write_csv("1;a\n2;b\n")
    dst = out_dir / "x.parquet"
    proc = run(MODULE, "convert", src, dst, "--delimiter", ";", "--no-header")
    assert proc.returncode == 0, proc.stderr
    assert pq.read_table(dst).num_rows == 2


def test_cli_row_group_size(sample_csv, out_dir):
    dst = out_dir / "rg.parquet"
    proc = run(MODULE, "convert", sample_csv, dst, "--row-group-size", "5")
    assert proc.returncode == 0, proc.stderr
    assert pq.ParquetFile(dst).metadata.num_row_groups == 3


# ------------------------------------------------------------------------ error policies

# 200 good rows, then a row with too many fields, one with too few and one whose qty is not
# an integer (3 bad records), and a good last row without newline: 201 good.
DIRTY = (
    b"id,qty\n"
    + b"".join(b"%d,%d\n" % (i, i) for i in range(200))
    + b"200,1,extra\n201\n202,many\n203,203"
)
DIRTY_QUARANTINE = b"id,qty\n200,1,extra\n201\n202,many\n"


def test_cli_error_policy_quarantine(cli, write_csv, out_dir, list_dir):
    src = write_csv(DIRTY)
    dst = out_dir / "d.parquet"
    proc = run(cli, "convert", src, dst, "--error-policy", "quarantine")
    assert proc.returncode == 0, proc.stderr
    quarantine = out_dir / "d.quarantine.csv"
    errors = out_dir / "d.errors.parquet"
    assert list_dir(out_dir) == ["d.errors.parquet", "d.parquet", "d.quarantine.csv"]
    assert "201 rows written (204 read, 3 quarantined, 0 skipped)" in proc.stdout
    assert "cast_error: 1" in proc.stdout
    assert "too_few_fields: 1" in proc.stdout
    assert "too_many_fields: 1" in proc.stdout
    assert f"quarantined rows: {quarantine}" in proc.stdout
    assert str(errors) in proc.stdout
    assert quarantine.read_bytes() == DIRTY_QUARANTINE
    assert pq.read_table(errors).column("line").to_pylist() == [202, 203, 204]
    assert pq.read_table(dst).column("id").to_pylist() == [*range(200), 203]
    assert proc.stderr == ""


def test_cli_error_policy_permissive(cli, write_csv, out_dir, list_dir):
    src = write_csv(DIRTY)
    dst = out_dir / "d.parquet"
    proc = run(cli, "convert", src, dst, "--error-policy", "permissive")
    assert proc.returncode == 0, proc.stderr
    assert list_dir(out_dir) == ["d.parquet"]
    assert "201 rows written (204 read, 0 quarantined, 3 skipped)" in proc.stdout
    assert "cast_error: 1" in proc.stdout
    assert "quarantined rows:" not in proc.stdout
    assert pq.read_table(dst).column("id").to_pylist() == [*range(200), 203]


def test_cli_on_cast_error_null_and_threads(write_csv, out_dir, list_dir):
    src = write_csv(DIRTY)
    dst = out_dir / "d.parquet"
    proc = run(
        MODULE,
        "convert",
        src,
        dst,
        "--error-policy",
        "quarantine",
        "--on-cast-error",
        "null",
        "--threads",
        "1",
    )
    assert proc.returncode == 0, proc.stderr
    assert "202 rows written (204 read, 2 quarantined, 0 skipped)" in proc.stdout
    assert "bad rows by reason: too_few_fields: 1, too_many_fields: 1\n" in proc.stdout
    assert (out_dir / "d.quarantine.csv").read_bytes() == b"id,qty\n200,1,extra\n201\n"
    table = pq.read_table(dst)
    assert table.column("qty").to_pylist()[-2:] == [None, 203]


def test_cli_default_policy_is_strict(write_csv, out_dir, list_dir):
    src = write_csv(DIRTY)
    line = assert_one_error_line(run(MODULE, "convert", src, out_dir / "d.parquet"))
    assert "line 202" in line
    assert list_dir(out_dir) == []


def test_cli_error_policy_bad_choice_exits_2(write_csv, out_dir):
    src = write_csv(DIRTY)
    for option, value in (("--error-policy", "lenient"), ("--on-cast-error", "skip")):
        proc = run(MODULE, "convert", src, out_dir / "d.parquet", option, value)
        assert proc.returncode == 2, (option, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert value in proc.stderr


# -------------------------------------------------------------------------------- errors


def test_cli_ragged_input_one_line_error(cli, write_csv, out_dir, list_dir):
    src = write_csv("a,b,c\n1,2,3\n4,5\n")
    line = assert_one_error_line(run(cli, "convert", src, out_dir / "x.parquet"))
    assert str(src) in line
    assert "line 3" in line
    assert list_dir(out_dir) == []


def test_cli_missing_input_one_line_error(cli, in_dir, out_dir, list_dir):
    src = in_dir / "missing.csv"
    line = assert_one_error_line(run(cli, "convert", src, out_dir / "x.parquet"))
    assert str(src) in line
    assert list_dir(out_dir) == []


def test_cli_directory_input_one_line_error(cli, in_dir, out_dir, list_dir):
    line = assert_one_error_line(run(cli, "convert", in_dir, out_dir / "x.parquet"))
    assert "directory" in line
    assert list_dir(out_dir) == []


def test_cli_empty_input_one_line_error(cli, write_csv, out_dir, list_dir):
    src = write_csv(b"")
    line = assert_one_error_line(run(cli, "convert", src, out_dir / "x.parquet"))
    assert "empty" in line
    assert list_dir(out_dir) == []


def test_cli_unsupported_format_one_line_error(write_csv, out_dir):
    src = write_csv(b"PAR1\x00\x01\x02\x00PAR1", name="x.parquet")
    line = assert_one_error_line(run(MODULE, "convert", src, out_dir / "x.parquet"))
    assert "parquet" in line


def test_cli_output_is_directory_one_line_error(sample_csv, out_dir):
    assert_one_error_line(run(MODULE, "convert", sample_csv, out_dir))


def test_cli_usage_error_exits_2(sample_csv):
    proc = run(MODULE, "convert", sample_csv)  # missing DST
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    proc = run(MODULE, "convert", sample_csv, "x.parquet", "--compression", "brotli")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------------------------------- Ctrl-C


@pytest.mark.slow
def test_cli_sigint_exits_promptly_and_cleans_up(csv_150mb, out_dir, list_dir):
    # "Promptly" is measured against this machine, now: a whole conversion of the same
    # file, so a slow or loaded machine slows both sides alike.
    whole_dst = out_dir / "whole.parquet"
    t0 = time.monotonic()
    done = subprocess.run(
        [*MODULE, "convert", "-q", str(csv_150mb), str(whole_dst)], capture_output=True
    )
    whole = time.monotonic() - t0
    assert done.returncode == 0, done.stderr
    whole_dst.unlink()
    dst = out_dir / "big.parquet"
    proc = subprocess.Popen(
        [*MODULE, "convert", str(csv_150mb), str(dst)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Wait until the conversion is really under way: its temporary file shows up.
        deadline = time.monotonic() + 30
        while not list_dir(out_dir):
            assert proc.poll() is None, f"finished before it could be interrupted: {proc.stderr}"
            assert time.monotonic() < deadline, "conversion never started"
            time.sleep(0.01)
        assert proc.poll() is None, "conversion finished before SIGINT; make the input larger"
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=max(60, 10 * whole))
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # Stopping waits for at most the chunks in hand, not for the rest of the file: well
    # under half of a whole run, which the signal came at the very start of.
    assert took < 0.5 * whole, f"took {took:.2f} s to stop after SIGINT ({whole:.2f} s whole)"
    assert proc.returncode in (130, -signal.SIGINT), (proc.returncode, stderr)
    assert "Traceback" not in stderr
    assert list_dir(out_dir) == [], "output or temporary file left after SIGINT"


def test_cli_output_cut_short_by_the_reader_is_not_an_error(sample_csv):
    # `logflow detect FILE | head -0`: the reader is gone before anything is written.
    with subprocess.Popen(
        [*MODULE, "detect", str(sample_csv), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=60)
    assert code == 0, err
    assert err == ""


def test_cli_detect_shows_date_formats(cli, tmp_path):
    src = tmp_path / "d.csv"
    src.write_text("id,day\n1,31/12/2024\n2,15/01/2025\n3,01/02/2025\n")
    proc = run(cli, "detect", src)
    assert proc.returncode == 0, proc.stderr
    assert "day: date32[day]  format: %d/%m/%Y" in proc.stdout
    proc = run(cli, "detect", src, "--json")
    cols = {c["name"]: c for c in json.loads(proc.stdout)["columns"]}
    assert cols["day"]["format"] == "%d/%m/%Y" and cols["id"]["format"] is None
