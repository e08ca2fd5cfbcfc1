"""Install a built logflow distribution into a fresh venv and run the smoke tests against it.

    python ci/smoke_wheel.py DIST

DIST is a wheel or an sdist. A wheel is installed and tested with a PATH that holds only the
venv and the system directories, so no cargo, rustc or maturin can be used behind the scenes:
what runs is what a user without a Rust toolchain gets. An sdist is built by pip, which needs
the Rust toolchain on this machine's PATH; its tests then run with the same bare PATH.
The tests are tests/smoke, run from a scratch directory so the source tree is not importable.

Runs the same way on Linux (also inside a container), macOS and Windows; used by
`make wheel-smoke`, `make sdist-smoke` and .github/workflows/release.yml.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SMOKE = REPO / "tests" / "smoke"
WINDOWS = sys.platform == "win32"


def venv_bin(venv: Path) -> Path:
    """The directory of the venv's programs."""
    return venv / ("Scripts" if WINDOWS else "bin")


def bare_env(venv: Path) -> dict[str, str]:
    """The venv and the system directories on PATH, and this machine's package-index settings."""
    if WINDOWS:
        root = os.environ.get("SYSTEMROOT", r"C:\Windows")
        system = [str(Path(root) / "System32"), root]
    else:
        system = ["/usr/bin", "/bin"]
    env = {"PATH": os.pathsep.join([str(venv_bin(venv)), *system]), "LANG": "C.UTF-8"}
    keep = {"HOME", "USERPROFILE", "SYSTEMROOT", "TEMP", "TMP", "TMPDIR", "LOCALAPPDATA"}
    for key, value in os.environ.items():
        upper = key.upper()
        if upper in keep or upper.startswith(("PIP_", "SSL_CERT_")) or upper.endswith("_PROXY"):
            env[key] = value
    return env


def run(cmd: list[str | Path], env: dict[str, str] | None, cwd: Path) -> None:
    """Run a command, echoed first; fail on a non-zero exit."""
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, check=True)


def main(argv: list[str] | None = None) -> int:
    """Install the distribution, then run the smoke tests; returns pytest's exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dist", type=Path, help="a logflow wheel or sdist")
    args = parser.parse_args(argv)
    dist = args.dist.resolve()
    if not dist.is_file():
        parser.error(f"{dist}: no such file")
    wheel = dist.name.endswith(".whl")
    if not wheel and not dist.name.endswith(".tar.gz"):
        parser.error(f"{dist.name}: neither a wheel nor an sdist")

    with tempfile.TemporaryDirectory(prefix="logflow-smoke-") as scratch:
        work = Path(scratch)
        venv = work / "venv"
        run([sys.executable, "-m", "venv", venv], None, work)
        env = bare_env(venv)
        for tool in ("cargo", "rustc", "maturin"):
            found = shutil.which(tool, path=env["PATH"])
            if found:
                print(f"smoke_wheel: {tool} is on the bare PATH: {found}", file=sys.stderr)
                return 1
        python = venv_bin(venv) / ("python.exe" if WINDOWS else "python")
        # an sdist compiles: pip needs the toolchain on this machine's own PATH
        install_env = env if wheel else None
        run([python, "-m", "pip", "install", "-q", dist, "pytest>=8"], install_env, work)
        test = [python, "-m", "pytest", "-c", SMOKE / "pytest.ini", "--rootdir", SMOKE, SMOKE]
        print("+", " ".join(str(c) for c in test), flush=True)
        proc = subprocess.run([str(c) for c in test], env=env, cwd=work, check=False)
        return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
