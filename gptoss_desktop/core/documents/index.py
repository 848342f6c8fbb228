"""A conversation's documents in SQLite: chunks with full-text search (FTS5, BM25), found for a question.

The tables come from storage.py's migration 0004. A document is searchable only once it is
`ready`: its chunks and that status are written in one transaction, so a document being
indexed, or one that failed or was cancelled half way, is never quoted. Uses the Store's
connection, so it runs on the Store's thread, like the Store.
"""

from __future__ import annotations

import itertools
import math
import re
import sqlite3
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from ..sqlite_transaction import write_transaction
from .semantic import FusedPassages, QueryEmbedder
from .types import Chunk, Passage
from .vectors import VectorIndex

Status = Literal["indexing", "ready", "failed"]

#: Chunks written per statement while a document is filled; cancel is checked between batches.
BATCH = 500
#: The most words of a question searched for: the longest ones, which are the likeliest to be rare.
MAX_TERMS = 12
#: Ranking costs a few microseconds per chunk ranked. A word in more chunks than this (across the database)
#: only ranks the chunks that the question's rarer words select; it does not select chunks itself.
COMMON_ROWS = 2000
#: Up to this many chunks indexed (in every conversation), a word in half of them or more may still be the one
#: that tells chunks apart, and FTS5 gives it no weight: such searches rank with an IDF of their own (`_search_small`).
SMALL_INDEX = 200
#: FTS5's IDF for a word in `n` of `N` chunks, log((N - n + 0.5) / (n + 0.5)), is this when that is not positive.
_FTS5_IDF_FLOOR = 1e-6

# Words that say nothing about what to look for: "what does the contract say about termination" searches
# "contract" and "termination".
_STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing don't down during each either else ever few for from further
    get gets give go had has have having he her here hers herself him himself his how i i'm if in into is it its
    itself just know let like me mention mentioned more most my myself no nor not now of off on once only or
    other our ours ourselves out over own please say says said same see she should show so some such tell than
    that that's the their theirs them themselves then there these they this those through to too under until up
    us very want was we were what what's when where which while who whom whose why will with would you your
    yours yourself document documents file files text""".split()  # noqa: SIM905 (a long word list reads better as text)
)
_TERM = re.compile(r"\w+(?:['’.\-]\w+)*")

_CHUNK_COLUMNS = "c.ordinal, c.text, c.page, c.line_start, c.line_end, c.heading"
#: The chunks an FTS5 query (the first parameter) matches in a conversation's ready documents (the second);
#: `{scope}` narrows them further.
_MATCHING = (
    "FROM chunks_fts f CROSS JOIN chunks c ON c.id = f.rowid CROSS JOIN documents d ON d.id = c.document_id "
    "WHERE chunks_fts MATCH ? AND d.conversation_id = ? AND d.status = 'ready'{scope}"
)


class Cancel(Protocol):
    """Anything that says whether to stop: a CancelFlag, a threading.Event."""

    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class StoredDocument:
    """A document as the conversation lists it: whether it can be asked about yet, and why not."""

    uid: str
    conversation_id: int
    name: str
    kind: str
    size_bytes: int
    sha256: str
    status: Status
    error: str | None
    chunk_count: int
    chars: int
    added_at: float


@dataclass(frozen=True)
class ChunkPlace:
    """A chunk's place in its document without its text: what the browser needs to cut a document into pages."""

    ordinal: int
    page: int | None
    line_start: int | None
    line_end: int | None
    chars: int


_DOCUMENT_COLUMNS = "uid, conversation_id, name, kind, size_bytes, sha256, status, error, chunk_count, chars, added_at"


class _CancelledError(Exception):
    """Unwinds the fill's transaction."""


def search_terms(question: str) -> list[str]:
    """The telling words of a question, lowercased, in order: no stopwords, no single letters, at most MAX_TERMS."""
    words: dict[str, None] = {}
    for match in _TERM.finditer(question):
        word = match.group().replace("’", "'").lower()
        if any(ch.isalnum() for ch in word):
            words.setdefault(word)
    telling = [w for w in words if w not in _STOPWORDS and (len(w) > 1 or w.isdigit())]
    if not telling:  # "to be or not to be": every word is common, so search them all
        telling = [w for w in words if len(w) > 1]
    if len(telling) > MAX_TERMS:
        longest = set(sorted(telling, key=len, reverse=True)[:MAX_TERMS])
        telling = [w for w in telling if w in longest][:MAX_TERMS]
    return telling


