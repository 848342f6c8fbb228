"""Add a file to a conversation: extract, chunk, index — all or nothing, with the reason when it fails.

Runs on the thread that owns the index's connection (the documents thread, or the CLI).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .chunking import chunk_document
from .extract import ExtractionCancelled, extract, reading_error
from .index import Cancel, DocumentIndex, StoredDocument
from .types import ExtractionError


def ingest(
    index: DocumentIndex, conversation_id: int, path: Path, cancel: Cancel | None = None
) -> StoredDocument | None:
    """Index `path` for the conversation; the stored document says `ready`, or `failed` with the reason.

    Nothing half-indexed is ever searchable: the chunks are written in one transaction that
    also marks the document ready. A cancelled ingest leaves nothing behind and returns None.
    """
    name = path.name
    try:
        document = extract(path, cancel.is_set if cancel else None)  # checks the size before reading anything
        chunks = chunk_document(document)
        digest = sha256_of(path)
    except ExtractionCancelled:
        return None
    except (OSError, ExtractionError) as exc:  # OSError: the file went away between reading and hashing
        uid = index.add(conversation_id, name, "text", 0, "")
        index.fail(uid, str(reading_error(name, exc) if isinstance(exc, OSError) else exc))
        return index.document(uid)
    uid = index.add(conversation_id, name, document.kind, document.size_bytes, digest)
    if not index.fill(uid, chunks, cancel):
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
