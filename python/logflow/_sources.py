"""Where data sits: what ``src`` may be, resolved into what the native module reads.

- A local path: as it is (the native module opens it).
- A directory: every file under it, recursively, in name order, hidden (``.x``) and
  underscore (``_x``) files and folders left out, as dataset readers do.
- A glob (``logs/2024-*.csv.gz``, ``**`` for any depth): the matching files in name order.
- ``file://`` URIs: local paths.
- ``s3://``, ``gs://``, ``az://`` (``abfs://``, ``adl://``, ...): objects read through
  obstore with range reads of 4 MiB (a glob or a trailing ``/`` lists them);
  ``storage_options`` configures the store (``endpoint``, ``region``, credentials,
  ``client_options``, ...: obstore's names).
- ``http(s)://``: streamed by :class:`logflow._http.HttpReader` (``storage_options``:
  ``timeout``, ``max_size``, ``retries``, ``headers``).
- ``bytes``/``bytearray``/``memoryview``; a binary file-like (anything with ``read``); an
  iterator of ``bytes`` chunks (a generator, ``iter(...)``).
- A list or tuple of any of these: many sources in one run.

Many sources become a list of ``(name, input, fingerprint)`` tuples, the fingerprint
holding what a listing already says (size, modification time, ETag).
"""

from __future__ import annotations

import glob as _glob
import os
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Union

from logflow.errors import (
    ConfigError,
    InputNotFoundError,
    NotAFileError,
    NotInstalledError,
    ObjectNotFoundError,
    StorageError,
)

__all__ = ["Native", "SourceLike", "display_name", "resolve"]

Native = Any
"""What the native functions take: a path, bytes, a file-like, or a list of tuples."""

SourceLike = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, Any]
"""A path, directory, glob or URL (``file://``, ``s3://``, ``gs://``, ``az://``,
``http(s)://``); ``bytes``; a binary file-like; an iterator of ``bytes``; or a list of
these."""

_OBJECT_SCHEMES = {"s3", "s3a", "gs", "gcs", "az", "azure", "abfs", "abfss", "adl"}
_HTTP_SCHEMES = {"http", "https"}
_GLOB_CHARS = "*?["
# Bytes obstore asks for per range request (the native reader reads 4 MiB blocks).
_RANGE_BYTES = 4 << 20


def _scheme(s: str) -> str:
    head, sep, _ = s.partition("://")
    return head.lower() if sep and head.isalnum() and len(head) > 1 else ""


def _has_glob(s: str) -> bool:
    return any(c in s for c in _GLOB_CHARS)


def _hidden(name: str) -> bool:
    return name.startswith((".", "_"))


def _directory_files(root: str) -> list[str]:
    out: list[str] = []
    for here, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not _hidden(d))
        out.extend(os.path.join(here, f) for f in sorted(files) if not _hidden(f))
    return out


def _local(path: str) -> list[str] | str:
    """A local path, directory or glob: the path itself, or the files it names."""
    if os.path.isdir(path):
        files = _directory_files(path)
        if not files:
            raise NotAFileError(f"{path}: is a directory holding no files to read", path=path)
        return files
    if _has_glob(path) and not os.path.exists(path):
        files = sorted(p for p in _glob.glob(path, recursive=True) if os.path.isfile(p))
        if not files:
            raise InputNotFoundError(f"{path}: no file matches", path=path)
        return files
    return path


class _Chunks:
    """An iterator of ``bytes`` chunks as a binary file-like."""

    name = "<stream>"

    def __init__(self, chunks: Iterable[Any]) -> None:
        self._chunks: Iterator[Any] = iter(chunks)
        self._rest = b""

    def seekable(self) -> bool:
        return False

    def read(self, size: int = -1) -> bytes:
        parts = [self._rest] if self._rest else []
        have = len(self._rest)
        self._rest = b""
        while size < 0 or have < size:
            try:
                chunk = next(self._chunks)
            except StopIteration:
                break
            if not isinstance(chunk, bytes | bytearray | memoryview):
                raise TypeError(f"an iterator input yields bytes, got {type(chunk).__name__}")
            chunk = bytes(chunk)
            parts.append(chunk)
            have += len(chunk)
        data = b"".join(parts)
        if size >= 0 and len(data) > size:
            data, self._rest = data[:size], data[size:]
        return data


