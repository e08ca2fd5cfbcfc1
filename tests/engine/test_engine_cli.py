"""The table subcommands of the ``logflow`` command line."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.ipc
import pyarrow.parquet as pq

from logflow.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_ingest_query_tables_snapshots_compact(capsys, tmp_path, write_events):
    wh = str(tmp_path / "wh")
    src = str(write_events(30))
    code, out, _ = run(capsys, "ingest", src, "sales.events", "--warehouse", wh)
    assert code == 0 and "sales.events (snapshot" in out and "30 rows written" in out
    code, out, _ = run(capsys, "ingest", src, "sales.events", "--warehouse", wh)
    assert code == 0 and "nothing done" in out

    code, out, _ = run(
        capsys,
        "query",
        "SELECT activity, count(*) AS n FROM sales.events GROUP BY 1 ORDER BY 1",
        "--warehouse",
        wh,
    )
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["activity", "n"] and set(lines[1]) <= {"-", " "}
    assert "Approve Order" in out and len(lines) == 7

    code, out, _ = run(
        capsys,
        "query",
        "SELECT event_id FROM sales.events ORDER BY 1 LIMIT 2",
        "--warehouse",
        wh,
        "--format",
        "json",
    )
    assert [json.loads(line) for line in out.splitlines()] == [{"event_id": 1}, {"event_id": 2}]
    code, out, _ = run(
        capsys,
        "query",
        "SELECT event_id FROM sales.events ORDER BY 1 LIMIT 2",
        "--warehouse",
        wh,
        "--format",
        "csv",
    )
    assert out.splitlines() == ['"event_id"', "1", "2"]
    for fmt, read in (
        ("parquet", pq.read_table),
        ("arrow", lambda p: pa.ipc.open_stream(p).read_all()),
    ):
        target = tmp_path / f"out.{fmt}"
        code, _, _ = run(
            capsys,
            "query",
            "SELECT count(*) AS n FROM sales.events",
            "--warehouse",
            wh,
            "--format",
            fmt,
            "-o",
            str(target),
        )
        assert code == 0 and read(str(target)).to_pylist() == [{"n": 30}]

    code, out, _ = run(capsys, "tables", "--warehouse", wh)
    assert out.split() == ["sales.events"]
    code, out, _ = run(capsys, "snapshots", "sales.events", "--warehouse", wh, "--json")
    [snap] = json.loads(out)
    assert snap["current"] and snap["rows"] == "30" and snap["source"].endswith("events.csv")
    code, out, _ = run(
        capsys,
        "query",
        "SELECT count(*) AS n FROM sales.events",
        "--as-of",
        str(snap["snapshot_id"]),
        "--warehouse",
        wh,
    )
    assert "30" in out
    code, out, _ = run(capsys, "compact", "sales.events", "--warehouse", wh)
    assert code == 0 and "nothing to compact" in out


def test_cli_warehouse_from_environment(capsys, tmp_path, write_events, monkeypatch):
    monkeypatch.setenv("LOGFLOW_WAREHOUSE", str(tmp_path / "envwh"))
    assert run(capsys, "ingest", str(write_events(3)), "t", "-q") == (0, "", "")
    assert (tmp_path / "envwh" / "catalog.db").is_file()
    assert run(capsys, "tables")[1].split() == ["default.t"]


def test_cli_errors_are_one_line_and_exit_1(capsys, tmp_path, write_events):
    wh = str(tmp_path / "wh")
    run(capsys, "ingest", str(write_events(3)), "t", "--warehouse", wh)
    for argv in (
        ["query", "SELECT * FROM read_csv('/etc/passwd')"],
        ["query", "COPY t TO 'x.csv'"],
        ["query", "SELECT * FROM missing"],
        ["snapshots", "missing"],
        ["ingest", str(tmp_path / "nope.csv"), "t"],
    ):
        code, _out, err = run(capsys, *argv, "--warehouse", wh)
        assert code == 1, argv
        assert err.startswith("logflow: error: ") and err.count("\n") == 1, err
        assert "Traceback" not in err


def test_cli_binary_formats_refuse_a_terminal(capsys, tmp_path, write_events, monkeypatch):
    wh = str(tmp_path / "wh")
    run(capsys, "ingest", str(write_events(3)), "t", "--warehouse", wh)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    code, _, err = run(
        capsys, "query", "SELECT 1 AS x FROM t", "--format", "parquet", "--warehouse", wh
    )
    assert code == 1 and "--output" in err
