"""An Iceberg catalog whose metadata lives in memory (SQLite ``:memory:``), for tests.

Table metadata files and data still go to the warehouse folder; only the catalog's own
table of tables is in memory and gone when the process ends.
"""

from __future__ import annotations

import os
import tempfile

from logflow.catalog.iceberg import IcebergCatalog

__all__ = ["MemoryCatalog"]


class MemoryCatalog(IcebergCatalog):
    """Iceberg tables registered in an in-memory SQLite catalog.

    Args:
        warehouse: Folder for table files (a new temporary folder by default).

    Example:
        >>> cat = MemoryCatalog()
        >>> cat.list_namespaces()
        []
    """

    def __init__(self, warehouse: str | os.PathLike[str] | None = None) -> None:
        from pyiceberg.catalog.sql import SqlCatalog

        folder = os.path.abspath(
            os.fspath(warehouse) if warehouse is not None else tempfile.mkdtemp(prefix="logflow-")
        )
        os.makedirs(folder, exist_ok=True)
        catalog = SqlCatalog("logflow", uri="sqlite:///:memory:", warehouse=f"file://{folder}")
        super().__init__(catalog, folder)
