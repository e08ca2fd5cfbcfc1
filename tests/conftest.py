"""Shared fixtures for the Python test suite.

The suite runs against the installed ``logflow`` wheel (``make test`` builds and installs it
first). Large inputs are generated once per session into pytest's temporary directory.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parent.parent

# Hypothesis: "ci" is the default (also used locally) so the property module stays well under
# 20 s, and derandomized so a run is reproducible (a red build is never a roll of the dice);
# HYPOTHESIS_PROFILE=thorough explores more, with fresh random examples each time.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=50,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("thorough", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# When a property test fails, Hypothesis imports libcst to write a patch file; libcst 1.0
# with mypy_extensions 1.1 warns on import, and filterwarnings=error then turns the failure
# report into a pytest INTERNALERROR. Import it once here, with that warning silenced.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import hypothesis.extra._patching  # noqa: F401
    except Exception:  # optional (needs libcst): nothing to pre-import
        pass


WriteCsv = Callable[..., Path]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def sample_csv() -> Path:
    """The 12-row event log bundled with the repository."""
    path = REPO / "tests" / "data" / "csv" / "sample.csv"
    assert path.is_file(), f"missing fixture {path}"
    return path


@pytest.fixture
def in_dir(tmp_path: Path) -> Path:
    """A directory for inputs, separate from the output directory."""
    d = tmp_path / "in"
    d.mkdir()
    return d


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """An empty directory for outputs; tests list it to prove nothing is left behind."""
    d = tmp_path / "out"
    d.mkdir()
    return d


@pytest.fixture
def write_csv(in_dir: Path) -> WriteCsv:
    """Write CSV text (``str``, encoded UTF-8 with no newline translation) or raw ``bytes``
    to ``in_dir/name`` and return the path."""

    def write(content: str | bytes, name: str = "input.csv") -> Path:
        path = in_dir / name
        data = content.encode("utf-8") if isinstance(content, str) else content
        path.write_bytes(data)
        return path

    return write


def listdir(path: Path) -> list[str]:
    """Every entry of a directory, hidden ones included, sorted."""
    return sorted(os.listdir(path))


@pytest.fixture(scope="session")
def list_dir() -> Callable[[Path], list[str]]:
    return listdir


# ----------------------------------------------------------------------------------------
# Generated inputs

_MESSAGES = [
    "plain text",
    "with, a comma",
    'with "double quotes"',
    "two\nlines",
    'all of it, "quoted"\nand a second line',
    "ünïcødé ✓ 日本語",
    "tab\tinside",
    "windows\r\nline break",
    "trailing space ",
    " leading space",
    "semi;colon|pipe",
    "'single quotes'",
]
_ACTIVITIES = ["Create Order", "Check Credit", "Approve Order", "Ship Order", "Close Case"]


def event_log_table(rows: int, seed: int = 7) -> pa.Table:
    """A synthetic event log: ints, floats, bools, dates, timestamps and awkward strings
    (commas, quotes, newlines, unicode), with nulls in several columns. No empty strings,
    since logflow documents an empty field as null."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, rows + 1, dtype=np.int64)

    def with_nulls(values: np.ndarray, frac: float) -> pa.Array:
        mask = rng.random(rows) < frac
        return pa.array(values, mask=mask)

    base = np.datetime64("2024-01-01T00:00:00", "us")
    ts = base + np.sort(rng.integers(0, 86_400 * 10**6 * 365, rows)).astype("timedelta64[us]")
    dates = ts.astype("datetime64[D]")
    msg_idx = rng.integers(0, len(_MESSAGES), rows)
    messages = pc.binary_join_element_wise(
        pa.array(np.array(_MESSAGES, dtype=object)[msg_idx]),
        pa.array(ids).cast(pa.string()),
        " #",
    )
    return pa.table(
        {
            "event_id": pa.array(ids),
            "case_id": with_nulls(rng.integers(-(2**40), 2**40, rows), 0.05),
            "ts": pa.array(ts, type=pa.timestamp("us")),
            "day": pa.array(dates, type=pa.date32()),
            "activity": pa.array(np.array(_ACTIVITIES, dtype=object)[ids % len(_ACTIVITIES)]),
            "amount": with_nulls(rng.random(rows) * 10_000 - 5_000, 0.1),
            "success": with_nulls(rng.random(rows) < 0.8, 0.05),
            "message": messages,
            "resource": with_nulls(
                np.char.add("user_", rng.integers(0, 500, rows).astype(str)).astype(object), 0.2
            ),
        }
    )


