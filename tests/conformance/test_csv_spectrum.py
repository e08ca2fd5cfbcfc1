"""csv-spectrum (https://github.com/max-mapper/csv-spectrum): every case read with logflow.

Layout: ``csvs/<name>.csv`` and ``json/<name>.json`` (the expected rows, keyed by header, all
values strings). logflow infers column types and has no all-strings option, so values are
compared as strings: ``str(value)``, with logflow's null (an empty field, documented) as "".
Cases where logflow's documented behaviour legitimately differs from the JSON are listed in
DEVIATIONS and asserted explicitly, not skipped.

The suite folder is ``$LOGFLOW_CONFORMANCE/csv-spectrum`` (default
``<repo>/../shared/conformance``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import logflow

if TYPE_CHECKING:
    import pyarrow as pa

REPO = Path(__file__).resolve().parents[2]
ROOT = Path(os.environ.get("LOGFLOW_CONFORMANCE", REPO.parent / "shared" / "conformance"))
SUITE = ROOT / "csv-spectrum"

if not (SUITE / "csvs").is_dir() or not (SUITE / "json").is_dir():
    pytest.skip(
        f"csv-spectrum suite not found at {SUITE} (set LOGFLOW_CONFORMANCE to the folder "
        "that holds csv-spectrum/)",
        allow_module_level=True,
    )

CASES = sorted(p.stem for p in (SUITE / "csvs").glob("*.csv"))

# (case, row index, column) -> (value logflow must give, why it differs from the JSON)
DEVIATIONS: dict[tuple[str, int, str], tuple[Any, str]] = {
    ("comma_in_quotes", 0, "zip"): (
        8123,
        "type inference: '08123' is an int64 column, leading zero not kept (as pyarrow)",
    ),
    ("empty", 0, "b"): (None, 'an empty field, quoted or not (""), is null'),
    ("empty", 0, "c"): (None, 'an empty field, quoted or not (""), is null'),
    ("empty_crlf", 0, "b"): (None, 'an empty field, quoted or not (""), is null'),
    ("empty_crlf", 0, "c"): (None, 'an empty field, quoted or not (""), is null'),
    ("location_coordinates", 0, "Contact Phone Number"): (
        2095257564,
        "upstream data error: the JSON says 1234567890, the CSV holds 2095257564",
    ),
}


def load_expected(case: str) -> list[dict[str, str]]:
    expected = json.loads((SUITE / "json" / f"{case}.json").read_text(encoding="utf-8"))
    # location_coordinates.json is a single object, not a list of rows
    return [expected] if isinstance(expected, dict) else expected


def as_text(value: Any) -> str:
    return "" if value is None else str(value)


def crlf_lost(case: str) -> bool:
    """The copy of a *_crlf case lost its carriage returns (checked out with LF endings)."""
    return case.endswith("_crlf") and b"\r" not in (SUITE / "csvs" / f"{case}.csv").read_bytes()


def check_rows(case: str, table: pa.Table, expected: list[dict[str, str]], lf_only: bool) -> None:
    rows = table.to_pylist()
    assert len(rows) == len(expected), (case, rows)
    for i, (got, want) in enumerate(zip(rows, expected, strict=True)):
        assert list(got) == list(want), (case, i, "column names/order")
        for column, want_value in want.items():
            if lf_only:
                want_value = want_value.replace("\r\n", "\n")
            key = (case, i, column)
            if key in DEVIATIONS:
                documented, why = DEVIATIONS[key]
                assert got[column] == documented, (key, why, got[column])
            else:
                assert as_text(got[column]) == want_value, (key, got[column], want_value)


def test_csv_spectrum_suite_present():
    assert len(CASES) >= 12, CASES


@pytest.mark.parametrize("case", CASES)
def test_csv_spectrum_read(case):
    table = logflow.read(SUITE / "csvs" / f"{case}.csv").read_all()
    check_rows(case, table, load_expected(case), lf_only=crlf_lost(case))


@pytest.mark.parametrize("case", CASES)
def test_csv_spectrum_convert(case, out_dir):
    import pyarrow.parquet as pq

    dst = out_dir / f"{case}.parquet"
    r = logflow.convert(SUITE / "csvs" / f"{case}.csv", dst)
    expected = load_expected(case)
    assert r.rows_written == len(expected)
    check_rows(case, pq.read_table(dst), expected, lf_only=crlf_lost(case))


@pytest.mark.parametrize("case", [c for c in CASES if c.endswith("_crlf")])
def test_csv_spectrum_real_crlf(case, tmp_path):
    # The stored *_crlf files may have lost their \r (git autocrlf); rebuild real CRLF
    # input so the case still tests what it is named for, against the JSON unchanged.
    raw = (SUITE / "csvs" / f"{case}.csv").read_bytes()
    src = tmp_path / f"{case}.csv"
    src.write_bytes(raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    table = logflow.read(src).read_all()
    check_rows(case, table, load_expected(case), lf_only=False)


def test_csv_spectrum_deviations_are_used():
    # keep DEVIATIONS honest: every entry names a real case, row and column
    for case, row, column in DEVIATIONS:
        assert case in CASES
        expected = load_expected(case)
        assert column in expected[row]
