"""Chat completion chunks into the engine's typed events, whichever way the server sends reasoning.

Servers return gpt-oss's reasoning in one of three ways: a separate delta field
(`reasoning_content`: llama-server, vLLM; `reasoning`: Ollama, LM Studio), or not at all,
leaving the raw harmony text in `content` (llama-cpp-python's server, llama-server with
`--reasoning-format none`). Content is watched for harmony's control strings: from the
first one on it goes through our own streaming parser, so no `<|channel|>` reaches the screen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..events import AnswerDelta, MessageEnded, ParserEvent, ReasoningDelta, ToolCall
from ..harmony import HarmonyStreamParser, split_spelled_out
from .tool_messages import recipient_of

REASONING_FIELDS = ("reasoning_content", "reasoning")
_HARMONY = re.compile(r"<\|(?:start|end|message|channel|constrain|return|call)\|>")
#: The longest control string held back in case the next chunk finishes it.
_LONGEST_CONTROL = len("<|constrain|>")


@dataclass
class Counts:
    """What came back: chunks with text (one token each on llama.cpp servers), those with reasoning."""

    chunks: int = 0
    reasoning_chunks: int = 0


class DeltaReader:
    """Fed the `delta` objects of one streamed reply; returns the events each one gives."""

    def __init__(self, tools: frozenset[str] = frozenset()) -> None:
        """`tools`: the recipients the request declared (a call to another is reported undeclared)."""
        self.counts = Counts()
        self.reasoning_field: str | None = None  # which field carried reasoning, once seen
        self._tools = tools
        self._parser: HarmonyStreamParser | None = None
        self._pending = ""  # content that may end inside a control string
        self._calls: dict[int, dict[str, str]] = {}  # `tool_calls` deltas by index: name and arguments so far

    @property
    def raw_harmony(self) -> bool:
        """True once the content turned out to be raw harmony text."""
        return self._parser is not None

    def feed(self, delta: dict[str, object]) -> list[ParserEvent]:
        """The events for one chunk's delta."""
        events: list[ParserEvent] = []
        for field in REASONING_FIELDS:
            text = delta.get(field)
            if isinstance(text, str) and text:
                self.reasoning_field = self.reasoning_field or field
                events.append(ReasoningDelta(text))
                break
        content = delta.get("content")
        if isinstance(content, str) and content:
            events += self._content(self._pending + content, final=False)
        calls = delta.get("tool_calls")
        if isinstance(calls, list) and calls:
            self._collect(calls)
            self.counts.chunks += 1
        # A token whose text is held back or empty (a control token) still comes as a chunk with
        # content ""; the chunk that only announces the role does not count.
        if events or (isinstance(content, str) and not (content == "" and "role" in delta)):
            self.counts.chunks += 1
        if any(isinstance(e, ReasoningDelta) for e in events):
            self.counts.reasoning_chunks += 1
        return events

    def finish(self) -> list[ParserEvent]:
        """The stream ended: what was held back, the parser's last message, and a tool call if one came
        (the first: one call at a time, as gpt-oss makes them)."""
        events = self._content(self._pending, final=True) if self._pending else []
        if self._parser is not None:
            events += self._parser.finish()
        if self._calls:
            call = self._calls[min(self._calls)]
            self._calls.clear()
            recipient, arguments, channel = recipient_of(call["name"], call["arguments"])
            kind = "code" if channel == "analysis" else "json"
            events.append(MessageEnded(channel, recipient, arguments, kind))
            events.append(ToolCall(recipient, channel, kind, arguments, declared=recipient in self._tools))
        return events

    def _collect(self, calls: list[object]) -> None:
        """Add one chunk's `tool_calls` pieces: a name comes once, arguments in pieces."""
        for piece in calls:
            if not isinstance(piece, dict):
                continue
            index = piece.get("index", 0)
            call = self._calls.setdefault(index if isinstance(index, int) else 0, {"name": "", "arguments": ""})
            function = piece.get("function")
            if isinstance(function, dict):
                if isinstance(function.get("name"), str):
                    call["name"] = call["name"] or function["name"]
                if isinstance(function.get("arguments"), str):
                    call["arguments"] += function["arguments"]

    def _content(self, text: str, final: bool) -> list[ParserEvent]:
        cut = len(text) if final else _safe_end(text)
        text, self._pending = text[:cut], text[cut:]
        if self._parser is None:
            found = _HARMONY.search(text)
            if found is None:
                return [AnswerDelta(text)] if text else []
            # Harmony from here on; what came before it had no header, so it was shown as it came.
            before, text = text[: found.start()], text[found.start() :]
            self._parser = HarmonyStreamParser(self._tools)
            events: list[ParserEvent] = [AnswerDelta(before)] if before.strip() else []
            return events + self._harmony(text)
        return self._harmony(text)

    def _harmony(self, text: str) -> list[ParserEvent]:
        assert self._parser is not None
        events: list[ParserEvent] = []
        for is_special, piece in split_spelled_out(text):
            if is_special:
                events += self._parser.feed_special(piece)
            else:
                events += self._parser.feed_text(piece.encode("utf-8"))
        return events


def _safe_end(text: str) -> int:
    """Where text can be cut without splitting a control string that the next chunk may finish."""
    start = text.rfind("<", max(0, len(text) - _LONGEST_CONTROL))
    if start == -1 or ">" in text[start:]:
        return len(text)
    return start if re.fullmatch(r"<(\|[a-z]*\|?)?", text[start:]) else len(text)
