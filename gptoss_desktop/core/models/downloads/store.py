"""Where a downloaded file's bytes live: while arriving, once verified, and how to find them again.

Two destinations. `HubCache` is the standard Hugging Face cache, laid out exactly as
huggingface_hub lays it out (`blobs/<sha256>`, `snapshots/<commit>/<file>` as a relative link,
`refs/<revision>`), so other tools share the file. `Folder` is a folder the person picked; the
bookkeeping goes where huggingface_hub keeps it for `local_dir` downloads (`.cache/huggingface/`),
so `hf_hub_download(local_dir=...)` recognises the file too. The bytes in progress go to an
app-owned `.gptoss-partial` file (never `.incomplete`, which `hf cache prune` deletes), on the same
file system as the final file so placing it is a rename.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import constants, try_to_load_from_cache
from huggingface_hub.file_download import repo_folder_name

from ..remote_file import RemoteFile

PARTIAL_SUFFIX = ".gptoss-partial"
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by huggingface_hub.\n"
    "# For information about cache directory tags, see:\n"
    "#\thttps://bford.info/cachedir/\n"
)


@dataclass(frozen=True)
class HubCache:
    """The Hugging Face cache; `root` None means huggingface_hub's own (HF_HUB_CACHE)."""

    root: Path | None = None

    def resolved_root(self) -> Path:
        return Path(self.root if self.root is not None else constants.HF_HUB_CACHE).expanduser()


@dataclass(frozen=True)
class Folder:
    """A folder the person picked: the file lands as `<folder>/<filename>`."""

    path: Path


Destination = HubCache | Folder


@dataclass(frozen=True)
class Spot:
    """The paths one download uses."""

    partial: Path
    lock: Path
    final: Path


def spot_for(remote: RemoteFile, destination: Destination) -> Spot:
    """Paths of the partial file, the lock and the final file for `remote`."""
    if isinstance(destination, HubCache):
        root = destination.resolved_root()
        repo = _repo_folder(root, remote.repo_id)
        return Spot(
            partial=repo / "blobs" / f"{remote.sha256}{PARTIAL_SUFFIX}",
            lock=root / ".locks" / repo.name / f"{remote.sha256}.lock",
            final=repo / "snapshots" / remote.commit / _relative(remote.filename),
        )
    bookkeeping = _bookkeeping(destination.path, remote.filename)
    return Spot(
        partial=bookkeeping.with_name(f"{bookkeeping.name}.{remote.sha256[:16]}{PARTIAL_SUFFIX}"),
        lock=bookkeeping.with_name(f"{bookkeeping.name}.lock"),
        final=destination.path / _relative(remote.filename),
    )


def find_complete(remote: RemoteFile, destination: Destination) -> Path | None:
    """The finished file for exactly this SHA-256 if it is already there (linking it in if only the blob is)."""
    if isinstance(destination, Folder):
        final = destination.path / _relative(remote.filename)
        record = _read_record(_record_path(destination.path, remote.filename))
        if record is None or not final.is_file() or final.stat().st_size != remote.size:
            return None
        etag, written_at = record
        return final if etag == remote.sha256 and final.stat().st_mtime - 1 <= written_at else None
    root = destination.resolved_root()
    found = try_to_load_from_cache(remote.repo_id, remote.filename, cache_dir=root, revision=remote.commit)
    if isinstance(found, str) and _is_blob_of(Path(found), remote):
        _write_ref(_repo_folder(root, remote.repo_id), remote)
        return Path(found)
    blob = _repo_folder(root, remote.repo_id) / "blobs" / remote.sha256
    if blob.is_file() and blob.stat().st_size == remote.size:
        return _link_snapshot(root, blob, remote)
    return None


def find_cached(repo_id: str, filename: str, revision: str, destination: Destination) -> Path | None:
    """A finished file from an earlier download, found without the network (for when it is down)."""
    if isinstance(destination, Folder):
        final = destination.path / _relative(filename)
        record = _record_path(destination.path, filename)
        return final if final.is_file() and record.is_file() else None
    found = try_to_load_from_cache(repo_id, filename, cache_dir=destination.resolved_root(), revision=revision)
    return Path(found) if isinstance(found, str) else None


