"""Server-sent events: the `data` payload of each event in a stream of lines.

Only what chat completion servers use: `data:` fields (joined by newlines when an
event has several), comments (`: ping`) and other fields skipped, a blank line ending
an event. A stream that ends without its final blank line still delivers its last event.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

#: The payload OpenAI-compatible servers send after the last chunk.
DONE = "[DONE]"


def event_data(lines: Iterable[str]) -> Iterator[str]:
    """The data of each event, in order; lines come without their line ending."""
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)
