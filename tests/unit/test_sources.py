"""Where data sits: globs, directories, zip members, bytes, file-likes and iterators."""

from __future__ import annotations

import gzip
import hashlib
import io
import signal
import threading
import time
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import logflow
from logflow.errors import (
    EncryptedInputError,
    InputNotFoundError,
    LimitExceededError,
    NotAFileError,
    SchemaError,
    UnsafeArchiveError,
    UnsupportedFormatError,
)

HEADER = "id,ts,amount,name"


def _rows(i: int, n: int, extra: bool = False) -> str:
    lines = [HEADER + (",extra" if extra else "")]
    for j in range(n):
        row = f"{i * n + j},2024-01-{1 + j % 28:02d}T10:{j % 60:02d}:00,{(i * j) % 997}.5,n{j % 31}"
        lines.append(row + (f",e{j}" if extra else ""))
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def glob_200(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 gzip CSV files of 5,000 rows; every 50th has an extra column."""
    d = tmp_path_factory.mktemp("glob200")
    for i in range(200):
        text = _rows(i, 5000, extra=i % 50 == 49)
        (d / f"2024-{i:03d}.csv.gz").write_bytes(gzip.compress(text.encode(), compresslevel=1))
    (d / "other.txt").write_text("not matched\n")
    return d


def test_glob_of_200_gzip_files_is_one_table_with_the_merged_schema(glob_200, out_dir):
    pattern = str(glob_200 / "2024-*.csv.gz")
    times = {}
    results = {}
    for threads in (1, None):
        dst = out_dir / f"glob-{threads}.parquet"
        t = time.perf_counter()
        results[threads] = logflow.convert(pattern, dst, threads=threads)
        times[threads] = time.perf_counter() - t
    print(f"200-file glob: 1 thread {times[1]:.2f} s, default {times[None]:.2f} s")
    r = results[None]
    assert r.rows_read == r.rows_written == 200 * 5000
    assert len(r.sources) == 200
    assert [s.path for s in r.sources] == sorted(str(p) for p in glob_200.glob("2024-*.csv.gz"))
    assert all(s.rows_written == 5000 and s.compression == "gzip" for s in r.sources)
    assert r.input_compression == "gzip"
    assert r.schema.names == ["id", "ts", "amount", "name", "extra"]
    one = pq.read_table(out_dir / "glob-1.parquet")
    default = pq.read_table(out_dir / "glob-None.parquet")
    assert one.equals(default)
    assert default.num_rows == 1_000_000
    assert default.column("id").to_pylist()[:3] == [0, 1, 2]
    assert default.column("extra").null_count == 196 * 5000
    assert pa.compute.sum(default.column("id")).as_py() == sum(range(1_000_000))


def test_directory_reads_every_file_but_hidden_ones(in_dir, out_dir):
    (in_dir / "b").mkdir()
    (in_dir / "a.csv").write_text("x,y\n1,2\n")
    (in_dir / "b" / "c.csv").write_text("x,y\n3,4\n")
    (in_dir / ".hidden.csv").write_text("x,y\n9,9\n")
    (in_dir / "_SUCCESS").write_text("")
    r = logflow.convert(in_dir, out_dir / "o.parquet", include_file_name=True)
    assert [Path(s.path).name for s in r.sources] == ["a.csv", "c.csv"]
    t = pq.read_table(out_dir / "o.parquet")
    assert t.column("x").to_pylist() == [1, 3]
    assert [Path(p).name for p in t.column("file_name").to_pylist()] == ["a.csv", "c.csv"]


def test_empty_directory_and_unmatched_glob_are_typed_errors(in_dir, out_dir, list_dir):
    with pytest.raises(NotAFileError):
        logflow.convert(in_dir, out_dir / "o.parquet")
    with pytest.raises(InputNotFoundError):
        logflow.convert(str(in_dir / "*.csv"), out_dir / "o.parquet")
    assert list_dir(out_dir) == []


def test_one_file_result_has_its_source(sample_csv, out_dir):
    r = logflow.convert(sample_csv, out_dir / "o.parquet", fingerprint="sha256")
    (s,) = r.sources
    data = sample_csv.read_bytes()
    assert s.path == str(sample_csv)
    assert s.fingerprint.size == len(data)
    assert s.fingerprint.sha256 == hashlib.sha256(data).hexdigest()
    assert s.fingerprint.mtime == pytest.approx(sample_csv.stat().st_mtime, abs=1e-3)
    assert (s.rows_read, s.rows_written) == (r.rows_read, r.rows_written)
    plain = logflow.convert(sample_csv, out_dir / "p.parquet")
    assert plain.sources[0].fingerprint.sha256 is None


def test_file_uri_and_lists_of_sources(sample_csv, in_dir, out_dir):
    other = in_dir / "more.csv"
    other.write_bytes(sample_csv.read_bytes())
    r = logflow.convert([sample_csv.as_uri(), str(other)], out_dir / "o.parquet")
    assert r.rows_written == 2 * 12
    assert [s.path for s in r.sources] == [str(sample_csv), str(other)]


def test_bytes_file_like_and_iterator_give_the_same_table(sample_csv, out_dir):
    data = sample_csv.read_bytes()
    expected = pq.read_table(logflow.convert(sample_csv, out_dir / "ref.parquet").files[0])
    chunks = [data[i : i + 100] for i in range(0, len(data), 100)]
    for name, src in [
        ("bytes", data),
        ("bytearray", bytearray(data)),
        ("memoryview", memoryview(data)),
        ("file", io.BytesIO(data)),
        ("buffered", io.BufferedReader(io.BytesIO(data))),
        ("opened", open(sample_csv, "rb")),
        ("iterator", iter(chunks)),
        ("generator", (c for c in chunks)),
    ]:
        r = logflow.convert(src, out_dir / f"{name}.parquet")
        assert pq.read_table(out_dir / f"{name}.parquet").equals(expected), name
        assert r.sources[0].fingerprint.size == len(data), name
        if hasattr(src, "close"):
            src.close()


def test_read_and_detect_take_every_source_kind(sample_csv, in_dir):
    data = sample_csv.read_bytes()
    (in_dir / "only.csv").write_bytes(data)
    makers = [
        lambda: data,
        lambda: io.BytesIO(data),
        lambda: iter([data[:50], data[50:]]),
        lambda: str(in_dir),
        lambda: _zip({"m.csv": data}),
    ]
    for make in makers:
        assert logflow.read(make()).read_all().num_rows == 12
        d = logflow.detect(make())
        assert d.format.value == "csv"
        assert d.dialect is not None and d.dialect.delimiter == ","
    assert logflow.detect(data).path == "<bytes>"
    assert logflow.detect(_zip({"m.csv": data})).path == "<bytes>/m.csv"


def test_read_of_many_files_keeps_the_first_schema(in_dir):
    (in_dir / "a.csv").write_text("x,y\n1,a\n")
    (in_dir / "b.csv").write_text("x\n2\n")  # a missing column is null
    (in_dir / "c.csv").write_text("x,y\n3.5,c\n")  # float64 does not fit int64
    s = logflow.read([in_dir / "a.csv", in_dir / "b.csv"], include_file_name="src")
    t = s.read_all()
    assert t.column("x").to_pylist() == [1, 2]
    assert t.column("y").to_pylist() == ["a", None]
    assert [Path(p).name for p in t.column("src").to_pylist()] == ["a.csv", "b.csv"]
    assert s.rows_read == 2
    with pytest.raises(SchemaError, match=r"c\.csv"):
        logflow.read([in_dir / "a.csv", in_dir / "c.csv"]).read_all()


def test_strict_schema_policy_refuses_sources_that_differ(in_dir, out_dir, list_dir):
    (in_dir / "a.csv").write_text("x,y\n1,a\n")
    (in_dir / "b.csv").write_text("x,z\n2,b\n")
    with pytest.raises(SchemaError, match=r"b\.csv"):
        logflow.convert(in_dir, out_dir / "o.parquet", schema_policy="strict")
    assert list_dir(out_dir) == []
    r = logflow.convert(in_dir, out_dir / "o.parquet")
    assert r.schema.names == ["x", "y", "z"]


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", compression=method) as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return b.getvalue()


def test_zip_with_many_members_is_many_sources(in_dir, out_dir):
    members = {f"part/{i:03d}.csv": _rows(i, 100).encode() for i in range(40)}
    members["part/"] = b""
    members["__MACOSX/part/._000.csv"] = b"\x00\x05\x16\x07"
    path = in_dir / "parts.zip"
    path.write_bytes(_zip(members))
    for src in (path, path.read_bytes(), io.BytesIO(path.read_bytes())):
        r = logflow.convert(src, out_dir / "z.parquet", include_file_name=True)
        assert r.rows_written == 4000
        assert len(r.sources) == 40
        assert r.sources[0].path.endswith("parts.zip/part/000.csv") or r.sources[0].path.endswith(
            "/part/000.csv"
        )
        assert all(s.compression == "zip" for s in r.sources)
        t = pq.read_table(out_dir / "z.parquet")
        assert t.column("id").to_pylist() == list(range(4000))


def test_zip_members_of_every_codec_python_writes(out_dir):
    for method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        data = _zip({"a.csv": b"a\n1\n", "b.csv": b"a\n2\n"}, method)
        if method == zipfile.ZIP_LZMA:
            with pytest.raises(UnsupportedFormatError, match="method 14"):
                logflow.convert(data, out_dir / "z.parquet")
            continue
        r = logflow.convert(data, out_dir / "z.parquet")
        assert r.rows_written == 2, method


def test_zip_slip_names_are_refused(out_dir, list_dir):
    for bad in ("../evil.csv", "/etc/evil.csv", "a/../../evil.csv", "C:/evil.csv"):
        data = _zip({"ok.csv": b"a\n1\n", bad: b"a\n2\n"})
        with pytest.raises(UnsafeArchiveError, match="reaches outside"):
            logflow.convert(data, out_dir / "z.parquet")
        with pytest.raises(UnsafeArchiveError):
            logflow.read(data)
    assert list_dir(out_dir) == []


def test_encrypted_zip_members_are_refused(out_dir):
    data = bytearray(_zip({"a.csv": b"a\n1\n"}, zipfile.ZIP_STORED))
    # Set the "encrypted" flag in the local and the central header.
    local = data.find(b"PK\x03\x04")
    central = data.find(b"PK\x01\x02")
    data[local + 6] |= 1
    data[central + 8] |= 1
    with pytest.raises(EncryptedInputError, match="encrypted"):
        logflow.convert(bytes(data), out_dir / "z.parquet")


def test_expansion_limits_apply_per_member(out_dir):
    body = b"a\n" + b"1\n" * 300_000
    data = _zip({"a.csv": body, "b.csv": body})
    r = logflow.convert(data, out_dir / "ok.parquet", max_decompressed_size=700_000)
    assert r.rows_written == 600_000
    with pytest.raises(LimitExceededError):
        logflow.convert(data, out_dir / "bomb.parquet", max_decompressed_size=400_000)


def test_zip_from_a_stream_that_cannot_seek_is_refused(out_dir):
    data = _zip({"a.csv": b"a\n1\n", "b.csv": b"a\n2\n"})
    with pytest.raises(UnsupportedFormatError, match="seekable"):
        logflow.convert(iter([data]), out_dir / "z.parquet")


class _SlowFile(io.RawIOBase):
    """A file-like handing out a big CSV slowly, in small reads."""

    def __init__(self, rows: int, delay: float = 0.0) -> None:
        self._data = io.BytesIO(
            b"id,v\n" + b"".join(b"%d,value %d\n" % (i, i) for i in range(rows))
        )
        self.delay = delay
        self.calls = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        return self._data.read(size)


def test_file_like_is_read_in_big_blocks(out_dir):
    f = _SlowFile(400_000)  # about 6 MB
    r = logflow.convert(f, out_dir / "o.parquet")
    assert r.rows_written == 400_000
    assert f.calls <= 4, f.calls


def test_stream_of_a_file_like_consumed_by_arrow_with_threads_does_not_deadlock():
    # pyarrow pulls the C stream while the decode threads need the GIL to read the file.
    for threads in (1, 2, 4):
        done: dict[str, int] = {}

        def consume(threads: int = threads, done: dict[str, int] = done) -> None:
            s = logflow.read(_SlowFile(600_000), threads=threads)
            done["rows"] = pa.table(s).num_rows

        t = threading.Thread(target=consume, daemon=True)
        t.start()
        t.join(60)
        assert not t.is_alive(), f"deadlock with threads={threads}"
        assert done["rows"] == 600_000


def test_exception_raised_by_a_file_like_is_raised_as_it_was(out_dir, list_dir):
    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            raise ConnectionResetError("the peer went away")

    with pytest.raises(ConnectionResetError, match="peer went away"):
        logflow.convert(Broken(), out_dir / "o.parquet")
    assert list_dir(out_dir) == []


def test_ctrl_c_stops_a_slow_file_like_quickly(out_dir, list_dir):
    import _thread

    # Reads grow to a few MiB each, so 30 MB take about ten of them: at 0.25 s a read the
    # input lasts seconds however fast the machine decodes, and the interrupt at 0.5 s
    # always lands inside the convert.
    f = _SlowFile(2_000_000, delay=0.25)
    timer = threading.Timer(0.5, _thread.interrupt_main)
    # interrupt_main() does nothing while SIGINT is ignored, as it is in a process started in
    # the background of a shell without job control: the test installs Python's handler.
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    started = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            logflow.convert(f, out_dir / "o.parquet")
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, old)
    assert time.perf_counter() - started < 5
    assert list_dir(out_dir) == []


def test_include_file_name_takes_a_column_name_and_refuses_clashes(sample_csv, out_dir):
    r = logflow.convert(sample_csv, out_dir / "o.parquet", include_file_name="origin")
    assert r.schema.names[-1] == "origin"
    t = pq.read_table(out_dir / "o.parquet")
    assert set(t.column("origin").to_pylist()) == {str(sample_csv)}
    with pytest.raises(logflow.errors.ConfigError):
        logflow.convert(sample_csv, out_dir / "x.parquet", include_file_name="activity")
    with pytest.raises(logflow.errors.ConfigError):
        logflow.convert(sample_csv, out_dir / "x.parquet", fingerprint="md5")  # type: ignore[arg-type]


def test_import_does_not_load_remote_libraries():
    import subprocess
    import sys

    code = (
        "import sys, logflow\n"
        "bad = [m for m in ('obstore', 'urllib.request', 'http.client', 'logflow._http')"
        " if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cli_takes_globs_several_paths_and_source_options(in_dir, out_dir, capsys):
    from logflow.cli import main

    for i in range(3):
        (in_dir / f"p{i}.csv").write_text(f"a,b\n{i},x\n")
    code = main(
        [
            "convert",
            str(in_dir / "p*.csv"),
            str(out_dir / "g.parquet"),
            "--sources",
            "--include-file-name",
            "--fingerprint",
            "sha256",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "(3 sources)" in out and "p2.csv: 1 read, 1 written" in out
    assert pq.read_table(out_dir / "g.parquet").column_names == ["a", "b", "file_name"]
    paths = [str(in_dir / "p0.csv"), str(in_dir / "p1.csv")]
    assert main(["convert", *paths, str(out_dir / "two.parquet"), "-q"]) == 0
    assert pq.read_table(out_dir / "two.parquet").num_rows == 2
    assert main(["detect", str(in_dir), "--storage-option", "timeout=5"]) == 0
    assert "p0.csv" in capsys.readouterr().out


def test_sources_are_started_in_parallel(out_dir):
    # Each stream's first read waits until the other's has begun: only units started side
    # by side get past it (one after another, the barrier would time out).
    barrier = threading.Barrier(2, timeout=20)

    class Meeting(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)
            self._met = False

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            if not self._met:
                self._met = True
                barrier.wait()
            return self._data.read(size)

    sources = [Meeting(b"a,b\n1,x\n"), Meeting(b"a,b\n2,y\n")]
    r = logflow.convert(sources, out_dir / "o.parquet", threads=2)
    assert r.rows_written == 2


def test_a_bad_source_among_many_fails_the_run_naming_it(in_dir, out_dir, list_dir):
    good = in_dir / "a.csv"
    good.write_text("a,b\n1,2\n")
    binary = in_dir / "b.bin"
    binary.write_bytes(bytes(range(256)) * 64)
    for threads in (1, 2):
        with pytest.raises(UnsupportedFormatError) as info:
            logflow.convert([good, good, binary, good], out_dir / "o.parquet", threads=threads)
        assert info.value.path == str(binary)
        with pytest.raises(InputNotFoundError):
            logflow.convert([good, in_dir / "missing.csv"], out_dir / "o.parquet", threads=threads)
    assert list_dir(out_dir) == []


def test_many_xml_files_and_a_binary_one_among_many(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.xml").write_text('<rows><row id="1"><n>x</n></row><row id="2"><n>y</n></row></rows>')
    (d / "b.xml").write_text('<rows><row id="3"><n>z</n><extra>1</extra></row></rows>')
    r = logflow.convert(str(d / "*.xml"), tmp_path / "o.parquet", include_file_name=True)
    t = pq.read_table(tmp_path / "o.parquet")
    assert r.rows_read == r.rows_written == 3
    assert t.column("id").to_pylist() == [1, 2, 3]
    assert t.column("extra").to_pylist() == [None, None, 1]
    assert [Path(p).name for p in t.column("file_name").to_pylist()] == ["a.xml"] * 2 + ["b.xml"]
    # Binary formats are read one local file at a time: among many they are refused.
    pq.write_table(pa.table({"id": [4]}), d / "c.parquet")
    with pytest.raises(logflow.errors.UnsupportedFormatError):
        logflow.convert([str(d / "a.xml"), str(d / "c.parquet")], tmp_path / "p.parquet")
