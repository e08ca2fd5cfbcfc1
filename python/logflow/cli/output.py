"""Terminal output: a progress bar for long runs, tables and query results."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, BinaryIO, TextIO

if TYPE_CHECKING:
    import pyarrow as pa


class ProgressBar:
    """A one-line progress bar on a terminal, shown only once a run lasts over ``delay_s``.

    Used as the ``progress=`` callback of :func:`logflow.convert`.
    """

    def __init__(self, stream: TextIO | None = None, delay_s: float = 1.0, width: int = 30) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._enabled = self._stream.isatty()
        self._start = time.monotonic()
        self._delay = delay_s
        self._width = width
        self._shown = False

    def __call__(self, bytes_read: int, bytes_total: int, rows: int) -> None:
        """Redraw the bar (the ``progress=`` signature of :func:`logflow.convert`)."""
        elapsed = time.monotonic() - self._start
        if not self._enabled or elapsed < self._delay:
            return
        frac = min(bytes_read / bytes_total, 1.0) if bytes_total else 0.0
        filled = int(frac * self._width)
        bar = "#" * filled + "-" * (self._width - filled)
        rate = rows / elapsed if elapsed > 0 else 0.0
        self._stream.write(
            f"\r[{bar}] {frac:6.1%}  {bytes_read / 1e6:,.0f}/{bytes_total / 1e6:,.0f} MB  "
            f"{rows:,} rows  {rate:,.0f} rows/s"
        )
        self._stream.flush()
        self._shown = True

    def close(self) -> None:
        """Clear the bar's line if it was drawn."""
        if self._shown:
            self._stream.write("\r\033[K")
            self._stream.flush()
            self._shown = False


def _cell(value: object) -> str:
    if value is None:
        return "NULL"
    text = str(value)
    return text.replace("\n", "\\n").replace("\t", "\\t")


def print_rows(
    rows: Sequence[Mapping[str, object]],
    columns: Sequence[str] | None = None,
    stream: TextIO | None = None,
    *,
    more: int = 0,
) -> None:
    """Print rows as an aligned table with a header line."""
    out = stream if stream is not None else sys.stdout
    names = list(columns) if columns is not None else (list(rows[0]) if rows else [])
    cells = [[_cell(r.get(n)) for n in names] for r in rows]
    widths = [max([len(n), *(len(c[i]) for c in cells)]) for i, n in enumerate(names)]
    out.write("  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for c in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)).rstrip() + "\n")
    if more:
        out.write(f"... {more:,} more rows\n")


def write_result(
    table: pa.Table, fmt: str, output: str | None = None, *, max_rows: int = 50
) -> None:
    """Write a query result as an aligned table, CSV, JSON lines, Parquet or Arrow IPC."""
    import pyarrow as pa

    binary = fmt in ("parquet", "arrow")
    if binary and output is None and sys.stdout.isatty():
        from logflow.errors import ConfigError

        raise ConfigError(f"--format {fmt} is binary: give --output FILE or redirect stdout")
    if fmt == "table":
        shown = table.slice(0, max_rows)
        print_rows(shown.to_pylist(), table.column_names, more=table.num_rows - shown.num_rows)
        return
    target: BinaryIO
    with contextlib.ExitStack() as stack:
        if output is not None:
            target = stack.enter_context(open(output, "wb"))
        else:
            target = sys.stdout.buffer
        if fmt == "csv":
            import pyarrow.csv as pacsv

            pacsv.write_csv(table, target)
        elif fmt == "json":
            for row in table.to_pylist():
                target.write(json.dumps(row, default=str).encode() + b"\n")
        elif fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, target)
        else:
            with pa.ipc.new_stream(target, table.schema) as writer:
                writer.write_table(table)
        target.flush()
