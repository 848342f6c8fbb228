"""One streamed chat completion: the request, the event stream, and how it ended.

What a person must never lose is kept: every delta is yielded as it arrives, and a
stream that breaks off, times out or turns to garbage ends in a Failed that says the
answer so far is incomplete. Stop shuts the socket (see transport.py) and ends in
Done("cancelled").
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import httpx

from ..cancel import CancelFlag
from ..events import AnswerDelta, Done, EngineEvent, Failed, Stats
from .bounded import BadReplyError, lines, parse_json, raw_decoded
from .deltas import DeltaReader
from .server_errors import error_text, moved_message, redact, sentence, server_said, status_message, transport_message
from .sse import DONE, event_data
from .transport import SocketRegistry, cut_on_cancel

#: The most of an error reply read to quote it.
ERROR_BODY_LIMIT = 16_384
_FINISH_REASONS = {"length": "length", "tool_calls": "call", "function_call": "call"}


@dataclass(frozen=True)
class Reply:
    """What the stats of a reply need from the engine."""

    is_harmony: bool
    context_size: int
    prompt_estimate: int
    tools: frozenset[str] = frozenset()  # the recipients the request declared


class Exchange:
    """Runs chat completion requests on a client and turns each stream into engine events."""

    def __init__(
        self,
        client: httpx.Client,
        sockets: SocketRegistry,
        server: str,
        api_key: str | None,
        idle_seconds: float = 600.0,
    ) -> None:
        self._client = client
        self._sockets = sockets
        self._server = server
        self._api_key = api_key
        self._idle_seconds = idle_seconds
        self._last_error = ""

    def refused_field(self, name: str) -> bool:
        """True when the last request was rejected for naming `name` (a strict server's 400 or 422)."""
        return name in self._last_error

    def events(self, body: dict[str, object], cancel: CancelFlag, reply: Reply) -> Iterator[EngineEvent]:
        """Send `body` and yield its reply's events; ends with Done or Failed (never quoting the API key)."""
        for event in self._events(body, cancel, reply):
            yield Failed(redact(event.message, self._api_key)) if isinstance(event, Failed) else event

    def _events(self, body: dict[str, object], cancel: CancelFlag, reply: Reply) -> Iterator[EngineEvent]:
        self._last_error = ""
        run = _Run(reply)
        if cancel.is_set():
            yield run.done("cancelled")
            return
        try:
            with (
                cut_on_cancel(cancel, self._sockets),
                self._client.stream("POST", "chat/completions", json=body) as response,
            ):
                if response.is_redirect:
                    location = response.headers.get("Location", "")
                    moved = str(response.url.join(location)).removesuffix("/chat/completions") if location else ""
                    yield Failed(moved_message(self._server, moved))
                    return
                if response.status_code >= 400:
                    text = _read_some(response)
                    self._last_error = f"{response.status_code} {text}"
                    has_key = bool(self._api_key)
                    yield Failed(status_message(response.status_code, text, self._server, has_key=has_key))
                    return
                yield from run.read(lines(response, self._idle_seconds), cancel, self._server)
        except BadReplyError as exc:
            yield from run.reader_finish()
            kept = "; what came before is kept" if run.reader.counts.chunks else ""
            yield Failed(sentence(f"{self._server} {exc}, so the answer was stopped{kept}."))
        except httpx.TransportError as exc:
            yield from run.reader_finish()
            if cancel.is_set():
                yield run.done("cancelled")
            else:
                yield Failed(transport_message(exc, self._server, answering=run.reader.counts.chunks > 0))


class _Run:
    """The reading of one reply and its bookkeeping."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.reader = DeltaReader(reply.tools)
        self.start = time.perf_counter()
        self.first_at: float | None = None
        self.answer_at: float | None = None
        self.usage: dict[str, object] = {}
        self._finished = False

    def read(self, lines: Iterator[str], cancel: CancelFlag, server: str) -> Iterator[EngineEvent]:
        finish_reason: str | None = None
        most = 2 * self.reply.context_size + 1000  # an answer never has more tokens than the context
        for data in event_data(lines):
            if cancel.is_set():
                break
            if self.reader.counts.chunks > most:
                raise BadReplyError(f"kept sending past the length of its context ({self.reply.context_size} tokens)")
            if data.strip() == DONE:
                finish_reason = finish_reason or "stop"
                break
            try:
                chunk = parse_json(data)
            except ValueError:
                yield from self.reader_finish()
                yield Failed(
                    sentence(
                        f'{server} sent an event that is not valid JSON ("{server_said(data)}"); '
                        "the answer stopped there and what came before is kept."
                    )
                )
                return
            if not isinstance(chunk, dict):
                continue
            if "error" in chunk:
                yield from self.reader_finish()
                said = error_text(chunk) or "no reason given"
                yield Failed(
                    sentence(f'{server} stopped the answer with an error: "{said}". What came before is kept.')
                )
                return
            if isinstance(chunk.get("usage"), dict):
                self.usage = chunk["usage"]
            for choice in chunk.get("choices") or ():
                if not isinstance(choice, dict):
                    continue
                delta = choice.get("delta")
                if isinstance(delta, dict):
                    yield from self._note(self.reader.feed(delta))
                if isinstance(choice.get("finish_reason"), str):
                    finish_reason = choice["finish_reason"]
        yield from self.reader_finish()
        if cancel.is_set():
            yield self.done("cancelled")
        elif finish_reason is None and not self.reader.counts.chunks:
            yield Failed(
                sentence(
                    f"{server} closed the answer before it began, without saying why: the conversation may be "
                    "longer than the server's context, or the server failed (its log says which)."
                )
            )
        elif finish_reason is None:
            yield Failed(f"The connection to {server} ended mid-answer; the answer so far is kept but incomplete.")
        elif finish_reason in _FINISH_REASONS:
            yield self.done(_FINISH_REASONS[finish_reason])
        else:
            yield self.done("return" if self.reply.is_harmony or self.reader.raw_harmony else "eos")

    def reader_finish(self) -> Iterator[EngineEvent]:
        """What the reader held back; once."""
        if not self._finished:
            self._finished = True
            yield from self._note(self.reader.finish())

    def _note(self, events: Sequence[EngineEvent]) -> Iterator[EngineEvent]:
        now = time.perf_counter()
        if self.first_at is None and self.reader.counts.chunks:
            self.first_at = now
        for event in events:
            if self.answer_at is None and isinstance(event, AnswerDelta):
                self.answer_at = now
            yield event

    def done(self, stop_reason: str) -> Done:
        end = time.perf_counter()
        first = self.first_at if self.first_at is not None else end
        counts = self.reader.counts
        completion = _int(self.usage.get("completion_tokens"), counts.chunks)
        details = self.usage.get("completion_tokens_details")
        reported = details.get("reasoning_tokens") if isinstance(details, dict) else None
        reasoning = _int(reported, counts.reasoning_chunks)
        prompt = _int(self.usage.get("prompt_tokens"), self.reply.prompt_estimate)
        return Done(
            stop_reason,
            Stats(
                prompt_tokens=prompt,
                prompt_tokens_evaluated=prompt,
                completion_tokens=completion,
                reasoning_tokens=reasoning,
                prefill_seconds=first - self.start,
                generation_seconds=end - first,
                reasoning_seconds=((self.answer_at or end) - first) if counts.reasoning_chunks else 0.0,
                context_size=self.reply.context_size,
            ),
        )


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default


def _read_some(response: httpx.Response) -> str:
    """The start of an error reply's body, decoded leniently."""
    data = b""
    try:
        for piece in raw_decoded(response):
            data += piece
            if len(data) >= ERROR_BODY_LIMIT:
                break
    except BadReplyError:
        pass
    return data[:ERROR_BODY_LIMIT].decode("utf-8", errors="replace")
