"""The brief's example usage, in its Python form, run as written."""

from __future__ import annotations

import os

import pyarrow.csv as pacsv

import logflow


def test_brief_example_usage_runs(tmp_path, monkeypatch, make_events):
    monkeypatch.chdir(tmp_path)
    pacsv.write_csv(make_events(500), "data.csv")
    pacsv.write_csv(make_events(500), "events.csv")

    # --- the example, Python form -------------------------------------------------
    # Simplest: just convert a file
    result = logflow.convert("data.csv", "data.parquet")
    print(f"Converted {result.rows_written} rows")

    # With options
    result = logflow.convert(
        "data.csv",
        "data.parquet",
        compression="zstd",
        error_policy="permissive",
    )

    # With query
    with logflow.Engine() as engine:
        # Ingest
        engine.ingest("events.csv", "events")

        # Query
        results = engine.query(
            """
            SELECT activity, COUNT(*) as count
            FROM events
            GROUP BY activity
            ORDER BY count DESC
            """
        )

    # With catalog (Iceberg tables): any Catalog, or a pyiceberg catalog / database URI
    iceberg_catalog = logflow.catalog.load_catalog("sql", warehouse="./warehouse")
    storage = logflow.storage.LocalStorage("./warehouse")
    engine = logflow.Engine(catalog=iceberg_catalog, storage=storage)

    # Stream to table
    engine.ingest_to_table("events.csv", "analytics.events", partition_by=["date"])
    # ---------------------------------------------------------------------------------

    assert result.rows_written == 500
    rows = results.to_pylist()
    assert sum(r["count"] for r in rows) == 500
    assert [r["count"] for r in rows] == sorted((r["count"] for r in rows), reverse=True)
    assert os.path.isfile("warehouse/catalog.db")
    assert engine.tables() == ["analytics.events", "default.events"]
    days = engine.query("SELECT count(DISTINCT date) AS d FROM analytics.events").to_pylist()
    assert days == [{"d": 5}]
    engine.close()
