"""Excel and OpenDocument workbooks: sheets read as CSV would be. Fixtures are written here."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import logflow
from logflow.errors import ConfigError, DecodeError, UnsupportedFormatError

openpyxl = pytest.importorskip("openpyxl")


def _xlsx(path: Path, empty_first: bool = True) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Empty"
    if not empty_first:
        wb.remove(ws)
    data = wb.create_sheet("Data")
    data["A1"] = "Quarterly report"
    data.append([])
    data.append(["id", "name", "amount", "day", "at", "zip", "flag", "note"])
    for i in range(1, 201):
        data.append(
            [
                i,
                f"n{i}",
                i * 1.25,
                dt.datetime(2024, 1, 1) + dt.timedelta(days=i),
                dt.datetime(2024, 1, 1, 8, 30) + dt.timedelta(hours=i),
                str(10_000 + i),
                i % 2 == 0,
                None if i % 4 else f"x{i}",
            ]
        )
    data.merge_cells("H5:H6")
    wb.create_sheet("Other").append(["a", "b"])
    wb.save(path)
    return path


def test_xlsx_header_below_a_title_and_typed_columns(tmp_path):
    src = _xlsx(tmp_path / "book.xlsx")
    t = pa.table(logflow.read(src))
    assert t.column_names == ["id", "name", "amount", "day", "at", "zip", "flag", "note"]
    types = dict(zip(t.column_names, t.schema.types, strict=True))
    assert types["id"] == pa.int64()
    assert types["amount"] == pa.float64()
    # Dates at midnight stay dates; date-times are timestamps.
    assert types["day"] == pa.date32()
    assert pa.types.is_timestamp(types["at"])
    # Numbers stored as text are numbers, as in a CSV file.
    assert types["zip"] == pa.int64()
    assert types["flag"] == pa.bool_()
    assert t.num_rows == 200
    assert t.column("id").to_pylist() == list(range(1, 201))
    assert t.column("day")[0].as_py() == dt.date(2024, 1, 2)
    assert t.column("at")[0].as_py() == dt.datetime(2024, 1, 1, 9, 30)
    # A merged range keeps its value in its top-left cell.
    assert t.column("note").to_pylist()[:4] == [None, None, None, "x4"]
    r = logflow.convert(src, tmp_path / "o.parquet")
    assert r.format == "xlsx" and r.rows_written == 200
    assert pq.read_table(tmp_path / "o.parquet").equals(t)


def test_sheet_by_name_and_position(tmp_path):
    src = _xlsx(tmp_path / "book.xlsx")
    assert pa.table(logflow.read(src, sheet="Other")).column_names == ["a", "b"]
    assert pa.table(logflow.read(src, sheet=2)).column_names == ["a", "b"]
    with pytest.raises(ConfigError, match='"Data"'):
        logflow.read(src, sheet="Missing")
    with pytest.raises(ConfigError):
        logflow.read(src, sheet=9)


def test_workbook_errors_are_typed(tmp_path):
    src = _xlsx(tmp_path / "book.xlsx")
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(src.read_bytes()[:3000])
    with pytest.raises((DecodeError, UnsupportedFormatError)):
        logflow.convert(cut, tmp_path / "o.parquet")
    msoffcrypto = pytest.importorskip("msoffcrypto")
    plain = io.BytesIO(src.read_bytes())
    locked = tmp_path / "locked.xlsx"
    office = msoffcrypto.OfficeFile(plain)
    with open(locked, "wb") as f:
        office.encrypt("secret", f)
    with pytest.raises(UnsupportedFormatError, match="password"):
        logflow.convert(locked, tmp_path / "l.parquet")


def test_bad_rows_of_a_sheet_follow_the_error_policy(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "n"])
    for i in range(300):
        ws.append([i, i])
    ws.append([300, "oops"])
    src = tmp_path / "b.xlsx"
    wb.save(src)
    with pytest.raises(DecodeError) as e:
        logflow.convert(src, tmp_path / "o.parquet", schema={"n": "int64"})
    # Line numbers are the sheet's rows.
    assert e.value.line == 302
    r = logflow.convert(
        src, tmp_path / "q.parquet", schema={"n": "int64"}, error_policy="quarantine"
    )
    assert r.rows_quarantined == 1
    assert Path(r.quarantine_path).read_text().splitlines()[-1] == "300,oops"


def test_xls_and_ods(tmp_path):
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook()
    sheet = book.add_sheet("S")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for j, h in enumerate(["id", "day", "v"]):
        sheet.write(0, j, h)
    for i in range(1, 51):
        sheet.write(i, 0, i)
        sheet.write(i, 1, dt.datetime(2024, 3, 1) + dt.timedelta(days=i), date_style)
        sheet.write(i, 2, i / 2)
    xls = tmp_path / "t.xls"
    book.save(str(xls))
    t = pa.table(logflow.read(xls))
    assert t.schema.types == [pa.int64(), pa.date32(), pa.float64()]
    assert logflow.detect(xls).format.value == "xls"

    pd = pytest.importorskip("pandas")
    pytest.importorskip("odf")
    ods = tmp_path / "t.ods"
    pd.DataFrame({"id": [1, 2, 3], "name": ["a", "b", "c"]}).to_excel(
        ods, engine="odf", index=False
    )
    assert logflow.detect(ods).format.value == "ods"
    t = pa.table(logflow.read(ods))
    assert t.column("id").to_pylist() == [1, 2, 3]
    assert t.column("name").to_pylist() == ["a", "b", "c"]


def test_python_calamine_reads_the_same_values(tmp_path):
    calamine = pytest.importorskip("python_calamine")
    src = _xlsx(tmp_path / "book.xlsx")
    rows = calamine.CalamineWorkbook.from_path(str(src)).get_sheet_by_name("Data").to_python()
    body = [r for r in rows[3:] if any(v != "" for v in r)]
    t = pa.table(logflow.read(src, sheet="Data"))
    assert [r[0] for r in body] == [float(v) for v in t.column("id").to_pylist()]
    assert [r[1] for r in body] == t.column("name").to_pylist()


def test_formatted_empty_cells_add_no_columns(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["a", "b"])
    ws.append([1, 2])
    ws["F9"].font = openpyxl.styles.Font(bold=True)
    src = tmp_path / "f.xlsx"
    wb.save(src)
    t = pa.table(logflow.read(src))
    assert t.column_names == ["a", "b"]
    assert t.to_pylist() == [{"a": 1, "b": 2}]
