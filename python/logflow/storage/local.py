"""Object storage on the local file system: keys are paths under a root folder."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from logflow.errors import ConfigError, ObjectNotFoundError
from logflow.storage.base import ListPage, ObjectInfo, ObjectStorage, paginate, rollup

__all__ = ["LocalStorage"]

_META_SUFFIX = ".lfmeta"


class LocalStorage(ObjectStorage):
    """Keys are files under ``root``; writes go to a temporary file renamed into place.

    Content type and user metadata, when given, are kept in a hidden ``.<name>.lfmeta``
    file beside the object (never listed).

    Args:
        root: The folder holding the objects (created if missing).

    Example:
        >>> import tempfile
        >>> s = LocalStorage(tempfile.mkdtemp())
        >>> s.put("a/b.bin", b"xyz")
        >>> [o.key for o in s.list("a/").objects]
        ['a/b.bin']
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if not key or key.startswith("/") or any(p in ("..", ".") for p in key.split("/")):
            raise ConfigError(f"invalid key {key!r}: keys are relative, without '.' or '..'")
        return self.root / key

    def _meta_path(self, path: Path) -> Path:
        return path.with_name(f".{path.name}{_META_SUFFIX}")

    def put(
        self,
        key: str,
        data: bytes | BinaryIO,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Write ``data`` to the file for ``key`` atomically."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                if isinstance(data, bytes):
                    f.write(data)
                else:
                    shutil.copyfileobj(data, f)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        meta = self._meta_path(path)
        if content_type is not None or metadata:
            meta.write_text(json.dumps({"content_type": content_type, "metadata": metadata}))
        else:
            meta.unlink(missing_ok=True)

    def get(self, key: str) -> bytes:
        """The file's bytes."""
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFoundError(f"no object {key!r}", path=str(path)) from None

    def delete(self, key: str) -> None:
        """Remove the file (and empty parent folders up to the root)."""
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFoundError(f"no object {key!r}", path=str(path)) from None
        self._meta_path(path).unlink(missing_ok=True)
        parent = path.parent
        while parent != self.root:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def head(self, key: str) -> ObjectInfo:
        """Size, modification time and metadata of the file."""
        path = self._path(key)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise ObjectNotFoundError(f"no object {key!r}", path=str(path)) from None
        if not path.is_file():
            raise ObjectNotFoundError(f"no object {key!r} (a folder)", path=str(path))
        return self._info(key, path, st)

    def _info(self, key: str, path: Path, st: os.stat_result) -> ObjectInfo:
        content_type = None
        metadata: dict[str, str] = {}
        meta = self._meta_path(path)
        if meta.exists():
            raw = json.loads(meta.read_text())
            content_type = raw.get("content_type")
            metadata = dict(raw.get("metadata") or {})
        tag = hashlib.md5(
            f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}".encode(), usedforsecurity=False
        ).hexdigest()
        return ObjectInfo(key, st.st_size, st.st_mtime, tag, content_type, metadata)

    def _walk(self, prefix: str) -> Iterator[tuple[str, ObjectInfo]]:
        # Start at the deepest folder the prefix names; yield keys in sorted order.
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self.root / folder if folder else self.root
        if not start.is_dir():
            return
        keys: list[tuple[str, Path, os.stat_result]] = []
        for dirpath, _dirnames, filenames in os.walk(start):
            for name in filenames:
                if name.endswith(_META_SUFFIX) and name.startswith("."):
                    continue
                full = Path(dirpath) / name
                key = full.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    keys.append((key, full, full.stat()))
        for key, full, st in sorted(keys, key=lambda k: k[0]):
            yield key, self._info(key, full, st)

    def list(
        self,
        prefix: str = "",
        *,
        max_keys: int = 1000,
        start_after: str | None = None,
        delimiter: str | None = None,
    ) -> ListPage:
        """A page of the files under ``prefix``, in key order."""
        return paginate(rollup(self._walk(prefix), prefix, start_after, delimiter), max_keys)

    def copy(self, src: str, dst: str) -> None:
        """Copy a file (and its metadata)."""
        src_path, dst_path = self._path(src), self._path(dst)
        if not src_path.is_file():
            raise ObjectNotFoundError(f"no object {src!r}", path=str(src_path))
        dst_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dst_path.parent, prefix=f".{dst_path.name}.")
        os.close(fd)
        try:
            shutil.copyfile(src_path, tmp)
            os.replace(tmp, dst_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        meta = self._meta_path(src_path)
        if meta.exists():
            shutil.copyfile(meta, self._meta_path(dst_path))
        else:
            self._meta_path(dst_path).unlink(missing_ok=True)
