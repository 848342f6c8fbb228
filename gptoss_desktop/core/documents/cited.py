"""The part of a document a browsed answer cites, for the source viewer: the page or part, the cited lines marked.

A verified citation names a document, its PDF page and, for formats with lines, the file's own
lines (see tools/citations.py). The viewer shows the same part the browser showed the model (a PDF
page, or a run of a longer file), rebuilt from the index, with the cited lines' characters marked:
by their line numbers where the file has lines, else where the quoted text is found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..events import Citation
from .index import DocumentIndex
from .sections import Section, SectionText, section_of, section_text, sections

#: Words of a quote matched to find it when the whole quote is not found (a word cut by wrapping, say).
QUOTE_WORDS = 10


@dataclass(frozen=True)
class CitedPassage:
    """`text` is the part of the document cited ("" when the document is gone); text[start:end] is marked."""

    text: str
    start: int = 0
    end: int = 0


def cited_passage(index: DocumentIndex, citation: Citation) -> CitedPassage:
    """The part of the document `citation` points at, its cited lines marked (nothing marked if not found)."""
    if not citation.verified or citation.document_uid is None:
        return CitedPassage("")
    parts = sections(index.outline(citation.document_uid))
    if not parts:
        return CitedPassage("")
    for part in _candidates(index, parts, citation):
        shown = section_text(index.chunk_range(citation.document_uid, part.first, part.last))
        text = "\n".join(line.text for line in shown.lines)
        found = _by_lines(shown, citation) or _by_quote(text, citation.quote)
        if found is not None:
            return CitedPassage(text, *found)
    first = next(iter(_candidates(index, parts, citation)), parts[0])
    shown = section_text(index.chunk_range(citation.document_uid, first.first, first.last))
    return CitedPassage("\n".join(line.text for line in shown.lines))


def _candidates(index: DocumentIndex, parts: list[Section], citation: Citation) -> list[Section]:
    """The parts the cited lines may be in, likeliest first: the one holding the file's line, the PDF page's."""
    if citation.file_lines is not None and citation.document_uid is not None:
        line = citation.file_lines[0]
        for place in index.outline(citation.document_uid):
            if (
                place.line_start is not None
                and place.line_end is not None
                and place.line_start <= line <= place.line_end
            ):
                part = section_of(parts, place.ordinal)
                if part is not None:
                    return [part]
    if citation.page is not None:
        return [part for part in parts if part.page == citation.page]
    return parts


def _by_lines(shown: SectionText, citation: Citation) -> tuple[int, int] | None:
    """Where the file's cited lines are in the part's text."""
    if citation.file_lines is None:
        return None
    first, last = citation.file_lines
    start = end = None
    at = 0
    for line in shown.lines:
        if line.line is not None and first <= line.line <= last:
            start = at if start is None else start
            end = at + len(line.text)
        at += len(line.text) + 1
    return (start, end) if start is not None and end is not None else None


def _by_quote(text: str, quote: str) -> tuple[int, int] | None:
    """Where the quoted lines are in `text`, across its line breaks (wrapping made the quote's own)."""
    words = quote.rstrip("…").replace("〖", "【").replace("〗", "】").split()
    if quote.endswith("…") and words:
        words = words[:-1]  # cut short: its last word may be only a part of one
    for wanted in (words, words[:QUOTE_WORDS]):
        if wanted:
            match = re.search(r"\s*".join(map(re.escape, wanted)), text)
            if match is not None:
                return match.start(), match.end()
    return None