@pytest.fixture(scope="session")
def event_log_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 200,000-row event log written by ``pyarrow.csv.write_csv`` (about 20 MB)."""
    path = tmp_path_factory.mktemp("eventlog") / "events.csv"
    pacsv.write_csv(event_log_table(200_000), path)
    return path


def _repeat_csv(path: Path, target_bytes: int) -> Path:
    """A large, simple event log made by repeating one block of rows (fast to write)."""
    block = b"".join(
        b"%d,2024-01-%02dT08:%02d:%02d,C-%d,Some activity with text,%d.25,%s\n"
        % (i, 1 + i % 28, i % 60, (i * 7) % 60, i % 1000, i, b"true" if i % 3 else b"false")
        for i in range(20_000)
    )
    with path.open("wb") as f:
        f.write(b"event_id,ts,case_id,activity,amount,success\n")
        while f.tell() < target_bytes:
            f.write(block)
    return path


@pytest.fixture(scope="session")
def csv_30mb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _repeat_csv(tmp_path_factory.mktemp("big30") / "events.csv", 30_000_000)


@pytest.fixture(scope="session")
def csv_50mb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _repeat_csv(tmp_path_factory.mktemp("big50") / "events.csv", 50_000_000)


@pytest.fixture(scope="session")
def csv_150mb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _repeat_csv(tmp_path_factory.mktemp("big150") / "events.csv", 150_000_000)


# ----------------------------------------------------------------------------------------
# Late bad values: past the first 4 MiB chunk, which is all that type inference looks at

INFERENCE_SAMPLE_BYTES = 4 << 20
"""Type inference reads the whole first 4 MiB chunk of the input (not the first batch)."""


@dataclass(frozen=True)
class LateBad:
    """A CSV file whose good rows fill more than the inference sample, then one bad record.

    ``line``, ``offset`` and ``record`` locate the bad record as :class:`DecodeError`
    reports it (1-based line, 0-based byte offset, 1-based data record)."""

    path: Path
    column: str
    value: str
    good_rows: int
    line: int
    offset: int
    record: int


# kind -> (header, one good row per index, bad record or None for an all-good control)
_LATE_KINDS: dict[str, tuple[bytes, Callable[[int], bytes], bytes | None]] = {
    "int": (b"a,b\n", lambda i: b"%d,x\n" % i, b"oops,y\n"),
    "float": (b"a\n", lambda i: b"%d.5\n" % i, b"1.5.5\n"),
    "bool": (b"a\n", lambda i: b"true\n" if i % 2 else b"false\n", b"maybe\n"),
    # a null word the sample never saw is a bad value, not a null
    "null_word": (b"a,b\n", lambda i: b"%d,x\n" % i, b"N/A,y\n"),
    # control: the same shape as "int" with a good last row
    "int_good": (b"a,b\n", lambda i: b"%d,x\n" % i, None),
}
_LATE_BYTES = 5_000_000  # good rows: well past the first 4 MiB chunk (about 5 MB)


def _write_late_bad(path: Path, kind: str) -> LateBad:
    header, good, bad = _LATE_KINDS[kind]
    parts: list[bytes] = []
    size = good_rows = 0
    while size < _LATE_BYTES:  # blocks of 100,000 rows until past the target
        block = b"".join(map(good, range(good_rows, good_rows + 100_000)))
        parts.append(block)
        size += len(block)
        good_rows += 100_000
    last = bad if bad is not None else good(good_rows)
    path.write_bytes(b"".join([header, *parts, last]))
    return LateBad(
        path=path,
        column="a",
        value=last.split(b",")[0].strip().decode(),
        good_rows=good_rows,
        line=good_rows + 2,
        offset=len(header) + size,
        record=good_rows + 1,
    )


@pytest.fixture(scope="session")
def late_bad_csv(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], LateBad]:
    """``late_bad_csv(kind)``: a >4 MiB file of good rows ending in one bad value of column
    ``a`` (kinds: int, float, bool, null_word; int_good has no bad row). Each file is
    written once per session, on first use; treat it as read-only."""
    root = tmp_path_factory.mktemp("latebad")
    made: dict[str, LateBad] = {}

    def get(kind: str) -> LateBad:
        if kind not in made:
            made[kind] = _write_late_bad(root / f"late_{kind}.csv", kind)
        return made[kind]

    return get


# ----------------------------------------------------------------------------------------
# Comparing logflow's output with pyarrow's reading of the same file


def read_reference(path: Path, delimiter: str = ",", header: bool = True) -> pa.Table:
    """``pyarrow.csv.read_csv`` with logflow's documented null rule: an empty field (quoted
    or not) is null, in every column; no other null tokens."""
    read = pacsv.ReadOptions(autogenerate_column_names=not header, block_size=16 << 20)
    parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
    convert = pacsv.ConvertOptions(
        null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=True
    )
    return pacsv.read_csv(path, read_options=read, parse_options=parse, convert_options=convert)


def type_family(t: pa.DataType) -> str:
    """The kind of values a type holds, as readers may disagree on its width or unit:
    integer, number (floats and decimals), text, bool, date, timestamp (naive or with a
    zone), time, null, or the type itself for the rest."""
    if pa.types.is_dictionary(t):
        return type_family(t.value_type)
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "text"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp with zone" if t.tz else "timestamp"
    if pa.types.is_time(t):
        return "time"
    if pa.types.is_null(t):
        return "null"
    return str(t)


def assert_types_agree(ours: pa.Schema, independent: pa.Schema) -> None:
    """Each of our columns holds the kind of values an independent reader (pyarrow, DuckDB)
    gives the same column: so a test whose expected values are logflow's own output, or a
    cast to logflow's types, still catches a wrong type. Columns the reader reads as null
    (no values to tell) and columns it does not have are not compared."""
    bad = []
    for f in ours:
        if f.name not in independent.names:
            continue
        theirs = independent.field(f.name).type
        if pa.types.is_null(theirs):
            continue
        if type_family(f.type) != type_family(theirs):
            bad.append(f"{f.name}: ours {f.type}, theirs {theirs}")
    assert not bad, "types differ from an independent reader's: " + "; ".join(bad)


def assert_same_data(ours: pa.Table, reference: pa.Table, untyped: tuple[str, ...] = ()) -> None:
    """Same column names, row count and values; where types differ, the reference column is
    cast to our type first (e.g. pyarrow's timestamp[ns] -> our timestamp[us]), after
    checking that both hold the same kind of values (:func:`assert_types_agree`), except in
    the ``untyped`` columns (Hive partition columns, typed by a reader from directory
    names)."""
    assert ours.column_names == reference.column_names
    assert ours.num_rows == reference.num_rows
    keep = [n for n in ours.column_names if n not in untyped]
    assert_types_agree(ours.select(keep).schema, reference.select(keep).schema)
    for name in ours.column_names:
        mine = ours.column(name).combine_chunks()
        theirs = reference.column(name).combine_chunks()
        if theirs.type != mine.type:
            theirs = theirs.cast(mine.type)
        if not mine.equals(theirs):
            diff = pc.invert(pc.fill_null(pc.equal(mine, theirs), False))
            both_null = pc.and_(mine.is_null(), theirs.is_null())
            bad = pc.indices_nonzero(pc.and_not(diff, both_null)).to_pylist()
            i = bad[0] if bad else None
            detail = (
                f"first difference at row {i}: {mine[i].as_py()!r} != {theirs[i].as_py()!r}"
                if i is not None
                else "null masks differ"
            )
            raise AssertionError(f"column {name!r} ({mine.type}): {len(bad)} rows differ; {detail}")


@pytest.fixture(scope="session")
def reference_reader() -> Callable[..., pa.Table]:
    return read_reference


@pytest.fixture(scope="session")
def same_data() -> Callable[..., None]:
    return assert_same_data


@pytest.fixture(scope="session")
def types_agree() -> Callable[[pa.Schema, pa.Schema], None]:
    return assert_types_agree
