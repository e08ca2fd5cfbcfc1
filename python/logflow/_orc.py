"""ORC input: pyarrow reads the stripes; logflow's writer and streams do the rest.

No Rust ORC reader pairs with the arrow version logflow builds with, and pyarrow (a
dependency already) reads every ORC codec and type. Stripes are read one at a time, so memory
holds one stripe (64 MiB by default in ORC writers) however large the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from logflow.errors import ConfigError, DecodeError

if TYPE_CHECKING:
    import pyarrow as pa

_MAGIC = b"ORC"


def is_orc(src: str) -> bool:
    """Whether ``src`` starts like an ORC file: the magic bytes, then binary data."""
    try:
        with open(src, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    if not head.startswith(_MAGIC):
        return False
    if b"\x00" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def open_orc(
    src: str, columns: Sequence[str] | None, batch_size: int | None
) -> pa.RecordBatchReader:
    """The rows of the ORC file ``src`` as a reader, stripe by stripe.

    Raises:
        DecodeError: The file is not a readable ORC file (read errors of later stripes come
            from the reader as it is consumed).
        ConfigError: ``columns`` names a column the file does not have.
    """
    import pyarrow as pa
    import pyarrow.orc as orc

    try:
        f = orc.ORCFile(src)
        schema = f.schema
        stripes = f.nstripes
    except (pa.ArrowException, OSError, ValueError) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise DecodeError(f"{src}: not a readable ORC file: {e}", src, format="orc") from e
    names = list(columns) if columns is not None else None
    if names is not None:
        missing = [n for n in names if schema.get_field_index(n) < 0]
        if missing:
            have = ", ".join(repr(n) for n in schema.names)
            raise ConfigError(
                f"columns: the input has no column {missing[0]!r} (its columns: {have})"
            )
        names = list(dict.fromkeys(names))
        schema = pa.schema([schema.field(n) for n in names], metadata=schema.metadata)
    size = batch_size or 65_536

    def batches() -> Iterator[pa.RecordBatch]:
        for i in range(stripes):
            stripe = f.read_stripe(i, columns=names)
            if names is not None:
                stripe = pa.RecordBatch.from_arrays(
                    [stripe.column(n) for n in names], schema=schema
                )
            for start in range(0, max(stripe.num_rows, 1), size):
                part = stripe.slice(start, size)
                if part.num_rows:
                    yield part

    return pa.RecordBatchReader.from_batches(schema, batches())


def size_of(src: str) -> int:
    """The file's size in bytes (what a conversion of it reads)."""
    return os.path.getsize(src)
