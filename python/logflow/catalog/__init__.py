"""Table catalogs: the :class:`Catalog` / :class:`Table` interfaces and implementations.

:func:`load_catalog` makes one by name, like pyiceberg's own ``load_catalog``::

    from logflow.catalog import load_catalog

    sqlite = load_catalog("sql", warehouse="./warehouse")        # default: SQLite file
    team = load_catalog("sql", warehouse="./warehouse",
                        uri="postgresql://user@db.internal/catalog")
    delta = load_catalog("delta", warehouse="./warehouse")
    plain = load_catalog("parquet", warehouse="./warehouse")

Nothing here imports pyiceberg, deltalake or DuckDB until a catalog is made.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from logflow.catalog.base import (
    Catalog,
    DataFileInfo,
    PartitionField,
    ReadPlan,
    Snapshot,
    StagedFile,
    Table,
    parse_name,
    parse_partition,
)
from logflow.errors import ConfigError

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog as PyIcebergCatalog

__all__ = [
    "Catalog",
    "DataFileInfo",
    "PartitionField",
    "ReadPlan",
    "Snapshot",
    "StagedFile",
    "Table",
    "load_catalog",
    "parse_name",
    "parse_partition",
    "register_catalog",
]

CATALOG_FILE = "catalog.db"
"""The SQLite file of the default catalog, inside the warehouse folder."""


def _sql(
    warehouse: str | os.PathLike[str] = "./warehouse", uri: str | None = None, **props: str
) -> Catalog:
    from pyiceberg.catalog.sql import SqlCatalog

    from logflow.catalog.iceberg import IcebergCatalog

    folder = os.path.abspath(os.fspath(warehouse))
    os.makedirs(folder, exist_ok=True)
    if uri is None:
        uri = f"sqlite:///{os.path.join(folder, CATALOG_FILE)}"
    else:
        uri = _postgres_driver(uri)
    name = str(props.pop("catalog_name", "logflow"))
    catalog = SqlCatalog(name, uri=uri, warehouse=f"file://{folder}", **props)
    return IcebergCatalog(catalog, folder)


def _postgres_driver(uri: str) -> str:
    """A ``postgresql://`` URI with the driver that is installed named in it.

    SQLAlchemy 2.1 picks psycopg 3 for a bare ``postgresql://``; pyiceberg's ``sql-postgres``
    extra installs psycopg2. Use whichever is there.
    """
    import importlib.util

    for bare in ("postgres://", "postgresql://"):
        if uri.startswith(bare):
            rest = uri[len(bare) :]
            for module, driver in (("psycopg", "psycopg"), ("psycopg2", "psycopg2")):
                if importlib.util.find_spec(module) is not None:
                    return f"postgresql+{driver}://{rest}"
            return f"postgresql://{rest}"
    return uri


def _memory(warehouse: str | os.PathLike[str] | None = None) -> Catalog:
    from logflow.catalog.memory import MemoryCatalog

    return MemoryCatalog(warehouse)


def _delta(warehouse: str | os.PathLike[str] = "./warehouse") -> Catalog:
    from logflow.catalog.delta import DeltaCatalog

    return DeltaCatalog(warehouse)


def _parquet(warehouse: str | os.PathLike[str] = "./warehouse") -> Catalog:
    from logflow.catalog.parquet import ParquetCatalog

    return ParquetCatalog(warehouse)


def _wrap(
    iceberg_catalog: PyIcebergCatalog, warehouse: str | os.PathLike[str] = "./warehouse"
) -> Catalog:
    from logflow.catalog.iceberg import IcebergCatalog

    return IcebergCatalog(iceberg_catalog, os.path.abspath(os.fspath(warehouse)))


_LOADERS: dict[str, Callable[..., Catalog]] = {
    "sql": _sql,
    "sqlite": _sql,
    "postgresql": _sql,
    "iceberg": _wrap,
    "memory": _memory,
    "delta": _delta,
    "parquet": _parquet,
}


def register_catalog(name: str, loader: Callable[..., Catalog]) -> None:
    """Make ``load_catalog(name, ...)`` call ``loader(...)``.

    Example:
        >>> from logflow.catalog.memory import MemoryCatalog
        >>> register_catalog("scratch", MemoryCatalog)
    """
    _LOADERS[name] = loader


def load_catalog(name: str = "sql", **options: Any) -> Catalog:  # noqa: ANN401
    """Make the catalog registered as ``name``.

    Args:
        name: ``"sql"`` (Iceberg in pyiceberg's SQL catalog: SQLite in the warehouse, or
            ``uri="postgresql://..."``), ``"memory"``, ``"delta"``, ``"parquet"``, or
            ``"iceberg"`` to wrap any pyiceberg catalog (``load_catalog("iceberg",
            iceberg_catalog=cat, warehouse=...)``).
        **options: Passed to the implementation (``warehouse=``, ``uri=``,
            ``catalog_name=``, ...).

    Raises:
        logflow.errors.ConfigError: No catalog of that name.

    Example:
        >>> import tempfile
        >>> cat = load_catalog("memory", warehouse=tempfile.mkdtemp())
        >>> cat.format
        'iceberg'
    """
    try:
        loader = _LOADERS[name]
    except KeyError:
        raise ConfigError(f"unknown catalog {name!r}; known: {sorted(_LOADERS)}") from None
    return loader(**options)
