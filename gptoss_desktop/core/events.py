"""Typed events from an engine to whoever shows them: no raw tokens, no control strings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from .prompt_record import PromptSent as PromptSent  # an engine event, kept with the data it carries


@dataclass(frozen=True)
class ReasoningDelta:
    """More of the model's reasoning (harmony's analysis channel)."""

    text: str


@dataclass(frozen=True)
class AnswerDelta:
    """More of the answer meant for the person (harmony's final channel)."""

    text: str


@dataclass(frozen=True)
class ChannelDelta:
    """Text on another channel or addressed to a tool: kept, never shown as the answer."""

    channel: str
    recipient: str | None
    text: str


@dataclass(frozen=True)
class MessageEnded:
    """A complete harmony message, for callers that want whole messages."""

    channel: str
    recipient: str | None
    content: str


@dataclass(frozen=True)
class Stats:
    """Counts and timings of one request, as the status line and `--json` report them."""

    prompt_tokens: int = 0
    prompt_tokens_evaluated: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    prefill_seconds: float = 0.0
    generation_seconds: float = 0.0
    reasoning_seconds: float = 0.0
    context_size: int = 0

    @property
    def tokens_per_second(self) -> float:
        """Generation speed; 0 when nothing was generated."""
        if self.generation_seconds <= 0:
            return 0.0
        return self.completion_tokens / self.generation_seconds

    @property
    def context_used(self) -> int:
        """Tokens the conversation now occupies in the context window."""
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class ContextTrimmed:
    """The oldest messages no longer fit in the context and were left out of this request's prompt.

    Comes before any text, on every request that leaves messages out (the instructions never
    are); the count grows only now and then, in chunks, so the model's cache stays valid.
    """

    dropped_messages: int
    kept_messages: int

    @property
    def notice(self) -> str:
        """One sentence for people: what the model no longer sees."""
        if self.dropped_messages == 1:
            return "The conversation no longer fits in the context: the model does not see its first message."
        return (
            "The conversation no longer fits in the context: "
            f"the model does not see its first {self.dropped_messages} messages."
        )


@dataclass(frozen=True)
class Done:
    """The request ended. `stop_reason`: return, call, eos, length or cancelled."""

    stop_reason: str
    stats: Stats


@dataclass(frozen=True)
class Failed:
    """The request could not run or broke off; `message` is meant for a person."""

    message: str


ParserEvent = ReasoningDelta | AnswerDelta | ChannelDelta | MessageEnded
EngineEvent = ReasoningDelta | AnswerDelta | ChannelDelta | MessageEnded | ContextTrimmed | PromptSent | Done | Failed


def coalesce[Event](events: Sequence[Event]) -> list[Event]:
    """Merge runs of deltas of the same kind, so a batch costs one UI update per kind; other events pass as they are."""
    merged: list[Event] = []
    for event in events:
        last = merged[-1] if merged else None
        if isinstance(event, ReasoningDelta) and isinstance(last, ReasoningDelta):
            merged[-1] = cast(Event, ReasoningDelta(last.text + event.text))
        elif isinstance(event, AnswerDelta) and isinstance(last, AnswerDelta):
            merged[-1] = cast(Event, AnswerDelta(last.text + event.text))
        elif (
            isinstance(event, ChannelDelta)
            and isinstance(last, ChannelDelta)
            and (event.channel, event.recipient) == (last.channel, last.recipient)
        ):
            merged[-1] = cast(Event, ChannelDelta(event.channel, event.recipient, last.text + event.text))
        else:
            merged.append(event)
    return merged
