"""The server engine: gpt-oss (or any model) on an OpenAI-compatible server, behind the local engine's interface.

`generate(request, cancel)` yields the same typed events as LocalEngine: reasoning apart
from the answer whichever way the server returns it, ContextTrimmed, then Done with Stats,
or Failed with a sentence for people. Stop (the CancelFlag) cuts the connection at once,
even while the server has not sent its first byte. Not thread-safe: one caller at a time,
on any thread; cancel from any other.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from ..cancel import CancelFlag
from ..context_window import fit_window, reply_reserve
from ..events import ContextTrimmed, EngineEvent, Failed
from ..harmony import Conversation, system_content
from .bounded import BadReplyError, parse_json, read_body
from .exchange import Exchange, Reply
from .models import (
    EFFORT_HONOURED,
    ModelChoiceError,
    ServerKind,
    ServerModel,
    ServerProps,
    choose_model,
    parse_models,
    parse_props,
    server_kind,
)
from .server_errors import (
    ServerUnavailableError,
    moved_message,
    redact,
    sentence,
    status_message,
    transport_message,
)
from .server_url import BadServerAddressError, normalize_base_url, where_it_runs
from .token_count import TokenCounter
from .tool_messages import chat_messages, tool_declarations
from .transport import cut_on_cancel, make_client

if TYPE_CHECKING:
    from ..engine import ChatRequest

#: What an HTTP header value may hold: an API key with anything else would be echoed in an error.
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")
#: Assumed when the server does not say (llama-cpp-python's server defaults to 2048: pass it).
DEFAULT_CONTEXT = 8192
#: Tokens of a message's framing in a chat template, and of a template's system header (not gpt-oss).
MESSAGE_OVERHEAD = 4
SYSTEM_OVERHEAD = 40


@dataclass(frozen=True)
class ServerModelInfo:
    """What the UI needs about the model on a server; the same fields as ModelInfo where they apply."""

    name: str
    architecture: str
    is_harmony: bool
    context_size: int
    base_url: str
    server_kind: ServerKind
    effort_honoured: bool | None
    context_known: bool

    @property
    def where(self) -> str:
        """Where conversations with it run, for the conversation to show."""
        return where_it_runs(self.base_url)

    @property
    def plan_message(self) -> str:
        """The line the window shows where a local model shows its memory plan."""
        context = "" if self.context_known else f"; context assumed {self.context_size:,} tokens"
        return f"runs {self.where}{context}"

    @property
    def effort_note(self) -> str:
        """Said when this server is known to ignore the reasoning effort; empty otherwise."""
        if self.is_harmony and self.effort_honoured is False:
            return (
                f"This server ({self.server_kind}) does not pass the reasoning effort to the model: "
                "every answer uses the server's own setting."
            )
        return ""


@dataclass(frozen=True)
class ServerTimeouts:
    """Seconds to connect; to wait for the next byte of an answer (a big model may read a long prompt
    for minutes); and for the quick requests (the model list, token counts)."""

    connect: float = 10.0
    read: float = 600.0
    quick: float = 30.0


class ServerEngine:
    """One model on one server, over one HTTP client. Connecting lists the server's models."""

    def __init__(
        self,
        base_url: str,
        *,
        model: str | None = None,
        api_key: str | None = None,
        context_size: int | None = None,
        ca_file: str | None = None,
        timeouts: ServerTimeouts = ServerTimeouts(),
        cancel: CancelFlag | None = None,
    ) -> None:
        """Connect and choose the model (`model`, else the first gpt-oss one); ServerUnavailableError says why not.

        Setting `cancel` cuts the connection while the server is being asked (Stop, closing the window).
        """
        try:
            self.base_url = normalize_base_url(base_url)
        except BadServerAddressError as exc:
            raise ServerUnavailableError(str(exc)) from exc
        self.server = f"the server at {urlsplit(self.base_url).netloc}"
        if api_key and not _HEADER_SAFE.fullmatch(api_key):
            raise ServerUnavailableError(
                "The API key holds a line break, a space or another character no API key has: copy it again."
            )
        self._api_key = api_key
        self._has_key = bool(api_key)
        self._idle_seconds = timeouts.read
        headers = {"Accept-Encoding": "gzip, deflate"}  # the two bounded.py inflates step by step
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        timeout = httpx.Timeout(timeouts.read, connect=timeouts.connect)
        self._quick = httpx.Timeout(timeouts.quick, connect=timeouts.connect)
        self._client, self._sockets = make_client(self.base_url, headers, timeout, ca_file)
        guard = cut_on_cancel(cancel, self._sockets) if cancel is not None else contextlib.nullcontext()
        try:
            with guard:
                models = self._models()
                chosen = choose_model(models, model, self.server)
                kind = server_kind(models)
                props = self._props() if kind == "llama-server" else ServerProps()
        except ModelChoiceError as exc:
            self.close()
            raise ServerUnavailableError(str(exc)) from exc
        except ServerUnavailableError as exc:
            self.close()
            raise ServerUnavailableError(redact(str(exc), api_key)) from None
        self.model: ServerModel = chosen
        self.models: tuple[ServerModel, ...] = tuple(models)  # everything the server offers, as it listed them
        effort_honoured = EFFORT_HONOURED[kind] if props.template_reads_effort is None else props.template_reads_effort
        known_context = context_size or props.context_size or chosen.context_size
        self.info = ServerModelInfo(
            name=chosen.id,
            architecture="gpt-oss" if chosen.looks_gpt_oss else "unknown",
            is_harmony=chosen.looks_gpt_oss,
            context_size=known_context or DEFAULT_CONTEXT,
            base_url=self.base_url,
            server_kind=kind,
            effort_honoured=effort_honoured,
            context_known=known_context is not None,
        )
        self._counter = TokenCounter(self._client, self.base_url, kind, chosen.id, self._quick)
        # llama-server reads effort from chat_template_kwargs; strict servers reject the unknown field.
        self._template_kwargs = kind in ("llama-server", "llama-cpp-python", "unknown")
        #: The server refused `tools` once (llama-server without --jinja): tools are not offered to it again.
        self.tools_refused = False

    def _models(self) -> list[ServerModel]:
        try:
            with self._client.stream("GET", "models", timeout=self._quick) as response:
                if response.is_redirect:
                    location = response.headers.get("Location", "")
                    moved = str(response.url.join(location)).removesuffix("/models") if location else ""
                    raise ServerUnavailableError(moved_message(self.server, moved))
                body = read_body(response, seconds=self._quick.read or 30.0)
        except httpx.TransportError as exc:
            raise ServerUnavailableError(transport_message(exc, self.server, answering=False)) from exc
        except BadReplyError as exc:
            raise ServerUnavailableError(sentence(f"{self.server} {exc}.")) from None
        if response.status_code >= 400:
            text = body.decode("utf-8", errors="replace")
            said = status_message(response.status_code, text, self.server, has_key=self._has_key)
            raise ServerUnavailableError(said)
        try:
            return parse_models(parse_json(body))
        except ValueError as exc:
            raise ServerUnavailableError(
                sentence(
                    f"{self.server} did not answer like an OpenAI-compatible server ({exc}). "
                    "Check the address: it usually ends in /v1."
                )
            ) from exc

    def _props(self) -> ServerProps:
        """llama-server's `/props` (beside /v1, not under it); unknown when it cannot be read."""
        url = self.base_url.removesuffix("/v1") + "/props"
        try:
            with self._client.stream("GET", url, timeout=self._quick) as response:
                if response.status_code != 200:
                    return ServerProps()
                return parse_props(parse_json(read_body(response, seconds=self._quick.read or 30.0)))
        except (httpx.TransportError, ValueError):  # BadReplyError is a ValueError
            return ServerProps()

    def count_text_tokens(self, text: str) -> int:
        """Tokens `text` takes: the server's count where it offers a tokenizer, else an estimate on the high side."""
        return self._counter.count(text)

    def count_prompt_tokens(self, conversation: Conversation) -> int:
        """Tokens the server's chat template makes of `conversation`: its texts counted, the template's
        framing estimated (for gpt-oss, the harmony system message as our renderer writes it)."""
        system = self.count_text_tokens(system_content(conversation)) if self.info.is_harmony else SYSTEM_OVERHEAD
        texts = [m.content for m in conversation.messages]
        if conversation.instructions:
            texts.append(f"# Instructions\n\n{conversation.instructions}")
        return system + sum(self.count_text_tokens(t) + MESSAGE_OVERHEAD for t in texts)

    def generate(self, request: ChatRequest, cancel: CancelFlag | None = None) -> Iterator[EngineEvent]:
        """Answer the last user message; Stop (`cancel`) ends it at once, keeping what arrived."""
        cancel = cancel or CancelFlag()
        if self._client.is_closed:
            yield Failed(sentence(f"{self.server} was disconnected from this conversation; connect again."))
            return
        n_ctx = self.info.context_size
        try:
            window = fit_window(
                request.conversation, self.count_prompt_tokens, n_ctx, reply_reserve(n_ctx, request.sampling.max_tokens)
            )
        except ValueError as exc:
            yield Failed(str(exc))
            return
        if window.dropped:
            yield ContextTrimmed(window.dropped, len(window.conversation.messages))
        body = self._body(window.conversation, request)
        reply = Reply(
            is_harmony=self.info.is_harmony,
            context_size=n_ctx,
            prompt_estimate=window.tokens,
            tools=window.conversation.tool_recipients(),
        )
        exchange = Exchange(self._client, self._sockets, self.server, self._api_key, self._idle_seconds)
        events = exchange.events(body, cancel, reply)
        refusable: list[str] = [name for name in ("chat_template_kwargs", "tools") if name in body]
        if refusable:
            events = self._without_fields_if_refused(events, exchange, body, refusable, cancel, reply)
        yield from events

    def _without_fields_if_refused(
        self,
        events: Iterator[EngineEvent],
        exchange: Exchange,
        body: dict[str, object],
        fields: list[str],
        cancel: CancelFlag,
        reply: Reply,
    ) -> Iterator[EngineEvent]:
        """A server that refuses `chat_template_kwargs` or `tools` (llama-server without --jinja) gets the
        request again without it, and is not sent it again: the answer comes without tools then."""
        for event in events:
            refused = [name for name in fields if isinstance(event, Failed) and exchange.refused_field(name)]
            if refused:
                self._template_kwargs = self._template_kwargs and "chat_template_kwargs" not in refused
                self.tools_refused = self.tools_refused or "tools" in refused
                retry = {k: v for k, v in body.items() if k not in refused}
                yield from exchange.events(retry, cancel, replace(reply, tools=frozenset()))
                return
            yield event

    def _body(self, conversation: Conversation, request: ChatRequest) -> dict[str, object]:
        """The chat completion request: history answers only (earlier reasoning is dropped, as gpt-oss's
        template does), developer instructions as the system message, effort the ways servers take it."""
        messages = chat_messages(conversation)
        sampling = request.sampling
        body: dict[str, object] = {
            "model": self.model.id,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
        }
        tools = tool_declarations(conversation)
        if tools and not self.tools_refused:
            body["tools"] = tools
        if sampling.max_tokens is not None:
            body["max_tokens"] = sampling.max_tokens
        if sampling.seed is not None:
            body["seed"] = sampling.seed
        if self.info.is_harmony:
            body["reasoning_effort"] = conversation.effort
            if self._template_kwargs:
                body["chat_template_kwargs"] = {"reasoning_effort": conversation.effort}
        return body

    def close(self) -> None:
        """Close the connections now."""
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()
