"""Streamed text costs what it adds: two things Qt does per update that a stream does not need.

- A cursor moved outside an edit block lays out the paragraph it lands in, to know its x
  (QTextCursorPrivate::setX): moving to the end of the streaming paragraph shaped all of it
  again before the insertion, which shapes it once more. Opening the edit block first skips it.
- Qt drops a paragraph's glyphs once it is laid out (QTextLayout's cache is off), so the
  repaint that follows every update shaped the paragraph a third time. The paragraph that
  streams keeps its glyphs until the stream moves on (`ShapedParagraph`).
"""

from __future__ import annotations

from PySide6.QtGui import QTextBlock, QTextCharFormat, QTextCursor, QTextDocument


class ShapedParagraph:
    """Keeps the glyphs of the one paragraph a stream writes into; the one before gets Qt's default back."""

    def __init__(self) -> None:
        self._block: QTextBlock | None = None

    def follow(self, block: QTextBlock | None) -> None:
        """`block` is the paragraph that streams now (None: the stream ended)."""
        if self._block is not None and self._block != block and self._block.isValid():
            self._block.layout().setCacheEnabled(False)
        self._block = block
        if block is not None:
            block.layout().setCacheEnabled(True)


def edit_at(document: QTextDocument, position: int) -> QTextCursor:
    """A cursor at `position` in an edit block the caller ends (one layout pass for the whole update),
    opened before the cursor moves so that moving it lays nothing out."""
    cursor = QTextCursor(document)
    cursor.beginEditBlock()
    cursor.setPosition(position)
    return cursor


def append_plain(document: QTextDocument, text: str, shaped: ShapedParagraph) -> None:
    """Add `text` at the end of `document`, unformatted, laid out and shaped once."""
    cursor = edit_at(document, document.characterCount() - 1)
    cursor.insertText(text, QTextCharFormat())
    shaped.follow(document.lastBlock())
    cursor.endEditBlock()
