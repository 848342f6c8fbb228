"""POST /v1/chat/completions: the answer, its reasoning under both names clients read, and usage.

llama-server names the reasoning `reasoning_content`, Ollama and LM Studio `reasoning`; half the
clients read one, half the other, so every message and delta carries both.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ..events import AnswerDelta, ChannelDelta, Done, Failed, ReasoningDelta, Stats, ToolCall
from .chat_request import ChatCall, parse_chat
from .errors import ApiError
from .fields import parse_body
from .jobs import RunningJob, answer
from .models import ServedModel
from .tools import call_id

FINISH_REASONS = {"return": "stop", "eos": "stop", "stop": "stop", "call": "stop", "length": "length"}
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def usage(stats: Stats) -> dict[str, Any]:
    """OpenAI's usage object, with the reasoning tokens and the prompt tokens served from the cache."""
    return {
        "prompt_tokens": stats.prompt_tokens,
        "completion_tokens": stats.completion_tokens,
        "total_tokens": stats.prompt_tokens + stats.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": max(stats.prompt_tokens - stats.prompt_tokens_evaluated, 0)},
        "completion_tokens_details": {"reasoning_tokens": stats.reasoning_tokens},
    }


def server_error(failed: Failed) -> ApiError:
    return ApiError(500, failed.message, type="server_error")


async def chat_completions(request: Request) -> Response:
    served: ServedModel = request.app.state.served
    call = parse_chat(parse_body(await request.body()))
    model = served.check(call.model)
    job = RunningJob(served.runner, answer(call.request))
    reply = _Reply(f"chatcmpl-{uuid.uuid4().hex}", model.id, int(time.time()), call)
    async with job.watching(request):
        first = await job.next_batch()
        if not call.stream:
            events = first
            while not job.ended:
                events += await job.next_batch()
            return reply.whole(events)
    refused = next((e for e in first if isinstance(e, ApiError)), None)
    if refused is not None:
        raise refused
    return StreamingResponse(reply.stream(job, first), media_type="text/event-stream", headers=SSE_HEADERS)


class _Reply:
    """One chat completion in OpenAI's shapes, whole or as chunks."""

    def __init__(self, completion_id: str, model: str, created: int, call: ChatCall) -> None:
        self.id = completion_id
        self.model = model
        self.created = created
        self.call = call
        self.calling: str | None = None  # the recipient of the call being streamed
        self.called = False

    def _envelope(self, kind: str) -> dict[str, Any]:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model, "system_fingerprint": None}

    def whole(self, events: list[object]) -> Response:
        reasoning, text = [], []
        calls = []
        for event in events:
            if isinstance(event, ApiError):
                raise event
            if isinstance(event, Failed):
                raise server_error(event)
            if isinstance(event, ReasoningDelta):
                reasoning.append(event.text)
            elif isinstance(event, AnswerDelta):
                text.append(event.text)
            elif isinstance(event, ToolCall) and (name := self.call.tools.declared(event.recipient)):
                function = {"name": name, "arguments": event.arguments}
                calls.append({"id": call_id(), "type": "function", "function": function})
            elif isinstance(event, Done) and event.stop_reason == "cancelled":
                return Response(status_code=499)  # the client left: nobody reads this
        done = events[-1]
        assert isinstance(done, Done)
        message: dict[str, Any] = {"role": "assistant", "content": "".join(text) or None, "refusal": None}
        if not calls:
            message["content"] = message["content"] or ""
        else:
            message["tool_calls"] = calls
        if reasoning:
            message["reasoning_content"] = message["reasoning"] = "".join(reasoning)
        finish = "tool_calls" if calls else FINISH_REASONS[done.stop_reason]
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
        body = {**self._envelope("chat.completion"), "choices": [choice], "usage": usage(done.stats)}
        return JSONResponse(body)

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        body = {**self._envelope("chat.completion.chunk"), "choices": [choice]}
        if self.call.include_usage:
            body["usage"] = None
        return _sse(body)

    async def stream(self, job: RunningJob, first: list[object]) -> AsyncIterator[bytes]:
        """Chunks as the events come: one per kind of text in a batch, so a slow reader gets fewer, longer ones."""
        try:
            yield self._chunk({"role": "assistant", "content": ""})
            events = first
            while True:
                for chunk in self._chunks(events):
                    yield chunk
                if job.ended:
                    break
                events = await job.next_batch()
            yield b"data: [DONE]\n\n"
        finally:
            job.cancel()  # a client that disconnected: stop generating (no effect once it ended)

    def _chunks(self, events: list[object]) -> list[bytes]:
        chunks = []
        pending_kind: type | None = None
        pending: list[str] = []

        def flush() -> None:
            if pending:
                text = "".join(pending)
                delta = (
                    {"content": text} if pending_kind is AnswerDelta else {"reasoning_content": text, "reasoning": text}
                )
                chunks.append(self._chunk(delta))
                pending.clear()

        for event in events:
            if isinstance(event, ChannelDelta) and (name := self.call.tools.declared(event.recipient)):
                flush()
                chunks.append(self._chunk({"tool_calls": [self._call_delta(event, name)]}))
            elif isinstance(event, ToolCall) and self.call.tools.declared(event.recipient):
                self.called = True
            elif isinstance(event, ReasoningDelta | AnswerDelta):
                if type(event) is not pending_kind:
                    flush()
                    pending_kind = type(event)
                pending.append(event.text)
            elif isinstance(event, Done):
                flush()
                if event.stop_reason != "cancelled":
                    chunks.append(self._chunk({}, "tool_calls" if self.called else FINISH_REASONS[event.stop_reason]))
                    if self.call.include_usage:
                        chunks.append(
                            _sse(
                                {**self._envelope("chat.completion.chunk"), "choices": [], "usage": usage(event.stats)}
                            )
                        )
            elif isinstance(event, Failed | ApiError):
                flush()
                error = event if isinstance(event, ApiError) else server_error(event)
                chunks.append(_sse(error.body()))
        flush()
        return chunks

    def _call_delta(self, delta: ChannelDelta, name: str) -> dict[str, Any]:
        """The first piece of a call names it; the next ones carry more of its arguments."""
        if self.calling == delta.recipient:
            return {"index": 0, "function": {"arguments": delta.text}}
        self.calling = delta.recipient
        return {"index": 0, "id": call_id(), "type": "function", "function": {"name": name, "arguments": delta.text}}


def _sse(body: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"
