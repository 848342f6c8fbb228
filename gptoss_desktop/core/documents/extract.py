"""A dropped file into text with anchors (page, line, heading), or a refusal a person can act on.

`extract` checks size first, then what the file is (suffix and content: `kind_of`), then reads
it with the reader for its kind. Every refusal is an ExtractionError whose message starts with
the file's name ("report.pdf is password-protected"). Runs on whichever thread calls it and
touches nothing but the file; `cancel` is polled between pages or sections.

Text that is not UTF-8 (and has no BOM) is decoded by the best guess of its encoding, so a
Windows-1252 or Shift-JIS file reads right; bytes that fit no guess become U+FFFD, never an error.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..files import kind_of as file_kind
from .formats.common import Cancel, ExtractionCancelled, bom_encoding, check_cancel, decode_text, size_text
from .formats.html import html_spans
from .formats.text import csv_spans, markdown_spans, text_spans
from .types import ExtractedDocument, ExtractionError, Kind, TextSpan

__all__ = [
    "MAX_FILE_BYTES",
    "SUPPORTED_SUFFIXES",
    "ExtractionCancelled",
    "ExtractionError",
    "extract",
    "kind_of",
    "reading_error",
]

#: Larger files are refused before a byte is read: 200 MB is thousands of pages, far more than a prompt holds.
MAX_FILE_BYTES = 200_000_000
#: How much of the start of a file `kind_of` looks at.
SNIFF_BYTES = 64 * 1024
#: Beyond this share of control characters (other than tab, line ends, form feed, escape) a file is not text.
MAX_CONTROL_SHARE = 0.1

_TEXT = (".txt", ".text", ".log", ".rst", ".adoc", ".org", ".tex", ".ini", ".cfg", ".conf", ".env", ".properties")
_CODE = (
    ".py", ".pyi", ".ipynb", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".java", ".kt", ".kts", ".scala",
    ".groovy", ".gradle", ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx", ".m", ".mm", ".cs", ".fs",
    ".rs", ".go", ".rb", ".php", ".pl", ".pm", ".swift", ".r", ".jl", ".lua", ".dart", ".zig", ".nim", ".ex", ".exs",
    ".erl", ".hs", ".ml", ".clj", ".el", ".vim", ".sh", ".bash", ".zsh", ".fish", ".ps1", ".bat", ".cmd", ".sql",
    ".json", ".jsonl", ".yaml", ".yml", ".toml", ".xml", ".css", ".scss", ".less", ".vue", ".svelte", ".graphql",
    ".proto", ".cmake", ".mk", ".tf", ".dockerfile",
)  # fmt: skip
_KIND_BY_SUFFIX: dict[str, Kind] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".mdown": "markdown",
    ".mkd": "markdown",
    ".csv": "csv",
    ".tsv": "csv",
    **dict.fromkeys(_TEXT, "text"),
    **dict.fromkeys(_CODE, "code"),
}
#: Suffixes offered in the file dialog. Files with other suffixes are read as text when their content is text.
SUPPORTED_SUFFIXES = frozenset(_KIND_BY_SUFFIX)

_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\f\x1b") + b"\x7f"
_SUPPORTED_TEXT = "PDF, Word (.docx), HTML, Markdown, CSV, plain text and source code"


def extract(path: Path, cancel: Cancel = None) -> ExtractedDocument:
    """The document's text in reading order, in spans that say where each part came from.

    Raises ExtractionError for a file that cannot be read, ExtractionCancelled (a kind of
    ExtractionError) once `cancel()` returns True.
    """
    name = path.name
    size = _size(path)
    kind = kind_of(path)
    check_cancel(cancel, name)
    try:
        spans = _spans(kind, path, cancel)
    except OSError as exc:  # moved, deleted or locked since it was looked at
        raise reading_error(name, exc) from exc
    if not spans:
        raise ExtractionError(f"{name} is empty")
    return ExtractedDocument(name=name, kind=kind, spans=tuple(spans), size_bytes=size)


def kind_of(path: Path) -> Kind:
    """What the file is, by its suffix and the start of its content; refused when it is none of the kinds read.

    Content wins where the two disagree about PDF: a PDF named `.txt` is read as a PDF. A file
    with a suffix not in SUPPORTED_SUFFIXES (README, Makefile, .svg) is read as text if it is text.
    """
    name, suffix = path.name, path.suffix.lower()
    head = _head(path)
    if not head:
        raise ExtractionError(f"{name} is empty")
    kind = _KIND_BY_SUFFIX.get(suffix)
    # The PDF header may follow some junk, but a text file that mentions "%PDF-" is no PDF.
    if head.startswith(b"%PDF-") or (kind == "pdf" and b"%PDF-" in head[:1024]):
        return "pdf"
    if kind == "pdf":
        raise ExtractionError(f"{name} is not a readable PDF")
    if kind == "docx":
        if not head.startswith(b"PK\x03\x04"):
            raise ExtractionError(f"{name} is not a readable Word document")
        return kind
    if suffix == ".doc":
        raise ExtractionError(f"{name} is an old Word document (.doc); save it as .docx in Word and add that")
    if not _looks_like_text(head):
        if kind is None:
            raise ExtractionError(f"{name} is not a kind of file that can be read (supported: {_SUPPORTED_TEXT})")
        raise ExtractionError(f"{name} is not a text file")
    return kind or "text"


def _spans(kind: Kind, path: Path, cancel: Cancel) -> list[TextSpan]:
    name = path.name
    if kind == "pdf":
        from .formats.pdf import pdf_spans  # here: PDFium takes 80 ms to load

        return pdf_spans(path, name, cancel)
    if kind == "docx":
        from .formats.docx import docx_spans  # here: python-docx and lxml take 80 ms to load

        return docx_spans(path, name, cancel)
    text = _read_text(path, name)
    if not text.strip():
        raise ExtractionError(f"{name} is empty")
    if kind == "html":
        return html_spans(text, name, cancel)
    if kind == "markdown":
        return markdown_spans(text, name, cancel)
    if kind == "csv":
        return csv_spans(text, name, cancel, delimiter="\t" if path.suffix.lower() == ".tsv" else None)
    return text_spans(text, name, cancel)


def _looks_like_text(head: bytes) -> bool:
    """No NUL byte (unless UTF-16 or UTF-32 says so with a BOM) and few other control characters."""
    if bom_encoding(head) is not None:
        return True
    if b"\x00" in head:
        return False
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls <= MAX_CONTROL_SHARE * len(head)


def _size(path: Path) -> int:
    """The file's size, refused over MAX_FILE_BYTES before anything is read."""
    try:
        status = os.stat(path)
    except OSError as exc:
        raise reading_error(path.name, exc) from exc
    if stat.S_ISDIR(status.st_mode):
        raise ExtractionError(f"{path.name} is a folder; add the files in it instead")
    if not stat.S_ISREG(status.st_mode):  # a FIFO would hang the open, /dev/zero never end
        raise ExtractionError(f"{path.name} is {file_kind(status.st_mode)}, not a document")
    size = status.st_size
    if size > MAX_FILE_BYTES:
        raise ExtractionError(f"{path.name} is {size_text(size)}; the limit is {size_text(MAX_FILE_BYTES)}")
    return size


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            return file.read(SNIFF_BYTES)
    except OSError as exc:
        raise reading_error(path.name, exc) from exc


def _read_text(path: Path, name: str) -> str:
    with path.open("rb") as file:
        data = file.read(MAX_FILE_BYTES + 1)  # the file may have grown since it was measured
    if len(data) > MAX_FILE_BYTES:
        raise ExtractionError(f"{name} is over {size_text(MAX_FILE_BYTES)}, the limit")
    return decode_text(data)


def reading_error(name: str, exc: OSError) -> ExtractionError:
    """What an operating-system error reading `name` means, for the person."""
    if isinstance(exc, FileNotFoundError):
        return ExtractionError(f"{name} was not found; was it moved or deleted?")
    if isinstance(exc, IsADirectoryError):
        return ExtractionError(f"{name} is a folder; add the files in it instead")
    if isinstance(exc, PermissionError):
        return ExtractionError(f"{name} could not be opened: permission denied")
    return ExtractionError(f"{name} could not be read: {exc.strerror or exc}")
