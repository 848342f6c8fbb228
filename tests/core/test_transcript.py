"""The conversation as the app knows it, without Qt: streaming, stop, edit, regenerate, and the next prompt."""

from __future__ import annotations

from pathlib import Path

from gptoss_desktop.core.conversation_settings import ConversationSettings
from gptoss_desktop.core.documents.answer import SourcesCited
from gptoss_desktop.core.documents.prompting import Source
from gptoss_desktop.core.events import AnswerDelta, Done, Failed, ReasoningDelta, Stats
from gptoss_desktop.core.harmony import Message
from gptoss_desktop.core.history.store import MessageStats, Store
from gptoss_desktop.core.history.transcript import Transcript

STATS = Stats(
    prompt_tokens=30,
    completion_tokens=12,
    reasoning_tokens=8,
    prefill_seconds=0.5,
    generation_seconds=1.5,
    reasoning_seconds=0.75,
)


def answered(transcript: Transcript, question: str, reasoning: str, answer: str) -> None:
    transcript.add_user(question)
    transcript.begin_answer("medium", "gpt-oss-20b")
    for event in (ReasoningDelta(reasoning), AnswerDelta(answer), Done("return", STATS)):
        transcript.apply(event)


def prompt_of(transcript: Transcript) -> tuple[Message, ...]:
    return transcript.prompt("high", "2026-12-04").messages


def test_an_answer_streams_in_and_is_complete_with_its_cost() -> None:
    transcript = Transcript()
    transcript.add_user("What is 12 + 7?")
    answer = transcript.begin_answer("low", "gpt-oss-20b")
    assert transcript.answer is answer and answer.streaming
    for piece in ("12 plus ", "7"):
        transcript.apply(ReasoningDelta(piece))
    transcript.apply(AnswerDelta("19"))
    source = Source(1, "doc", "lease.md", 0, "lines 1-2", "The rent…")
    transcript.apply(SourcesCited((source,)))
    assert prompt_of(transcript) == (Message("user", "What is 12 + 7?"),)  # the answer being written is not in it
    transcript.apply(Done("return", STATS))
    assert (answer.reasoning, answer.content, answer.state, answer.sources) == (
        "12 plus 7",
        "19",
        "complete",
        (source,),
    )
    assert answer.stats == MessageStats(30, 12, 8, 2.0, 0.75)  # with how long it reasoned, for its summary
    assert transcript.answer is None
    assert prompt_of(transcript) == (Message("user", "What is 12 + 7?"), Message("assistant", "19", "12 plus 7"))


def test_events_after_the_answer_ended_change_nothing() -> None:
    transcript = Transcript()
    answered(transcript, "hi", "greet", "Hello")
    assert transcript.apply(AnswerDelta(" again")) is None
    assert transcript.messages[-1].content == "Hello"


def test_a_stopped_answer_keeps_what_was_written() -> None:
    transcript = Transcript()
    transcript.add_user("Write forever")
    transcript.begin_answer("medium", "m")
    transcript.apply(AnswerDelta("Once upon"))
    stopped = transcript.stop_streaming()
    assert stopped is not None and (stopped.state, stopped.content) == ("stopped", "Once upon")
    assert prompt_of(transcript)[-1] == Message("assistant", "Once upon")


def test_a_failed_answer_says_why_and_is_left_out_of_the_next_prompt() -> None:
    transcript = Transcript()
    transcript.add_user("hi")
    transcript.begin_answer("medium", "m")
    failed = transcript.apply(Failed("The server refused the connection."))
    assert failed is not None and (failed.state, failed.ending) == ("error", "The server refused the connection.")
    transcript.add_user("hello?")
    assert prompt_of(transcript) == (Message("user", "hi"), Message("user", "hello?"))


def test_edit_and_resend_makes_a_new_version_and_keeps_the_old_branch() -> None:
    transcript = Transcript()
    answered(transcript, "What is 2 + 2?", "add", "4")
    answered(transcript, "And times 3?", "multiply", "12")
    edited = transcript.messages[2]
    assert transcript.branch_before(edited.uid)
    assert [m.content for m in transcript.messages] == ["What is 2 + 2?", "4"]
    new = transcript.add_user("And times 5?")
    assert [m.content for m in prompt_of(transcript)] == ["What is 2 + 2?", "4", "And times 5?"]
    assert transcript.version_of(new.uid) == (2, 2) and transcript.version_of(edited.uid) == (1, 2)
    transcript.choose(edited.uid)  # back to the first version: the answer that followed it comes with it
    assert [m.content for m in transcript.messages] == ["What is 2 + 2?", "4", "And times 3?", "12"]


