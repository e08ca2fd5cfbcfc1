"""Object storage and HTTP sources, against real servers on loopback that the tests start.

S3: moto's server mode (a real S3-compatible HTTP server, no client mocking), started on
127.0.0.1 with a free port for the session. HTTP: a ``http.server`` thread that serves
range requests and can be told to be slow or to drop a connection.
"""

from __future__ import annotations

import gzip
import io
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pyarrow.parquet as pq
import pytest

import logflow
from logflow.errors import (
    LimitExceededError,
    ObjectNotFoundError,
    StorageError,
)

# ----------------------------------------------------------------------------------------
# S3 on loopback


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def s3() -> Iterator[dict[str, Any]]:
    """A moto S3 server on 127.0.0.1 and the storage options that reach it."""
    server_mod = pytest.importorskip("moto.server")
    port = _free_port()
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        yield {
            "endpoint": endpoint,
            "region": "us-east-1",
            "access_key_id": "testing",
            "secret_access_key": "testing",
            "client_options": {"allow_http": True},
        }
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_client(s3: dict[str, Any]) -> Any:
    boto3 = pytest.importorskip("boto3")
    client = boto3.client(
        "s3",
        endpoint_url=s3["endpoint"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket="lake")
    return client


def test_s3_and_local_give_identical_parquet_bytes(s3, s3_client, event_log_csv, out_dir):
    data = event_log_csv.read_bytes()
    s3_client.put_object(Bucket="lake", Key="events/events.csv", Body=data)
    local = logflow.convert(event_log_csv, out_dir / "local.parquet")
    remote = logflow.convert(
        "s3://lake/events/events.csv",
        out_dir / "s3.parquet",
        storage_options=s3,
        fingerprint="sha256",
    )
    assert (out_dir / "local.parquet").read_bytes() == (out_dir / "s3.parquet").read_bytes()
    assert remote.rows_written == local.rows_written == 200_000
    (src,) = remote.sources
    assert src.path == "s3://lake/events/events.csv"
    assert src.fingerprint.size == len(data)
    assert src.fingerprint.etag
    assert src.fingerprint.mtime is not None
    import hashlib

    assert src.fingerprint.sha256 == hashlib.sha256(data).hexdigest()


def test_s3_is_read_with_range_requests_not_downloaded_first(s3, s3_client, out_dir):
    # A 12 MB object: read in 4 MiB ranges as the decoder goes.
    body = b"id,v\n" + b"".join(b"%d,%d\n" % (i, i * 7) for i in range(1_200_000))
    s3_client.put_object(Bucket="lake", Key="big/ranges.csv", Body=body)
    import obstore

    calls: list[int] = []
    original = obstore.open_reader

    def counting_open(*args: Any, **kwargs: Any) -> Any:
        reader = original(*args, **kwargs)
        calls.append(kwargs.get("buffer_size", 0))
        return reader

    obstore.open_reader = counting_open  # the real reader, only counted
    try:
        r = logflow.convert("s3://lake/big/ranges.csv", out_dir / "r.parquet", storage_options=s3)
    finally:
        obstore.open_reader = original
    assert r.rows_written == 1_200_000
    assert calls == [4 << 20]


def test_s3_glob_prefix_and_zip_members(s3, s3_client, out_dir):
    for i in range(5):
        text = b"id,day\n" + b"".join(b"%d,2024-05-%02d\n" % (i * 10 + j, j + 1) for j in range(10))
        s3_client.put_object(Bucket="lake", Key=f"logs/2024-{i}.csv.gz", Body=gzip.compress(text))
    s3_client.put_object(Bucket="lake", Key="logs/readme.txt", Body=b"skip me")
    s3_client.put_object(Bucket="lake", Key="logs/_SUCCESS", Body=b"")
    r = logflow.convert(
        "s3://lake/logs/2024-*.csv.gz",
        out_dir / "g.parquet",
        storage_options=s3,
        include_file_name=True,
    )
    assert r.rows_written == 50
    assert [s.path for s in r.sources] == [f"s3://lake/logs/2024-{i}.csv.gz" for i in range(5)]
    t = pq.read_table(out_dir / "g.parquet")
    assert t.column("file_name").to_pylist()[0] == "s3://lake/logs/2024-0.csv.gz"
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(3):
            z.writestr(f"m{i}.csv", f"a,b\n{i},x\n")
    s3_client.put_object(Bucket="lake", Key="zips/three.zip", Body=b.getvalue())
    r = logflow.convert("s3://lake/zips/three.zip", out_dir / "z.parquet", storage_options=s3)
    assert r.rows_written == 3
    assert r.sources[0].path == "s3://lake/zips/three.zip/m0.csv"


def test_s3_detect_read_and_missing_objects(s3, s3_client, sample_csv, out_dir):
    s3_client.put_object(
        Bucket="lake", Key="s/sample.csv.gz", Body=gzip.compress(sample_csv.read_bytes())
    )
    d = logflow.detect("s3://lake/s/sample.csv.gz", storage_options=s3)
    assert (d.compression.value, d.format.value) == ("gzip", "csv")
    assert logflow.read("s3://lake/s/", storage_options=s3).read_all().num_rows == 12
    with pytest.raises(ObjectNotFoundError):
        logflow.convert("s3://lake/s/nope.csv", out_dir / "o.parquet", storage_options=s3)
    with pytest.raises(FileNotFoundError):
        logflow.convert("s3://lake/none/*.csv", out_dir / "o.parquet", storage_options=s3)


# ----------------------------------------------------------------------------------------
# HTTP on loopback


class _Handler(BaseHTTPRequestHandler):
    """Serves ``files`` with ``Range`` support; ``/slow/...`` stalls, ``/drop/...`` cuts
    the first response short, ``/flaky/...`` answers 503 first, ``/noranges/...`` ignores
    ranges."""

    files: ClassVar[dict[str, bytes]] = {}
    dropped: ClassVar[set[str]] = set()
    requests: ClassVar[list[tuple[str, str | None]]] = []

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        mode, _, name = self.path.lstrip("/").partition("/")
        self.requests.append((self.path, self.headers.get("Range")))
        data = self.files.get(name)
        if data is None:
            self.send_error(404)
            return
        if mode == "flaky" and self.path not in self.dropped:
            self.dropped.add(self.path)
            self.send_error(503)
            return
        start = 0
        rng = self.headers.get("Range")
        ranges = mode != "noranges"
        if rng and ranges:
            start = int(rng.removeprefix("bytes=").split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", '"v1"')
        self.send_header("Last-Modified", "Tue, 01 Oct 2024 10:00:00 GMT")
        if ranges:
            self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if mode == "slow":
            time.sleep(3)
        if mode == "drop" and self.path not in self.dropped:
            self.dropped.add(self.path)
            self.wfile.write(body[: len(body) // 3])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


@pytest.fixture(scope="module")
def http_base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_http_streams_with_fingerprint(http_base, sample_csv, out_dir):
    _Handler.files["sample.csv"] = sample_csv.read_bytes()
    r = logflow.convert(f"{http_base}/plain/sample.csv", out_dir / "h.parquet")
    local = logflow.convert(sample_csv, out_dir / "l.parquet")
    assert (out_dir / "h.parquet").read_bytes() == (out_dir / "l.parquet").read_bytes()
    (src,) = r.sources
    assert src.fingerprint.etag == '"v1"'
    assert src.fingerprint.size == len(sample_csv.read_bytes())
    assert src.fingerprint.mtime == 1727776800.0
    assert r.rows_written == local.rows_written
    assert logflow.detect(f"{http_base}/plain/sample.csv").format.value == "csv"
    assert logflow.read(f"{http_base}/plain/sample.csv").read_all().num_rows == 12


def test_http_dropped_connection_resumes_with_a_range(http_base, out_dir):
    body = b"id,v\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(300_000))
    _Handler.files["drop.csv"] = body
    _Handler.requests.clear()
    r = logflow.convert(f"{http_base}/drop/drop.csv", out_dir / "d.parquet")
    assert r.rows_written == 300_000
    ranges = [rng for path, rng in _Handler.requests if path == "/drop/drop.csv"]
    assert ranges[0] is None and ranges[1] is not None and ranges[1].startswith("bytes=")


def test_http_server_errors_are_retried_within_the_limit(http_base, out_dir):
    _Handler.files["flaky.csv"] = b"a,b\n1,2\n"
    r = logflow.convert(f"{http_base}/flaky/flaky.csv", out_dir / "f.parquet")
    assert r.rows_written == 1
    _Handler.files["flaky2.csv"] = b"a,b\n1,2\n"
    with pytest.raises(StorageError, match="503"):
        logflow.convert(
            f"{http_base}/flaky/flaky2.csv", out_dir / "g.parquet", storage_options={"retries": 0}
        )


def test_http_limits_timeout_size_and_missing(http_base, out_dir, list_dir):
    _Handler.files["s.csv"] = b"a\n1\n"
    _Handler.files["big.csv"] = b"a\n" + b"1\n" * 100_000
    started = time.perf_counter()
    with pytest.raises(StorageError):
        logflow.convert(
            f"{http_base}/slow/s.csv",
            out_dir / "o.parquet",
            storage_options={"timeout": 0.3, "retries": 1},
        )
    assert time.perf_counter() - started < 3
    with pytest.raises(LimitExceededError, match="max_size"):
        logflow.convert(
            f"{http_base}/plain/big.csv", out_dir / "o.parquet", storage_options={"max_size": 1000}
        )
    # Without a Content-Length check: the limit also stops a stream as it is read.
    from logflow._http import HttpOptions, HttpReader

    reader = HttpReader(f"{http_base}/plain/big.csv", HttpOptions({"max_size": 10**6}))
    reader._opts.max_size = 5000
    with pytest.raises(LimitExceededError):
        while reader.read(4096):
            pass
    with pytest.raises(ObjectNotFoundError):
        logflow.convert(f"{http_base}/plain/missing.csv", out_dir / "o.parquet")
    with pytest.raises(logflow.errors.ConfigError):
        logflow.convert(
            f"{http_base}/plain/s.csv", out_dir / "o.parquet", storage_options={"bogus": 1}
        )
    assert list_dir(out_dir) == []


def test_http_zip_is_read_through_range_requests(http_base, out_dir):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(4):
            z.writestr(f"p{i}.csv", f"a,b\n{i},x\n{i},y\n")
    _Handler.files["four.zip"] = b.getvalue()
    r = logflow.convert(f"{http_base}/plain/four.zip", out_dir / "z.parquet")
    assert r.rows_written == 8
    with pytest.raises(logflow.errors.UnsupportedFormatError, match="seekable"):
        logflow.convert(f"{http_base}/noranges/four.zip", out_dir / "z.parquet")


def test_unknown_scheme_is_a_config_error(out_dir):
    with pytest.raises(logflow.errors.ConfigError, match="scheme"):
        logflow.convert("ftp://example.invalid/x.csv", out_dir / "o.parquet")


def test_s3_paths_exist_in_sources_module():
    from logflow import _sources

    assert _sources.resolve(str(Path(__file__))) == str(Path(__file__))
