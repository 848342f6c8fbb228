"""What the Hugging Face hub says about one file: commit, size, SHA-256 and where to fetch it.

Asked at download time, so nothing hard-coded can go stale. Blocks on the network; runs on the
caller's thread.
"""

from __future__ import annotations

import re

from huggingface_hub import HfApi, constants, get_hf_file_metadata, hf_hub_url

from .errors import DownloadError, hub_error
from .remote_file import RemoteFile

SHA256 = re.compile(r"[0-9a-f]{64}")


def fetch_remote_file(repo_id: str, filename: str, revision: str = "main", *, token: str | None = None) -> RemoteFile:
    """Ask the hub (one HEAD request) for the file's commit, size, SHA-256 and download location."""
    try:
        meta = get_hf_file_metadata(hf_hub_url(repo_id, filename, revision=revision), token=token)
        commit, etag, size = meta.commit_hash, meta.etag or "", meta.size
        if commit is None or size is None:
            raise DownloadError(
                f"The server at {constants.ENDPOINT} did not say which commit or size {filename} has, so it does "
                "not look like a Hugging Face hub. Check HF_ENDPOINT and any proxy settings."
            )
        sha256 = etag if SHA256.fullmatch(etag) else _lfs_sha256(repo_id, filename, commit, token)
    except Exception as exc:
        raise hub_error(exc, repo_id, filename, revision) from exc
    return RemoteFile(repo_id, filename, revision, commit, sha256, size, meta.location)


def _lfs_sha256(repo_id: str, filename: str, commit: str, token: str | None) -> str:
    """The SHA-256 from the repo tree, for a reply whose ETag is not one (a file kept in plain git)."""
    for info in HfApi().get_paths_info(repo_id, [filename], revision=commit, token=token):
        lfs = getattr(info, "lfs", None)
        if lfs is not None and SHA256.fullmatch(lfs.sha256):
            return str(lfs.sha256)
    raise DownloadError(f"The hub gives no SHA-256 for {filename} in {repo_id}, so the download could not be verified.")
