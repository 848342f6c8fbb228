"""What a browsed answer cites, without Qt: taken from Done into the transcript, stored with the answer in real
SQLite (also from the schema before 0012), read back after a restart, exported as footnotes and as JSON data,
and the cited lines found again in the real index for the source viewer."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from gptoss_desktop.core.conversation_settings import ConversationSettings
from gptoss_desktop.core.documents.cited import cited_passage
from gptoss_desktop.core.events import AnswerDelta, Citation, Done, Stats
from gptoss_desktop.core.history.answer_citations import citation_place, footnotes, unverified_reason
from gptoss_desktop.core.history.export import JSON_VERSION, export_json, export_markdown
from gptoss_desktop.core.history.migrations import MIGRATIONS
from gptoss_desktop.core.history.store import Store, StoredConversation, StoredMessage
from gptoss_desktop.core.history.transcript import Transcript
from gptoss_desktop.core.tools.browser import Browser
from tests.core.test_browser_tool import browser, call, store  # noqa: F401 (fixtures)

ANSWER = "Rent is due on the first 【1†L2】; reminders go out on the 25th 【2†L3-L4】; also 【9†L1】."
PDF = Citation(25, 31, 1, 2, 2, True, "lease-uid", "lease.pdf", 2, None, "It is due on the first day of each month.")
NOTES = Citation(62, 71, 2, 3, 4, True, "notes-uid", "notes.md", None, (4, 5), "Rent reminders go out on the 25th.")
NOWHERE = Citation(78, 84, 9, 1, 1, False)


def test_the_marks_are_where_the_citations_say() -> None:
    assert [ANSWER[c.start : c.end] for c in (PDF, NOTES, NOWHERE)] == ["【1†L2】", "【2†L3-L4】", "【9†L1】"]


def answered(citations: tuple[Citation, ...]) -> Transcript:
    transcript = Transcript()
    transcript.add_user("When is the rent due?")
    transcript.begin_answer("low", "gpt-oss-20b")
    for event in (AnswerDelta(ANSWER), Done("return", Stats(completion_tokens=30), citations)):
        transcript.apply(event)
    return transcript


def stored(tmp_path: Path, citations: tuple[Citation, ...]) -> tuple[StoredConversation, list[StoredMessage]]:
    transcript = answered(citations)
    history = Store(tmp_path / "chats.db")
    conversation = history.create_conversation("Rent")
    for message in transcript.messages:
        row = history.add_message(conversation, message.role, message.content, uid=message.uid, model=message.model)
        history.set_citations(row, message.citations)
    history.close()
    again = Store(tmp_path / "chats.db")
    record, messages = again.conversation(conversation), again.messages(conversation)
    again.close()
    assert record is not None
    return record, messages


def test_done_gives_the_answer_its_citations_and_they_come_back_after_a_restart(tmp_path: Path) -> None:
    assert answered((PDF, NOTES, NOWHERE)).messages[-1].citations == (PDF, NOTES, NOWHERE)
    record, messages = stored(tmp_path, (PDF, NOTES, NOWHERE))
    reopened = Transcript.from_stored(record, messages)
    assert [m.citations for m in reopened.messages] == [(), (PDF, NOTES, NOWHERE)]


def test_a_damaged_row_is_left_out_and_an_unverified_one_never_names_a_document(tmp_path: Path) -> None:
    stored(tmp_path, (PDF, NOTES, NOWHERE))
    with closing(sqlite3.connect(tmp_path / "chats.db")) as db, db:
        db.execute("UPDATE answer_citations SET mark_start = 'x' WHERE ordinal = 0")
        db.execute("UPDATE answer_citations SET document_uid = 'forged', document_name = 'x' WHERE ordinal = 2")
        db.execute("UPDATE answer_citations SET verified = 7 WHERE ordinal = 1")
    history = Store(tmp_path / "chats.db")
    (_question, answer) = history.messages(history.conversations()[0].id)
    history.close()
    assert [(c.cursor, c.verified, c.document_name) for c in answer.citations] == [(2, False, None), (9, False, None)]


def test_a_database_from_before_citations_gets_the_table_and_its_answers_have_none(tmp_path: Path) -> None:
    before = [name for name, _ in MIGRATIONS].index("0012_citations")
    old = Store(tmp_path / "chats.db", MIGRATIONS[:before])
    conversation = old.create_conversation("old")
    old.add_message(conversation, "assistant", "An answer from before 【1†L2】.", model="gpt-oss-20b")
    old.close()
    history = Store(tmp_path / "chats.db")
    assert history.applied == [name for name, _ in MIGRATIONS[before:]] == ["0012_citations"]
    (message,) = history.messages(conversation)
    history.close()
    assert (message.content, message.citations) == ("An answer from before 【1†L2】.", ())


def test_places_and_reasons_read_as_people_say_them() -> None:
    assert citation_place(PDF) == "lease.pdf, page 2" and citation_place(NOTES) == "notes.md, lines 4-5"
    assert unverified_reason(NOWHERE) == "Unverified: the model cites line 1 at cursor 9, which it was not shown."
    header = Citation(0, 6, 0, 0, 0, False, quote="# Search Results")
    assert unverified_reason(header) == "Unverified: line 0 of what the model read at cursor 0 are not from a document."


def test_footnotes_replace_the_marks_and_name_document_page_and_lines() -> None:
    text, notes = footnotes(ANSWER, (PDF, NOTES, NOWHERE))
    assert text == "Rent is due on the first [^1]; reminders go out on the 25th [^2]; also [^3]."
    assert notes == [
        '[^1]: lease.pdf, page 2: "It is due on the first day of each month."',
        '[^2]: notes.md, lines 4-5: "Rent reminders go out on the 25th."',
        "[^3]: 【9†L1】 Unverified: the model cites line 1 at cursor 9, which it was not shown.",
    ]
    moved = Citation(0, 6, 1, 2, 2, True, "u", "lease.pdf", 2)  # offsets that are not a mark: left as they are
    assert footnotes(ANSWER, (moved,)) == (ANSWER, [])


def test_markdown_export_has_the_footnotes_under_the_answer(tmp_path: Path) -> None:
    record, messages = stored(tmp_path, (PDF, NOTES, NOWHERE))
    text = export_markdown(record, messages, include_reasoning=False)
    assert "Rent is due on the first [^1]; reminders go out on the 25th [^2]; also [^3].\n\n[^1]: lease.pdf" in text
    assert '[^2]: notes.md, lines 4-5: "Rent reminders go out on the 25th."\n[^3]: 【9†L1】 Unverified' in text
    assert "【1†L2】" not in text


def test_json_export_version_5_carries_the_citations_as_data(tmp_path: Path) -> None:
    record, messages = stored(tmp_path, (PDF, NOTES, NOWHERE))
    document = json.loads(export_json(record, messages, include_reasoning=False))
    assert JSON_VERSION == 5 and document["version"] == 5
    question, answer = document["messages"]
    assert answer["content"] == ANSWER and "citations" not in question
    assert answer["citations"][1] == {
        "mark": "【2†L3-L4】",
        "start": 62,
        "end": 71,
        "cursor": 2,
        "first_line": 3,
        "last_line": 4,
        "verified": True,
        "document": "notes.md",
        "page": None,
        "file_lines": [4, 5],
        "quote": "Rent reminders go out on the 25th.",
    }
    assert answer["citations"][2]["verified"] is False and answer["citations"][2]["document"] is None


def test_browse_is_the_default_and_passages_a_choice_kept_with_the_conversation() -> None:
    assert ConversationSettings().documents == "browse"
    chosen = ConversationSettings(documents="passages")
    assert ConversationSettings.from_json(chosen.to_json()) == chosen
    assert ConversationSettings.from_json('{"documents": "web"}').documents == "browse"


def test_the_viewer_gets_the_cited_pdf_page_with_the_cited_lines_marked(browser: Browser, store: Store) -> None:  # noqa: F811
    call(browser, "open", id="lease.pdf#page=3")
    line = next(n for n, text in enumerate(browser.stack[0].page.lines) if "30 days' notice" in text)
    (citation,) = browser.cite(f"Thirty days 【0†L{line}】.")
    found = cited_passage(store.document_index, citation)
    assert found.text.startswith("Notice\n") and "Keys go back to the agency." in found.text
    assert found.text[found.start : found.end] == "Either side may end the lease with 30 days' notice in writing."


def test_the_viewer_gets_a_text_files_cited_lines_by_their_numbers(browser: Browser, store: Store) -> None:  # noqa: F811
    call(browser, "open", id="notes.txt#part=2")
    page = browser.stack[0].page
    line = next(n for n, text in enumerate(page.lines) if text.startswith("Note "))
    (citation,) = browser.cite(f"The boiler 【0†L{line}-L{line + 2}】.")
    assert citation.file_lines is not None
    first, last = citation.file_lines
    found = cited_passage(store.document_index, citation)
    marked = found.text[found.start : found.end].split("\n")
    assert marked == [
        f"Note {n - 1}: the boiler was serviced on day {n - 1} of the year, by the usual firm."
        for n in range(first, last + 1)
    ]
    assert found.text.count("\n") > 100  # the part the model read, not just the lines


def test_a_removed_document_or_an_unverified_citation_gives_no_text(browser: Browser, store: Store) -> None:  # noqa: F811
    call(browser, "open", id="lease.pdf#page=2")
    (citation,) = browser.cite("Rent 【0†L1】.")
    assert cited_passage(store.document_index, NOWHERE).text == ""
    assert citation.document_uid is not None and store.document_index.remove(citation.document_uid)
    assert cited_passage(store.document_index, citation).text == ""
