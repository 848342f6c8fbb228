"""A streaming harmony parser: control tokens and text pieces in, typed events out.

It is fed what the model writes after ``<|start|>assistant``, one piece at a time,
and never lets a control token through as text. It tolerates what real models and
cut-off streams produce: pieces that split a UTF-8 character, unknown channels, a
missing ``<|message|>``, text before the first channel, and a stream that just stops.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from ..events import AnswerDelta, ChannelDelta, MessageEnded, ParserEvent, ReasoningDelta
from . import tokens as t

#: A header longer than this without <|message|> is taken to be content.
MAX_HEADER_BYTES = 64
_CHANNEL_WORD = re.compile(r"\s*([A-Za-z_][\w.-]*)")
_RECIPIENT = re.compile(r"to=([^\s<]+)")
_ROLE_WORD = re.compile(r"\s*(assistant|system|developer|user)\b")
_SPECIAL_TEXT = re.compile(r"<\|[A-Za-z0-9_]+\|>")


@dataclass(frozen=True)
class ParsedMessage:
    """A finished message: its channel, its recipient (tool calls), its text."""

    channel: str
    recipient: str | None
    content: str


class HarmonyStreamParser:
    """Turns the pieces of a completion into reasoning / answer / other-channel events."""

    def __init__(self) -> None:
        self.messages: list[ParsedMessage] = []
        self.stop_token: str | None = None
        self._state = "header"  # header | content | between
        self._header = ""
        self._header_bytes = bytearray()
        self._channel = "final"
        self._recipient: str | None = None
        self._content: list[str] = []
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    @property
    def channel(self) -> str | None:
        """The channel whose content is being written now, or None between messages."""
        return self._channel if self._state == "content" else None

    @property
    def done(self) -> bool:
        """True once <|return|> or <|call|> ended the completion."""
        return self.stop_token is not None

    def feed_special(self, name: str) -> list[ParserEvent]:
        """Feed a control token (by its text)."""
        if self.done:
            return []
        events: list[ParserEvent] = []
        if name == t.START:
            events += self._close()
            self._begin_header("")
        elif name == t.CONSTRAIN and self._state == "content":
            pass  # only meaningful in a header
        elif name in (t.CHANNEL, t.CONSTRAIN):
            if self._state == "content":
                events += self._close()
            if self._state == "between":
                self._begin_header("")
            self._flush_header_bytes()
            self._header += name
        elif name == t.MESSAGE:
            if self._state == "between":
                self._begin_header("")
            if self._state == "header":
                self._flush_header_bytes()
                self._open(self._header, content="")
        elif name in (t.END, t.RETURN, t.CALL):
            events += self._close()
            self._state = "between"
            if name != t.END:
                self.stop_token = name
        # Anything else (<|endoftext|>, reserved tokens) is dropped, never shown.
        return events

    def feed_text(self, data: bytes) -> list[ParserEvent]:
        """Feed the bytes of an ordinary token; they may end inside a UTF-8 character."""
        if self.done or not data:
            return []
        if self._state == "between":
            self._begin_header("")
        if self._state == "header":
            self._header_bytes += data
            if len(self._header_bytes) + len(self._header) <= MAX_HEADER_BYTES:
                return []
            # No <|message|> came: what we took for a header is content.
            self._flush_header_bytes()
            header, content = _split_overlong_header(self._header)
            self._open(header, content="")
            return self._emit(content)
        return self._emit(self._decoder.decode(data))

    def finish(self) -> list[ParserEvent]:
        """The stream ended (or was cut off): flush what is pending."""
        if self.done:
            return []
        return self._close()

    def _begin_header(self, text: str) -> None:
        self._state = "header"
        self._header = text
        self._header_bytes.clear()
        self._decoder.reset()

    def _flush_header_bytes(self) -> None:
        # Incremental: a character split where the header turns into content stays whole.
        self._header += self._decoder.decode(bytes(self._header_bytes))
        self._header_bytes.clear()

    def _open(self, header: str, content: str) -> None:
        self._channel, self._recipient = _parse_header(header)
        self._state = "content"
        self._content = [content] if content else []

    def _close(self) -> list[ParserEvent]:
        events: list[ParserEvent] = []
        if self._state == "header":
            self._flush_header_bytes()
            header, content = _split_overlong_header(self._header)
            if not content:
                self._state = "between"
                return []
            # A header cut short by <|end|> or the stream's end: keep its text.
            self._open(header, content="")
            events += self._emit(content)
        if self._state != "content":
            return events
        events += self._emit(self._decoder.decode(b"", final=True))
        message = ParsedMessage(self._channel, self._recipient, "".join(self._content))
        self.messages.append(message)
        events.append(MessageEnded(message.channel, message.recipient, message.content))
        self._state = "between"
        return events

    def _emit(self, text: str) -> list[ParserEvent]:
        if not text:
            return []
        self._content.append(text)
        if self._recipient is None and self._channel == "analysis":
            return [ReasoningDelta(text)]
        if self._recipient is None and self._channel == "final":
            return [AnswerDelta(text)]
        return [ChannelDelta(self._channel, self._recipient, text)]


def _parse_header(header: str) -> tuple[str, str | None]:
    """Channel and recipient of a header such as ``assistant to=functions.f<|channel|>commentary json``."""
    channel = "final"
    if t.CHANNEL in header:
        after = header.split(t.CHANNEL, 1)[1].split(t.CONSTRAIN, 1)[0]
        match = _CHANNEL_WORD.match(after)
        if match:
            channel = match.group(1)
    recipient = _RECIPIENT.search(header)
    return channel, recipient.group(1) if recipient else None


def _split_overlong_header(header: str) -> tuple[str, str]:
    """Split a header that never got its <|message|> into (header, content)."""
    if t.CHANNEL in header:
        before, after = header.split(t.CHANNEL, 1)
        after = after.split(t.CONSTRAIN, 1)[0]
        match = _CHANNEL_WORD.match(after)
        if match:
            return before + t.CHANNEL + match.group(1), after[match.end() :].lstrip(" ")
        return before + t.CHANNEL, after
    # No channel at all: drop a leading role word and recipient, keep the rest as content.
    text = header.split(t.CONSTRAIN, 1)[0]
    role = _ROLE_WORD.match(text)
    if role:
        text = text[role.end() :]
    if text.lstrip().startswith("to="):
        text = _RECIPIENT.sub("", text, count=1)
    return "", text if text.strip() else ""


def split_spelled_out(text: str) -> list[tuple[bool, str]]:
    """Split raw completion text into (is_special, piece) with control tokens spelled out."""
    pieces: list[tuple[bool, str]] = []
    position = 0
    for match in _SPECIAL_TEXT.finditer(text):
        if match.start() > position:
            pieces.append((False, text[position : match.start()]))
        pieces.append((True, match.group(0)))
        position = match.end()
    if position < len(text):
        pieces.append((False, text[position:]))
    return pieces
