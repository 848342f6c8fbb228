"""Cut a document's spans into chunks small enough to quote, each keeping the page or lines it came from.

A chunk never spans two spans, so never two pages: a citation names one place. Cuts fall at a
blank line, else a sentence end, else a line end, else a space, else (a minified file, a base64
blob) anywhere; consecutive chunks of one span overlap a little so a sentence cut in two is
whole in one of them. Short neighbouring spans on the same page under the same heading are
joined into one chunk, so a run of short sections is not quoted one line at a time.
Runs in linear time in the length of the text (a 1000-page PDF takes well under a second).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from .types import Chunk, ExtractedDocument, TextSpan

#: A cut is looked for in the last part of the window, so a chunk is at least this share of the target.
_MIN_SHARE = 0.5
_SENTENCE_ENDS = (". ", "! ", "? ", ".\n", "!\n", "?\n", ".\t", "。", "！", "？", "…")
_SPACE = re.compile(r"\s")
_WORD = re.compile(r"\S")


def chunk_document(doc: ExtractedDocument, target_chars: int = 1200, overlap_chars: int = 200) -> list[Chunk]:
    """The document's chunks in reading order, numbered from 0; blank spans make none."""
    target = max(target_chars, 16)
    overlap = max(0, min(overlap_chars, int(target * _MIN_SHARE) - 1))
    chunks: list[Chunk] = []
    for group in _groups(doc.spans, target):
        pieces = _cut_span(group[0], target, overlap) if len(group) == 1 else iter([_joined(group)])
        for text, page, line_start, line_end, heading in pieces:
            chunks.append(Chunk(len(chunks), text, page, line_start, line_end, heading))
    return chunks


_Piece = tuple[str, int | None, int | None, int | None, str | None]


def _groups(spans: Sequence[TextSpan], target: int) -> Iterator[list[TextSpan]]:
    """Spans in runs to chunk together: neighbours on one page, under one heading, that fit in one chunk."""
    group: list[TextSpan] = []
    size = 0
    for span in spans:
        if not span.text.strip():
            continue
        length = len(span.text)
        fits = (
            group
            and span.page == group[-1].page
            and span.heading == group[-1].heading
            and (span.line is None) == (group[-1].line is None)
            and size + 2 + length <= target
        )
        if group and not fits:
            yield group
            group, size = [], 0
        group.append(span)
        size += length + (2 if size else 0)
    if group:
        yield group


def _joined(group: Sequence[TextSpan]) -> _Piece:
    """One chunk for several short spans, from the first line of the first to the last line of the last."""
    first, last = group[0], group[-1]
    text = "\n\n".join(span.text.strip() for span in group)
    if first.line is None or last.line is None:
        return text, first.page, None, None, first.heading
    start = first.line + _leading_newlines(first.text)
    body = last.text.rstrip()
    end = last.line + body.count("\n")
    return text, first.page, start, end, first.heading


def _cut_span(span: TextSpan, target: int, overlap: int) -> Iterator[_Piece]:
    """The span's pieces, cut near `target` characters, each starting `overlap` characters before the last ended."""
    text = span.text.rstrip()  # so what follows a cut always holds a word
    n = len(text)
    line, line_at = span.line, 0  # `line` is the line number at offset `line_at`; both only move forward
    start = 0
    while start < n:
        word = _WORD.search(text, start)
        if word is None:
            break
        start = word.start()
        end = n if n - start <= target else _cut(text, start + int(target * _MIN_SHARE), start + target)
        body = text[start:end].rstrip()
        line_start = line_end = None
        if line is not None:
            line += text.count("\n", line_at, start)
            line_at = start
            line_start = line
            line_end = line + body.count("\n")
        yield body, span.page, line_start, line_end, span.heading
        if end >= n:
            break
        start = _overlap_start(text, end, overlap)


def _cut(text: str, lo: int, hi: int) -> int:
    """Where to end a chunk in text[lo:hi]: after the last paragraph, sentence, line or word there."""
    paragraph = text.rfind("\n\n", lo, hi)
    if paragraph > lo:
        return paragraph
    sentence = max(text.rfind(end, lo, hi) for end in _SENTENCE_ENDS)
    if sentence > lo:
        return sentence + 1
    newline = text.rfind("\n", lo, hi)
    if newline > lo:
        return newline
    space = max(text.rfind(" ", lo, hi), text.rfind("\t", lo, hi))
    if space > lo:
        return space
    return hi


def _overlap_start(text: str, end: int, overlap: int) -> int:
    """Where the next chunk starts: `overlap` to half that before `end`, at a line, sentence or word start."""
    if overlap == 0:
        return end
    lo, mid = end - overlap, end - overlap // 2
    newline = text.find("\n", lo, mid)
    if newline >= 0:
        return newline + 1
    sentences = [found + len(mark) for mark in _SENTENCE_ENDS if (found := text.find(mark, lo, mid)) >= 0]
    if sentences:
        return min(sentences)
    space = _SPACE.search(text, lo, end)
    return space.end() if space else lo


def _leading_newlines(text: str) -> int:
    return text.count("\n", 0, len(text) - len(text.lstrip()))
