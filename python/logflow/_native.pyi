"""Type stubs of the native module. Internal: use the wrappers in :mod:`logflow`."""

from collections.abc import Callable
from os import PathLike
from typing import Any, final

# One input: a path, the bytes of a buffer, or a binary file-like (with read(n)); or a list
# of (name, input, fingerprint) tuples, the fingerprint a dict with size, mtime, etag.
_Input = str | PathLike[str] | bytes | bytearray | memoryview | Any
_Sources = _Input | list[tuple[str, _Input, dict[str, Any] | None]]

__all__ = [
    "Batch",
    "BatchStream",
    "Schema",
    "__version__",
    "build_profile",
    "convert",
    "detect",
    "merge_profiles",
    "profile",
    "profile_stream",
    "read",
    "read_stream",
    "write",
]

__version__: str
build_profile: str

@final
class Schema:
    """A schema exported through ``__arrow_c_schema__``."""

    def __arrow_c_schema__(self) -> object: ...

@final
class Batch:
    """One record batch exported through ``__arrow_c_array__``."""

    @property
    def num_rows(self) -> int: ...
    def __arrow_c_array__(
        self, requested_schema: object | None = None
    ) -> tuple[object, object]: ...

@final
class BatchStream:
    """A one-shot stream of record batches."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...
    def __arrow_c_schema__(self) -> object: ...
    def next_batch(self) -> Batch | None: ...
    @property
    def rows_read(self) -> int: ...
    @property
    def rows_rejected(self) -> int: ...
    @property
    def rows_skipped(self) -> int: ...

def convert(
    src: _Sources,
    dst: str | PathLike[str],
    *,
    format: str | None = None,
    delimiter: str | None = None,
    quote: str | None = ...,
    escape: str | None = ...,
    skip_initial_space: bool | None = None,
    header: bool | None = None,
    skip_lines: int | None = None,
    compression: str = "zstd",
    compression_level: int | None = None,
    row_group_size: int | None = None,
    batch_size: int | None = None,
    error_policy: str = "strict",
    on_cast_error: str = "reject",
    encoding: str | None = None,
    schema: list[tuple[str, str]] | None = None,
    schema_policy: str | None = None,
    infer_types: bool = True,
    empty_as_null: bool | None = None,
    records_path: str | None = None,
    flatten: bool | int | None = None,
    max_expansion: int | None = None,
    max_decompressed_size: int | str | None = None,
    threads: int | None = None,
    progress: Callable[[int, int, int], Any] | None = None,
    max_rows_per_file: int | None = None,
    target_file_size: int | str | None = None,
    partition_by: list[str] | None = None,
    record_path: str | None = None,
    tables: str | None = None,
    columns: list[str] | None = None,
    sheet: str | int | None = None,
    file_name_column: str | None = None,
    fingerprint: str | None = None,
    profile: bool = False,
    verify: bool = False,
    checksum: bool = True,
    rules: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Convert a file to Parquet; the dict's keys are the fields of ``ConvertResult``."""

def profile(
    src: str | PathLike[str],
    *,
    format: str | None = None,
    delimiter: str | None = None,
    quote: str | None = ...,
    escape: str | None = ...,
    skip_initial_space: bool | None = None,
    header: bool | None = None,
    skip_lines: int | None = None,
    batch_size: int | None = None,
    error_policy: str = "permissive",
    on_cast_error: str = "reject",
    encoding: str | None = None,
    schema: list[tuple[str, str]] | None = None,
    schema_policy: str | None = None,
    infer_types: bool = True,
    empty_as_null: bool | None = None,
    records_path: str | None = None,
    flatten: bool | int | None = None,
    threads: int | None = None,
    progress: Callable[[int, int, int], Any] | None = None,
    top_k: int | None = None,
    rules: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Read a file as ``convert`` does, writing nothing; keys as for ``convert``."""

def profile_stream(
    data: object,
    src: str | PathLike[str],
    *,
    format: str | None = None,
    schema: list[tuple[str, str]] | None = None,
    error_policy: str = "permissive",
    on_cast_error: str = "reject",
    threads: int | None = None,
    progress: Callable[[int, int, int], Any] | None = None,
    top_k: int | None = None,
    rules: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Profile an Arrow stream (``__arrow_c_stream__``) as ``profile`` does a file."""

def merge_profiles(states: list[bytes]) -> dict[str, Any]:
    """Merge profiles given by their state bytes; the profile of all of them."""

def read(
    src: _Sources,
    *,
    format: str | None = None,
    delimiter: str | None = None,
    quote: str | None = ...,
    escape: str | None = ...,
    skip_initial_space: bool | None = None,
    header: bool | None = None,
    skip_lines: int | None = None,
    batch_size: int | None = None,
    error_policy: str = "strict",
    on_cast_error: str = "reject",
    encoding: str | None = None,
    schema: list[tuple[str, str]] | None = None,
    infer_types: bool = True,
    empty_as_null: bool | None = None,
    records_path: str | None = None,
    flatten: bool | int | None = None,
    max_expansion: int | None = None,
    max_decompressed_size: int | str | None = None,
    threads: int | None = None,
    record_path: str | None = None,
    tables: str | None = None,
    columns: list[str] | None = None,
    sheet: str | int | None = None,
    file_name_column: str | None = None,
) -> BatchStream:
    """Open a file as a one-shot stream of record batches."""

def read_stream(
    data: object,
    *,
    format: str | None = None,
    columns: list[str] | None = None,
    schema: list[tuple[str, str]] | None = None,
    error_policy: str = "permissive",
    on_cast_error: str = "reject",
    batch_size: int | None = None,
) -> BatchStream:
    """Stream an Arrow stream (``__arrow_c_stream__``) with columns and types applied."""

def write(
    data: object,
    dst: str | PathLike[str],
    *,
    compression: str = "zstd",
    compression_level: int | None = None,
    row_group_size: int | None = None,
    threads: int | None = None,
    progress: Callable[[int, int, int], Any] | None = None,
    max_rows_per_file: int | None = None,
    target_file_size: int | str | None = None,
    partition_by: list[str] | None = None,
    format: str | None = None,
    columns: list[str] | None = None,
    schema: list[tuple[str, str]] | None = None,
    error_policy: str = "strict",
    on_cast_error: str = "reject",
    verify: bool = False,
    profile: bool = False,
    rules: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Write an Arrow stream (``__arrow_c_stream__``) to Parquet; keys as for ``convert``."""

def detect(src: _Sources, *, infer_types: bool = True) -> dict[str, Any]:
    """What a file is: compression, encoding, format, dialect and columns."""
