"""The sandboxed DuckDB connection queries run on, and the views over table snapshots.

The connection is in memory. Before any user SQL can reach it: extensions are neither
installed nor loaded automatically, the file system is limited to the warehouse
(``allowed_directories``), external access is off, and the configuration is locked, so
no ``SET`` can undo any of it. Each table snapshot becomes one view: a ``UNION ALL`` of
``read_parquet`` over groups of files that map onto the table's columns the same way
(renamed columns, columns added later and read as NULL, partition values kept in
metadata).
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from logflow.errors import CancelledError, ConfigError, QueryError, QueryTimeoutError

if TYPE_CHECKING:
    import pyarrow as pa

    from logflow.catalog.base import ReadPlan

__all__ = ["DuckDBRunner", "duckdb_type", "view_sql"]


def duckdb_type(t: pa.DataType) -> str:
    """The DuckDB type name for an Arrow type.

    Example:
        >>> import pyarrow as pa
        >>> duckdb_type(pa.timestamp("us", tz="UTC")), duckdb_type(pa.list_(pa.int32()))
        ('TIMESTAMPTZ', 'INTEGER[]')
    """
    import pyarrow as pa

    simple = {
        pa.bool_(): "BOOLEAN",
        pa.int8(): "TINYINT",
        pa.int16(): "SMALLINT",
        pa.int32(): "INTEGER",
        pa.int64(): "BIGINT",
        pa.uint8(): "UTINYINT",
        pa.uint16(): "USMALLINT",
        pa.uint32(): "UINTEGER",
        pa.uint64(): "UBIGINT",
        pa.float16(): "FLOAT",
        pa.float32(): "FLOAT",
        pa.float64(): "DOUBLE",
        pa.string(): "VARCHAR",
        pa.large_string(): "VARCHAR",
        pa.binary(): "BLOB",
        pa.large_binary(): "BLOB",
        pa.date32(): "DATE",
        pa.date64(): "DATE",
        pa.null(): "INTEGER",
    }
    if t in simple:
        return simple[t]
    if pa.types.is_string_view(t):
        return "VARCHAR"
    if pa.types.is_fixed_size_binary(t) or pa.types.is_binary_view(t):
        return "BLOB"
    if pa.types.is_timestamp(t):
        if t.tz is not None:
            return "TIMESTAMPTZ"
        return {"s": "TIMESTAMP_S", "ms": "TIMESTAMP_MS", "us": "TIMESTAMP", "ns": "TIMESTAMP_NS"}[
            t.unit
        ]
    if pa.types.is_time(t):
        return "TIME"
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision}, {t.scale})"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"{duckdb_type(t.value_type)}[]"
    if pa.types.is_fixed_size_list(t):
        return f"{duckdb_type(t.value_type)}[{t.list_size}]"
    if pa.types.is_struct(t):
        inner = ", ".join(f"{quote_ident(f.name)} {duckdb_type(f.type)}" for f in t)
        return f"STRUCT({inner})"
    if pa.types.is_map(t):
        return f"MAP({duckdb_type(t.key_type)}, {duckdb_type(t.item_type)})"
    if pa.types.is_duration(t):
        return "INTERVAL"
    raise ConfigError(f"no DuckDB type for Arrow type {t}")


def quote_ident(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def quote_str(text: str) -> str:
    """``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def sql_literal(value: object) -> str:
    """A Python value as a SQL literal (cast to the column's type by the caller)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return quote_str(str(value))
        return repr(value)
    if isinstance(value, Decimal):
        return quote_str(str(value))
    if isinstance(value, (datetime, date, time)):
        return quote_str(value.isoformat())
    if isinstance(value, bytes):
        return f"from_hex({quote_str(value.hex())})"
    return quote_str(str(value))


def view_sql(plan: ReadPlan) -> str:
    """The ``SELECT`` a view of this snapshot runs."""
    schema = plan.schema
    types = [duckdb_type(f.type) for f in schema]
    branches = []
    for group in plan.groups:
        cols = []
        for i, f in enumerate(schema):
            src = group.sources[i]
            if src is None:
                expr = f"CAST({sql_literal(group.constants[i])} AS {types[i]})"
            elif group.file_types[i] is not None and duckdb_type(group.file_types[i]) == types[i]:
                expr = quote_ident(src)
            else:
                expr = f"CAST({quote_ident(src)} AS {types[i]})"
            cols.append(f"{expr} AS {quote_ident(f.name)}")
        files = ", ".join(quote_str(p) for p in group.files)
        branches.append(
            f"SELECT {', '.join(cols)} FROM read_parquet([{files}], "
            "hive_partitioning = false, union_by_name = false)"
        )
    if not branches:
        nulls = ", ".join(
            f"CAST(NULL AS {types[i]}) AS {quote_ident(f.name)}" for i, f in enumerate(schema)
        )
        return f"SELECT {nulls} WHERE false"
    return "\nUNION ALL\n".join(branches)


class DuckDBRunner:
    """One sandboxed in-memory DuckDB database; queries run on cursors of it.

    Args:
        allowed_directories: The only folders DuckDB may read (the warehouse).
        memory_limit: e.g. ``"2GB"``; ``None`` keeps DuckDB's default (80% of RAM).
        threads: Worker threads; ``None`` keeps DuckDB's default (one per core).
        max_views: Views kept before the least recently used are dropped.
    """

    def __init__(
        self,
        allowed_directories: Sequence[str],
        *,
        memory_limit: str | None = None,
        threads: int | None = None,
        temp_directory: str | None = None,
        max_views: int = 256,
    ) -> None:
        import duckdb

        config: dict[str, Any] = {
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
        if memory_limit is not None:
            config["memory_limit"] = memory_limit
        if threads is not None:
            config["threads"] = int(threads)
        if temp_directory is not None:
            config["temp_directory"] = temp_directory
        try:
            con = duckdb.connect(":memory:", config=config)
        except duckdb.Error as e:
            raise ConfigError(f"DuckDB refused the settings: {e}") from e
        dirs = ", ".join(quote_str(d.rstrip("/") + "/") for d in allowed_directories)
        con.execute(f"SET allowed_directories = [{dirs}]")
        # DuckDB's Python client would otherwise resolve an unknown table name to a Python
        # variable of the calling frame (a DataFrame, an Arrow table): never wanted here.
        with contextlib.suppress(duckdb.Error):
            con.execute("SET python_enable_replacements = false")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        self._duckdb = duckdb
        self._con = con
        self._lock = threading.Lock()
        self._views: OrderedDict[Hashable, str] = OrderedDict()
        self._max_views = max_views
        self._counter = 0

    def setting(self, name: str) -> object:
        """The current value of a DuckDB setting (for checks and diagnostics)."""
        row = self._con.execute("SELECT current_setting(?)", [name]).fetchone()
        return None if row is None else row[0]

    def view(self, key: Hashable, plan: ReadPlan) -> str:
        """The name of the view for ``key``, created from ``plan`` on first use."""
        with self._lock:
            name = self._views.get(key)
            if name is not None:
                self._views.move_to_end(key)
                return name
            self._counter += 1
            name = f"__lf_view_{self._counter}"
            try:
                self._con.execute(f"CREATE VIEW {quote_ident(name)} AS {view_sql(plan)}")
            except self._duckdb.Error as e:
                raise QueryError(f"cannot read the table's files: {e}") from e
            self._views[key] = name
            while len(self._views) > self._max_views:
                _, old = self._views.popitem(last=False)
                self._con.execute(f"DROP VIEW IF EXISTS {quote_ident(old)}")
            return name

    def drop_views(self, table: str) -> None:
        """Drop the views of every snapshot of ``table`` (keys start with its name)."""
        with self._lock:
            doomed = [k for k in self._views if isinstance(k, tuple) and k and k[0] == table]
            for k in doomed:
                self._con.execute(f"DROP VIEW IF EXISTS {quote_ident(self._views.pop(k))}")

    def run(
        self,
        sql: str,
        params: Sequence[Any] | Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> pa.Table:
        """Run a checked query; the whole result as an Arrow table.

        Raises:
            logflow.errors.QueryTimeoutError: It ran past ``timeout`` seconds.
            logflow.errors.QueryError: DuckDB failed (bad column, type error, memory).
        """
        duckdb = self._duckdb
        cur = self._con.cursor()
        fired = threading.Event()
        timer: threading.Timer | None = None
        if timeout is not None:
            if timeout <= 0:
                raise ConfigError(f"timeout must be positive, got {timeout}")

            def stop() -> None:
                fired.set()
                cur.interrupt()

            timer = threading.Timer(timeout, stop)
            timer.daemon = True
            timer.start()
        try:
            relation = cur.sql(sql, params=params) if params is not None else cur.sql(sql)
            fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
            return fetch()
        except duckdb.InterruptException as e:
            if fired.is_set():
                raise QueryTimeoutError(f"the query ran past its timeout of {timeout} s") from e
            raise CancelledError("the query was interrupted") from e
        except duckdb.Error as e:
            if fired.is_set():
                raise QueryTimeoutError(f"the query ran past its timeout of {timeout} s") from e
            message = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise QueryError(f"query failed: {message}") from e
        finally:
            if timer is not None:
                timer.cancel()
            cur.close()

    def close(self) -> None:
        """Close the database."""
        self._con.close()
