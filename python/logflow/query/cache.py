"""Caches of the query engine: results bounded in bytes, and metadata by count."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["LruCache", "ResultCache"]


class ResultCache:
    """Query results (Arrow tables) by key, least recently used first out, bounded in bytes.

    A key names the tables it read (``key[2]`` is a tuple of ``(table, ...)`` pairs), so
    :meth:`invalidate` drops every result that read a table that just committed. A result
    larger than the whole budget is not kept.

    Args:
        max_bytes: Budget; ``0`` turns the cache off.

    Example:
        >>> import pyarrow as pa
        >>> c = ResultCache(1 << 20)
        >>> c.put(("q", (), (("t", 1),)), pa.table({"a": [1]}))
        >>> c.get(("q", (), (("t", 1),))).num_rows
        1
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._data: OrderedDict[Hashable, tuple[pa.Table, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: Hashable) -> pa.Table | None:
        """The cached result, or ``None``."""
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return hit[0]

    def put(self, key: Hashable, table: pa.Table) -> None:
        """Keep a result, evicting the least recently used ones past the budget."""
        size = int(table.nbytes)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._data[key] = (table, size)
            self._bytes += size
            while self._bytes > self.max_bytes and self._data:
                _, (_, dropped) = self._data.popitem(last=False)
                self._bytes -= dropped

    def invalidate(self, table: str | None = None) -> int:
        """Drop the results that read ``table`` (all, for ``None``); returns how many."""
        with self._lock:
            if table is None:
                n = len(self._data)
                self._data.clear()
                self._bytes = 0
                return n
            doomed = [k for k in self._data if _reads(k, table)]
            for k in doomed:
                self._bytes -= self._data.pop(k)[1]
            return len(doomed)


def _reads(key: Hashable, table: str) -> bool:
    try:
        return any(entry[0] == table for entry in key[2])  # type: ignore[index]
    except (TypeError, IndexError):
        return False


class LruCache:
    """A small thread-safe least-recently-used map, bounded by entry count."""

    def __init__(self, size: int = 256) -> None:
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:  # noqa: ANN401 - values are the caller's
        """The value, or ``None``."""
        with self._lock:
            if key not in self._data:
                return None
            self._data.move_to_end(key)
            return self._data[key]

    def put(self, key: Hashable, value: Any) -> None:  # noqa: ANN401
        """Keep a value."""
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)

    def drop(self, predicate: Callable[[Hashable], bool]) -> None:
        """Forget the keys for which ``predicate(key)`` is true."""
        with self._lock:
            for k in [k for k in self._data if predicate(k)]:
                del self._data[k]

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._data.clear()
