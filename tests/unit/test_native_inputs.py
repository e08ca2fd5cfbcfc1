"""Binary inputs: Parquet, Avro, Arrow IPC, ORC. Fixtures are written at test time."""

from __future__ import annotations

import datetime as dt
import decimal
import gzip
import io
import json
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pyarrow.orc as orc
import pyarrow.parquet as pq
import pytest

import logflow
from logflow.errors import ConfigError, DecodeError, SchemaError, UnsupportedFormatError

fastavro = pytest.importorskip("fastavro")

UTC = dt.UTC


def _table(n: int = 3000) -> pa.Table:
    """Columns of most kinds, with nulls."""
    ids = list(range(n))
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "small": pa.array([i % 100 if i % 7 else None for i in ids], pa.int32()),
            "name": pa.array([f"n{i % 37}" if i % 11 else None for i in ids]),
            "score": pa.array([i / 8 for i in ids], pa.float64()),
            "ok": pa.array([i % 3 == 0 for i in ids]),
            "day": pa.array([dt.date(2024, 1, 1) + dt.timedelta(days=i % 400) for i in ids]),
            "at": pa.array(
                [dt.datetime(2024, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=i) for i in ids],
                pa.timestamp("us", tz="UTC"),
            ),
            "amount": pa.array([decimal.Decimal(i) / 100 for i in ids], pa.decimal128(12, 2)),
            "tags": pa.array([[f"t{i % 3}"] * (i % 3) for i in ids], pa.list_(pa.string())),
            "user": pa.array(
                [{"uid": i, "country": ["DE", "FR"][i % 2]} for i in ids],
                pa.struct([("uid", pa.int64()), ("country", pa.string())]),
            ),
            "kind": pa.array([["a", "b", "c"][i % 3] for i in ids]).dictionary_encode(),
        }
    )


def _round_trip(tmp_path: Path, src: Path, **kw: object) -> pa.Table:
    dst = tmp_path / f"{src.name}.out.parquet"
    result = logflow.convert(src, dst, **kw)
    table = pq.read_table(dst)
    assert result.rows_written == table.num_rows == result.rows_read
    return table


# ----------------------------------------------------------------------------- Parquet


@pytest.mark.parametrize("codec", ["snappy", "gzip", "brotli", "lz4", "zstd", "none"])
def test_parquet_every_codec_round_trips(tmp_path, codec):
    t = _table()
    src = tmp_path / f"in-{codec}.parquet"
    pq.write_table(t, src, compression=codec, row_group_size=700)
    out = _round_trip(tmp_path, src)
    assert out.equals(t), out.schema
    assert pa.table(logflow.read(src)).equals(t)


def test_parquet_encodings_and_page_versions_round_trip(tmp_path):
    t = _table(5000)
    src = tmp_path / "enc.parquet"
    pq.write_table(
        t,
        src,
        use_dictionary=False,
        data_page_version="2.0",
        column_encoding={"id": "DELTA_BINARY_PACKED", "name": "DELTA_BYTE_ARRAY"},
        row_group_size=1000,
    )
    assert _round_trip(tmp_path, src).equals(t)


def test_parquet_columns_are_projected_in_the_order_given(tmp_path):
    t = _table(100)
    src = tmp_path / "p.parquet"
    pq.write_table(t, src)
    out = _round_trip(tmp_path, src, columns=["score", "id"])
    assert out.column_names == ["score", "id"]
    assert out.column("id").to_pylist() == t.column("id").to_pylist()
    nested = pa.table(logflow.read(src, columns=["user.country"]))
    assert nested.schema.field("user").type == pa.struct([("country", pa.string())])
    with pytest.raises(ConfigError, match="nope"):
        logflow.convert(src, tmp_path / "x.parquet", columns=["nope"])


