"""Queries over tables: SQL validation (sqlglot), the sandboxed DuckDB runner, caches.

Nothing here imports DuckDB or sqlglot until a query runs.
"""

from __future__ import annotations

__all__: list[str] = []
