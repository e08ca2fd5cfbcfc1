"""JSON and JSON Lines input: layouts, records_path, flatten, types, schema policies after the
type-inference sample, datasets, quarantine, error positions, read(), encodings, empty input.

Inputs that must reach past the first 4 MiB chunk (all that type inference looks at) use
"fat" records: 40 records of about 110 kB each, so a file of a few dozen records has a late
part and the checks stay cheap.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import logflow
from logflow.errors import DecodeError, EmptyInputError, LogflowError, SchemaError

# ----------------------------------------------------------------------------------------
# Helpers


def write(in_dir: Path, data: bytes | str, name: str = "in.json") -> Path:
    path = in_dir / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def convert(src: Path, dst: Path, **kwargs: Any) -> tuple[logflow.ConvertResult, pa.Table]:
    result = logflow.convert(src, dst, **kwargs)
    assert result.rows_read == result.rows_written + result.rows_quarantined + result.rows_skipped
    if os.path.isdir(dst):
        table = ds.dataset(dst, partitioning="hive" if kwargs.get("partition_by") else None)
        return result, table.to_table()
    return result, pq.read_table(dst)


def lines(*records: Any) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def is_json_text(field: pa.Field) -> bool:
    t = field.type
    if isinstance(t, pa.BaseExtensionType):
        return t.extension_name == "arrow.json"
    return (field.metadata or {}).get(b"ARROW:extension:name") == b"arrow.json"


FAT = 110_000
FAT_ROWS = 40  # 40 fat records: past the first 4 MiB chunk


def fat(i: int, **fields: Any) -> dict[str, Any]:
    return {"id": i, "pad": chr(ord("a") + i % 26) * FAT, **fields}


def fat_lines(start: int = 0, **fields: Any) -> bytes:
    return lines(*(fat(i, **fields) for i in range(start, start + FAT_ROWS)))


# ----------------------------------------------------------------------------------------
# Layouts


def test_json_lines(in_dir: Path, out_dir: Path) -> None:
    src = write(in_dir, lines({"a": 1, "b": "x"}, {"a": 2, "b": "y"}), "in.jsonl")
    result, table = convert(src, out_dir / "o.parquet")
    assert result.format == "jsonl"
    assert table.to_pylist() == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]


def test_json_lines_with_crlf_blank_lines_and_no_final_newline(in_dir: Path, out_dir: Path) -> None:
    src = write(in_dir, b'{"a": 1}\r\n\r\n  \n{"a": 2}\r\n{"a": 3}', "in.jsonl")
    result, table = convert(src, out_dir / "o.parquet", format="jsonl")
    assert result.rows_read == 3  # blank lines are no records
    assert table.column("a").to_pylist() == [1, 2, 3]


def test_top_level_array(in_dir: Path, out_dir: Path) -> None:
    src = write(in_dir, '[{"a": 1},\n {"a": 2, "b": [1, 2]}\n]\n')
    result, table = convert(src, out_dir / "o.parquet")
    assert result.format == "json"
    assert table.to_pylist() == [{"a": 1, "b": None}, {"a": 2, "b": [1, 2]}]


@pytest.mark.parametrize(
    "doc",
    [
        {"meta": {"n": 2}, "items": [{"a": 1}, {"a": 2}]},
        {"items": [{"a": 1}, {"a": 2}], "meta": {"n": 2}},
        {"meta": {"tags": ["x"]}, "data": {"items": [{"a": 1}, {"a": 2}]}},
        # the largest array of objects wins
        {"few": [{"b": 1}], "data": {"items": [{"a": 1}, {"a": 2}]}},
    ],
)
def test_records_found_in_an_object(in_dir: Path, out_dir: Path, doc: Any) -> None:
    src = write(in_dir, json.dumps(doc, indent=2))
    _, table = convert(src, out_dir / "o.parquet")
    assert table.to_pylist() == [{"a": 1}, {"a": 2}]


def test_records_deeper_than_three_levels_are_not_searched(in_dir: Path, out_dir: Path) -> None:
    doc = {"a": {"b": {"c": {"d": [{"x": 1}]}}}}
    _, table = convert(write(in_dir, json.dumps(doc)), out_dir / "o.parquet")
    assert table.to_pylist() == [doc]  # one record


DOC = {
    "meta": {"items": "not these"},
    "data": {"items": [{"a": 1}, {"a": 2}], "other": [{"b": 1}, {"b": 2}, {"b": 3}]},
    "a/b": {"c.d": [{"z": 9}]},
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("data.items", [{"a": 1}, {"a": 2}]),
        ("/data/items", [{"a": 1}, {"a": 2}]),
        ("data.other", [{"b": 1}, {"b": 2}, {"b": 3}]),
        ("/a~1b/c.d", [{"z": 9}]),  # a JSON pointer escapes "/" as ~1; dots are plain
    ],
)
def test_records_path(in_dir: Path, out_dir: Path, path: str, expected: list[Any]) -> None:
    src = write(in_dir, json.dumps(DOC))
    for read_it in (False, True):
        if read_it:
            table = logflow.read(src, records_path=path).read_all()
        else:
            _, table = convert(src, out_dir / "o.parquet", records_path=path)
        assert table.to_pylist() == expected


def test_records_path_one_key(in_dir: Path, out_dir: Path) -> None:
    src = write(in_dir, json.dumps({"x": [1], "items": [{"a": 1}]}))
    _, table = convert(src, out_dir / "o.parquet", records_path="items")
    assert table.to_pylist() == [{"a": 1}]
    _, table = convert(src, out_dir / "o.parquet", records_path="x")
    assert table.to_pylist() == [{"value": 1}]


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("data.nope", ["/data/nope", "no key", "nope"]),
        ("nope", ["/nope", "no key"]),
        ("meta.items", ["/meta/items", "not an array"]),
        ("data.items.a", ["/data/items/a", "not an object"]),
    ],
)
def test_records_path_not_found(
    in_dir: Path, out_dir: Path, path: str, words: list[str], list_dir: Any
) -> None:
    src = write(in_dir, json.dumps(DOC))
    with pytest.raises(SchemaError) as e:
        logflow.convert(src, out_dir / "o.parquet", records_path=path)
    for word in words:
        assert word in str(e.value)
    assert list_dir(out_dir) == []
    with pytest.raises(SchemaError):
        logflow.read(src, records_path=path)


def test_records_path_on_a_top_level_array(in_dir: Path, out_dir: Path) -> None:
    src = write(in_dir, '[{"a": 1}]')
    with pytest.raises(SchemaError, match="/items"):
        logflow.convert(src, out_dir / "o.parquet", records_path="items")


@pytest.mark.parametrize(
    "data",
    [
        '{"a": 1}{"a": 2}{"a": 3}',
        '{"a": 1} {"a": 2}\n\n{"a":\n 3}',
        '{\n  "a": 1\n}\n{\n  "a": 2\n}\n{"a": 3}\n',
    ],
)
def test_values_one_after_another(in_dir: Path, out_dir: Path, data: str) -> None:
    result, table = convert(write(in_dir, data), out_dir / "o.parquet", format="json")
    assert result.rows_read == 3
    assert table.to_pylist() == [{"a": 1}, {"a": 2}, {"a": 3}]


def test_a_lone_object_is_one_row(in_dir: Path, out_dir: Path) -> None:
    doc = {"a": 1, "b": {"c": [1, 2]}, "d": [1, 2]}  # arrays of scalars are no records
    _, table = convert(write(in_dir, json.dumps(doc)), out_dir / "o.parquet")
    assert table.to_pylist() == [doc]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("[1, 2, 3]", [1, 2, 3]),
        ("1\n2\n3\n", [1, 2, 3]),
        ('"x" "y"', ["x", "y"]),
        ("[[1], [], [2, 3]]", [[1], [], [2, 3]]),
    ],
)
def test_records_that_are_not_objects_fill_one_value_column(
    in_dir: Path, out_dir: Path, data: str, expected: list[Any]
) -> None:
    _, table = convert(write(in_dir, data), out_dir / "o.parquet")
    assert table.column_names == ["value"]
    assert table.column("value").to_pylist() == expected


def test_objects_mixed_with_other_records_are_json_text(in_dir: Path, out_dir: Path) -> None:
    _, table = convert(write(in_dir, '[{"a": 1}, 2, "x", [3]]'), out_dir / "o.parquet")
    assert table.column_names == ["value"]
    assert is_json_text(table.schema.field("value"))
    values = [json.loads(v) for v in table.column("value").to_pylist()]
    assert values == [{"a": 1}, 2, "x", [3]]


@pytest.mark.parametrize("name", ["data.json", "data.jsonl", "data.txt", "data"])
def test_format_is_detected_from_the_bytes(in_dir: Path, out_dir: Path, name: str) -> None:
    src = write(in_dir, lines({"a": 1}, {"a": 2}), name)
    assert convert(src, out_dir / "o.parquet")[0].format == "jsonl"
    src = write(in_dir, json.dumps([{"a": 1}, {"a": 2}], indent=2), name)
    assert convert(src, out_dir / "o.parquet")[0].format == "json"


# ----------------------------------------------------------------------------------------
# Types

TYPED = [
    {
        "i": 1,
        "f": 1.5,
        "b": True,
        "s": "x",
        "num_text": "123",
        "d": "2024-01-02",
        "ts": "2024-01-02T10:00:00",
        "tz": "2024-01-02T10:00:00Z",
        "t": "12:30:00",
        "dec": 12345678901234567890,
        "frac": 1.00000000000000000001,
        "huge": 1234567890123456789012345678901234567890,
        "mix": 1,
        "empty": "",
        "nul": None,
    },
    {
        "i": -2,
        "f": 2,
        "b": False,
        "s": "y",
        "num_text": "4.5",
        "d": "2024-02-03",
        "ts": "2024-02-03T11:00:00.5",
        "tz": "2024-02-03T11:00:00+01:00",
        "t": "13:00:00",
        "dec": 1,
        "frac": 2,
        "huge": 1,
        "mix": "x",
        "empty": None,
        "nul": None,
    },
]


def test_value_types(in_dir: Path, out_dir: Path) -> None:
    # frac is written as text: Python would round it to a float
    data = lines(*TYPED).replace(b"1.0, ", b"1.00000000000000000001, ")
    _, table = convert(write(in_dir, data, "in.jsonl"), out_dir / "o.parquet")
    types = {f.name: str(f.type) for f in table.schema}
    assert types == {
        "i": "int64",
        "f": "double",
        "b": "bool",
        "s": "string",
        "num_text": "string",  # numbers in quotes stay text
        "d": "date32[day]",
        "ts": "timestamp[us]",
        "tz": "timestamp[us, tz=UTC]",
        "t": "time64[us]",
        "dec": "decimal128(20, 0)",
        "frac": "decimal128(21, 20)",
        "huge": "string",  # more digits than decimal128 holds: text
        "mix": "string",
        "empty": "string",
        "nul": "null",
    }
    rows = table.to_pylist()
    assert [r["f"] for r in rows] == [1.5, 2.0]
    assert [r["num_text"] for r in rows] == ["123", "4.5"]
    assert [str(r["dec"]) for r in rows] == ["12345678901234567890", "1"]
    assert str(rows[0]["frac"]) == "1.00000000000000000001"
    assert rows[0]["huge"] == "1234567890123456789012345678901234567890"
    assert [r["mix"] for r in rows] == ["1", "x"]
    assert [r["empty"] for r in rows] == ["", None]  # "" stays text, null is null
    assert rows[1]["tz"].isoformat() == "2024-02-03T10:00:00+00:00"


def test_objects_with_many_keys_are_maps(in_dir: Path, out_dir: Path) -> None:
    records = [{"id": i, "attrs": {f"k{i}_{j}": j for j in range(600)}} for i in range(3)]
    _, table = convert(write(in_dir, lines(*records), "in.jsonl"), out_dir / "o.parquet")
    assert pa.types.is_map(table.schema.field("attrs").type)
    got = [dict(a) for a in table.column("attrs").to_pylist()]
    assert got == [r["attrs"] for r in records]


def test_nested_values(in_dir: Path, out_dir: Path) -> None:
    records = [
        {"o": {"a": 1, "l": [{"x": 1.5}, None, {"y": "é\n\u2028"}]}, "l": [[1, 2], [], None]},
        {"o": None, "l": None},
        {"o": {"a": None}, "l": [[3]]},
    ]
    _, table = convert(write(in_dir, json.dumps(records)), out_dir / "o.parquet")
    assert table.to_pylist() == [
        {
            "o": {"a": 1, "l": [{"x": 1.5, "y": None}, None, {"x": None, "y": "é\n\u2028"}]},
            "l": [[1, 2], [], None],
        },
        {"o": None, "l": None},
        {"o": {"a": None, "l": None}, "l": [[3]]},
    ]


# ----------------------------------------------------------------------------------------
# flatten

NESTED = [{"a": {"b": 1, "c": {"d": 2}}, "l": [{"x": 1}]}, {"a": None}, {"a": {"b": 3}}]


def test_flatten_every_level(in_dir: Path, out_dir: Path) -> None:
    src = write(in_dir, lines(*NESTED), "in.jsonl")
    _, table = convert(src, out_dir / "o.parquet", flatten=True)
    assert table.column_names == ["a.b", "a.c.d", "l"]
    assert pa.types.is_list(table.schema.field("l").type)  # arrays stay lists
    assert table.to_pylist() == [
        {"a.b": 1, "a.c.d": 2, "l": [{"x": 1}]},
        {"a.b": None, "a.c.d": None, "l": None},  # a null parent: null children
        {"a.b": 3, "a.c.d": None, "l": None},
    ]
    assert logflow.read(src, flatten=True).read_all().equals(table)


def test_flatten_levels(in_dir: Path, out_dir: Path) -> None:
    src = write(in_dir, lines(*NESTED), "in.jsonl")
    _, table = convert(src, out_dir / "o.parquet", flatten=1)
    assert table.column_names == ["a.b", "a.c", "l"]
    assert table.column("a.c").to_pylist() == [{"d": 2}, None, None]
    _, table = convert(src, out_dir / "o.parquet", flatten=False)
    assert table.column_names == ["a", "l"]


def test_flatten_name_collision(in_dir: Path, out_dir: Path) -> None:
    src = write(in_dir, '{"a": {"b": 1}, "a.b": 2}\n', "in.jsonl")
    try:
        result = logflow.convert(src, out_dir / "o.parquet", flatten=True)
    except LogflowError:
        return  # refusing the clash is fine too
    names = result.schema.names
    assert len(set(names)) == len(names) == 2
    assert sorted(pq.read_table(out_dir / "o.parquet").to_pylist()[0].values()) == [1, 2]


# ----------------------------------------------------------------------------------------
# Schema policies: what changes after the sample


def late_file(in_dir: Path, late: list[dict[str, Any]], **filler: Any) -> Path:
    """FAT_ROWS fat records (with ``filler`` fields), then the ``late`` records."""
    return write(in_dir, fat_lines(**filler) + lines(*late), "late.jsonl")


LATE_LINE = FAT_ROWS + 1


def late_offset(path: Path) -> int:
    data = path.read_bytes()
    return len(data) - len(data.splitlines(keepends=True)[-1])


def test_strict_rejects_a_late_new_field(in_dir: Path, out_dir: Path) -> None:
    src = late_file(in_dir, [fat(-1, late="new")])
    result, table = convert(
        src, out_dir / "o.parquet", schema_policy="strict", error_policy="permissive"
    )
    assert result.rows_skipped == 1
    assert result.errors_by_reason == {"schema_mismatch": 1}
    assert table.column_names == ["id", "pad"]
    assert table.num_rows == FAT_ROWS
    (sample,) = result.error_samples
    assert (sample.line, sample.record, sample.column) == (LATE_LINE, LATE_LINE, "/late")
    assert sample.offset == late_offset(src)
    with pytest.raises(DecodeError) as e:
        logflow.convert(src, out_dir / "o.parquet", schema_policy="strict")
    assert (e.value.line, e.value.record, e.value.offset) == (
        LATE_LINE,
        LATE_LINE,
        late_offset(src),
    )
    assert e.value.column == "/late" and e.value.format == "json"


def test_strict_rejects_a_late_type_change(in_dir: Path, out_dir: Path) -> None:
    src = late_file(in_dir, [fat(-1, n=1.5)], n=7)
    result, table = convert(
        src, out_dir / "o.parquet", schema_policy="strict", error_policy="permissive"
    )
    assert result.errors_by_reason == {"cast_error": 1}
    assert table.schema.field("n").type == pa.int64()
    assert table.num_rows == FAT_ROWS


def test_merge_widens_int_to_float_to_text(in_dir: Path, out_dir: Path) -> None:
    ints = lines(*(fat(i, n=i) for i in range(FAT_ROWS)))
    floats = lines(*(fat(i, n=i + 0.25) for i in range(FAT_ROWS)))
    src = write(in_dir, ints + floats + lines(fat(-1, n="text")), "late.jsonl")
    result, table = convert(src, out_dir / "o.parquet", schema_policy="merge")
    assert result.rows_written == 2 * FAT_ROWS + 1
    assert table.schema.field("n").type == pa.string()
    assert table.column("n").to_pylist() == [
        *(str(i) for i in range(FAT_ROWS)),
        *(f"{i}.25" for i in range(FAT_ROWS)),
        "text",
    ]
    # ints then floats only: float64, the ints as floats
    src = write(in_dir, ints + floats, "late.jsonl")
    _, table = convert(src, out_dir / "o.parquet", schema_policy="merge")
    assert table.schema.field("n").type == pa.float64()
    assert table.column("n").to_pylist()[FAT_ROWS - 1 : FAT_ROWS + 1] == [39.0, 0.25]


@pytest.mark.parametrize("policy", ["merge", "evolve", None])
def test_merge_adds_a_late_field(in_dir: Path, out_dir: Path, policy: str | None) -> None:
    src = late_file(in_dir, [fat(-1, late="new", n=2.5)])
    result, table = convert(src, out_dir / "o.parquet", schema_policy=policy)
    assert result.rows_written == FAT_ROWS + 1
    assert table.column_names == ["id", "pad", "late", "n"]
    assert table.column("late").to_pylist() == [None] * FAT_ROWS + ["new"]
    assert table.column("n").to_pylist() == [None] * FAT_ROWS + [2.5]
    assert table.column("id").to_pylist() == [*range(FAT_ROWS), -1]


def test_merge_rejects_a_late_object_where_numbers_were(in_dir: Path, out_dir: Path) -> None:
    src = late_file(in_dir, [fat(-1, n={"o": 1})], n=5)
    result, table = convert(
        src, out_dir / "o.parquet", schema_policy="merge", error_policy="permissive"
    )
    assert result.errors_by_reason == {"schema_mismatch": 1}
    assert result.error_samples[0].column == "/n"
    assert table.schema.field("n").type == pa.int64() and table.num_rows == FAT_ROWS
    with pytest.raises(DecodeError) as e:
        logflow.convert(src, out_dir / "o.parquet", schema_policy="merge")
    assert e.value.line == LATE_LINE


def test_evolve_turns_a_late_clash_into_json_text(in_dir: Path, out_dir: Path) -> None:
    src = late_file(in_dir, [fat(-1, n={"o": [1, "x"]})], n=5)
    result, table = convert(src, out_dir / "o.parquet", schema_policy="evolve")
    assert result.rows_written == FAT_ROWS + 1
    assert is_json_text(table.schema.field("n"))
    values = [json.loads(v) for v in table.column("n").to_pylist()]
    assert values == [5] * FAT_ROWS + [{"o": [1, "x"]}]


def test_a_clash_within_the_sample_is_json_text_under_every_policy(
    in_dir: Path, out_dir: Path
) -> None:
    src = write(in_dir, lines({"n": 1}, {"n": {"o": 1}}, {"n": [2]}), "in.jsonl")
    for policy in ("strict", "merge", "evolve"):
        _, table = convert(src, out_dir / "o.parquet", schema_policy=policy)
        assert is_json_text(table.schema.field("n"))
        assert [json.loads(v) for v in table.column("n").to_pylist()] == [1, {"o": 1}, [2]]


@pytest.mark.parametrize(
    "layout",
    [
        {},
        {"max_rows_per_file": 15},
        {"partition_by": ["g"]},
        {"partition_by": "g", "max_rows_per_file": 7},
    ],
    ids=["file", "max_rows_per_file", "partition_by", "partition_and_max_rows"],
)
def test_a_late_field_reaches_every_output_file(
    in_dir: Path, out_dir: Path, layout: dict[str, Any]
) -> None:
    records = [fat(i, g=f"g{i % 3}") for i in range(FAT_ROWS)]
    src = write(in_dir, lines(*records, fat(-1, g="g1", late="new", n=2.5)), "late.jsonl")
    dst = out_dir / ("o" if layout else "o.parquet")
    result, table = convert(src, dst, **layout)
    assert result.rows_written == FAT_ROWS + 1
    final = ["id", "pad", "g", "late", "n"]
    assert result.schema.names == final
    stored = [n for n in final if n not in ("g" if layout.get("partition_by") else ())]
    assert len(result.files) == (1 if not layout else len(result.files))
    if layout == {"max_rows_per_file": 15}:
        assert len(result.files) == 3
    for f in result.files:
        assert pq.read_schema(f).names == stored, f
    assert sum(pq.ParquetFile(f).metadata.num_rows for f in result.files) == FAT_ROWS + 1
    assert sorted(table.column("id").to_pylist()) == [-1, *range(FAT_ROWS)]
    late = table.filter(pa.compute.equal(table.column("id"), -1)).to_pylist()
    assert [(r["g"], r["late"], r["n"]) for r in late] == [("g1", "new", 2.5)]
    assert table.column("late").null_count == FAT_ROWS


# ----------------------------------------------------------------------------------------
# Bad records: quarantine, error table, positions

BAD_JSONL = b'{"a": 1}\n{"a": 2\n{"a": 3}\r\n  {bad}  \r\n{"a": 4}\n[1, 2\n{"a": 5}\n'
BAD = [(2, b'{"a": 2\n'), (4, b"  {bad}  \r\n"), (6, b"[1, 2\n")]
# (line, byte offset, raw bytes) of each bad line
BAD = [(line, BAD_JSONL.index(raw), raw) for line, raw in BAD]


def test_quarantine_keeps_bad_lines_byte_for_byte(
    in_dir: Path, out_dir: Path, list_dir: Any
) -> None:
    src = write(in_dir, BAD_JSONL, "in.jsonl")
    result, table = convert(src, out_dir / "o.parquet", error_policy="quarantine")
    assert table.column("a").to_pylist() == [1, 3, 4, 5]
    assert (result.rows_read, result.rows_quarantined) == (7, 3)
    assert result.errors_by_reason == {"invalid_json": 3}
    assert result.quarantine_path == str(out_dir / "o.quarantine.jsonl")
    assert result.errors_path == str(out_dir / "o.errors.parquet")
    assert list_dir(out_dir) == ["o.errors.parquet", "o.parquet", "o.quarantine.jsonl"]
    assert Path(result.quarantine_path).read_bytes() == b"".join(raw for *_, raw in BAD)

    errors = pq.read_table(result.errors_path)
    assert [(f.name, str(f.type), f.nullable) for f in errors.schema] == [
        ("line", "int64", False),
        ("offset", "int64", False),
        ("record", "int64", False),
        ("column", "string", True),
        ("reason", "string", False),
        ("detail", "string", False),
        ("raw", "binary", False),
    ]
    rows = errors.to_pylist()
    assert [(r["line"], r["offset"], r["raw"]) for r in rows] == BAD
    assert [r["record"] for r in rows] == [2, 4, 6]
    assert {r["reason"] for r in rows} == {"invalid_json"}
    assert all(r["column"] is None and "invalid JSON" in r["detail"] for r in rows)
    samples = [(s.line, s.offset, s.record, s.raw) for s in result.error_samples]
    assert samples == [(line, offset, line, raw) for line, offset, raw in BAD]


def test_permissive_counts_bad_lines(in_dir: Path, out_dir: Path, list_dir: Any) -> None:
    src = write(in_dir, BAD_JSONL, "in.jsonl")
    result, table = convert(src, out_dir / "o.parquet", error_policy="permissive")
    assert table.column("a").to_pylist() == [1, 3, 4, 5]
    assert (result.rows_skipped, result.rows_written) == (3, 4)
    assert result.errors_by_reason == {"invalid_json": 3}
    assert result.quarantine_path is None
    assert list_dir(out_dir) == ["o.parquet"]


def test_strict_stops_at_the_first_bad_line(in_dir: Path, out_dir: Path, list_dir: Any) -> None:
    src = write(in_dir, BAD_JSONL, "in.jsonl")
    with pytest.raises(DecodeError) as e:
        logflow.convert(src, out_dir / "o.parquet")
    assert (e.value.line, e.value.offset, e.value.record) == (*BAD[0][:2], 2)
    assert e.value.path == str(src) and e.value.format == "json"
    assert "invalid JSON" in str(e.value) and "line 2" in str(e.value)
    assert list_dir(out_dir) == []


def test_error_position_in_an_array(in_dir: Path, out_dir: Path) -> None:
    data = b'[{"a": 1},\n {"a": 2},\n {"a": 3,},\n {"a": 4}\n]'
    src = write(in_dir, data)
    with pytest.raises(DecodeError) as e:
        logflow.convert(src, out_dir / "o.parquet")
    assert (e.value.line, e.value.offset, e.value.record) == (3, data.index(b'{"a": 3'), 3)
    assert "invalid JSON" in str(e.value)
    result, table = convert(src, out_dir / "o.parquet", error_policy="quarantine")
    assert table.column("a").to_pylist() == [1, 2, 4]
    assert Path(result.quarantine_path or "").read_bytes() == b'{"a": 3,}\n'
    (row,) = pq.read_table(result.errors_path).to_pylist()
    assert (row["line"], row["raw"], row["reason"]) == (3, b'{"a": 3,}', "invalid_json")


def test_error_position_after_the_first_chunk(in_dir: Path, out_dir: Path) -> None:
    src = write(in_dir, fat_lines() + b'{"id": -1, "pad": "x"\n', "late.jsonl")
    with pytest.raises(DecodeError) as e:
        logflow.convert(src, out_dir / "o.parquet")
    assert (e.value.line, e.value.record) == (LATE_LINE, LATE_LINE)
    assert e.value.offset == late_offset(src)


def test_invalid_json_after_the_records_array(in_dir: Path, out_dir: Path) -> None:
    src = write(in_dir, '{"items": [{"a": 1}], "more": [1, {"b": 2}]}')
    assert convert(src, out_dir / "o.parquet")[1].to_pylist() == [{"a": 1}]
    for doc in ('{"items": [{"a": 1}], "more": [1,}', '{"items": [{"a": 1}]} x', "[{}] [{}]"):
        src = write(in_dir, doc)
        with pytest.raises(DecodeError) as e:
            logflow.convert(src, out_dir / "o.parquet")
        assert e.value.line == 1


# ----------------------------------------------------------------------------------------
# read()


def test_read_keeps_the_schema_it_started_with(in_dir: Path) -> None:
    src = late_file(in_dir, [fat(-1, late="new")])
    stream = logflow.read(src)
    table = stream.read_all()
    assert table.column_names == ["id", "pad"]
    assert table.num_rows == FAT_ROWS
    assert (stream.rows_read, stream.rows_rejected, stream.rows_skipped) == (FAT_ROWS + 1, 1, 0)
    with pytest.raises(DecodeError) as e:
        logflow.read(src, error_policy="strict").read_all()
    assert (e.value.line, e.value.column) == (LATE_LINE, "/late")


def test_read_with_one_thread_gives_the_same_table(in_dir: Path) -> None:
    src = late_file(in_dir, [fat(-1), {"id": -2, "pad": "y"}])
    one = logflow.read(src, threads=1, batch_size=7).read_all()
    many = logflow.read(src).read_all()
    assert one.equals(many) and one.num_rows == FAT_ROWS + 2


def test_read_with_a_given_schema(in_dir: Path) -> None:
    src = write(in_dir, lines({"n": 1, "s": "x"}, {"n": 2, "s": "y"}), "in.jsonl")
    table = pa.table(logflow.read(src, schema={"n": "float64"}))
    assert table.schema.field("n").type == pa.float64()
    assert table.to_pylist() == [{"n": 1.0, "s": "x"}, {"n": 2.0, "s": "y"}]
    stream = logflow.read(
        write(in_dir, lines({"n": 1}, {"n": "x"}), "bad.jsonl"), schema={"n": "int64"}
    )
    assert stream.read_all().column("n").to_pylist() == [1]
    assert stream.rows_rejected == 1


def test_read_json_text_column(in_dir: Path) -> None:
    src = write(in_dir, lines({"v": 1}, {"v": {"a": [1, None]}}), "in.jsonl")
    table = logflow.read(src).read_all()
    assert is_json_text(table.schema.field("v"))
    assert [json.loads(v) for v in table.column("v").to_pylist()] == [1, {"a": [1, None]}]


# ----------------------------------------------------------------------------------------
# Compression, encodings, empty input

RECORDS = [{"a": "é", "b": 1}, {"a": "日本 🙂", "b": 2}]


def test_gzip_json_lines(in_dir: Path, out_dir: Path) -> None:
    for name in ("in.jsonl.gz", "in.bin"):
        src = write(in_dir, gzip.compress(lines(*RECORDS)), name)
        result, table = convert(src, out_dir / "o.parquet")
        assert (result.input_compression, result.format) == ("gzip", "jsonl")
        assert table.to_pylist() == RECORDS


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-16", "utf-16-le"), ("utf-16-le", "utf-16-le"), ("utf-16-be", "utf-16-be")],
)
def test_utf16_json(in_dir: Path, out_dir: Path, encoding: str, detected: str) -> None:
    for data, fmt in ((json.dumps(RECORDS), "json"), (lines(*RECORDS).decode(), "jsonl")):
        src = write(in_dir, data.encode(encoding), f"in.{fmt}")
        result, table = convert(src, out_dir / "o.parquet")
        assert (result.input_encoding, result.format) == (detected, fmt)
        assert table.to_pylist() == RECORDS


@pytest.mark.parametrize("data", [lines(*RECORDS), json.dumps(RECORDS).encode()])
def test_utf8_bom(in_dir: Path, out_dir: Path, data: bytes) -> None:
    src = write(in_dir, b"\xef\xbb\xbf" + data)
    result, table = convert(src, out_dir / "o.parquet")
    assert result.input_encoding == "utf-8-sig"
    assert table.to_pylist() == RECORDS


@pytest.mark.parametrize(
    "data", [b"", b" ", b"\n\n", b" \t\r\n ", b"\xef\xbb\xbf", b"\xef\xbb\xbf \n"]
)
@pytest.mark.parametrize("fmt", ["json", "jsonl", None])
def test_empty_input(
    in_dir: Path, out_dir: Path, list_dir: Any, data: bytes, fmt: str | None
) -> None:
    src = write(in_dir, data, "in.json")
    with pytest.raises(EmptyInputError):
        logflow.convert(src, out_dir / "o.parquet", format=fmt)
    assert list_dir(out_dir) == []
    with pytest.raises(EmptyInputError):
        logflow.read(src, format=fmt)


@pytest.mark.parametrize(
    ("data", "options"),
    [("[]", {}), (" [ ]\n", {"format": "json"}), ('{"items": []}', {"records_path": "items"})],
)
def test_an_empty_array_gives_no_rows(
    in_dir: Path, out_dir: Path, data: str, options: dict[str, Any]
) -> None:
    result, table = convert(write(in_dir, data), out_dir / "o.parquet", **options)
    assert (result.rows_read, result.rows_written, table.num_rows) == (0, 0, 0)


# ----------------------------------------------------------------------------------------
# Edge cases found by review; the strict xfails are known limitations of widening after
# the sample (see README, "Schema evolution")


@pytest.mark.parametrize("data", ["null", "[null]", "[null, null]", "null\nnull\n"])
def test_null_records(in_dir: Path, out_dir: Path, data: str) -> None:
    result, table = convert(write(in_dir, data), out_dir / "o.parquet")
    assert result.rows_written == data.count("null")
    assert table.column("value").to_pylist() == [None] * result.rows_written


@pytest.mark.parametrize("data", ["[1, {}]", '[{}, "x"]', "1\n{}\n"])
def test_an_empty_object_among_scalar_records(in_dir: Path, out_dir: Path, data: str) -> None:
    _, table = convert(write(in_dir, data), out_dir / "o.parquet")
    assert table.column_names == ["value"]
    expected = [json.loads(line) for line in data.strip("[]\n").replace(", ", "\n").split("\n")]
    assert [json.loads(v) for v in table.column("value").to_pylist()] == expected


@pytest.mark.parametrize(
    "records",
    [[{"a": {}}], [{"a": {}, "b": 1}, {"a": None, "b": 2}], [{"a": [{}]}], [{"a": {"b": {}}}]],
)
def test_empty_object_field(in_dir: Path, out_dir: Path, records: list[dict[str, Any]]) -> None:
    result, table = convert(write(in_dir, json.dumps(records)), out_dir / "o.parquet")
    assert result.rows_written == table.num_rows == len(records)
    assert "a" in table.column_names


CHILD = textwrap.dedent(
    """
    import sys
    import logflow
    from logflow.errors import LogflowError
    try:
        logflow.convert(sys.argv[1], sys.argv[2], format="json")
        print("converted")
    except LogflowError as e:
        print("logflow_error", type(e).__name__)
    """
)


@pytest.mark.parametrize(
    ("depth", "kind"),
    [
        (100, "arrays"),
        (100, "objects"),
        (300, "arrays"),
        (300, "objects"),
        (1000, "arrays"),
        (1000, "objects"),
    ],
)
def test_deep_nesting_converts_or_fails_cleanly(
    in_dir: Path, out_dir: Path, depth: int, kind: str
) -> None:
    """Nesting up to logflow's limit (512) converts or raises a LogflowError; deeper is an
    error. Run in a child process: a crash must fail this test, not the run."""
    doc = "[" * depth + "]" * depth if kind == "arrays" else '{"a":' * depth + "1" + "}" * depth
    src = write(in_dir, doc)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(src), str(out_dir / "o.parquet")],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[0] in (b"converted", b"logflow_error")


@pytest.mark.parametrize(
    "data",
    [
        '["\\ud800"]',
        '[{"a": 1}, {"a": 3, "b" 4}, {"a": 5}]',
        '{"a": 1}\n' + '{"a":' * 600 + "1" + "}" * 600 + "\n",
        '{"n": 1}\n{"n": {} 0}\n{"n": 2}\n',
        '{"n": 1}\n{"n": 1.5 0}\n{"n": 2}\n',
    ],
    ids=[
        "lone_surrogate",
        "syntax_after_new_key",
        "too_deep",
        "syntax_after_an_object_where_ints_are",
        "syntax_after_a_float_where_ints_are",
    ],
)
def test_invalid_records_are_invalid_json(in_dir: Path, out_dir: Path, data: str) -> None:
    result, _ = convert(write(in_dir, data), out_dir / "o.parquet", error_policy="permissive")
    assert result.errors_by_reason == {"invalid_json": 1}


@pytest.mark.parametrize("bad", ["0:", "1 2", '"x" y'])
def test_a_late_line_starting_with_a_scalar_is_invalid_json(
    in_dir: Path, out_dir: Path, bad: str
) -> None:
    src = write(in_dir, fat_lines() + bad.encode() + b"\n", "late.jsonl")
    result, table = convert(src, out_dir / "o.parquet", error_policy="permissive")
    assert table.num_rows == FAT_ROWS
    assert result.errors_by_reason == {"invalid_json": 1}


@pytest.mark.parametrize(
    "data",
    [
        '{"a": 1}\n{"a": 2}\n{\n',
        '{"a": 1}\n{"a": 2}\n{"a": 3,\n',
        '{"a": 1}\n{"a": 2}\n{"a":\n',
        '[{"a": 1},\n {"a": 2},\n {"a": 3,}\n]',
    ],
)
def test_a_cut_record_in_the_sample(in_dir: Path, out_dir: Path, data: str) -> None:
    src = write(in_dir, data, "in.jsonl")
    result, table = convert(src, out_dir / "o.parquet", error_policy="permissive")
    assert table.to_pylist() == [{"a": 1}, {"a": 2}]
    assert result.errors_by_reason == {"invalid_json": 1}
    with pytest.raises(DecodeError) as e:
        logflow.convert(src, out_dir / "o.parquet")
    assert e.value.line == 3


@pytest.mark.parametrize("bad", ["1 2", '"x" y', "true}", '1{"a": 0}'])
def test_a_bad_line_starting_with_a_scalar(in_dir: Path, out_dir: Path, bad: str) -> None:
    src = write(in_dir, f'{{"a": 1}}\n{bad}\n{{"a": 2}}\n', "in.jsonl")
    result, table = convert(src, out_dir / "o.parquet", error_policy="permissive")
    assert result.errors_by_reason == {"invalid_json": 1}
    assert table.to_pylist() == [{"a": 1}, {"a": 2}]


@pytest.mark.xfail(
    strict=True,
    reason="after a late widening to text, rows decoded before it are rendered from their "
    "typed value (1.50 -> '1.5', +01:00 -> 'Z'), not kept as written like the later rows",
)
@pytest.mark.parametrize("value", [1.5, "2024-01-02T10:00:00+01:00", "2024-01-02 10:00:00"])
def test_a_late_move_to_text_keeps_the_text_as_written(
    in_dir: Path, out_dir: Path, value: Any
) -> None:
    written = json.dumps(value).replace("1.5", "1.50").encode()
    data = fat_lines(v="@") + lines(fat(-1, v="text"))
    src = write(in_dir, data.replace(b'"@"', written), "late.jsonl")
    _, table = convert(src, out_dir / "o.parquet")
    expected = json.loads(written) if isinstance(value, str) else "1.50"
    assert set(table.column("v").to_pylist()[:FAT_ROWS]) == {expected}


@pytest.mark.xfail(
    strict=True,
    reason="a text column holding numbers or booleans (mixed with strings) that turns to "
    'JSON text after the sample renders them as JSON strings: 1 becomes "1"',
)
def test_a_late_move_to_json_text_keeps_numbers_and_booleans(in_dir: Path, out_dir: Path) -> None:
    # in the sample, v is text (numbers, booleans and strings) and w a list of text
    head = lines({"v": 1, "w": [False, 0]}, {"v": "x", "w": ["y"]}, {"v": True})
    late = lines({"v": {"o": 1}, "w": [{"o": 2}]})
    src = write(in_dir, head + fat_lines() + late, "late.jsonl")
    _, table = convert(src, out_dir / "o.parquet", schema_policy="evolve")
    v = [json.loads(x) for x in table.column("v").to_pylist() if x is not None]
    assert v == [1, "x", True, {"o": 1}]
    w = [[json.loads(x) for x in xs] for xs in table.column("w").to_pylist() if xs is not None]
    assert w == [[False, 0], ["y"], [{"o": 2}]]


@pytest.mark.parametrize(
    "values",
    [
        [10**38, 1],
        [5 * 10**40, 1],
        [123456789012345678901234567, 1e16],
        [2**63 + 1, 1.5e-7],
    ],
    ids=["10**38", "5e40", "wide_with_1e16", "wide_with_1.5e-7"],
)
def test_wide_integers_keep_their_value(in_dir: Path, out_dir: Path, values: list[Any]) -> None:
    src = write(in_dir, lines(*({"n": v} for v in values)), "in.jsonl")
    _, table = convert(src, out_dir / "o.parquet")
    got = table.column("n").to_pylist()
    assert type(got[0]) is not float
    assert int(got[0]) == values[0]


@pytest.mark.xfail(
    strict=True,
    reason="after a late move to JSON text, objects decoded before it are rendered from "
    'their struct with the struct\'s other fields as null keys ({"a":1} -> '
    '{"a":1,"b":null})',
)
def test_a_late_move_to_json_text_keeps_objects_as_written(in_dir: Path, out_dir: Path) -> None:
    head = lines({"v": {"a": 1}}, {"v": {"b": 2}}, {"v": None})
    src = write(in_dir, head + fat_lines() + lines({"v": 5}), "late.jsonl")
    _, table = convert(src, out_dir / "o.parquet", schema_policy="evolve")
    v = [json.loads(x) for x in table.column("v").to_pylist() if x is not None]
    assert v == [{"a": 1}, {"b": 2}, 5]


@pytest.mark.parametrize("name", ["one.jsonl", "one.ndjson", "one.jsonl.gz"])
def test_one_record_json_lines(in_dir: Path, out_dir: Path, name: str) -> None:
    record = {"id": 1, "events": [{"k": 1}, {"k": 2}]}
    data = lines(record)
    src = write(in_dir, gzip.compress(data) if name.endswith(".gz") else data, name)
    result, table = convert(src, out_dir / "o.parquet")
    assert result.format == "jsonl"
    assert table.to_pylist() == [record]


@pytest.mark.parametrize("late", ["5", "[1]", '"x"', "0:"])
def test_a_late_record_that_is_not_an_object(in_dir: Path, out_dir: Path, late: str) -> None:
    src = write(in_dir, fat_lines() + late.encode() + b"\n", "late.jsonl")
    result, table = convert(src, out_dir / "o.parquet", error_policy="permissive")
    assert table.column_names == ["id", "pad"]
    assert (result.rows_written, result.rows_skipped) == (FAT_ROWS, 1)
