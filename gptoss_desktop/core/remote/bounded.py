"""Reading a server's replies with limits, so a hostile or broken server cannot exhaust memory or time.

httpx reads a whole reply into memory, splits lines without a length limit and inflates gzip
without a ratio limit: one 1 GiB line took 7 GB, a 2 MB gzip bomb 6 GB. Here the raw bytes
are inflated in bounded steps, a reply read whole is capped at REPLY_LIMIT, a line of an
event stream at LINE_LIMIT, and a reply or line that trickles in (slowloris: a byte every few
seconds keeps any per-read timeout happy) is cut off at a deadline.
"""

from __future__ import annotations

import json
import re
import time
import zlib
from collections.abc import Iterator

import httpx

#: The most read of a reply that is read whole (a model list, a token count, an error body).
REPLY_LIMIT = 8 << 20
#: The longest line of an event stream (one event carries a few tokens; a final usage block ~1 kB).
LINE_LIMIT = 4 << 20
#: Inflated bytes handed on at a time: a bomb is inflated only as far as it is read.
STEP = 64 << 10
#: JSON nested deeper than this is refused before the parser recurses into it.
MAX_JSON_DEPTH = 200


class BadReplyError(ValueError):
    """A reply broke a limit (too large, too slow, an unknown encoding); the message says which, for people."""


def raw_decoded(response: httpx.Response) -> Iterator[bytes]:
    """The reply's body, inflated if the server compressed it, in pieces of at most STEP bytes."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        yield from response.iter_raw()  # as it arrives (a chunk size would wait for that many bytes)
        return
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise BadReplyError(f"sent its reply in an encoding this app does not read ({encoding[:40]})")
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib, told apart by the header
    try:
        for raw in response.iter_raw():
            data = inflater.decompress(raw, STEP)
            yield data
            while inflater.unconsumed_tail:
                yield (data := inflater.decompress(inflater.unconsumed_tail, STEP))
    except zlib.error as exc:
        raise BadReplyError(f"sent a damaged compressed reply ({exc})") from None


def read_body(response: httpx.Response, limit: int = REPLY_LIMIT, seconds: float = 30.0) -> bytes:
    """The whole body, refused past `limit` bytes (inflated) or `seconds`."""
    deadline = time.monotonic() + seconds
    parts: list[bytes] = []
    size = 0
    for piece in raw_decoded(response):
        size += len(piece)
        if size > limit:
            raise BadReplyError(f"sent a reply over {limit >> 20} MB, far more than an answer to this request")
        if time.monotonic() > deadline:
            raise BadReplyError(f"took over {seconds:.0f} s to send a short reply")
        parts.append(piece)
    return b"".join(parts)


def lines(response: httpx.Response, idle_seconds: float, limit: int = LINE_LIMIT) -> Iterator[str]:
    """The lines of an event stream without their endings; a line over `limit` bytes, or no complete line
    for `idle_seconds` while bytes still trickle in, is refused."""
    pending = bytearray()
    last_line = time.monotonic()
    for piece in raw_decoded(response):
        pending += piece
        start = 0
        while (end := pending.find(b"\n", start)) != -1:
            yield bytes(pending[start:end]).rstrip(b"\r").decode("utf-8", errors="replace")
            start = end + 1
            last_line = time.monotonic()
        del pending[:start]
        if len(pending) > limit:
            raise BadReplyError(f"sent a line over {limit >> 20} MB in its event stream")
        if pending and time.monotonic() - last_line > idle_seconds:
            raise BadReplyError(f"sent no complete event for {idle_seconds:.0f} s, only a trickle of bytes")
    if pending:
        yield bytes(pending).rstrip(b"\r").decode("utf-8", errors="replace")


def parse_json(text: str | bytes) -> object:
    """json.loads, with nesting deeper than MAX_JSON_DEPTH refused (ValueError, not a RecursionError here
    or in whatever walks the result)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH:  # only then can it be too deep
        depth = 0
        for bracket in _BRACKETS.findall(_STRINGS.sub("", text)):
            depth += 1 if bracket in "[{" else -1
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"JSON nested over {MAX_JSON_DEPTH} levels deep")
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")
