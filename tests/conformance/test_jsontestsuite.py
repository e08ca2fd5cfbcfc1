"""JSONTestSuite (https://github.com/nst/JSONTestSuite), every parsing case read with logflow.

``test_parsing/`` names each file by what a conforming parser does with it:

- ``y_``: valid JSON. It converts with ``format="json"`` and the values read back from the
  Parquet file equal Python's ``json.loads`` of the file.
- ``n_``: not JSON. Conversion raises a :class:`logflow.errors.LogflowError` subclass under
  the strict policy and leaves no file behind.
- ``i_``: either is allowed. Each runs in a child process (a crash or a hang must not take
  the test run down with it) with a 1 GiB address-space limit and a timeout; it converts or
  raises a ``LogflowError``, never another exception, a signal or a hang, and stays well
  under the memory limit. When it converts and ``json.loads`` accepts the file too, the
  values must agree as for ``y_``.

How records map to rows (logflow's documented layouts): a top-level array gives one record
per element; a top-level object gives the array of objects it holds (found automatically,
the largest within three levels) or, holding none, is one record; any other value is one
record. Records that are all objects give one column per key; otherwise the records fill
one column ``value``.

How values compare (``compare`` below), by the Arrow type logflow chose:

- a missing key or JSON ``null`` is null;
- int64: the same integer; float64: the same number by value (``-0`` equals ``0``, the
  overflow ``1e999`` is ``inf`` on both sides; an integer only if the float is exactly it);
  decimal128: the same integer exactly, or
  for a fraction the same float once rounded;
- plain text: a JSON string exactly; a number or boolean in a text column (values of mixed
  kinds) is its JSON text, which must parse back to the same value;
- JSON text (a Utf8 column with ``ARROW:extension:name=arrow.json``): ``json.loads`` of it
  equals the value, kinds included (``1`` is not ``1.0``, ``true`` is not ``1``);
- list: element by element; struct: key by key, every key of the object being a field.

Accepted representational differences, asserted explicitly below: records that are all
``{}`` give a file with no columns (Parquet cannot hold rows without columns, so it reads
back as 0 rows); ``n_structure_object_with_trailing_garbage`` (``{"a": true} "x"``) is two
values one after another, a layout logflow reads on purpose (see NOT_REJECTED).

The suite folder is ``$LOGFLOW_CONFORMANCE/jsontestsuite`` (default
``<repo>/../shared/conformance``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import logflow
from logflow.errors import LogflowError

REPO = Path(__file__).resolve().parents[2]
ROOT = Path(os.environ.get("LOGFLOW_CONFORMANCE", REPO.parent / "shared" / "conformance"))
SUITE = ROOT / "jsontestsuite" / "test_parsing"

if not SUITE.is_dir():
    pytest.skip(
        f"JSONTestSuite not found at {SUITE} (set LOGFLOW_CONFORMANCE to the folder that "
        "holds jsontestsuite/)",
        allow_module_level=True,
    )


def cases(prefix: str) -> list[str]:
    return sorted(p.name for p in SUITE.glob(f"{prefix}*.json"))


Y_CASES = cases("y_")
N_CASES = cases("n_")
I_CASES = cases("i_")

# Known logflow bugs: the test stays and fails until the code is fixed.
Y_BUGS: dict[str, str] = {}
I_BUGS: dict[str, str] = {}
# n_ files logflow reads on purpose, with the records it must give.
NOT_REJECTED = {
    "n_structure_object_with_trailing_garbage.json": (
        [{"a": True}, "x"],
        'values one after another (concatenated JSON) is a documented layout: {"a": true} "x" '
        "is two records",
    ),
}


def marked(names: list[str], bugs: dict[str, str]) -> list[Any]:
    return [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=bugs[n])) if n in bugs else n
        for n in names
    ]


# ----------------------------------------------------------------------------------------
# Expected records and value comparison


def depth(value: Any) -> int:
    """Levels of arrays and objects in ``value`` (without recursion: suite files nest
    deeper than Python's recursion limit)."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        v, level = stack.pop()
        if isinstance(v, dict | list):
            deepest = max(deepest, level + 1)
            stack.extend((c, level + 1) for c in (v.values() if isinstance(v, dict) else v))
    return deepest


def record_arrays(obj: dict[str, Any], level: int = 0) -> list[list[Any]]:
    """Arrays of objects inside ``obj`` (three object levels deep at most)."""
    found = []
    for value in obj.values():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            found.append(value)
        elif isinstance(value, dict) and level + 1 < 3:
            found.extend(record_arrays(value, level + 1))
    return found


def expected_records(doc: Any) -> list[Any]:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        arrays = record_arrays(doc)
        # "The largest one" needs byte sizes; no suite file has more than one candidate.
        assert len(arrays) <= 1, "several record arrays: extend expected_records"
        return arrays[0] if arrays else [doc]
    return [doc]


def same(got: Any, want: Any) -> bool:
    """Equal as JSON values, kinds included: bool, int, float (by value), str, list, dict."""
    if isinstance(want, bool) or isinstance(got, bool):
        return type(got) is type(want) and got == want
    if isinstance(want, float) or isinstance(got, float):
        return isinstance(got, float) and isinstance(want, float) and got == want
    if isinstance(want, list):
        return (
            isinstance(got, list)
            and len(got) == len(want)
            and all(same(g, w) for g, w in zip(got, want, strict=True))
        )
    if isinstance(want, dict):
        return (
            isinstance(got, dict)
            and got.keys() == want.keys()
            and all(same(got[k], want[k]) for k in want)
        )
    return type(got) is type(want) and got == want


def is_json_text(field: pa.Field) -> bool:
    """JSON text: pyarrow reads the ``arrow.json`` extension as its JSON type; a reader
    without it sees Utf8 with the extension name in the field metadata."""
    t = field.type
    if isinstance(t, pa.BaseExtensionType):
        return t.extension_name == "arrow.json" and pa.types.is_string(t.storage_type)
    meta = field.metadata or {}
    return pa.types.is_string(t) and meta.get(b"ARROW:extension:name") == b"arrow.json"


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def compare(got: Any, want: Any, field: pa.Field, where: str) -> None:
    t = field.type
    if want is None:
        assert got is None, f"{where}: {got!r} for null"
        return
    assert got is not None, f"{where}: null for {want!r}"
    if is_json_text(field):
        assert isinstance(got, str), where
        assert same(json.loads(got), want), f"{where}: JSON text {got!r} != {want!r}"
    elif pa.types.is_string(t):
        if isinstance(want, str):
            assert got == want, f"{where}: {got!r} != {want!r}"
        else:
            assert isinstance(want, bool) or is_number(want), f"{where}: {want!r} as text"
            assert same(json.loads(got), want), f"{where}: text {got!r} != {want!r}"
    elif pa.types.is_boolean(t):
        assert isinstance(want, bool), where
        assert got is want, f"{where}: {got!r} != {want!r}"
    elif pa.types.is_int64(t):
        assert type(want) is int, f"{where}: int64 for {want!r}"
        assert got == want, f"{where}: {got!r} != {want!r}"
    elif pa.types.is_float64(t):
        # Python compares an int with a float exactly: an integer is only in a float64
        # column when the float holds it exactly (no suite file mixes ints and floats).
        assert is_number(want), f"{where}: float64 for {want!r}"
        assert got == want, f"{where}: {got!r} != {want!r}"
    elif pa.types.is_decimal(t):
        assert is_number(want), f"{where}: decimal for {want!r}"
        assert isinstance(got, Decimal), where
        if type(want) is int:
            assert got == want, f"{where}: {got!r} != {want!r}"
        else:
            assert float(got) == want, f"{where}: {got!r} != {want!r}"
    elif pa.types.is_list(t):
        assert isinstance(want, list) and len(got) == len(want), f"{where}: {got!r} != {want!r}"
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            compare(g, w, t.value_field, f"{where}[{k}]")
    elif pa.types.is_struct(t):
        assert isinstance(want, dict), f"{where}: struct for {want!r}"
        names = [t.field(k).name for k in range(t.num_fields)]
        assert set(want) <= set(names), f"{where}: keys {sorted(set(want) - set(names))} lost"
        for k in range(t.num_fields):
            child = t.field(k)
            compare(got[child.name], want.get(child.name), child, f"{where}.{child.name}")
    elif pa.types.is_null(t):
        raise AssertionError(f"{where}: a null-typed column for {want!r}")
    else:
        raise AssertionError(f"{where}: unexpected type {t} for {want!r}")


COUNTS = ("rows_read", "rows_written", "rows_quarantined", "rows_skipped")


def counts(result: logflow.ConvertResult) -> dict[str, int]:
    return {k: getattr(result, k) for k in COUNTS}


def check_output(counts: dict[str, int], dst: Path, doc: Any) -> None:
    """The counts say every record of ``doc`` was written, and the file holds them."""
    records = expected_records(doc)
    assert counts["rows_read"] == counts["rows_written"] == len(records), counts
    assert counts["rows_quarantined"] == counts["rows_skipped"] == 0, counts
    table = pq.read_table(dst)
    if records and all(r == {} for r in records):
        # Documented difference: objects without keys give no columns, and Parquet holds no
        # rows without columns.
        assert table.num_columns == 0
        return
    assert table.num_rows == len(records)
    rows = table.to_pylist()
    if all(isinstance(r, dict) for r in records):
        for i, (row, record) in enumerate(zip(rows, records, strict=True)):
            compare(row, record, pa.field("", pa.struct(table.schema)), f"row {i}")
    else:
        assert table.column_names == ["value"]
        field = table.schema.field("value")
        for i, (row, record) in enumerate(zip(rows, records, strict=True)):
            compare(row["value"], record, field, f"row {i}")


# ----------------------------------------------------------------------------------------
# y_: accepted, values as json.loads gives them


@pytest.mark.parametrize("name", marked(Y_CASES, Y_BUGS))
def test_accepted(name: str, tmp_path: Path) -> None:
    src = SUITE / name
    doc = json.loads(src.read_bytes())
    dst = tmp_path / "out.parquet"
    result = logflow.convert(src, dst, format="json")
    assert result.format == "json"
    check_output(counts(result), dst, doc)


def test_every_kind_of_case_is_present() -> None:
    # A missing or emptied suite folder must not pass as "nothing failed".
    assert len(Y_CASES) >= 90 and len(N_CASES) >= 180 and len(I_CASES) >= 30


# ----------------------------------------------------------------------------------------
# n_: rejected with a logflow error, nothing left behind


@pytest.mark.parametrize("name", [n for n in N_CASES if n not in NOT_REJECTED])
def test_rejected(name: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(LogflowError):
        logflow.convert(SUITE / name, out / "out.parquet", format="json")
    assert sorted(os.listdir(out)) == []


@pytest.mark.parametrize("name", sorted(NOT_REJECTED))
def test_not_rejected_on_purpose(name: str, tmp_path: Path) -> None:
    records, _why = NOT_REJECTED[name]
    dst = tmp_path / "out.parquet"
    result = logflow.convert(SUITE / name, dst, format="json")
    check_output(counts(result), dst, records)


# ----------------------------------------------------------------------------------------
# i_: converts or raises a logflow error; never a crash, a hang or unbounded memory

CHILD = textwrap.dedent(
    """
    import json, resource, sys
    limit = 1 << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import logflow
    from logflow.errors import LogflowError
    src, dst = sys.argv[1], sys.argv[2]
    try:
        r = logflow.convert(src, dst, format="json")
        outcome = {"outcome": "converted", "counts": {k: getattr(r, k) for k in (
            "rows_read", "rows_written", "rows_quarantined", "rows_skipped")}}
    except LogflowError as e:
        outcome = {"outcome": "logflow_error", "error": type(e).__name__}
    except BaseException as e:
        outcome = {"outcome": "other_exception", "error": repr(e)}
    # peak resident memory of this program: VmHWM starts again at exec, while ru_maxrss
    # counts the parent's memory at fork
    try:
        with open("/proc/self/status") as status:
            peak = [l for l in status if l.startswith("VmHWM:")][0].split()[1]
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcome["max_rss_kib"] = int(peak)
    print(json.dumps(outcome))
    """
)
CHILD_TIMEOUT_S = 60
MAX_RSS_KIB = 256 << 10


def run_child(name: str, out: Path) -> dict[str, Any]:
    dst = out / f"{name}.parquet"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(SUITE / name), str(dst)],
            capture_output=True,
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"outcome": "hang"}
    if proc.returncode != 0:
        return {"outcome": "crash", "returncode": proc.returncode, "stderr": proc.stderr[-2000:]}
    outcome = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    outcome["dst"] = str(dst)
    return outcome


@pytest.fixture(scope="module")
def implementation_defined(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every i_ case run once, two children at a time."""
    out = tmp_path_factory.mktemp("jsontestsuite_i")
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = pool.map(lambda n: run_child(n, out), I_CASES)
        return dict(zip(I_CASES, results, strict=True))


@pytest.mark.parametrize("name", marked(I_CASES, I_BUGS))
def test_implementation_defined(name: str, implementation_defined: dict[str, Any]) -> None:
    outcome = implementation_defined[name]
    assert outcome["outcome"] in {"converted", "logflow_error"}, outcome
    assert outcome["max_rss_kib"] < MAX_RSS_KIB, outcome
    if outcome["outcome"] != "converted":
        assert not Path(outcome["dst"]).exists()
        return
    raw = (SUITE / name).read_bytes()
    try:
        doc = json.loads(raw)
    except ValueError:
        return  # Python rejects it: logflow may read it its own way
    dst = Path(outcome["dst"])
    if depth(doc) > 32:
        # pyarrow does not read very deep nesting back; the row count must still be right
        assert pq.ParquetFile(dst).metadata.num_rows == len(expected_records(doc))
        return
    check_output(outcome["counts"], dst, doc)
