"""Short, ragged and titled files: detection reads the records, and a reading that would
reject nearly every record is refused rather than silently dropping them."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

import logflow
from logflow.errors import SchemaError


@pytest.mark.parametrize(
    ("text", "names", "rows"),
    [
        # A data row carrying one extra trailing field, in a two-line file.
        ('"a";"b";"c"\n"1";"2";"3";\n', ["a", "b", "c", "column_4"], [[1, 2, 3, None]]),
        # A quoted line break in the last field.
        ('"a";"b"\n"1";"x\ny"\n"2";"z"\n', ["a", "b"], [[1, "x\ny"], [2, "z"]]),
        # A title holding the delimiter above a two-column table.
        (
            "Created by X, Sample 12, Saturday, 11 Feb\nname,value\na,1\nb,2\nc,3\n",
            ["name", "value"],
            [["a", 1], ["b", 2], ["c", 3]],
        ),
        # A first line much wider than every record.
        ("a,b,c,d,e,f\n1,2\n3,4\n5,6\n", ["column_1", "column_2"], [[1, 2], [3, 4], [5, 6]]),
        # Pipes inside values, commas between fields.
        ("id,tags\n1,a|b\n2,c|d|e\n3,f\n", ["id", "tags"], [[1, "a|b"], [2, "c|d|e"], [3, "f"]]),
    ],
)
def test_the_reading_explains_the_records(tmp_path: Path, text, names, rows) -> None:
    src = tmp_path / "t.csv"
    src.write_text(text)
    stream = logflow.read(src)
    table = pa.table(stream)
    assert table.column_names == names
    assert [list(r.values()) for r in table.to_pylist()] == rows
    assert stream.rows_rejected == 0


def test_a_given_dialect_that_rejects_nearly_every_record_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "t.csv"
    src.write_text("Report;2024;all;regions\n" + "".join(f"{i};x{i}\n" for i in range(20)))
    # Detected: the title is a preamble line and every record is read.
    assert pa.table(logflow.read(src)).num_rows == 20
    # Told there is no preamble: the title would be a four-column header and every record
    # would be rejected for its width; that is refused, not silently done.
    with pytest.raises(SchemaError, match="nearly every record would be rejected"):
        logflow.convert(src, tmp_path / "o.parquet", skip_lines=0, error_policy="permissive")
