"""What the document pipeline passes along: text with the place it came from, chunks, passages.

Extraction yields `TextSpan`s (a page of a PDF, a section of a DOCX or Markdown file, a run
of lines of a text or code file); chunking cuts them into `Chunk`s that keep that anchor;
the index returns `Passage`s (a chunk with its document's name and a search rank), which is
what a prompt quotes and an answer cites.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: The kinds of file the app reads; `kind_of` in extract.py decides from content and suffix.
Kind = Literal["pdf", "docx", "html", "markdown", "csv", "text", "code"]


@dataclass(frozen=True)
class TextSpan:
    """Text from one place in a document: `page` (PDF, 1-based) or `line` (first line, 1-based), and the
    heading it sits under when the format has headings."""

    text: str
    page: int | None = None
    line: int | None = None
    heading: str | None = None


@dataclass(frozen=True)
class ExtractedDocument:
    """A document's text, in reading order, with anchors."""

    name: str  # the file name shown to the person
    kind: Kind
    spans: tuple[TextSpan, ...]
    size_bytes: int = 0

    @property
    def text(self) -> str:
        """All the text, spans separated by blank lines."""
        return "\n\n".join(span.text for span in self.spans)


class ExtractionError(Exception):
    """A file that cannot be read as a document; the message is for the person ("no text layer", …)."""


@dataclass(frozen=True)
class Chunk:
    """A piece of a document small enough to quote, with where it starts (page or line) and its heading."""

    ordinal: int  # position in the document, from 0
    text: str
    page: int | None = None
    line_start: int | None = None
    line_end: int | None = None
    heading: str | None = None

    @property
    def anchor(self) -> str:
        """Where to look: "page 3", "lines 10-24", "line 7", or "" when unknown."""
        if self.page is not None:
            return f"page {self.page}"
        if self.line_start is not None and self.line_end is not None and self.line_end != self.line_start:
            return f"lines {self.line_start}-{self.line_end}"
        if self.line_start is not None:
            return f"line {self.line_start}"
        return ""


@dataclass(frozen=True)
class Passage:
    """A chunk found for a question: which document it is from, and how well it matched (lower is better)."""

    document_uid: str
    document_name: str
    chunk: Chunk
    rank: float = 0.0
