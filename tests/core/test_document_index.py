"""The document index on real SQLite: the right passage for a question, only from ready documents of
this conversation, nothing left behind by a removal, and no question that can break the search."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from gptoss_desktop.core.documents import index as index_module
from gptoss_desktop.core.documents.chunking import chunk_document
from gptoss_desktop.core.documents.index import DocumentIndex, search_terms
from gptoss_desktop.core.documents.types import Chunk, ExtractedDocument, TextSpan
from gptoss_desktop.core.history.store import Store

CONTRACT = (
    "1. Parties. This lease is made between the landlord and the tenant named below.",
    "2. Rent. The tenant pays the rent on the first day of each month, by bank transfer.",
    "3. Termination. Either party may terminate this agreement with sixty days of written notice.",
    "4. Deposit. A deposit of two months is held and returned within thirty days of the end.",
)
CODE = """import struct


def parse_header(data: bytes) -> dict[str, int]:
    magic, version = struct.unpack("<II", data[:8])
    return {"magic": magic, "version": version}


def write_footer(out) -> None:
    out.write(b"END")
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "chats.db")
    yield store
    store.close()


def add(index: DocumentIndex, conversation: int, name: str, spans: tuple[TextSpan, ...]) -> str:
    document = ExtractedDocument(name, "text", spans)
    uid = index.add(conversation, name, document.kind, len(document.text), "0" * 64)
    assert index.fill(uid, chunk_document(document))
    return uid


def add_contract(index: DocumentIndex, conversation: int, name: str = "lease.pdf") -> str:
    return add(index, conversation, name, tuple(TextSpan(text, page=n) for n, text in enumerate(CONTRACT, 1)))


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    """What another connection sees: what is committed."""
    with closing(sqlite3.connect(path)) as db:
        db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('integrity-check')")  # the index matches the table
        return db.execute(sql).fetchall()


@pytest.mark.parametrize(
    ("question", "page"),
    [
        ("What does the contract say about termination?", 3),
        ("How can the agreement be terminated?", 3),  # "terminated" finds "terminate": words are stemmed
        ("when is the RENT due", 2),
        ("Is the déposit returned?", 4),  # accents do not matter
    ],
)
def test_the_passage_that_answers_comes_first_with_its_page(store: Store, question: str, page: int) -> None:
    conversation = store.create_conversation()
    uid = add_contract(store.document_index, conversation)
    best = store.document_index.search(conversation, question)[0]
    assert (best.document_uid, best.document_name, best.chunk.anchor) == (uid, "lease.pdf", f"page {page}")
    assert best.chunk.text == CONTRACT[page - 1] and best.rank < 0


def test_code_is_found_by_its_names_with_its_lines(store: Store) -> None:
    index = store.document_index
    conversation = store.create_conversation()
    uid = index.add(conversation, "format.py", "code", len(CODE), "")
    index.fill(uid, chunk_document(ExtractedDocument("format.py", "code", (TextSpan(CODE, line=1),)), 120, 20))
    assert [c.anchor for c in index.chunks(uid)] == ["lines 1-5", "lines 5-10"]
    best = index.search(conversation, "Where is parse_header defined?")[0]
    assert "def parse_header" in best.chunk.text and best.chunk.anchor == "lines 1-5"
    assert index.search(conversation, "write_footer", k=1)[0].chunk.anchor == "lines 5-10"


@pytest.mark.parametrize(
    "question",
    [
        '"',
        'termination"',
        "a:b",
        "***",
        "<|end|>",
        "NEAR(termination, 2)",
        "termination OR AND NOT -",
        "'; DROP TABLE",
        "(",
        "^rent",
        "text:rent",
        "{rent}",
        "rent + deposit",
        "   ",
        "",
        "?",
        "__",
        "ça",
        "🙂 rent",
    ],
)
def test_no_question_breaks_the_search(store: Store, question: str) -> None:
    conversation = store.create_conversation()
    add_contract(store.document_index, conversation)
    passages = store.document_index.search(conversation, question)
    for word, page in (("termination", 3), ("rent", 2)):
        if word in question.lower():
            assert passages[0].chunk.page == page


def test_only_telling_words_are_searched() -> None:
    assert search_terms("What does the contract say about termination?") == ["contract", "termination"]
    assert search_terms("Where is `parse_header` in e-mail.py?") == ["parse_header", "e-mail.py"]
    assert search_terms("To be or not to be") == ["to", "be", "or", "not"]  # only common words: all of them
    assert search_terms("?! ..") == [] and search_terms("a I") == []
    many = search_terms(" ".join(f"word{n}" for n in range(40)) + " extraordinarily")
    assert len(many) == index_module.MAX_TERMS and "extraordinarily" in many


