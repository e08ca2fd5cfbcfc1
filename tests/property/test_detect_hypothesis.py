"""Dialect detection round trip: random tables written by Python's ``csv`` module, in the
dialects that writer supports, are detected back (delimiter, quote, escape).

Profiles live in tests/conftest.py (HYPOTHESIS_PROFILE=thorough explores more).
"""

from __future__ import annotations

import csv
import io
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import logflow

DELIMITERS = [",", ";", "\t", "|", ":", " ", "^", "~", "#"]
WORD = st.text(alphabet=string.ascii_letters + "éü", min_size=2, max_size=9)

# Values as they appear in real tables: each column holds one kind.
KINDS = {
    "int": st.integers(-(10**6), 10**9).map(str),
    "float": st.floats(-1e4, 1e6, allow_nan=False).map(lambda f: f"{f:.3f}"),
    "date": st.dates().map(lambda d: d.isoformat()),
    "word": WORD,
    "sentence": st.lists(WORD, min_size=2, max_size=8).map(" ".join),
    "punct": st.tuples(WORD, st.sampled_from([", ", "; ", ": ", " | ", "'s "]), WORD).map("".join),
    "quote": st.tuples(WORD, WORD).map(lambda p: f'{p[0]} "{p[1]}"'),
}


@st.composite
def written_tables(draw: st.DrawFn) -> tuple[str, str, str, str | None]:
    """CSV text and the delimiter, quote character and escape character it was written
    with."""
    delimiter = draw(st.sampled_from(DELIMITERS))
    quotechar = draw(st.sampled_from(['"', "'"]))
    escaped = draw(st.booleans())
    # With an escape character and no doubled quotes, the writer escapes quotes without
    # quoting the field under QUOTE_MINIMAL; an escape outside quotes is not a dialect any
    # reader agrees on, so escaped tables quote their text.
    quotings = [csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]
    quoting = draw(st.sampled_from(quotings if escaped else [csv.QUOTE_MINIMAL, *quotings]))
    ncols = draw(st.integers(2, 6))
    kinds = draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=ncols, max_size=ncols))
    # Two columns are numbers or dates. A table of text alone is ambiguous when its text
    # holds another delimiter as often on every line (`Austin, TX` in each row): the
    # typed columns are what a right split isolates.
    for j in draw(st.lists(st.integers(0, ncols - 1), min_size=2, max_size=2, unique=True)):
        kinds[j] = draw(st.sampled_from(["int", "float", "date"]))
    nrows = draw(st.integers(5, 40))
    rows = [[draw(KINDS[k]) for k in kinds] for _ in range(nrows)]
    header = draw(st.booleans())
    buf = io.StringIO(newline="")
    options = {"escapechar": "\\", "doublequote": False} if escaped else {}
    writer = csv.writer(
        buf,
        delimiter=delimiter,
        quotechar=quotechar,
        quoting=quoting,
        lineterminator=draw(st.sampled_from(["\n", "\r\n"])),
        **options,
    )
    if header:
        writer.writerow([f"col{j}" for j in range(ncols)])
    for row in rows:
        if quoting == csv.QUOTE_NONNUMERIC:
            writer.writerow(
                [float(v) if k in ("int", "float") else v for v, k in zip(row, kinds, strict=True)]
            )
        else:
            writer.writerow(row)
    text = buf.getvalue()
    escape = "\\" if escaped and "\\" + quotechar in text else None
    return text, delimiter, quotechar, escape


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("detect")


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(table=written_tables())
@example(table=("a:b\n2024-03-14:378.95\n2024-02-08:15100\n2024-08-17:90966\n", ":", '"', None))
@example(
    table=("day value\n2024-09-06 389.2\n2024-11-28 -49.8\n2024-11-19 640.4\n", " ", '"', None)
)
def test_dialect_written_by_python_csv_is_detected_back(work, table) -> None:
    text, delimiter, quotechar, escape = table
    path = work / "in.csv"
    path.write_bytes(text.encode("utf-8"))
    d = logflow.detect(path).dialect
    assert d is not None, text
    assert d.delimiter == delimiter, (d.evidence, text[:300])
    if quotechar in text:
        assert d.quote == quotechar, (d.evidence, text[:300])
    if escape is not None:
        assert d.escape == escape, (d.evidence, text[:300])
