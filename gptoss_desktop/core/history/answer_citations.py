"""What a browsed answer cites, kept with it: each `【cursor†Lx-Ly】` mark resolved to a document's page and lines.

The browser resolves an answer's citations when its turn ends (`Done.citations`); they are stored
with the answer (migration 0012), shown as numbered marks that open the source, and exported as
footnotes. An unverified citation points at nothing the model was shown: it keeps its mark and
why, never a document.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from ..events import Citation
from ..sqlite_transaction import write_transaction

_COLUMNS = (
    "mark_start, mark_end, cursor, first_line, last_line, verified, document_uid, document_name, page, "
    "file_first_line, file_last_line, quote"
)


def mark_text(citation: Citation) -> str:
    """The mark as the model wrote it, normalised: 【3†L9-L11】, 【3†L9】."""
    lines = f"L{citation.first_line}" + (f"-L{citation.last_line}" if citation.last_line != citation.first_line else "")
    return f"【{citation.cursor}†{lines}】"


def citation_place(citation: Citation) -> str:
    """Where a verified citation points, for people: "lease.pdf, page 3", "notes.md, lines 4-6"."""
    place = [" ".join((citation.document_name or "a document").split())]
    if citation.page is not None:
        place.append(f"page {citation.page}")
    if citation.file_lines is not None:
        first, last = citation.file_lines
        place.append(f"line {first}" if first == last else f"lines {first}-{last}")
    return ", ".join(place)


def unverified_reason(citation: Citation) -> str:
    """Why a citation is not a link, in a person's words."""
    lines = f"line {citation.first_line}" if citation.first_line == citation.last_line else "those lines"
    if citation.quote:
        return f"Unverified: {lines} of what the model read at cursor {citation.cursor} are not from a document."
    return f"Unverified: the model cites {lines} at cursor {citation.cursor}, which it was not shown."


def footnotes(answer: str, citations: Sequence[Citation]) -> tuple[str, list[str]]:
    """`answer` with each citation's mark made a Markdown footnote reference ([^1]), and the footnotes:
    `[^1]: lease.pdf, page 3: "…"`, or why it is unverified. Marks that are not where a citation says stay."""
    parts: list[str] = []
    notes: list[str] = []
    at = 0
    for citation in sorted(citations, key=lambda c: c.start):
        if citation.start < at or not _is_mark(answer, citation):
            continue
        number = len(notes) + 1
        parts += [answer[at : citation.start], f"[^{number}]"]
        at = citation.end
        if citation.verified:
            quote = " ".join(citation.quote.split()).replace('"', "'")
            notes.append(f'[^{number}]: {citation_place(citation)}: "{quote}"')
        else:
            notes.append(f"[^{number}]: {mark_text(citation)} {unverified_reason(citation)}")
    parts.append(answer[at:])
    return "".join(parts), notes


def citation_json(citation: Citation) -> dict[str, object]:
    """A citation as JSON export carries it."""
    return {
        "mark": mark_text(citation),
        "start": citation.start,
        "end": citation.end,
        "cursor": citation.cursor,
        "first_line": citation.first_line,
        "last_line": citation.last_line,
        "verified": citation.verified,
        "document": citation.document_name,
        "page": citation.page,
        "file_lines": list(citation.file_lines) if citation.file_lines is not None else None,
        "quote": citation.quote,
    }


def _is_mark(answer: str, citation: Citation) -> bool:
    text = answer[citation.start : citation.end]
    return 0 <= citation.start < citation.end <= len(answer) and text.startswith("【") and text.endswith("】")


def write_citations(db: sqlite3.Connection, message_id: int, citations: Sequence[Citation]) -> None:
    """Keep an answer's citations (replacing any kept before)."""
    with write_transaction(db):
        db.execute("DELETE FROM answer_citations WHERE message_id = ?", (message_id,))
        db.executemany(
            f"INSERT INTO answer_citations (message_id, ordinal, {_COLUMNS}) VALUES ({', '.join('?' * 14)})",
            [(message_id, ordinal, *_row(c)) for ordinal, c in enumerate(citations)],
        )


def read_citations(db: sqlite3.Connection, conversation_id: int) -> dict[int, tuple[Citation, ...]]:
    """The citations of each answer of a conversation that has any, by message id; damaged rows left out."""
    rows = db.execute(
        f"SELECT a.message_id, {', '.join('a.' + c.strip() for c in _COLUMNS.split(','))} FROM answer_citations a "
        "JOIN messages m ON m.id = a.message_id WHERE m.conversation_id = ? ORDER BY a.message_id, a.ordinal",
        (conversation_id,),
    )
    found: dict[int, list[Citation]] = {}
    for message_id, *fields in rows:
        citation = _from_row(fields)
        if citation is not None:
            found.setdefault(message_id, []).append(citation)
    return {message_id: tuple(citations) for message_id, citations in found.items()}


def _row(citation: Citation) -> tuple[object, ...]:
    first, last = citation.file_lines if citation.file_lines is not None else (None, None)
    return (citation.start, citation.end, citation.cursor, citation.first_line, citation.last_line,
            int(citation.verified), citation.document_uid, citation.document_name, citation.page, first, last,
            citation.quote)  # fmt: skip


def _from_row(fields: Sequence[object]) -> Citation | None:
    start, end, cursor, first_line, last_line, verified, uid, name, page, first, last, quote = fields
    numbers = [n for n in (start, end, cursor, first_line, last_line) if type(n) is int and n >= 0]
    page_number = page if type(page) is int else None
    if len(numbers) < 5 or (page is not None and page_number is None):
        return None
    at, to, cursor_number, line, last_line_number = numbers
    text = quote if isinstance(quote, str) else ""
    if verified != 1 or not isinstance(uid, str) or not isinstance(name, str):
        return Citation(at, to, cursor_number, line, last_line_number, False, quote=text)
    file_lines = (first, last) if type(first) is int and type(last) is int else None
    return Citation(at, to, cursor_number, line, last_line_number, True, uid, name, page_number, file_lines, text)


__all__ = [
    "citation_json",
    "citation_place",
    "footnotes",
    "mark_text",
    "read_citations",
    "unverified_reason",
    "write_citations",
]
