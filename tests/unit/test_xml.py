"""XML input: records found, columns and types, namespaces, policies, safety, encodings."""

from __future__ import annotations

import gzip
from pathlib import Path
from xml.etree import ElementTree as ET

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import logflow
from logflow.errors import ConfigError, DecodeError, LimitExceededError, SchemaError

DATA = Path(__file__).resolve().parent.parent / "data" / "xml"


def convert(src: Path, tmp_path: Path, **kwargs: object) -> tuple[logflow.ConvertResult, pa.Table]:
    dst = tmp_path / "out.parquet"
    r = logflow.convert(src, dst, **kwargs)  # type: ignore[arg-type]
    return r, pq.read_table(dst)


def write(tmp_path: Path, text: str | bytes, name: str = "in.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_xml_catalog_columns_and_types(tmp_path: Path) -> None:
    r, t = convert(DATA / "catalog.xml", tmp_path)
    assert (r.format, r.rows_read, r.rows_written) == ("xml", 3, 3)
    assert t.column_names == [
        "id",
        "available",
        "creator",
        "title",
        "genre",
        "price",
        "publish_date",
        "tag",
        "description",
    ]
    assert t.schema.field("available").type == pa.bool_()
    assert t.schema.field("price").type == pa.float64()
    assert t.schema.field("publish_date").type == pa.date32()
    assert t.column("id").to_pylist() == ["bk101", "bk102", "bk103"]
    assert t.column("tag").to_pylist() == [["xml", "guide"], ["novel"], None]
    assert t.column("title").to_pylist()[2] == {"lang": "fr", "#text": "Maeve Ascendant"}
    descriptions = t.column("description").to_pylist()
    # Mixed text keeps the element's own text; the child element is a field of its own.
    assert descriptions[0]["#text"] == "An in-depth look at creating applications with ."
    assert descriptions[0]["b"] == "XML"
    assert descriptions[1]["#text"].endswith("corporate zombies & an evil sorceress.")
    assert descriptions[2]["#text"] == "After the collapse of a <nanotechnology> society."


def test_xml_detect_reports_the_records_and_columns() -> None:
    d = logflow.detect(DATA / "catalog.xml")
    assert d.format.value == "xml"
    assert d.records_path == "/catalog/book"
    assert "/catalog/book" in d.format.evidence
    assert d.schema is not None and d.schema.names[:2] == ["id", "available"]
    assert d.xes is None
    feed = logflow.detect(DATA / "feed.rss")
    assert feed.records_path == "/rss/channel/item"


def test_xml_feeds_and_namespaces(tmp_path: Path) -> None:
    _, t = convert(DATA / "feed.rss", tmp_path)
    assert t.num_rows == 3
    assert "creator" in t.column_names and "encoded" in t.column_names
    assert t.column("creator").to_pylist() == ["Ann", "Bob", "Cid"]
    assert t.column("category").to_pylist() == [["news", "tech"], ["news"], None]
    assert t.column("guid").to_pylist()[0] == {"isPermaLink": False, "#text": "id-1"}
    _, atom = convert(DATA / "atom.xml", tmp_path)
    assert atom.num_rows == 2
    links = atom.column("link").to_pylist()
    assert [len(x) for x in links] == [2, 1]
    assert atom.column("author").to_pylist()[1] == {"name": "Bob", "email": None}


@pytest.mark.parametrize("given", ["catalog/book", "/catalog/book", "book", "catalog.book"])
def test_xml_record_path_given(tmp_path: Path, given: str) -> None:
    r, _ = convert(DATA / "catalog.xml", tmp_path, record_path=given)
    assert r.rows_written == 3
    r, _ = convert(DATA / "catalog.xml", tmp_path, records_path=given)
    assert r.rows_written == 3


def test_xml_record_path_can_pick_other_records(tmp_path: Path) -> None:
    _, t = convert(DATA / "catalog.xml", tmp_path, record_path="catalog/book/tag")
    assert t.column("tag").to_pylist() == ["xml", "guide", "novel"]


def test_xml_record_path_errors(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="record_path"):
        logflow.convert(DATA / "catalog.xml", tmp_path / "o.parquet", record_path="shop/item")
    with pytest.raises(ConfigError, match="disagree"):
        logflow.convert(
            DATA / "catalog.xml", tmp_path / "o.parquet", record_path="a", records_path="b"
        )


def test_xml_flatten(tmp_path: Path) -> None:
    _, t = convert(DATA / "catalog.xml", tmp_path, flatten=True)
    assert "title.lang" in t.column_names and "title.#text" in t.column_names
    assert t.column("title.#text").to_pylist()[0] == "XML Developer's Guide"


def test_xml_read_streams_batches() -> None:
    stream = logflow.read(DATA / "catalog.xml", batch_size=2)
    batches = list(stream)
    assert [b.num_rows for b in batches] == [2, 1]
    assert stream.rows_read == 3


ROWS = "".join(f'<row id="{i}"><v>{i * 1.5}</v></row>\n' for i in range(5))


def test_xml_bad_record_under_each_policy(tmp_path: Path) -> None:
    text = f"<rows>\n{ROWS}<row id='x'><v>1</row>\n<row id='7'><v>2</v></row>\n</rows>\n"
    src = write(tmp_path, text)
    with pytest.raises(DecodeError) as info:
        logflow.convert(src, tmp_path / "o.parquet")
    assert info.value.line == 7
    assert info.value.offset == text.index("<row id='x'>")
    assert "not well-formed" in str(info.value)
    r, _ = convert(src, tmp_path, error_policy="permissive")
    assert (r.rows_read, r.rows_written, r.rows_skipped) == (7, 6, 1)
    assert r.errors_by_reason == {"invalid_xml": 1}
    r = logflow.convert(src, tmp_path / "q.parquet", error_policy="quarantine")
    assert r.rows_quarantined == 1
    assert r.quarantine_path is not None and r.quarantine_path.endswith(".quarantine.xml")
    kept = Path(r.quarantine_path).read_bytes()
    assert b"<row id='x'><v>1</row>" in kept
    assert kept.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<quarantine>')
    assert kept.endswith(b"</quarantine>\n")
    errors = pq.read_table(r.errors_path)
    assert errors.column("reason").to_pylist() == ["invalid_xml"]
    assert errors.column("raw").to_pylist() == [b"<row id='x'><v>1</row>"]


def test_xml_cast_errors_and_nulls(tmp_path: Path) -> None:
    rows = "".join(f"<r><n>{i}</n></r>" for i in range(200))
    src = write(tmp_path, f"<rows>{rows}<r><n>abc</n></r><r><n></n></r></rows>")
    # "abc" is one of 202 values, within the 1% tolerance of the permissive policy: the
    # column is inferred int64. Under the default schema policy (merge) the value widens the
    # column to text; under "strict" its row is a cast error.
    r, t = convert(src, tmp_path, error_policy="permissive")
    assert t.schema.field("n").type == pa.string()
    assert t.column("n").to_pylist()[-2:] == ["abc", None]
    r, t = convert(src, tmp_path, error_policy="permissive", schema_policy="strict")
    assert t.schema.field("n").type == pa.int64()
    assert r.errors_by_reason == {"cast_error": 1}
    assert t.column("n").to_pylist()[-1] is None
    r, t = convert(
        src, tmp_path, error_policy="permissive", schema_policy="strict", on_cast_error="null"
    )
    assert (r.rows_written, r.values_nulled) == (202, 1)


def test_xml_broken_document_is_an_error_with_a_position(tmp_path: Path) -> None:
    src = write(tmp_path, f"<rows>\n{ROWS}</rowz>\n")
    with pytest.raises(DecodeError) as info:
        logflow.convert(src, tmp_path / "o.parquet", error_policy="permissive")
    assert info.value.line == 7
    assert info.value.offset is not None


def test_xml_entity_bomb_is_refused(tmp_path: Path) -> None:
    ents = "".join(
        f"<!ENTITY l{i} '{f'&l{i - 1};' * 10}'>" if i else "<!ENTITY l0 'lol'>" for i in range(10)
    )
    src = write(tmp_path, f"<!DOCTYPE r [{ents}]><r><x>&l9;</x><x>1</x></r>")
    with pytest.raises(LimitExceededError):
        logflow.convert(src, tmp_path / "o.parquet", error_policy="permissive")


def test_xml_external_entities_are_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read me")
    src = write(
        tmp_path,
        f'<!DOCTYPE r [<!ENTITY s SYSTEM "{secret.as_uri()}">]>'
        "<r><x><v>&s;</v><n>1</n></x><x><v>b</v><n>2</n></x></r>",
    )
    _, t = convert(src, tmp_path)
    assert "do not read me" not in str(t.to_pylist())
    assert t.column("v").to_pylist() == [None, "b"]


def test_xml_encodings(tmp_path: Path) -> None:
    text = '<?xml version="1.0" encoding="ISO-8859-1"?>\n<r><x>caf\xe9</x><x>na\xefve</x></r>\n'
    src = write(tmp_path, text.encode("latin-1"))
    r, t = convert(src, tmp_path)
    assert r.input_encoding == "windows-1252"
    assert t.column("x").to_pylist() == ["café", "naïve"]
    utf16 = write(tmp_path, "\ufeff<r><x>é</x><x>ü</x></r>".encode("utf-16-le"), "u16.xml")
    r, t = convert(utf16, tmp_path)
    assert t.column("x").to_pylist() == ["é", "ü"]
    gz = write(tmp_path, gzip.compress((DATA / "catalog.xml").read_bytes()), "c.xml.gz")
    r, _ = convert(gz, tmp_path)
    assert (r.input_compression, r.rows_written) == ("gzip", 3)


def test_xml_later_records_widen_the_schema(tmp_path: Path) -> None:
    # Past the first 4 MiB chunk: a child repeats, another gets an attribute, a new one
    # appears. The output has one schema; the rows before are rewritten into it.
    rows = "".join(f"<r><n>{i}</n><t>x{i}</t></r>\n" for i in range(250_000))
    late = '<r><n>1.5</n><t lang="en">y</t><t>z</t><new>q</new></r>\n'
    src = write(tmp_path, f"<rows>\n{rows}{late}</rows>\n")
    r, t = convert(src, tmp_path)
    assert r.rows_written == 250_001
    assert t.column_names == ["n", "t", "new"]
    assert t.schema.field("n").type == pa.float64()
    last = t.slice(250_000).to_pylist()[0]
    assert last["t"] == [{"lang": "en", "#text": "y"}, {"lang": None, "#text": "z"}]
    assert t.slice(0, 1).to_pylist()[0]["t"] == [{"lang": None, "#text": "x0"}]


def test_xml_record_counts_match_etree() -> None:
    for name, path in [
        ("catalog.xml", "book"),
        ("feed.rss", "channel/item"),
        ("atom.xml", "{http://www.w3.org/2005/Atom}entry"),
    ]:
        expected = len(ET.parse(DATA / name).getroot().findall(path))
        table = logflow.read(DATA / name).read_all()
        assert table.num_rows == expected, name


def test_xml_deeply_nested_document_is_refused(tmp_path: Path) -> None:
    src = write(tmp_path, "<a>" * 50_000 + "</a>" * 50_000)
    with pytest.raises(LimitExceededError):
        logflow.convert(src, tmp_path / "o.parquet")