def test_only_ready_documents_are_searched(store: Store, tmp_path: Path) -> None:
    index = store.document_index
    conversation = store.create_conversation()
    waiting = index.add(conversation, "waiting.pdf", "pdf", 10, "")  # added, not indexed yet
    ready = add_contract(index, conversation, "ready.pdf")
    broken = add_contract(index, conversation, "broken.pdf")
    index.fail(broken, "No text layer: this PDF is scanned images.")
    assert {p.document_uid for p in index.search(conversation, "termination notice rent deposit", k=20)} == {ready}
    assert [(d.name, d.status, d.error) for d in index.documents(conversation)] == [
        ("waiting.pdf", "indexing", None),
        ("ready.pdf", "ready", None),
        ("broken.pdf", "failed", "No text layer: this PDF is scanned images."),
    ]
    assert rows(
        tmp_path / "chats.db", "SELECT DISTINCT d.name FROM chunks c JOIN documents d ON d.id = c.document_id"
    ) == [("ready.pdf",)]
    assert sum(len(p.chunk.text) for p in index.all_passages(conversation)) >= sum(map(len, CONTRACT))
    assert [p.chunk.page for p in index.all_passages(conversation)] == [1, 2, 3, 4]
    assert index.document(waiting) is not None and index.chunks(waiting) == []


class CancelAfter:
    """Says stop after `checks` questions: a cancel that arrives while chunks are being written."""

    def __init__(self, checks: int) -> None:
        self.checks = checks

    def is_set(self) -> bool:
        self.checks -= 1
        return self.checks < 0


def test_a_cancelled_or_interrupted_fill_leaves_nothing_searchable(store: Store, tmp_path: Path) -> None:
    index = store.document_index
    conversation = store.create_conversation()
    uid = index.add(conversation, "long.txt", "text", 0, "")
    chunks = [Chunk(n, f"termination clause number {n}", line_start=n + 1, line_end=n + 1) for n in range(1200)]
    assert index.fill(uid, chunks, CancelAfter(2)) is False  # two batches written, then stopped
    assert (
        index.search(conversation, "termination") == [] and rows(tmp_path / "chats.db", "SELECT id FROM chunks") == []
    )
    document = index.document(uid)
    assert document is not None and document.status == "indexing"
    store.close()
    again = Store(tmp_path / "chats.db")  # the process died mid-fill: the next start says so
    document = again.document_index.document(uid)
    assert document is not None and (document.status, document.error) == (
        "failed",
        "Indexing was interrupted. Add the file again.",
    )
    assert again.document_index.fill(uid, chunks) and again.document_index.chunks(uid) == chunks  # a retry works
    assert [d.status for d in again.document_index.documents(conversation)] == ["ready"]
    assert again.document_index.fill("no such document", chunks) is False
    again.close()


def test_removing_a_document_removes_its_chunks_and_search_entries(store: Store, tmp_path: Path) -> None:
    index = store.document_index
    conversation = store.create_conversation()
    gone = add_contract(index, conversation, "gone.pdf")
    kept = add(index, conversation, "kept.md", (TextSpan("Termination needs notice in writing.", line=1),))
    assert index.remove(gone) and not index.remove(gone)
    assert [p.document_uid for p in index.search(conversation, "termination")] == [kept]
    assert rows(tmp_path / "chats.db", "SELECT count(*) FROM chunks") == [(1,)]
    assert rows(tmp_path / "chats.db", "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH 'rent OR deposit'") == []
    assert [d.name for d in index.documents(conversation)] == ["kept.md"] and index.chunks(gone) == []


def test_search_stays_in_its_conversation(store: Store) -> None:
    index = store.document_index
    mine, theirs = store.create_conversation("mine"), store.create_conversation("theirs")
    my_lease = add_contract(index, mine, "my lease.pdf")
    add_contract(index, theirs, "their lease.pdf")
    assert {p.document_uid for p in index.search(mine, "termination rent deposit parties", k=50)} == {my_lease}
    assert {p.document_name for p in index.source(theirs).search("termination", 8)} == {"their lease.pdf"}
    assert len(index.source(theirs).all_passages()) == 4
    assert index.search(store.create_conversation("empty"), "termination") == []


