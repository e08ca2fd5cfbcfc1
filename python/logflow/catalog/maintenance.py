"""Table maintenance: compaction of small files, and removal of orphan files.

Compaction reads the small files of each partition through the same projection queries
use (so renamed and added columns come out right), rewrites them with :func:`_rewrite`,
and swaps them in with one snapshot. Orphan removal deletes files under a table's folder
that no kept snapshot references: leftovers of interrupted ingests, and files of expired
snapshots.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from logflow.catalog.base import FileGroup, ReadPlan, StagedFile, Table

if TYPE_CHECKING:
    from logflow.engine import MaintenanceResult
    from logflow.storage import LocalStorage

__all__ = ["compact", "remove_orphans"]

_PARQUET_WRITE_ROWS = 128 * 1024


class ArrowStreamExportable(Protocol):
    """Anything exporting an Arrow C stream (a RecordBatchReader, a logflow Stream, ...)."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...


def _rewrite(source: ArrowStreamExportable, dst: str, target_file_size: int) -> list[str]:
    """Write the Arrow stream ``source`` as Parquet files of about ``target_file_size``.

    The files go into the new folder ``dst``; returns their paths.

    Uses logflow's Rust writer (``logflow.write``) when this build of logflow has it, and
    pyarrow's writer otherwise.
    """
    import logflow

    write = getattr(logflow, "write", None)
    if write is not None:
        result = write(source, dst, target_file_size=target_file_size)
        files = getattr(result, "files", None)
        if files:
            return sorted(str(f) for f in files)
        return sorted(
            os.path.join(root, n)
            for root, _d, names in os.walk(dst)
            for n in names
            if n.endswith(".parquet")
        )
    import pyarrow as pa
    import pyarrow.parquet as pq

    reader = pa.RecordBatchReader.from_stream(source)
    os.makedirs(dst, exist_ok=True)
    written: list[str] = []
    writer: pq.ParquetWriter | None = None
    sink: Any = None
    try:
        for batch in reader:
            if batch.num_rows == 0:
                continue
            if writer is None:
                path = os.path.join(dst, f"part-{len(written):05d}.parquet")
                sink = open(path, "wb")  # closed in the finally, after the writer
                writer = pq.ParquetWriter(sink, reader.schema, compression="zstd")
                written.append(path)
            writer.write_batch(batch, row_group_size=_PARQUET_WRITE_ROWS)
            if sink.tell() >= target_file_size:
                writer.close()
                sink.close()
                writer = None
        if writer is None and not written:
            path = os.path.join(dst, "part-00000.parquet")
            pq.write_table(reader.schema.empty_table(), path, compression="zstd")
            written.append(path)
    finally:
        if writer is not None:
            writer.close()
        if sink is not None:
            sink.close()
    return written


def _duckdb_config(threads: int | None) -> dict[str, str | bool | int | float | list[str]]:
    """Settings of the internal DuckDB connections (no user SQL runs on them)."""
    config: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if threads:
        config["threads"] = threads
    return config


def _partition_key(values: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((str(k), repr(v)) for k, v in values.items()))


def compact(
    table: Table,
    target_file_size: int,
    *,
    min_files: int = 2,
    threads: int | None = None,
) -> MaintenanceResult:
    """Pack files under half of ``target_file_size`` into about-target files.

    Per partition, in one snapshot; nothing is committed when no partition has
    ``min_files`` small files.
    """
    import duckdb

    from logflow.engine import MaintenanceResult
    from logflow.query.duckdb import view_sql

    plan = table.read_plan()
    files = table.data_files()
    identity = {f.source for f in table.partitioning if f.transform == "identity"}
    small: dict[Any, list[Any]] = {}
    for f in files:
        if f.size < target_file_size // 2:
            small.setdefault(_partition_key(f.partition), []).append(f)
    bins: list[list[Any]] = []
    for group in small.values():
        group.sort(key=lambda f: f.path)
        current: list[Any] = []
        size = 0
        for f in group:
            if current and size + f.size > target_file_size:
                bins.append(current)
                current, size = [], 0
            current.append(f)
            size += f.size
        if current:
            bins.append(current)
    bins = [b for b in bins if len(b) >= min_files]
    if not bins:
        return MaintenanceResult((table.name,))

    keep = [i for i, f in enumerate(plan.schema) if f.name not in identity]
    import pyarrow as pa

    out_schema = pa.schema([plan.schema.field(i) for i in keep])
    run_id = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:12]
    written: list[str] = []
    removed: list[str] = []
    added: list[StagedFile] = []
    con = duckdb.connect(
        ":memory:",
        config=_duckdb_config(threads),
    )
    try:
        for n, members in enumerate(bins):
            paths = {f.path for f in members}
            groups = []
            for g in plan.groups:
                chosen = tuple(p for p in g.files if p in paths)
                if chosen:
                    groups.append(
                        FileGroup(
                            chosen,
                            tuple(g.sources[i] for i in keep),
                            tuple(g.constants[i] for i in keep),
                            tuple(g.file_types[i] for i in keep),
                        )
                    )
            sub = ReadPlan(out_schema, tuple(groups), plan.snapshot_id)
            relation = con.sql(view_sql(sub))
            to_reader = getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader
            reader = to_reader()
            dst = os.path.join(table.location, "data", f"compact-{run_id}", f"bin-{n:05d}")
            new_files = _rewrite(reader, dst, target_file_size)
            written.extend(new_files)
            removed.extend(sorted(paths))
            added.extend(StagedFile(p, dict(members[0].partition)) for p in new_files)
        snap = table.replace_files(
            removed,
            added,
            summary={"logflow.operation": "compact", "logflow.compact-id": run_id},
        )
    except BaseException:
        for p in written:
            try:
                os.remove(p)
            except FileNotFoundError:
                pass
        raise
    finally:
        con.close()
    return MaintenanceResult(
        (table.name,),
        files_removed=tuple(removed),
        files_added=tuple(written),
        snapshot_ids=(snap.snapshot_id,),
    )


def remove_orphans(
    table: Table, older_than: timedelta, storage: LocalStorage | None = None
) -> list[str]:
    """Delete unreferenced files older than ``older_than`` under the table's folder.

    Files are listed and deleted through ``storage`` (a :class:`LocalStorage` whose root
    holds the table; by default one rooted at the table folder). Empty folders go too.
    Returns the files deleted.
    """
    from logflow.storage import LocalStorage

    location = os.path.realpath(table.location)
    if storage is None:
        storage = LocalStorage(location)
    root = str(storage.root)
    prefix = os.path.relpath(location, root)
    if prefix.startswith(".."):
        from logflow.errors import ConfigError

        raise ConfigError(f"table {table.name} lies outside the storage root {root}")
    prefix = "" if prefix == "." else prefix.replace(os.sep, "/") + "/"
    keep = {os.path.realpath(p) for p in table.referenced_files()}
    protected = tuple(
        os.path.realpath(p) + os.sep for p in getattr(table, "protected_prefixes", ())
    )
    cutoff = time.time() - older_than.total_seconds()
    doomed: list[str] = []
    for obj in storage.iter_objects(prefix):
        path = os.path.join(root, obj.key)
        if path in keep or path.startswith(protected) or obj.last_modified > cutoff:
            continue
        doomed.append(obj.key)
    storage.delete_many(doomed)
    for dirpath, _dirnames, _filenames in os.walk(location, topdown=False):
        if dirpath != location:
            with contextlib.suppress(OSError):
                os.rmdir(dirpath)
    return sorted(os.path.join(root, k) for k in doomed)