def test_parquet_reencodes_with_the_writer_options(tmp_path):
    t = _table(20_000)
    src = tmp_path / "big.parquet"
    pq.write_table(t, src, row_group_size=5000, compression="snappy")
    dst = tmp_path / "re.parquet"
    r = logflow.convert(src, dst, compression="gzip", row_group_size=3000, threads=2)
    meta = pq.ParquetFile(dst).metadata
    assert meta.num_row_groups == 7
    assert meta.row_group(0).column(0).compression == "GZIP"
    assert r.format == "parquet" and r.bytes_read > 0
    assert pq.read_table(dst).equals(t)
    part = tmp_path / "parts"
    logflow.convert(src, part, partition_by="ok")
    back = pq.read_table(part, partitioning="hive").sort_by("id")
    assert back.column("id").to_pylist() == t.column("id").to_pylist()


@pytest.mark.parametrize("threads", [1, 3])
def test_parquet_read_streams_in_order(tmp_path, threads):
    t = _table(10_000)
    src = tmp_path / "s.parquet"
    pq.write_table(t, src, row_group_size=999)
    s = logflow.read(src, threads=threads, batch_size=250)
    batches = list(s)
    assert max(b.num_rows for b in batches) <= 250
    assert pa.Table.from_batches(batches).equals(t)
    assert s.rows_read == 10_000


def test_parquet_schema_casts_with_the_error_policy(tmp_path):
    src = tmp_path / "c.parquet"
    pq.write_table(
        pa.table({"n": ["1", " 2 ", "x", None, "4"], "f": [1.0, 2.5, 3.0, 4.0, 5.0]}), src
    )
    with pytest.raises(DecodeError) as e:
        logflow.convert(src, tmp_path / "o.parquet", schema={"n": "int64"})
    assert e.value.column == "n" and e.value.record == 3
    r = logflow.convert(
        src, tmp_path / "q.parquet", schema={"n": "int64"}, error_policy="quarantine"
    )
    assert (r.rows_read, r.rows_written, r.rows_quarantined) == (5, 4, 1)
    assert r.errors_by_reason == {"cast_error": 1}
    line = Path(r.quarantine_path).read_text()
    assert json.loads(line) == {"n": "x", "f": 3.0}
    assert pq.read_table(tmp_path / "q.parquet").column("n").to_pylist() == [1, 2, None, 4]
    r = logflow.convert(src, tmp_path / "z.parquet", schema={"f": "int64"}, on_cast_error="null")
    assert r.values_nulled == 1
    assert pq.read_table(tmp_path / "z.parquet").column("f").to_pylist() == [1, None, 3, 4, 5]
    with pytest.raises(SchemaError):
        logflow.convert(src, tmp_path / "m.parquet", schema={"missing": "int64"})


def test_parquet_damage_and_compression_are_typed_errors(tmp_path):
    src = tmp_path / "ok.parquet"
    pq.write_table(_table(500), src)
    data = src.read_bytes()
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DecodeError):
        logflow.convert(cut, tmp_path / "o.parquet")
    gz = tmp_path / "ok.parquet.gz"
    gz.write_bytes(gzip.compress(data))
    with pytest.raises(UnsupportedFormatError, match="decompress it first"):
        logflow.convert(gz, tmp_path / "o.parquet")
    with pytest.raises(ConfigError, match="delimiter"):
        logflow.convert(src, tmp_path / "o.parquet", delimiter=";")
    with pytest.raises(ConfigError, match="sheet"):
        logflow.convert(src, tmp_path / "o.parquet", sheet=0)
    csv = tmp_path / "t.csv"
    csv.write_text("a,b\n1,2\n")
    with pytest.raises(ConfigError, match="columns"):
        logflow.read(csv, columns=["a"])


def test_detect_names_binary_formats_and_their_schema(tmp_path):
    t = _table(10)
    pq.write_table(t, tmp_path / "a.parquet")
    feather.write_feather(t, tmp_path / "a.arrow")
    with ipc.new_stream(tmp_path / "a.arrows", t.schema) as w:
        w.write_table(t)
    for name, fmt in [("a.parquet", "parquet"), ("a.arrow", "arrow"), ("a.arrows", "arrow-stream")]:
        d = logflow.detect(tmp_path / name)
        assert d.format.value == fmt
        assert d.schema is not None and d.schema.names == t.column_names


# ----------------------------------------------------------------------------- Arrow IPC


