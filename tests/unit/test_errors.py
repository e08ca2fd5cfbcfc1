"""Bad input: typed exceptions with positions, nothing left in the output directory."""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import logflow
from logflow import errors
from logflow.errors import (
    ConfigError,
    DecodeError,
    EmptyInputError,
    InputNotFoundError,
    LogflowError,
    NotAFileError,
    StorageError,
    UnsupportedFormatError,
    WriteError,
)

if TYPE_CHECKING:
    from conftest import LateBad

GOOD = "a,b\n1,x\n2,y\n"
# 100 good integer rows, then a value that does not parse as int64 on line 102. Type
# inference reads the whole first 4 MiB chunk, so this value is *in* the sample: the column
# is text. Late bad values (past the sample) come from the session fixture `late_bad_csv`.
LATE_BAD = "a,b\n" + "".join(f"{i},x\n" for i in range(100)) + "oops,y\n"

# case -> kind of `late_bad_csv`
LATE_CASES = {
    "late_bad_int": "int",
    "late_bad_float": "float",
    "late_bad_bool": "bool",
    "late_null_word": "null_word",
}


def _make_input(
    in_dir: Path, case: str, late: Callable[[str], LateBad] | None = None
) -> tuple[Path, dict]:
    """Create the input for ``case`` in ``in_dir``; returns (path, convert kwargs).

    The late cases need ``late`` (the ``late_bad_csv`` fixture): a >4 MiB file of good rows
    then one bad value, shared by the session (not copied into ``in_dir``)."""
    if case in LATE_CASES:
        assert late is not None, f"{case} needs the late_bad_csv fixture"
        return late(LATE_CASES[case]).path, {}
    files: dict[str, tuple[str, bytes, dict]] = {
        "ragged": ("ragged.csv", b"a,b,c\n1,2,3\n4,5\n6,7,8\n", {}),
        "too_many_fields": ("many.csv", b"a,b\n1,2\n3,4,5\n", {}),
        "invalid_utf8": ("utf8.csv", b"a,b\n1,x\n2,\xff\xfe\n", {}),
        "empty": ("empty.csv", b"", {}),
        "whitespace_only": ("blank.csv", b"   \n\n \t \n", {}),
        "unterminated_quote": ("quote.csv", b'a,b\n1,2\n3,"never closed\n', {}),
        "unterminated_quote_no_newline": ("quote2.csv", b'a,b\n1,2\n3,"never closed', {}),
        "unknown_compression": ("good.csv", GOOD.encode(), {"compression": "brotli"}),
        "bad_delimiter": ("good.csv", GOOD.encode(), {"delimiter": ";;"}),
        "batch_size_zero": ("good.csv", GOOD.encode(), {"batch_size": 0}),
        "xml_broken": ("events.xml", b'<?xml version="1.0"?>\n<rows><row a="1"></rows>', {}),
        "parquet_magic": ("events.parquet", b"PAR1\x00\x01\x02\x00PAR1", {}),
        "png": (
            "image.png",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06"
            b"\x00\x00\x00\x1f\xf3\xffa\x00\x00\x00\x00IEND",
            {},
        ),
        "json_broken": ("events.json", b'[{"a": 1},]', {}),
        "jsonl_broken": ("events.jsonl", b'{"a": 1}\n{"a": \n', {}),
        "truncated_gzip": ("events.csv.gz", b"\x1f\x8b", {}),
    }
    if case == "directory":
        d = in_dir / "adir.csv"
        d.mkdir()
        return d, {}
    if case == "missing":
        return in_dir / "missing.csv", {}
    name, data, kwargs = files[case]
    path = in_dir / name
    path.write_bytes(data)
    return path, kwargs


CASES: list[tuple[str, tuple[type[BaseException], ...]]] = [
    ("ragged", (DecodeError, ValueError)),
    ("too_many_fields", (DecodeError,)),
    ("invalid_utf8", (DecodeError,)),
    ("empty", (EmptyInputError, DecodeError)),
    ("whitespace_only", (EmptyInputError, DecodeError)),
    ("directory", (NotAFileError, StorageError, OSError)),
    ("missing", (InputNotFoundError, FileNotFoundError, StorageError)),
    ("late_bad_int", (DecodeError,)),
    ("late_bad_float", (DecodeError,)),
    ("late_bad_bool", (DecodeError,)),
    ("late_null_word", (DecodeError,)),
    ("unterminated_quote", (DecodeError,)),
    ("unterminated_quote_no_newline", (DecodeError,)),
    ("unknown_compression", (ConfigError, ValueError)),
    ("bad_delimiter", (ConfigError, ValueError)),
    ("batch_size_zero", (ConfigError, ValueError)),
    ("xml_broken", (DecodeError, ValueError)),
    ("parquet_magic", (DecodeError, ValueError)),
    ("png", (UnsupportedFormatError, ValueError)),
    ("json_broken", (DecodeError, ValueError)),
    ("jsonl_broken", (DecodeError,)),
    ("truncated_gzip", (DecodeError,)),
]


