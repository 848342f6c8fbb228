"""Document search at scale: how long a question waits for its passages, and how fast documents are indexed.

    python bench/retrieval.py        (from the repo root, in the project's environment)

Seeded pseudo-prose (words made of syllables, drawn with Zipf frequencies like real text,
in sentences, paragraphs and pages) fills documents of 400 pages until chunk_document has
made 50,000 chunks; they are indexed into a real SQLite database under a temporary
directory, all in one conversation (the worst case for a search scoped to it), through
Store.document_index as the app does. Then 200 questions, each made of a few words of one
chunk wrapped in a sentence ("What does it say about … and …?"), are searched for the top 8.
Measured:
- retrieval latency p50 / p95 / max (target p95 <= 30 ms), and how often the chunk a
  question was drawn from is among the 8 found (recall@8);
- indexing throughput in chunks/s and MB/s of chunk text (fill: insert + full-text index),
  and chunking throughput in MB/s.
The last line reads `retrieval chunks=50000 p95_ms=P index_mb_per_s=M`.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gptoss_desktop.core.documents.chunking import chunk_document
from gptoss_desktop.core.documents.types import Chunk, ExtractedDocument, TextSpan
from gptoss_desktop.core.history.store import Store

CHUNKS = 50_000
QUESTIONS = 200
K = 8
PAGES_PER_DOCUMENT = 400
SEED = 20240607
SYLLABLES: tuple[str, ...] = ("ka", "to", "ri", "men", "sa", "lo", "vi", "ne", "tra", "por", "gen", "dal", "ux")
SYLLABLES += ("em", "fi", "qua", "ber", "sol", "an", "tic", "ro", "mu", "ze", "pla", "des", "ov", "ki", "har")
TEMPLATES = (
    "What does it say about {0} and {1}?",
    "How is the {0} related to {1} in {2}?",
    "Where is {0} mentioned?",
    "Can you explain the {0}, the {1} and the {2}?",
    'Why "{0}" — is it about {1}: {2}*?',
)


def vocabulary(rng: random.Random, size: int = 30_000) -> list[str]:
    """Distinct pseudo-words, most frequent first."""
    words: dict[str, None] = {}
    while len(words) < size:
        words.setdefault("".join(rng.choices(SYLLABLES, k=rng.choice((1, 2, 2, 3, 3, 3, 4)))))
    return list(words)


def page(rng: random.Random, words: list[str], cumulative: list[float]) -> str:
    """About 2,500 characters: paragraphs of sentences of Zipf-drawn words."""
    paragraphs = []
    for _ in range(rng.randint(3, 6)):
        sentences = []
        for _ in range(rng.randint(2, 6)):
            drawn = rng.choices(words, cum_weights=cumulative, k=rng.randint(6, 22))
            sentences.append(" ".join(drawn).capitalize() + rng.choice(".....?!"))
        paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs)


def question(rng: random.Random, chunk: Chunk, common: set[str]) -> str:
    """A question made of words of `chunk`, frequent ones included, as people ask them."""
    words = sorted({w.strip(".?!").lower() for w in chunk.text.split()} - common)
    return rng.choice(TEMPLATES).format(*rng.sample(words, 3))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    rng = random.Random(SEED)
    words = vocabulary(rng)
    cumulative = list(accumulate(1 / (rank + 1) ** 1.05 for rank in range(len(words))))
    common = set(words[:20])  # the likes of "the" and "of": a question rarely has them
    with tempfile.TemporaryDirectory() as home:
        store = Store(Path(home) / "chats.db")
        index = store.document_index
        conversation = store.create_conversation("big documents")
        chunked: list[tuple[str, list[Chunk]]] = []
        text_chars = 0
        chunk_seconds = 0.0
        while sum(len(chunks) for _, chunks in chunked) < CHUNKS:
            spans = tuple(TextSpan(page(rng, words, cumulative), page=n) for n in range(1, PAGES_PER_DOCUMENT + 1))
            document = ExtractedDocument(f"report-{len(chunked) + 1}.pdf", "pdf", spans)
            text_chars += sum(len(span.text) for span in spans)
            started = time.perf_counter()
            chunks = chunk_document(document)
            chunk_seconds += time.perf_counter() - started
            chunked.append((document.name, chunks))
        excess = sum(len(chunks) for _, chunks in chunked) - CHUNKS
        chunked[-1] = (chunked[-1][0], chunked[-1][1][: len(chunked[-1][1]) - excess])
        all_chunks = [(name, chunk) for name, chunks in chunked for chunk in chunks]
        megabytes = sum(len(chunk.text.encode()) for _, chunk in all_chunks) / 1e6

        started = time.perf_counter()
        for name, chunks in chunked:
            uid = index.add(conversation, name, "pdf", 0, "")
            index.fill(uid, chunks)
        index_seconds = time.perf_counter() - started
        other = store.create_conversation("elsewhere")  # a second conversation the search must not see
        index.fill(index.add(other, "other.pdf", "pdf", 0, ""), chunked[0][1][:2000])

        asked = [rng.choice(all_chunks) for _ in range(QUESTIONS)]
        questions = [question(rng, chunk, common) for _, chunk in asked]
        for text in questions[:10]:
            index.search(conversation, text, K)  # warm the page cache, as a session that has searched once
        latencies, found = [], 0
        for (name, chunk), text in zip(asked, questions, strict=True):
            started = time.perf_counter()
            passages = index.search(conversation, text, K)
            latencies.append((time.perf_counter() - started) * 1000)
            found += any(p.document_name == name and p.chunk.ordinal == chunk.ordinal for p in passages)
        store.close()
        database_mb = sum(path.stat().st_size for path in Path(home).glob("chats.db*")) / 1e6

    p95 = percentile(latencies, 0.95)
    chunk_rate = text_chars / 1e6 / chunk_seconds
    print(f"chunking: {text_chars / 1e6:.1f} M characters in {chunk_seconds:.2f} s ({chunk_rate:.0f} MB/s)")
    print(
        f"indexing: {CHUNKS} chunks, {megabytes:.1f} MB in {index_seconds:.1f} s: "
        f"{CHUNKS / index_seconds:.0f} chunks/s, {megabytes / index_seconds:.1f} MB/s; database {database_mb:.0f} MB"
    )
    print(
        f"search ({QUESTIONS} questions, top {K}): p50={statistics.median(latencies):.1f} ms "
        f"p95={p95:.1f} ms max={max(latencies):.1f} ms (target p95 <= 30 ms); recall@{K}={found / QUESTIONS:.2f}"
    )
    print(f"retrieval chunks={CHUNKS} p95_ms={p95:.1f} index_mb_per_s={megabytes / index_seconds:.1f}")


if __name__ == "__main__":
    main()