def test_regenerate_keeps_the_earlier_answer_as_a_version() -> None:
    transcript = Transcript()
    answered(transcript, "Name a colour.", "pick one", "Blue")
    first = transcript.last_answer
    assert first is not None
    transcript.branch_before(first.uid)
    assert transcript.last_answer is None and prompt_of(transcript) == (Message("user", "Name a colour."),)
    transcript.begin_answer("medium", "m")
    transcript.apply(AnswerDelta("Red"))
    transcript.apply(Done("return", STATS))
    assert [m.content for m in transcript.versions(first.uid)] == ["Blue", "Red"]
    assert transcript.version_of(first.uid) == (1, 2)
    chosen = transcript.choose(first.uid)
    assert chosen == [first] and transcript.messages[-1].content == "Blue"
    assert transcript.choose(first.uid) == []  # already shown: nothing to remember


def test_a_stored_conversation_opens_on_the_versions_chosen_last(tmp_path: Path) -> None:
    store = Store(tmp_path / "history.db")
    conversation_id = store.create_conversation("Colours")
    store.add_message(conversation_id, "user", "Name a colour.", uid="q")
    store.add_message(conversation_id, "assistant", "Blue", uid="a1", parent="q")
    store.add_message(conversation_id, "user", "Why?", uid="why", parent="a1")
    store.add_message(conversation_id, "assistant", "Red", uid="a2", parent="q")
    first = store.message_id("a1")
    assert first is not None
    record = store.conversation(conversation_id)
    assert record is not None
    assert [m.content for m in Transcript.from_stored(record, store.messages(conversation_id)).messages] == [
        "Name a colour.",
        "Red",
    ]
    store.choose_message(first, 10**10)
    reopened = Transcript.from_stored(record, store.messages(conversation_id))
    store.close()
    assert [m.content for m in reopened.messages] == ["Name a colour.", "Blue", "Why?"]
    assert reopened.version_of("a1") == (1, 2)


def test_the_prompt_carries_the_conversations_instructions_effort_and_date() -> None:
    transcript = Transcript(settings=ConversationSettings(instructions="Answer in French."))
    transcript.add_user("Hello")
    conversation = transcript.prompt("low", "2026-12-04")
    assert (conversation.instructions, conversation.effort, conversation.date) == (
        "Answer in French.",
        "low",
        "2026-12-04",
    )


def test_a_stored_conversation_comes_back_as_it_was(tmp_path: Path) -> None:
    store = Store(tmp_path / "history.db")
    conversation_id = store.create_conversation("Sums", ConversationSettings(effort="high").to_json())
    store.add_message(conversation_id, "user", "What is 12 + 7?")
    answer = store.add_message(conversation_id, "assistant", state="streaming", effort="high", model="m")
    store.update_message(
        answer, content="19", reasoning="12 plus 7", state="complete", stats=MessageStats(30, 12, 8, 2.0)
    )
    store.add_message(conversation_id, "user", "Add 3.")
    cut = store.add_message(conversation_id, "assistant", state="streaming", effort="high", model="m")
    store.update_message(cut, content="2", reasoning="", state="streaming")
    store.close()
    store = Store(tmp_path / "history.db")  # a restart: the answer that was streaming is now interrupted
    record = store.conversation(conversation_id)
    assert record is not None
    transcript = Transcript.from_stored(record, store.messages(conversation_id))
    store.close()
    assert transcript.uid == record.uid and transcript.settings.effort == "high"
    assert [(m.role, m.content, m.state) for m in transcript.messages] == [
        ("user", "What is 12 + 7?", "complete"),
        ("assistant", "19", "complete"),
        ("user", "Add 3.", "complete"),
        ("assistant", "2", "interrupted"),
    ]
    assert transcript.messages[1].stats == MessageStats(30, 12, 8, 2.0) and transcript.messages[1].effort == "high"
    assert transcript.answer is None  # nothing streams in a conversation just opened