def test_deleting_a_conversation_deletes_its_documents_and_their_answers_sources(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "chats.db"
    index = store.document_index
    gone, kept = store.create_conversation("gone"), store.create_conversation("kept")
    add_contract(index, gone)
    kept_uid = add_contract(index, kept)
    answer = store.add_message(gone, "assistant", "Sixty days [1].")
    kept_answer = store.add_message(kept, "assistant", "Monthly [1].")
    with closing(sqlite3.connect(path)) as db, db:
        for message in (answer, kept_answer):
            db.execute(
                "INSERT INTO message_sources (message_id, number, document_uid, document_name, chunk_ordinal, page, "
                "snippet) VALUES (?, 1, 'u', 'lease.pdf', 2, 3, 'Either party may terminate')",
                (message,),
            )
    index.remove(kept_uid)  # an answer keeps its sources when the document goes
    assert rows(path, "SELECT message_id, page FROM message_sources ORDER BY message_id") == [
        (answer, 3),
        (kept_answer, 3),
    ]
    store.delete_conversation(gone)
    store.close()
    reopened = Store(path)  # a delete is final at the next start
    assert rows(path, "SELECT count(*) FROM documents") == [(0,)] and rows(path, "SELECT count(*) FROM chunks") == [
        (0,)
    ]
    assert rows(path, "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH 'termination'") == []
    assert rows(path, "SELECT message_id FROM message_sources") == [(kept_answer,)]
    reopened.close()


def test_common_words_only_rank_the_chunks_rarer_words_select(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    index = store.document_index
    conversation = store.create_conversation()
    spans = [
        TextSpan(f"Section {n}. The lease says the tenant pays rent to the landlord.", page=n) for n in range(1, 30)
    ]
    spans[11] = TextSpan("Section 12. The lease ends by termination after written notice.", page=12)
    spans[20] = TextSpan("Section 21. The tenant keeps the lease termination letter.", page=21)
    add(index, conversation, "long lease.pdf", tuple(spans))
    monkeypatch.setattr(index_module, "COMMON_ROWS", 5)  # "lease", "tenant", "rent" are now common
    assert [p.chunk.page for p in index.search(conversation, "lease termination notice")][:2] == [12, 21]
    assert {p.chunk.page for p in index.search(conversation, "tenant lease termination")} == {12, 21}
    every = index.search(conversation, "tenant rent landlord", k=3)  # all common: chunks holding every word
    assert len(every) == 3 and all("landlord" in p.chunk.text for p in every)
    assert len(index.search(conversation, "section", k=5)) == 5  # one common word: still answered


FILLER = "The team met on Tuesday to review the schedule, the budget and the open questions of the quarter. " * 2


@pytest.mark.parametrize(("project", "code"), [(17, 472), (42, 913)])
def test_a_fresh_home_with_two_short_documents_finds_the_one_asked_about(store: Store, project: int, code: int) -> None:
    """Two documents of one chunk each, and nothing else indexed: FTS5's IDF, log((N - n + 0.5) / (n + 0.5)),
    is zero for a word in one of two chunks, so the project's number weighed nothing and the shorter document
    came first whatever was asked. Both questions are answered by their own document, the long one too."""
    index = store.document_index
    conversation = store.create_conversation()
    long_one = add(index, conversation, "notes.txt", (TextSpan(f"{FILLER}Project 17's access code is 472. {FILLER}"),))
    short_one = add(index, conversation, "memo.txt", (TextSpan("Project 42's access code is 913."),))
    found = index.search(conversation, f"What is project {project}'s access code?")
    assert [p.document_uid for p in found] == ([long_one, short_one] if project == 17 else [short_one, long_one])
    assert str(code) in found[0].chunk.text and found[0].rank < found[1].rank


def test_a_word_in_half_the_chunks_still_outweighs_the_words_in_all_of_them(store: Store) -> None:
    """Four chunks, the asked number in two of them (FTS5's IDF is zero there too): the chunks holding it come
    first, whatever their length."""
    index = store.document_index
    conversation = store.create_conversation()
    spans = (
        TextSpan("The invoice total for order 5512 was paid in March.", page=1),
        TextSpan(f"{FILLER}The invoice for order 7730 was sent. {FILLER}", page=2),
        TextSpan("The invoice total for order 5513 was paid.", page=3),
        TextSpan(f"{FILLER}Order 7730: the invoice total was corrected. {FILLER}", page=4),
    )
    add(index, conversation, "orders.pdf", spans)
    found = index.search(conversation, "invoice total for order 7730")
    assert {p.chunk.page for p in found[:2]} == {2, 4}


def test_a_small_index_searches_only_the_ready_documents_asked(store: Store) -> None:
    """Three chunks, every word of the question in two or three of them (the small index's own ranking): still
    only this conversation's ready documents, or the one document asked for, and `k` of them."""
    index = store.document_index
    mine, theirs = store.create_conversation("mine"), store.create_conversation("theirs")
    ours = add(index, mine, "ours.txt", (TextSpan("Project 17's access code is 472."),))
    other = add(index, mine, "other.txt", (TextSpan("Project 42's access code is 913."),))
    broken = add(index, mine, "broken.txt", (TextSpan("Project 17's access code is 000."),))
    index.fail(broken, "Could not be read.")
    add(index, theirs, "theirs.txt", (TextSpan("Project 17's access code is 555."),))
    question = "What is project 17's access code?"
    assert [p.document_uid for p in index.search(mine, question)] == [ours, other]
    assert [p.document_uid for p in index.search(mine, question, document_uid=other)] == [other]
    assert [p.document_name for p in index.search(theirs, question)] == ["theirs.txt"]
    assert [p.document_uid for p in index.search(mine, question, k=1)] == [ours]
    assert index.search(mine, question, k=0) == []
