"""Types given by the caller, and what read() does with bad rows by default."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import logflow
from logflow.errors import ConfigError, DecodeError, SchemaError

TEXT = "zip,n,day\n01234,1,2024-05-01\n98765,2,2024-05-02\n00042,3,2024-05-03\n"


@pytest.fixture
def src(tmp_path: Path) -> Path:
    p = tmp_path / "t.csv"
    p.write_text(TEXT)
    return p


def test_schema_mapping_overrides_some_columns(src: Path, tmp_path: Path) -> None:
    r = logflow.convert(src, tmp_path / "o.parquet", schema={"zip": "string", "n": pa.float64()})
    assert r.schema.types == [pa.string(), pa.float64(), pa.date32()]
    t = pq.read_table(tmp_path / "o.parquet")
    assert t.column("zip").to_pylist() == ["01234", "98765", "00042"]
    assert t.column("n").to_pylist() == [1.0, 2.0, 3.0]


def test_schema_as_pyarrow_schema_on_read(src: Path) -> None:
    want = pa.schema([("zip", pa.string()), ("day", pa.timestamp("us"))])
    t = logflow.read(src, schema=want).read_all()
    assert t.schema.field("zip").type == pa.string()
    assert t.schema.field("day").type == pa.timestamp("us")
    assert t.schema.field("n").type == pa.int64()


def test_schema_unknown_column_names_the_columns(src: Path, tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match=r'"zip", "n", "day"'):
        logflow.convert(src, tmp_path / "o.parquet", schema={"zipcode": "string"})
    assert not (tmp_path / "o.parquet").exists()


def test_schema_unknown_type_is_a_config_error(src: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="logflow reads int64"):
        logflow.convert(src, tmp_path / "o.parquet", schema={"n": "list<item: int64>"})
    with pytest.raises(ConfigError, match="decimal128"):
        logflow.convert(src, tmp_path / "o.parquet", schema={"n": "decimal128(2, 5)"})


def test_schema_the_data_contradicts_is_a_decode_error(src: Path, tmp_path: Path) -> None:
    with pytest.raises(DecodeError) as info:
        logflow.convert(src, tmp_path / "o.parquet", schema={"day": "int64"})
    assert info.value.column == "day"
    r = logflow.convert(
        src, tmp_path / "o.parquet", schema={"day": "int64"}, error_policy="permissive"
    )
    assert r.rows_written == 0 and r.errors_by_reason == {"cast_error": 3}


def test_read_drops_bad_rows_by_default_and_counts_them(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("a,b\n1,2\n3,4,5\n6,7\n8\n9,10\n")
    s = logflow.read(p)
    t = s.read_all()
    assert t.column("a").to_pylist() == [1, 6, 9]
    assert (s.rows_read, s.rows_rejected, s.rows_skipped) == (5, 2, 0)
    assert s.rows_read == t.num_rows + s.rows_rejected + s.rows_skipped
    with pytest.raises(DecodeError):
        logflow.read(p, error_policy="strict").read_all()


def test_dialect_from_detect_is_reused(tmp_path: Path) -> None:
    p = tmp_path / "semi.csv"
    p.write_text("Report\n\na;b\n1;x\n2;y\n3;z\n")
    d = logflow.detect(p).dialect
    assert d is not None and (d.delimiter, d.skip_lines) == (";", 2)
    t = logflow.read(p, dialect=d, error_policy="strict").read_all()
    assert t.column_names == ["a", "b"] and t.num_rows == 3
    r = logflow.convert(p, tmp_path / "o.parquet", dialect={"delimiter": ";", "skip_lines": 2})
    assert r.rows_written == 3


def test_dialect_contradicted_by_an_option_is_a_config_error(tmp_path: Path) -> None:
    p = tmp_path / "semi.csv"
    p.write_text("a;b\n1;x\n")
    with pytest.raises(ConfigError, match="contradicts"):
        logflow.convert(p, tmp_path / "o.parquet", delimiter=",", dialect={"delimiter": ";"})
    with pytest.raises(ConfigError, match="unknown keys"):
        logflow.read(p, dialect={"sep": ";"})
    # The same value twice is fine.
    t = logflow.read(p, delimiter=";", dialect={"delimiter": ";"}).read_all()
    assert t.num_rows == 1


def test_spaces_after_delimiters_are_detected_as_padding(tmp_path: Path) -> None:
    p = tmp_path / "padded.csv"
    rows = [
        '28/01/2018, 00:00, MG-8769, 74.69, "Boots, waterproof"',
        "29/01/2018, 00:15, RI-3895, 29.81, Light jacket",
        '30/01/2018, 00:30, RI-8070, 80.08, "Shoes, ""ventilated"""',
        "31/01/2018, 00:45, RI-9546, 25.55, Rods",
    ]
    p.write_text("DATE, TIME, PRODUCTID, Price, Description\n" + "\n".join(rows) + "\n")
    d = logflow.detect(p).dialect
    assert d is not None and (d.delimiter, d.skip_initial_space) == (",", True)
    t = logflow.read(p, error_policy="strict").read_all()
    assert t.column_names == ["DATE", "TIME", "PRODUCTID", "Price", "Description"]
    assert t.column("Description").to_pylist() == [
        "Boots, waterproof",
        "Light jacket",
        'Shoes, "ventilated"',
        "Rods",
    ]
    assert t.column("Price").type == pa.float64()
    # Given as false, the spaces are data: the quoted commas then split fields.
    kept = logflow.read(p, dialect={"skip_initial_space": False}).read_all()
    assert kept.num_rows == 2  # the rows whose quoted value holds a comma are bad rows
    assert kept.column("PRODUCTID").to_pylist() == [" RI-3895", " RI-9546"]
    # A file without padding is not read as padded.
    plain = tmp_path / "plain.csv"
    plain.write_text("a,b\n1, x\n2,y\n3,z\n4,w\n5,v\n6,u\n7,t\n8,s\n9,r\n")
    assert logflow.detect(plain).dialect.skip_initial_space is False
    assert logflow.read(plain).read_all().column("b").to_pylist()[0] == " x"


