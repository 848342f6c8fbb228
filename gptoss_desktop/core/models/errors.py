"""Why a download failed, said for a person: the exceptions, and huggingface_hub's translated into them."""

from __future__ import annotations

import re

import httpx2
from huggingface_hub import constants
from huggingface_hub.errors import (
    FileMetadataError,
    GatedRepoError,
    HfHubHTTPError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from .remote_file import RemoteFile


class DownloadError(Exception):
    """A download failed or was refused; the message is meant for a person."""


class HubUnreachableError(DownloadError):
    """The network or the hub is down; trying again later may work."""


class RemoteNotFoundError(DownloadError):
    """The repository, revision or file does not exist (or is private)."""


class AccessDeniedError(DownloadError):
    """The repository is gated or needs a login."""


class DownloadStoppedError(Exception):
    """The cancel flag stopped the download; the bytes written so far are kept for a resume."""

    def __init__(self, remote: RemoteFile, kept: int) -> None:
        super().__init__(
            f"Download of {remote.filename} paused: {format_size(kept)} of {format_size(remote.size)} kept."
        )
        self.remote = remote
        self.kept = kept


class NotEnoughSpaceError(DownloadError):
    """Refused before starting: the target folder's disk is too full."""


class DiskFullError(DownloadError):
    """The disk filled up while writing; the bytes written so far are kept."""


class DownloadCorruptedError(DownloadError):
    """The bytes did not match the hub's SHA-256 and were deleted."""


class AlreadyDownloadingError(DownloadError):
    """Another download (this app or another tool) is writing the same file."""


def hub_error(exc: BaseException, repo_id: str, filename: str | None = None, revision: str = "main") -> DownloadError:
    """Translate an exception from huggingface_hub or the HTTP client into a DownloadError."""
    if isinstance(exc, DownloadError):
        return exc
    hub = constants.ENDPOINT
    if isinstance(exc, GatedRepoError):
        return AccessDeniedError(
            f"{repo_id} is gated: accept its conditions at {hub}/{repo_id} while logged in, then log in here "
            "too (`hf auth login`) and try again."
        )
    if isinstance(exc, RepositoryNotFoundError):
        return RemoteNotFoundError(
            f"The repository {repo_id} was not found on {hub}. Check the name; if it is private, log in first."
        )
    if isinstance(exc, RevisionNotFoundError):
        return RemoteNotFoundError(f"The repository {repo_id} has no revision {revision!r}.")
    if isinstance(exc, RemoteEntryNotFoundError):
        return RemoteNotFoundError(f"The repository {repo_id} has no file {filename!r} (revision {revision!r}).")
    if isinstance(exc, OfflineModeIsEnabled):
        return HubUnreachableError("Offline mode is on (HF_HUB_OFFLINE is set), so nothing can be downloaded.")
    if isinstance(exc, httpx2.ProxyError):
        return HubUnreachableError(f"The proxy refused the connection to {hub}: {exc}. Check the proxy settings.")
    if isinstance(exc, httpx2.TransportError):
        return HubUnreachableError(
            f"Could not reach {hub} ({_transport_reason(exc)}). Check the network connection and try again."
        )
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else 0
        if status in (401, 403):
            return AccessDeniedError(f"{hub} refused access to {repo_id} (HTTP {status}). Log in, or check your token.")
        if status == 429 or status >= 500:
            return HubUnreachableError(f"{hub} is busy or failing (HTTP {status}). Try again in a few minutes.")
        return DownloadError(f"{hub} refused the download of {filename or repo_id} (HTTP {status}).")
    if isinstance(exc, FileMetadataError):
        return DownloadError(f"The server at {hub} does not answer like a Hugging Face hub: {exc}")
    return DownloadError(f"Could not get {filename or repo_id} from {repo_id}: {exc}")


#: What the system's name lookup says when there is no network or no DNS (Linux, macOS, Windows).
_NAME_NOT_FOUND = ("Name or service not known", "nodename nor servname", "getaddrinfo failed", "Temporary failure")


def _transport_reason(exc: BaseException) -> str:
    """Why the connection failed, in words: no "[Errno -2]" codes."""
    text = str(exc) or type(exc).__name__
    if any(words in text for words in _NAME_NOT_FOUND):
        return "its name could not be looked up: this computer seems to be offline"
    return re.sub(r"\[Errno -?\d+\]\s*", "", text)


def format_size(n: float) -> str:
    """Bytes in decimal units, as the hub and file managers show them (12.1 GB)."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} bytes"
