"""API requests as work for the engine thread, and their events back on the event loop.

Counting the prompt needs the model's tokenizer, so it happens on the engine thread too: a
prompt longer than the context is refused (400) instead of being cut as a chat in the window
is, and the reply gets whatever room is left, so the engine never trims an API request.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Iterator

from starlette.requests import Request

from ..cancel import CancelFlag
from ..engine import ChatRequest
from ..events import Done, Failed, Stats, ToolCall
from ..harmony import Message, answer_call
from ..local.engine import LocalEngine
from .channel import EventChannel
from .errors import ApiError, busy
from .runner import BusyError, EngineRunner, Job, NoModelError, Work


def answer(request: ChatRequest) -> Work:
    """Work that answers `request` on the engine thread."""

    def work(engine: LocalEngine, cancel: CancelFlag) -> Iterator[object]:
        try:
            prompt = engine.count_prompt_tokens(request.conversation)
        except ValueError as exc:  # a chat template that cannot render these messages
            yield ApiError(400, str(exc), param="messages")
            return
        n_ctx = engine.info.context_size
        if prompt >= n_ctx:
            yield ApiError(
                400,
                f"This model's maximum context length is {n_ctx} tokens. However, your messages resulted "
                f"in {prompt} tokens. Please reduce the length of the messages.",
                param="messages",
                code="context_length_exceeded",
            )
            return
        if request.conversation.functions and not engine.info.is_harmony:
            yield ApiError(400, "Tool calls need a gpt-oss model; this one has none.", param="tools")
            return
        if request.answer_grammar is not None and not engine.grammar_is_valid(request.answer_grammar):
            yield ApiError(400, "The response format could not be made into a grammar.", param="response_format")
            return
        room = n_ctx - prompt
        sampling = dataclasses.replace(request.sampling, max_tokens=min(request.sampling.max_tokens or room, room))
        yield from _answer_declared_calls_only(engine, dataclasses.replace(request, sampling=sampling), cancel)

    return work


#: How often a call to a tool nobody declared is answered with an error before the reply ends.
UNDECLARED_RETRIES = 2


def _answer_declared_calls_only(engine: LocalEngine, request: ChatRequest, cancel: CancelFlag) -> Iterator[object]:
    """The engine's events; a call to a tool the request did not declare (models do that) is answered
    with an error the model can read, and the model goes on, instead of reaching the client."""
    spent: list[Stats] = []
    for attempt in range(UNDECLARED_RETRIES + 1):
        stray: ToolCall | None = None
        done: Done | None = None
        for event in engine.generate(request, cancel):
            if isinstance(event, ToolCall) and not event.declared:
                stray = event
            elif isinstance(event, Done):
                done = event
            else:
                yield event
        if done is None:
            return  # it failed; the Failed event went out
        spent.append(done.stats)
        left = (request.sampling.max_tokens or 0) - sum(s.completion_tokens for s in spent)
        if stray is None or done.stop_reason != "call" or attempt == UNDECLARED_RETRIES or left <= 0:
            yield Done(done.stop_reason if stray is None else "return", _total(spent))
            return
        error = f"Error: there is no tool named {stray.recipient}. Use only the tools declared, or answer."
        messages = (*request.conversation.messages, *_call_and_error(stray, error))
        conversation = dataclasses.replace(request.conversation, messages=messages)
        sampling = dataclasses.replace(request.sampling, max_tokens=left)
        request = dataclasses.replace(request, conversation=conversation, sampling=sampling)


def _call_and_error(call: ToolCall, error: str) -> tuple[Message, Message]:
    made = Message(
        "assistant", call.arguments, channel=call.channel, recipient=call.recipient, content_type=call.content_type
    )
    return made, answer_call(call, error)


def _total(parts: list[Stats]) -> Stats:
    """One request's stats over the generations it took."""
    first, last = parts[0], parts[-1]
    return dataclasses.replace(
        first,
        completion_tokens=sum(p.completion_tokens for p in parts),
        reasoning_tokens=sum(p.reasoning_tokens for p in parts),
        generation_seconds=sum(p.generation_seconds for p in parts),
        reasoning_seconds=sum(p.reasoning_seconds for p in parts),
        context_size=last.context_size,
    )


def is_last(event: object) -> bool:
    """True for the event that ends a job."""
    return isinstance(event, Done | Failed | ApiError)


#: At most one batch of events (one chunk per kind of text) per this many seconds, as the window
#: draws (~30 a second); see channel.py. bench/api.py: 10 ms cost the server 50 us of CPU per token
#: of a 2,500 tokens/s model, 30 ms 31 us.
PACE_SECONDS = 0.03


class RunningJob:
    """A submitted job seen from the event loop: its events in batches, cancelled on disconnect."""

    def __init__(self, runner: EngineRunner, work: Work) -> None:
        self.channel = EventChannel()
        try:
            self.job: Job = runner.submit(work, self.channel)
        except BusyError as exc:
            raise busy(exc.waiting) from None
        except NoModelError:
            raise ApiError(
                503, "No model is loaded in the app.", type="server_error", code="model_not_loaded"
            ) from None
        self.ended = False

    def cancel(self) -> None:
        """Stop the job (any thread); its last event still comes."""
        self.job.cancel.set()

    async def next_batch(self) -> list[object]:
        """The events that came since the last call (at least one), up to the last event of the job."""
        events = await self.channel.take(PACE_SECONDS)
        for index, event in enumerate(events):
            if is_last(event):
                self.ended = True
                return events[: index + 1]
        return events

    async def batches(self) -> AsyncIterator[list[object]]:
        """Batches until the job's last event."""
        while not self.ended:
            yield await self.next_batch()

    @contextlib.asynccontextmanager
    async def watching(self, request: Request) -> AsyncIterator[None]:
        """While inside, a client that disconnects cancels the job (before a streaming reply starts:
        Starlette's StreamingResponse watches from then on)."""
        watcher = asyncio.ensure_future(_cancel_on_disconnect(request, self))
        try:
            yield
        finally:
            watcher.cancel()


async def _cancel_on_disconnect(request: Request, job: RunningJob) -> None:
    """Wait for the client to go away, then cancel its job (its body was read already)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            job.cancel()
            return