@pytest.mark.parametrize("compression", [None, "lz4", "zstd"])
def test_arrow_ipc_file_and_stream_round_trip(tmp_path, compression):
    t = _table(4000)
    f = tmp_path / "t.arrow"
    feather.write_feather(t, f, compression=compression or "uncompressed", chunksize=1500)
    s = tmp_path / "t.arrows"
    options = ipc.IpcWriteOptions(compression=compression)
    with ipc.new_stream(s, t.schema, options=options) as w:
        w.write_table(t, max_chunksize=1500)
    for src in (f, s):
        assert _round_trip(tmp_path, src).equals(t)
        assert pa.table(logflow.read(src, batch_size=1000)).equals(t)


def test_arrow_ipc_union_is_kept_by_read_and_a_struct_in_parquet(tmp_path):
    u = pa.UnionArray.from_sparse(
        pa.array([0, 1, 0], pa.int8()),
        [pa.array([1, 2, 3]), pa.array(["a", "b", "c"])],
        field_names=["i", "s"],
    )
    t = pa.table({"u": u})
    src = tmp_path / "u.arrow"
    feather.write_feather(t, src, compression="uncompressed")
    assert pa.table(logflow.read(src)).equals(t)
    out = _round_trip(tmp_path, src)
    assert out.column("u").to_pylist() == [
        {"i": 1, "s": None},
        {"i": None, "s": "b"},
        {"i": 3, "s": None},
    ]


def test_arrow_ipc_damage_is_a_decode_error(tmp_path):
    src = tmp_path / "d.arrows"
    with ipc.new_stream(src, _table(100).schema) as w:
        w.write_table(_table(100))
    data = bytearray(src.read_bytes())
    (tmp_path / "cut.arrows").write_bytes(bytes(data[: len(data) - 300]))
    with pytest.raises(DecodeError):
        logflow.convert(tmp_path / "cut.arrows", tmp_path / "o.parquet")


# ----------------------------------------------------------------------------- ORC


def test_orc_round_trips_through_pyarrow(tmp_path):
    t = _table(3000).drop_columns(["kind", "amount"])
    src = tmp_path / "t.orc"
    orc.write_table(t, src, stripe_size=64 * 1024, compression="zstd")
    r = logflow.convert(src, tmp_path / "o.parquet")
    assert r.format == "orc" and r.bytes_read == src.stat().st_size
    back = pq.read_table(tmp_path / "o.parquet")
    assert back.equals(orc.read_table(src))
    streamed = pa.table(logflow.read(src, columns=["score", "id"]))
    assert streamed.column_names == ["score", "id"]
    assert streamed.column("id").to_pylist() == t.column("id").to_pylist()
    with pytest.raises(ConfigError, match="nope"):
        logflow.read(src, columns=["nope"])
    d = logflow.detect(src)
    assert d.format.value == "orc" and d.schema.names == t.column_names
    bad = tmp_path / "bad.orc"
    bad.write_bytes(src.read_bytes()[:200])
    with pytest.raises(DecodeError):
        logflow.convert(bad, tmp_path / "b.parquet")


# ----------------------------------------------------------------------------- Avro

AVRO_SCHEMA = {
    "type": "record",
    "name": "Event",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "i", "type": "int"},
        {"name": "f", "type": "float"},
        {"name": "d", "type": "double"},
        {"name": "b", "type": "boolean"},
        {"name": "s", "type": ["null", "string"]},
        {"name": "raw", "type": "bytes"},
        {"name": "fx", "type": {"type": "fixed", "name": "F4", "size": 4}},
        {"name": "e", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "tm", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "tu", "type": {"type": "long", "logicalType": "time-micros"}},
        {"name": "ts_ms", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "ts_us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {
            "name": "dec",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2},
        },
        {"name": "u", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "arr", "type": {"type": "array", "items": "long"}},
        {"name": "m", "type": {"type": "map", "values": "string"}},
        {
            "name": "rec",
            "type": [
                "null",
                {"type": "record", "name": "R", "fields": [{"name": "x", "type": "int"}]},
            ],
        },
    ],
}


