"""Plain text, source code, Markdown and CSV into spans that keep their line numbers.

A span's `line` is the line its text starts on, and every "\\n" in its text is the next line of
the file, so chunking can tell the lines of any piece of it (`decode_text` made the line ends "\\n").
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from ..types import TextSpan
from .common import Cancel, check_cancel

#: Lines per span of a text or code file.
TEXT_SPAN_LINES = 80
#: Rows per span of a CSV file.
CSV_SPAN_ROWS = 50

_ATX_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT_UNDERLINE = re.compile(r" {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_NOT_A_SETEXT_TITLE = re.compile(r" {0,3}(?:[-*+>#]|\d+[.)])(?:\s|$)|\s*$")
_CSV_DELIMITERS = ",;\t|"


def text_spans(text: str, name: str, cancel: Cancel) -> list[TextSpan]:
    """Runs of TEXT_SPAN_LINES lines; runs of blank lines only are left out."""
    lines = _lines(text)
    spans: list[TextSpan] = []
    for start in range(0, len(lines), TEXT_SPAN_LINES):
        check_cancel(cancel, name)
        body = "\n".join(lines[start : start + TEXT_SPAN_LINES])
        if body.strip():
            spans.append(TextSpan(body, line=start + 1))
    return spans


def markdown_spans(text: str, name: str, cancel: Cancel) -> list[TextSpan]:
    """One span per heading's section, from the heading line on; headings in code blocks are code."""
    lines = _lines(text)
    spans: list[TextSpan] = []
    start, heading = 0, None
    for index, title in _markdown_headings(lines):
        check_cancel(cancel, name)
        _add_section(spans, lines, start, index, heading)
        start, heading = index, title
    _add_section(spans, lines, start, len(lines), heading)
    return spans


def csv_spans(text: str, name: str, cancel: Cancel, delimiter: str | None = None) -> list[TextSpan]:
    """Rows as "column: value | column: value" lines under the header row's names, CSV_SPAN_ROWS to a span.

    Not valid CSV (a field longer than the csv module allows, a stray quote at the end): read as text.
    """
    try:
        return _csv_spans(text, name, cancel, delimiter or _sniff_delimiter(text))
    except csv.Error:
        return text_spans(text, name, cancel)


def _csv_spans(text: str, name: str, cancel: Cancel, delimiter: str) -> list[TextSpan]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    while header == []:  # blank lines above the header row
        header = next(reader, None)
    if header is None:
        return []
    columns = [cell.strip() or f"column {n}" for n, cell in enumerate(header, 1)]
    spans: list[TextSpan] = []
    rows: list[str] = []
    first = next_line = reader.line_num + 1
    for row in reader:
        row_line, next_line = next_line, reader.line_num + 1
        # A quoted field with line breaks makes a row of several lines; the span ends after it,
        # or the line numbers of the rows that follow would drift.
        if rows and (len(rows) == CSV_SPAN_ROWS or row_line != first + len(rows)):
            check_cancel(cancel, name)
            _add_rows(spans, rows, first)
            rows = []
        if not rows:
            first = row_line
        rows.append(_row_text(columns, row))
    _add_rows(spans, rows, first)
    if not spans:  # a header and nothing else
        return [TextSpan(" | ".join(header), line=1)]
    return spans


def _row_text(columns: list[str], row: list[str]) -> str:
    pairs = []
    for n, value in enumerate(row):
        value = " ".join(value.split())  # line breaks inside a quoted field become spaces
        if value:
            column = columns[n] if n < len(columns) else f"column {n + 1}"
            pairs.append(f"{column}: {value}")
    return " | ".join(pairs)


def _add_rows(spans: list[TextSpan], rows: list[str], first: int) -> None:
    body = "\n".join(rows)
    if body.strip():
        spans.append(TextSpan(body, line=first))


def _sniff_delimiter(text: str) -> str:
    try:
        return csv.Sniffer().sniff(text[:16384], delimiters=_CSV_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the file's last line end, not an empty line after it
    return lines


def _add_section(spans: list[TextSpan], lines: list[str], start: int, end: int, heading: str | None) -> None:
    body = "\n".join(lines[start:end]).rstrip()
    if body.strip():
        spans.append(TextSpan(body, line=start + 1, heading=heading))


def _markdown_headings(lines: list[str]) -> Iterator[tuple[int, str]]:
    """(index of the heading's first line, heading text) for ATX ("## Setup") and setext (underlined) headings."""
    fence: str | None = None
    start = _front_matter_end(lines)
    for index in range(start, len(lines)):
        line = lines[index]
        opening = _FENCE.match(line)
        if fence is not None:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = None
            continue
        if opening:
            fence = opening.group(1)
            continue
        atx = _ATX_HEADING.match(line)
        if atx:
            yield index, (atx.group(2) or "").strip()
        elif index > start and _SETEXT_UNDERLINE.match(line) and _is_setext_title(lines, index - 1, start):
            yield index - 1, lines[index - 1].strip()


def _is_setext_title(lines: list[str], index: int, start: int) -> bool:
    """A one-line paragraph right above an underline is its title (`---` after a blank line is a rule)."""
    line = lines[index]
    if _NOT_A_SETEXT_TITLE.match(line) or _ATX_HEADING.match(line) or _SETEXT_UNDERLINE.match(line):
        return False
    return index == start or not lines[index - 1].strip()


def _front_matter_end(lines: list[str]) -> int:
    """Where YAML front matter (between `---` lines at the very top) ends; its `---` is no underline."""
    if not lines or lines[0].strip() != "---":
        return 0
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return index + 1
    return 0
