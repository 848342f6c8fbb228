"""The browser's citations in an answer: `【cursor†L9-L11】` or `【cursor†L3】`, resolved to what was read.

gpt-oss cites the page shown at a cursor by its line numbers, as its browser tool's description
tells it to. Each cursor of the turn is one view of one page (the page stack); a citation is
verified when its cursor exists, its first line was in that view (its last line on the page) and
the lines come from a document; it then names the document, the PDF page and the file's own lines
the cited lines came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ..events import Citation
from .browser_page import Origin, Page

#: `【3†L9-L11】`, `【3†L9】`; an en dash or spaces between the lines are read too.
CITATION = re.compile(r"【(?P<cursor>\d{1,6})†\s*L(?P<first>\d{1,7})(?:\s*[-–]\s*L?(?P<last>\d{1,7}))?\s*】")
#: The most characters of the cited lines kept as a citation's quote.
QUOTE_LIMIT = 600


@dataclass(frozen=True)
class Viewed:
    """One cursor of the page stack: the page, and the lines [first, end) its view showed."""

    page: Page
    first: int
    end: int


@dataclass(frozen=True)
class CitationMark:
    """Where the answer cites, before it is resolved: answer[start:end] is the mark."""

    start: int
    end: int
    cursor: int
    first_line: int
    last_line: int


def citation_marks(answer: str) -> Iterator[CitationMark]:
    """Every browser citation in `answer`, in order."""
    for match in CITATION.finditer(answer):
        first = int(match.group("first"))
        last = int(match.group("last")) if match.group("last") is not None else first
        yield CitationMark(match.start(), match.end(), int(match.group("cursor")), first, max(first, last))


def resolve(answer: str, stack: Sequence[Viewed]) -> tuple[Citation, ...]:
    """The citations of `answer`, each resolved against the view at its cursor, or unverified."""
    return tuple(_resolved(mark, stack) for mark in citation_marks(answer))


def _resolved(mark: CitationMark, stack: Sequence[Viewed]) -> Citation:
    unverified = Citation(mark.start, mark.end, mark.cursor, mark.first_line, mark.last_line, verified=False)
    if mark.cursor >= len(stack):
        return unverified
    viewed = stack[mark.cursor]
    lines = viewed.page.lines
    if not (viewed.first <= mark.first_line < viewed.end and mark.last_line < len(lines)):
        return unverified
    cited = range(mark.first_line, mark.last_line + 1)
    origins = [o for o in (viewed.page.origins[n] for n in cited) if o is not None]
    quote = " ".join(" ".join(lines[n].split()) for n in cited)
    quote = quote if len(quote) <= QUOTE_LIMIT else quote[: QUOTE_LIMIT - 1] + "…"
    if not origins:  # a header or a blank line: nothing of a document to point at
        return Citation(mark.start, mark.end, mark.cursor, mark.first_line, mark.last_line, False, quote=quote)
    first = origins[0]
    same = [o for o in origins if o.document_uid == first.document_uid and o.page == first.page]
    return Citation(
        mark.start,
        mark.end,
        mark.cursor,
        mark.first_line,
        mark.last_line,
        True,
        first.document_uid,
        first.document_name,
        first.page,
        _file_lines(same),
        quote,
    )


def _file_lines(origins: Sequence[Origin]) -> tuple[int, int] | None:
    numbers = [o.line for o in origins if o.line is not None]
    return (min(numbers), max(numbers)) if numbers else None
