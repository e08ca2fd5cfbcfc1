"""Profiles, checksums, verify and validation rules, through the Python API and the CLI."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json
import math
import pickle
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import logflow
from logflow import rules as R
from logflow.cli import main
from logflow.errors import ConfigError, RuleViolationError
from logflow.quality import ColumnProfile, QualityReport


def _events_csv(path, rows=5000):
    lines = ["id,kind,amount,day,note"]
    for i in range(rows):
        note = "" if i % 7 == 0 else f"n{i % 50}"
        lines.append(f"{i},k{i % 5},{i % 1000}.{i % 100:02d},2024-01-{1 + i % 28:02d},{note}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def events_csv(in_dir):
    return _events_csv(in_dir / "events.csv")


# ------------------------------------------------------------------------------- profile


def test_profile_columns(events_csv):
    r = logflow.profile(events_csv)
    assert isinstance(r, QualityReport)
    assert list(r.columns) == ["id", "kind", "amount", "day", "note"]
    assert (r.rows, r.rows_read, r.rows_written) == (5000, 5000, 5000)
    c = r.columns["id"]
    assert isinstance(c, ColumnProfile)
    assert (c.nulls, c.distinct, c.min, c.max) == (0, 5000, 0, 4999)
    assert c.mean == pytest.approx(2499.5)
    assert c.stddev == pytest.approx(np.arange(5000).std())
    kind = r.columns["kind"]
    assert (kind.distinct, kind.min, kind.max, kind.min_length, kind.max_length) == (
        5,
        "k0",
        "k4",
        2,
        2,
    )
    assert kind.top == (("k0", 1000), ("k1", 1000), ("k2", 1000), ("k3", 1000), ("k4", 1000))
    assert kind.top_error == 0
    assert kind.entropy == pytest.approx(math.log2(5))
    day = r.columns["day"]
    assert (day.min, day.max) == (datetime.date(2024, 1, 1), datetime.date(2024, 1, 28))
    note = r.columns["note"]
    assert note.nulls == 715
    assert note.null_fraction == pytest.approx(715 / 5000)
    assert note.conformed == 5000 - 715
    assert r.checksum is not None and len(r.checksum) == 16


def test_profile_matches_pyarrow(events_csv):
    # Independent numbers: pyarrow reads the same file.
    import pyarrow.csv as pacsv

    t = pacsv.read_csv(events_csv)
    r = logflow.profile(events_csv)
    for name in ("id", "amount"):
        col = t.column(name)
        c = r.columns[name]
        assert c.min == pytest.approx(pc.min(col).as_py())
        assert c.max == pytest.approx(pc.max(col).as_py())
        assert c.mean == pytest.approx(pc.mean(col).as_py())
        assert c.stddev == pytest.approx(pc.stddev(col).as_py())
        assert c.distinct == pc.count_distinct(col).as_py()


def test_profile_of_dirty_input_counts_reasons(write_csv):
    good = "".join(f"{i},x{i % 3}\n" for i in range(300))
    src = write_csv("a,b\n" + good + "oops,y\n3\n4,z\n")
    r = logflow.profile(src)
    assert r.rows_read == 303
    assert r.rows_written == 301
    assert r.rows_read == r.rows_written + r.rows_quarantined + r.rows_skipped
    assert r.errors_by_reason == {"cast_error": 1, "too_few_fields": 1}
    assert r.columns["a"].invalid == 1
    assert r.columns["a"].type == "Int64"
    with pytest.raises(logflow.errors.DecodeError):
        logflow.profile(src, error_policy="strict")


def test_profile_json_with_nested_and_late_fields(in_dir):
    src = in_dir / "e.jsonl"
    lines = [
        json.dumps({"id": i, "tags": ["a", "b"][: i % 3], "at": "2024-05-01T10:00:00Z"})
        for i in range(300)
    ]
    lines += [json.dumps({"id": 300 + i, "late": f"v{i % 4}"}) for i in range(100)]
    src.write_text("\n".join(lines) + "\n")
    r = logflow.profile(src)
    assert r.columns["late"].nulls == 300
    assert r.columns["late"].distinct == 4
    assert r.columns["tags"].nulls == 100
    at = r.columns["at"]
    assert at.min == datetime.datetime(2024, 5, 1, 10, tzinfo=datetime.UTC)


def test_report_renders_serialises_and_merges(events_csv, in_dir):
    r = logflow.profile(events_csv)
    text = r.render()
    assert "events.csv" in text and "kind" in text and "k0 (20%)" in text
    assert str(r) == text
    d = json.loads(r.to_json())
    assert d["columns"][3]["min"] == "2024-01-01"
    assert "state" not in d
    back = QualityReport.from_json(r.to_json(state=True))
    assert back.columns == r.columns
    assert back.checksum == r.checksum
    with pytest.raises(ValueError, match="sketches"):
        QualityReport.from_json(r.to_json())
    # Two halves merge into the whole: counts add, distinct counts are of the union, and
    # so is the checksum.
    lines = events_csv.read_text().splitlines(keepends=True)
    first = in_dir / "a.csv"
    second = in_dir / "b.csv"
    first.write_text("".join(lines[:2001]))
    second.write_text(lines[0] + "".join(lines[2001:]))
    merged = logflow.profile(first).merge(logflow.profile(second))
    assert merged.rows_read == 5000
    assert merged.columns["id"].distinct == 5000
    assert merged.columns["kind"].top == r.columns["kind"].top
    assert merged.columns["id"].mean == pytest.approx(r.columns["id"].mean)
    assert merged.checksum == r.checksum
    assert pickle.loads(pickle.dumps(r)) == r
    assert dataclasses.is_dataclass(r) and QualityReport.__dataclass_params__.frozen


def test_profile_types_of_values(write_csv):
    src = write_csv(
        "b,d,ts,t,dec\n"
        "true,2024-01-02,2024-01-02T03:04:05.123456,10:30:00,12345678901234567890.5\n"
        "false,1999-12-31,2000-01-01T00:00:00,08:00:00,1.25\n"
    )
    r = logflow.profile(src)
    assert (r.columns["b"].min, r.columns["b"].max, r.columns["b"].mean) == (False, True, 0.5)
    assert r.columns["ts"].max == datetime.datetime(2024, 1, 2, 3, 4, 5, 123456)
    assert r.columns["t"].min == datetime.time(8, 0)
    assert r.columns["dec"].max == decimal.Decimal("12345678901234567890.5")


# --------------------------------------------------------------------- convert + checksums


def test_convert_checksums_and_profile(events_csv, out_dir):
    r = logflow.convert(events_csv, out_dir / "e.parquet", profile=True)
    assert r.checksum_in == r.checksum_out
    assert r.quality is not None and r.quality.columns["id"].distinct == 5000
    default = logflow.convert(events_csv, out_dir / "d.parquet")
    assert default.quality is not None
    assert default.quality.columns["id"].distinct == 5000
    plain = logflow.convert(events_csv, out_dir / "p.parquet", profile=False)
    assert plain.quality is None
    assert plain.checksum_in == r.checksum_in
    # The same rows handed back to logflow.write have the same checksum.
    w = logflow.write(pq.read_table(out_dir / "p.parquet"), out_dir / "w.parquet", verify=True)
    assert w.checksum_in == w.checksum_out == r.checksum_in


def test_convert_verify(events_csv, out_dir, list_dir):
    r = logflow.convert(events_csv, out_dir / "v.parquet", verify=True)
    assert r.checksum_in == r.checksum_out
    r = logflow.convert(
        events_csv, out_dir / "ds", verify=True, partition_by="kind", max_rows_per_file=700
    )
    assert len(r.files) > 5
    assert r.checksum_in == r.checksum_out


def test_checksum_ignores_row_order(in_dir, out_dir):
    rows = [f"{i},{i * 7 % 13},x{i % 5}\n" for i in range(2000)]
    a = in_dir / "a.csv"
    b = in_dir / "b.csv"
    a.write_text("p,q,r\n" + "".join(rows))
    b.write_text("p,q,r\n" + "".join(reversed(rows)))
    ra = logflow.convert(a, out_dir / "a.parquet")
    rb = logflow.convert(b, out_dir / "b.parquet")
    assert ra.checksum_in == rb.checksum_in
    rows[5] = "5,99,x0\n"
    a.write_text("p,q,r\n" + "".join(rows))
    assert logflow.convert(a, out_dir / "c.parquet").checksum_in != ra.checksum_in


# ------------------------------------------------------------------------------- rules


def _rules():
    return [
        R.NotNull("note"),
        R.Range("amount", min=0, max=990),
        R.Regex("kind", r"k[0-3]"),
        R.AllowedValues("day", [datetime.date(2024, 1, d) for d in range(1, 28)]),
        R.Length("note", max=2),
        R.Unique("note", name="first_note"),
    ]


def test_rules_permissive_count_by_name(events_csv, out_dir):
    r = logflow.convert(
        events_csv, out_dir / "r.parquet", error_policy="permissive", rules=_rules()
    )
    assert r.rows_read == r.rows_written + r.rows_quarantined + r.rows_skipped
    assert set(r.errors_by_reason) == {
        "not_null:note",
        "range:amount",
        "regex:kind",
        "allowed:day",
        "length:note",
        "first_note",
    }
    t = pq.read_table(out_dir / "r.parquet")
    assert t.num_rows == r.rows_written
    assert pc.all(pc.less_equal(t["amount"], 990)).as_py()
    assert t["note"].null_count == 0
    assert len(set(t["note"].to_pylist())) == t.num_rows
    sample = r.error_samples[0]
    assert sample.reason == "not_null:note"
    assert sample.raw == b"0,k0,0.00,2024-01-01,\n"
    assert sample.line == 2


def test_rules_quarantine_byte_for_byte(events_csv, out_dir):
    r = logflow.convert(
        events_csv, out_dir / "q.parquet", error_policy="quarantine", rules=_rules()
    )
    lines = events_csv.read_bytes().splitlines(keepends=True)
    quarantined = Path(r.quarantine_path).read_bytes().splitlines(keepends=True)
    assert quarantined[0] == lines[0]
    assert len(quarantined) - 1 == r.rows_quarantined
    kept = set(lines[1:])
    assert all(q in kept for q in quarantined[1:])
    errors = pq.read_table(r.errors_path)
    assert set(errors["reason"].to_pylist()) == set(r.errors_by_reason)
    assert errors["line"].to_pylist() == sorted(errors["line"].to_pylist())


def test_rules_strict_raise_with_the_position(events_csv, out_dir, list_dir):
    with pytest.raises(RuleViolationError) as e:
        logflow.convert(events_csv, out_dir / "s.parquet", rules=[R.Range("amount", max=990)])
    # Row 990 (amount 990.90) on line 992.
    assert (e.value.line, e.value.record, e.value.column) == (992, 991, "amount")
    assert "range:amount" in str(e.value) and "990.9" in str(e.value)
    assert list_dir(out_dir) == []


def test_rules_from_toml_and_yaml(events_csv, in_dir, out_dir):
    toml = in_dir / "rules.toml"
    toml.write_text(
        '[[rule]]\nkind = "range"\ncolumn = "amount"\nmax = 990\n\n'
        '[[rule]]\nkind = "unique"\ncolumn = "note"\nname = "first_note"\n'
    )
    yaml = in_dir / "rules.yaml"
    yaml.write_text(
        "rule:\n  - {kind: range, column: amount, max: 990}\n"
        "  - {kind: unique, columns: [note], name: first_note}\n"
    )
    a = logflow.convert(events_csv, out_dir / "a.parquet", error_policy="permissive", rules=toml)
    b = logflow.convert(events_csv, out_dir / "b.parquet", error_policy="permissive", rules=yaml)
    assert a.errors_by_reason == b.errors_by_reason
    assert set(a.errors_by_reason) == {"range:amount", "first_note"}
    bad = in_dir / "bad.toml"
    bad.write_text('[[rule]]\nkind = "sometimes"\n')
    with pytest.raises(ConfigError, match="unknown rule kind"):
        R.load_rules(bad)
    bad.write_text('[[rule]]\nkind = "range"\ncolumn = "amount"\nsmallest = 1\n')
    with pytest.raises(ConfigError, match="range rule"):
        R.load_rules(bad)


def test_rule_on_a_missing_column_or_wrong_type(events_csv, out_dir, list_dir):
    with pytest.raises(ConfigError, match="no column"):
        logflow.convert(events_csv, out_dir / "x.parquet", rules=[R.NotNull("nope")])
    with pytest.raises(ConfigError, match="text"):
        logflow.convert(events_csv, out_dir / "x.parquet", rules=[R.Regex("id", "1")])
    with pytest.raises(ConfigError, match="bound"):
        logflow.convert(events_csv, out_dir / "x.parquet", rules=[R.Range("day", min="soon")])
    assert list_dir(out_dir) == []


def test_check_rule_calls_python_on_batches(events_csv, out_dir):
    seen = []

    def positive_even(batch: pa.RecordBatch) -> pa.Array:
        seen.append(batch.num_rows)
        return pc.equal(pc.bit_wise_and(batch["id"], 1), 0)

    r = logflow.convert(
        events_csv,
        out_dir / "c.parquet",
        error_policy="permissive",
        rules=[R.Check(positive_even, name="even")],
        threads=2,
    )
    assert sum(seen) == 5000
    assert r.errors_by_reason == {"check:even": 2500}
    assert r.checksum_in == r.checksum_out
    ids = pq.read_table(out_dir / "c.parquet")["id"].to_pylist()
    assert ids == list(range(0, 5000, 2))


def test_check_rule_exception_propagates(events_csv, out_dir, list_dir):
    class Boom(Exception):
        pass

    def boom(batch):
        raise Boom("no")

    with pytest.raises(Boom):
        logflow.convert(events_csv, out_dir / "b.parquet", rules=[R.Check(boom)])
    assert list_dir(out_dir) == []

    def wrong_length(batch):
        return [True]

    with pytest.raises(ValueError, match="flags"):
        logflow.convert(events_csv, out_dir / "b.parquet", rules=[R.Check(wrong_length)])


def test_unique_spills_past_its_memory(in_dir, out_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    src = in_dir / "u.csv"
    src.write_text("k\n" + "".join(f"{i % 30_000}\n" for i in range(60_000)))
    r = logflow.convert(
        src,
        out_dir / "u.parquet",
        error_policy="permissive",
        rules=[R.Unique("k", memory=64 * 1024)],
    )
    assert r.errors_by_reason == {"unique:k": 30_000}
    assert pq.read_table(out_dir / "u.parquet")["k"].to_pylist() == list(range(30_000))


# ------------------------------------------------------------------------------- CLI


def test_cli_profile_and_convert_profile(events_csv, out_dir, capsys):
    assert main(["profile", str(events_csv)]) == 0
    out = capsys.readouterr().out
    assert "column" in out and "amount" in out
    assert main(["profile", str(events_csv), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["rows_read"] == 5000 and d["columns"][0]["name"] == "id"
    dst = out_dir / "c.parquet"
    assert main(["convert", str(events_csv), str(dst), "--profile", "--verify"]) == 0
    out = capsys.readouterr().out
    assert "verified: checksum" in out and "distinct" in out
    # Profiled by default, printed only when asked; --no-profile skips it.
    assert main(["convert", str(events_csv), str(dst)]) == 0
    assert "distinct" not in capsys.readouterr().out
    assert main(["convert", str(events_csv), str(dst), "--no-profile"]) == 0
    assert "distinct" not in capsys.readouterr().out


def test_rules_and_profile_on_binary_inputs(tmp_path: Path) -> None:
    import pyarrow.orc as orc

    table = pa.table({"id": [1, 2, 3, 4], "x": [5, 50, 7, 70]})
    pq.write_table(table, tmp_path / "t.parquet")
    orc.write_table(table, tmp_path / "t.orc")
    for src in (tmp_path / "t.parquet", tmp_path / "t.orc"):
        r = logflow.convert(
            src,
            tmp_path / f"{src.suffix[1:]}.out.parquet",
            error_policy="permissive",
            rules=[R.Range("x", max=10)],
            profile=True,
            verify=True,
        )
        assert (r.rows_read, r.rows_written) == (4, 2), src
        assert r.errors_by_reason == {"range:x": 2}
        assert r.quality is not None and r.quality.columns["id"].distinct == 4
        assert r.checksum_in == r.checksum_out is not None
        # A rule on a column the input does not have is refused before any row is read.
        with pytest.raises(ConfigError):
            logflow.convert(src, tmp_path / "no.parquet", rules=[R.NotNull("nope")])


def test_profile_reads_orc_as_convert_does(tmp_path: Path) -> None:
    import pyarrow.orc as orc

    n = 20_000
    table = pa.table(
        {
            "id": list(range(n)),
            "x": [i % 97 for i in range(n)],
            "s": [f"k{i % 300}" if i % 10 else None for i in range(n)],
        }
    )
    orc.write_table(table, tmp_path / "t.orc", stripe_size=64 * 1024)
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=3000)
    from_orc = logflow.profile(tmp_path / "t.orc", rules=[R.Range("x", max=90)])
    from_parquet = logflow.profile(tmp_path / "t.parquet", rules=[R.Range("x", max=90)])
    # 6 of every 97 values of x are over 90: those rows are counted under the rule.
    bad = sum(1 for i in range(n) if i % 97 > 90)
    for r in (from_orc, from_parquet):
        assert (r.rows_read, r.errors_by_reason) == (n, {"range:x": bad})
        # The profile is of the rows read, those a rule refused included.
        assert abs(r.columns["id"].distinct - n) <= 0.02 * n
        assert (r.columns["s"].nulls, r.columns["s"].max) == (n // 10, "k99")
        assert (r.columns["x"].min, r.columns["x"].max) == (0, 96)
    assert from_orc.checksum == from_parquet.checksum is not None
    # Exact parts only: means merge in the order batches come (the last digits differ),
    # and frequent values are approximate past top_k distinct values.
    exact = ("name", "type", "rows", "nulls", "distinct", "min", "max", "max_length")
    for a, b in zip(from_orc.to_dict()["columns"], from_parquet.to_dict()["columns"], strict=True):
        assert {k: a[k] for k in exact} == {k: b[k] for k in exact}
        assert a["mean"] == pytest.approx(b["mean"])
    with pytest.raises(ConfigError):
        logflow.profile(tmp_path / "t.orc", error_policy="quarantine")


def test_rule_rejects_of_xml_and_binary_inputs_keep_their_rows(tmp_path: Path) -> None:
    # XML: the quarantine holds each rejected record's element byte for byte.
    items = "".join(f"\n  <item><id>{i}</id><x>{i % 7}</x></item>" for i in range(50))
    xml = tmp_path / "t.xml"
    xml.write_text(f"<items>{items}\n</items>\n")
    r = logflow.convert(
        xml, tmp_path / "x.parquet", error_policy="quarantine", rules=[R.Range("x", max=5)]
    )
    assert (r.rows_written, r.rows_quarantined) == (43, 7)
    quarantined = Path(r.quarantine_path).read_text()
    for i in range(6, 50, 7):
        assert f"<item><id>{i}</id><x>6</x></item>" in quarantined
    assert "<id>5</id>" not in quarantined
    errors = pq.read_table(r.errors_path).to_pylist()
    # Line 1 holds <items>; record i is on line i + 2.
    assert [e["line"] for e in errors] == [i + 2 for i in range(6, 50, 7)]
    # Binary (Parquet): each rejected row as a line of JSON, numbered in the input.
    table = pa.table({"id": list(range(50)), "x": [i % 7 for i in range(50)]})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=16)
    r = logflow.convert(
        tmp_path / "t.parquet",
        tmp_path / "p.parquet",
        error_policy="quarantine",
        rules=[R.Range("x", max=5)],
    )
    assert (r.rows_written, r.rows_quarantined) == (43, 7)
    rows = [json.loads(line) for line in Path(r.quarantine_path).read_text().splitlines()]
    assert rows == [{"id": i, "x": 6} for i in range(6, 50, 7)]
    errors = pq.read_table(r.errors_path).to_pylist()
    assert [e["record"] for e in errors] == [i + 1 for i in range(6, 50, 7)]
    # An ordered rule (checked on the writing side, in input order) numbers them the same.
    r = logflow.convert(
        tmp_path / "t.parquet",
        tmp_path / "u.parquet",
        error_policy="quarantine",
        rules=[R.Unique("x")],
    )
    assert (r.rows_written, r.rows_quarantined) == (7, 43)
    rows = [json.loads(line) for line in Path(r.quarantine_path).read_text().splitlines()]
    assert rows == [{"id": i, "x": i % 7} for i in range(7, 50)]
    errors = pq.read_table(r.errors_path).to_pylist()
    assert [e["record"] for e in errors] == [i + 1 for i in range(7, 50)]


def test_rule_rejects_of_xes_events_keep_their_events(tmp_path: Path) -> None:
    lines = ['<log xes.version="1.0" xmlns="http://www.xes-standard.org/">']
    where: dict[int, int] = {}
    for t in range(30):
        lines.append(f'<trace><string key="concept:name" value="case-{t}"/>')
        for e in range(3):
            n = t * 3 + e
            where[n] = len(lines) + 1
            lines.append(
                f'<event><string key="concept:name" value="a{e}"/><int key="n" value="{n}"/>'
                f'<int key="k" value="{n % 7}"/></event>'
            )
        lines.append("</trace>")
    lines.append("</log>")
    xes = tmp_path / "t.xes"
    xes.write_text("\n".join(lines) + "\n")
    r = logflow.convert(
        xes, tmp_path / "x.parquet", error_policy="quarantine", rules=[R.Range("k", max=5)]
    )
    bad = [n for n in range(90) if n % 7 == 6]
    assert (r.rows_written, r.rows_quarantined) == (90 - len(bad), len(bad))
    quarantined = Path(r.quarantine_path).read_text()
    for n in bad:
        assert f'<int key="n" value="{n}"/><int key="k" value="6"/></event>' in quarantined
    errors = pq.read_table(r.errors_path).to_pylist()
    assert [e["line"] for e in errors] == [where[n] for n in bad]
    assert [e["record"] for e in errors] == [n + 1 for n in bad]


def test_rule_rejects_of_many_sources_are_numbered_within_each_source(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a", "b", "c"):
        rows = "".join(f"{i},{i % 7},{i % 30}\n" for i in range(40))
        (src / f"{name}.csv").write_text("id,x,k\n" + rows + "zz,1,2,3\n")
    r = logflow.convert(
        src,
        tmp_path / "o.parquet",
        error_policy="quarantine",
        rules=[R.Range("x", max=5), R.Unique("k")],
    )
    errors = pq.read_table(r.errors_path).to_pylist()
    assert len(errors) == r.rows_quarantined
    # Each source's records count from its header: record n is on line n + 1, whether a
    # row rule, an ordered rule or the decoder refused it.
    assert all(e["record"] == e["line"] - 1 for e in errors), errors
    assert sorted({e["reason"] for e in errors}) == ["range:x", "too_many_fields", "unique:k"]
