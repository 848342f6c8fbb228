"""The tool loop: the model calls a tool, the app answers, the model goes on, until it answers.

gpt-oss ends a turn with ``<|call|>`` when it wants a tool. The loop takes the call (a ToolCall
event), asks the person first where they chose "ask first", runs the tool (a core object: no Qt),
gives the model the result as the tool's message, and lets it continue. On this computer the
engine continues from exactly the tokens it wrote (`continue_after_call`), so only the result is
evaluated; another engine gets the whole turn again. A call to a tool nobody declared, or past the
step limit, is answered with an error the model can read; nothing of it runs.

Every step is a typed event (ToolCall, ToolApproval, ToolResult) between the engine's own, and one
Done ends the turn with the counts of all its steps. Runs on the caller's thread (the engine's).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol, runtime_checkable

from ..cancel import CancelFlag
from ..context_window import reply_reserve
from ..engine import ChatEngine, ChatRequest, EngineInfo
from ..events import (
    AnswerDelta,
    Citation,
    Done,
    EngineEvent,
    Failed,
    MessageEnded,
    Stats,
    ToolApproval,
    ToolCall,
    ToolResult,
)
from ..harmony import Conversation, Function, Message, ToolNamespace, answer_call

#: Tool calls one answer may make before the model is told to answer with what it has.
DEFAULT_STEP_LIMIT = 8


class Tool(Protocol):
    """A tool the model can call: answers a call (on the engine thread), stopping soon after `cancel`."""

    def run(self, call: ToolCall, cancel: CancelFlag) -> ToolResult: ...


@runtime_checkable
class Citing(Protocol):
    """A tool whose output the answer can cite (the browser): it reads the citations out of the answer."""

    def cite(self, answer: str) -> tuple[Citation, ...]: ...


@runtime_checkable
class Continuing(Protocol):
    """An engine that can go on from its own tokens after a call (the local engine)."""

    def continue_after_call(
        self, results: Sequence[Message], request: ChatRequest, cancel: CancelFlag | None = None
    ) -> Iterator[EngineEvent]: ...


@dataclass(frozen=True)
class Toolbox:
    """The tools one turn may use: declared to the model, run by recipient namespace.

    `tools` maps a namespace (`python`, `browser`, `functions`) to what runs its calls; `ask`
    names the namespaces whose calls wait for the person's Run or Skip.
    """

    declarations: tuple[ToolNamespace, ...] = ()
    functions: tuple[Function, ...] = ()
    tools: Mapping[str, Tool] = field(default_factory=dict)
    ask: frozenset[str] = frozenset()
    step_limit: int = DEFAULT_STEP_LIMIT

    def declare(self, conversation: Conversation) -> Conversation:
        """`conversation` with these tools declared (the system and developer messages say so)."""
        return replace(conversation, tools=self.declarations, functions=self.functions)


def run_turn(engine: ChatEngine, request: ChatRequest, toolbox: Toolbox, cancel: CancelFlag) -> Iterator[EngineEvent]:
    """Answer `request` with `toolbox`'s tools: the engine's events, each tool step's, one Done at the end."""
    request = ChatRequest(toolbox.declare(request.conversation), request.sampling, adapters=request.adapters)
    turn: list[Message] = []  # what this turn wrote and was answered, for an engine that re-renders
    steps: list[Stats] = []
    calls, tool_seconds = 0, 0.0
    written: list[str] = []  # the answer's text, over every step
    events = engine.generate(request, cancel)
    while True:
        step = _Step(written)
        yield from step.follow(events)
        if step.failed:
            return
        steps.append(step.stats)
        if step.stop_reason != "call" or step.call is None:
            yield Done(step.stop_reason, _total(steps, calls, tool_seconds), _citations(toolbox, "".join(written)))
            return
        calls += 1
        if calls > toolbox.step_limit + 1:  # it was told to stop calling and called again
            yield Done("tool_limit", _total(steps, calls - 1, tool_seconds))
            return
        result = yield from _answer(step.call, toolbox, cancel, over_limit=calls > toolbox.step_limit)
        tool_seconds += result.seconds
        answer = answer_call(step.call, result.model_text)
        if not _fits(engine, request, [*turn, *step.written, answer]):
            result = replace(result, summary=f"{result.summary} · not shown to the model: its context is full",
                             model_text=NO_ROOM)  # fmt: skip
            answer = answer_call(step.call, result.model_text)
        yield result
        if cancel.is_set():
            yield Done("cancelled", _total(steps, calls, tool_seconds))
            return
        turn += [*step.written, answer]
        if isinstance(engine, Continuing):
            events = engine.continue_after_call([answer], request, cancel)
        else:
            conversation = replace(request.conversation, messages=(*request.conversation.messages, *turn))
            events = engine.generate(ChatRequest(conversation, request.sampling, adapters=request.adapters), cancel)


#: What the model reads instead of a tool's result that would not leave room for its reply.
NO_ROOM = (
    "Not shown: this result does not fit in what is left of the context. "
    "Answer now with what you have found, or make a call that returns less."
)


def _fits(engine: ChatEngine, request: ChatRequest, turn: list[Message]) -> bool:
    """Whether the turn so far, the tool's answer included, leaves the reply its room in the context.

    Counted by rendering (a few tokens may differ from the engine's own continuation: the reserve
    covers that); an engine whose context is unknown (0) or that does not count (0 tokens) passes.
    """
    size = engine.info.context_size
    if size <= 0:
        return True
    conversation = replace(request.conversation, messages=(*request.conversation.messages, *turn))
    return engine.count_prompt_tokens(conversation) + reply_reserve(size, request.sampling.max_tokens) <= size


