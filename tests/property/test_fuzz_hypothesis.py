"""Fuzzing from Python: random bytes and random options through ``convert``, ``read`` and
``profile``.

Every call must end in a result whose accounting holds, or in a :mod:`logflow.errors`
exception: never a crash (a ``PanicException`` is a ``BaseException``), never a hang (an
alarm fails the example after 60 s), never a file left behind (temporary, partial or
quarantine files of a failed run). The cargo-fuzz targets do the same for the decoders in
Rust; this harness covers the binding, the options and the output files.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import logflow
from logflow import rules as R
from logflow.errors import LogflowError

HANG_SECONDS = 60

# Bytes that mean something to some decoder, so random text hits their paths often.
_ALPHABET = ",;\t|\"'\\\n\r{}[]:a1.-eE +0n/TZtrufalsé"
_texts = st.text(alphabet=_ALPHABET, max_size=400).map(lambda s: s.encode("utf-8"))
_csv_rows = st.lists(
    st.lists(
        st.one_of(
            st.integers(-5, 99).map(str),
            st.sampled_from(["", "x", "1.5", "2024-01-02", "true", '"q,q"', "NA", "é"]),
        ),
        min_size=1,
        max_size=4,
    ),
    max_size=30,
).map(lambda rows: ("a,b,c,d\n" + "".join(",".join(r) + "\n" for r in rows)).encode())
_json_lines = st.lists(
    st.dictionaries(
        st.sampled_from(["a", "b", "c"]),
        st.one_of(
            st.none(),
            st.integers(-10, 10),
            st.floats(allow_nan=False, allow_infinity=False),
            st.text(max_size=5),
            st.booleans(),
            st.lists(st.integers(0, 3), max_size=2),
        ),
    ),
    max_size=30,
).map(lambda recs: "".join(json.dumps(r) + "\n" for r in recs).encode())
inputs = st.one_of(st.binary(max_size=600), _texts, _csv_rows, _json_lines)

_rules = st.sampled_from(
    [
        None,
        [R.NotNull("a")],
        [R.Range("a", min=0, max=50)],
        [R.Unique("a")],
        [R.Length("a", max=2), R.AllowedValues("b", ["x", "1.5"])],
        [R.Check(lambda b: [i % 2 == 0 for i in range(b.num_rows)], name="even")],
    ]
)
convert_options = st.fixed_dictionaries(
    {
        "format": st.sampled_from([None, "csv", "tsv", "json", "jsonl"]),
        "error_policy": st.sampled_from(["strict", "permissive", "quarantine"]),
        "on_cast_error": st.sampled_from(["reject", "null"]),
        "schema_policy": st.sampled_from([None, "strict", "merge", "evolve"]),
        "infer_types": st.booleans(),
        "threads": st.sampled_from([1, 2]),
        "header": st.sampled_from([None, True, False]),
        "batch_size": st.sampled_from([None, 1, 3]),
        "profile": st.booleans(),
        "verify": st.booleans(),
        "rules": _rules,
    }
)


@contextmanager
def _no_hang() -> Iterator[None]:
    def fail(signum: int, frame: object) -> None:
        raise TimeoutError(f"no answer within {HANG_SECONDS} s: a hang")

    old = signal.signal(signal.SIGALRM, fail)
    signal.alarm(HANG_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _fresh(workdir: Path) -> tuple[Path, Path]:
    root = Path(tempfile.mkdtemp(dir=workdir))
    (root / "in").mkdir()
    (root / "out").mkdir()
    return root / "in", root / "out"


def _leftovers(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


pytestmark = pytest.mark.skipif(
    not hasattr(signal, "SIGALRM"), reason="the hang guard needs SIGALRM"
)


@settings(max_examples=int(os.environ.get("LOGFLOW_FUZZ_EXAMPLES", "300")))
@given(data=inputs, options=convert_options, suffix=st.sampled_from(["csv", "json", "txt"]))
def test_convert_random_input(workdir, data, options, suffix):
    src_dir, out_dir = _fresh(workdir)
    src = src_dir / f"in.{suffix}"
    src.write_bytes(data)
    dst = out_dir / "out.parquet"
    spill = Path(tempfile.mkdtemp(dir=workdir))
    old_tmp = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(spill)
    try:
        with _no_hang():
            r = logflow.convert(src, dst, **options)
    except LogflowError:
        assert _leftovers(out_dir) == [], "a failed run left files behind"
        return
    finally:
        if old_tmp is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = old_tmp
        assert _leftovers(spill) == [], "spilled keys left behind"
    assert r.rows_read == r.rows_written + r.rows_quarantined + r.rows_skipped
    assert sum(r.errors_by_reason.values()) <= r.rows_quarantined + r.rows_skipped
    expected = {"out.parquet"}
    if r.quarantine_path:
        assert r.rows_quarantined > 0
        expected |= {os.path.basename(r.quarantine_path), os.path.basename(r.errors_path or "")}
    assert set(_leftovers(out_dir)) == expected
    meta = pq.ParquetFile(dst).metadata
    # Rows without any column (JSON records `{}`) are counted but Parquet has nothing to
    # hold them in: the file reads back as no rows. A known gap, not checked here.
    if meta.num_columns > 0:
        assert meta.num_rows == r.rows_written
    assert r.checksum_in is not None and r.checksum_out is not None
    if options["profile"]:
        assert r.quality is not None
        assert r.quality.rows >= r.rows_written
        for c in r.quality.columns.values():
            assert c.nulls <= c.rows == r.quality.rows
            assert c.distinct <= c.rows - c.nulls


@settings(max_examples=int(os.environ.get("LOGFLOW_FUZZ_EXAMPLES", "300")))
@given(data=inputs, options=convert_options, suffix=st.sampled_from(["csv", "jsonl"]))
def test_read_and_profile_random_input(workdir, data, options, suffix):
    src_dir, _ = _fresh(workdir)
    src = src_dir / f"in.{suffix}"
    src.write_bytes(data)
    read_opts = {
        k: v
        for k, v in options.items()
        if k in ("format", "on_cast_error", "infer_types", "threads", "header", "batch_size")
    }
    policy = "strict" if options["error_policy"] == "strict" else "permissive"
    try:
        with _no_hang():
            stream = logflow.read(src, error_policy=policy, **read_opts)
            rows = sum(b.num_rows for b in stream)
    except LogflowError:
        pass
    else:
        assert stream.rows_read == rows + stream.rows_rejected + stream.rows_skipped
    try:
        with _no_hang():
            report = logflow.profile(src, error_policy=policy, rules=options["rules"], **read_opts)
    except LogflowError:
        return
    assert report.rows_read == report.rows_written + report.rows_skipped
    assert _leftovers(src_dir) == [src.name]
