"""A pane beside the conversation: the passage behind a cited source, whole, its quoted start highlighted; or the
page or part of a document a browsed answer cites, the cited lines highlighted."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QTextBrowser, QToolButton, QVBoxLayout, QWidget

from ...core.documents.cited import CitedPassage
from ...core.documents.prompting import Source
from ...core.events import Citation
from ...core.history.answer_citations import citation_place


class SourceViewer(QFrame):
    """Hidden until a source is clicked; then the document, the place, and the passage. Close hides it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sourceViewer")
        self.place = QLabel()
        self.place.setObjectName("sourcePlace")
        self.place.setWordWrap(True)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Close the source")
        self.close_button.setAccessibleName("Close the source")
        self.close_button.clicked.connect(self.hide)
        self.text = QTextBrowser()
        self.text.setAccessibleName("Passage")
        header = QHBoxLayout()
        header.addWidget(self.place, 1)
        header.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(header)
        layout.addWidget(self.text, 1)
        self.hide()

    def show_passage(self, source: Source, text: str) -> None:
        """Show the passage (or say the document is gone), with what the answer quoted highlighted."""
        place = ", ".join(part for part in (source.document_name, source.anchor) if part)
        self.place.setText(f"[{source.number}] {place}")
        if not text:
            self.text.setPlainText(
                f"{source.document_name} is no longer in this conversation. What was quoted:\n\n{source.snippet}"
            )
        else:
            self.text.setPlainText(text)
            self._highlight(source.snippet.rstrip("…").strip())
        self.show()

    def show_cited(self, citation: Citation, passage: CitedPassage) -> None:
        """Show the page or part a browsed answer cites with the cited lines highlighted and in view (or say the
        document is gone, with what was cited)."""
        self.place.setText(citation_place(citation))
        if not passage.text:
            name = citation.document_name or "The document"
            self.text.setPlainText(f"{name} is no longer in this conversation. What was cited:\n\n{citation.quote}")
        else:
            self.text.setPlainText(passage.text)
            if passage.end > passage.start:
                self._mark(passage.start, passage.end)
        self.show()

    def _highlight(self, quoted: str) -> None:
        """Select and colour where the quoted words start (across line breaks, which the document's own
        find cannot do)."""
        words = quoted.split()[:12]
        match = re.search(r"\s+".join(map(re.escape, words)), self.text.toPlainText()) if words else None
        if match is not None:
            self._mark(match.start(), match.end())

    def _mark(self, start: int, end: int) -> None:
        """Colour and select text[start:end], scrolled into view."""
        found = QTextCursor(self.text.document())
        found.setPosition(start)
        found.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        mark = QTextCharFormat()
        mark.setBackground(self.palette().highlight())
        mark.setForeground(self.palette().highlightedText())
        found.mergeCharFormat(mark)
        self.text.setTextCursor(found)
        self.text.ensureCursorVisible()
