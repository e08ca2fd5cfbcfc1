"""logflow: stream data files into analysis-ready Parquet, fast.

Example:
    >>> import logflow
    >>> result = logflow.convert("tests/data/csv/sample.csv", "/tmp/sample.parquet")
    >>> result.rows_written
    12
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING

from logflow import errors
from logflow._native import __version__
from logflow.detection import Detection, detect
from logflow.io import (
    ConvertResult,
    ErrorSample,
    Fingerprint,
    SourceResult,
    Stream,
    convert,
    read,
    write,
)
from logflow.quality import QualityReport, profile

if _TYPE_CHECKING:
    from logflow.engine import Engine

__all__ = [
    "ConvertResult",
    "Detection",
    "Engine",
    "ErrorSample",
    "Fingerprint",
    "QualityReport",
    "SourceResult",
    "Stream",
    "__version__",
    "convert",
    "detect",
    "errors",
    "profile",
    "read",
    "write",
]


_SUBPACKAGES = ("catalog", "engine", "query", "rules", "storage")


def __getattr__(name: str) -> object:
    # The Engine (and the catalog/query packages behind it) load on first use, so
    # ``import logflow`` stays as light as the one-call API needs.
    if name == "Engine":
        from logflow.engine import Engine

        globals()["Engine"] = Engine
        return Engine
    if name in _SUBPACKAGES:
        import importlib

        return importlib.import_module(f"logflow.{name}")
    raise AttributeError(f"module 'logflow' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