def _object_store(
    url: str, storage_options: Mapping[str, Any] | None
) -> list[tuple[str, Any, dict[str, Any]]]:
    """The objects a URL names: one, or those a glob or a trailing ``/`` lists.

    Each comes with a range-reading file-like and what the listing says of it.
    """
    try:
        import obstore
        from obstore.store import from_url
    except ImportError as e:
        raise NotInstalledError(
            f"{url}: object storage needs obstore: pip install 'logflow[cloud]'"
        ) from e
    parsed = urllib.parse.urlsplit(url)
    root = f"{parsed.scheme}://{parsed.netloc}"
    key = urllib.parse.unquote(parsed.path.lstrip("/"))
    try:
        store = from_url(root, **dict(storage_options or {}))
    except Exception as e:  # obstore raises its own classes for bad configuration
        raise ConfigError(f"{url}: cannot make an object store: {e}", path=url) from e
    try:
        if _has_glob(key) or key.endswith("/") or not key:
            import fnmatch

            cut = min((key.find(c) for c in _GLOB_CHARS if c in key), default=len(key))
            prefix = key[:cut].rpartition("/")[0]
            metas = [
                m
                for page in obstore.list(store, prefix or None, chunk_size=1000)
                for m in page
                if (fnmatch.fnmatchcase(m["path"], key) if _has_glob(key) else True)
                and not any(_hidden(part) for part in m["path"][len(prefix) :].split("/") if part)
            ]
            metas.sort(key=lambda m: m["path"])
            if not metas:
                raise InputNotFoundError(f"{url}: no object matches", path=url)
        else:
            metas = [obstore.head(store, key)]
        out = []
        for m in metas:
            name = f"{root}/{m['path']}"
            reader = obstore.open_reader(store, m["path"], buffer_size=_RANGE_BYTES, size=m["size"])
            modified = m.get("last_modified")
            fingerprint = {
                "size": m["size"],
                "etag": m.get("e_tag"),
                "mtime": modified.timestamp() if modified is not None else None,
            }
            out.append((name, reader, fingerprint))
        return out
    except (InputNotFoundError, ConfigError):
        raise
    except FileNotFoundError as e:
        raise ObjectNotFoundError(f"{url}: not found", path=url) from e
    except Exception as e:
        if type(e).__name__ == "NotFoundError":
            raise ObjectNotFoundError(f"{url}: not found", path=url) from e
        raise StorageError(f"{url}: {e}", path=url) from e


def _one(
    src: SourceLike, storage_options: Mapping[str, Any] | None
) -> list[tuple[str, Any, dict[str, Any]]] | str:
    """One source: a path string (left to the native module) or named inputs."""
    if isinstance(src, bytes | bytearray | memoryview):
        return [("<bytes>", bytes(src) if not isinstance(src, bytes) else src, {})]
    if isinstance(src, str | os.PathLike):
        s = os.fspath(src)
        if isinstance(s, bytes):
            s = os.fsdecode(s)
        scheme = _scheme(s)
        if scheme == "file":
            parsed = urllib.parse.urlsplit(s)
            s = urllib.parse.unquote(parsed.path)
            scheme = ""
        if scheme in _OBJECT_SCHEMES:
            return _object_store(s, storage_options)
        if scheme in _HTTP_SCHEMES:
            from logflow._http import HttpOptions, HttpReader

            reader = HttpReader(s, HttpOptions(storage_options))
            return [(s, reader, reader.fingerprint())]
        if scheme:
            raise ConfigError(
                f"{s}: unknown scheme {scheme!r}; local paths, file://, s3://, gs://, az://, "
                "http(s):// are read",
                path=s,
            )
        local = _local(s)
        if isinstance(local, str):
            return local
        return [(p, p, {}) for p in local]
    if hasattr(src, "read"):
        name = getattr(src, "name", None)
        return [(name if isinstance(name, str) else "<stream>", src, {})]
    if isinstance(src, Iterable):
        return [("<stream>", _Chunks(src), {})]
    raise TypeError(
        "src is a path, glob, directory, URL, bytes, a binary file-like, an iterator of "
        f"bytes, or a list of these; got {type(src).__name__}"
    )


def resolve(src: SourceLike, storage_options: Mapping[str, Any] | None = None) -> Native:
    """What the native functions take for ``src`` (see the module docs)."""
    if isinstance(src, list | tuple):
        if not src:
            raise ConfigError("src: an empty list of sources")
        out: list[tuple[str, Any, dict[str, Any]]] = []
        for item in src:
            one = _one(item, storage_options)
            out.extend([(one, one, {})] if isinstance(one, str) else one)
        return out
    one = _one(src, storage_options)
    if isinstance(one, list) and len(one) == 1 and isinstance(one[0][1], str):
        return one[0][1]
    return one


def display_name(src: SourceLike) -> str:
    """A path-like name of ``src`` for suffix checks (``.tsv``), or ``""``."""
    if isinstance(src, str | os.PathLike):
        s = os.fspath(src)
        return os.fsdecode(s) if isinstance(s, bytes) else s
    name = getattr(src, "name", None)
    return name if isinstance(name, str) else ""
