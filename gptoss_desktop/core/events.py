"""Typed events from an engine to whoever shows them: no raw tokens, no control strings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    """Text on another channel or addressed to a tool (a call's code or JSON as it is written):
    kept, never shown as the answer. `channel` is None when the header named none."""

    channel: str | None
    recipient: str | None
    text: str


@dataclass(frozen=True)
class MessageEnded:
    """A complete, well-formed harmony message, for callers that want whole messages.

    `content_type` is the header's word before ``<|message|>`` as written (``code``,
    ``<|constrain|>json``), None when there is none.
    """

    channel: str | None
    recipient: str | None
    content: str
    content_type: str | None = None


@dataclass(frozen=True)
class ToolCall:
    """The model called a tool: a message addressed to `recipient`, ended by ``<|call|>`` (which
    also ends the completion). Comes right after the call's MessageEnded.

    `arguments` is the message's text as written (code for python, JSON for functions and the
    browser), unparsed. `declared` is False when the conversation declared no tool of that name
    (models do call tools that were never declared): answer the call with an error the model can
    read instead of running anything.
    """

    recipient: str
    channel: str | None
    content_type: str | None
    arguments: str
    declared: bool


@dataclass(frozen=True)
class MalformedMessage:
    """A message the model wrote outside harmony's grammar; none of its text was shown.

    For example a header with stray words, a channel mark with no name, a message written as the
    user or as a tool, or a header that never reached ``<|message|>``. `header` and `content` are
    what came before and after ``<|message|>`` (control tokens spelled out); `reason` says what
    is wrong, for logs and for a note to the model. The engine may resample the turn or go on.
    """

    reason: str
    header: str
    content: str


@dataclass(frozen=True)
class ToolApproval:
    """The model wants to run a tool the person asked to approve first (python on "ask first"): the turn
    waits until `decide(True)` (Run) or `decide(False)` (Skip) is called, from any thread, or it is stopped."""

    call: ToolCall
    decide: Callable[[bool], None]


@dataclass(frozen=True)
class ToolFile:
    """A file a tool wrote (the python tool's working folder): the window lists it under the answer."""

    name: str
    path: str
    size: int


@dataclass(frozen=True)
class ToolResult:
    """A tool call was answered: what the window shows of it, and what the model read.

    `status`: done, error (the tool ran and failed, or its code raised), declined (the person chose
    Skip), stopped (Stop during the run), refused (no such tool, a bad argument, the step limit).
    """

    recipient: str
    summary: str  # one line for people: "Ran Python · 0.4 s", "Searched 'notice' · 5 results"
    output: str  # what the window shows (may be long)
    model_text: str  # what the model read
    status: str = "done"
    seconds: float = 0.0
    files: tuple[ToolFile, ...] = ()


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
    tool_calls: int = 0
    tool_seconds: float = 0.0

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
class Citation:
    """The answer cites what the model read with the browser: `【cursor†Lx-Ly】` at answer[start:end].

    `first_line` and `last_line` are the page's own line numbers (`L0: …`) as cited. Resolved against
    the page opened at that cursor, a citation names the document, its PDF `page` and the `file_lines`
    (the file's own line numbers, for formats that have lines), with `quote`, the cited lines' text.
    `verified` is False when the cursor or the lines point at nothing the model was shown: such a
    citation is shown as unverified, never as a link.
    """

    start: int
    end: int
    cursor: int
    first_line: int
    last_line: int
    verified: bool
    document_uid: str | None = None
    document_name: str | None = None
    page: int | None = None
    file_lines: tuple[int, int] | None = None
    quote: str = ""


@dataclass(frozen=True)
class Done:
    """The request ended. `stop_reason`: return, call, eos, stop (a stop string), length or cancelled.

    `citations`: what the answer cites of the pages its browser calls opened, in the answer's order.
    """

    stop_reason: str
    stats: Stats
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True)
class Failed:
    """The request could not run or broke off; `message` is meant for a person."""

    message: str


ParserEvent = ReasoningDelta | AnswerDelta | ChannelDelta | MessageEnded | ToolCall | MalformedMessage
EngineEvent = (
    ReasoningDelta
    | AnswerDelta
    | ChannelDelta
    | MessageEnded
    | ToolCall
    | MalformedMessage
    | ToolApproval
    | ToolResult
    | ContextTrimmed
    | PromptSent
    | Done
    | Failed
)


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
