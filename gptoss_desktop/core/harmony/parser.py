"""A streaming harmony parser: control tokens and text pieces in, typed events out.

It is fed what the model writes after ``<|start|>assistant``, one piece at a time,
and never lets a control token through as text. It tolerates what real models and
cut-off streams produce: pieces that split a UTF-8 character, unknown channels, text
before the first channel, text with no header at all (shown as the answer), and a
stream that just stops. A call (a message to a tool, ended by ``<|call|>``) becomes a
ToolCall event; a header outside the grammar (see header.py) or a header that never
reaches ``<|message|>`` becomes a MalformedMessage event and none of its text is shown.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..events import (
    AnswerDelta,
    ChannelDelta,
    MalformedMessage,
    MessageEnded,
    ParserEvent,
    ReasoningDelta,
    ToolCall,
)
from . import tokens as t
from .conversation import Message
from .header import Header, classify_open_header, headerless_content, is_headerless, parse_header

_SPECIAL_TEXT = re.compile(r"<\|[A-Za-z0-9_]+\|>")


@dataclass(frozen=True)
class ParsedMessage:
    """A finished, well-formed message: its channel, recipient (tool calls), text and content type."""

    channel: str | None
    recipient: str | None
    content: str
    content_type: str | None = None

    def as_message(self) -> Message:
        """The message as it goes back into the prompt (a call keeps its ``<|call|>`` ending)."""
        return Message(
            "assistant", self.content, channel=self.channel, recipient=self.recipient, content_type=self.content_type
        )


class HarmonyStreamParser:
    """Turns the pieces of a completion into reasoning / answer / other-channel / tool events.

    `tools` are the recipients the conversation declared (`Conversation.tool_recipients()`);
    a call to any other name is reported with `declared=False`.
    """

    def __init__(self, tools: Iterable[str] = ()) -> None:
        self.tools = frozenset(tools)
        self.messages: list[ParsedMessage] = []
        self.malformed: list[MalformedMessage] = []
        self.call: ToolCall | None = None
        self.stop_token: str | None = None
        self._state = "header"  # header | content | malformed | between
        self._after_start = False
        self._header = ""
        self._header_bytes = bytearray()
        self._open_header = Header(None, None, None)
        self._content: list[str] = []
        self._problem = ""  # why the message being read is malformed
        self._in_content = False  # a malformed message is past its <|message|>
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    @property
    def channel(self) -> str | None:
        """The channel whose content is being written now, or None between messages."""
        return self._open_header.channel if self._state == "content" else None

    @property
    def recipient(self) -> str | None:
        """The tool the message being written is addressed to, if any."""
        return self._open_header.recipient if self._state == "content" else None

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
            events += self._close(None)
            self._begin_header(after_start=True)
        elif name in (t.CHANNEL, t.CONSTRAIN):
            if self._state == "content" or (self._state == "malformed" and self._in_content):
                if name == t.CONSTRAIN:
                    return []  # only meaningful in a header
                events += self._close(None)  # a channel mark starts a message of its own
            if self._state == "between":
                self._begin_header(after_start=False)
            self._flush_header_bytes()
            self._header += name
        elif name == t.MESSAGE:
            if self._state == "between":
                self._begin_header(after_start=False)
            if self._state == "header":
                self._flush_header_bytes()
                self._open(self._header)
            elif self._state == "malformed":
                self._flush_header_bytes()
                self._in_content = True
        elif name in (t.END, t.RETURN, t.CALL):
            events += self._close(name)
            if name != t.END:
                self.stop_token = name
        # Anything else (<|endoftext|>, reserved tokens) is dropped, never shown.
        return events

    def feed_text(self, data: bytes) -> list[ParserEvent]:
        """Feed the bytes of an ordinary token; they may end inside a UTF-8 character."""
        if self.done or not data:
            return []
        if self._state == "between":
            self._begin_header(after_start=False)
        if self._state == "content":
            return self._emit(self._decoder.decode(data))
        if self._state == "malformed":
            text = self._decoder.decode(data)
            if self._in_content:
                self._content.append(text)
            else:
                self._header += text
            return []
        self._header_bytes += data
        pending = bytes(self._header_bytes).decode("utf-8", errors="replace")
        size = len(self._header.encode("utf-8")) + len(self._header_bytes)
        verdict = classify_open_header(self._header + pending, size, self._after_start)
        if verdict == "header":
            return []
        self._flush_header_bytes()
        if verdict == "malformed":
            self._problem = "the header never reached <|message|>"
            self._state = "malformed"
            return []
        return self._open_headerless()

    def finish(self) -> list[ParserEvent]:
        """The stream ended (or was cut off): flush what is pending."""
        if self.done:
            return []
        return self._close(None)

    def _begin_header(self, after_start: bool) -> None:
        self._state = "header"
        self._after_start = after_start
        self._header = ""
        self._header_bytes.clear()
        self._content = []
        self._decoder.reset()

    def _flush_header_bytes(self) -> None:
        # Incremental: a character split where the header turns into content stays whole.
        self._header += self._decoder.decode(bytes(self._header_bytes))
        self._header_bytes.clear()

    def _open(self, header_text: str) -> None:
        header = parse_header(header_text, self._after_start)
        if isinstance(header, str):
            self._problem, self._state, self._in_content = header, "malformed", True
            return
        self._open_header = header
        self._state = "content"

    def _open_headerless(self) -> list[ParserEvent]:
        """Text that came without a header: the answer, as openai-harmony reads it too."""
        self._open_header = Header(None, None, None)
        self._state = "content"
        return self._emit(headerless_content(self._header))

    def _close(self, end: str | None) -> list[ParserEvent]:
        events: list[ParserEvent] = []
        if self._state == "header":
            self._flush_header_bytes()
            self._header += self._decoder.decode(b"", final=True)
            if not self._header.strip():
                self._state = "between"
                return []
            if is_headerless(self._header, self._after_start):
                events += self._open_headerless()
            else:
                self._problem, self._state = "the header never reached <|message|>", "malformed"
        if self._state == "malformed":
            tail = self._decoder.decode(b"", final=True)
            if self._in_content:
                self._content.append(tail)
            else:
                self._header += tail
            malformed = MalformedMessage(self._problem, self._header, "".join(self._content))
            self.malformed.append(malformed)
            events.append(malformed)
        elif self._state == "content":
            events += self._emit(self._decoder.decode(b"", final=True))
            events += self._message_ended(end)
        self._state = "between"
        self._in_content = False
        return events

    def _message_ended(self, end: str | None) -> list[ParserEvent]:
        header = self._open_header
        message = ParsedMessage(header.channel, header.recipient, "".join(self._content), header.content_type)
        self.messages.append(message)
        events: list[ParserEvent] = [
            MessageEnded(message.channel, message.recipient, message.content, message.content_type)
        ]
        if message.recipient is not None and end == t.CALL:
            self.call = ToolCall(
                message.recipient,
                message.channel,
                message.content_type,
                message.content,
                declared=message.recipient in self.tools,
            )
            events.append(self.call)
        return events

    def _emit(self, text: str) -> list[ParserEvent]:
        if not text:
            return []
        self._content.append(text)
        channel, recipient = self._open_header.channel, self._open_header.recipient
        if recipient is None and channel == "analysis":
            return [ReasoningDelta(text)]
        if recipient is None and channel in (None, "final"):
            return [AnswerDelta(text)]
        return [ChannelDelta(channel, recipient, text)]


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
