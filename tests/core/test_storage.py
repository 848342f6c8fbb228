"""Conversation storage on real SQLite: migrations, search, and a process killed mid-answer."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from gptoss_desktop.core.history.migrations import MIGRATIONS, schema_of
from gptoss_desktop.core.history.store import MATCH_START, MessageStats, Store

ROOT = Path(__file__).resolve().parents[2]


def test_an_empty_database_gets_every_migration_in_order(tmp_path: Path) -> None:
    store = Store(tmp_path / "chats.db")
    try:
        assert store.applied == [name for name, _ in MIGRATIONS]
        assert store.migrations_applied() == [name for name, _ in MIGRATIONS]
    finally:
        store.close()
    with sqlite3.connect(tmp_path / "chats.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again = Store(tmp_path / "chats.db")
    assert again.applied == []  # recorded: nothing runs twice
    again.close()


def test_every_older_schema_upgrades_to_the_same_schema_and_keeps_its_data(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.db"
    Store(fresh).close()
    for upto in range(1, len(MIGRATIONS)):
        old = tmp_path / f"old{upto}.db"
        Store(old, MIGRATIONS[:upto]).close()
        with closing(sqlite3.connect(old)) as db, db:  # rows as that version wrote them: 0001's columns
            conversation = db.execute(
                "INSERT INTO conversations (title, created_at, updated_at) VALUES ('kept', 0, 0)"
            ).lastrowid
            db.execute(
                "INSERT INTO messages (conversation_id, role, content, created_at) VALUES (?, 'user', ?, 0)",
                (conversation, "a question about lighthouses"),
            )
        assert conversation is not None
        upgraded = Store(old)
        assert upgraded.applied == [name for name, _ in MIGRATIONS[upto:]]
        assert [m.content for m in upgraded.messages(conversation)] == ["a question about lighthouses"]
        assert [hit.message_id for hit in upgraded.search("lighthouses")] != []
        upgraded.close()
        assert schema_of(old) == schema_of(fresh)


def test_search_finds_answers_and_optionally_reasoning(tmp_path: Path) -> None:
    store = Store(tmp_path / "chats.db")
    first = store.create_conversation("capitals")
    store.add_message(first, "user", "What is the capital of Japan?")
    answer = store.add_message(first, "assistant", state="streaming")
    store.update_message(answer, content="Tokyo", reasoning="Geography question about Japan.", state="complete")
    second = store.create_conversation("sums")
    store.add_message(second, "user", "What is 12 + 7?")
    assert [c.id for c in store.conversations()] == [second, first]  # newest first
    assert [h.message_id for h in store.search("tokyo")] == [answer]
    assert store.search("geography") == []
    assert [h.message_id for h in store.search("geograph", include_reasoning=True)] == [answer]  # as you type
    hit = store.search("Tokyo")[0]
    assert ("Tokyo", True) in hit.runs() and "Tokyo" in hit.plain_snippet and MATCH_START not in hit.plain_snippet
    assert store.search('"unbalanced') == [] and store.search("   ") == []
    store.close()


CHILD = """
import sys
from contextlib import closing
from pathlib import Path
from gptoss_desktop.core.history.store import Store
store = Store(Path(sys.argv[1]))
conversation = store.create_conversation("long answer")
store.add_message(conversation, "user", "Tell me a story.")
answer = store.add_message(conversation, "assistant", state="streaming")
store.update_message(answer, content="Once upon a time", reasoning="A story, then.", state="streaming")
print("written", flush=True)
sys.stdin.read()  # generating forever, until killed
"""


def test_a_process_killed_mid_answer_leaves_the_partial_answer_marked_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "chats.db"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "written"
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    assert child.stdin is not None
    child.stdin.close()
    child.stdout.close()
    store = Store(path)
    try:
        (conversation,) = store.conversations()
        user, answer = store.messages(conversation.id)
        assert (user.content, user.state) == ("Tell me a story.", "complete")
        assert (answer.content, answer.reasoning, answer.state) == ("Once upon a time", "A story, then.", "interrupted")
    finally:
        store.close()


def test_delete_can_be_undone_until_the_next_start(tmp_path: Path) -> None:
    path = tmp_path / "chats.db"
    store = Store(path)
    kept = store.create_conversation("kept")
    gone = store.create_conversation("gone")
    store.add_message(gone, "user", "about volcanoes")
    store.delete_conversation(gone)
    assert [c.title for c in store.conversations()] == ["kept"]
    assert store.search("volcanoes") == []  # a deleted conversation is not found either
    store.restore_conversation(gone)
    assert {c.title for c in store.conversations()} == {"kept", "gone"}
    assert [h.title for h in store.search("volcanoes")] == ["gone"]
    store.delete_conversation(gone)
    store.close()
    again = Store(path)
    assert again.conversation(gone) is None and again.messages(gone) == []  # final after a restart
    assert again.conversation(kept) is not None
    again.close()


def test_rows_are_found_by_uid_and_keep_what_the_answer_cost(tmp_path: Path) -> None:
    store = Store(tmp_path / "chats.db")
    conversation = store.create_conversation("sums", settings='{"effort": "high"}', uid="c1")
    assert store.conversation_id("c1") == conversation and store.conversation_id("nope") is None
    question = store.add_message(conversation, "user", "12 + 7?", uid="m1")
    answer = store.add_message(conversation, "assistant", state="streaming", uid="m2", effort="high", model="tiny")
    store.update_message(answer, content="19", reasoning="add", state="complete", stats=MessageStats(20, 5, 3, 0.5))
    assert store.message_id("m2") == answer
    stored = store.messages(conversation)[1]
    assert (stored.uid, stored.effort, stored.model, stored.completion_tokens, stored.seconds) == (
        "m2",
        "high",
        "tiny",
        5,
        0.5,
    )
    record = store.conversation(conversation)
    assert record is not None and record.settings == '{"effort": "high"}'
    store.rename_conversation(conversation, "Arithmetic")
    store.set_conversation_settings(conversation, "{}")
    record = store.conversation(conversation)
    assert record is not None and (record.title, record.settings) == ("Arithmetic", "{}")
    again = store.add_message(conversation, "assistant", state="streaming", uid="m3", parent="m1")  # regenerate
    assert [(m.id, m.parent_uid) for m in store.messages(conversation)] == [
        (question, ""),
        (answer, "m1"),
        (again, "m1"),
    ]
    store.close()


def test_versions_keep_their_place_and_which_one_was_shown_last(tmp_path: Path) -> None:
    store = Store(tmp_path / "chats.db")
    conversation = store.create_conversation("colours")
    store.add_message(conversation, "user", "Name a colour.", uid="q")
    store.add_message(conversation, "assistant", "Blue", uid="a1", parent="q")
    store.add_message(conversation, "assistant", "Red", uid="a2", parent="q")
    store.add_message(conversation, "user", "Name a fruit.", uid="q2", parent="")  # the first question, edited
    first = store.message_id("a1")
    assert first is not None
    store.choose_message(first, 10**10)  # flipped back to the first answer (and its question) later
    by_uid = {m.uid: m for m in store.messages(conversation)}
    assert [by_uid[uid].parent_uid for uid in ("q", "a1", "a2", "q2")] == ["", "q", "q", ""]
    assert by_uid["a1"].chosen_at > by_uid["a2"].chosen_at
    store.set_prompt(first, b"prompt bytes")
    assert store.prompt_of(first) == b"prompt bytes" and store.prompt_of(store.message_id("a2") or 0) is None
    store.close()


def test_an_older_database_reads_as_one_line_of_versions(tmp_path: Path) -> None:
    """Conversations written before versions existed: each message follows the one before it."""
    old = tmp_path / "old.db"
    before = [name for name, _ in MIGRATIONS].index("0008_answer_versions")
    store = Store(old, MIGRATIONS[:before])
    conversation = store.create_conversation("old")
    for role, text in (("user", "hi"), ("assistant", "hello"), ("user", "bye"), ("assistant", "ciao")):
        store._db.execute(
            "INSERT INTO messages (uid, conversation_id, role, content, created_at) VALUES (?, ?, ?, ?, 0)",
            (text, conversation, role, text),
        )
    store.close()
    upgraded = Store(old)
    assert [(m.uid, m.parent_uid) for m in upgraded.messages(conversation)] == [
        ("hi", ""),
        ("hello", "hi"),
        ("bye", "hello"),
        ("ciao", "bye"),
    ]
    upgraded.close()


def _open_and_close(path: Path, errors: list[BaseException]) -> None:
    try:
        Store(path, recover=False).close()
    except BaseException as exc:
        errors.append(exc)


def test_two_connections_opening_together_both_work_and_the_second_recovers_nothing(tmp_path: Path) -> None:
    """The storage and documents threads open the same database at start: no migration runs twice,
    and the documents thread's connection never labels the answer streaming right now as interrupted."""
    import threading

    for attempt in range(5):
        errors: list[BaseException] = []
        path = tmp_path / f"history{attempt}.db"
        threads = [threading.Thread(target=_open_and_close, args=(path, errors)) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
    main = Store(tmp_path / "history0.db")
    main.add_message(main.create_conversation("live"), "assistant", state="streaming")
    Store(tmp_path / "history0.db", recover=False).close()
    assert [m.state for m in main.messages(main.conversations()[0].id)] == ["streaming"]
    assert main.migrations_applied() == [name for name, _ in MIGRATIONS]
    main.close()


def test_documents_indexed_before_vectors_existed_upgrade_and_wait_to_be_embedded(tmp_path: Path) -> None:
    import numpy as np

    path = tmp_path / "chats.db"
    before = [name for name, _ in MIGRATIONS].index("0006_chunk_vectors")
    Store(path, MIGRATIONS[:before]).close()
    with closing(sqlite3.connect(path)) as db, db:  # a ready document as 0004 and 0005 wrote it
        conversation = db.execute(
            "INSERT INTO conversations (title, created_at, updated_at) VALUES ('lease', 0, 0)"
        ).lastrowid
        document = db.execute(
            "INSERT INTO documents (uid, conversation_id, name, kind, status, chunk_count, added_at) "
            "VALUES ('d1', ?, 'lease.md', 'markdown', 'ready', 1, 0)",
            (conversation,),
        ).lastrowid
        db.execute(
            "INSERT INTO chunks (document_id, ordinal, text) VALUES (?, 0, 'The rent is 900 euros a month.')",
            (document,),
        )
    assert conversation is not None
    uid = "d1"

    upgraded = Store(path)
    try:
        assert upgraded.applied == [name for name, _ in MIGRATIONS[before:]]
        assert [p.document_name for p in upgraded.document_index.search(conversation, "rent", 8)] == ["lease.md"]
        vectors = upgraded.document_index.vectors
        model = vectors.register("f" * 64, "all-MiniLM-L6-v2", 3, "/models/minilm.gguf")
        assert vectors.pending(model) == [uid] and vectors.active() is None
        with closing(sqlite3.connect(path)) as db:
            chunk_ids = [row[0] for row in db.execute("SELECT id FROM chunks")]
        assert vectors.store(uid, model, chunk_ids, np.array([[1.0, 0.0, 0.0]], dtype=np.float32))
        assert vectors.pending(model) == []
        ((_chunk, cosine),) = vectors.nearest(conversation, model, np.array([0.6, 0.8, 0.0], dtype=np.float32), 1)
        assert cosine == pytest.approx(0.6)
        vectors.activate(model)
        active = vectors.active()
        assert active is not None and (active.id, active.name) == (model, "all-MiniLM-L6-v2")
        vectors.activate(None)
        assert vectors.active() is None
    finally:
        upgraded.close()


def test_a_title_that_is_not_utf8_reads_with_replacement_characters(tmp_path: Path) -> None:
    """Another tool (or damage) wrote bytes no UTF-8 decoder takes: the history still lists, as the sidebar does."""
    import sqlite3
    from contextlib import closing

    store = Store(tmp_path / "c.db")
    try:
        conversation = store.create_conversation("placeholder")
        with closing(sqlite3.connect(tmp_path / "c.db")) as db, db:
            db.execute("UPDATE conversations SET title = CAST(? AS TEXT)", (b"caf\xe9 \xff\xfe",))
        (listed,) = store.conversations()
        assert listed.id == conversation and listed.title == "caf\ufffd \ufffd\ufffd"
    finally:
        store.close()
