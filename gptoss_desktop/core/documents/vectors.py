"""Chunk vectors in SQLite (migration 0006) and the chunks nearest to a question's vector.

Vectors are kept per chunk and per embedding model (the model's file SHA-256), so switching
models never compares vectors of two models. A document's vectors are written in one
transaction together with the mark that it is embedded whole: a search sees all of a document's
vectors or none, and a document without them is still found by its words (BM25). Uses the
Store's connection, so it runs on the Store's thread, like the Store.
"""

from __future__ import annotations

import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from ..sqlite_transaction import write_transaction
from .types import Chunk, Passage

#: Unit vectors, one row per text, float32.
Vectors = npt.NDArray[np.float32]
#: Called with (passages embedded so far, passages in all) while a document is embedded.
Progress = Callable[[int, int], None]

#: Conversations whose vector matrix is kept in memory (50,000 chunks x 384 floats: 77 MB each).
CACHED_CONVERSATIONS = 2

_PASSAGE_COLUMNS = "d.uid, d.name, c.ordinal, c.text, c.page, c.line_start, c.line_end, c.heading"


@dataclass(frozen=True)
class EmbeddingModelRecord:
    """An embedding model the database has vectors of (or is about to): `path` is where it was last seen."""

    id: int
    identity: str
    name: str
    dimensions: int
    path: str


class Cancel(Protocol):
    """Anything that says whether to stop: a CancelFlag, a threading.Event."""

    def is_set(self) -> bool: ...


class PassageEmbedder(Protocol):
    """What embedding a document takes: unit vectors of passages, None once cancelled."""

    def embed_passages(
        self, texts: list[str], cancel: Cancel | None = None, progress: Progress | None = None
    ) -> Vectors | None: ...


@dataclass
class _Matrix:
    signature: tuple[str, ...]  # the uids of the documents it holds, embedded whole
    chunk_ids: np.ndarray
    vectors: Vectors


