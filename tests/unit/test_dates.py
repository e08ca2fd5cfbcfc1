"""Dates and timestamps written other than ISO 8601: detected when unambiguous."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import logflow

DAYS = [dt.date(2024, 1, 1) + dt.timedelta(days=7 * i) for i in range(60)]


@pytest.mark.parametrize(
    ("fmt", "strftime"),
    [
        ("%d/%m/%Y", "%d/%m/%Y"),
        ("%m/%d/%Y", "%m/%d/%Y"),
        ("%d.%m.%Y", "%d.%m.%Y"),
        ("%Y/%m/%d", "%Y/%m/%d"),
        ("%d-%m-%Y", "%d-%m-%Y"),
    ],
)
def test_date_formats(tmp_path: Path, fmt: str, strftime: str) -> None:
    src = tmp_path / "d.csv"
    src.write_text("id,day\n" + "".join(f"{i},{d.strftime(fmt)}\n" for i, d in enumerate(DAYS)))
    det = logflow.detect(src)
    assert det.date_formats == {"day": strftime}
    logflow.convert(src, tmp_path / "d.parquet")
    t = pq.read_table(tmp_path / "d.parquet")
    assert t.schema.field("day").type == pa.date32()
    assert t.column("day").to_pylist() == DAYS


def test_us_timestamps_with_12_hour_clock(tmp_path: Path) -> None:
    stamps = [dt.datetime(2024, 3, 1 + i % 28, (5 * i) % 24, i % 60, i % 60) for i in range(50)]

    def us(t: dt.datetime) -> str:
        hour = t.hour % 12 or 12
        return f"{t.month}/{t.day}/{t.year} {hour}:{t.minute:02}:{t.second:02} " + (
            "PM" if t.hour >= 12 else "AM"
        )

    src = tmp_path / "t.csv"
    src.write_text("id,at\n" + "".join(f"{i},{us(t)}\n" for i, t in enumerate(stamps)))
    assert logflow.detect(src).date_formats == {"at": "%m/%d/%Y %I:%M:%S %p"}
    logflow.convert(src, tmp_path / "t.parquet")
    t = pq.read_table(tmp_path / "t.parquet")
    assert t.schema.field("at").type == pa.timestamp("us")
    assert t.column("at").to_pylist() == stamps


STAMPS = [
    dt.datetime(2024, 1, 13, 0, 0) + dt.timedelta(hours=7 * i, minutes=13 * i, seconds=i)
    for i in range(80)
]


@pytest.mark.parametrize(
    "fmt",
    [
        "%d/%m/%Y %H:%M",
        "%m/%d/%Y %I:%M %p",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S.%f",
        "%d.%m.%Y %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%z",
    ],
)
def test_timestamp_formats_are_reported_as_written(tmp_path: Path, fmt: str) -> None:
    # The reported format reads every value back with strptime, to the same instant.
    zone = dt.timezone(dt.timedelta(hours=2))
    stamps = [s.replace(tzinfo=zone) if "%z" in fmt else s for s in STAMPS]
    text = [s.strftime(fmt) for s in stamps]
    src = tmp_path / "t.csv"
    src.write_text("id,at\n" + "".join(f"{i},{v}\n" for i, v in enumerate(text)))
    got = logflow.detect(src).date_formats["at"]
    assert got == fmt
    assert [dt.datetime.strptime(v, got) for v in text] == [
        s.replace(second=0) if "%S" not in fmt else s for s in stamps
    ]


def test_ambiguous_day_month_stays_text(tmp_path: Path) -> None:
    src = tmp_path / "a.csv"
    src.write_text("id,day\n1,01/02/2024\n2,03/04/2024\n3,05/06/2024\n")
    logflow.convert(src, tmp_path / "a.parquet")
    t = pq.read_table(tmp_path / "a.parquet")
    assert t.schema.field("day").type == pa.string()
    assert t.column("day").to_pylist() == ["01/02/2024", "03/04/2024", "05/06/2024"]


def test_a_date_in_the_other_order_later_is_a_bad_row(tmp_path: Path) -> None:
    # Day-first is settled by the sample; a later month-first value cannot be read that way.
    rows = [f"{i},{DAYS[i % 60].strftime('%d/%m/%Y')}" for i in range(300)]
    rows.append("300,12/31/2024")
    src = tmp_path / "b.csv"
    src.write_text("id,day\n" + "\n".join(rows) + "\n")
    r = logflow.convert(src, tmp_path / "b.parquet", error_policy="permissive")
    assert r.errors_by_reason == {"cast_error": 1}
    assert r.rows_written == 300


def test_times_of_day(tmp_path: Path) -> None:
    times = [dt.time(h, m, s) for h, m, s in [(0, 0, 0), (9, 5, 1), (13, 15, 0), (23, 59, 59)]]
    src = tmp_path / "t.csv"
    src.write_text(
        "id,at,clock\n"
        + "".join(
            f"{i},{t.strftime('%H:%M:%S')},{t.strftime('%I:%M %p').lstrip('0')}\n"
            for i, t in enumerate(times)
        )
    )
    assert logflow.detect(src).date_formats == {"at": "%H:%M:%S", "clock": "%I:%M %p"}
    logflow.convert(src, tmp_path / "t.parquet")
    t = pq.read_table(tmp_path / "t.parquet")
    assert t.schema.field("at").type == pa.time64("us")
    assert t.column("at").to_pylist() == times
    assert t.schema.field("clock").type == pa.time64("us")
    assert t.column("clock").to_pylist() == [x.replace(second=0) for x in times]
    # Given by name too.
    r = logflow.convert(src, tmp_path / "s.parquet", schema={"at": "string"})
    assert r.schema.field("at").type == pa.string()


def test_epoch_seconds_and_millis_in_time_named_columns(tmp_path: Path) -> None:
    base = dt.datetime(2024, 6, 1, 10, 0, 0)
    stamps = [base + dt.timedelta(minutes=7 * i, milliseconds=250 * i) for i in range(20)]
    epoch = dt.datetime(1970, 1, 1)
    src = tmp_path / "e.csv"
    src.write_text(
        "id,created_at,ts_ms\n"
        + "".join(
            f"{i},{int((t - epoch).total_seconds())},{round((t - epoch).total_seconds() * 1000)}\n"
            for i, t in enumerate(stamps)
        )
    )
    assert logflow.detect(src).date_formats == {"created_at": "%s", "ts_ms": "epoch milliseconds"}
    logflow.convert(src, tmp_path / "e.parquet")
    t = pq.read_table(tmp_path / "e.parquet")
    assert t.schema.field("id").type == pa.int64()
    assert t.schema.field("created_at").type == pa.timestamp("us")
    assert t.column("created_at").to_pylist() == [s.replace(microsecond=0) for s in stamps]
    assert t.column("ts_ms").to_pylist() == stamps
