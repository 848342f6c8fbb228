"""A pane beside the conversation: the passage behind a cited source, whole, its quoted start highlighted."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QTextBrowser, QToolButton, QVBoxLayout, QWidget

from ...core.documents.prompting import Source


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

    def _highlight(self, quoted: str) -> None:
        """Select and colour where the quoted words start (across line breaks, which the document's own
        find cannot do)."""
        words = quoted.split()[:12]
        match = re.search(r"\s+".join(map(re.escape, words)), self.text.toPlainText()) if words else None
        if match is None:
            return
        found = QTextCursor(self.text.document())
        found.setPosition(match.start())
        found.setPosition(match.end(), QTextCursor.MoveMode.KeepAnchor)
        mark = QTextCharFormat()
        mark.setBackground(self.palette().highlight())
        mark.setForeground(self.palette().highlightedText())
        found.mergeCharFormat(mark)
        self.text.setTextCursor(found)
        self.text.ensureCursorVisible()
