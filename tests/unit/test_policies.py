"""Error policies: strict, permissive and quarantine; on_cast_error; threads.

Every file here is built record by record, so each test knows exactly which records are bad,
why, where they start (line, byte offset, record number) and their bytes in the input.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import logflow
from logflow import ErrorSample
from logflow.errors import ConfigError, DecodeError

REASONS = {
    "too_many_fields",
    "too_few_fields",
    "invalid_utf8",
    "cast_error",
    "unterminated_quote",
    "swallowed_by_quote",
    "record_too_long",
}
ERRORS_SCHEMA = pa.schema(
    [
        pa.field("line", pa.int64(), nullable=False),
        pa.field("offset", pa.int64(), nullable=False),
        pa.field("record", pa.int64(), nullable=False),
        pa.field("column", pa.string()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string(), nullable=False),
        pa.field("raw", pa.binary(), nullable=False),
    ]
)


# ------------------------------------------------------------------------ building inputs


@dataclass(frozen=True)
class Bad:
    line: int
    offset: int
    record: int
    column: str | None
    reason: str
    raw: bytes


@dataclass
class Dirty:
    """A CSV file under construction: what each record is and where it starts."""

    header: bytes
    nl: bytes = b"\n"
    data: bytearray = field(default_factory=bytearray)
    # every non-blank record read, as ConvertResult.rows_read counts them; record numbers
    # (ErrorSample.record) count the same way, a repeated header included
    records: int = 0
    good: list[int] = field(default_factory=list)  # ids written, in order
    bad: list[Bad] = field(default_factory=list)
    skipped: int = 0
    line: int = 1  # the line the next record starts on

    def __post_init__(self) -> None:
        self._put(self.header + self.nl)

    def _put(self, raw: bytes) -> None:
        self.data += raw
        self.line += raw.count(b"\n")

    def add(
        self,
        text: bytes,
        *,
        good: int | None = None,
        reason: str | None = None,
        column: str | None = None,
        skip: bool = False,
        newline: bool = True,
    ) -> None:
        """Append one record (``text`` uses ``\\n`` for inner line breaks; they become
        ``self.nl``). Exactly one of good (its id), reason or skip says what it is."""
        assert [good is not None, reason is not None, skip].count(True) == 1
        raw = text.replace(b"\n", self.nl) + (self.nl if newline else b"")
        self.records += 1
        if good is not None:
            self.good.append(good)
        elif skip:
            self.skipped += 1
        elif reason == "unterminated_quote" and b"\n" in text:
            # A multi-line record with the wrong field count: a quote never closed swallowed
            # the lines after it. Each line is a bad row of its own (and a row read).
            offset, line = len(self.data), self.line
            for i, part in enumerate(raw.splitlines(keepends=True)):
                why = "unterminated_quote" if i == 0 else "swallowed_by_quote"
                self.records += i > 0
                self.bad.append(Bad(line + i, offset, self.records, None, why, part))
                offset += len(part)
        else:
            assert reason in REASONS
            self.bad.append(Bad(self.line, len(self.data), self.records, column, reason, raw))
        self._put(raw)

    def blank(self, n: int = 1) -> None:
        self._put(self.nl * n)

    def write(self, path: Path) -> Path:
        path.write_bytes(bytes(self.data))
        return path

    @property
    def by_reason(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for b in self.bad:
            out[b.reason] = out.get(b.reason, 0) + 1
        return out

    def quarantine_bytes(self) -> bytes:
        """The input's header line, then every bad record byte for byte (a record without a
        trailing newline gets one)."""
        return (
            self.header
            + self.nl
            + b"".join(b.raw if b.raw.endswith(b"\n") else b.raw + b"\n" for b in self.bad)
        )


def dirty_file(nl: bytes = b"\n") -> Dirty:
    """About 300 good rows with every kind of bad record, a repeated header, blank lines
    and a last line without newline. id: int64, name: text, qty: int64 (2 cast errors in
    ~300 values stay under the 1% that non-strict inference tolerates)."""
    d = Dirty(b"id,name,qty", nl)
    for i in range(1, 151):
        d.add(b"%d,name %d,%d" % (i, i, i * 10), good=i)
    d.blank()
    d.add(b"1001,x,1,extra", reason="too_many_fields")
    d.add(b"1002,x", reason="too_few_fields")
    d.add(b"1003,caf\xe9 latin-1,3", reason="invalid_utf8", column="name")
    d.blank(2)
    d.add(b"1004,x,many", reason="cast_error", column="qty")
    # a null word used once is a bad value, not a null
    d.add(b"1005,x,N/A", reason="cast_error", column="qty")
    # a quoted field spanning lines in a record with the wrong field count: one bad row per
    # line (the first unterminated_quote, the second swallowed_by_quote)
    d.add(b'1006,"two\nlines",6,extra', reason="unterminated_quote")
    d.add(b'151,"good\nmulti-line",1510', good=151)
    d.add(b"id,name,qty", skip=True)  # the header repeated mid-file
    d.add(b"152,,", good=152)  # empty fields are null
    d.add(b'153,"",1530', good=153)
    for i in range(154, 301):
        d.add(b"%d,name %d,%d" % (i, i, i * 10), good=i)
    # a quote never closed before EOF: only its first line is rejected
    d.add(b'1007,"never closed,7', reason="unterminated_quote")
    d.add(b"301,after the quote,3010", good=301)
    d.add(b"1008,last,8,extra", reason="too_many_fields", newline=False)
    return d


def table_of(path: Path | str) -> pa.Table:
    return pq.read_table(path)


def convert(src: Path, out_dir: Path, **kwargs) -> logflow.ConvertResult:
    return logflow.convert(src, out_dir / "out.parquet", **kwargs)


def assert_invariant(r: logflow.ConvertResult) -> None:
    assert r.rows_read == r.rows_written + r.rows_quarantined + r.rows_skipped, r


def expected_samples(d: Dirty, limit: int = 20) -> list[ErrorSample]:
    return [
        ErrorSample(b.line, b.offset, b.record, b.column, b.reason, "", b.raw[:1024])
        for b in d.bad[:limit]
    ]


def without_detail(samples) -> list[ErrorSample]:
    return [ErrorSample(s.line, s.offset, s.record, s.column, s.reason, "", s.raw) for s in samples]


def check_output_rows(table: pa.Table, d: Dirty) -> None:
    assert table.schema.names == ["id", "name", "qty"]
    assert table.schema.types == [pa.int64(), pa.string(), pa.int64()]
    assert table.column("id").to_pylist() == d.good
    rows = {r["id"]: r for r in table.to_pylist()}
    assert rows[1] == {"id": 1, "name": "name 1", "qty": 10}
    assert rows[151]["name"] == "good" + d.nl.decode() + "multi-line"
    assert rows[152] == {"id": 152, "name": None, "qty": None}
    assert rows[153] == {"id": 153, "name": None, "qty": 1530}
    assert rows[301] == {"id": 301, "name": "after the quote", "qty": 3010}


# ---------------------------------------------------------------------------- quarantine


@pytest.mark.parametrize("nl", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_quarantine_counts_output_and_files(in_dir, out_dir, list_dir, nl):
    d = dirty_file(nl)
    src = d.write(in_dir / "dirty.csv")
    r = convert(src, out_dir, error_policy="quarantine")

    assert r.rows_read == len(d.good) + len(d.bad) + d.skipped == 311
    assert r.rows_written == len(d.good) == 301
    assert r.rows_quarantined == len(d.bad) == 9
    assert r.rows_skipped == d.skipped == 1
    assert_invariant(r)
    assert r.values_nulled == 0
    assert (
        r.errors_by_reason
        == d.by_reason
        == {
            "too_many_fields": 2,
            "too_few_fields": 1,
            "invalid_utf8": 1,
            "cast_error": 2,
            "unterminated_quote": 2,
            "swallowed_by_quote": 1,
        }
    )
    check_output_rows(table_of(out_dir / "out.parquet"), d)

    assert r.quarantine_path == str(out_dir / "out.quarantine.csv")
    assert r.errors_path == str(out_dir / "out.errors.parquet")
    assert list_dir(out_dir) == ["out.errors.parquet", "out.parquet", "out.quarantine.csv"]
    assert list_dir(in_dir) == ["dirty.csv"]
    # byte for byte: the header line, then each bad record as in the input (CRLF kept)
    assert Path(r.quarantine_path).read_bytes() == d.quarantine_bytes()


@pytest.mark.parametrize("nl", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_quarantine_error_table(in_dir, out_dir, nl):
    d = dirty_file(nl)
    r = convert(d.write(in_dir / "dirty.csv"), out_dir, error_policy="quarantine")
    errors = table_of(r.errors_path)
    assert errors.schema.remove_metadata().equals(ERRORS_SCHEMA), errors.schema
    got = errors.to_pylist()
    assert [
        (e["line"], e["offset"], e["record"], e["column"], e["reason"], e["raw"]) for e in got
    ] == [(b.line, b.offset, b.record, b.column, b.reason, b.raw) for b in d.bad]
    assert all(isinstance(e["raw"], bytes) for e in got)
    assert all(e["detail"] for e in got)
    details = {e["raw"].split(b",")[0]: e["detail"] for e in got}
    assert '"many"' in details[b"1004"]
    assert '"N/A"' in details[b"1005"]
    # every raw slice is the input at its offset
    data = bytes(d.data)
    for e in got:
        assert data[e["offset"] :].startswith(e["raw"])
        assert data[: e["offset"]].count(b"\n") + 1 == e["line"]


@pytest.mark.parametrize("nl", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_quarantine_error_samples(in_dir, out_dir, nl):
    d = dirty_file(nl)
    r = convert(d.write(in_dir / "dirty.csv"), out_dir, error_policy="quarantine")
    assert isinstance(r.error_samples, tuple)
    assert all(isinstance(s, ErrorSample) for s in r.error_samples)
    assert without_detail(r.error_samples) == expected_samples(d)
    assert all(isinstance(s.raw, bytes) and s.detail for s in r.error_samples)
    # the samples are the error table's first rows
    table = [ErrorSample(**row) for row in table_of(r.errors_path).to_pylist()]
    assert list(r.error_samples) == table[: len(r.error_samples)]


def test_quarantine_last_bad_line_without_newline_gets_one(write_csv, out_dir):
    d = Dirty(b"a,b")
    for i in range(200):
        d.add(b"%d,x" % i, good=i)
    d.add(b"200,x,extra", reason="too_many_fields", newline=False)
    r = convert(d.write(write_csv(b"")), out_dir, error_policy="quarantine")
    assert (r.rows_written, r.rows_quarantined) == (200, 1)
    assert r.error_samples[0].raw == b"200,x,extra"  # as in the input
    assert table_of(r.errors_path).column("raw").to_pylist() == [b"200,x,extra"]
    assert Path(r.quarantine_path).read_bytes() == b"a,b\n200,x,extra\n"


@pytest.mark.slow
def test_line_without_end_within_64_mib_is_rejected_and_skipped(write_csv, out_dir):
    # 80 MB with no line end within 64 MiB: one bad record, read past in bounded memory; the
    # quarantine file holds the whole line, the error table its first MiB, and the rows
    # after it decode.
    head = b"a,b\n1,2\n3,"
    src = write_csv(
        head + b"x" * 80_000_000 + b"\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(9))
    )
    with pytest.raises(DecodeError, match="record too long") as info:
        logflow.convert(src, out_dir / "strict.parquet")
    assert (info.value.line, info.value.offset) == (3, len(b"a,b\n1,2\n"))
    r = logflow.convert(src, out_dir / "q.parquet", error_policy="quarantine")
    assert (r.rows_read, r.rows_written, r.rows_quarantined) == (11, 10, 1)
    assert r.errors_by_reason == {"record_too_long": 1}
    errors = table_of(r.errors_path)
    assert errors.column("line").to_pylist() == [3]
    raw = errors.column("raw")[0].as_py()
    assert len(raw) == 1 << 20 and raw.startswith(b"3,xxx")
    assert "the quarantine file holds it whole" in errors.column("detail")[0].as_py()
    assert Path(r.quarantine_path).read_bytes() == b"a,b\n3," + b"x" * 80_000_000 + b"\n"
    assert pq.read_table(out_dir / "q.parquet").column("a").to_pylist() == [1, *range(9)]


def test_quarantine_only_when_something_was_quarantined(sample_csv, out_dir, list_dir):
    r = convert(sample_csv, out_dir, error_policy="quarantine")
    assert (r.rows_written, r.rows_quarantined, r.rows_skipped) == (12, 0, 0)
    assert r.quarantine_path is None and r.errors_path is None
    assert r.errors_by_reason == {} and r.error_samples == ()
    assert list_dir(out_dir) == ["out.parquet"]


def test_quarantine_file_takes_input_extension(write_csv, out_dir, list_dir):
    src = write_csv(b"a\tb\n1\t2\n3\n4\t5\n", name="log.tsv")
    r = logflow.convert(src, out_dir / "log.v1.parquet", error_policy="quarantine")
    assert r.quarantine_path == str(out_dir / "log.v1.quarantine.tsv")
    assert r.errors_path == str(out_dir / "log.v1.errors.parquet")
    assert list_dir(out_dir) == ["log.v1.errors.parquet", "log.v1.parquet", "log.v1.quarantine.tsv"]
    assert Path(r.quarantine_path).read_bytes() == b"a\tb\n3\n"


def test_quarantine_nothing_left_on_failure(csv_30mb, in_dir, out_dir, list_dir):
    # quarantine files appear only on success, with the output: a run that fails after bad
    # rows were set aside (the progress callback raises mid-run) leaves none of the files
    src = in_dir / "dirty_big.csv"
    header, body = csv_30mb.read_bytes().split(b"\n", 1)
    src.write_bytes(header + b"\n1,2024-01-01T00:00:00,C-1,x,1.5,true,extra\n" + body)
    at_raise: list[list[str]] = []

    def progress(done: int, total: int, rows: int) -> None:
        names = list_dir(out_dir)
        if done < total and any("quarantine" in n for n in names):
            at_raise.append(names)
            raise RuntimeError("stop mid-run")

    with pytest.raises(RuntimeError, match="stop mid-run"):
        convert(src, out_dir, error_policy="quarantine", threads=1, progress=progress)
    assert len(at_raise) == 1 and at_raise[0], "no temporary files when it failed"
    assert all(n.startswith(".") for n in at_raise[0])  # temporaries, not final names
    assert list_dir(out_dir) == []


# ---------------------------------------------------------------------------- permissive


@pytest.mark.parametrize("nl", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_permissive_drops_bad_rows_and_writes_no_quarantine(in_dir, out_dir, list_dir, nl):
    d = dirty_file(nl)
    r = convert(d.write(in_dir / "dirty.csv"), out_dir, error_policy="permissive")
    assert r.rows_read == 311
    assert r.rows_written == len(d.good)
    assert r.rows_quarantined == 0
    # dropped bad rows and the repeated header are both "skipped"
    assert r.rows_skipped == len(d.bad) + d.skipped == 10
    assert_invariant(r)
    assert r.errors_by_reason == d.by_reason
    assert without_detail(r.error_samples) == expected_samples(d)
    assert r.quarantine_path is None and r.errors_path is None
    assert list_dir(out_dir) == ["out.parquet"]
    check_output_rows(table_of(out_dir / "out.parquet"), d)


def test_permissive_and_quarantine_write_the_same_rows(in_dir, tmp_path):
    d = dirty_file()
    src = d.write(in_dir / "dirty.csv")
    outs = {}
    for policy in ("permissive", "quarantine"):
        (tmp_path / policy).mkdir()
        convert(src, tmp_path / policy, error_policy=policy)
        outs[policy] = table_of(tmp_path / policy / "out.parquet")
    assert outs["permissive"].equals(outs["quarantine"])


# -------------------------------------------------------------------------------- strict


def test_strict_raises_at_first_bad_record_and_leaves_no_files(in_dir, out_dir, list_dir):
    d = dirty_file()
    src = d.write(in_dir / "dirty.csv")
    with pytest.raises(DecodeError) as info:
        convert(src, out_dir)  # strict is the default
    first = d.bad[0]
    e = info.value
    assert (e.line, e.offset, e.record, e.column) == (first.line, first.offset, first.record, None)
    assert e.path == str(src)
    assert list_dir(out_dir) == []
    assert list_dir(in_dir) == ["dirty.csv"]
    with pytest.raises(DecodeError):
        convert(src, out_dir, error_policy="strict", on_cast_error="null")
    assert list_dir(out_dir) == []


def _one_bad(reason: str) -> Dirty:
    d = Dirty(b"id,name,qty")
    for i in range(5):
        d.add(b"%d,n,%d" % (i, i), good=i)
    d.blank()
    d.add(b"id,name,qty", skip=True)
    bad = {
        "too_many_fields": (b"9,n,9,9", None),
        "too_few_fields": (b"9,n", None),
        "invalid_utf8": (b"9,\xff\xfe,9", "name"),
        "unterminated_quote": (b'9,"never closed,9', None),
        "multi_line": (b'9,"two\nlines",9,9', None),
    }
    text, column = bad[reason]
    d.add(text, reason=reason if reason != "multi_line" else "unterminated_quote", column=column)
    d.add(b"10,n,10", good=10)
    return d


@pytest.mark.parametrize(
    "reason",
    ["too_many_fields", "too_few_fields", "invalid_utf8", "unterminated_quote", "multi_line"],
)
def test_strict_each_reason_position(in_dir, out_dir, list_dir, reason):
    d = _one_bad(reason)
    src = d.write(in_dir / "one.csv")
    with pytest.raises(DecodeError) as info:
        convert(src, out_dir, error_policy="strict")
    # a multi-line record is one record to the strict policy, one bad row per line to others
    bad = d.bad[0]
    assert len(d.bad) == (2 if reason == "multi_line" else 1)
    e = info.value
    assert (e.line, e.offset, e.record, e.column) == (bad.line, bad.offset, bad.record, bad.column)
    assert list_dir(out_dir) == []
    # the same file under the other policies: the one bad record is set aside
    for policy in ("permissive", "quarantine"):
        r = convert(src, out_dir, error_policy=policy)
        assert r.rows_written == len(d.good)
        assert r.errors_by_reason == d.by_reason
        assert without_detail(r.error_samples) == expected_samples(d)
        assert_invariant(r)


def test_strict_skips_repeated_header_and_blank_lines(write_csv, out_dir):
    # blank lines (LF and CRLF), a repeated header, a last line without newline
    src = write_csv(b"a,b\n1,x\n2,y\n\n\na,b\n3,z\r\n\r\n4,w\n5,v")
    for header in (None, True):  # detected, or given
        r = convert(src, out_dir, header=header)
        assert r.schema.names == ["a", "b"]
        assert (r.rows_read, r.rows_written, r.rows_quarantined, r.rows_skipped) == (6, 5, 0, 1)
        assert_invariant(r)
        assert r.errors_by_reason == {}
        t = table_of(out_dir / "out.parquet")
        assert t.column("a").to_pylist() == [1, 2, 3, 4, 5]
        assert t.column("b").to_pylist() == ["x", "y", "z", "w", "v"]


def test_strict_misfit_in_sample_makes_column_text(write_csv, out_dir):
    # strict: one value that does not fit in the sample and the column is text, no error;
    # the non-strict policies keep it typed (under 1% misfits) and reject that row
    rows = b"".join(b"%d,%d\n" % (i, i) for i in range(300))
    src = write_csv(b"a,n\n" + rows + b"300,oops\n")
    r = convert(src, out_dir)
    assert r.schema.field("n").type == pa.string()
    assert (r.rows_written, r.errors_by_reason) == (301, {})
    r = convert(src, out_dir, error_policy="permissive")
    assert r.schema.field("n").type == pa.int64()
    assert (r.rows_written, r.rows_skipped, r.errors_by_reason) == (300, 1, {"cast_error": 1})


def test_non_strict_more_than_one_percent_misfits_makes_column_text(write_csv, out_dir):
    rows = b"".join(b"%d,%d\n" % (i, i) for i in range(100))
    src = write_csv(b"a,n\n" + rows + b"x,oops\ny,bad\n")  # 2 misfits in 102 values: ~2%
    r = convert(src, out_dir, error_policy="quarantine")
    assert r.schema.field("n").type == pa.string()
    assert r.schema.field("a").type == pa.string()
    assert (r.rows_written, r.rows_quarantined, r.quarantine_path) == (102, 0, None)


# ------------------------------------------------------------------------------ null words


@pytest.mark.parametrize("word", ["NULL", "null", "Null", "NA", "N/A", "n/a", "None", "none", "-"])
def test_null_word_used_often_is_null(write_csv, out_dir, word):
    w = word.encode()
    rows = b"".join(b"%d,%d\n" % (i, i) for i in range(300))
    src = write_csv(b"a,n\n" + rows + b"300,%s\n301,%s\n302,\n" % (w, w))
    r = convert(src, out_dir)
    assert r.schema.field("n").type == pa.int64()
    assert table_of(out_dir / "out.parquet").column("n").to_pylist()[-4:] == [299, None, None, None]


@pytest.mark.parametrize("word", ["NULL", "N/A", "-"])
def test_null_word_used_rarely_is_a_bad_value(write_csv, out_dir, word):
    w = word.encode()
    rows = b"".join(b"%d,%d\n" % (i, i) for i in range(300))
    # once: a bad value
    src = write_csv(b"a,n\n" + rows + b"300,%s\n" % w)
    assert convert(src, out_dir).schema.field("n").type == pa.string()  # strict: text
    r = convert(src, out_dir, error_policy="quarantine")
    assert r.schema.field("n").type == pa.int64()
    assert r.errors_by_reason == {"cast_error": 1}
    assert Path(r.quarantine_path).read_bytes() == b"a,n\n300,%s\n" % w
    # twice, but in under 0.1% of the values: still bad values
    rows = b"".join(b"%d,%d\n" % (i, i) for i in range(3_000))
    src = write_csv(b"a,n\n" + rows + b"3000,%s\n3001,%s\n" % (w, w))
    r = convert(src, out_dir, error_policy="permissive")
    assert r.schema.field("n").type == pa.int64()
    assert r.errors_by_reason == {"cast_error": 2}
    assert r.rows_written == 3_000


def test_rows_after_an_unterminated_quote_are_in_the_type_sample(write_csv, out_dir):
    # Decoding rejects the open quote's first line and reads on; inference must see the
    # rows it reads on to, or their null words become cast errors.
    rows = [b"%d,x%d" % (i, i) for i in range(50)] + [b'"50,open']
    rows += [b"%s,y%d" % (b"-" if i % 3 == 0 else b"%d" % i, i) for i in range(51, 81)]
    src = write_csv(b"a,b\n" + b"\n".join(rows) + b"\n")
    r = convert(src, out_dir, error_policy="permissive")
    assert r.errors_by_reason == {"unterminated_quote": 1}
    assert (r.rows_read, r.rows_written) == (81, 80)
    a = table_of(out_dir / "out.parquet").column("a")
    assert a.type == pa.int64()
    assert a.null_count == 10


# --------------------------------------------------------------------------- on_cast_error


@pytest.mark.parametrize("policy", ["permissive", "quarantine"])
def test_on_cast_error_null_keeps_rows(in_dir, out_dir, list_dir, policy):
    d = dirty_file()
    src = d.write(in_dir / "dirty.csv")
    r = convert(src, out_dir, error_policy=policy, on_cast_error="null")
    cast_rows = [b for b in d.bad if b.reason == "cast_error"]
    assert len(cast_rows) == 2
    other = [b for b in d.bad if b.reason != "cast_error"]
    assert r.values_nulled == 2
    assert r.rows_written == len(d.good) + 2
    assert "cast_error" not in r.errors_by_reason
    assert sum(r.errors_by_reason.values()) == len(other)
    assert_invariant(r)
    t = table_of(out_dir / "out.parquet")
    assert t.schema.field("qty").type == pa.int64()
    rows = {row["id"]: row for row in t.to_pylist()}
    assert rows[1004] == {"id": 1004, "name": "x", "qty": None}
    assert rows[1005] == {"id": 1005, "name": "x", "qty": None}
    if policy == "quarantine":
        assert r.rows_quarantined == len(other)
        quarantined = Path(r.quarantine_path).read_bytes()
        assert quarantined == b"id,name,qty\n" + b"".join(
            b.raw if b.raw.endswith(b"\n") else b.raw + b"\n" for b in other
        )
        assert b"many" not in quarantined
    else:
        assert list_dir(out_dir) == ["out.parquet"]


def test_on_cast_error_null_late_value(late_bad_csv, out_dir):
    late = late_bad_csv("int")
    r = convert(late.path, out_dir, error_policy="quarantine", on_cast_error="null")
    assert (r.rows_written, r.values_nulled, r.rows_quarantined) == (late.good_rows + 1, 1, 0)
    assert r.quarantine_path is None
    a = table_of(out_dir / "out.parquet").column("a")
    assert a.null_count == 1 and a[-1].as_py() is None


def test_late_cast_error_quarantined(late_bad_csv, out_dir):
    late = late_bad_csv("null_word")
    r = convert(late.path, out_dir, error_policy="quarantine")
    assert (r.rows_written, r.rows_quarantined) == (late.good_rows, 1)
    assert without_detail(r.error_samples) == [
        ErrorSample(late.line, late.offset, late.record, "a", "cast_error", "", b"N/A,y\n")
    ]
    assert Path(r.quarantine_path).read_bytes() == b"a,b\nN/A,y\n"


# ------------------------------------------------------------------------ samples bounded


def test_error_samples_bounded_and_raw_truncated(write_csv, out_dir):
    long = b"y" * 3_000
    d = Dirty(b"a,b")
    for i in range(300):
        if i % 5 == 0:
            d.add(b"%d,%s,extra" % (i, long), reason="too_many_fields")
        else:
            d.add(b"%d,x" % i, good=i)
    assert len(d.bad) == 60
    r = convert(d.write(write_csv(b"")), out_dir, error_policy="quarantine")
    assert r.rows_quarantined == 60
    assert len(r.error_samples) == 20
    assert without_detail(r.error_samples) == expected_samples(d)  # the first 20, cut
    assert all(len(s.raw) == 1024 for s in r.error_samples)
    assert r.error_samples[0].raw == d.bad[0].raw[:1024]
    # the error table keeps every row, with its raw bytes whole
    errors = table_of(r.errors_path)
    assert errors.num_rows == 60
    assert errors.column("raw").to_pylist() == [b.raw for b in d.bad]
    assert Path(r.quarantine_path).read_bytes() == d.quarantine_bytes()


# -------------------------------------------------------------------------------- read()


def test_read_permissive_drops_bad_rows(in_dir, out_dir):
    d = dirty_file()
    src = d.write(in_dir / "dirty.csv")
    table = logflow.read(src, error_policy="permissive").read_all()
    check_output_rows(table, d)
    convert(src, out_dir, error_policy="permissive")
    assert table.equals(table_of(out_dir / "out.parquet"))


def test_read_permissive_on_cast_error_null(in_dir):
    d = dirty_file()
    table = logflow.read(
        d.write(in_dir / "dirty.csv"), error_policy="permissive", on_cast_error="null"
    ).read_all()
    assert table.num_rows == len(d.good) + 2
    assert [r["qty"] for r in table.to_pylist() if r["id"] in (1004, 1005)] == [None, None]


def test_read_strict_raises_at_first_bad_row(in_dir):
    d = dirty_file()
    src = d.write(in_dir / "dirty.csv")
    with pytest.raises(DecodeError) as info:
        logflow.read(src, error_policy="strict").read_all()
    assert (info.value.line, info.value.record) == (d.bad[0].line, d.bad[0].record)


def test_read_quarantine_is_config_error(sample_csv):
    with pytest.raises(ConfigError, match="quarantine"):
        logflow.read(sample_csv, error_policy="quarantine")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [{"error_policy": "lenient"}, {"on_cast_error": "skip"}],
    ids=["error_policy", "on_cast_error"],
)
def test_unknown_policy_is_config_error(sample_csv, out_dir, list_dir, kwargs):
    with pytest.raises(ConfigError, match=next(iter(kwargs.values()))):
        convert(sample_csv, out_dir, **kwargs)
    assert list_dir(out_dir) == []
    with pytest.raises(ConfigError):
        logflow.read(sample_csv, **kwargs)


# ------------------------------------------------------------------------------- threads

THREADS_COLUMNS = ["id", "amount", "qty", "note"]


@dataclass(frozen=True)
class Multiline:
    path: Path
    dirty: Dirty
    expected: pa.Table


def _multiline_file(path: Path, target: int = 6_000_000) -> Multiline:
    """~6 MB: quoted fields spanning lines scattered through the file (some with CRLF and
    blank lines inside), one long one straddling the 4 MiB chunk cut whose inner lines look
    like records, and bad records of every reason every few thousand rows."""
    d = Dirty(b"id,amount,qty,note")
    ids: list[int] = []
    amounts: list[float] = []
    qtys: list[int] = []
    notes: list[str] = []
    straddled = False
    i = 0
    while len(d.data) < target:
        i += 1
        if i % 3001 == 100:
            d.add(b"%d,1.5,3,note,extra" % i, reason="too_many_fields")
            continue
        if i % 4001 == 200:
            d.add(b"%d,1.5" % i, reason="too_few_fields")
            continue
        if i % 5003 == 300:
            d.add(b"%d,1.5,many,note" % i, reason="cast_error", column="qty")
            continue
        if i % 6007 == 400:
            d.add(b'%d,1.5,"3\nlines\nhere",note,extra' % i, reason="unterminated_quote")
            continue
        if i % 7001 == 500:
            d.add(b"%d,1.5,3,caf\xe9" % i, reason="invalid_utf8", column="note")
            continue
        if not straddled and len(d.data) > (4 << 20) - 3_000:
            straddled = True
            note = "".join(f'{i + k},2.25,4,"looks like a row"\n' for k in range(200))
        elif i % 7 == 3:
            note = f'first line, "quoted"\nsecond line #{i}'
        elif i % 13 == 5:
            note = f"crlf\r\ninside\n\nblank line inside #{i}"
        else:
            note = f"plain note {i}"
        quoted = '"' + note.replace('"', '""') + '"' if any(c in note for c in ',"\n') else note
        d.add(f"{i},{i}.25,{i % 1000},{quoted}".encode(), good=i)
        ids.append(i)
        amounts.append(i + 0.25)
        qtys.append(i % 1000)
        notes.append(note)
    # inner "\n" of the notes were written as-is (d.nl is "\n")
    expected = pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "amount": pa.array(amounts, pa.float64()),
            "qty": pa.array(qtys, pa.int64()),
            "note": pa.array(notes, pa.string()),
        }
    )
    return Multiline(d.write(path), d, expected)


@pytest.fixture(scope="module")
def multiline_6mb(tmp_path_factory: pytest.TempPathFactory) -> Multiline:
    return _multiline_file(tmp_path_factory.mktemp("multiline") / "multiline.csv")


def test_multiline_file_shape(multiline_6mb):
    size = multiline_6mb.path.stat().st_size
    assert 5_800_000 < size < 6_500_000
    assert set(multiline_6mb.dirty.by_reason) == REASONS - {"record_too_long"}
    assert all(n >= 1 for n in multiline_6mb.dirty.by_reason.values())


@pytest.mark.parametrize("policy", ["permissive", "quarantine"])
def test_threads_1_and_2_give_identical_results(multiline_6mb, tmp_path, policy):
    m = multiline_6mb
    results = {}
    for threads in (1, 2):
        out = tmp_path / f"t{threads}"
        out.mkdir()
        results[threads] = (
            out,
            logflow.convert(m.path, out / "out.parquet", error_policy=policy, threads=threads),
        )
    (out1, r1), (out2, r2) = results[1], results[2]
    t1, t2 = table_of(out1 / "out.parquet"), table_of(out2 / "out.parquet")
    assert t1.equals(t2)
    assert t1.equals(m.expected), "rows differ from what was written"
    for name in (
        "rows_read",
        "rows_written",
        "rows_quarantined",
        "rows_skipped",
        "values_nulled",
        "errors_by_reason",
        "error_samples",
        "schema",
    ):
        assert getattr(r1, name) == getattr(r2, name), name
    assert r1.errors_by_reason == m.dirty.by_reason
    assert without_detail(r1.error_samples) == expected_samples(m.dirty)
    assert_invariant(r1)
    if policy == "quarantine":
        q1 = Path(r1.quarantine_path).read_bytes()
        assert q1 == Path(r2.quarantine_path).read_bytes() == m.dirty.quarantine_bytes()
        e1, e2 = table_of(r1.errors_path), table_of(r2.errors_path)
        assert e1.equals(e2)
        assert e1.column("line").to_pylist() == [b.line for b in m.dirty.bad]
        assert e1.column("offset").to_pylist() == [b.offset for b in m.dirty.bad]
        assert e1.column("record").to_pylist() == [b.record for b in m.dirty.bad]
    else:
        assert r1.quarantine_path is None and r2.quarantine_path is None


# ------------------------------------------------------------------- the yardstick's data


def _bench_dir() -> Path | None:
    env = os.environ.get("LOGFLOW_BENCH_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2].parent / "shared" / "bench")
    for c in candidates:
        if (c / "gen_data.py").is_file():
            return c
    return None


@pytest.fixture(scope="session")
def yardstick_dirty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    bench = _bench_dir()
    if bench is None:
        pytest.skip("no yardstick: set LOGFLOW_BENCH_DIR or provide ../shared/bench/gen_data.py")
    out = tmp_path_factory.mktemp("yardstick")
    subprocess.run(
        [
            sys.executable,
            str(bench / "gen_data.py"),
            str(out),
            "--rows",
            "20000",
            "--formats",
            "csv,dirty",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


def test_yardstick_dirty_csv_quarantine(yardstick_dirty, out_dir, reference_reader, types_agree):
    data = yardstick_dirty
    expected = json.loads((data / "dirty.expected.json").read_text())
    assert expected["row_number_is_event_id"]
    r = logflow.convert(data / "dirty.csv", out_dir / "dirty.parquet", error_policy="quarantine")
    assert_invariant(r)
    out = table_of(out_dir / "dirty.parquet")
    assert out.schema.field("amount").type == pa.float64()
    assert out.schema.field("quantity").type == pa.int64()

    corrupted = set(expected["corrupted_rows"])
    n = expected["data_rows_written"]
    clean = [i for i in range(1, n + 1) if i not in corrupted]
    assert len(clean) == expected["clean_rows"]
    got_ids = out.column("event_id").to_pylist()
    assert len(got_ids) == len(set(got_ids))
    assert not (set(got_ids) & corrupted), "a corrupted row was written"
    assert sorted(got_ids) == clean, "a clean row is missing"
    assert r.rows_written == len(clean)

    # every clean row equals events.csv's row in amount, quantity and message
    reference = reference_reader(data / "events.csv")
    assert reference.column("event_id").to_pylist() == list(range(1, n + 1))
    ref = reference.select(["event_id", "amount", "quantity", "message"]).take(
        pa.array([i - 1 for i in clean])
    )
    ours = out.select(["event_id", "amount", "quantity", "message"]).sort_by("event_id")
    types_agree(out.schema, reference.schema)
    assert ours.equals(ref.cast(ours.schema))

    # every corrupted row's line is in the quarantine file
    assert r.quarantine_path is not None
    quarantined = Path(r.quarantine_path).read_bytes()
    lines = [ln for ln in (data / "dirty.csv").read_bytes().split(b"\n") if ln]
    header, body = lines[0], lines[1:]
    assert quarantined.startswith(header + b"\n")
    by_id = {}
    for ln in body:
        head = ln.split(b",", 1)[0]
        if head.isdigit():
            by_id.setdefault(int(head), ln)
    quarantined_lines = set(quarantined.split(b"\n"))
    missing = [i for i in sorted(corrupted) if by_id[i] not in quarantined_lines]
    assert missing == []
    assert set(r.errors_by_reason) <= REASONS
    assert r.rows_quarantined == len(table_of(r.errors_path))