def test_section_sign_delimiter_is_detected_and_can_be_given(tmp_path: Path) -> None:
    # § is two bytes in UTF-8; "ç" shares its second byte and must not split.
    p = tmp_path / "section.csv"
    p.write_text('id§name§amount\n1§ça va§1.5\n2§"Bob § Jr"§2.25\n3§Çé§3\n', encoding="utf-8")
    d = logflow.detect(p).dialect
    assert d is not None and d.delimiter == "§"
    t = logflow.read(p, error_policy="strict").read_all()
    assert t.column("name").to_pylist() == ["ça va", "Bob § Jr", "Çé"]
    assert t.column("amount").type == pa.float64()
    r = logflow.convert(p, tmp_path / "o.parquet", dialect=d)
    assert r.rows_written == 3
    given = logflow.read(p, delimiter="§", error_policy="strict").read_all()
    assert given.equals(t)
    with pytest.raises(ConfigError, match="delimiter"):
        logflow.read(p, delimiter="§§")


def test_decimals_where_a_float64_would_change_the_numbers(tmp_path: Path) -> None:
    from decimal import Decimal

    p = tmp_path / "dec.csv"
    p.write_text(
        "id,amount,price\n"
        "12345678901234567890,1234567890123456.25,1.5\n"
        "7,-0.125,0.30000000000000004\n"
        ",42,\n"
    )
    r = logflow.convert(p, tmp_path / "o.parquet")
    assert r.schema.types == [pa.decimal128(20, 0), pa.decimal128(19, 3), pa.float64()]
    t = pq.read_table(tmp_path / "o.parquet")
    assert t.column("id").to_pylist() == [Decimal("12345678901234567890"), Decimal(7), None]
    assert t.column("amount").to_pylist()[0] == Decimal("1234567890123456.250")
    # Given: values with more digits after the point than the scale are bad rows.
    p.write_text("id,x\n1,1.25\n2,1.255\n")
    r = logflow.convert(
        p, tmp_path / "g.parquet", schema={"x": "decimal128(5, 2)"}, error_policy="quarantine"
    )
    assert (r.rows_written, r.errors_by_reason) == (1, {"cast_error": 1})
