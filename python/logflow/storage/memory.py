"""In-memory object storage, for tests and for short-lived data."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping
from typing import BinaryIO

from logflow.errors import ObjectNotFoundError
from logflow.storage.base import ListPage, ObjectInfo, ObjectStorage, paginate, rollup

__all__ = ["MemoryStorage"]


class MemoryStorage(ObjectStorage):
    """Objects kept in a dict, guarded by a lock; nothing touches the disk.

    Example:
        >>> s = MemoryStorage()
        >>> s.put("k", b"v")
        >>> s.head("k").size
        1
    """

    def __init__(self) -> None:
        self._objects: dict[str, tuple[bytes, ObjectInfo]] = {}
        self._lock = threading.Lock()

    def put(
        self,
        key: str,
        data: bytes | BinaryIO,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Store ``data`` under ``key``."""
        body = data if isinstance(data, bytes) else data.read()
        info = ObjectInfo(
            key=key,
            size=len(body),
            last_modified=time.time(),
            etag=hashlib.md5(body, usedforsecurity=False).hexdigest(),
            content_type=content_type,
            metadata=dict(metadata or {}),
        )
        with self._lock:
            self._objects[key] = (bytes(body), info)

    def _entry(self, key: str) -> tuple[bytes, ObjectInfo]:
        try:
            return self._objects[key]
        except KeyError:
            raise ObjectNotFoundError(f"no object {key!r}", path=key) from None

    def get(self, key: str) -> bytes:
        """The bytes under ``key``."""
        with self._lock:
            return self._entry(key)[0]

    def delete(self, key: str) -> None:
        """Remove ``key``."""
        with self._lock:
            self._entry(key)
            del self._objects[key]

    def head(self, key: str) -> ObjectInfo:
        """What is known about ``key``."""
        with self._lock:
            return self._entry(key)[1]

    def list(
        self,
        prefix: str = "",
        *,
        max_keys: int = 1000,
        start_after: str | None = None,
        delimiter: str | None = None,
    ) -> ListPage:
        """A page of keys under ``prefix``, in key order."""
        with self._lock:
            items = sorted((k, v[1]) for k, v in self._objects.items())
        return paginate(rollup(items, prefix, start_after, delimiter), max_keys)
