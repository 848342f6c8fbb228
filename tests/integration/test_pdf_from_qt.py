"""A PDF as desktop apps print it (Qt's PDF writer, with an embedded subset font) is read page by page.

Here rather than with the other extraction tests: Qt writes the input, and the core's tests also run
without Qt (tests/without_qt.py).
"""

from __future__ import annotations

from pathlib import Path

from gptoss_desktop.core.documents.extract import extract
from tests.fixtures.documents import write_qt_pdf


def test_pdf_from_an_app_with_an_embedded_font(tmp_path: Path, qapp: object) -> None:
    pages = ["Quarterly report\nRevenue grew 12 %.", "Outlook — naïve forecast\nCosts fall in Q3."]
    doc = extract(write_qt_pdf(tmp_path / "report.pdf", pages))
    assert [(span.page, span.text) for span in doc.spans] == [(1, pages[0]), (2, pages[1])]
