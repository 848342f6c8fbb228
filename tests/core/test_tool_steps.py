"""An answer's tool steps without Qt: taken from the loop's events in order with the reasoning, stored with the
answer in real SQLite (also from an older schema), read back after a restart, exported, and kept out of later
prompts."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from gptoss_desktop.core.conversation_settings import ConversationSettings
from gptoss_desktop.core.events import (
    AnswerDelta,
    Done,
    ReasoningDelta,
    Stats,
    ToolApproval,
    ToolCall,
    ToolFile,
    ToolResult,
)
from gptoss_desktop.core.harmony import Message
from gptoss_desktop.core.history.export import export_json, export_markdown
from gptoss_desktop.core.history.migrations import MIGRATIONS
from gptoss_desktop.core.history.store import Store
from gptoss_desktop.core.history.tool_steps import ToolStep, interleaved
from gptoss_desktop.core.history.transcript import Transcript

CODE = "x = 123 * 457\nprint(x)"
PLOT = ToolFile("plot.png", "/data/python/conversation-1/plot.png", 12_345)


def call(code: str = CODE) -> ToolCall:
    return ToolCall("python", "analysis", "code", code, declared=True)


def ran(output: str, files: tuple[ToolFile, ...] = ()) -> ToolResult:
    return ToolResult("python", "Ran Python · 0.4 s", output, output, "done", 0.4, files)


def answered_with_tools(transcript: Transcript) -> None:
    """A turn that reasons, calls python twice (the second wrote a file), reasons between, and answers."""
    transcript.add_user("What is 123 * 457?")
    transcript.begin_answer("medium", "gpt-oss-20b")
    events = [
        ReasoningDelta("Compute it. "),
        call(),
        ran("56211"),
        ReasoningDelta("Check and plot. "),
        call("import matplotlib"),
        ran("", (PLOT,)),
        ReasoningDelta("Done."),
        AnswerDelta("56211"),
        Done("return", Stats(completion_tokens=40, reasoning_tokens=30, tool_calls=2, tool_seconds=0.8)),
    ]
    for event in events:
        transcript.apply(event)


def test_steps_are_taken_in_order_with_where_they_happened_in_the_reasoning() -> None:
    transcript = Transcript()
    answered_with_tools(transcript)
    answer = transcript.messages[-1]
    assert answer.reasoning == "Compute it. Check and plot. Done."
    assert [(s.at, s.arguments, s.status, s.output) for s in answer.steps] == [
        (12, CODE, "done", "56211"),
        (28, "import matplotlib", "done", ""),
    ]
    assert interleaved(answer.reasoning, answer.steps) == [
        "Compute it. ",
        answer.steps[0],
        "Check and plot. ",
        answer.steps[1],
        "Done.",
    ]
    assert answer.files == [PLOT.path]


def test_later_prompts_leave_the_steps_out_as_analysis_is_dropped() -> None:
    transcript = Transcript()
    answered_with_tools(transcript)
    transcript.add_user("Thanks")
    assert transcript.prompt("medium", "2026-12-04").messages == (
        Message("user", "What is 123 * 457?"),
        Message("assistant", "56211", "Compute it. Check and plot. Done."),
        Message("user", "Thanks"),
    )


def test_a_step_waiting_for_the_person_or_running_when_the_answer_stops_says_it_stopped() -> None:
    transcript = Transcript()
    transcript.add_user("Run it")
    transcript.begin_answer("medium", "m")
    transcript.apply(call())
    answer = transcript.apply(ToolApproval(call(), lambda run: None))
    assert answer is not None and answer.steps[0].status == "waiting" and not answer.steps[0].finished
    transcript.stop_streaming()
    assert (answer.steps[0].status, answer.steps[0].summary) == ("stopped", "Python: stopped")


def test_a_call_the_conversation_does_not_offer_ends_the_answer_not_run() -> None:
    transcript = Transcript(settings=ConversationSettings(python="off"))
    transcript.add_user("What is 123 * 457?")
    transcript.begin_answer("medium", "m")
    transcript.apply(ToolCall("python", "analysis", "code", CODE, declared=False))
    answer = transcript.apply(Done("call", Stats()))
    assert answer is not None
    assert (answer.steps[0].status, answer.steps[0].summary) == (
        "refused",
        "Not run: Python is off in this conversation",
    )


def test_damaged_offsets_keep_every_step_and_all_the_text() -> None:
    steps = [ToolStep("python", "a", 500), ToolStep("python", "b", -3)]
    assert interleaved("short", steps) == ["short", steps[0], steps[1]]


def test_steps_are_stored_with_the_answer_and_read_back_after_a_restart(tmp_path: Path) -> None:
    transcript = Transcript()
    answered_with_tools(transcript)
    store = Store(tmp_path / "chats.db")
    conversation = store.create_conversation("tools")
    for message in transcript.messages:
        row = store.add_message(conversation, message.role, message.content, uid=message.uid)
        store.set_tool_steps(row, message.steps)
    store.close()

    again = Store(tmp_path / "chats.db")
    record = again.conversation(conversation)
    assert record is not None
    reopened = Transcript.from_stored(record, again.messages(conversation))
    again.close()
    assert reopened.messages[-1].steps == transcript.messages[-1].steps  # files, seconds, output: all of it
    assert reopened.messages[0].steps == []


def test_a_step_stored_while_it_ran_reads_back_stopped_and_damaged_files_are_left_out(tmp_path: Path) -> None:
    store = Store(tmp_path / "chats.db")
    conversation = store.create_conversation("crash")
    answer = store.add_message(conversation, "assistant", state="streaming")
    store.set_tool_steps(answer, [ToolStep("python", "while True: pass", 0)])
    store.close()
    with closing(sqlite3.connect(tmp_path / "chats.db")) as db, db:
        db.execute('UPDATE tool_steps SET files = \'[{"name": 3}, "x", {"name": "a", "path": "/a", "size": 1}]\'')
    again = Store(tmp_path / "chats.db")
    (message,) = again.messages(conversation)
    again.close()
    (step,) = message.tool_steps
    assert (step.status, step.summary, step.files) == ("stopped", "Python: stopped", (ToolFile("a", "/a", 1),))


def test_a_database_from_before_tool_steps_gets_the_table_and_its_answers_have_none(tmp_path: Path) -> None:
    before = [name for name, _ in MIGRATIONS].index("0010_tool_steps")
    old = Store(tmp_path / "chats.db", MIGRATIONS[:before])
    conversation = old.create_conversation("old")
    old.add_message(conversation, "assistant", "An answer from before.")
    old.close()
    store = Store(tmp_path / "chats.db")
    assert store.applied == [name for name, _ in MIGRATIONS[before:]]
    (message,) = store.messages(conversation)
    store.close()
    assert (message.content, message.tool_steps) == ("An answer from before.", ())


def stored(tmp_path: Path) -> tuple[object, ...]:
    transcript = Transcript()
    answered_with_tools(transcript)
    store = Store(tmp_path / "chats.db")
    conversation = store.create_conversation("Tools")
    for message in transcript.messages:
        row = store.add_message(conversation, message.role, message.content, uid=message.uid)
        store.update_message(row, content=message.content, reasoning=message.reasoning, state="complete")
        store.set_tool_steps(row, message.steps)
    record = store.conversation(conversation)
    messages = store.messages(conversation)
    store.close()
    return record, messages


def test_markdown_puts_each_step_where_it_happened_in_the_reasoning(tmp_path: Path) -> None:
    record, messages = stored(tmp_path)
    text = export_markdown(record, messages, include_reasoning=True)  # type: ignore[arg-type]
    assert "<summary>Reasoning · 2 tool calls</summary>" in text
    order = [text.index(part) for part in ("Compute it.", "**Ran Python · 0.4 s**", CODE, "56211\n", "Check and plot.")]
    assert order == sorted(order)
    assert f"```python\n{CODE}\n```" in text
    assert f"- plot.png (12,345 bytes): `{PLOT.path}`" in text


def test_without_the_reasoning_only_what_the_steps_did_is_exported(tmp_path: Path) -> None:
    record, messages = stored(tmp_path)
    text = export_markdown(record, messages, include_reasoning=False)  # type: ignore[arg-type]
    assert "*Tools: Ran Python · 0.4 s; Ran Python · 0.4 s*" in text and "plot.png" in text
    assert CODE not in text and "Compute it." not in text
    document = json.loads(export_json(record, messages, include_reasoning=False))  # type: ignore[arg-type]
    steps = document["messages"][1]["tool_steps"]
    assert [set(step) for step in steps] == [{"tool", "summary", "status", "seconds", "files"}] * 2
    assert steps[1]["files"] == [{"name": "plot.png", "path": PLOT.path, "size": 12_345}]


def test_json_carries_each_steps_code_output_and_place_with_the_reasoning(tmp_path: Path) -> None:
    record, messages = stored(tmp_path)
    document = json.loads(export_json(record, messages, include_reasoning=True))  # type: ignore[arg-type]
    answer = document["messages"][1]
    first = answer["tool_steps"][0]
    assert (first["tool"], first["arguments"], first["output"], first["status"]) == ("python", CODE, "56211", "done")
    assert answer["reasoning"][: first["reasoning_offset"]] == "Compute it. "
    assert "tool_steps" not in document["messages"][0]
