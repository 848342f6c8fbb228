"""POST /v1/responses (and GET, DELETE by id): reasoning items, the message, streaming events, and
previous_response_id backed by the app's database.

The database is read and written on the event loop itself: a row is a few milliseconds, and a
worker thread per call would outlive the request (anyio keeps its threads for a while).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ..events import AnswerDelta, Done, Failed, ReasoningDelta, Stats
from .chat import SSE_HEADERS, server_error
from .errors import ApiError
from .fields import parse_body, string
from .jobs import RunningJob, answer
from .models import ServedModel
from .response_store import ResponseStore
from .responses_request import ResponseCall, parse_response_call


def _store(request: Request) -> ResponseStore | None:
    store: ResponseStore | None = request.app.state.responses
    return store


async def create_response(request: Request) -> Response:
    served: ServedModel = request.app.state.served
    body = parse_body(await request.body())
    previous_id = string(body, "previous_response_id")
    previous = None
    if previous_id is not None:
        store = _store(request)
        previous = store.thread(previous_id) if store else None
        if previous is None:
            raise ApiError(
                400,
                f"Previous response with id '{previous_id}' not found.",
                param="previous_response_id",
                code="previous_response_not_found",
            )
    call = parse_response_call(body, previous)
    model = served.check(call.model)
    job = RunningJob(served.runner, answer(call.request()))
    reply = _Reply(call, model.id, _store(request))
    async with job.watching(request):
        first = await job.next_batch()
        if not call.stream:
            events = first
            while not job.ended:
                events += await job.next_batch()
            for event in events:
                reply.take(event)
            if reply.cancelled:
                return Response(status_code=499)
            await reply.keep()
            return JSONResponse(reply.response())
    refused = next((e for e in first if isinstance(e, ApiError)), None)
    if refused is not None:
        raise refused
    return StreamingResponse(reply.stream(job, first), media_type="text/event-stream", headers=SSE_HEADERS)


async def get_response(request: Request) -> Response:
    store = _store(request)
    response_id = request.path_params["response_id"]
    found = store.response(response_id) if store else None
    if found is None:
        raise ApiError(404, f"No response with id '{response_id}' was found.", code="not_found")
    return JSONResponse(found)


async def delete_response(request: Request) -> Response:
    store = _store(request)
    response_id = request.path_params["response_id"]
    deleted = store.delete(response_id) if store else False
    if not deleted:
        raise ApiError(404, f"No response with id '{response_id}' was found.", code="not_found")
    return JSONResponse({"id": response_id, "object": "response", "deleted": True})


class _Reply:
    """One response: its output items as they grow, the events that tell a streaming client, the whole."""

    def __init__(self, call: ResponseCall, model: str, store: ResponseStore | None) -> None:
        self.call = call
        self.model = model
        self.store = store if call.store else None
        self.id = f"resp_{uuid.uuid4().hex}"
        self.created = time.time()
        self.reasoning_id = f"rs_{uuid.uuid4().hex}"
        self.message_id = f"msg_{uuid.uuid4().hex}"
        self.reasoning: list[str] = []
        self.text: list[str] = []
        self.done: Done | None = None
        self.failed: ApiError | None = None
        self.cancelled = False
        self.sequence = 0
        self.open: str | None = None  # "reasoning" | "message" while its item streams

    def take(self, event: object) -> None:
        if isinstance(event, ApiError):
            raise event
        if isinstance(event, Failed):
            raise server_error(event)
        if isinstance(event, ReasoningDelta):
            self.reasoning.append(event.text)
        elif isinstance(event, AnswerDelta):
            self.text.append(event.text)
        elif isinstance(event, Done):
            self.cancelled = event.stop_reason == "cancelled"
            self.done = event

    def _reasoning_item(self, status: str) -> dict[str, Any]:
        text = "".join(self.reasoning)
        return {
            "type": "reasoning",
            "id": self.reasoning_id,
            "summary": [],
            "content": [{"type": "reasoning_text", "text": text}] if status == "completed" else [],
            "status": status,
        }

    def _message_item(self, status: str) -> dict[str, Any]:
        content = [{"type": "output_text", "text": "".join(self.text), "annotations": [], "logprobs": []}]
        return {
            "type": "message",
            "id": self.message_id,
            "role": "assistant",
            "status": status,
            "content": content if status != "in_progress" else [],
        }

    def response(self) -> dict[str, Any]:
        """The response object as it stands."""
        call, done = self.call, self.done
        finished = done is not None and self.failed is None
        incomplete = finished and done is not None and done.stop_reason == "length"
        status = "failed" if self.failed else "incomplete" if incomplete else "completed" if finished else "in_progress"
        output: list[dict[str, Any]] = []
        if finished:
            if self.reasoning:
                output.append(self._reasoning_item("completed"))
            output.append(self._message_item("incomplete" if incomplete else "completed"))
        usage = None
        if done is not None and finished:
            stats = done.stats
            usage = {
                "input_tokens": stats.prompt_tokens,
                "input_tokens_details": {"cached_tokens": max(stats.prompt_tokens - stats.prompt_tokens_evaluated, 0)},
                "output_tokens": stats.completion_tokens,
                "output_tokens_details": {"reasoning_tokens": stats.reasoning_tokens},
                "total_tokens": stats.prompt_tokens + stats.completion_tokens,
            }
        return {
            "id": self.id,
            "object": "response",
            "created_at": int(self.created),
            "status": status,
            "error": self.failed.body()["error"] if self.failed else None,
            "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
            "instructions": call.instructions,
            "max_output_tokens": call.sampling.max_tokens,
            "model": self.model,
            "output": output,
            "parallel_tool_calls": False,
            "previous_response_id": call.previous_id,
            "reasoning": {"effort": call.effort, "summary": None},
            "store": call.store,
            "temperature": call.sampling.temperature,
            "text": {"format": call.text_format},
            "tool_choice": "auto",
            "tools": [],
            "top_p": call.sampling.top_p,
            "truncation": "disabled",
            "usage": usage,
            "user": None,
            "metadata": call.body.get("metadata") or {},
        }

    async def keep(self) -> None:
        """Store the finished reply (unless store=false) for previous_response_id and GET."""
        if self.store is not None and self.done is not None and not self.failed:
            thread = self.call.thread_with("".join(self.text), "".join(self.reasoning))
            self.store.save(self.response(), thread)

    def _event(self, kind: str, **fields: Any) -> bytes:
        self.sequence += 1
        body = {"type": kind, "sequence_number": self.sequence, **fields}
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        return f"event: {kind}\ndata: {data}\n\n".encode()

    def _open_item(self, kind: str) -> list[bytes]:
        """Close the item streaming now (if another) and open one of `kind`."""
        if self.open == kind:
            return []
        chunks = self._close_item()
        self.open = kind
        index = 1 if kind == "message" and self.reasoning else 0
        item = self._reasoning_item("in_progress") if kind == "reasoning" else self._message_item("in_progress")
        item_id = item["id"]
        part = (
            {"type": "reasoning_text", "text": ""}
            if kind == "reasoning"
            else {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        )
        chunks.append(self._event("response.output_item.added", output_index=index, item=item))
        chunks.append(
            self._event("response.content_part.added", item_id=item_id, output_index=index, content_index=0, part=part)
        )
        return chunks

    def _close_item(self, status: str = "completed") -> list[bytes]:
        if self.open is None:
            return []
        kind, self.open = self.open, None
        if kind == "reasoning":
            text, item = "".join(self.reasoning), self._reasoning_item("completed")
            done = "response.reasoning_text.done"
            part: dict[str, Any] = {"type": "reasoning_text", "text": text}
            extra: dict[str, Any] = {}
            index = 0
        else:
            text, item = "".join(self.text), self._message_item(status)
            done, part = (
                "response.output_text.done",
                {"type": "output_text", "text": text, "annotations": [], "logprobs": []},
            )
            extra = {"logprobs": []}
            index = 1 if self.reasoning else 0
        ids = {"item_id": item["id"], "output_index": index, "content_index": 0}
        return [
            self._event(done, **ids, text=text, **extra),
            self._event("response.content_part.done", **ids, part=part),
            self._event("response.output_item.done", output_index=index, item=item),
        ]

    def _chunks(self, events: list[object]) -> list[bytes]:
        chunks: list[bytes] = []
        for event in events:
            if isinstance(event, ReasoningDelta) and event.text:
                chunks += self._open_item("reasoning")
                self.reasoning.append(event.text)
                ids = {"item_id": self.reasoning_id, "output_index": 0, "content_index": 0}
                chunks.append(self._event("response.reasoning_text.delta", **ids, delta=event.text))
            elif isinstance(event, AnswerDelta) and event.text:
                chunks += self._open_item("message")
                self.text.append(event.text)
                ids = {"item_id": self.message_id, "output_index": 1 if self.reasoning else 0, "content_index": 0}
                chunks.append(self._event("response.output_text.delta", **ids, delta=event.text, logprobs=[]))
            elif isinstance(event, Done):
                self.done = event
                if event.stop_reason == "cancelled":
                    self.cancelled = True
                    continue
                if not self.text:
                    chunks += self._open_item("message")  # an empty answer still gets its message item
                chunks += self._close_item("incomplete" if event.stop_reason == "length" else "completed")
                kind = "response.incomplete" if event.stop_reason == "length" else "response.completed"
                chunks.append(self._event(kind, response=self.response()))
            elif isinstance(event, Failed | ApiError):
                self.failed = event if isinstance(event, ApiError) else server_error(event)
                self.done = Done("failed", Stats())
                chunks.append(self._event("response.failed", response=self.response()))
        return chunks

    async def stream(self, job: RunningJob, first: list[object]) -> AsyncIterator[bytes]:
        try:
            started = self.response()
            yield self._event("response.created", response=started)
            yield self._event("response.in_progress", response=started)
            events = first
            while True:
                for chunk in self._chunks(events):
                    yield chunk
                if job.ended:
                    break
                events = await job.next_batch()
            if not self.cancelled:
                await self.keep()
        finally:
            job.cancel()
