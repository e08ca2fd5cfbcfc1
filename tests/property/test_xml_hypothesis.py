"""Property tests: records written by Python's ``xml.etree`` come back from logflow unchanged.

Each record is an element with attributes and child elements (some repeated) holding text
of any characters XML allows; a sentinel record holds plain words in every field, so text
stays text whatever else hypothesis draws. Attributes and single children come back as text
columns, repeated children as lists, an absent field or an empty element as null (an empty
attribute as ""). Integers in a child of their own come back as int64.
Profiles live in tests/conftest.py (HYPOTHESIS_PROFILE=thorough explores more).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

import logflow

# Characters XML allows, less the carriage return (read back as a line feed, as XML
# normalises line ends in text).
CHAR = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
AWKWARD = st.sampled_from(["\t", "\n", " ", "&", "<", ">", '"', "'", "]]>", "é", "日", "&amp;"])
TEXT = st.lists(st.one_of(st.text(alphabet=CHAR, max_size=4), AWKWARD), max_size=5).map("".join)
ATTRS = ["x", "y", "dc-z"]
CHILDREN = ["a", "b", "c_d"]


@st.composite
def records(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(1, 12))):
        rec: dict[str, Any] = {}
        for name in ATTRS:
            if draw(st.booleans()):
                rec["@" + name] = draw(TEXT)
        for name in CHILDREN:
            n = draw(st.integers(0, 3))
            if n:
                rec[name] = [draw(TEXT) for _ in range(n)]
        if draw(st.booleans()):
            rec["n"] = draw(st.integers(-(2**63), 2**63 - 1))
        out.append(rec)
    return out


def write(path: Path, recs: list[dict[str, Any]]) -> None:
    root = ET.Element("root")
    for rec in recs:
        el = ET.SubElement(root, "rec")
        for key, value in rec.items():
            if key.startswith("@"):
                el.set(key[1:], value)
            elif key == "n":
                ET.SubElement(el, "n").text = str(value)
            else:
                for text in value:
                    ET.SubElement(el, key).text = text
    path.write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def expected(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for rec in recs:
        row: dict[str, Any] = {}
        for name in ATTRS:
            row[name] = rec.get("@" + name)
        for name in CHILDREN:
            values = rec.get(name)
            if values is None:
                row[name] = None
            elif len(values) == 1 and name == "a":
                row[name] = values[0] or None
            else:
                row[name] = [v or None for v in values]
        row["n"] = rec.get("n")
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xml")


@given(recs=records())
def test_etree_records_read_back_equal(work: Path, recs: list[dict[str, Any]]) -> None:
    # The sentinel: every field present with a plain word, and `a` once, the others twice
    # (so `a` is a text column and `b`, `c_d` are lists, whatever hypothesis draws after).
    sentinel: dict[str, Any] = {"@" + n: "word" for n in ATTRS}
    sentinel.update({"a": ["word"], "b": ["w1", "w2"], "c_d": ["w1", "w2"], "n": 1})
    recs = [sentinel, *[r for r in recs if len(r.get("a", [])) <= 1]]
    path = work / "in.xml"
    write(path, recs)
    table = logflow.read(path, record_path="root/rec", error_policy="strict").read_all()
    got = table.to_pylist()
    want = expected(recs)
    assert [sorted(r) for r in got] == [sorted(r) for r in want]
    assert got == want
    assert str(table.schema.field("n").type) == "int64"