def place(remote: RemoteFile, destination: Destination) -> Path:
    """Move the verified partial file to its final place and record it; return the path to use."""
    spot = spot_for(remote, destination)
    if isinstance(destination, Folder):
        spot.final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(spot.partial, spot.final)
        record_verified(remote, destination)
        return spot.final
    root = destination.resolved_root()
    blob = spot.partial.with_name(remote.sha256)
    os.replace(spot.partial, blob)
    tag = root / "CACHEDIR.TAG"
    if not tag.exists():
        _write_atomically(tag, CACHEDIR_TAG)
    return _link_snapshot(root, blob, remote)


def record_verified(remote: RemoteFile, folder: Folder) -> None:
    """Note that `<folder>/<filename>` holds exactly `remote`, in huggingface_hub's local-dir format."""
    record = _record_path(folder.path, remote.filename)
    _write_atomically(record, f"{remote.commit}\n{remote.sha256}\n{time.time()}\n")


def _link_snapshot(root: Path, blob: Path, remote: RemoteFile) -> Path:
    """Point `snapshots/<commit>/<file>` at the blob: a relative symlink, else a hard link, else the blob itself.

    Moving the blob (what huggingface_hub does without symlinks) beats copying it: a model is 12 GB.
    """
    repo = _repo_folder(root, remote.repo_id)
    snapshot = repo / "snapshots" / remote.commit / _relative(remote.filename)
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    snapshot.unlink(missing_ok=True)
    try:
        snapshot.symlink_to(os.path.relpath(blob, snapshot.parent))
    except OSError:
        try:
            os.link(blob, snapshot)
        except OSError:
            os.replace(blob, snapshot)
    _write_ref(repo, remote)
    return snapshot


def _write_ref(repo: Path, remote: RemoteFile) -> None:
    """`refs/<revision>` holds the commit, so the branch name finds the snapshot offline."""
    if remote.revision == remote.commit:
        return
    ref = repo / "refs" / _relative(remote.revision)
    try:
        if not ref.is_file() or ref.read_text() != remote.commit:
            _write_atomically(ref, remote.commit)
    except OSError:
        pass  # a read-only cache still serves the file


def _is_blob_of(path: Path, remote: RemoteFile) -> bool:
    """True for a snapshot entry holding this exact file: a link to blobs/<sha256>, or a real file of the right size."""
    try:
        if path.stat().st_size != remote.size:
            return False
    except OSError:
        return False
    return not path.is_symlink() or path.resolve().name == remote.sha256


def _read_record(path: Path) -> tuple[str, float] | None:
    """(etag, time written) from a huggingface_hub local-dir metadata file."""
    try:
        _commit, etag, written_at = path.read_text().splitlines()[:3]
        return etag.strip(), float(written_at)
    except (OSError, ValueError):
        return None


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def _repo_folder(root: Path, repo_id: str) -> Path:
    return root / repo_folder_name(repo_id=repo_id, repo_type="model")


def _bookkeeping(folder: Path, filename: str) -> Path:
    """`<folder>/.cache/huggingface/download/<filename>`, the stem of huggingface_hub's local-dir records."""
    return folder / ".cache" / "huggingface" / "download" / _relative(filename)


def _record_path(folder: Path, filename: str) -> Path:
    """huggingface_hub's local-dir metadata file: commit, etag (the SHA-256) and when it was written."""
    stem = _bookkeeping(folder, filename)
    return stem.with_name(f"{stem.name}.metadata")


def _relative(filename: str) -> Path:
    """A repo path as a path below a folder, refusing anything that would climb out of it."""
    parts = filename.split("/")
    if not filename or any(part in ("", ".", "..") for part in parts) or "\\" in filename:
        raise ValueError(f"Not a safe file name inside a repository: {filename!r}")
    return Path(*parts)
