"""XES event logs: the event table, types, the trace table, and agreement with pm4py."""

from __future__ import annotations

import contextlib
import gzip
import io
import random
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import logflow
from logflow.errors import DecodeError

DATA = Path(__file__).resolve().parent.parent / "data" / "xes"
LOG = DATA / "log.xes"


def test_xes_event_table(tmp_path: Path) -> None:
    dst = tmp_path / "events.parquet"
    r = logflow.convert(LOG, dst)
    assert (r.format, r.rows_read, r.rows_written) == ("xes", 4, 4)
    t = pq.read_table(dst)
    assert t.column_names == [
        "case:concept:name",
        "concept:name",
        "time:timestamp",
        "org:resource",
        "lifecycle:transition",
        "cost",
        "urgent",
        "ticket",
        "channel",
        "channel.lang",
        "tags",
        "address",
        "case:priority",
    ]
    assert t.schema.field("time:timestamp").type == pa.timestamp("us", tz="UTC")
    assert t.schema.field("cost").type == pa.float64()
    assert t.schema.field("urgent").type == pa.bool_()
    assert t.schema.field("case:priority").type == pa.int64()
    assert t.column("case:concept:name").to_pylist() == ["case-1", "case-1", "case-2", "case-2"]
    assert t.column("concept:name").to_pylist()[1] == "Check & approve"
    utc = UTC
    assert t.column("time:timestamp").to_pylist() == [
        datetime(2024, 1, 1, 8, 0, 0, 250000, tzinfo=utc),
        datetime(2024, 1, 1, 10, 30, tzinfo=utc),
        datetime(2024, 1, 2, 8, 0, tzinfo=utc),
        datetime(2024, 1, 2, 8, 5, tzinfo=utc),
    ]
    first = t.slice(0, 1).to_pylist()[0]
    assert first["channel.lang"] == "en"
    assert first["tags"] == ["a", "b"]
    assert first["address"] == {"city": "Gent", "zip": 9000}
    assert first["cost"] == 10.5
    assert t.column("cost").to_pylist()[1] == 3.0


def test_xes_both_tables(tmp_path: Path) -> None:
    dst = tmp_path / "log.parquet"
    r = logflow.convert(LOG, dst, tables="both")
    traces_path = tmp_path / "log.traces.parquet"
    assert r.files == (str(dst), str(traces_path))
    traces = pq.read_table(traces_path)
    assert traces.column_names == ["case:concept:name", "case:priority"]
    assert traces.column("case:concept:name").to_pylist() == ["case-1", "case-2", "case-3"]
    r = logflow.convert(LOG, tmp_path / "t.parquet", tables="traces")
    assert r.rows_written == 3


def test_xes_gz_and_read(tmp_path: Path) -> None:
    r = logflow.convert(DATA / "log.xes.gz", tmp_path / "o.parquet")
    assert (r.input_compression, r.format, r.rows_written) == ("gzip", "xes", 4)
    t = logflow.read(LOG).read_all()
    assert t.num_rows == 4
    assert logflow.read(LOG, tables="traces").read_all().num_rows == 3


def test_xes_detect_reports_the_log() -> None:
    d = logflow.detect(LOG)
    assert d.format.value == "xes"
    assert d.records_path == "/log/trace"
    assert d.schema is not None and d.schema.names[0] == "case:concept:name"
    assert d.xes is not None
    assert d.xes.version == "1849-2016"
    assert [e["prefix"] for e in d.xes.extensions] == ["concept", "time", "org", "lifecycle"]
    assert [c["keys"] for c in d.xes.classifiers] == [
        "concept:name",
        "concept:name lifecycle:transition",
    ]
    assert [a.key for a in d.xes.globals["event"]] == ["concept:name", "time:timestamp"]
    assert d.xes.attributes[0].value == "small test log"


def test_xes_bad_trace_is_one_bad_record(tmp_path: Path) -> None:
    text = LOG.read_text().replace(
        '<string key="concept:name" value="case-2"/>',
        '<string key="concept:name" value="case-2">',
    )
    src = tmp_path / "bad.xes"
    src.write_text(text)
    with pytest.raises(DecodeError):
        logflow.convert(src, tmp_path / "o.parquet")
    r = logflow.convert(src, tmp_path / "o.parquet", error_policy="quarantine")
    assert (r.rows_written, r.rows_quarantined) == (2, 1)
    assert r.quarantine_path is not None and r.quarantine_path.endswith(".quarantine.xes")


def test_xes_bad_value_rejects_its_event(tmp_path: Path) -> None:
    text = LOG.read_text().replace('value="2024-01-02T08:05:00"', 'value="not a date"')
    src = tmp_path / "bad.xes"
    src.write_text(text)
    r = logflow.convert(src, tmp_path / "o.parquet", error_policy="permissive")
    assert (r.rows_read, r.rows_written, r.errors_by_reason) == (4, 3, {"cast_error": 1})


def synthetic_log(traces: int, seed: int) -> str:
    """A log with random activities, resources, times and attribute types."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<log xes.version="1.0" xmlns="http://www.xes-standard.org/">',
    ]
    for t in range(traces):
        out.append("<trace>")
        out.append(f'<string key="concept:name" value="c{t}"/>')
        if rng.random() < 0.5:
            out.append(f'<int key="size" value="{rng.randint(1, 9)}"/>')
        for _ in range(rng.randint(0, 6)):
            when = start + timedelta(
                seconds=rng.randint(0, 10**7), microseconds=rng.randint(0, 999) * 1000
            )
            out.append("<event>")
            out.append(f'<string key="concept:name" value="{rng.choice("ABCDE")} &amp; x"/>')
            if rng.random() < 0.8:
                out.append(f'<string key="org:resource" value="r{rng.randint(1, 5)}"/>')
            out.append(f'<date key="time:timestamp" value="{when.isoformat()}"/>')
            out.append(f'<float key="amount" value="{rng.randint(0, 10**5) / 100}"/>')
            out.append("</event>")
        out.append("</trace>")
    out.append("</log>")
    return "\n".join(out)


def _missing(v: object) -> bool:
    """None, NaN or NaT: a value pandas shows as missing."""
    return v is None or v != v


def _pm4py() -> Any:
    pm4py = pytest.importorskip("pm4py")
    return pm4py


def _pm4py_read(path: Path) -> Any:
    pm4py = _pm4py()
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        return pm4py.read_xes(str(path))


@pytest.mark.parametrize("source", ["fixture", "synthetic"])
def test_xes_matches_pm4py(tmp_path: Path, source: str) -> None:
    if source == "fixture":
        path = LOG
    else:
        path = tmp_path / "synthetic.xes.gz"
        path.write_bytes(gzip.compress(synthetic_log(300, seed=7).encode()))
    theirs = _pm4py_read(path)
    dst = tmp_path / "ours.parquet"
    logflow.convert(path, dst)
    ours = pq.read_table(dst).to_pandas()
    assert len(ours) == len(theirs)
    assert ours["case:concept:name"].nunique() == theirs["case:concept:name"].nunique()
    for column in ["case:concept:name", "concept:name", "org:resource", "time:timestamp"]:
        if column not in theirs.columns:
            continue
        mine = ours[column].tolist()
        other = theirs[column].tolist()
        same = [(_missing(a) and _missing(b)) or (a == b) for a, b in zip(mine, other, strict=True)]
        assert all(same), column
    # The result loads into pm4py as an event log with the same traces and events.
    pm4py = _pm4py()
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        log = pm4py.convert_to_event_log(ours)
    assert len(log) == theirs["case:concept:name"].nunique()
    assert sum(len(trace) for trace in log) == len(theirs)
