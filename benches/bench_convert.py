"""CSV/TSV -> Parquet (zstd): logflow against the tools a user would pick instead.

Each case converts the whole generated file; ``extra_info`` records the rows written and the
output size, and every tool must write the same number of rows. Run with ``make bench``
(``pytest benches --benchmark-enable --benchmark-only``); with benchmarks disabled (the
default in pyproject) each case runs once, which checks the benches still work.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

INPUTS = {"events.csv": ",", "events.tsv": "\t"}


def convert_logflow(src: Path, dst: Path, delimiter: str) -> None:
    import logflow

    logflow.convert(src, dst, delimiter=delimiter, compression="zstd")


def convert_pyarrow(src: Path, dst: Path, delimiter: str) -> None:
    # streaming, as in the yardstick: 16 MiB blocks, one write_batch per block
    import pyarrow.csv as pacsv

    reader = pacsv.open_csv(
        src,
        read_options=pacsv.ReadOptions(block_size=16 << 20),
        parse_options=pacsv.ParseOptions(delimiter=delimiter),
    )
    with pq.ParquetWriter(dst, reader.schema, compression="zstd") as writer:
        for batch in reader:
            writer.write_batch(batch)


def convert_polars(src: Path, dst: Path, delimiter: str) -> None:
    import polars as pl

    pl.scan_csv(src, separator=delimiter, try_parse_dates=True).sink_parquet(
        dst, compression="zstd"
    )


def convert_duckdb(src: Path, dst: Path, delimiter: str) -> None:
    import duckdb

    def lit(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT * FROM read_csv({lit(str(src))}, delim={lit(delimiter)})) "
            f"TO {lit(str(dst))} (FORMAT parquet, COMPRESSION zstd)"
        )


TOOLS: dict[str, Callable[[Path, Path, str], None]] = {
    "logflow": convert_logflow,
    "pyarrow": convert_pyarrow,
    "polars": convert_polars,
    "duckdb": convert_duckdb,
}

# rows written per input, by tool: every tool must agree
ROWS_SEEN: dict[str, dict[str, int]] = {}


@pytest.mark.parametrize("tool", list(TOOLS))
@pytest.mark.parametrize("name", list(INPUTS))
def test_convert_speed(benchmark, bench_data, expected_rows, tmp_path, name, tool):
    src = bench_data / name
    dst = tmp_path / f"{Path(name).stem}.{tool}.parquet"
    convert = TOOLS[tool]

    def setup() -> tuple[tuple[Path, Path, str], dict]:
        dst.unlink(missing_ok=True)  # every round writes a fresh file
        return (src, dst, INPUTS[name]), {}

    benchmark.group = f"convert {name} ({src.stat().st_size / 1e6:.0f} MB)"
    benchmark.extra_info["input_bytes"] = src.stat().st_size
    benchmark.pedantic(convert, setup=setup, rounds=3)

    rows = pq.read_metadata(dst).num_rows
    benchmark.extra_info["rows_written"] = rows
    benchmark.extra_info["output_bytes"] = dst.stat().st_size
    benchmark.extra_info["rows_per_s"] = (
        rows / benchmark.stats.stats.median if benchmark.stats else None
    )
    ROWS_SEEN.setdefault(name, {})[tool] = rows
    assert rows == expected_rows, f"{tool} wrote {rows} rows, expected {expected_rows}"
    assert len(set(ROWS_SEEN[name].values())) == 1, ROWS_SEEN[name]
