"""A browsed answer's citations on screen: `【cursor†Lx-Ly】` marks shown as raised numbers, and the list under it.

A verified citation is a link (it opens the source viewer at the document, page and lines); an
unverified one is grey, says why, and is never a link. The numbers follow the answer's order, as
the footnotes of an export do.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtGui import QPalette, QTextBlock, QTextCharFormat, QTextCursor, QTextDocument, QTextFormat

from ...core.events import Citation
from ...core.history.answer_citations import citation_place, unverified_reason
from ...core.tools.citations import citation_marks
from ..style import muted_color

#: Scheme of a browsed answer's citation links: `cite:N` opens citation N (in the answer's order, from 0).
BROWSER_CITATION_SCHEME = "cite"
#: Characters of a cited quote shown in the list under the answer.
QUOTE_SHOWN = 90


@dataclass(frozen=True)
class CitationMark:
    """How one mark is shown: its number, and a link unless it is unverified."""

    cursor: int
    first_line: int
    last_line: int
    number: int  # shown raised; the link is `cite:{number - 1}`
    verified: bool
    tooltip: str  # where it points, or why it is unverified


def marks_of(citations: Sequence[Citation]) -> list[CitationMark]:
    """The marks of an answer's citations, numbered from 1 in its order."""
    return [
        CitationMark(
            c.cursor,
            c.first_line,
            c.last_line,
            number,
            c.verified,
            f"{citation_place(c)}: {_quote(c.quote)}" if c.verified else unverified_reason(c),
        )
        for number, c in enumerate(citations, start=1)
    ]


def mark_citations(document: QTextDocument, marks: Sequence[CitationMark], palette: QPalette) -> int:
    """Replace each `【cursor†Lx-Ly】` of a rendered answer by its mark's number, matched in order (a mark in
    code stays as written, and so does one no citation names); how many were replaced."""
    waiting = list(marks)
    found: list[tuple[QTextBlock, int, int, CitationMark]] = []
    block = document.firstBlock()
    while block.isValid():
        if not block.blockFormat().hasProperty(QTextFormat.Property.BlockCodeFence):
            for written in citation_marks(block.text()):
                key = (written.cursor, written.first_line, written.last_line)
                match = next((m for m in waiting if (m.cursor, m.first_line, m.last_line) == key), None)
                if match is not None:
                    waiting = waiting[waiting.index(match) + 1 :]
                    found.append((block, written.start, written.end, match))
        block = block.next()
    cursor = QTextCursor(document)
    cursor.beginEditBlock()
    replaced = 0
    for block, start, end, mark in reversed(found):  # from the end: earlier positions stay where they are
        cursor.setPosition(block.position() + end)
        if cursor.charFormat().fontFixedPitch():
            continue  # inside inline code: as written
        space = 1 if start and block.text()[start - 1] == " " else 0  # "first ¹", not "first  ¹"
        cursor.setPosition(block.position() + start - space, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(str(mark.number), _format(mark, palette))
        replaced += 1
    cursor.endEditBlock()
    return replaced


def _format(mark: CitationMark, palette: QPalette) -> QTextCharFormat:
    raised = QTextCharFormat()
    raised.setVerticalAlignment(QTextCharFormat.VerticalAlignment.AlignSuperScript)
    raised.setToolTip(mark.tooltip)
    if mark.verified:
        raised.setAnchor(True)
        raised.setAnchorHref(f"{BROWSER_CITATION_SCHEME}:{mark.number - 1}")
        raised.setForeground(palette.color(QPalette.ColorRole.Link))
        raised.setFontWeight(700)
    else:
        raised.setForeground(muted_color(palette))
    return raised


def citation_list(citations: Sequence[Citation], palette: QPalette) -> str:
    """The list under the answer (rich text): each verified citation a link to its place with the start of
    its quote; each unverified one grey, saying why."""
    grey = muted_color(palette).name()
    lines = []
    for number, c in enumerate(citations, start=1):
        if c.verified:
            place, quote = html.escape(citation_place(c)), html.escape(_quote(c.quote))
            lines.append(f"<a href='{BROWSER_CITATION_SCHEME}:{number - 1}'>{number} {place}</a> — {quote}")
        else:
            lines.append(f"<span style='color:{grey}'>{number} {html.escape(unverified_reason(c))}</span>")
    return "<b>Cited</b><br>" + "<br>".join(lines) if lines else ""


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return f"“{text if len(text) <= QUOTE_SHOWN else text[: QUOTE_SHOWN - 1] + '…'}”"