@pytest.mark.parametrize(("case", "classes"), CASES, ids=[c for c, _ in CASES])
def test_convert_bad_input_typed_error_and_no_output(
    in_dir, out_dir, list_dir, late_bad_csv, case, classes
):
    src, kwargs = _make_input(in_dir, case, late_bad_csv)
    with pytest.raises(LogflowError) as info:
        logflow.convert(src, out_dir / "out.parquet", **kwargs)
    for cls in classes:
        assert isinstance(info.value, cls), (case, type(info.value).__mro__)
    assert str(info.value)  # a message people can read
    assert list_dir(out_dir) == [], "output or temporary file left behind"


READ_CASES = [
    c
    for c in CASES
    if c[0] != "unknown_compression" and c[0] not in LATE_CASES  # late ones: test_read.py
]


@pytest.mark.parametrize(("case", "classes"), READ_CASES, ids=[c for c, _ in READ_CASES])
def test_read_bad_input_typed_error(in_dir, case, classes):
    src, kwargs = _make_input(in_dir, case)
    with pytest.raises(LogflowError) as info:
        logflow.read(src, error_policy="strict", **kwargs).read_all()
    for cls in classes:
        assert isinstance(info.value, cls), (case, type(info.value).__mro__)


# ------------------------------------------------------------------- positions and fields


def test_convert_ragged_row_position(in_dir, out_dir):
    src, _ = _make_input(in_dir, "ragged")
    with pytest.raises(DecodeError) as info:
        logflow.convert(src, out_dir / "out.parquet")
    e = info.value
    assert e.path == str(src)
    assert e.line == 3
    assert e.offset == len(b"a,b,c\n1,2,3\n")  # byte where the bad record starts
    assert e.record == 2  # data records, header not counted
    assert e.format == "csv"
    assert str(src) in str(e)
    assert "line 3" in str(e)
    assert "3" in str(e) and "2" in str(e)  # expected vs found field counts


def test_convert_invalid_utf8_names_column(in_dir, out_dir):
    src, _ = _make_input(in_dir, "invalid_utf8")
    with pytest.raises(DecodeError) as info:
        logflow.convert(src, out_dir / "out.parquet")
    e = info.value
    assert e.column == "b"
    assert e.line == 3
    assert e.record == 2
    assert e.offset == len(b"a,b\n1,x\n")
    assert "UTF-8" in str(e)


@pytest.mark.parametrize("kind", ["int", "float", "bool", "null_word"])
def test_convert_late_bad_value_position(late_bad_csv, out_dir, list_dir, kind):
    late = late_bad_csv(kind)
    with pytest.raises(DecodeError) as info:
        logflow.convert(late.path, out_dir / "out.parquet")
    e = info.value
    assert e.path == str(late.path)
    assert e.column == late.column == "a"
    assert e.line == late.line
    assert e.record == late.record
    assert e.offset == late.offset
    assert late.path.read_bytes()[e.offset :].startswith(late.value.encode())
    assert f'"{late.value}"' in str(e)
    assert f"line {late.line}" in str(e)
    assert list_dir(out_dir) == []


def test_convert_late_bad_value_after_first_row_group(late_bad_csv, out_dir, list_dir):
    # Row groups were already flushed when the bad value turns up: still no partial file.
    late = late_bad_csv("int")
    assert late.good_rows > 5 * 100_000
    with pytest.raises(DecodeError) as info:
        logflow.convert(late.path, out_dir / "out.parquet", row_group_size=100_000)
    assert info.value.line == late.line
    assert list_dir(out_dir) == []


