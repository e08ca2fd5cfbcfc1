"""``http(s)://`` inputs: a binary file-like over one HTTP GET, with limits.

The response is streamed as the decoder asks for bytes, never downloaded first. A dropped
connection or a read that times out is resumed where it stopped with a ``Range`` request
(when the server takes them), up to ``retries`` times; a server error (5xx, 429) on opening
is retried too, with a short backoff. Past ``max_size`` bytes reading stops with
:class:`~logflow.errors.LimitExceededError`. A server that takes ranges makes the reader
seekable, so a zip archive is read through its directory by range requests.
"""

from __future__ import annotations

import email.utils
import http.client
import io
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from logflow.errors import (
    ConfigError,
    LimitExceededError,
    ObjectNotFoundError,
    StorageError,
)

__all__ = ["HttpOptions", "HttpReader"]

_RETRY_STATUS = {429, 500, 502, 503, 504}


class HttpOptions:
    """Limits of HTTP reads, from ``storage_options``.

    Keys: ``timeout`` (seconds for connecting and for each read, default 30),
    ``max_size`` (most bytes to read, default none), ``retries`` (reconnections after a
    failure, default 3), ``headers`` (extra request headers, e.g. an ``Authorization``).
    """

    __slots__ = ("headers", "max_size", "retries", "timeout")

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        opts = dict(options or {})
        self.timeout = float(opts.pop("timeout", 30.0))
        max_size = opts.pop("max_size", None)
        self.max_size = None if max_size is None else int(max_size)
        self.retries = int(opts.pop("retries", 3))
        self.headers = {str(k): str(v) for k, v in dict(opts.pop("headers", {})).items()}
        if opts:
            raise ConfigError(
                f"storage_options for http(s): unknown keys {sorted(opts)}; it takes "
                "timeout, max_size, retries, headers"
            )
        if (
            self.timeout <= 0
            or self.retries < 0
            or (self.max_size is not None and self.max_size < 0)
        ):
            raise ConfigError(
                "storage_options for http(s): timeout > 0, retries >= 0, max_size >= 0"
            )


class HttpReader(io.RawIOBase):
    """A binary, read-only file-like over an HTTP(S) URL (see the module docs)."""

    def __init__(self, url: str, options: HttpOptions) -> None:
        super().__init__()
        self.url = url
        self.name = url
        self._opts = options
        self._pos = 0
        self._resp: http.client.HTTPResponse | None = None
        self.size: int | None = None
        self.etag: str | None = None
        self.mtime: float | None = None
        self._ranges = False
        self._open(0)

    def _request(self, start: int) -> http.client.HTTPResponse:
        headers = {"Accept-Encoding": "identity", **self._opts.headers}
        if start:
            headers["Range"] = f"bytes={start}-"
            if self.etag:
                headers["If-Range"] = self.etag
        req = urllib.request.Request(self.url, headers=headers)
        last: BaseException | None = None
        for attempt in range(self._opts.retries + 1):
            if attempt:
                time.sleep(min(0.2 * 2 ** (attempt - 1), 2.0))
            try:
                resp = urllib.request.urlopen(req, timeout=self._opts.timeout)
                return resp  # type: ignore[no-any-return]
            except urllib.error.HTTPError as e:
                e.close()
                if e.code in (404, 410):
                    raise ObjectNotFoundError(
                        f"{self.url}: not found (HTTP {e.code})", path=self.url
                    ) from None
                if e.code == 416 and start and self.size is not None and start >= self.size:
                    raise EOFError from None
                if e.code not in _RETRY_STATUS:
                    raise StorageError(
                        f"{self.url}: HTTP {e.code} {e.reason}", path=self.url
                    ) from None
                last = e
            except (urllib.error.URLError, OSError) as e:
                last = e
        raise StorageError(
            f"{self.url}: {last} (after {self._opts.retries} retries)", path=self.url
        ) from last

    def _open(self, start: int) -> None:
        resp = self._request(start)
        status = resp.status
        if start and status != 206:
            resp.close()
            raise StorageError(
                f"{self.url}: the server did not resume at byte {start} (HTTP {status}); "
                "it does not take range requests, or the content changed",
                path=self.url,
            )
        if not start:
            length = resp.headers.get("Content-Length")
            self.size = int(length) if length and length.isdigit() else None
            self.etag = resp.headers.get("ETag")
            modified = resp.headers.get("Last-Modified")
            if modified:
                try:
                    self.mtime = email.utils.parsedate_to_datetime(modified).timestamp()
                except (TypeError, ValueError):
                    self.mtime = None
            self._ranges = (
                resp.headers.get("Accept-Ranges", "").lower() == "bytes" and self.size is not None
            )
            limit = self._opts.max_size
            if limit is not None and self.size is not None and self.size > limit:
                resp.close()
                raise LimitExceededError(
                    f"{self.url}: {self.size} bytes, over max_size={limit}", path=self.url
                )
        self._resp = resp

    def readable(self) -> bool:
        """Always true."""
        return True

    def seekable(self) -> bool:
        """True when the server takes range requests and said how big the content is."""
        return self._ranges

    def tell(self) -> int:
        """The position of the next byte read."""
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move to ``offset``; the next read starts a range request there."""
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self._pos + offset
        elif whence == io.SEEK_END and self.size is not None:
            target = self.size + offset
        else:
            raise OSError(f"{self.url}: cannot seek from the end of content of unknown size")
        if target < 0:
            raise ValueError("negative seek position")
        if target != self._pos:
            if not self._ranges:
                raise OSError(f"{self.url}: the server does not take range requests")
            self._drop()
            self._pos = target
        return self._pos

    def _drop(self) -> None:
        if self._resp is not None:
            self._resp.close()
            self._resp = None

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes (all that is left for ``-1``); ``b""`` at the end."""
        limit = self._opts.max_size
        for attempt in range(self._opts.retries + 1):
            if self.size is not None and self._pos >= self.size:
                return b""
            try:
                if self._resp is None:
                    self._open(self._pos)
                assert self._resp is not None
                data = self._resp.read(None if size is None or size < 0 else size)
            except EOFError:
                return b""
            except (OSError, http.client.HTTPException) as e:
                if not self._ranges or attempt == self._opts.retries:
                    raise StorageError(f"{self.url}: reading failed: {e}", path=self.url) from e
                self._drop()
                time.sleep(min(0.2 * 2**attempt, 2.0))
                continue
            if not data and self.size is not None and self._pos < self.size:
                # The connection ended early: resume with a range request.
                self._drop()
                if not self._ranges or attempt == self._opts.retries:
                    raise StorageError(
                        f"{self.url}: the response ended at byte {self._pos} of {self.size}",
                        path=self.url,
                    )
                continue
            self._pos += len(data)
            if limit is not None and self._pos > limit:
                self._drop()
                raise LimitExceededError(
                    f"{self.url}: more than max_size={limit} bytes", path=self.url
                )
            return data
        return b""  # pragma: no cover - the loop returns or raises

    def readinto(self, b: Any) -> int:  # noqa: ANN401 - any writable buffer
        """Read into a writable buffer; the number of bytes read."""
        data = self.read(len(memoryview(b)))
        memoryview(b).cast("B")[: len(data)] = data
        return len(data)

    def close(self) -> None:
        """Close the connection."""
        self._drop()
        super().close()

    def fingerprint(self) -> dict[str, Any]:
        """Size, ETag and modification time as the server sent them."""
        return {"size": self.size, "etag": self.etag, "mtime": self.mtime}
