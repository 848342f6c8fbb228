"""Server-sent events: the `data` payload of each event in a stream of lines.

Only what chat completion servers use: `data:` fields (joined by newlines when an
event has several), comments (`: ping`) and other fields skipped, a blank line ending
an event. A stream that ends without its final blank line still delivers its last event.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .bounded import LINE_LIMIT, BadReplyError

#: The payload OpenAI-compatible servers send after the last chunk.
DONE = "[DONE]"


def event_data(lines: Iterable[str], limit: int = LINE_LIMIT) -> Iterator[str]:
    """The data of each event, in order; lines come without their line ending. An event over `limit`
    characters (`data:` lines that never end in a blank one) raises BadReplyError."""
    data: list[str] = []
    size = 0
    for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data, size = [], 0
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value[1:] if value.startswith(" ") else value)
            size += len(data[-1]) + 1
            if size > limit:
                raise BadReplyError(f"sent an event over {limit >> 20} MB (data lines that never end)")
    if data:
        yield "\n".join(data)
