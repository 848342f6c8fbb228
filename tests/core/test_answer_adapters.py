"""The adapters an answer was written with, without Qt: chosen per conversation and remembered by the app, stored
with the answer in real SQLite (also from an older schema), read back after a restart, and exported."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from gptoss_desktop.core.conversation_settings import ConversationSettings
from gptoss_desktop.core.engine import LoraAdapter
from gptoss_desktop.core.events import AnswerDelta, Done, Stats
from gptoss_desktop.core.history.answer_adapters import AnswerAdapter, scale_text, written_by
from gptoss_desktop.core.history.export import export_json, export_markdown
from gptoss_desktop.core.history.migrations import MIGRATIONS
from gptoss_desktop.core.history.store import Store, StoredConversation, StoredMessage
from gptoss_desktop.core.history.transcript import Transcript
from gptoss_desktop.core.settings import Settings, load_settings, save_settings

FRENCH = AnswerAdapter("French capitals", "/adapters/french.lora.gguf", 1.0)
STYLE = AnswerAdapter("Short style", "/adapters/style.gguf", 0.75)


def test_the_line_under_an_answer_names_the_model_and_each_adapter_at_its_scale() -> None:
    assert written_by("gpt-oss-20b", (FRENCH,)) == "gpt-oss-20b + French capitals ×1.0"
    assert written_by("gpt-oss-20b", (FRENCH, STYLE)) == "gpt-oss-20b + French capitals ×1.0 + Short style ×0.75"
    assert [scale_text(s) for s in (0.0, 0.5, 1.25, 2.0)] == ["×0.0", "×0.5", "×1.25", "×2.0"]
    assert written_by(None, (AnswerAdapter("two\nlines", "", 1.0),)) == "the model + two lines ×1.0"


def test_a_conversation_keeps_its_adapters_and_scales_and_drops_only_damaged_ones() -> None:
    chosen = ConversationSettings(adapters=(LoraAdapter(Path("/a/french.gguf"), 1.0), LoraAdapter(Path("/b.gguf"), 0)))
    assert ConversationSettings.from_json(chosen.to_json()) == chosen
    stored = json.loads(chosen.to_json())
    stored["adapters"] += [
        {"path": "/c.gguf", "scale": 2.5},  # stronger than allowed
        {"path": "/d.gguf", "scale": "1"},
        {"path": "", "scale": 1},
        {"path": "/a/french.gguf", "scale": 0.5},  # the same file twice: the first is kept
        "/e.gguf",
    ]
    assert ConversationSettings.from_json(json.dumps(stored)).adapters == chosen.adapters
    stored["adapters"] = {"not": "a list"}
    assert ConversationSettings.from_json(json.dumps(stored)) == ConversationSettings()
    with pytest.raises(ValueError, match="adapters"):
        ConversationSettings(adapters=(LoraAdapter(Path("/a.gguf")), LoraAdapter(Path("/a.gguf"), 0.5)))


def test_the_app_remembers_the_adapters_added(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    save_settings(path, Settings(adapters=("/a/french.gguf", "/b/style.gguf")))
    assert load_settings(path).adapters == ("/a/french.gguf", "/b/style.gguf")
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["adapters"] = ["/a/french.gguf", 3, "", "/a/french.gguf", "/c.gguf"]
    path.write_text(json.dumps(raw), encoding="utf-8")
    assert load_settings(path).adapters == ("/a/french.gguf", "/c.gguf")


def answered(transcript: Transcript, adapters: tuple[AnswerAdapter, ...]) -> None:
    transcript.add_user("What is the capital of Poland?")
    transcript.begin_answer("low", "gpt-oss-20b", adapters)
    for event in (AnswerDelta("La capitale est Varsovie."), Done("return", Stats(completion_tokens=9))):
        transcript.apply(event)


def stored(tmp_path: Path, adapters: tuple[AnswerAdapter, ...]) -> tuple[StoredConversation, list[StoredMessage]]:
    transcript = Transcript()
    answered(transcript, adapters)
    store = Store(tmp_path / "chats.db")
    conversation = store.create_conversation("Capitals")
    for message in transcript.messages:
        row = store.add_message(
            conversation, message.role, message.content, uid=message.uid, model=message.model, effort=message.effort
        )
        store.set_adapters(row, message.adapters)
    store.close()
    again = Store(tmp_path / "chats.db")
    record = again.conversation(conversation)
    messages = again.messages(conversation)
    again.close()
    assert record is not None
    return record, messages


def test_the_adapters_are_stored_with_the_answer_and_read_back_after_a_restart(tmp_path: Path) -> None:
    record, messages = stored(tmp_path, (FRENCH, STYLE))
    reopened = Transcript.from_stored(record, messages)
    assert [m.adapters for m in reopened.messages] == [(), (FRENCH, STYLE)]
    assert reopened.messages[1].model == "gpt-oss-20b"


def test_a_damaged_scale_is_left_out_rather_than_failing_the_conversation(tmp_path: Path) -> None:
    stored(tmp_path, (FRENCH, STYLE))
    with closing(sqlite3.connect(tmp_path / "chats.db")) as db, db:
        db.execute("UPDATE answer_adapters SET scale = 'lots' WHERE ordinal = 1")
    store = Store(tmp_path / "chats.db")
    conversation = store.conversations()[0].id
    assert [m.adapters for m in store.messages(conversation)] == [(), (FRENCH,)]
    store.close()


def test_a_database_from_before_adapters_gets_the_table_and_its_answers_have_none(tmp_path: Path) -> None:
    before = [name for name, _ in MIGRATIONS].index("0011_answer_adapters")
    old = Store(tmp_path / "chats.db", MIGRATIONS[:before])
    conversation = old.create_conversation("old")
    old.add_message(conversation, "assistant", "An answer from before.", model="gpt-oss-20b")
    old.close()
    store = Store(tmp_path / "chats.db")
    assert store.applied == [name for name, _ in MIGRATIONS[before:]] == ["0011_answer_adapters", "0012_citations"]
    (message,) = store.messages(conversation)
    store.close()
    assert (message.content, message.adapters) == ("An answer from before.", ())


def test_markdown_names_the_adapters_after_the_model(tmp_path: Path) -> None:
    record, messages = stored(tmp_path, (FRENCH,))
    text = export_markdown(record, messages, include_reasoning=False)
    assert "## Assistant · gpt-oss-20b + French capitals ×1.0 · low effort\n" in text
    plain, plain_messages = stored(tmp_path / "plain", ())
    plain_text = export_markdown(plain, plain_messages, include_reasoning=False)
    assert "## Assistant · gpt-oss-20b · low effort\n" in plain_text


def test_json_lists_each_adapter_by_name_file_and_scale(tmp_path: Path) -> None:
    record, messages = stored(tmp_path, (FRENCH, STYLE))
    document = json.loads(export_json(record, messages, include_reasoning=False))
    question, answer = document["messages"]
    assert document["version"] == 5
    assert answer["model"] == "gpt-oss-20b"
    assert answer["adapters"] == [
        {"name": "French capitals", "file": "french.lora.gguf", "scale": 1.0},
        {"name": "Short style", "file": "style.gguf", "scale": 0.75},
    ]
    assert "adapters" not in question
