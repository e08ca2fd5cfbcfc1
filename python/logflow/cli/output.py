"""Terminal output: a progress bar for long runs."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """A one-line progress bar on a terminal, shown only once a run lasts over ``delay_s``.

    Used as the ``progress=`` callback of :func:`logflow.convert`.
    """

    def __init__(self, stream: TextIO | None = None, delay_s: float = 1.0, width: int = 30) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._enabled = self._stream.isatty()
        self._start = time.monotonic()
        self._delay = delay_s
        self._width = width
        self._shown = False

    def __call__(self, bytes_read: int, bytes_total: int, rows: int) -> None:
        """Redraw the bar (the ``progress=`` signature of :func:`logflow.convert`)."""
        elapsed = time.monotonic() - self._start
        if not self._enabled or elapsed < self._delay:
            return
        frac = min(bytes_read / bytes_total, 1.0) if bytes_total else 0.0
        filled = int(frac * self._width)
        bar = "#" * filled + "-" * (self._width - filled)
        rate = rows / elapsed if elapsed > 0 else 0.0
        self._stream.write(
            f"\r[{bar}] {frac:6.1%}  {bytes_read / 1e6:,.0f}/{bytes_total / 1e6:,.0f} MB  "
            f"{rows:,} rows  {rate:,.0f} rows/s"
        )
        self._stream.flush()
        self._shown = True

    def close(self) -> None:
        """Clear the bar's line if it was drawn."""
        if self._shown:
            self._stream.write("\r\033[K")
            self._stream.flush()
            self._shown = False
