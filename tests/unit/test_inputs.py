"""Compressed and non-UTF-8 inputs: decompressed and transcoded as they stream."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import logflow
from logflow.errors import DecodeError, LimitExceededError, UnsupportedFormatError

TEXT = "id,name,city,amount\n" + "".join(
    f"{i},José Müller {i},Göteborg,{i * 1.5}\n" for i in range(3000)
)


def _expected() -> pa.Table:
    return pa.table(
        {
            "id": pa.array(range(3000), pa.int64()),
            "name": [f"José Müller {i}" for i in range(3000)],
            "city": ["Göteborg"] * 3000,
            "amount": [i * 1.5 for i in range(3000)],
        }
    )


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


COMPRESSORS = {
    "gzip": (".csv.gz", gzip.compress),
    "bzip2": (".csv.bz2", bz2.compress),
    "xz": (".csv.xz", lzma.compress),
    "zstd": (".csv.zst", lambda b: pa.compress(b, "zstd", asbytes=True)),
}


@pytest.mark.parametrize("name", sorted(COMPRESSORS))
def test_compressed_input_converts_like_plain(tmp_path: Path, name: str) -> None:
    suffix, compress = COMPRESSORS[name]
    raw = TEXT.encode()
    src = tmp_path / f"t{suffix}"
    src.write_bytes(compress(raw))
    r = logflow.convert(src, tmp_path / "t.parquet")
    assert r.input_compression == name
    assert r.rows_written == 3000
    assert r.bytes_read == src.stat().st_size
    assert pq.read_table(tmp_path / "t.parquet").equals(_expected())
    # read() streams the same table.
    assert pa.table(logflow.read(src)).equals(_expected())


def test_zip_with_one_member(tmp_path: Path) -> None:
    src = _zip(tmp_path / "t.zip", {"data/t.csv": TEXT.encode()})
    r = logflow.convert(src, tmp_path / "t.parquet")
    assert r.input_compression == "zip"
    assert pq.read_table(tmp_path / "t.parquet").equals(_expected())


def test_zip_with_several_members_is_read_member_by_member(tmp_path: Path) -> None:
    # Each member is a source of its own (tests/unit/test_sources.py has the details);
    # their columns merge.
    src = _zip(tmp_path / "t.zip", {"a.csv": b"a\n1\n", "b.csv": b"b\n2\n"})
    r = logflow.convert(src, tmp_path / "t.parquet")
    assert [s.path for s in r.sources] == [f"{src}/a.csv", f"{src}/b.csv"]
    assert pq.read_table(tmp_path / "t.parquet").to_pylist() == [
        {"a": 1, "b": None},
        {"a": None, "b": 2},
    ]


def test_truncated_gzip_is_a_decode_error(tmp_path: Path) -> None:
    data = gzip.compress(TEXT.encode() * 20)
    src = tmp_path / "cut.csv.gz"
    src.write_bytes(data[: len(data) // 2])
    with pytest.raises(DecodeError, match="corrupt gzip data") as e:
        logflow.convert(src, tmp_path / "t.parquet")
    assert e.value.path == str(src)
    assert not (tmp_path / "t.parquet").exists()


def test_quarantine_of_compressed_input_is_plain_text(tmp_path: Path) -> None:
    text = "a,b\n1,2\n3,4,5\n6,7\n"
    src = tmp_path / "t.csv.gz"
    src.write_bytes(gzip.compress(text.encode()))
    r = logflow.convert(src, tmp_path / "t.parquet", error_policy="quarantine")
    assert r.rows_quarantined == 1
    assert r.quarantine_path is not None
    assert r.quarantine_path.endswith("t.quarantine.csv")
    assert Path(r.quarantine_path).read_bytes() == b"a,b\n3,4,5\n"


ENCODINGS = ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "windows-1252", "utf-8-sig"]


@pytest.mark.parametrize("codec", ENCODINGS)
def test_unicode_and_latin_encodings_round_trip(tmp_path: Path, codec: str) -> None:
    src = tmp_path / "t.csv"
    src.write_bytes(TEXT.encode(codec))
    r = logflow.convert(src, tmp_path / "t.parquet")
    assert r.rows_written == 3000
    assert pq.read_table(tmp_path / "t.parquet").equals(_expected())


@pytest.mark.parametrize(
    ("codec", "sample"),
    [
        ("shift_jis", "東京都新宿区の山田太郎"),
        ("gb18030", "北京市海淀区中关村大街"),
        ("euc-kr", "서울특별시 강남구 테헤란로"),
        ("windows-1251", "Пётр Ильич Чайковский"),
    ],
)
def test_legacy_cjk_and_cyrillic_encodings(tmp_path: Path, codec: str, sample: str) -> None:
    text = "id,text\n" + "".join(f"{i},{sample} {i}\n" for i in range(500))
    src = tmp_path / "t.csv"
    src.write_bytes(text.encode(codec))
    r = logflow.convert(src, tmp_path / "t.parquet")
    assert r.input_encoding == codec.replace("_", "_").lower()
    got = pq.read_table(tmp_path / "t.parquet").column("text").to_pylist()
    assert got == [f"{sample} {i}" for i in range(500)]


@pytest.mark.parametrize(
    ("codec", "sample", "detected"),
    [
        ("utf-16-le", "Zoë,東京", "utf-16-le"),
        ("utf-16-be", "Zoë,東京", "utf-16-be"),
        ("utf-32-le", "Zoë,東京", "utf-32-le"),
        ("utf-32-be", "Zoë,東京", "utf-32-be"),
        ("iso-8859-2", "Łódź,Gdańsk żółć", "iso-8859-2"),
        ("iso-8859-5", "Пётр,Москва", "iso-8859-5"),
        # ISO-8859-7 and windows-1253 agree on every letter used here.
        ("iso-8859-7", "Αθήνα,Θεσσαλονίκη", "windows-1253"),
        ("windows-1252", "Zoë,“quoted” café", "windows-1252"),
        # Latin-9 puts € where Latin-1 has ¤, and adds Œ œ Š š Ÿ.
        ("iso-8859-15", "Bœuf à 5 €,Œuvre", "iso-8859-15"),
    ],
)
def test_bomless_encodings_are_detected_and_round_trip(
    tmp_path: Path, codec: str, sample: str, detected: str
) -> None:
    # No byte order mark: UTF-16/32 are told by their zero bytes, the others by their text.
    first, second = sample.split(",")
    text = "id,a,b\n" + "".join(f"{i},{first} {i},{second}\n" for i in range(200))
    src = tmp_path / "t.csv"
    src.write_bytes(text.encode(codec))
    r = logflow.convert(src, tmp_path / "t.parquet")
    assert r.input_encoding == detected
    t = pq.read_table(tmp_path / "t.parquet")
    assert t.column("a").to_pylist() == [f"{first} {i}" for i in range(200)]
    assert t.column("b").to_pylist() == [second] * 200


def test_encoding_can_be_given(tmp_path: Path) -> None:
    # Two accented rows in a thousand: too little evidence to detect latin-1, so read as
    # UTF-8 they are bad rows; named by the caller, they decode.
    rows = [f"{i},plain {i}" for i in range(1000)]
    rows[10] = "10,café"
    rows[700] = "700,naïve"
    src = tmp_path / "t.csv"
    src.write_bytes(("id,word\n" + "\n".join(rows) + "\n").encode("latin-1"))
    r = logflow.convert(src, tmp_path / "a.parquet", error_policy="permissive")
    assert r.errors_by_reason == {"invalid_utf8": 2}
    r = logflow.convert(src, tmp_path / "b.parquet", encoding="latin-1")
    assert r.input_encoding == "windows-1252"
    words = pq.read_table(tmp_path / "b.parquet").column("word").to_pylist()
    assert words[10] == "café" and words[700] == "naïve"


def test_unknown_encoding_name_is_a_config_error(tmp_path: Path) -> None:
    src = tmp_path / "t.csv"
    src.write_text("a\n1\n")
    with pytest.raises(logflow.errors.ConfigError, match="unknown encoding"):
        logflow.convert(src, tmp_path / "t.parquet", encoding="klingon")


def test_parquet_named_csv_is_read_by_its_bytes(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": [1, 2]}), tmp_path / "x.parquet")
    src = tmp_path / "x.csv"
    src.write_bytes((tmp_path / "x.parquet").read_bytes())
    r = logflow.convert(src, tmp_path / "out.parquet")
    assert r.format == "parquet"
    assert pq.read_table(tmp_path / "out.parquet").column("a").to_pylist() == [1, 2]


def test_binary_data_without_magic_bytes_is_refused(tmp_path: Path) -> None:
    # Read as text it would give a table whose column names hold NUL bytes.
    src = tmp_path / "blob.csv"
    src.write_bytes(bytes([1, 0, 0, 4]) + bytes(range(256)) * 4)
    with pytest.raises(UnsupportedFormatError, match="binary data"):
        logflow.convert(src, tmp_path / "out.parquet")
    with pytest.raises(UnsupportedFormatError, match="binary data"):
        logflow.read(src)
    assert logflow.detect(src).format.value == "binary"


def test_terminal_colours_in_text_are_not_binary(tmp_path: Path) -> None:
    rows = [f"{i},\x1b[32mINFO\x1b[0m,ok {i}" for i in range(200)]
    src = tmp_path / "log.csv"
    src.write_text("n,level,msg\n" + "\n".join(rows) + "\n")
    t = pa.table(logflow.read(src))
    assert t.num_rows == 200 and t.column("level")[0].as_py() == "\x1b[32mINFO\x1b[0m"
    # Detection applies the same rule: what convert reads is reported as text.
    assert logflow.detect(src).format.value == "csv"


def test_a_stray_nul_byte_in_text_is_data(tmp_path: Path) -> None:
    rows = [f"{i},text {i}" for i in range(2000)]
    rows[5] = "5,te\0xt"
    src = tmp_path / "t.csv"
    src.write_bytes(("i\0d,name\n" + "\n".join(rows) + "\n").encode())
    t = pa.table(logflow.read(src))
    assert t.column_names == ["i\ufffdd", "name"]
    assert t.num_rows == 2000 and t.column("name")[5].as_py() == "te\0xt"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ('{"a": 1}\n{"a": 2}\n', "jsonl"),
        ('[{"a": 1},\n {"a": 2}]\n', "json"),
    ],
)
def test_json_text_is_read_as_json_whatever_the_file_is_called(
    tmp_path: Path, text: str, name: str
) -> None:
    src = tmp_path / "x.csv.gz"
    src.write_bytes(gzip.compress(text.encode()))
    r = logflow.convert(src, tmp_path / "out.parquet")
    assert (r.format, r.rows_written, r.schema.names) == (name, 2, ["a"])
    assert pa.table(logflow.read(src)).column("a").to_pylist() == [1, 2]
    assert logflow.detect(src).format.value == name


def test_xml_text_named_csv_is_read_as_xml(tmp_path: Path) -> None:
    src = tmp_path / "x.csv.gz"
    src.write_bytes(gzip.compress(b'<?xml version="1.0"?>\n<rows><row a="1"/></rows>\n'))
    r = logflow.convert(src, tmp_path / "out.parquet")
    assert (r.format, r.input_compression, r.rows_written) == ("xml", "gzip", 1)
    assert pa.table(logflow.read(src)).column("a").to_pylist() == [1]
    assert logflow.detect(src).format.value == "xml"


def test_detect_looks_inside_compression(tmp_path: Path) -> None:
    src = tmp_path / "t.tsv.gz"
    src.write_bytes(gzip.compress(TEXT.replace(",", "\t").encode("utf-16")))
    d = logflow.detect(src)
    assert d.compression.value == "gzip"
    assert d.encoding.value == "utf-16-le"
    assert d.format.value == "csv"
    assert d.dialect is not None and d.dialect.delimiter == "\t"
    assert d.schema is not None and d.schema.names == ["id", "name", "city", "amount"]


def test_a_decompression_bomb_stops_at_once(tmp_path: Path) -> None:
    # 80 MB of one line, compressed five hundred to one: past the default 200:1 limit.
    src = tmp_path / "bomb.csv.gz"
    rows = 5_000_000
    src.write_bytes(gzip.compress(b"a,b,c,d,e,f,g,h\n" + b"0,0,0,0,0,0,0,0\n" * rows, 9))
    with pytest.raises(LimitExceededError, match="decompression bomb"):
        logflow.convert(src, tmp_path / "o.parquet")
    assert not (tmp_path / "o.parquet").exists()
    # A size limit is the caller's to set; no ratio limit reads it all.
    with pytest.raises(LimitExceededError, match="more than 1000000 bytes"):
        logflow.read(src, max_decompressed_size=1_000_000, max_expansion=0).read_all()
    r = logflow.convert(src, tmp_path / "o.parquet", max_expansion=0)
    assert r.rows_written == rows
