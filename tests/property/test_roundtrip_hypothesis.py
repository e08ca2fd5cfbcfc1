"""Property tests: tables written by Python's csv module survive logflow.convert unchanged.

Text: every value comes back equal, an empty string as null (documented: an empty field,
quoted or not, is null). Numbers: ints and floats come back exactly, with inferred types.
Profiles live in tests/conftest.py (HYPOTHESIS_PROFILE=thorough explores more).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

import logflow

# With types inferred, the first data row holds a plain word in
# every column: that keeps text columns text even when hypothesis draws "1", "true", "NA"
# or a date for all the other rows.
SENTINEL = "sentinel"

AWKWARD = st.sampled_from([",", '"', "\n", "\r", "\r\n", " ", "\t", ";", "'", "é", "日", "🙂"])
CELL = st.one_of(
    st.text(max_size=12),  # any unicode except surrogates, control characters included
    st.lists(st.one_of(AWKWARD, st.text(max_size=3)), max_size=6).map("".join),
)


@st.composite
def text_tables(draw: st.DrawFn) -> list[list[str]]:
    ncols = draw(st.integers(1, 5))
    rows = draw(st.lists(st.lists(CELL, min_size=ncols, max_size=ncols), min_size=1, max_size=25))
    if ncols == 1:
        # a lone empty field would be a blank line, which CSV readers skip
        rows = [r for r in rows if r[0] != ""] or [["x"]]
    return [[SENTINEL] * ncols, *rows]


def write_csv(path: Path, rows: list[list[str]], quoting: int, lineterminator: str) -> None:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, quoting=quoting, lineterminator=lineterminator)
    w.writerow([f"c{i}" for i in range(len(rows[0]))])
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode("utf-8"))


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("roundtrip")


def convert_and_read(work: Path, **kwargs) -> pa.Table:
    dst = work / "out.parquet"
    r = logflow.convert(work / "in.csv", dst, **kwargs)
    table = pq.read_table(dst)
    assert r.rows_written == table.num_rows
    return table


def check_text(work: Path, rows: list[list[str]]) -> None:
    table = convert_and_read(work, delimiter=",")
    assert table.column_names == [f"c{i}" for i in range(len(rows[0]))]
    assert all(t == pa.string() for t in table.schema.types), table.schema
    got = [list(d.values()) for d in table.to_pylist()]
    want = [[None if v == "" else v for v in row] for row in rows]
    assert got == want


@given(rows=text_tables())
@example(rows=[[SENTINEL, SENTINEL], ["", ""], ["a,b", 'say "hi"'], ["x\ny", "\r\n"]])
@example(rows=[[SENTINEL, SENTINEL], ["", "''"]])
@example(rows=[[SENTINEL], ["§"], ["§"], ["'"]])
@example(rows=[[SENTINEL, SENTINEL], ["", "'0'"]])
@example(rows=[[SENTINEL, SENTINEL], ["", "'\t"]])
def test_roundtrip_text_quote_minimal(work, rows):
    # "\r\n" only: with lineterminator="\n" the csv module (3.11) leaves a field holding a
    # bare "\r" unquoted, and an unquoted "\r" ends a record in CSV; QUOTE_ALL covers "\n".
    write_csv(work / "in.csv", rows, csv.QUOTE_MINIMAL, "\r\n")
    check_text(work, rows)


@given(rows=text_tables(), lineterminator=st.sampled_from(["\r\n", "\n"]))
@example(rows=[[SENTINEL], ["1"], ["true"], ["2024-01-01"], ["NA"]], lineterminator="\n")
def test_roundtrip_text_quote_all(work, rows, lineterminator):
    write_csv(work / "in.csv", rows, csv.QUOTE_ALL, lineterminator)
    check_text(work, rows)


@given(rows=text_tables(), lineterminator=st.sampled_from(["\r\n", "\n"]))
@example(rows=[[SENTINEL, SENTINEL], ["a, b", '  "x" '], ["", " "]], lineterminator="\n")
def test_roundtrip_text_padded_after_delimiters(work, rows, lineterminator):
    # `a, "b, c"`: every field quoted, fields joined by ", "; Python's csv reads it back with
    # skipinitialspace=True, logflow with the dialect's skip_initial_space.
    def line(cells: list[str]) -> str:
        return ", ".join('"' + c.replace('"', '""') + '"' for c in cells) + lineterminator

    header = [f"c{i}" for i in range(len(rows[0]))]
    text = line(header) + "".join(line(r) for r in rows)
    (work / "in.csv").write_bytes(text.encode("utf-8"))
    back = list(csv.reader(io.StringIO(text, newline=""), skipinitialspace=True))
    assert back == [header, *rows]
    table = convert_and_read(work, dialect={"delimiter": ",", "skip_initial_space": True})
    got = [list(d.values()) for d in table.to_pylist()]
    assert got == [[None if v == "" else v for v in row] for row in rows]


INT64 = st.integers(-(2**63), 2**63 - 1)
FLOAT64 = st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def number_tables(draw: st.DrawFn) -> tuple[list[str], list[list[int | float | None]]]:
    kinds = draw(st.lists(st.sampled_from(["int", "float"]), min_size=1, max_size=4))
    nrows = draw(st.integers(1, 30))
    columns = []
    for kind in kinds:
        values = st.one_of(st.none(), INT64 if kind == "int" else FLOAT64)
        col = draw(st.lists(values, min_size=nrows, max_size=nrows))
        assume(any(v is not None for v in col))  # an all-null column has no type to infer
        columns.append(col)
    if len(kinds) == 1:
        assume(all(v is not None for v in columns[0]))  # no blank lines
    return kinds, [list(r) for r in zip(*columns, strict=True)]


def same_number(a: float | int | None, b: float | int | None) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(b, float):
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return type(a) is int and a == b


@given(table=number_tables())
@example(
    table=(["int", "float"], [[-(2**63), 5e-324], [2**63 - 1, -0.0], [0, 1.7976931348623157e308]])
)
@example(table=(["float"], [[0.1], [1e16], [123456789.0], [2.5e-308]]))
def test_roundtrip_numbers_exact(work, table):
    kinds, rows = table
    with (work / "in.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"n{i}" for i in range(len(kinds))])
        w.writerows([["" if v is None else repr(v) for v in row] for row in rows])
    out = convert_and_read(work)
    expected_types = [pa.int64() if k == "int" else pa.float64() for k in kinds]
    assert out.schema.types == expected_types
    got = [list(d.values()) for d in out.to_pylist()]
    assert len(got) == len(rows)
    for g_row, w_row in zip(got, rows, strict=True):
        for g, w in zip(g_row, w_row, strict=True):
            assert same_number(g, w), (g, w)


@st.composite
def any_text_tables(draw: st.DrawFn) -> list[list[str]]:
    """Tables of any cells: no sentinel row is needed in text mode."""
    ncols = draw(st.integers(1, 5))
    rows = draw(st.lists(st.lists(CELL, min_size=ncols, max_size=ncols), min_size=1, max_size=25))
    if ncols == 1:
        rows = [r for r in rows if r[0] != ""] or [["x"]]
    return rows


@given(
    rows=any_text_tables(),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
)
@example(rows=[["1", " 2 ", "NA"], ["", "true", "2024-01-01"]], quoting=csv.QUOTE_MINIMAL)
@example(rows=[[""], ["-"], ["null"]], quoting=csv.QUOTE_ALL)
def test_roundtrip_text_mode_keeps_every_cell_byte_for_byte(work, rows, quoting):
    # Text mode: numbers, booleans, dates, null words, padding and empty strings all come
    # back exactly as written, through convert and read alike.
    write_csv(work / "in.csv", rows, quoting, "\r\n")
    table = convert_and_read(work, delimiter=",", header=True, infer_types=False)
    assert all(t == pa.string() for t in table.schema.types), table.schema
    assert [list(d.values()) for d in table.to_pylist()] == rows
    streamed = pa.table(
        logflow.read(work / "in.csv", delimiter=",", header=True, infer_types=False)
    )
    assert [list(d.values()) for d in streamed.to_pylist()] == rows
