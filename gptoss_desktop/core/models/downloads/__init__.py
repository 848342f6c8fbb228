"""Download one file of a hub repo so that nothing is lost or trusted blindly: the entry points.

huggingface_hub 2.4.0 cannot resume across calls (each call starts a fresh `.incomplete` file and
deletes it on failure) and never checks the SHA-256. So the app fetches the bytes itself
(fetch), into an app-owned partial file that survives pauses, crashes and kills, and
places the file in the Hugging Face cache or a picked folder (store) only once its
SHA-256 matches the hub's.

Blocking and pure Python: call it from a worker thread; progress arrives through a callback on
that same thread, pause/cancel through a CancelFlag set from any thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from huggingface_hub.utils._fixes import WeakFileLock  # the lock hf_hub_download takes: public name, private path

from ...cancel import CancelFlag
from ..errors import (
    AccessDeniedError,
    AlreadyDownloadingError,
    DiskFullError,
    DownloadCorruptedError,
    DownloadError,
    DownloadStoppedError,
    HubUnreachableError,
    NotEnoughSpaceError,
    RemoteNotFoundError,
    format_size,
)
from ..hub_files import fetch_remote_file
from ..remote_file import RemoteFile
from .fetch import Fetch, holds, size_of
from .progress import FreeSpace, Meter, Progress, ProgressCallback, free_bytes
from .store import (
    Destination,
    Folder,
    HubCache,
    find_cached,
    find_complete,
    place,
    record_verified,
    spot_for,
)

__all__ = [
    "AccessDeniedError",
    "AlreadyDownloadingError",
    "Destination",
    "DiskFullError",
    "DownloadCorruptedError",
    "DownloadError",
    "DownloadStoppedError",
    "Folder",
    "HubCache",
    "HubUnreachableError",
    "NotEnoughSpaceError",
    "Progress",
    "RemoteFile",
    "RemoteNotFoundError",
    "discard",
    "download",
    "fetch_remote_file",
    "kept_bytes",
]


def download(
    repo_id: str,
    filename: str,
    *,
    revision: str = "main",
    destination: Destination | None = None,
    token: str | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: CancelFlag | None = None,
    free_space: FreeSpace = free_bytes,
) -> Path:
    """Fetch `filename` of `repo_id` (resuming what an earlier attempt kept) and return the verified file.

    Raises DownloadStoppedError when `cancel` is set (the partial file stays; call again to resume,
    or `discard` it), and DownloadError subclasses with messages for people otherwise.
    """
    destination = destination if destination is not None else HubCache()
    try:
        remote = fetch_remote_file(repo_id, filename, revision, token=token)
    except HubUnreachableError:
        cached = find_cached(repo_id, filename, revision, destination)
        if cached is not None:
            return cached
        raise
    found = find_complete(remote, destination)
    if found is not None:
        return found
    spot = spot_for(remote, destination)
    _check_space(remote, spot.partial, free_space)
    meter, cancel = Meter(on_progress), cancel or CancelFlag()
    with _locked(spot.lock, remote):
        found = find_complete(remote, destination)
        if found is not None:
            return found
        if isinstance(destination, Folder) and holds(spot.final, remote, meter, cancel):
            record_verified(remote, destination)  # the person already had it there: adopt it, do not fetch it
            return spot.final
        Fetch(remote, spot.partial, token, meter, cancel).run()
        return place(remote, destination)


def discard(remote: RemoteFile, destination: Destination | None = None) -> bool:
    """Delete the bytes a paused or failed download kept (cancel and discard); True if there were any."""
    partial = spot_for(remote, destination if destination is not None else HubCache()).partial
    existed = partial.exists() or partial.is_symlink()
    partial.unlink(missing_ok=True)
    return existed


def kept_bytes(remote: RemoteFile, destination: Destination | None = None) -> int:
    """How much of `remote` an earlier attempt left on disk (0 if none)."""
    return size_of(spot_for(remote, destination if destination is not None else HubCache()).partial)


def _check_space(remote: RemoteFile, partial: Path, free_space: FreeSpace) -> None:
    needed = remote.size - min(size_of(partial), remote.size)
    free = free_space(partial.parent)
    if free < needed:
        raise NotEnoughSpaceError(
            f"Not enough free disk space for {remote.filename}: it needs {format_size(needed)} more and only "
            f"{format_size(free)} is free in {partial.parent}. Free up {format_size(needed - free)} or choose "
            "another folder."
        )


@contextmanager
def _locked(lock: Path, remote: RemoteFile) -> Iterator[None]:
    """Hold huggingface_hub's own lock for this blob, so two downloads never append to one file."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        try:
            stack.enter_context(WeakFileLock(lock, timeout=1))
        except TimeoutError as exc:
            raise AlreadyDownloadingError(
                f"{remote.filename} is already being downloaded by another program (or another window of this one)."
            ) from exc
        yield
