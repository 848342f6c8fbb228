"""The conversation's documents above the message box: each with its state, why it was refused, removable.

The Attach button lives on the composer's row; this strip shows only when there is something to show
(documents, or files being read).
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QToolButton, QVBoxLayout, QWidget

from ...services.document_service import StoredDocument
from ..style import problem_color
from .flow_layout import FlowLayout

#: What each state looks like in the strip.
MARKS = {"ready": "✓", "indexing": "…", "failed": "✗"}
#: A refusal's reason is shown up to this many characters (all of it in the tooltip).
REASON_CHARS = 40


class DocumentStrip(QWidget):
    """One chip per document ("lease.pdf ✓ ×"); a refused one says why beside it, in red."""

    attach_requested = Signal()
    remove_requested = Signal(str)  # document uid

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("documentStrip")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)  # the conversation's background, not the window's
        chips = QWidget()
        self._flow = FlowLayout(chips, spacing=10)
        self.attach_button = QPushButton("Attach…")
        self.attach_button.setAccessibleName("Attach documents")
        self.attach_button.setToolTip("Add documents to ask about (or drop them onto the window)")
        self.attach_button.clicked.connect(self.attach_requested)
        self.reading = QLabel()
        self.reading.setObjectName("documentReading")
        self.reading.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setObjectName("documentProgress")
        self.progress.setAccessibleName("Reading documents")
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(160)
        self.progress.setVisible(False)
        reading = QHBoxLayout()
        reading.addWidget(self.reading, 1)
        reading.addWidget(self.progress)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 4, 20, 0)
        layout.setSpacing(2)
        layout.addWidget(chips)
        layout.addLayout(reading)
        self.chips: list[QWidget] = []
        self.setVisible(False)

    def show_documents(self, documents: list[StoredDocument]) -> None:
        """Show these documents, in the order they were added."""
        for chip in self.chips:
            chip.hide()
            chip.deleteLater()
        self.chips = []
        for document in documents:
            chip = self._chip(document)
            self._flow.insert_widget(len(self.chips), chip)
            self.chips.append(chip)
        self._show_if_needed()

    def show_reading(self, name: str, number: int = 0, count: int = 0) -> None:
        """Say which file is being read now, as file `number` of `count` ("" when none): a bar moves
        from file to file (and shows it is busy while a single file is read)."""
        several = count > 1
        self.reading.setText(
            (f"Reading {name} ({number} of {count})…" if several else f"Reading {name}…") if name else ""
        )
        self.progress.setVisible(bool(name))
        if several:
            self.progress.setRange(0, count)
            self.progress.setValue(number - 1)
        else:
            self.progress.setRange(0, 0)  # one file: busy, for as long as it takes
        self._show_if_needed()

    def _show_if_needed(self) -> None:
        self.setVisible(bool(self.chips or self.reading.text()))

    def _chip(self, document: StoredDocument) -> QWidget:
        chip = QWidget()
        chip.setObjectName("documentChip")
        row = QHBoxLayout(chip)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        mark = MARKS.get(document.status, "")
        failed = document.status == "failed"
        detail = (document.error or "it could not be read") if failed else f"{document.chunk_count} passages"
        label = QLabel()
        if failed:
            red = problem_color(self.palette()).name()
            reason = detail.removeprefix(document.name).strip()  # "photo.txt is not a text file" follows the name
            reason = reason if len(reason) <= REASON_CHARS else reason[: REASON_CHARS - 1].rstrip() + "…"
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setText(f"{html.escape(document.name)} <span style='color:{red}'>{mark} {html.escape(reason)}</span>")
        else:
            label.setText(f"{document.name} {mark}")
        label.setToolTip(detail)
        label.setAccessibleName(f"{document.name}: {detail}")
        remove = QToolButton()
        remove.setText("×")
        remove.setAutoRaise(True)
        remove.setAccessibleName(f"Remove {document.name}")
        remove.setToolTip(f"Remove {document.name} from this conversation")
        remove.clicked.connect(lambda: self.remove_requested.emit(document.uid))
        row.addWidget(label)
        row.addWidget(remove)
        return chip
