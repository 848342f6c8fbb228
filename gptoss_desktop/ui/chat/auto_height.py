"""Text widgets that grow with their content, for stacking in a scrolling conversation."""

from __future__ import annotations

from PySide6.QtCore import QSizeF, Qt
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextEdit


def make_auto_height(edit: QTextEdit) -> None:
    """Size `edit` to its document's height, with no scroll bar of its own."""
    edit.setFrameShape(QFrame.Shape.NoFrame)
    edit.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    edit.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    edit.document().setDocumentMargin(2)

    def fit(size: QSizeF) -> None:
        # The frame as drawn: a style sheet's border on one side only (the reasoning's) counts there only,
        # where frameWidth() would add it above and below too.
        frame = edit.height() - edit.viewport().height()
        height = int(size.height()) + frame + 2
        if edit.height() != height:
            edit.setFixedHeight(height)

    edit.document().documentLayout().documentSizeChanged.connect(fit)
    edit.setFixedHeight(24)