def _avro_records(n: int) -> list[dict[str, object]]:
    base = dt.datetime(2024, 5, 1, tzinfo=UTC)
    return [
        {
            "id": i,
            "i": i % 1000,
            "f": i / 4,
            "d": i / 3,
            "b": i % 2 == 0,
            "s": None if i % 5 == 0 else f"s{i}",
            "raw": bytes([i % 256]),
            "fx": b"abcd",
            "e": ["RED", "GREEN"][i % 2],
            "day": dt.date(2024, 1, 1) + dt.timedelta(days=i % 300),
            "tm": dt.time(10, 30, i % 60),
            "tu": dt.time(1, 2, 3, i % 1000),
            "ts_ms": base + dt.timedelta(milliseconds=i),
            "ts_us": base + dt.timedelta(microseconds=i),
            "dec": decimal.Decimal(i) / 100,
            "u": uuid.UUID(int=i),
            "arr": list(range(i % 4)),
            "m": {"k": str(i)},
            "rec": None if i % 3 else {"x": i},
        }
        for i in range(n)
    ]


def _codecs() -> list[str]:
    """The codecs fastavro can write here (snappy and zstandard need extra libraries)."""
    out = []
    for codec in ["null", "deflate", "bzip2", "xz", "snappy", "zstandard"]:
        try:
            fastavro.writer(io.BytesIO(), {"type": "long"}, [1], codec=codec)
            out.append(codec)
        except ValueError:
            pass
    return out


@pytest.mark.parametrize("codec", _codecs())
def test_avro_types_and_codecs_match_fastavro(tmp_path, codec):
    records = _avro_records(5000)
    src = tmp_path / f"t-{codec}.avro"
    with open(src, "wb") as f:
        fastavro.writer(
            f, fastavro.parse_schema(AVRO_SCHEMA), records, codec=codec, sync_interval=4000
        )
    with open(src, "rb") as f:
        expected = list(fastavro.reader(f))
    table = pa.table(logflow.read(src, batch_size=700))
    got = table.to_pylist()
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        e = dict(e)
        e["u"] = str(e["u"])
        e["m"] = list(e["m"].items())
        assert g == e
    types = dict(zip(table.schema.names, table.schema.types, strict=True))
    assert types["day"] == pa.date32()
    assert types["ts_ms"] == pa.timestamp("ms", tz="UTC")
    assert types["dec"] == pa.decimal128(10, 2)
    assert types["u"] == pa.string()
    out = _round_trip(tmp_path, src)
    assert out.num_rows == 5000 and out.column("id").to_pylist() == list(range(5000))


def test_avro_damaged_block_is_named(tmp_path):
    src = tmp_path / "t.avro"
    with open(src, "wb") as f:
        fastavro.writer(
            f,
            fastavro.parse_schema(AVRO_SCHEMA),
            _avro_records(3000),
            codec="deflate",
            sync_interval=2000,
        )
    data = bytearray(src.read_bytes())
    # Damage the middle of the file: inside some block's compressed records.
    mid = len(data) // 2
    data[mid : mid + 40] = bytes(40)
    bad = tmp_path / "bad.avro"
    bad.write_bytes(bytes(data))
    with pytest.raises(DecodeError, match=r"Avro block \d+ \(at byte \d+\)"):
        logflow.convert(bad, tmp_path / "o.parquet")
    with pytest.raises(DecodeError, match="Avro block"):
        logflow.read(bad, error_policy="strict").read_all()
    cut = tmp_path / "cut.avro"
    cut.write_bytes(bytes(src.read_bytes()[:-10]))
    with pytest.raises(DecodeError, match="Avro block"):
        logflow.convert(cut, tmp_path / "c.parquet")


def test_avro_general_union_is_a_struct_in_parquet(tmp_path):
    schema = {
        "type": "record",
        "name": "U",
        "fields": [{"name": "v", "type": ["null", "long", "string"]}],
    }
    src = tmp_path / "u.avro"
    with open(src, "wb") as f:
        fastavro.writer(f, schema, [{"v": 1}, {"v": "a"}, {"v": None}])
    out = _round_trip(tmp_path, src)
    rows = out.column("v").to_pylist()
    assert rows[0]["long"] == 1 and rows[1]["string"] == "a"
