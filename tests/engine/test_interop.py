"""Tables written by logflow read back equal elsewhere: pyiceberg, deltalake, DuckDB."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest


def rows(table: pa.Table, columns: list[str]) -> list[dict]:
    return sorted(table.select(columns).to_pylist(), key=lambda r: r["event_id"])


@pytest.mark.parametrize("partition_by", [None, ["date"], ["month(ts)", "bucket(3, case_id)"]])
def test_iceberg_tables_read_the_same_in_pyiceberg_and_duckdb(engine, write_events, partition_by):
    src = write_events(300)
    engine.ingest(src, "t", partition_by=partition_by)
    engine.ingest(write_events(50, "b.csv", start=300), "t")
    truth = pa.concat_tables(
        [pacsv.read_csv(src), pacsv.read_csv(write_events(50, "b.csv", start=300))]
    )
    columns = ["event_id", "date", "ts", "case_id", "activity", "amount"]
    ours = engine.query("SELECT * FROM t").to_arrow()
    expected = rows(truth, columns)
    assert rows(ours, columns) == expected
    theirs = engine.catalog().iceberg.load_table("default.t").scan().to_arrow()
    assert rows(theirs, columns) == expected
    files = [f.path for f in engine.table("t").data_files()]
    hive = partition_by == ["date"]
    direct = duckdb.sql(
        f"SELECT * FROM read_parquet({files!r}, hive_partitioning = {str(hive).lower()}, "
        "union_by_name = true)"
    ).to_arrow_table()
    if hive:
        direct = direct.set_column(
            direct.schema.get_field_index("date"), "date", direct.column("date").cast(pa.date32())
        )
    assert rows(direct, columns) == expected


def test_delta_tables_read_the_same_in_deltalake_and_duckdb(engine, write_events):
    import deltalake

    src = write_events(200)
    engine.ingest(src, "d", table_format="delta", partition_by=["activity"])
    columns = ["event_id", "date", "ts", "case_id", "activity", "amount"]
    expected = rows(pacsv.read_csv(src), columns)
    assert rows(engine.query("SELECT * FROM d").to_arrow(), columns) == expected
    dt = deltalake.DeltaTable(engine.table("d").location)
    assert rows(pa.table(dt.to_pyarrow_table()), columns) == expected
    files = [f.path for f in engine.table("d").data_files()]
    direct = duckdb.sql(f"SELECT * FROM read_parquet({files!r}, hive_partitioning = true)")
    assert rows(direct.to_arrow_table(), columns) == expected
