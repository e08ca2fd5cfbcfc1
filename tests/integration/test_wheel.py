"""The built wheel installs into a fresh venv and its CLI works with no Rust toolchain.

Uses ``target/wheels/logflow-*.whl`` (``make build`` writes it). Its dependency pyarrow comes
from the package index (pip's cache makes that quick after the first run).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
WHEELS = REPO / "target" / "wheels"


def _wheel() -> Path:
    wheels = sorted(WHEELS.glob("logflow-*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        msg = f"no logflow wheel in {WHEELS}; run `make build` first"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return wheels[-1]


def _clean_env(venv: Path) -> dict[str, str]:
    """Only the venv and the system directories on PATH: no cargo, rustc or pyenv shims."""
    env = {
        "PATH": os.pathsep.join([str(venv / "bin"), "/usr/bin", "/bin"]),
        "HOME": os.environ.get("HOME", str(venv)),
        "LANG": "C.UTF-8",
    }
    # keep the package-index settings (certificates, mirrors, timeouts) of this machine
    env.update({k: v for k, v in os.environ.items() if k.startswith("PIP_")})
    env.update({k: v for k, v in os.environ.items() if k.lower() in ("http_proxy", "https_proxy")})
    return env


def _run(
    cmd: list[str], env: dict[str, str], cwd: Path, timeout: float
) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert proc.returncode == 0, f"{cmd} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_wheel_installs_and_cli_converts(tmp_path, sample_csv):
    wheel = _wheel()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = _clean_env(venv)
    for tool in ("cargo", "rustc", "maturin"):
        assert shutil.which(tool, path=env["PATH"]) is None, f"{tool} is on the clean PATH"

    py = venv / "bin" / "python"
    _run([str(py), "-m", "pip", "install", "-q", str(wheel)], env, tmp_path, timeout=600)

    # the installed package, not the source tree, is what runs
    where = _run([str(py), "-c", "import logflow; print(logflow.__file__)"], env, tmp_path, 60)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout

    out = tmp_path / "sample.parquet"
    proc = _run(
        [str(venv / "bin" / "logflow"), "convert", str(sample_csv), str(out)], env, tmp_path, 120
    )
    assert "12 rows written" in proc.stdout
    assert out.is_file()
    rows = _run(
        [
            str(py),
            "-c",
            f"import pyarrow.parquet as pq; print(pq.read_metadata({str(out)!r}).num_rows)",
        ],
        env,
        tmp_path,
        60,
    )
    assert rows.stdout.strip() == "12"
