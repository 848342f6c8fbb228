"""One conversation's documents as the browser tool reads them: listed, searched, and read part by part.

Searching is the answer pipeline's own (words, and meaning where an embedding model is set up);
reading takes only the chunks of the part asked for. Uses the index's connection, so it runs on
the thread that opened it (the CLI's, or a documents thread that serves the engine's calls).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .index import ChunkPlace, DocumentIndex
from .semantic import FusedPassages, QueryEmbedder
from .types import Chunk, Passage


@dataclass(frozen=True)
class ShelvedDocument:
    """A document the browser can open: ready, with its name and kind (`pdf` has pages)."""

    uid: str
    name: str
    kind: str
    chunks: int = 0


class Shelf(Protocol):
    """What the browser reads documents through."""

    def documents(self) -> list[ShelvedDocument]:
        """The ready documents, in the order they were added."""
        ...

    def search(self, query: str, k: int, document_uid: str | None = None) -> list[Passage]:
        """The `k` passages that best match `query` (in one document when `document_uid` is given), best first."""
        ...

    def outline(self, uid: str) -> list[ChunkPlace]:
        """Where each chunk of a document sits, in order."""
        ...

    def chunks(self, uid: str, first: int, last: int) -> list[Chunk]:
        """Chunks `first` to `last` of a document, in order."""
        ...


@dataclass(frozen=True)
class IndexShelf:
    """The documents of conversation `conversation_id` in `index`; searched by meaning too when an
    `embedder` and the `model_id` of its vectors are given."""

    index: DocumentIndex
    conversation_id: int
    embedder: QueryEmbedder | None = None
    model_id: int | None = None

    def documents(self) -> list[ShelvedDocument]:
        return [
            ShelvedDocument(d.uid, d.name, d.kind, d.chunk_count)
            for d in self.index.documents(self.conversation_id)
            if d.status == "ready"
        ]

    def search(self, query: str, k: int, document_uid: str | None = None) -> list[Passage]:
        if self.embedder is None or self.model_id is None:
            return self.index.search(self.conversation_id, query, k, document_uid)
        fused = FusedPassages(self.index, self.conversation_id, self.embedder, self.model_id)
        if document_uid is None:
            return fused.search(query, k)
        # Meaning has no scope of its own: the fused list's passages of that document, topped up by its words.
        found = [p for p in fused.search(query, 4 * k) if p.document_uid == document_uid][:k]
        seen = {p.chunk.ordinal for p in found}
        for passage in self.index.search(self.conversation_id, query, k, document_uid):
            if len(found) >= k:
                break
            if passage.chunk.ordinal not in seen:
                found.append(passage)
        return found

    def outline(self, uid: str) -> list[ChunkPlace]:
        return self.index.outline(uid)

    def chunks(self, uid: str, first: int, last: int) -> list[Chunk]:
        return self.index.chunk_range(uid, first, last)
