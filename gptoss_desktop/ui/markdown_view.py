"""An answer view that renders Markdown incrementally while it streams.

Finished blocks are converted once with QTextCursor.insertMarkdown; until a
block finishes, its text is appended as plain text. So an update costs what it
adds, not what came before it.
"""

from __future__ import annotations

from PySide6.QtGui import (
    QPalette,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextDocumentFragment,
    QTextFormat,
)
from PySide6.QtWidgets import QTextBrowser, QWidget

from ..core.markdown_blocks import MarkdownBlocks
from .auto_height import make_auto_height


class StreamingMarkdownView(QTextBrowser):
    """Read-only Markdown that can be appended to piece by piece."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenExternalLinks(True)
        make_auto_height(self)
        self._blocks = MarkdownBlocks()
        self._source: list[str] = []
        self._tail_start = 0  # document position where the plain-text tail begins

    def markdown_source(self) -> str:
        """All text appended so far, as written by the model."""
        return "".join(self._source)

    def append_text(self, text: str) -> None:
        """Add streamed text: render blocks that became final, redraw the tail."""
        if not text:
            return
        self._source.append(text)
        finished = self._blocks.feed(text)
        cursor = self._tail_cursor()
        if not finished:
            # Nothing became final: only the new text is added, whatever the tail's length.
            cursor.clearSelection()
            cursor.insertText(text, QTextCharFormat())
            return
        self._render(cursor, finished)
        # The tail gets a fresh, unformatted block of its own after the rendered ones.
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        self._tail_start = cursor.position()
        cursor.insertText(self._blocks.tail, QTextCharFormat())

    def finish(self) -> None:
        """The stream ended: render the tail as Markdown too."""
        rest = self._blocks.finish()
        cursor = self._tail_cursor()
        if rest.strip():
            self._render(cursor, [rest])
        else:
            cursor.removeSelectedText()
            if cursor.position() > 0:
                cursor.deletePreviousChar()  # the empty block that was waiting for a tail
        self._tail_start = cursor.position()

    def _render(self, cursor: QTextCursor, blocks: list[str]) -> None:
        """Replace the selected tail by `blocks` rendered as Markdown."""
        cursor.removeSelectedText()
        cursor.setBlockFormat(QTextBlockFormat())
        start = cursor.position()
        for index, block in enumerate(blocks):
            if index:
                cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
            self._insert_markdown(cursor, block.strip("\n"))
        self._shade_code_blocks(start, cursor.position())

    def _insert_markdown(self, cursor: QTextCursor, markdown: str) -> None:
        """Insert Markdown into the empty block at `cursor`, keeping the first block's formatting.

        Inserting a fragment into an existing block keeps that block's format (a code
        fence or heading would lose its look), and a list or table starts a block of its
        own (leaving an empty line behind): both are put right here.
        """
        source = QTextDocument()
        source.setMarkdown(markdown)
        first_format = source.firstBlock().blockFormat()
        start = cursor.position()
        cursor.insertFragment(QTextDocumentFragment(source))
        first = self.document().findBlock(start)
        if first.length() == 1 and first.next().isValid():
            remover = QTextCursor(self.document())
            remover.setPosition(start)
            if start > 0:
                remover.deletePreviousChar()
            else:
                remover.deleteChar()
        elif first.textList() is None:
            QTextCursor(first).setBlockFormat(first_format)

    def _shade_code_blocks(self, start: int, end: int) -> None:
        """Give fenced code a background: Qt's Markdown import only changes its font."""
        shade = QTextBlockFormat()
        shade.setBackground(self.palette().color(QPalette.ColorRole.AlternateBase))
        block = self.document().findBlock(start)
        while block.isValid() and block.position() <= end:
            if block.blockFormat().hasProperty(QTextFormat.Property.BlockCodeFence):
                QTextCursor(block).mergeBlockFormat(shade)
            block = block.next()

    def _tail_cursor(self) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.setPosition(self._tail_start)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        return cursor
