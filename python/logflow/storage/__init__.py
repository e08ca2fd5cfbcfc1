"""Object storage: the :class:`ObjectStorage` interface and its implementations.

:func:`load_storage` makes one by name::

    from logflow.storage import load_storage

    local = load_storage("local", root="./warehouse")
    memory = load_storage("memory")
"""

from __future__ import annotations

from collections.abc import Callable

from logflow.errors import ConfigError
from logflow.storage.base import ListPage, ObjectInfo, ObjectStorage
from logflow.storage.local import LocalStorage
from logflow.storage.memory import MemoryStorage

__all__ = [
    "ListPage",
    "LocalStorage",
    "MemoryStorage",
    "ObjectInfo",
    "ObjectStorage",
    "load_storage",
    "register_storage",
]

_LOADERS: dict[str, Callable[..., ObjectStorage]] = {
    "local": LocalStorage,
    "file": LocalStorage,
    "memory": MemoryStorage,
}


def register_storage(name: str, loader: Callable[..., ObjectStorage]) -> None:
    """Make ``load_storage(name, ...)`` call ``loader(...)``.

    Example:
        >>> register_storage("scratch", MemoryStorage)
        >>> isinstance(load_storage("scratch"), MemoryStorage)
        True
    """
    _LOADERS[name] = loader


def load_storage(name: str, **options: object) -> ObjectStorage:
    """Make the storage registered as ``name`` (``"local"``, ``"memory"``, ...).

    Args:
        name: A registered name.
        **options: Passed to the implementation (``root=`` for ``"local"``).

    Raises:
        logflow.errors.ConfigError: No storage of that name.

    Example:
        >>> load_storage("memory").exists("x")
        False
    """
    try:
        loader = _LOADERS[name]
    except KeyError:
        raise ConfigError(f"unknown storage {name!r}; known: {sorted(_LOADERS)}") from None
    return loader(**options)
