"""The release workflow, checked here because it only runs on the public CI.

It must be a valid GitHub Actions workflow (the schema check-jsonschema ships), build every
platform's wheel, the Linux ones with exactly what ``make wheels`` runs, test each built
wheel, and publish by trusted publishing only from a version tag.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "release.yml"
BUILD_JOBS = ("linux", "macos", "windows")


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _jobs(workflow: dict) -> dict:
    return workflow["jobs"]


def _runs(job: dict) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def _uses(job: dict) -> list[str]:
    return [step["uses"] for step in job["steps"] if "uses" in step]


def _matrix(job: dict) -> list[dict]:
    return job["strategy"]["matrix"]["include"]


def _linux_targets() -> list[str]:
    out = subprocess.run(
        ["bash", str(REPO / "ci" / "build-wheels.sh"), "--list-targets"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return out.stdout.split()


def test_is_a_valid_github_workflow():
    schema = ["--builtin-schema", "vendor.github-workflows"]
    proc = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", *schema, str(WORKFLOW)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_triggers_are_tags_pull_requests_and_manual(workflow):
    # YAML 1.1 reads the bare key `on` as True
    triggers = workflow.get("on", workflow.get(True))
    assert set(triggers) == {"push", "pull_request", "workflow_dispatch"}
    assert triggers["push"] == {"tags": ["v*"]}


def test_jobs(workflow):
    assert set(_jobs(workflow)) == {*BUILD_JOBS, "sdist", "publish"}
    for name, job in _jobs(workflow).items():
        assert job.get("runs-on"), name
        assert job.get("steps"), name


def test_actions_are_pinned_to_a_release(workflow):
    for name, job in _jobs(workflow).items():
        for action in _uses(job):
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@(v\d+|release/v\d+|[0-9a-f]{40})", action), (
                name,
                action,
            )


def test_linux_matrix_is_the_targets_of_make_wheels(workflow):
    targets = _linux_targets()
    assert {f"{arch}-unknown-linux-{libc}" for arch in ("x86_64", "aarch64")
            for libc in ("gnu", "musl")} == set(targets)  # fmt: skip
    matrix = _matrix(_jobs(workflow)["linux"])
    assert sorted(entry["target"] for entry in matrix) == sorted(targets)
    for entry in matrix:
        arch, libc = entry["target"].split("-")[0], entry["target"].split("-")[-1]
        expected = {"gnu": f"manylinux_2_17_{arch}", "musl": f"musllinux_1_2_{arch}"}[libc]
        assert entry["tag"] == expected, entry
        # built and tested on a machine of the wheel's architecture
        assert entry["runner"].endswith("-arm") == (arch == "aarch64"), entry
        assert entry["platform"] == {"x86_64": "linux/amd64", "aarch64": "linux/arm64"}[arch]
        # tested on the C library it claims
        assert ("alpine" in entry["image"]) == (libc == "musl"), entry


def test_linux_jobs_build_with_make_wheels_only(workflow):
    runs = _runs(_jobs(workflow)["linux"])
    assert "make wheels WHEEL_TARGETS=${{ matrix.target }}" in runs
    assert not any("maturin" in run for run in runs), "Linux wheels come from make wheels"
    makefile = (REPO / "Makefile").read_text()
    wheels = re.search(r"^wheels:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert wheels, "the Makefile has no wheels target"
    assert "ci/build-wheels.sh $(WHEEL_TARGETS)" in wheels.group(1)


def test_macos_and_windows_targets(workflow):
    macos = {entry["target"] for entry in _matrix(_jobs(workflow)["macos"])}
    assert macos == {"x86_64-apple-darwin", "aarch64-apple-darwin"}
    for entry in _matrix(_jobs(workflow)["macos"]):
        # each macOS wheel is built and tested on its own architecture
        assert ("intel" in entry["runner"]) == entry["target"].startswith("x86_64"), entry
    windows = _jobs(workflow)["windows"]
    assert windows["runs-on"].startswith("windows")
    assert any("--target x86_64-pc-windows-msvc" in run for run in _runs(windows))


def test_every_built_wheel_is_checked_and_smoke_tested(workflow):
    for name in BUILD_JOBS:
        runs = "\n".join(_runs(_jobs(workflow)[name]))
        assert "ci/smoke_wheel.py" in runs, name
        # Linux wheels are checked inside ci/build-wheels.sh
        assert "ci/check_wheel.py" in runs or "make wheels" in runs, name
    sdist = "\n".join(_runs(_jobs(workflow)["sdist"]))
    assert "make sdist" in sdist
    assert "ci/smoke_wheel.py dist/logflow-*.tar.gz" in sdist


def test_one_abi3_wheel_per_platform(workflow):
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "abi3" in pyproject["tool"]["maturin"]["features"]
    cargo = tomllib.loads((REPO / "rust" / "logflow-py" / "Cargo.toml").read_text())
    assert cargo["features"]["abi3"] == ["pyo3/abi3-py311"]
    for name, job in _jobs(workflow).items():
        for entry in job.get("strategy", {}).get("matrix", {}).get("include", []):
            assert "python-version" not in entry, f"{name}: abi3 needs no per-Python build"
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/setup-python"):
                assert step["with"]["python-version"] == "3.11", name


def test_artifacts_have_one_name_each(workflow):
    names = []
    for job in _jobs(workflow).values():
        matrix = _matrix(job) if "strategy" in job else [{}]
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/upload-artifact"):
                for entry in matrix:
                    name = step["with"]["name"]
                    for key, value in entry.items():
                        name = name.replace(f"${{{{ matrix.{key} }}}}", value)
                    names.append(name)
    assert len(names) == len(set(names)) == 4 + 2 + 1 + 1, names


def test_publish_uses_trusted_publishing_on_tags_only(workflow):
    assert workflow["permissions"] == {"contents": "read"}
    publish = _jobs(workflow)["publish"]
    assert set(publish["needs"]) == {*BUILD_JOBS, "sdist"}
    assert "startsWith(github.ref, 'refs/tags/v')" in publish["if"]
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    step = next(s for s in publish["steps"] if s.get("uses", "").startswith("pypa/gh-action-pypi"))
    assert not {"password", "user"} & set(step.get("with", {})), "no stored token"
    for name, job in _jobs(workflow).items():
        if name != "publish":
            assert "id-token" not in job.get("permissions", {}), name


def test_referenced_scripts_exist(workflow):
    for job in _jobs(workflow).values():
        for run in _runs(job):
            for script in re.findall(r"ci/[\w.-]+", run):
                assert (REPO / script).is_file(), script