class _Step:
    """One run of the engine within the turn: its events passed on, its call, messages and Done kept."""

    def __init__(self, answer: list[str]) -> None:
        self.answer = answer  # the turn's answer text so far, added to
        self.call: ToolCall | None = None
        self.written: list[Message] = []
        self.stop_reason = "length"
        self.stats = Stats()
        self.failed = False

    def follow(self, events: Iterator[EngineEvent]) -> Iterator[EngineEvent]:
        for event in events:
            if isinstance(event, Done):
                self.stop_reason, self.stats = event.stop_reason, event.stats
                continue  # the turn's Done comes once, at its end
            if isinstance(event, AnswerDelta):
                self.answer.append(event.text)
            elif isinstance(event, MessageEnded):
                self.written.append(_as_message(event))
            elif isinstance(event, ToolCall):
                self.call = event
            elif isinstance(event, Failed):
                self.failed = True
            yield event


def _citations(toolbox: Toolbox, answer: str) -> tuple[Citation, ...]:
    """What `answer` cites of the pages the turn's tools showed (none without a citing tool)."""
    cited: list[Citation] = []
    for tool in toolbox.tools.values():
        if isinstance(tool, Citing):
            cited += tool.cite(answer)
    return tuple(sorted(cited, key=lambda citation: citation.start))


def _as_message(ended: MessageEnded) -> Message:
    return Message(
        "assistant", ended.content, channel=ended.channel, recipient=ended.recipient, content_type=ended.content_type
    )


def _answer(
    call: ToolCall, toolbox: Toolbox, cancel: CancelFlag, over_limit: bool
) -> Generator[EngineEvent, None, ToolResult]:
    """The result of `call` (returned, not yielded): run, declined, or refused with a reason the model can read."""
    namespace = call.recipient.split(".", 1)[0]
    tool = toolbox.tools.get(namespace)
    if over_limit:
        text = (
            f"Not run: this answer has used its {toolbox.step_limit} tool calls. Answer now with what you have found."
        )
        return _refused(call, text, "Step limit reached")
    if not call.declared or tool is None:
        return _refused(call, f"No such tool: {call.recipient}. Use only the tools declared.", "No such tool")
    if namespace in toolbox.ask:
        approved = yield from _approval(call, cancel)
        if not approved:
            text = "The person declined to run this." if not cancel.is_set() else "Stopped before it ran."
            status = "declined" if not cancel.is_set() else "stopped"
            return ToolResult(
                call.recipient, "Not run: declined" if status == "declined" else "Stopped", "", text, status
            )
    started = time.monotonic()
    try:
        result = tool.run(call, cancel)
    except Exception as exc:  # a tool's own failure is the model's to read, not the turn's end
        text = f"The tool failed: {exc}"
        return ToolResult(call.recipient, "Failed", text, text, "error", time.monotonic() - started)
    return result


def _refused(call: ToolCall, text: str, summary: str) -> ToolResult:
    return ToolResult(call.recipient, summary, text, text, "refused")


def _approval(call: ToolCall, cancel: CancelFlag) -> Generator[EngineEvent, None, bool]:
    """Ask the person (a ToolApproval event) and wait for Run or Skip; Stop counts as Skip."""
    decided = threading.Event()
    choice: list[bool] = []

    def decide(run: bool) -> None:
        if not decided.is_set():
            choice.append(run)
            decided.set()

    forget = cancel.when_set(decided.set)
    try:
        yield ToolApproval(call, decide)
        decided.wait()
    finally:
        forget()
    return bool(choice) and choice[0] and not cancel.is_set()


def _total(steps: list[Stats], calls: int, tool_seconds: float) -> Stats:
    """One Stats for the turn: the last step's prompt (what the context holds), the sums of the rest."""
    last = steps[-1]
    return Stats(
        prompt_tokens=last.prompt_tokens,
        prompt_tokens_evaluated=sum(s.prompt_tokens_evaluated for s in steps),
        completion_tokens=sum(s.completion_tokens for s in steps),
        reasoning_tokens=sum(s.reasoning_tokens for s in steps),
        prefill_seconds=steps[0].prefill_seconds,
        generation_seconds=sum(s.generation_seconds for s in steps) + sum(s.prefill_seconds for s in steps[1:]),
        reasoning_seconds=sum(s.reasoning_seconds for s in steps),
        context_size=last.context_size,
        tool_calls=calls,
        tool_seconds=tool_seconds,
    )


class WithTools:
    """A ChatEngine whose answers may call `toolbox`'s tools: wraps another engine, so every way of
    answering (plain, from documents) gets the tool loop without knowing of it. Owns nothing."""

    def __init__(self, engine: ChatEngine, toolbox: Toolbox) -> None:
        self.engine = engine
        self.toolbox = toolbox

    @property
    def info(self) -> EngineInfo:
        return self.engine.info

    def generate(self, request: ChatRequest, cancel: CancelFlag | None = None) -> Iterator[EngineEvent]:
        """The tool loop around the engine's answer."""
        return run_turn(self.engine, request, self.toolbox, cancel or CancelFlag())

    def count_prompt_tokens(self, conversation: Conversation) -> int:
        """Tokens of the prompt with the tools declared (their descriptions take room too)."""
        return self.engine.count_prompt_tokens(self.toolbox.declare(conversation))

    def count_text_tokens(self, text: str) -> int:
        return self.engine.count_text_tokens(text)

    def close(self) -> None:
        """Nothing: the wrapped engine belongs to whoever made it."""
