"""Search by words (BM25) and by meaning (vectors), fused by Reciprocal Rank Fusion.

BM25 finds the passage that uses the question's words; the embedding model finds the one that
says the same thing in other words. Their scores cannot be compared, their ranks can: each
passage gets the sum over both lists of 1 / (RRF_K + rank), so one found high by either list,
or fairly high by both, comes first. RRF_K = 60 is the constant of Cormack, Clarke and
Büttcher (2009), which keeps one list's first place from swamping the other's.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol

from .types import Passage
from .vectors import VectorIndex, Vectors

RRF_K = 60
#: How deep each list is read before fusing: deep enough that a passage second-best by one
#: measure and poor by the other still reaches the top 8.
DEPTH = 40


class QueryEmbedder(Protocol):
    """What a fused search needs: the unit vector of a question."""

    def embed_query(self, text: str) -> Vectors: ...


class WordIndex(Protocol):
    """What a fused search reads from the document index: passages by words, and the chunk vectors."""

    @property
    def vectors(self) -> VectorIndex: ...

    def all_passages(self, conversation_id: int) -> list[Passage]: ...

    def search(self, conversation_id: int, question: str, k: int) -> list[Passage]: ...


def reciprocal_rank_fusion[Key: Hashable](rankings: Sequence[Sequence[Key]], k: int = RRF_K) -> list[tuple[Key, float]]:
    """Every key of the rankings (each best first) with its fused score, best first; ties keep first-seen order."""
    scores: dict[Key, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda item: -item[1])


def _key(passage: Passage) -> tuple[str, int]:
    return passage.document_uid, passage.chunk.ordinal


@dataclass(frozen=True)
class FusedPassages:
    """One conversation's passages found by words and by meaning (answer.PassageSource)."""

    index: WordIndex
    conversation_id: int
    embedder: QueryEmbedder
    model_id: int

    def all_passages(self) -> list[Passage]:
        """Every chunk of the ready documents, in document order."""
        return self.index.all_passages(self.conversation_id)

    def search(self, question: str, k: int) -> list[Passage]:
        """The `k` passages that best match `question` by rank fusion, best first (rank = minus the fused score)."""
        if k <= 0:
            return []
        by_words = self.index.search(self.conversation_id, question, max(k, DEPTH))
        vectors = self.index.vectors
        try:
            query = self.embedder.embed_query(question)
        except (RuntimeError, ValueError):  # llama.cpp failed on this text: the words still find passages
            return by_words[:k]
        nearest = vectors.nearest(self.conversation_id, self.model_id, query, DEPTH)
        by_meaning = vectors.passages([chunk_id for chunk_id, _score in nearest])
        found = {_key(p): p for p in (*by_meaning, *by_words)}
        fused = reciprocal_rank_fusion([[_key(p) for p in by_words], [_key(p) for p in by_meaning]])
        return [
            Passage(found[key].document_uid, found[key].document_name, found[key].chunk, -score)
            for key, score in fused[:k]
        ]
