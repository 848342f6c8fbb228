"""PDF pages into spans, one per page with text, with PDFium (pypdfium2): fast, and tolerant of damaged files.

Page by page: a page and its text are closed before the next is loaded, and PDFium reads the
file as it needs it, so a 1000-page PDF costs one page of PDFium memory plus the text so far.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ..types import ExtractionError, TextSpan
from .common import Cancel, check_cancel

# PDFium is not thread-safe, not even for different documents: one extraction at a time, app-wide.
_PDFIUM_LOCK = threading.Lock()
# Control characters PDFium puts in text (0x02 marks a hyphen it guessed at a line end), and noncharacters.
_DROPPED = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF])


def pdf_spans(path: Path, name: str, cancel: Cancel) -> list[TextSpan]:
    """One span per page that has text, `page` counted from 1; refused when no page has any."""
    # A file object, not the path: PDFium opens paths by their UTF-8 bytes, which fails on Windows
    # for names outside ASCII; read through Python, any name works.
    with _PDFIUM_LOCK, path.open("rb") as file:
        try:
            document = pdfium.PdfDocument(file)
        except pdfium.PdfiumError as exc:
            raise _open_error(exc, name) from exc
        try:
            spans = _read_pages(document, name, cancel)
        finally:
            document.close()
    if not spans:
        raise ExtractionError(f"{name} has no text layer (a scan?); text recognition is not supported")
    return spans


def _read_pages(document: pdfium.PdfDocument, name: str, cancel: Cancel) -> list[TextSpan]:
    spans = []
    for index in range(len(document)):
        check_cancel(cancel, name)
        text = _page_text(document, index)
        if text:
            spans.append(TextSpan(text, page=index + 1))
    return spans


def _page_text(document: pdfium.PdfDocument, index: int) -> str:
    """The page's text, lines ending in "\\n" without trailing spaces; "" for a page PDFium cannot load."""
    try:
        page = document[index]
    except pdfium.PdfiumError:
        return ""
    try:
        textpage = page.get_textpage()
        try:
            raw = textpage.get_text_range()
        finally:
            textpage.close()
    finally:
        page.close()
    lines = raw.replace("\r\n", "\n").replace("\r", "\n").translate(_DROPPED).split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def _open_error(exc: pdfium.PdfiumError, name: str) -> ExtractionError:
    if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
        return ExtractionError(f"{name} is password-protected")
    if exc.err_code == pdfium_c.FPDF_ERR_SECURITY:
        return ExtractionError(f"{name} is protected by a kind of encryption that is not supported")
    return ExtractionError(f"{name} is not a readable PDF")