def test_convert_bad_row_early_in_large_file_raises_promptly(csv_50mb, in_dir, out_dir, list_dir):
    # Regression: a bad record about 5 MB into a 50 MB file, with the reader and decode
    # workers busy on later chunks when the error reaches the writer, used to hang strict
    # convert() for ever (reader blocked on the full work queue). Run in a subprocess so a
    # hang fails this test instead of freezing the session.
    data = csv_50mb.read_bytes()
    cut = data.index(b"\n", 5_000_000) + 1
    src = in_dir / "bad_early.csv"
    src.write_bytes(data[:cut] + b"1,2,3\n" + data[cut:])
    line = data[:cut].count(b"\n") + 1
    code = (
        "import sys, logflow\n"
        "try:\n"
        "    logflow.convert(sys.argv[1], sys.argv[2])\n"
        "except logflow.errors.DecodeError as e:\n"
        "    print(e.line, e.offset)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(src), str(out_dir / "out.parquet")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("convert() did not return within 10 s (a healthy run takes about 1 s)")
    assert proc.returncode == 0, stderr
    assert stdout.split() == [str(line), str(cut)]
    assert list_dir(out_dir) == []


def test_convert_same_type_in_sample_converts(late_bad_csv, out_dir):
    # Control for the late-value cases: without the bad row the same file converts.
    late = late_bad_csv("int_good")
    r = logflow.convert(late.path, out_dir / "out.parquet")
    assert r.rows_written == late.good_rows + 1
    assert r.schema.field("a").type == pa.int64()


def test_convert_inference_sees_whole_first_chunk_not_first_batch(in_dir, out_dir):
    # The old premise of the late cases: with batch_size=10 the bad value on line 102 was
    # outside the sample. Inference now reads the whole first 4 MiB chunk, whatever the
    # batch size, so it sees "oops": the column is text and the file converts (strict).
    src = in_dir / "late.csv"
    src.write_text(LATE_BAD)
    r = logflow.convert(src, out_dir / "out.parquet", batch_size=10)
    assert r.rows_written == 101
    assert r.schema.field("a").type == pa.string()
    column = pq.read_table(out_dir / "out.parquet").column("a").to_pylist()
    assert column == [str(i) for i in range(100)] + ["oops"]


def test_convert_unterminated_quote_position(in_dir, out_dir):
    src, _ = _make_input(in_dir, "unterminated_quote")
    with pytest.raises(DecodeError) as info:
        logflow.convert(src, out_dir / "out.parquet")
    e = info.value
    assert e.line == 3
    assert e.offset == len(b"a,b\n1,2\n")
    assert "quote" in str(e)
    assert str(src) in str(e)


@pytest.mark.parametrize(
    ("content", "record"),
    [
        (b'a,b\n1,2\n3,"never closed\n', 2),
        (b'a,b\n"never closed\n', 1),
        (b'a,b\n1,2\n3,4\n5,6\n7,"abc\n\n8,9\n', 4),
    ],
    ids=["second-record", "first-record", "fourth-record"],
)
def test_convert_unterminated_quote_record_number(in_dir, out_dir, content, record):
    src = in_dir / "q.csv"
    src.write_bytes(content)
    with pytest.raises(DecodeError) as info:
        logflow.convert(src, out_dir / "out.parquet")
    assert info.value.record == record


def test_convert_empty_error_names_path(in_dir, out_dir):
    src, _ = _make_input(in_dir, "empty")
    with pytest.raises(EmptyInputError) as info:
        logflow.convert(src, out_dir / "out.parquet")
    assert info.value.path == str(src)
    assert str(src) in str(info.value)


def test_convert_missing_input_is_file_not_found(in_dir, out_dir):
    src = in_dir / "nope.csv"
    with pytest.raises(FileNotFoundError) as info:
        logflow.convert(src, out_dir / "out.parquet")
    assert isinstance(info.value, InputNotFoundError)
    assert info.value.path == str(src)
    assert str(src) in str(info.value)


def test_convert_directory_input_is_not_a_file(in_dir, out_dir):
    with pytest.raises(NotAFileError) as info:
        logflow.convert(in_dir, out_dir / "out.parquet")
    assert info.value.path == str(in_dir)


def test_convert_unsupported_format_names_format(in_dir, out_dir):
    src, _ = _make_input(in_dir, "png")
    with pytest.raises(UnsupportedFormatError) as info:
        logflow.convert(src, out_dir / "out.parquet")
    assert "binary data" in str(info.value)
    assert info.value.path == str(src)


def test_convert_unknown_compression_message_lists_codecs(in_dir, out_dir):
    src, kwargs = _make_input(in_dir, "unknown_compression")
    with pytest.raises(ValueError, match="brotli") as info:
        logflow.convert(src, out_dir / "out.parquet", **kwargs)
    for codec in ("zstd", "snappy", "gzip", "lz4", "none"):
        assert codec in str(info.value)


# ------------------------------------------------------------------------------- pickling


def _library_errors(in_dir: Path, out_dir: Path) -> list[LogflowError]:
    found = []
    for case in ("ragged", "invalid_utf8", "empty", "missing", "unknown_compression"):
        src, kwargs = _make_input(in_dir, case)
        try:
            logflow.convert(src, out_dir / "out.parquet", **kwargs)
        except LogflowError as e:
            found.append(e)
    return found


FIELDS = ("message", "path", "line", "offset", "record", "column", "format")


def test_errors_pickle_roundtrip_raised(in_dir, out_dir):
    raised = _library_errors(in_dir, out_dir)
    assert len(raised) == 5
    for e in raised:
        back = pickle.loads(pickle.dumps(e))
        assert type(back) is type(e)
        assert str(back) == str(e)
        assert back.args == e.args
        for field in FIELDS:
            assert getattr(back, field) == getattr(e, field), (type(e).__name__, field)


@pytest.mark.parametrize("name", errors.__all__)
def test_errors_pickle_roundtrip_every_class(name):
    cls = getattr(errors, name)
    e = cls("msg", "p.csv", 3, 12, 2, "col", "csv")
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(e, protocol=protocol))
        assert type(back) is cls
        assert [getattr(back, f) for f in FIELDS] == ["msg", "p.csv", 3, 12, 2, "col", "csv"]
        assert str(back) == "msg"


