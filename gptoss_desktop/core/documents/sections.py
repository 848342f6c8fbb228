"""A document cut into the parts the browser tool shows as pages, and each part's text rebuilt from its chunks.

The index keeps a document only as chunks, and neighbouring chunks of one span overlap (chunking.py),
so a part's text is its chunks joined where one's end is the next one's start. A PDF's part is one
of its pages; another document's parts are runs of chunks of about SECTION_CHARS characters, so
opening any part costs the same whatever the size of the file. Each rebuilt line keeps the number
of the file's line it came from, when the format has lines (text, Markdown, code).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .index import ChunkPlace
from .types import Chunk

#: The most characters of a part (a page of a PDF beyond it is cut too): about 5,000 tokens.
SECTION_CHARS = 20_000
#: The shortest overlap taken for one: chunks of separate spans that happen to share a few characters stay apart.
MIN_OVERLAP = 12


@dataclass(frozen=True)
class Section:
    """Chunks `first` to `last` (ordinals) of a document: one part, shown as one browser page."""

    number: int  # from 0, in the document
    first: int
    last: int
    page: int | None  # the PDF page, when the document has pages


@dataclass(frozen=True)
class SectionLine:
    """One line of a part's text, and the line of the file it is (None when the format has no lines)."""

    text: str
    line: int | None


def sections(places: Sequence[ChunkPlace], limit: int = SECTION_CHARS) -> list[Section]:
    """The parts of a document whose chunks sit at `places`: a new one at each page, and past `limit` characters."""
    parts: list[Section] = []
    first: ChunkPlace | None = None
    previous: ChunkPlace | None = None
    size = 0
    for place in places:
        if first is not None and previous is not None and (place.page != first.page or size + place.chars > limit):
            parts.append(Section(len(parts), first.ordinal, previous.ordinal, first.page))
            first, size = None, 0
        if first is None:
            first = place
        previous = place
        size += place.chars
    if first is not None and previous is not None:
        parts.append(Section(len(parts), first.ordinal, previous.ordinal, first.page))
    return parts


def section_of(parts: Sequence[Section], ordinal: int) -> Section | None:
    """The part holding chunk `ordinal` (the parts in order)."""
    low, high = 0, len(parts) - 1
    while low <= high:
        middle = (low + high) // 2
        part = parts[middle]
        if ordinal < part.first:
            high = middle - 1
        elif ordinal > part.last:
            low = middle + 1
        else:
            return part
    return None


@dataclass(frozen=True)
class SectionText:
    """A part's text as lines, and the line each chunk starts on (by ordinal; a line of `lines`)."""

    lines: tuple[SectionLine, ...]
    chunk_starts: dict[int, int]


def section_text(chunks: Sequence[Chunk]) -> SectionText:
    """The text of consecutive chunks as lines: overlaps joined once, separate runs apart by a blank line."""
    blocks: list[tuple[str, int | None, int | None]] = []  # text, its first line in the file, its last
    starts: dict[int, tuple[int, int]] = {}  # ordinal: block, character where the chunk starts in it
    for chunk in chunks:
        if blocks:
            text, first_line, last_line = blocks[-1]
            may_overlap = chunk.line_start is None or last_line is None or chunk.line_start <= last_line
            joined = _joined(text, chunk.text) if may_overlap else None
            if joined is not None:
                end = chunk.line_end if chunk.line_end is not None else last_line
                blocks[-1] = (joined, first_line, end)
                starts[chunk.ordinal] = (len(blocks) - 1, len(joined) - len(chunk.text))
                continue
        blocks.append((chunk.text, chunk.line_start, chunk.line_end))
        starts[chunk.ordinal] = (len(blocks) - 1, 0)
    lines: list[SectionLine] = []
    block_lines: list[int] = []  # where each block's first line is in `lines`
    for index, (text, first_line, _last) in enumerate(blocks):
        if index:
            lines.append(SectionLine("", None))
        block_lines.append(len(lines))
        for offset, line in enumerate(text.split("\n")):
            lines.append(SectionLine(line, None if first_line is None else first_line + offset))
    chunk_starts = {
        ordinal: block_lines[block] + blocks[block][0].count("\n", 0, at) for ordinal, (block, at) in starts.items()
    }
    return SectionText(tuple(lines), chunk_starts)


def _joined(before: str, after: str) -> str | None:
    """`before` and `after` as one text when `after` starts with the end of `before` (their overlap), else None."""
    probe = after[:MIN_OVERLAP]
    if len(probe) < MIN_OVERLAP:
        return None
    at = before.find(probe, max(0, len(before) - len(after)))
    while at >= 0:
        overlap = len(before) - at
        if after.startswith(before[at:]) and overlap >= MIN_OVERLAP:
            return before + after[overlap:]
        at = before.find(probe, at + 1)
    return None
