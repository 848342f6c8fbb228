"""Answer a question about a conversation's documents: pick the strategy, run it, name the sources.

The engine is the same one that chats; this only decides what the last user message
holds (the question with quoted passages) and, for map-reduce, runs one quiet pass per
part of the documents before the answer streams. Runs on the engine's thread.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..cancel import CancelFlag
from ..context_window import reply_reserve
from ..engine import ChatEngine, ChatRequest, LoraAdapter
from ..events import AnswerDelta, Done, EngineEvent, Failed
from ..harmony import Conversation, Message
from ..sampling import SamplingParams
from .prompting import (
    CITATION_INSTRUCTIONS,
    STRATEGY_NOTES,
    Source,
    Strategy,
    choose_strategy,
    cited_sources,
    condense_request,
    group_for_map,
    map_request,
    passage_sources,
    question_with_sources,
    reduce_request,
)
from .types import Passage

#: Passages retrieved for a question before they are trimmed to the room in the prompt.
TOP_K = 8
#: The most a map (or condense) pass may write: notes, not an essay.
MAP_REPLY_TOKENS = 512
#: Tokens reserved for the quoted sources' numbers, names and delimiters, per passage.
QUOTE_OVERHEAD = 16
#: Passages listed under an answer that cites none (of those it was given, in the order given).
GIVEN_LISTED = 3


class PassageSource(Protocol):
    """Where passages come from: the document index of one conversation."""

    def all_passages(self) -> list[Passage]:
        """Every chunk of the ready documents, in document order."""
        ...

    def search(self, question: str, k: int) -> list[Passage]:
        """The `k` passages that best match `question`, best first."""
        ...


@dataclass(frozen=True)
class DocumentsUsed:
    """Comes first: how the documents are used for this answer (the answer says so)."""

    strategy: Strategy
    passages: int

    @property
    def note(self) -> str:
        """What the answer says about it."""
        return STRATEGY_NOTES[self.strategy]


@dataclass(frozen=True)
class PartRead:
    """Map-reduce progress: `part` of `parts` has been read."""

    part: int
    parts: int


@dataclass(frozen=True)
class SourcesCited:
    """Comes right before Done: the passages the answer cites, numbered as in the answer. When it cites none,
    `cited` is False and these are the first passages it was given, so a person can still check them."""

    sources: tuple[Source, ...]
    cited: bool = True


DocumentEvent = EngineEvent | DocumentsUsed | PartRead | SourcesCited


def answer_with_documents(
    engine: ChatEngine,
    conversation: Conversation,
    source: PassageSource,
    sampling: SamplingParams | None = None,
    cancel: CancelFlag | None = None,
    *,
    adapters: tuple[LoraAdapter, ...] = (),
) -> Iterator[DocumentEvent]:
    """Answer the last user message of `conversation` from the documents of `source` (every run with `adapters`)."""
    sampling = sampling or SamplingParams()
    cancel = cancel or CancelFlag()
    question = conversation.messages[-1].content
    instructions = "\n\n".join(part for part in (conversation.instructions, CITATION_INSTRUCTIONS) if part)
    base = dataclasses.replace(conversation, instructions=instructions)
    room = _room(engine, base, sampling)
    passages = source.all_passages()
    strategy = choose_strategy(question, _document_tokens(engine, passages, room), room)
    if strategy == "retrieve":
        passages = _fill(engine, source.search(question, TOP_K), room)
    yield DocumentsUsed(strategy, len(passages))
    if strategy == "map_reduce":
        notes = yield from _read_parts(engine, base, question, passages, room, sampling, cancel, adapters)
        if notes is None:
            return
        final = _with_last_message(base, reduce_request(question, notes))
    else:
        final = _with_last_message(base, question_with_sources(question, passages))
    answer: list[str] = []
    for event in engine.generate(ChatRequest(final, sampling, adapters=adapters), cancel):
        if isinstance(event, AnswerDelta):
            answer.append(event.text)
        if isinstance(event, Done):
            cited = cited_sources("".join(answer), passages)
            if cited or strategy == "map_reduce":  # map-reduce read everything: no first few to name
                yield SourcesCited(tuple(cited))
            else:
                given = range(1, min(len(passages), GIVEN_LISTED) + 1)
                yield SourcesCited(tuple(passage_sources(passages, given)), cited=False)
        yield event


def _read_parts(
    engine: ChatEngine,
    base: Conversation,
    question: str,
    passages: Sequence[Passage],
    room: int,
    sampling: SamplingParams,
    cancel: CancelFlag,
    adapters: tuple[LoraAdapter, ...],
) -> Generator[DocumentEvent, None, list[str] | None]:
    """The map pass: notes on each part, citing global numbers, condensed until they fit the answer's
    prompt; returns them (None if stopped or failed, the event saying why already yielded)."""

    def tokens(text: str) -> int:
        return engine.count_text_tokens(text)

    quiet = dataclasses.replace(sampling, max_tokens=min(sampling.max_tokens or MAP_REPLY_TOKENS, MAP_REPLY_TOKENS))
    part = Conversation(messages=(), effort="low", instructions=base.instructions, date=base.date)

    budget = room - tokens(map_request(question, [], 1))
    groups = group_for_map(passages, tokens, budget)
    notes: list[str] = []
    first = 1
    for number, group in enumerate(groups, start=1):
        note = yield from _quiet_answer(
            engine, _with_last_message(part, map_request(question, group, first)), quiet, cancel, adapters
        )
        if note is None:
            return None
        notes.append(note)
        first += len(group)
        yield PartRead(number, len(groups))
    while len(notes) > 1 and tokens(reduce_request(question, notes)) > room:
        merged: list[str] = []
        for batch in _batches(notes, lambda batch: tokens(condense_request(question, batch)) <= room):
            note = yield from _quiet_answer(
                engine, _with_last_message(part, condense_request(question, batch)), quiet, cancel, adapters
            )
            if note is None:
                return None
            merged.append(note)
        if len(merged) >= len(notes):
            break  # no shorter: answer from what there is, the engine says if it cannot fit
        notes = merged
    return notes


def _quiet_answer(
    engine: ChatEngine,
    conversation: Conversation,
    sampling: SamplingParams,
    cancel: CancelFlag,
    adapters: tuple[LoraAdapter, ...],
) -> Generator[DocumentEvent, None, str | None]:
    """Run one request without streaming it; its answer text, or None after yielding why it ended early."""
    text: list[str] = []
    for event in engine.generate(ChatRequest(conversation, sampling, adapters=adapters), cancel):
        if isinstance(event, AnswerDelta):
            text.append(event.text)
        elif isinstance(event, Failed) or (isinstance(event, Done) and event.stop_reason == "cancelled"):
            yield event
            return None
    return "".join(text)


def _batches(notes: Sequence[str], fits: Callable[[list[str]], bool]) -> list[list[str]]:
    """Consecutive notes in batches of at least two, each batch as large as `fits` allows."""
    batches: list[list[str]] = []
    current: list[str] = []
    for note in notes:
        if len(current) >= 2 and not fits([*current, note]):
            batches.append(current)
            current = []
        current.append(note)
    if current:
        batches.append(current)
    return batches


def _room(engine: ChatEngine, base: Conversation, sampling: SamplingParams) -> int:
    """Tokens left for quoted sources once the conversation and the reply have their room."""
    n_ctx = engine.info.context_size
    used = engine.count_prompt_tokens(base)
    return max(n_ctx - reply_reserve(n_ctx, sampling.max_tokens) - used - 64, 0)


def _document_tokens(engine: ChatEngine, passages: Sequence[Passage], room: int) -> int:
    """Tokens the passages take quoted; counted only when they might fit (a token is rarely over 8 characters)."""
    characters = sum(len(p.chunk.text) for p in passages)
    if characters > 8 * room:
        return characters // 4  # an estimate is enough to know they do not fit
    return sum(_cost(engine, p) for p in passages)


def _cost(engine: ChatEngine, passage: Passage) -> int:
    return engine.count_text_tokens(passage.chunk.text) + QUOTE_OVERHEAD


def _fill(engine: ChatEngine, passages: Sequence[Passage], room: int) -> list[Passage]:
    """The best passages that fit in `room`, in the order found."""
    chosen: list[Passage] = []
    used = 0
    for passage in passages:
        cost = _cost(engine, passage)
        if used + cost > room:
            break
        chosen.append(passage)
        used += cost
    return chosen


def _with_last_message(conversation: Conversation, content: str) -> Conversation:
    """`conversation` with its last user message replaced by `content` (or added, when it has none)."""
    messages = conversation.messages
    if messages and messages[-1].role == "user":
        messages = messages[:-1]
    return dataclasses.replace(conversation, messages=(*messages, Message("user", content)))
