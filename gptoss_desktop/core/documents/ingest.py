"""Add a file to a conversation: extract, chunk, index — all or nothing, with the reason when it fails.

Runs on the thread that owns the index's connection (the storage worker, or the CLI).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from .chunking import chunk_document
from .extract import ExtractionCancelled, extract
from .index import DocumentIndex, StoredDocument
from .types import ExtractionError


class _Flag:
    """Adapts a `() -> bool` to the index's `is_set()` cancel protocol."""

    def __init__(self, cancelled: Callable[[], bool]) -> None:
        self._cancelled = cancelled

    def is_set(self) -> bool:
        return self._cancelled()


def ingest(
    index: DocumentIndex, conversation_id: int, path: Path, cancelled: Callable[[], bool] | None = None
) -> StoredDocument | None:
    """Index `path` for the conversation; the stored document says `ready`, or `failed` with the reason.

    Nothing half-indexed is ever searchable: the chunks are written in one transaction that
    also marks the document ready. A cancelled ingest leaves nothing behind and returns None.
    """
    cancelled = cancelled or (lambda: False)
    name = path.name
    try:
        document = extract(path, cancelled)  # checks the size before reading anything
        chunks = chunk_document(document)
        digest = sha256_of(path)
    except ExtractionCancelled:
        return None
    except (OSError, ExtractionError) as exc:
        uid = index.add(conversation_id, name, "text", 0, "")
        index.fail(uid, _reason(name, exc))
        return index.document(uid)
    uid = index.add(conversation_id, name, document.kind, document.size_bytes, digest)
    if not index.fill(uid, chunks, _Flag(cancelled)):
        index.remove(uid)
        return None
    return index.document(uid)


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read in 1 MiB pieces (a 500 MB file never sits in memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _reason(name: str, exc: BaseException) -> str:
    if isinstance(exc, ExtractionError):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"{name} is no longer there."
    if isinstance(exc, PermissionError):
        return f"{name} cannot be read (permission denied)."
    return f"{name} cannot be read: {getattr(exc, 'strerror', None) or exc}."
