"""The :class:`ObjectStorage` interface: keys holding bytes, listed by prefix.

Keys are ``/``-separated strings. A local implementation maps them onto a folder, an object
store onto its bucket. Every implementation passes the same contract suite
(``tests/engine/test_storage_contract.py``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO

__all__ = ["ListPage", "ObjectInfo", "ObjectStorage"]


@dataclass(frozen=True)
class ObjectInfo:
    """What storage knows about one object."""

    key: str
    """The object's key."""
    size: int
    """Size in bytes."""
    last_modified: float
    """Seconds since the epoch."""
    etag: str = ""
    """An opaque version tag that changes when the content does."""
    content_type: str | None = None
    """The content type given to :meth:`ObjectStorage.put`, if any."""
    metadata: Mapping[str, str] = field(default_factory=dict)
    """User metadata given to :meth:`ObjectStorage.put`."""


@dataclass(frozen=True)
class ListPage:
    """One page of a listing."""

    objects: tuple[ObjectInfo, ...]
    """Objects in key order."""
    prefixes: tuple[str, ...] = ()
    """With a delimiter: the common prefixes ("folders") rolled up on this page."""
    next_token: str | None = None
    """Pass as ``start_after`` to get the next page; ``None`` on the last page."""


class ObjectStorage(ABC):
    """Bytes under keys: put, get, delete, exists, head, list (paginated), copy, delete_many.

    Example:
        >>> from logflow.storage import MemoryStorage
        >>> s = MemoryStorage()
        >>> s.put("a/b.txt", b"hi")
        >>> s.get("a/b.txt")
        b'hi'
    """

    @abstractmethod
    def put(
        self,
        key: str,
        data: bytes | BinaryIO,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Store ``data`` under ``key``, replacing what was there, all at once.

        Args:
            key: The key.
            data: Bytes, or a binary file object read to its end.
            content_type: Kept and returned by :meth:`head`.
            metadata: Kept and returned by :meth:`head`.
        """

    @abstractmethod
    def get(self, key: str) -> bytes:
        """The bytes stored under ``key``.

        Raises:
            logflow.errors.ObjectNotFoundError: No such key.
        """

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``.

        Raises:
            logflow.errors.ObjectNotFoundError: No such key.
        """

    @abstractmethod
    def head(self, key: str) -> ObjectInfo:
        """What is known about ``key``, without its bytes.

        Raises:
            logflow.errors.ObjectNotFoundError: No such key.
        """

    @abstractmethod
    def list(
        self,
        prefix: str = "",
        *,
        max_keys: int = 1000,
        start_after: str | None = None,
        delimiter: str | None = None,
    ) -> ListPage:
        """One page of the keys that start with ``prefix``, in key order.

        Args:
            prefix: Only keys starting with this.
            max_keys: Most entries (objects plus prefixes) on the page.
            start_after: Only keys after this one (a previous page's ``next_token``).
            delimiter: Roll keys up to the first ``delimiter`` after the prefix into
                :attr:`ListPage.prefixes`, as folders.
        """

    def exists(self, key: str) -> bool:
        """Whether ``key`` exists."""
        from logflow.errors import ObjectNotFoundError

        try:
            self.head(key)
        except ObjectNotFoundError:
            return False
        return True

    def copy(self, src: str, dst: str) -> None:
        """Copy the object at ``src`` to ``dst`` (replacing ``dst``).

        Raises:
            logflow.errors.ObjectNotFoundError: ``src`` does not exist.
        """
        info = self.head(src)
        self.put(dst, self.get(src), content_type=info.content_type, metadata=info.metadata)

    def delete_many(self, keys: Iterable[str]) -> int:
        """Remove every key given that exists; returns how many were removed."""
        from logflow.errors import ObjectNotFoundError

        removed = 0
        for key in keys:
            try:
                self.delete(key)
            except ObjectNotFoundError:
                continue
            removed += 1
        return removed

    def iter_objects(self, prefix: str = "", *, page_size: int = 1000) -> Iterator[ObjectInfo]:
        """Every object under ``prefix``, following the pages of :meth:`list`."""
        token: str | None = None
        while True:
            page = self.list(prefix, max_keys=page_size, start_after=token)
            yield from page.objects
            if page.next_token is None:
                return
            token = page.next_token


def paginate(
    entries: Iterable[tuple[str, ObjectInfo | None]],
    max_keys: int,
) -> ListPage:
    """A page from sorted ``(key, info)`` entries; ``info`` is ``None`` for a prefix."""
    if max_keys <= 0:
        from logflow.errors import ConfigError

        raise ConfigError(f"max_keys must be positive, got {max_keys}")
    objects: list[ObjectInfo] = []
    prefixes: list[str] = []
    last: str | None = None
    more = False
    for key, info in entries:
        if len(objects) + len(prefixes) == max_keys:
            more = True
            break
        if info is None:
            prefixes.append(key)
        else:
            objects.append(info)
        last = key
    return ListPage(tuple(objects), tuple(prefixes), last if more else None)


def rollup(
    keys: Iterable[tuple[str, ObjectInfo]],
    prefix: str,
    start_after: str | None,
    delimiter: str | None,
) -> Iterator[tuple[str, ObjectInfo | None]]:
    """Sorted keys under ``prefix`` after ``start_after``, with delimiter roll-up."""
    seen: set[str] = set()
    for key, info in keys:
        if not key.startswith(prefix):
            continue
        if delimiter:
            cut = key.find(delimiter, len(prefix))
            if cut >= 0:
                folder = key[: cut + len(delimiter)]
                if folder in seen or (start_after is not None and folder <= start_after):
                    continue
                seen.add(folder)
                yield folder, None
                continue
        if start_after is not None and key <= start_after:
            continue
        yield key, info
