"""Answering from documents with the real engine: the strategy that runs, what the model is given, the sources."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gptoss_desktop.core.cancel import CancelFlag
from gptoss_desktop.core.documents.answer import (
    DocumentEvent,
    DocumentsUsed,
    PartRead,
    SourcesCited,
    answer_with_documents,
)
from gptoss_desktop.core.documents.types import Chunk, Passage
from gptoss_desktop.core.engine import ChatRequest, LoraAdapter
from gptoss_desktop.core.events import Done, EngineEvent
from gptoss_desktop.core.harmony import Conversation, Message
from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.sampling import SamplingParams
from tests.fixtures.lora_gguf import FRENCH_ADAPTER

QUICK = SamplingParams(temperature=0.0, seed=1, max_tokens=24)


class ListSource:
    """Passages from a list, searched by shared words: stands in for the SQLite index (tested on its own)."""

    def __init__(self, texts: list[str]) -> None:
        self.passages = [Passage("doc", "notes.txt", Chunk(i, text, line_start=i + 1)) for i, text in enumerate(texts)]
        self.searches: list[tuple[str, int]] = []

    def all_passages(self) -> list[Passage]:
        return list(self.passages)

    def search(self, question: str, k: int) -> list[Passage]:
        self.searches.append((question, k))
        words = set(question.lower().split())
        scored = sorted(self.passages, key=lambda p: -len(words & set(p.chunk.text.lower().split())))
        return scored[:k]


@pytest.fixture(scope="module")
def engine(trained_model: Path) -> Iterator[LocalEngine]:
    engine = LocalEngine(str(trained_model), context_size=1024)
    yield engine
    engine.close()


def ask(engine: LocalEngine, source: ListSource, question: str) -> list[DocumentEvent]:
    conversation = Conversation(messages=(Message("user", question),), effort="low")
    return list(answer_with_documents(engine, conversation, source, QUICK))


def test_a_small_document_goes_whole_into_the_prompt(engine: LocalEngine) -> None:
    source = ListSource(["The capital of France is Paris.", "Rent is due on the first day of the month."])
    events = ask(engine, source, "When is rent due?")
    assert events[0] == DocumentsUsed("whole", 2)
    assert events[0].note == "Answered from the whole of the documents."
    assert source.searches == []  # nothing retrieved: everything was given
    assert isinstance(events[-2], SourcesCited) and isinstance(events[-1], Done)
    # The tiny model cites nothing: the passages it was given are listed instead, marked as not cited.
    assert not events[-2].cited and [(s.number, s.anchor) for s in events[-2].sources] == [(1, "line 1"), (2, "line 2")]
    bare = list(answer_with_documents(engine, Conversation((Message("user", "When is rent due?"),)), ListSource([])))
    assert isinstance(bare[-1], Done)
    assert events[-1].stats.prompt_tokens > bare[-1].stats.prompt_tokens + 20  # the passages were in the prompt


def test_a_long_document_is_searched_and_the_passages_fit_the_context(engine: LocalEngine) -> None:
    source = ListSource([f"Section {n}: the tenant pays {n} euros for item {n}. " * 6 for n in range(200)])
    events = ask(engine, source, "What does the tenant pay for item 7?")
    used = events[0]
    assert isinstance(used, DocumentsUsed) and used.strategy == "retrieve"
    assert source.searches == [("What does the tenant pay for item 7?", 8)]
    assert 0 < used.passages <= 8
    done = events[-1]
    assert isinstance(done, Done) and done.stats.prompt_tokens < engine.info.context_size


def test_summarize_a_long_document_reads_every_part(engine: LocalEngine) -> None:
    source = ListSource([f"Paragraph {n} says that item {n} costs {n} euros. " * 6 for n in range(60)])
    events = ask(engine, source, "Summarize these notes.")
    assert events[0] == DocumentsUsed("map_reduce", 60)
    parts = [e for e in events if isinstance(e, PartRead)]
    assert len(parts) >= 2 and [p.part for p in parts] == list(range(1, parts[0].parts + 1))
    assert isinstance(events[-1], Done) and events[-1].stop_reason != "cancelled"
    listed = next(e for e in events if isinstance(e, SourcesCited))
    assert listed.sources == ()  # every passage was read: no first few to name


def test_stop_during_the_reading_pass_ends_it_without_an_answer(engine: LocalEngine) -> None:
    from gptoss_desktop.core.events import AnswerDelta

    source = ListSource([f"Paragraph {n} says that item {n} costs {n} euros. " * 6 for n in range(60)])
    cancel = CancelFlag()
    conversation = Conversation(messages=(Message("user", "Summarize these notes."),), effort="low")
    events: list[DocumentEvent] = []
    for event in answer_with_documents(engine, conversation, source, QUICK, cancel):
        events.append(event)
        if isinstance(event, PartRead):
            cancel.set()
    assert [type(e).__name__ for e in events if not isinstance(e, AnswerDelta)][-2:] == ["PartRead", "Done"]
    done = events[-1]
    assert isinstance(done, Done) and done.stop_reason == "cancelled"
    assert not any(isinstance(e, SourcesCited) for e in events)


def test_every_run_of_a_document_answer_is_written_with_the_adapters(trained_model: Path) -> None:
    adapters = (LoraAdapter(FRENCH_ADAPTER, 0.5),)
    seen: list[tuple[LoraAdapter, ...]] = []

    class Recording(LocalEngine):
        def generate(self, request: ChatRequest, cancel: CancelFlag | None = None) -> Iterator[EngineEvent]:
            seen.append(request.adapters)
            return super().generate(request, cancel)

    engine = Recording(str(trained_model), context_size=1024)
    try:
        source = ListSource([f"Paragraph {n} says that item {n} costs {n} euros. " * 6 for n in range(60)])
        conversation = Conversation(messages=(Message("user", "Summarize these notes."),), effort="low")
        events = list(answer_with_documents(engine, conversation, source, QUICK, adapters=adapters))
    finally:
        engine.close()
    assert events[0] == DocumentsUsed("map_reduce", 60) and isinstance(events[-1], Done)
    assert len(seen) >= 3 and set(seen) == {adapters}  # the notes on each part, and the answer