class VectorIndex:
    """Vectors of every conversation's chunks in one database; use it on the thread that opened the connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._matrices: OrderedDict[tuple[int, int], _Matrix] = OrderedDict()

    def register(self, identity: str, name: str, dimensions: int, path: str) -> int:
        """The id of the model with this identity, recorded now if it is new (its name and path kept current)."""
        with write_transaction(self._db):
            self._db.execute(
                "INSERT INTO embedding_models (identity, name, dimensions, path) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (identity) DO UPDATE SET name = excluded.name, path = excluded.path",
                (identity, name, dimensions, path),
            )
            row = self._db.execute("SELECT id FROM embedding_models WHERE identity = ?", (identity,)).fetchone()
        return int(row[0])

    def activate(self, model_id: int | None) -> None:
        """Make `model_id` the model questions are embedded with (None: semantic search off)."""
        self._db.execute("UPDATE embedding_models SET active = (id IS ?)", (model_id,))

    def active(self) -> EmbeddingModelRecord | None:
        """The model semantic search uses now, if any."""
        row = self._db.execute(
            "SELECT id, identity, name, dimensions, path FROM embedding_models WHERE active = 1 ORDER BY id LIMIT 1"
        ).fetchone()
        return EmbeddingModelRecord(*row) if row else None

    def pending(self, model_id: int) -> list[str]:
        """Uids of the ready documents `model_id` has not embedded yet, oldest first."""
        rows = self._db.execute(
            "SELECT d.uid FROM documents d WHERE d.status = 'ready' AND d.chunk_count > 0 AND NOT EXISTS "
            "(SELECT 1 FROM document_embeddings e WHERE e.document_id = d.id AND e.model_id = ?) ORDER BY d.id",
            (model_id,),
        )
        return [row[0] for row in rows]

    def embed_document(
        self,
        uid: str,
        model_id: int,
        embedder: PassageEmbedder,
        cancel: Cancel | None = None,
        progress: Progress | None = None,
    ) -> bool:
        """Embed a ready document's chunks and store their vectors, all or nothing; False if cancelled, or
        if the document went away or changed meanwhile (nothing written either way)."""
        rows = self._db.execute(
            "SELECT c.id, c.text FROM chunks c JOIN documents d ON d.id = c.document_id "
            "WHERE d.uid = ? AND d.status = 'ready' ORDER BY c.ordinal",
            (uid,),
        ).fetchall()
        if not rows:
            return False
        vectors = embedder.embed_passages([text for _id, text in rows], cancel, progress)
        if vectors is None or len(vectors) != len(rows):
            return False
        chunk_ids = [int(chunk_id) for chunk_id, _text in rows]
        return self.store(uid, model_id, chunk_ids, vectors)

    def store(self, uid: str, model_id: int, chunk_ids: list[int], vectors: Vectors) -> bool:
        """Write one document's vectors (rows in the order of `chunk_ids`) and mark it embedded, in one
        transaction; False (nothing written) if its chunks are no longer exactly `chunk_ids`."""
        with write_transaction(self._db):
            row = self._db.execute("SELECT id FROM documents WHERE uid = ? AND status = 'ready'", (uid,)).fetchone()
            if row is None:
                return False
            document_id = int(row[0])
            rows = self._db.execute("SELECT id FROM chunks WHERE document_id = ? ORDER BY ordinal", (document_id,))
            current = [r[0] for r in rows]
            if current != chunk_ids:
                return False
            data = np.ascontiguousarray(vectors, dtype="<f4")
            self._db.executemany(
                "INSERT OR REPLACE INTO chunk_vectors (chunk_id, model_id, vector) VALUES (?, ?, ?)",
                [(chunk_id, model_id, data[i].tobytes()) for i, chunk_id in enumerate(chunk_ids)],
            )
            self._db.execute(
                "INSERT OR REPLACE INTO document_embeddings (document_id, model_id, embedded_at) VALUES (?, ?, ?)",
                (document_id, model_id, time.time()),
            )
        return True

    def embedded(self, conversation_id: int, model_id: int) -> list[str]:
        """Uids of the conversation's ready documents that `model_id` has embedded whole."""
        rows = self._db.execute(
            "SELECT d.uid FROM documents d JOIN document_embeddings e ON e.document_id = d.id AND e.model_id = ? "
            "WHERE d.conversation_id = ? AND d.status = 'ready' ORDER BY d.id",
            (model_id, conversation_id),
        )
        return [row[0] for row in rows]

    def nearest(self, conversation_id: int, model_id: int, query: Vectors, k: int) -> list[tuple[int, float]]:
        """The `k` chunks of the conversation (documents embedded by `model_id`) most similar to the unit
        vector `query`, as (chunk id, cosine), best first. Brute force over a matrix kept in memory."""
        matrix = self._matrix(conversation_id, model_id)
        if k <= 0 or len(matrix.chunk_ids) == 0 or matrix.vectors.shape[1] != query.shape[-1]:
            return []
        scores = matrix.vectors @ query.astype(np.float32).reshape(-1)
        top = np.argpartition(-scores, k - 1)[:k] if len(scores) > k else np.arange(len(scores))
        best = top[np.argsort(-scores[top], kind="stable")]
        return [(int(matrix.chunk_ids[i]), float(scores[i])) for i in best]

    def passages(self, chunk_ids: list[int]) -> list[Passage]:
        """The passages of these chunks, in the order given (chunks that are gone left out)."""
        if not chunk_ids:
            return []
        marks = ",".join("?" * len(chunk_ids))
        rows = self._db.execute(
            f"SELECT c.id, {_PASSAGE_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.document_id "
            f"WHERE c.id IN ({marks})",
            chunk_ids,
        )
        found = {int(row[0]): Passage(row[1], row[2], Chunk(*row[3:])) for row in rows}
        return [found[chunk_id] for chunk_id in chunk_ids if chunk_id in found]

    def _matrix(self, conversation_id: int, model_id: int) -> _Matrix:
        """The conversation's vectors for `model_id`, read again only when its embedded documents changed."""
        key = (conversation_id, model_id)
        signature = tuple(self.embedded(conversation_id, model_id))
        cached = self._matrices.get(key)
        if cached is not None and cached.signature == signature:
            self._matrices.move_to_end(key)
            return cached
        rows = self._db.execute(
            "SELECT v.chunk_id, v.vector, m.dimensions FROM documents d "
            "JOIN document_embeddings e ON e.document_id = d.id AND e.model_id = :model "
            "JOIN chunks c ON c.document_id = d.id "
            "JOIN chunk_vectors v ON v.chunk_id = c.id AND v.model_id = :model "
            "JOIN embedding_models m ON m.id = :model "
            "WHERE d.conversation_id = :conversation AND d.status = 'ready' ORDER BY c.id",
            {"model": model_id, "conversation": conversation_id},
        ).fetchall()
        dimensions = int(rows[0][2]) if rows else 0
        whole = [(chunk_id, blob) for chunk_id, blob, _d in rows if len(blob) == 4 * dimensions]
        vectors = np.frombuffer(b"".join(blob for _id, blob in whole), dtype="<f4").astype(np.float32)
        matrix = _Matrix(
            signature,
            np.array([chunk_id for chunk_id, _blob in whole], dtype=np.int64),
            vectors.reshape(len(whole), dimensions) if dimensions else np.zeros((0, 0), dtype=np.float32),
        )
        self._matrices[key] = matrix
        self._matrices.move_to_end(key)
        while len(self._matrices) > CACHED_CONVERSATIONS:
            self._matrices.popitem(last=False)
        return matrix
