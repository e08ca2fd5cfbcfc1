"""Splitting freshly written files by Iceberg partition transforms Hive paths cannot express.

logflow's writer partitions by column values (identity). For ``year``/``month``/``day``/
``hour``/``bucket``/``truncate``, the rows are converted to one staging file first, then
DuckDB rewrites them into one folder per partition tuple, computing each transform with
pyiceberg's own Arrow kernels (``pyiceberg-core``) registered as vectorised functions, so
the values are exactly Iceberg's (bucket's murmur3 hash included). Each output file's
partition tuple is read back by applying the same functions to its first row. The source
columns stay in the files; only the computed keys are left out.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from logflow.catalog.base import PartitionField, StagedFile
from logflow.errors import ConfigError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["split_by_transforms"]


def _transform_function(field: PartitionField, arrow_type: pa.DataType) -> tuple[Any, pa.DataType]:
    import pyarrow as pa
    from pyiceberg.transforms import parse_transform

    from logflow.catalog.iceberg import _iceberg_type

    source = _iceberg_type(arrow_type)
    transform = parse_transform(field.transform)
    if not transform.can_transform(source):
        raise ConfigError(
            f"partition_by: {field.transform} cannot apply to {field.source} ({arrow_type})"
        )
    kernel = transform.pyarrow_transform(source)
    result_type = transform.result_type(source)
    from logflow.catalog.iceberg import _arrow_of

    out_type = _arrow_of(result_type)

    # No annotations: DuckDB evaluates them, and pyarrow is not a module global here.
    def run(values):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if values.type != arrow_type:
            values = values.cast(arrow_type)
        result = kernel(values)
        if isinstance(result, pa.ChunkedArray):
            result = result.combine_chunks()
        return result.cast(out_type)

    return run, out_type


def split_by_transforms(
    files: Sequence[str],
    dst: str,
    fields: Sequence[PartitionField],
    schema: pa.Schema,
    *,
    threads: int | None = None,
) -> list[StagedFile]:
    """Rewrite ``files`` into ``dst/<keys>/`` by the partition ``fields``.

    Returns:
        The files written, each with its partition tuple (by partition field name).
    """
    import duckdb

    from logflow.catalog.maintenance import _duckdb_config
    from logflow.engine import _glob_safe
    from logflow.query.duckdb import duckdb_type, quote_ident, quote_str

    types = {f.name: f.type for f in schema}
    con = duckdb.connect(
        ":memory:",
        config=_duckdb_config(threads),
    )
    try:
        exprs = []
        for i, f in enumerate(fields):
            if f.source not in types:
                raise ConfigError(f"partition_by: no column {f.source!r}; columns: {schema.names}")
            fn, out_type = _transform_function(f, types[f.source])
            con.create_function(  # type: ignore[call-overload]
                f"lf_part_{i}",
                fn,
                [duckdb_type(types[f.source])],
                duckdb_type(out_type),
                type="arrow",
            )
            exprs.append(f"lf_part_{i}({quote_ident(f.source)})")
        # Folder names: the partition field names, unless a column is called that.
        keys = [
            quote_ident(f.name if f.name not in types else f"__lf_key_{i}")
            for i, f in enumerate(fields)
        ]
        source = (
            "read_parquet(["
            + ", ".join(quote_str(p) for p in files)
            + "], hive_partitioning = false)"
        )
        select = ", ".join(f"{e} AS {k}" for e, k in zip(exprs, keys, strict=True))
        os.makedirs(dst, exist_ok=True)
        con.execute(
            f"COPY (SELECT *, {select} FROM {source}) TO {quote_str(dst)} "
            f"(FORMAT parquet, COMPRESSION zstd, PARTITION_BY ({', '.join(keys)}), "
            "WRITE_PARTITION_COLUMNS false, OVERWRITE_OR_IGNORE true)"
        )
        staged = []
        for root, _dirs, names in os.walk(dst):
            for name in sorted(names):
                if not name.endswith(".parquet"):
                    continue
                path = os.path.join(root, name)
                row = con.execute(
                    f"SELECT {', '.join(exprs)} FROM read_parquet({quote_str(path)}, "
                    "hive_partitioning = false) LIMIT 1"
                ).fetchone()
                if row is None:
                    os.remove(path)
                    continue
                staged.append(
                    StagedFile(
                        _glob_safe(path), {f.name: v for f, v in zip(fields, row, strict=True)}
                    )
                )
        return sorted(staged, key=lambda s: s.path)
    finally:
        con.close()