@pytest.mark.parametrize("name", errors.__all__)
def test_errors_every_class_is_logflow_error(name):
    assert issubclass(getattr(errors, name), LogflowError)


# ------------------------------------------------------------------------ output handling


def test_convert_output_is_directory_fails_cleanly(sample_csv, out_dir, list_dir):
    target = out_dir / "already_a_dir.parquet"
    target.mkdir()
    with pytest.raises(LogflowError) as info:
        logflow.convert(sample_csv, target)
    assert str(target) in str(info.value)
    assert target.is_dir()
    assert list_dir(target) == []
    assert list_dir(out_dir) == ["already_a_dir.parquet"]


def test_convert_output_dir_missing_fails_cleanly(sample_csv, out_dir, list_dir):
    dst = out_dir / "no" / "such" / "dir.parquet"
    with pytest.raises(WriteError) as info:
        logflow.convert(sample_csv, dst)
    assert isinstance(info.value, StorageError)
    assert isinstance(info.value, OSError)
    assert info.value.path == str(dst)
    assert str(dst) in str(info.value)
    assert list_dir(out_dir) == []


def test_convert_output_dir_missing_is_not_input_not_found(sample_csv, out_dir):
    with pytest.raises(StorageError) as info:
        logflow.convert(sample_csv, out_dir / "no" / "dir.parquet")
    assert not isinstance(info.value, InputNotFoundError)
    assert not isinstance(info.value, FileNotFoundError)  # the input is there
    assert isinstance(info.value, WriteError)


def test_write_error_is_storage_error():
    assert issubclass(WriteError, StorageError)
    assert issubclass(WriteError, OSError)
    assert not issubclass(WriteError, InputNotFoundError)


def test_convert_existing_output_replaced_on_success(sample_csv, out_dir, list_dir):
    dst = out_dir / "out.parquet"
    dst.write_bytes(b"old contents, not parquet")
    r = logflow.convert(sample_csv, dst)
    assert pq.read_table(dst).num_rows == 12
    assert dst.stat().st_size == r.bytes_written
    assert list_dir(out_dir) == ["out.parquet"]


@pytest.mark.parametrize("case", ["ragged", "late_bad_int", "empty", "unknown_compression"])
def test_convert_existing_output_untouched_on_failure(
    in_dir, out_dir, list_dir, late_bad_csv, case
):
    dst = out_dir / "out.parquet"
    old = b"old contents, not parquet"
    dst.write_bytes(old)
    src, kwargs = _make_input(in_dir, case, late_bad_csv)
    with pytest.raises(LogflowError):
        logflow.convert(src, dst, **kwargs)
    assert dst.read_bytes() == old
    assert list_dir(out_dir) == ["out.parquet"]


def test_convert_output_same_as_input_rejected_or_safe(write_csv, list_dir):
    # Converting a file onto itself must not destroy the input on failure.
    src = write_csv("a,b\n1,2\n3\n")
    before = src.read_bytes()
    with pytest.raises(DecodeError):
        logflow.convert(src, src)
    assert src.read_bytes() == before
    assert list_dir(src.parent) == [src.name]


def _raise_from(fn: Callable[[], object]) -> BaseException:
    try:
        fn()
    except BaseException as e:
        return e
    raise AssertionError("no exception")


def test_errors_catchable_as_stdlib(in_dir, out_dir):
    missing = _raise_from(lambda: logflow.convert(in_dir / "x.csv", out_dir / "o.parquet"))
    assert isinstance(missing, FileNotFoundError)
    assert isinstance(missing, OSError)
    src, _ = _make_input(in_dir, "ragged")
    ragged = _raise_from(lambda: logflow.convert(src, out_dir / "o.parquet"))
    assert isinstance(ragged, ValueError)
    assert not isinstance(ragged, OSError)
