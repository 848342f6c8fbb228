"""Exports from a real SQLite store: Markdown that no message can break, JSON that loads back, atomic files."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gptoss_desktop.core.history.export import (
    ExportError,
    export_json,
    export_markdown,
    export_text,
    suggested_filename,
    write_export,
)
from gptoss_desktop.core.history.store import MessageStats, Store, StoredConversation, StoredMessage

REASONING = "The person wants a haiku. Secret chain of thought: count syllables."
TRICKY_USER = (
    "## Not a heading\n# nor this\n```python\nprint('hi')\n```\n</details>\n> quote\n"
    "Ünïcödé 日本語 🚀 `tick` ````four````"
)
STOPPED_ANSWER = "Here is the start:\n\n```python\ndef haiku():\n    return 'cut off"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "chats.db")
    yield store
    store.close()


@pytest.fixture
def saved(store: Store) -> tuple[StoredConversation, list[StoredMessage]]:
    """A conversation with reasoning, Markdown-laden non-ASCII user text, and an answer stopped mid-code."""
    settings = json.dumps({"instructions": "Be brief.", "effort": "high", "temperature": 0.7})
    conversation = store.create_conversation("Haiku über Seen", settings=settings)
    store.add_message(conversation, "user", "Write a haiku about lakes.")
    first = store.add_message(conversation, "assistant", state="streaming", effort="high", model="gpt-oss-20b")
    store.update_message(
        first,
        content="**Still water** lies,\nmirrors the sky.",
        reasoning=REASONING,
        state="complete",
        stats=MessageStats(prompt_tokens=42, completion_tokens=30, reasoning_tokens=12, seconds=1.5),
    )
    store.add_message(conversation, "user", TRICKY_USER)
    second = store.add_message(conversation, "assistant", state="streaming", effort="low", model="gpt-oss-20b")
    store.update_message(second, content=STOPPED_ANSWER, reasoning="Quick one.", state="stopped")
    found = store.conversation(conversation)
    assert found is not None
    return found, store.messages(conversation)


def _markdown_blocks(markdown: str) -> list[str]:
    """Top-level lines outside fenced code blocks: what a renderer treats as structure."""
    outside, fence = [], None
    for line in markdown.split("\n"):
        match = re.match(r"^ {0,3}(`{3,}|~{3,})", line)
        if fence is None and match:
            fence = match.group(1)
        elif fence is not None and match and set(line.strip()) == {fence[0]} and len(line.strip()) >= len(fence):
            fence = None
        elif fence is None:
            outside.append(line)
    assert fence is None, "a code block is left open"
    return outside


def test_markdown_has_a_title_and_a_heading_per_turn(saved: tuple[StoredConversation, list[StoredMessage]]) -> None:
    markdown = export_markdown(*saved, include_reasoning=True)
    headings = [line for line in _markdown_blocks(markdown) if line.startswith("#")]
    assert headings == [
        "# Haiku über Seen",
        "## You",
        "## Assistant · gpt-oss-20b · high effort",
        "## You",
        "## Assistant · gpt-oss-20b · low effort",
    ]
    assert "**Still water** lies,\nmirrors the sky." in markdown  # answers are Markdown: kept as they are
    assert markdown.rstrip().endswith("*(stopped)*")


def test_user_text_is_verbatim_and_cannot_break_the_structure(
    saved: tuple[StoredConversation, list[StoredMessage]],
) -> None:
    markdown = export_markdown(*saved, include_reasoning=True)
    assert f"`````text\n{TRICKY_USER}\n`````" in markdown  # fence longer than the longest backtick run inside
    outside = _markdown_blocks(markdown)
    assert "## Not a heading" not in outside and "# nor this" not in outside
    assert outside.count("</details>") == 2  # one per answer with reasoning, none from the user


def test_an_answer_stopped_inside_a_code_block_gets_it_closed(
    saved: tuple[StoredConversation, list[StoredMessage]],
) -> None:
    markdown = export_markdown(*saved, include_reasoning=False)
    assert f"{STOPPED_ANSWER}\n```\n\n*(stopped)*" in markdown
    assert "*(stopped)*" in _markdown_blocks(markdown)


def test_reasoning_is_folded_when_included_and_absent_otherwise(
    saved: tuple[StoredConversation, list[StoredMessage]],
) -> None:
    with_reasoning = export_markdown(*saved, include_reasoning=True)
    assert f"<details>\n<summary>Reasoning</summary>\n\n```text\n{REASONING}\n```\n\n</details>" in with_reasoning
    for text in (export_markdown(*saved, include_reasoning=False), export_json(*saved, include_reasoning=False)):
        assert "Secret chain of thought" not in text and "Quick one" not in text
        assert "Reasoning" not in text and '"reasoning"' not in text


def test_json_loads_back_with_everything_stored(saved: tuple[StoredConversation, list[StoredMessage]]) -> None:
    conversation, messages = saved
    text = export_json(conversation, messages, include_reasoning=True)
    assert "Ünïcödé 日本語 🚀" in text  # ensure_ascii=False: readable, not \\u escapes
    document = json.loads(text)
    assert document["format"] == "gptoss-desktop.conversation" and document["version"] == 5
    assert document["title"] == "Haiku über Seen"
    assert document["settings"] == {"instructions": "Be brief.", "effort": "high", "temperature": 0.7}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", document["created_at"])
    assert [m["role"] for m in document["messages"]] == ["user", "assistant", "user", "assistant"]
    assert [m["content"] for m in document["messages"]] == [m.content for m in messages]
    assert [m["reasoning"] for m in document["messages"]] == ["", REASONING, "", "Quick one."]
    answer = document["messages"][1]
    assert answer == {
        "id": messages[1].uid,
        "parent": messages[0].uid,
        "role": "assistant",
        "content": "**Still water** lies,\nmirrors the sky.",
        "reasoning": REASONING,
        "state": "complete",
        "effort": "high",
        "model": "gpt-oss-20b",
        "prompt_tokens": 42,
        "completion_tokens": 30,
        "reasoning_tokens": 12,
        "seconds": 1.5,
        "created_at": answer["created_at"],
    }
    assert document["messages"][3]["state"] == "stopped" and document["other_versions"] == []
    without = json.loads(export_json(conversation, messages, include_reasoning=False))
    assert all("reasoning" not in m for m in without["messages"])


def test_damaged_settings_export_as_an_empty_object(store: Store) -> None:
    for damaged in ("{not json", "[1, 2]", ""):
        conversation = store.conversation(store.create_conversation("x", settings=damaged))
        assert conversation is not None
        assert json.loads(export_json(conversation, [], include_reasoning=False))["settings"] == {}


def test_untitled_interrupted_and_plain_turns(tmp_path: Path) -> None:
    store = Store(tmp_path / "old.db")
    conversation_id = store.create_conversation("")
    store.add_message(conversation_id, "user", "hello")
    store.add_message(conversation_id, "assistant", "partial", state="streaming")
    store.close()
    reopened = Store(tmp_path / "old.db")  # the app died mid-answer: now interrupted
    try:
        conversation = reopened.conversation(conversation_id)
        assert conversation is not None
        markdown = export_text(conversation, reopened.messages(conversation_id), "md", include_reasoning=True)
    finally:
        reopened.close()
    assert markdown.startswith("# Untitled conversation\n")
    assert "## Assistant\n\npartial\n\n*(interrupted" in markdown  # no model or effort known: a bare heading
    assert "<details>" not in markdown  # no reasoning, no empty fold


def test_suggested_filename_is_the_title_made_safe(saved: tuple[StoredConversation, list[StoredMessage]]) -> None:
    conversation = saved[0]
    assert suggested_filename(conversation, "md") == "Haiku über Seen.md"
    odd = StoredConversation(7, "u", 'a/b:c*?"\n<x>. ', "{}", 0.0, 0.0)
    assert suggested_filename(odd, "json") == "a b c x.json"
    assert suggested_filename(StoredConversation(7, "u", " ..", "{}", 0.0, 0.0), "md") == "conversation-7.md"


def test_write_export_replaces_a_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "export.md"
    target.write_text("old")
    write_export(target, "new ü\n")
    assert target.read_bytes() == "new ü\n".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.md"]  # no temporary file left


def test_a_path_under_a_file_fails_clearly(tmp_path: Path) -> None:
    (tmp_path / "notes").write_text("a file, not a folder")
    with pytest.raises(ExportError, match=r"^Could not write export\.json: "):
        write_export(tmp_path / "notes" / "export.json", "{}")
    assert (tmp_path / "notes").read_text() == "a file, not a folder"


def test_a_full_disk_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "export.md"
    target.write_text("old")

    def full(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(ExportError, match=r"^Could not write export\.md: No space left on device$"):
        write_export(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["export.md"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_replacing_a_file_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "export.md"
    target.write_text("old")
    target.chmod(0o600)
    write_export(target, "new")
    assert target.stat().st_mode & 0o777 == 0o600


def test_sources_an_answer_cited_are_exported_with_it(tmp_path: Path) -> None:
    from gptoss_desktop.core.documents.prompting import Source

    store = Store(tmp_path / "history.db")
    conversation = store.create_conversation("Lease")
    store.add_message(conversation, "user", "When is rent due?")
    answer = store.add_message(conversation, "assistant", "Monthly [2].")
    store.set_sources(answer, [Source(2, "doc", "lease.pdf", 4, "page 3", "The rent is due on the first day…")])
    record = store.conversation(conversation)
    messages = store.messages(conversation)  # as reopened: the sources come back with the message
    store.close()
    assert record is not None and messages[1].sources[0].anchor == "page 3"
    markdown = export_markdown(record, messages, include_reasoning=False)
    assert "**Sources**\n\n- [2] lease.pdf, page 3: The rent is due on the first day…" in markdown
    exported = json.loads(export_json(record, messages, include_reasoning=False))
    assert exported["messages"][1]["sources"] == [
        {"number": 2, "document": "lease.pdf", "place": "page 3", "snippet": "The rent is due on the first day…"}
    ]
    assert "sources" not in exported["messages"][0]


def test_other_versions_are_exported_with_the_version_shown(store: Store) -> None:
    """Regenerate kept the first answer; the export shows the chosen one and folds the other under it."""
    conversation = store.create_conversation("Colours")
    store.add_message(conversation, "user", "Name a colour.", uid="q")
    store.add_message(conversation, "assistant", "Blue", uid="a1", parent="q")
    store.add_message(conversation, "assistant", "Red", uid="a2", parent="q")
    record = store.conversation(conversation)
    assert record is not None
    messages = store.messages(conversation)
    markdown = export_markdown(record, messages, include_reasoning=False)
    assert "## Assistant · version 2 of 2" in markdown
    shown, folded = markdown.split("<details>")
    assert "Red" in shown and "Blue" not in shown
    assert "Other versions of this answer" in folded and "**Version 1**" in folded and "Blue" in folded
    document = json.loads(export_json(record, messages, include_reasoning=False))
    assert [m["content"] for m in document["messages"]] == ["Name a colour.", "Red"]
    assert [(m["id"], m["parent"], m["content"]) for m in document["other_versions"]] == [("a1", "q", "Blue")]
