"""A Responses API reply built from the engine's events: its output items (reasoning, message,
function call) as they grow, the streaming events that tell a client about them, and the whole."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from ..events import AnswerDelta, ChannelDelta, Done, Failed, ReasoningDelta, Stats, ToolCall
from ..harmony import Message
from .chat import server_error
from .errors import ApiError
from .response_store import Thread
from .responses_request import ResponseCall
from .tools import call_id, call_messages


@dataclass
class _Item:
    kind: str  # reasoning | message | function_call
    id: str
    text: list[str] = field(default_factory=list)
    name: str = ""
    call_id: str = ""
    status: str = "in_progress"

    def json(self) -> dict[str, Any]:
        text = "".join(self.text)
        done = self.status != "in_progress"
        if self.kind == "reasoning":
            content = [{"type": "reasoning_text", "text": text}] if done else []
            return {"type": "reasoning", "id": self.id, "summary": [], "content": content, "status": self.status}
        if self.kind == "message":
            parts = [_output_text(text)] if done else []
            return {"type": "message", "id": self.id, "role": "assistant", "status": self.status, "content": parts}
        return {
            "type": "function_call",
            "id": self.id,
            "call_id": self.call_id,
            "name": self.name,
            "arguments": text,
            "status": self.status,
        }


def _output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


class ResponseBuilder:
    """Feed it the job's events; it answers each with the server-sent events a streaming client gets."""

    def __init__(self, call: ResponseCall, model: str) -> None:
        self.call = call
        self.model = model
        self.id = f"resp_{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.items: list[_Item] = []
        self.open: _Item | None = None
        self.done: Done | None = None
        self.failed: ApiError | None = None
        self.sequence = 0

    @property
    def cancelled(self) -> bool:
        return self.done is not None and self.done.stop_reason == "cancelled"

    def feed(self, event: object) -> list[bytes]:
        if isinstance(event, ReasoningDelta | AnswerDelta) and event.text:
            kind = "reasoning" if isinstance(event, ReasoningDelta) else "message"
            chunks = self._open(kind)
            assert self.open is not None
            self.open.text.append(event.text)
            ids = self._ids(self.open)
            delta = "response.reasoning_text.delta" if kind == "reasoning" else "response.output_text.delta"
            extra: dict[str, Any] = {} if kind == "reasoning" else {"logprobs": []}
            return [*chunks, self.event(delta, **ids, delta=event.text, **extra)]
        if isinstance(event, ChannelDelta) and (name := self.call.tools.declared(event.recipient)):
            chunks = self._open("function_call", name)
            assert self.open is not None
            self.open.text.append(event.text)
            item = {"item_id": self.open.id, "output_index": self.items.index(self.open)}
            return [*chunks, self.event("response.function_call_arguments.delta", **item, delta=event.text)]
        if isinstance(event, ToolCall) and (name := self.call.tools.declared(event.recipient)):
            chunks = self._open("function_call", name)
            assert self.open is not None
            self.open.text = [event.arguments]
            return chunks + self._close()
        if isinstance(event, Done):
            return self._finish(event)
        if isinstance(event, Failed | ApiError):
            self.failed = event if isinstance(event, ApiError) else server_error(event)
            self.done = Done("failed", Stats())
            return [self.event("response.failed", response=self.response())]
        return []

    def _finish(self, done: Done) -> list[bytes]:
        self.done = done
        if done.stop_reason == "cancelled":
            return []
        status = "incomplete" if done.stop_reason == "length" else "completed"
        chunks = self._close(status)
        if not any(item.kind != "reasoning" for item in self.items):
            chunks += self._open("message") + self._close(status)  # an empty answer still has its message
        kind = "response.incomplete" if status == "incomplete" else "response.completed"
        return [*chunks, self.event(kind, response=self.response())]

    def _open(self, kind: str, name: str = "") -> list[bytes]:
        if self.open is not None and self.open.kind == kind and self.open.name == name:
            return []
        chunks = self._close()
        prefix = {"reasoning": "rs", "message": "msg", "function_call": "fc"}[kind]
        item = _Item(kind, f"{prefix}_{uuid.uuid4().hex}", name=name, call_id=call_id() if name else "")
        self.items.append(item)
        self.open = item
        chunks.append(self.event("response.output_item.added", output_index=len(self.items) - 1, item=item.json()))
        if kind != "function_call":
            part = {"type": "reasoning_text", "text": ""} if kind == "reasoning" else _output_text("")
            chunks.append(self.event("response.content_part.added", **self._ids(item), part=part))
        return chunks

    def _close(self, status: str = "completed") -> list[bytes]:
        item, self.open = self.open, None
        if item is None:
            return []
        item.status = status if item.kind == "message" else "completed"
        index, text = self.items.index(item), "".join(item.text)
        if item.kind == "function_call":
            done = self.event(
                "response.function_call_arguments.done",
                item_id=item.id,
                output_index=index,
                arguments=text,
                name=item.name,
            )
            return [done, self.event("response.output_item.done", output_index=index, item=item.json())]
        if item.kind == "reasoning":
            part: dict[str, Any] = {"type": "reasoning_text", "text": text}
            finished = self.event("response.reasoning_text.done", **self._ids(item), text=text)
        else:
            part = _output_text(text)
            finished = self.event("response.output_text.done", **self._ids(item), text=text, logprobs=[])
        return [
            finished,
            self.event("response.content_part.done", **self._ids(item), part=part),
            self.event("response.output_item.done", output_index=index, item=item.json()),
        ]

    def _ids(self, item: _Item) -> dict[str, Any]:
        return {"item_id": item.id, "output_index": self.items.index(item), "content_index": 0}

    def event(self, kind: str, **fields: Any) -> bytes:
        self.sequence += 1
        body = {"type": kind, "sequence_number": self.sequence, **fields}
        return f"event: {kind}\ndata: {json.dumps(body, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()

    def response(self) -> dict[str, Any]:
        """The response object as it stands."""
        call, done = self.call, self.done
        finished = done is not None and self.failed is None
        incomplete = finished and done is not None and done.stop_reason == "length"
        status = "failed" if self.failed else "incomplete" if incomplete else "completed" if finished else "in_progress"
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
            "created_at": self.created,
            "status": status,
            "error": self.failed.body()["error"] if self.failed else None,
            "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
            "instructions": call.instructions,
            "max_output_tokens": call.sampling.max_tokens,
            "model": self.model,
            "output": [item.json() for item in self.items] if finished else [],
            "parallel_tool_calls": False,
            "previous_response_id": call.previous_id,
            "reasoning": {"effort": call.effort, "summary": None},
            "store": call.store,
            "temperature": call.sampling.temperature,
            "text": {"format": call.text_format},
            "tool_choice": call.body.get("tool_choice") or "auto",
            "tools": call.body.get("tools") or [],
            "top_p": call.sampling.top_p,
            "truncation": "disabled",
            "usage": usage,
            "user": None,
            "metadata": call.body.get("metadata") or {},
        }

    def thread(self) -> Thread:
        """The conversation once this reply is added (what a later previous_response_id continues)."""

        def text(kind: str) -> str:
            return "".join("".join(i.text) for i in self.items if i.kind == kind)

        calls = [item for item in self.items if item.kind == "function_call"]
        if not calls:
            return self.call.thread([Message("assistant", text("message"), text("reasoning"))], {})
        made = call_messages(text("reasoning"), text("message"), [(c.name, "".join(c.text)) for c in calls])
        return self.call.thread(made, {c.call_id: c.name for c in calls})
