"""What the folder-based catalogs (Delta, plain Parquet) share: names to folders."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from logflow.catalog.base import parse_name
from logflow.errors import (
    CatalogError,
    NamespaceNotFoundError,
    TableExistsError,
)

if TYPE_CHECKING:
    import pyarrow as pa

NS_SUFFIX = ".db"


class FolderNames:
    """Namespaces are ``<root>/<ns>.db`` folders; a table is a folder with a marker."""

    marker = ""

    def __init__(self, warehouse: str | os.PathLike[str]) -> None:
        self.warehouse = os.path.abspath(os.fspath(warehouse))
        os.makedirs(self.warehouse, exist_ok=True)

    @classmethod
    def any_tables(cls, warehouse: str) -> bool:
        """Whether a warehouse holds a table of this kind (cheap: one level of folders)."""
        try:
            spaces = [e for e in os.scandir(warehouse) if e.is_dir() and e.name.endswith(NS_SUFFIX)]
            return any(
                os.path.isdir(os.path.join(ns.path, t.name, cls.marker))
                for ns in spaces
                for t in os.scandir(ns.path)
                if t.is_dir()
            )
        except FileNotFoundError:
            return False

    def default_location(self, name: str) -> str:
        """``<warehouse>/<namespace>.db/<table>``."""
        ns, tbl = parse_name(name)
        return os.path.join(self.warehouse, ns + NS_SUFFIX, tbl)

    def _is_table(self, path: str) -> bool:
        return os.path.isdir(os.path.join(path, self.marker))

    def create_namespace(self, namespace: str) -> None:
        """Create a namespace folder."""
        path = os.path.join(self.warehouse, namespace + NS_SUFFIX)
        if os.path.isdir(path):
            raise TableExistsError(f"namespace {namespace!r} exists")
        os.makedirs(path)

    def list_namespaces(self) -> list[str]:
        """Namespaces holding tables of this kind, or created through this catalog."""
        try:
            return sorted(
                e.name[: -len(NS_SUFFIX)]
                for e in os.scandir(self.warehouse)
                if e.is_dir() and e.name.endswith(NS_SUFFIX)
            )
        except FileNotFoundError:
            return []

    def drop_namespace(self, namespace: str) -> None:
        """Remove an empty namespace folder."""
        path = os.path.join(self.warehouse, namespace + NS_SUFFIX)
        if not os.path.isdir(path):
            raise NamespaceNotFoundError(f"no namespace {namespace!r}")
        if any(self._is_table(e.path) for e in os.scandir(path) if e.is_dir()):
            raise CatalogError(f"namespace {namespace!r} still holds tables")
        try:
            os.rmdir(path)
        except OSError as e:
            raise CatalogError(f"namespace {namespace!r}: {e}") from e

    def list_tables(self, namespace: str | None = None) -> list[str]:
        """Tables of this kind, in one namespace or all."""
        spaces = [namespace] if namespace is not None else self.list_namespaces()
        out: list[str] = []
        for ns in spaces:
            path = os.path.join(self.warehouse, ns + NS_SUFFIX)
            if not os.path.isdir(path):
                if namespace is not None:
                    raise NamespaceNotFoundError(f"no namespace {namespace!r}")
                continue
            out.extend(
                f"{ns}.{e.name}" for e in os.scandir(path) if e.is_dir() and self._is_table(e.path)
            )
        return sorted(out)


def value_text(value: Any) -> str | None:  # noqa: ANN401 - any partition value
    """A partition value as text (Hive's and Delta's form); ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def text_value(text: str | None, arrow_type: pa.DataType) -> Any:  # noqa: ANN401
    """A partition value's text as a Python value of the column's type."""
    import pyarrow as pa

    if text is None:
        return None
    if pa.types.is_integer(arrow_type):
        return int(text)
    if pa.types.is_floating(arrow_type):
        return float(text)
    if pa.types.is_boolean(arrow_type):
        return text.lower() == "true"
    if pa.types.is_date(arrow_type):
        return date.fromisoformat(text)
    if pa.types.is_timestamp(arrow_type):
        parsed = datetime.fromisoformat(text.replace(" ", "T"))
        if arrow_type.tz is None:
            return parsed.replace(tzinfo=None)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if pa.types.is_time(arrow_type):
        return time.fromisoformat(text)
    if pa.types.is_decimal(arrow_type):
        return Decimal(text)
    return text
