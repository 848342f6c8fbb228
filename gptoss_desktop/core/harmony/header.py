"""The header of a harmony message: what comes between ``<|start|>`` and ``<|message|>``.

`parse_header` reads a complete header the way openai-harmony 0.0.8 does (its
`parse_header_from_string`): the channel is the word after ``<|channel|>`` (up to whitespace or
``<``), ``<|constrain|>`` starts a word of its own, and of the remaining words the last is the
content type unless it starts with ``to=``, the one before it the recipient. So the recipient may
sit in the role part (``assistant to=python<|channel|>analysis code``) or in the channel part
(``<|channel|>commentary to=functions.f <|constrain|>json``). Two deliberate differences:
- a lone word without ``to=`` is taken as the content type, not the recipient (our renderer, like
  openai-harmony's, always writes ``to=``; a stray word must not turn reasoning into a tool call);
- anything openai-harmony rejects, and a message written as another author (user, system, a
  tool), is reported with the reason instead of raising, so the engine can answer or resample.

`classify_open_header` decides, while a header is still arriving, whether it can still become
one; it only ever looks at what came so far, so every way of cutting the stream decides alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from . import tokens as t

#: Roles the model may not write as: a message from them in a completion is made up.
OTHER_ROLES = frozenset({"user", "system", "developer", "tool"})
#: Text without any header mark this long is content that came without a header.
HEADERLESS_BYTES = 64
#: A header with marks (channel, constrain, to=) longer than this never reaches <|message|>.
HEADER_BYTES = 256
_ASCII_SPACE = re.compile(r"[ \t\n\x0c\r]+")
# Rust's char::is_whitespace (Unicode White_Space), which ends a channel name.
_CHANNEL_END = re.compile(r"[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000<]")


@dataclass(frozen=True)
class Header:
    """A well-formed assistant header."""

    channel: str | None
    recipient: str | None
    content_type: str | None


def parse_header(text: str, after_start: bool) -> Header | str:
    """The header, or why it is malformed. `after_start`: it followed ``<|start|>``, so a role comes first."""
    if text.count(t.CHANNEL) > 1:
        return "two <|channel|> marks in one header"
    channel = None
    if t.CHANNEL in text:
        before, after = text.split(t.CHANNEL, 1)
        end = _CHANNEL_END.search(after)
        channel = after[: end.start()] if end else after
        if not channel:
            return "no channel name after <|channel|>"
        text = before + after[len(channel) :]
    text = text.strip()
    if t.CONSTRAIN in text:
        text = text.replace(t.CONSTRAIN, " " + t.CONSTRAIN).strip()
    parts = words(text)
    problem = _role_problem(parts, after_start)
    if problem:
        return problem
    if parts[:1] == ["assistant"]:
        parts = parts[1:]
    recipient = content_type = None
    if len(parts) == 1:
        if parts[0].startswith("to="):
            recipient = parts[0][3:]
        else:
            content_type = parts[0]
    elif len(parts) == 2:
        if parts[1].startswith("to="):
            return f"unexpected words in the header: {parts[0]!r}"
        recipient, content_type = parts[0].removeprefix("to="), parts[1]
    elif parts:
        return f"unexpected words in the header: {' '.join(parts[:-2])!r}"
    if recipient == "":
        return "to= with no recipient"
    return Header(channel, recipient, content_type)


def _role_problem(parts: list[str], after_start: bool) -> str | None:
    """After ``<|start|>`` the first word is the author: only the assistant may write here."""
    if not after_start or not parts or parts[0] == "assistant":
        return None
    if parts[0] in OTHER_ROLES:
        return f"the model wrote a message as {parts[0]}"
    if len(parts) > 1 or parts[0].startswith("to="):
        return f"the model wrote a message as the tool {parts[0]}"
    return f"unknown author {parts[0]!r}"


def words(text: str) -> list[str]:
    """Rust's `split_ascii_whitespace`."""
    return [w for w in _ASCII_SPACE.split(text) if w]


def is_headerless(text: str, after_start: bool) -> bool:
    """Text with no header mark at all: content that came without a header (shown as the answer).

    After ``<|start|>``, a first word naming another author makes it a made-up message instead.
    """
    if t.CHANNEL in text or t.CONSTRAIN in text:
        return False
    parts = words(text)
    if after_start and parts and parts[0] in OTHER_ROLES:
        return False
    if parts[:1] == ["assistant"]:
        parts = parts[1:]
    return not (parts and parts[0].startswith("to="))


def headerless_content(text: str) -> str:
    """The content of headerless text: without a leading ``assistant`` and the space after it."""
    stripped = text.lstrip()
    if words(stripped)[:1] == ["assistant"]:
        return stripped[len("assistant") :].lstrip(" ")
    return text


def classify_open_header(text: str, size: int, after_start: bool) -> Literal["header", "content", "malformed"]:
    """What a header still waiting for ``<|message|>`` is: still a header, content, or never a header.

    `size` is its length in bytes. Headerless text becomes content once it has three words or more
    than HEADERLESS_BYTES; a header with marks is malformed once it has a newline, more words
    than role, recipient, channel and content type, or more than HEADER_BYTES.
    """
    if is_headerless(text, after_start):
        parts = words(text)
        if parts[:1] == ["assistant"]:
            parts = parts[1:]
        if len(parts) >= 3 or (parts and size > HEADERLESS_BYTES):
            return "content"
        return "header"
    marks = text.replace(t.CHANNEL, " ").replace(t.CONSTRAIN, " ")
    if "\n" in text or len(words(marks)) > 4 or size > HEADER_BYTES:
        return "malformed"
    return "header"
