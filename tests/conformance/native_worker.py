"""Reads conformance files with logflow and with the reference reader, in a child process.

Run by ``test_native_conformance.py`` as ``python native_worker.py KIND MEMORY_MB FILE...``
under an address-space limit, so a crash, a hang or a memory blow-up on one file fails that
file's test instead of the test run. Prints one JSON line per file:

- ``ref``: ``"ok"`` when the reference reader (pyarrow, or fastavro for Avro) reads the file;
- ``read`` / ``convert``: ``"ok"``, ``"typed: <class>"`` for a ``logflow.errors`` exception, or
  ``"untyped: <class>: <message>"`` for anything else;
- ``equal`` / ``converted_equal``: whether logflow's table has the reference's values and
  types (``convert`` is read back with pyarrow).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import os
import resource
import sys
import tempfile
import uuid
from typing import Any


def _norm(v: Any) -> Any:
    """A value comparable across readers: NaN equal to NaN, maps as pairs, uuids as text."""
    if isinstance(v, float) and math.isnan(v):
        return "NaN"
    if isinstance(v, dict):
        # An empty map is {} from fastavro and [] from pyarrow (a struct is never empty).
        return {k: _norm(x) for k, x in v.items()} if v else []
    if isinstance(v, list) and v and all(isinstance(x, tuple) and len(x) == 2 for x in v):
        # A map from pyarrow: (key, value) pairs.
        return {k: _norm(x) for k, x in v}
    if isinstance(v, (list, tuple)):
        return [_norm(x) for x in v]
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.astimezone(dt.UTC)
    if isinstance(v, decimal.Decimal):
        return v.normalize()
    return v


def _same(got: Any, want: Any) -> bool:
    """Tables (or rows) with the same types and values."""
    import pyarrow as pa

    if isinstance(want, pa.Table):
        if not got.schema.equals(want.schema):
            return False
        return got.equals(want) or _norm(got.to_pylist()) == _norm(want.to_pylist())
    return _norm(got.to_pylist()) == _norm(list(want))


def _reference(kind: str, path: str) -> Any:
    if kind == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path)
    if kind == "ipc":
        import pyarrow.ipc as ipc

        try:
            return ipc.open_file(path).read_all()
        except Exception:
            return ipc.open_stream(path).read_all()
    import fastavro

    with open(path, "rb") as f:
        return list(fastavro.reader(f))


def _outcome(e: BaseException) -> str:
    from logflow.errors import LogflowError

    if isinstance(e, LogflowError):
        return f"typed: {type(e).__name__}"
    return f"untyped: {type(e).__name__}: {str(e)[:200]}"


def check(kind: str, path: str, out_dir: str) -> dict[str, Any]:
    import pyarrow.parquet as pq

    import logflow

    res: dict[str, Any] = {"path": path}
    try:
        want = _reference(kind, path)
        res["ref"] = "ok"
    except Exception as e:
        want = None
        res["ref"] = f"{type(e).__name__}: {str(e)[:120]}"
    try:
        got = logflow.read(path, error_policy="strict").read_all()
        res["read"] = "ok"
        if want is not None:
            res["equal"] = _same(got, want)
    except Exception as e:
        res["read"] = _outcome(e)
    dst = os.path.join(out_dir, "out.parquet")
    try:
        logflow.convert(path, dst)
        res["convert"] = "ok"
        if want is not None and kind == "parquet":
            res["converted_equal"] = _same(pq.read_table(dst), want)
    except Exception as e:
        res["convert"] = _outcome(e)
    return res


def main() -> None:
    kind, memory_mb, *paths = sys.argv[1:]
    limit = int(memory_mb) << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    with tempfile.TemporaryDirectory() as out_dir:
        for path in paths:
            print(json.dumps({"start": path}), flush=True)
            print(json.dumps(check(kind, path, out_dir), default=str), flush=True)


if __name__ == "__main__":
    main()
