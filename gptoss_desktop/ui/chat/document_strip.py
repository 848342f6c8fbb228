"""The conversation's documents above the message box: each with its state, removable; Attach adds more."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QToolButton, QWidget

from ...services.document_service import StoredDocument

#: What each state looks like in the strip.
MARKS = {"ready": "✓", "indexing": "…", "failed": "✗"}


class DocumentStrip(QWidget):
    """One chip per document ("lease.pdf ✓ ×"); a failed one says why in its tooltip and accessible name."""

    attach_requested = Signal()
    remove_requested = Signal(str)  # document uid

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("documentStrip")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(12, 4, 12, 0)
        self._layout.setSpacing(6)
        self.attach_button = QPushButton("Attach…")
        self.attach_button.setAccessibleName("Attach documents")
        self.attach_button.setToolTip("Add documents to ask about (or drop them onto the window)")
        self.attach_button.clicked.connect(self.attach_requested)
        self.reading = QLabel()
        self.reading.setObjectName("documentReading")
        self.progress = QProgressBar()
        self.progress.setObjectName("documentProgress")
        self.progress.setAccessibleName("Reading documents")
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(160)
        self.progress.setVisible(False)
        self._layout.addWidget(self.attach_button)
        self._layout.addStretch(1)
        self._layout.addWidget(self.reading)
        self._layout.addWidget(self.progress)
        self.chips: list[QWidget] = []

    def show_documents(self, documents: list[StoredDocument]) -> None:
        """Show these documents, in the order they were added."""
        for chip in self.chips:
            chip.hide()
            chip.deleteLater()
        self.chips = []
        for document in documents:
            chip = self._chip(document)
            self._layout.insertWidget(len(self.chips), chip)
            self.chips.append(chip)

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

    def _chip(self, document: StoredDocument) -> QWidget:
        chip = QWidget()
        chip.setObjectName("documentChip")
        row = QHBoxLayout(chip)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        mark = MARKS.get(document.status, "")
        label = QLabel(f"{document.name} {mark}")
        detail = document.error if document.status == "failed" else f"{document.chunk_count} passages"
        label.setToolTip(detail or "")
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