def _any_of(words: Iterable[str]) -> str:
    """An FTS5 query matching any of `words`, each quoted: nothing a person types (quotes, `:`, `*`,
    `NEAR`, `<|end|>`) is FTS5 syntax, and `chunk_document` or `e-mail` match as written (as phrases)."""
    return " OR ".join('"' + word.replace('"', '""') + '"' for word in words)


class DocumentIndex:
    """The documents of every conversation in one database; use it on the thread that opened the connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db  # autocommit (isolation_level=None), foreign keys on: as Store opens it
        #: Their chunks' vectors for semantic search (migration 0006), on the same connection.
        self.vectors = VectorIndex(db)

    def add(self, conversation_id: int, name: str, kind: str, size_bytes: int, sha256: str) -> str:
        """Record a document about to be indexed (status `indexing`); returns its uid."""
        uid = uuid.uuid4().hex
        self._db.execute(
            "INSERT INTO documents (uid, conversation_id, name, kind, size_bytes, sha256, status, added_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'indexing', ?)",
            (uid, conversation_id, name, kind, size_bytes, sha256, time.time()),
        )
        return uid

    def fill(self, uid: str, chunks: Iterable[Chunk], cancel: Cancel | None = None) -> bool:
        """Write the document's chunks and make it `ready`, all or nothing; False if cancelled (nothing
        written, still `indexing`: remove it or mark it failed) or if the document is gone."""
        try:
            with write_transaction(self._db):
                row = self._db.execute("SELECT id FROM documents WHERE uid = ?", (uid,)).fetchone()
                if row is None:
                    return False
                document_id = int(row[0])
                self._db.execute("DELETE FROM chunks WHERE document_id = ?", (document_id,))
                self._db.execute("DELETE FROM document_embeddings WHERE document_id = ?", (document_id,))
                count = chars = 0
                for batch in itertools.batched(chunks, BATCH):
                    if cancel is not None and cancel.is_set():
                        raise _CancelledError
                    self._db.executemany(
                        "INSERT INTO chunks (document_id, ordinal, text, page, line_start, line_end, heading) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [(document_id, c.ordinal, c.text, c.page, c.line_start, c.line_end, c.heading) for c in batch],
                    )
                    count += len(batch)
                    chars += sum(len(c.text) for c in batch)
                if cancel is not None and cancel.is_set():
                    raise _CancelledError
                self._db.execute(
                    "UPDATE documents SET status = 'ready', error = NULL, chunk_count = ?, chars = ? WHERE id = ?",
                    (count, chars, document_id),
                )
        except _CancelledError:
            return False
        return True

    def fail(self, uid: str, error: str) -> None:
        """Mark a document that could not be read, with why (for the person); it keeps no chunks."""
        with write_transaction(self._db):
            self._db.execute("DELETE FROM chunks WHERE document_id = (SELECT id FROM documents WHERE uid = ?)", (uid,))
            self._db.execute("UPDATE documents SET status = 'failed', error = ? WHERE uid = ?", (error, uid))

    def fail_interrupted(self, error: str = "Indexing was interrupted. Add the file again.") -> int:
        """At start: documents left `indexing` by a process that died are failed; returns how many."""
        return self._db.execute(
            "UPDATE documents SET status = 'failed', error = ? WHERE status = 'indexing'", (error,)
        ).rowcount

    def remove(self, uid: str) -> bool:
        """Forget a document with its chunks and their search entries; False if it was not there."""
        with write_transaction(self._db):
            removed = self._db.execute("DELETE FROM documents WHERE uid = ?", (uid,)).rowcount
        return removed > 0

    def document(self, uid: str) -> StoredDocument | None:
        """One document, whatever its status."""
        row = self._db.execute(f"SELECT {_DOCUMENT_COLUMNS} FROM documents WHERE uid = ?", (uid,)).fetchone()
        return StoredDocument(*row) if row else None

    def documents(self, conversation_id: int) -> list[StoredDocument]:
        """A conversation's documents in the order they were added, with status and error."""
        rows = self._db.execute(
            f"SELECT {_DOCUMENT_COLUMNS} FROM documents WHERE conversation_id = ? ORDER BY id", (conversation_id,)
        )
        return [StoredDocument(*row) for row in rows]

    def chunks(self, uid: str) -> list[Chunk]:
        """A document's chunks in order."""
        rows = self._db.execute(
            f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.document_id "
            "WHERE d.uid = ? ORDER BY c.ordinal",
            (uid,),
        )
        return [Chunk(*row) for row in rows]

    def all_passages(self, conversation_id: int) -> list[Passage]:
        """Every chunk of the conversation's ready documents, document by document, in order."""
        rows = self._db.execute(
            f"SELECT d.uid, d.name, {_CHUNK_COLUMNS} FROM documents d JOIN chunks c ON c.document_id = d.id "
            "WHERE d.conversation_id = ? AND d.status = 'ready' ORDER BY d.id, c.ordinal",
            (conversation_id,),
        )
        return [Passage(row[0], row[1], Chunk(*row[2:])) for row in rows]

    def search(self, conversation_id: int, question: str, k: int = 8, document_uid: str | None = None) -> list[Passage]:
        """The `k` chunks of the conversation's ready documents (or of its one document `document_uid`) that
        best match `question` (BM25), best first."""
        words = search_terms(question)
        counts = {word: self._count(_any_of([word]), COMMON_ROWS + 1) for word in words}
        query = self._query(counts, k)
        if not query or k <= 0:
            return []
        scope, parameters = ("", ()) if document_uid is None else (" AND d.uid = ?", (document_uid,))
        chunks = self._count_chunks(SMALL_INDEX + 1)
        if chunks <= SMALL_INDEX and any(2 * n >= chunks for n in counts.values() if n):
            return self._search_small(conversation_id, counts, chunks, k, scope, parameters)
        rows = self._db.execute(
            f"SELECT d.uid, d.name, {_CHUNK_COLUMNS}, bm25(chunks_fts, 1.0, 0.5) AS score "
            f"{_MATCHING.format(scope=scope)} ORDER BY score LIMIT ?",
            (query, conversation_id, *parameters, k),
        )
        return [Passage(row[0], row[1], Chunk(*row[2:8]), float(row[8])) for row in rows]

    def _search_small(
        self, conversation_id: int, counts: dict[str, int], chunks: int, k: int, scope: str, parameters: tuple[str, ...]
    ) -> list[Passage]:
        """`search` where few chunks are indexed and a word of the question is in half of them or more.

        FTS5's IDF, log((N - n + 0.5) / (n + 0.5)), gives such a word no weight at all, and in a small index
        that is often the telling one: with two documents of one chunk each, the number asked for (in one of
        them) weighs as little as the words both have, and the shorter document came first whatever was asked.
        Here each word weighs Lucene's IDF, log(1 + (N - n + 0.5) / (n + 0.5)), which is never zero and still
        weighs rarer words more, and the chunks holding the most weight of the question's words come first
        (a chunk's length does not hide a word it holds); among equals, BM25 with that IDF (each word's own
        BM25 from FTS5, divided by FTS5's IDF). One query per word, over at most SMALL_INDEX chunks. The
        passages' rank is minus the weight of the words they hold."""
        held: dict[int, float] = {}
        scores: dict[int, float] = {}
        for word, n in counts.items():
            if not n:
                continue
            ratio = (chunks - n + 0.5) / (n + 0.5)
            idf = math.log1p(ratio)
            rows = self._db.execute(
                f"SELECT f.rowid, bm25(chunks_fts, 1.0, 0.5) {_MATCHING.format(scope=scope)}",
                (_any_of([word]), conversation_id, *parameters),
            )
            for chunk_id, score in rows:  # FTS5's BM25 is minus the score
                held[chunk_id] = held.get(chunk_id, 0.0) + idf
                scores[chunk_id] = scores.get(chunk_id, 0.0) - idf * score / max(math.log(ratio), _FTS5_IDF_FLOOR)
        best = sorted(held, key=lambda chunk_id: (-held[chunk_id], -scores[chunk_id]))[:k]
        found = {
            row[0]: row[1:]
            for row in self._db.execute(
                f"SELECT c.id, d.uid, d.name, {_CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.document_id "
                f"WHERE c.id IN ({', '.join('?' * len(best))})",
                best,
            )
        }
        return [Passage(found[i][0], found[i][1], Chunk(*found[i][2:]), -held[i]) for i in best]

    def outline(self, uid: str) -> list[ChunkPlace]:
        """Where each chunk of a document sits and how long it is, in order, without its text (cheap)."""
        rows = self._db.execute(
            "SELECT c.ordinal, c.page, c.line_start, c.line_end, length(c.text) FROM chunks c "
            "JOIN documents d ON d.id = c.document_id WHERE d.uid = ? ORDER BY c.ordinal",
            (uid,),
        )
        return [ChunkPlace(*row) for row in rows]

    def chunk_range(self, uid: str, first: int, last: int) -> list[Chunk]:
        """A document's chunks with ordinals `first` to `last` (inclusive), in order."""
        rows = self._db.execute(
            f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.document_id "
            "WHERE d.uid = ? AND c.ordinal BETWEEN ? AND ? ORDER BY c.ordinal",
            (uid, first, last),
        )
        return [Chunk(*row) for row in rows]

    def _query(self, counts: dict[str, int], k: int) -> str:
        """The FTS5 query for the words of `counts`, ranking as few chunks as it can without losing the best ones:
        any of the words; or, when some are common (in over COMMON_ROWS chunks), the chunks with a rarer one, the
        common ones still ranking them (the rarer ones count twice, sharpening what BM25's IDF already does);
        or, when all are common, the chunks with every word, if there are `k`. "" when none is found.
        `counts`: in how many chunks each word is (up to COMMON_ROWS + 1), the words in the question's order."""
        found = [word for word, count in counts.items() if count]
        rare = [word for word in found if counts[word] <= COMMON_ROWS]
        if len(rare) == len(found):
            return _any_of(found)
        if not rare:
            every = " AND ".join(_any_of([word]) for word in found)
            if len(found) > 1 and self._count(every, k) >= k:
                return every
            rare = sorted(found, key=counts.__getitem__)[:1]
        return f"({_any_of(rare)}) AND ({_any_of(found)})"

    def _count_chunks(self, limit: int) -> int:
        """How many chunks are indexed, in every conversation (FTS5's N), counted up to `limit`."""
        row = self._db.execute("SELECT count(*) FROM (SELECT 1 FROM chunks LIMIT ?)", (limit,)).fetchone()
        return int(row[0])

    def _count(self, query: str, limit: int) -> int:
        """How many chunks match `query`, counted up to `limit` (cheap: nothing is ranked)."""
        row = self._db.execute(
            "SELECT count(*) FROM (SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT ?)", (query, limit)
        ).fetchone()
        return int(row[0])

    def source(
        self, conversation_id: int, embedder: QueryEmbedder | None = None, model_id: int | None = None
    ) -> ConversationPassages | FusedPassages:
        """One conversation's passages, as answer_with_documents asks for them: found by words (BM25), or,
        given the embedding model that made the vectors of `model_id`, by words and meaning fused."""
        if embedder is None or model_id is None:
            return ConversationPassages(self, conversation_id)
        return FusedPassages(self, conversation_id, embedder, model_id)


@dataclass(frozen=True)
class ConversationPassages:
    """The passages of one conversation's documents (answer.PassageSource)."""

    index: DocumentIndex
    conversation_id: int

    def all_passages(self) -> list[Passage]:
        """Every chunk of the ready documents, in document order."""
        return self.index.all_passages(self.conversation_id)

    def search(self, question: str, k: int) -> list[Passage]:
        """The `k` passages that best match `question`, best first."""
        return self.index.search(self.conversation_id, question, k)
