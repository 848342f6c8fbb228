"""Getting a file's bytes into the partial file: ranged GETs, resumes, SHA-256, write errors.

Through huggingface_hub's own HTTP session (`get_session()`: TLS verification on, proxies from
the environment) and always plain HTTP, never Xet, whatever is installed. The partial file's size
on disk is the resume point, so a killed process loses nothing it wrote. Blocking: runs on the
caller's (worker) thread.
"""

from __future__ import annotations

import errno
import hashlib
import os
import socket
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import BinaryIO

import httpcore2
import httpx2
from huggingface_hub import constants, get_session, hf_raise_for_status
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.utils._headers import build_hf_headers  # public name, not re-exported for type checkers

from ...cancel import CancelFlag
from ..errors import (
    DiskFullError,
    DownloadCorruptedError,
    DownloadError,
    DownloadStoppedError,
    HubUnreachableError,
    format_size,
    hub_error,
)
from ..hub_files import fetch_remote_file
from ..remote_file import RemoteFile
from .hashing import BackgroundHasher
from .progress import Meter

READ_BLOCK = 1 << 20  # bytes read at a time when re-hashing a kept file
SYNC_EVERY_S = 10.0
#: Every this many new bytes the kernel is asked to start writing them to disk (see start_writeback).
WRITEBACK_EVERY = 64 << 20
MAX_RETRIES = 5
RETRY_WAIT_S = (0.0, 1.0, 2.0, 4.0, 8.0, 8.0)
#: How much huggingface_hub's HTTP/1.1 connections ask the socket for at a time. httpcore's 64 KiB
#: means 16 trips through its Python parser per MiB; at 1 MiB a fast link's bytes arrive in
#: 1/16 of the calls (1.5x the throughput over loopback, bench/download.py). A read returns what
#: has arrived, so slow links and the hub's small replies are not held back. Only huggingface_hub
#: uses httpcore2 here (the server chat goes through httpx/httpcore).
HTTP_READ_BYTES = 1 << 20


def read_in_larger_pieces() -> None:
    """Raise httpcore2's per-read size for HTTP/1.1 connections to HTTP_READ_BYTES (never lower it)."""
    connection = httpcore2.HTTP11Connection
    connection.READ_NUM_BYTES = max(getattr(connection, "READ_NUM_BYTES", 0), HTTP_READ_BYTES)


def start_writeback(fd: int, start: int, length: int) -> None:
    """Have the kernel start writing a byte range to disk now, without waiting for it.

    Dirty pages are otherwise written out late, and the fsync that makes the finished download
    durable then waits for all of them at once (a quarter of the time of a fast download here).
    posix_fadvise(DONTNEED) starts that writeback early. Where the call does not exist (macOS,
    Windows) nothing is done.
    """
    advise = getattr(os, "posix_fadvise", None)
    if advise is not None:
        with suppress(OSError):
            advise(fd, start, length, os.POSIX_FADV_DONTNEED)


def size_of(path: Path) -> int:
    """Size on disk, 0 for a missing file."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def holds(path: Path, remote: RemoteFile, meter: Meter, cancel: CancelFlag) -> bool:
    """True if `path` is exactly `remote` (same size, same SHA-256), hashing it once."""
    if size_of(path) != remote.size or not path.is_file():
        return False
    hasher = hashlib.sha256()
    hash_into(hasher.update, path, remote.size, meter, cancel, remote)
    return hasher.hexdigest() == remote.sha256


def hash_into(
    update: Callable[[bytes], None], path: Path, size: int, meter: Meter, cancel: CancelFlag, remote: RemoteFile
) -> int:
    """Feed the first `size` bytes of `path` to a hash's `update`, reporting the `checking` stage; return the count."""
    meter.start("checking", size)
    done = 0
    with open(path, "rb") as f:
        while done < size:
            if cancel.is_set():
                raise DownloadStoppedError(remote, size_of(path))
            block = f.read(min(READ_BLOCK, size - done))
            if not block:
                break
            update(block)
            done += len(block)
            meter.update(done)
    meter.finish(done)
    return done


