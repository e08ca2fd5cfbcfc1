"""Text mode (``infer_types=False``): every column text, every value as written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import logflow

CSV = b'id,amount,when,flag,note\n 1 ,2.50,2024-01-01,true,NULL\n0042,,31/12/2024,no,"a ""q"""\n'


def test_csv_values_are_kept_exactly(tmp_path: Path) -> None:
    src = tmp_path / "t.csv"
    src.write_bytes(CSV)
    r = logflow.convert(src, tmp_path / "o.parquet", infer_types=False)
    t = pq.read_table(tmp_path / "o.parquet")
    assert set(r.schema.types) == {pa.string()}
    assert t.to_pylist() == [
        {"id": " 1 ", "amount": "2.50", "when": "2024-01-01", "flag": "true", "note": "NULL"},
        {"id": "0042", "amount": "", "when": "31/12/2024", "flag": "no", "note": 'a "q"'},
    ]
    # Typed, the same file gives numbers, dates and nulls.
    typed = pa.table(logflow.read(src))
    assert typed.schema.field("amount").type == pa.float64()
    assert typed.column("amount").to_pylist() == [2.5, None]


def test_empty_as_null_and_schema_on_top(tmp_path: Path) -> None:
    src = tmp_path / "t.csv"
    src.write_bytes(CSV)
    t = pa.table(
        logflow.read(src, infer_types=False, empty_as_null=True, schema={"amount": "float64"})
    )
    assert t.schema.field("amount").type == pa.float64()
    assert t.schema.field("id").type == pa.string()
    assert t.column("amount").to_pylist() == [2.5, None]
    assert t.column("id").to_pylist() == [" 1 ", "0042"]


def test_json_scalars_keep_their_json_text(tmp_path: Path) -> None:
    src = tmp_path / "t.jsonl"
    src.write_text('{"a": 1.50, "b": true, "c": {"d": [1, 2]}, "e": ""}\n{"a": 2, "e": null}\n')
    t = pa.table(logflow.read(src, infer_types=False))
    assert t.column("a").to_pylist() == ["1.50", "2"]
    assert t.column("b").to_pylist() == ["true", None]
    assert json.loads(t.column("c")[0].as_py()) == {"d": [1, 2]}
    assert t.column("e").to_pylist() == ["", None]


def test_xml_text_is_kept_as_written(tmp_path: Path) -> None:
    src = tmp_path / "t.xml"
    src.write_text(
        '<rows><row id="007"><n> 1.50 </n><d>2024-01-01</d><e></e><g><h>1</h></g></row>'
        '<row id="8"><n>2</n><d>31/12/2024</d><e/><g><h>x</h></g></row></rows>'
    )
    t = pa.table(logflow.read(src, infer_types=False))
    assert t.column("id").to_pylist() == ["007", "8"]
    assert t.column("n").to_pylist() == [" 1.50 ", "2"]
    assert t.column("d").to_pylist() == ["2024-01-01", "31/12/2024"]
    # An empty element stays empty text, unless empty_as_null says otherwise.
    assert t.column("e").to_pylist() == ["", ""]
    # Nested elements keep their structure; their text is text too.
    assert t.column("g").to_pylist() == [{"h": "1"}, {"h": "x"}]
    nulls = pa.table(logflow.read(src, infer_types=False, empty_as_null=True))
    assert nulls.column("e").to_pylist() == [None, None]
    typed = pa.table(logflow.read(src))
    assert typed.column("id").to_pylist() == [7, 8]
    assert typed.column("e").to_pylist() == [None, None]


def test_detect_and_cli_in_text_mode(tmp_path: Path) -> None:
    src = tmp_path / "t.csv"
    src.write_bytes(CSV)
    assert set(logflow.detect(src, infer_types=False).schema.types) == {pa.string()}
    out = subprocess.run(
        [sys.executable, "-m", "logflow.cli", "detect", str(src), "--json", "--no-infer-types"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert {c["type"] for c in json.loads(out.stdout)["columns"]} == {"string"}
    dst = tmp_path / "o.parquet"
    subprocess.run(
        [sys.executable, "-m", "logflow.cli", "convert", str(src), str(dst), "--no-infer-types"],
        check=True,
        capture_output=True,
    )
    assert pq.read_table(dst).column("amount").to_pylist() == ["2.50", ""]
