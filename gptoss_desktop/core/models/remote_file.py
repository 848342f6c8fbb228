"""One file of a hub repository as the hub describes it: what a download is checked against."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RemoteFile:
    """One file of one hub repo at one commit, as the hub describes it right now."""

    repo_id: str
    filename: str
    revision: str
    commit: str
    sha256: str
    size: int
    url: str