class Fetch:
    """One attempt at getting the bytes into the partial file, across dropped connections."""

    def __init__(self, remote: RemoteFile, partial: Path, token: str | None, meter: Meter, cancel: CancelFlag) -> None:
        self.remote = remote
        self.partial = partial
        self.token = token
        self.meter = meter
        self.cancel = cancel
        self.done = 0
        self.synced_at = time.monotonic()
        self.written_back = 0  # bytes before this offset have been handed to start_writeback

    def run(self) -> None:
        """Hash what an earlier attempt kept, fetch the rest, then check the SHA-256."""
        self.partial.parent.mkdir(parents=True, exist_ok=True)
        self.hasher = BackgroundHasher()
        try:
            self._hash_kept()
            self._fetch_and_check()
        finally:
            self.hasher.close()

    def _fetch_and_check(self) -> None:
        try:
            with open(self.partial, "ab", buffering=0) as out:
                try:
                    self._fetch_rest(out)
                finally:
                    with suppress(OSError):
                        os.fsync(out.fileno())
            if self.hasher.hexdigest() != self.remote.sha256:
                raise DownloadCorruptedError(
                    f"The download of {self.remote.filename} was corrupted (its SHA-256 does not match the one the "
                    "hub published) and was deleted. Try again; if it keeps happening, the network or a proxy is "
                    "damaging it."
                )
        except DownloadCorruptedError:
            self.partial.unlink(missing_ok=True)  # closed first: Windows cannot delete an open file
            raise

    def _hash_kept(self) -> None:
        """Re-hash the bytes kept from before (hash state cannot be saved), dropping a partial that is too long."""
        size = size_of(self.partial)
        if size > self.remote.size:
            self.partial.unlink()
            size = 0
        if size:
            self.done = hash_into(self.hasher.update, self.partial, size, self.meter, self.cancel, self.remote)

    def _fetch_rest(self, out: BinaryIO) -> None:
        """Ranged GETs from where the file ends, again after each drop, until every byte is written."""
        self.meter.start("downloading", self.remote.size, already=self.done)
        url, failures = self.remote.url, 0
        while self.done < self.remote.size:
            self._stop_if_cancelled()
            before, problem = self.done, None
            try:
                self._get(url, out)  # may end early without an error: a server may cap the part it sends
            except (httpx2.TransportError, HfHubHTTPError) as exc:
                if isinstance(exc, HfHubHTTPError) and not _worth_retrying(exc, failures):
                    raise hub_error(exc, self.remote.repo_id, self.remote.filename, self.remote.revision) from exc
                problem = exc
            if self.done > before and problem is None:
                failures = 0
                continue
            failures = 0 if self.done > before else failures + 1
            if failures > MAX_RETRIES:
                raise HubUnreachableError(
                    f"The connection to {constants.ENDPOINT} kept failing ({_describe(problem)}). "
                    f"{format_size(self.done)} of {format_size(self.remote.size)} are kept; resume later."
                ) from problem
            self._wait(RETRY_WAIT_S[failures])
            url = self._fresh_url()
        self.meter.finish(self.done)

    def _get(self, url: str, out: BinaryIO) -> None:
        read_in_larger_pieces()
        headers = build_hf_headers(token=self.token)
        headers["Accept-Encoding"] = "identity"
        headers["Range"] = f"bytes={self.done}-"
        if not _same_origin(url, constants.ENDPOINT):
            headers.pop("authorization", None)  # a signed CDN address must not see the token
        timeout = constants.HF_HUB_DOWNLOAD_TIMEOUT
        with get_session().stream("GET", url, headers=headers, timeout=timeout, follow_redirects=True) as response:
            if response.status_code >= 400:
                response.read()
                hf_raise_for_status(response)
            if response.status_code == 200 and self.done:
                self._restart(out)  # the server ignored the Range header: start over rather than mix
            elif response.status_code == 206:
                self._check_range(response.headers.get("Content-Range", ""))
            # A read blocked on a stalled link would notice Pause only when the next bytes come (or at the
            # read timeout): shutting the socket down wakes it at once.
            forget = self.cancel.when_set(_shutter(response))
            try:
                for chunk in response.iter_bytes():
                    self._write(out, chunk)
                    self._stop_if_cancelled()
            finally:
                forget()

    def _write(self, out: BinaryIO, chunk: bytes) -> None:
        if self.done + len(chunk) > self.remote.size:
            raise DownloadCorruptedError(
                f"The server sent more bytes than {self.remote.filename} has: the download was corrupted "
                "and was deleted."
            )
        try:
            view = memoryview(chunk)
            while view:
                view = view[out.write(view) or 0 :]
            end = self.done + len(chunk)
            if time.monotonic() - self.synced_at >= SYNC_EVERY_S:
                os.fsync(out.fileno())  # bounds what a power cut can lose; a killed process loses nothing
                self.synced_at = time.monotonic()
            elif end - self.written_back >= WRITEBACK_EVERY:
                start_writeback(out.fileno(), self.written_back, end - self.written_back)
                self.written_back = end
        except OSError as exc:
            raise self._write_error(exc) from exc
        self.hasher.update(chunk)
        self.done += len(chunk)
        self.meter.update(self.done)

    def _write_error(self, exc: OSError) -> DownloadError:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return DiskFullError(
                f"The disk filled up while downloading {self.remote.filename} into {self.partial.parent}. "
                f"The {format_size(self.done)} already downloaded are kept: free up "
                f"{format_size(self.remote.size - self.done)} and resume."
            )
        return DownloadError(f"Could not write {self.partial}: {exc.strerror or exc}.")

    def _restart(self, out: BinaryIO) -> None:
        out.truncate(0)
        self.written_back = 0
        self.hasher.close()
        self.hasher = BackgroundHasher()
        self.done = 0
        self.meter.start("downloading", self.remote.size)

    def _check_range(self, content_range: str) -> None:
        """A 206 must start exactly where the file ends, or appending would scramble it."""
        start = content_range.removeprefix("bytes ").split("-", 1)[0]
        if start != str(self.done):
            raise DownloadError(
                f"The server answered a resume of {self.remote.filename} at byte {self.done} with the wrong "
                f"part ({content_range or 'no Content-Range'}); nothing was written."
            )

    def _fresh_url(self) -> str:
        """Ask the hub again, pinned to the commit: signed CDN addresses expire, and the file must not change."""
        try:
            again = fetch_remote_file(self.remote.repo_id, self.remote.filename, self.remote.commit, token=self.token)
        except HubUnreachableError:
            return self.remote.url
        if again.sha256 != self.remote.sha256:
            raise DownloadError(f"{self.remote.filename} changed on the hub during the download; start it again.")
        return again.url

    def _wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._stop_if_cancelled()
            time.sleep(min(0.1, max(deadline - time.monotonic(), 0)))

    def _stop_if_cancelled(self) -> None:
        if self.cancel.is_set():
            raise DownloadStoppedError(self.remote, size_of(self.partial))


def _shutter(response: httpx2.Response) -> Callable[[], None]:
    """A function that shuts down the socket `response` is read from (nothing if it cannot be found)."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None

    def shut_down() -> None:
        if isinstance(sock, socket.socket):
            with suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)

    return shut_down


def _worth_retrying(exc: HfHubHTTPError, failures: int) -> bool:
    """Server trouble is retried, a refusal once (a signed CDN address may have expired); not-found is final."""
    status = exc.response.status_code if exc.response is not None else 0
    return status in (408, 429) or status >= 500 or (status in (401, 403, 410) and failures == 0)


def _describe(problem: Exception | None) -> str:
    if problem is None:
        return "the server sent no data"
    return str(problem) or type(problem).__name__


def _same_origin(url: str, other: str) -> bool:
    a, b = httpx2.URL(url), httpx2.URL(other)
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)
