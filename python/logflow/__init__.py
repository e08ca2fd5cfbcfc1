"""logflow: stream data files into analysis-ready Parquet, fast.

Example:
    >>> import logflow
    >>> result = logflow.convert("tests/data/csv/sample.csv", "/tmp/sample.parquet")
    >>> result.rows_written
    12
"""

from logflow import errors
from logflow._native import __version__
from logflow.detection import Detection, detect
from logflow.io import ConvertResult, ErrorSample, Stream, convert, read, write

__all__ = [
    "ConvertResult",
    "Detection",
    "ErrorSample",
    "Stream",
    "__version__",
    "convert",
    "detect",
    "errors",
    "read",
    "write",
]
