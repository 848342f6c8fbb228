"""Code blocks of an answer drawn as boxes: padded and shaded (a text frame), under their language and Copy.

Qt's Markdown import only changes a code block's font, and a block's own background has no padding:
a frame around the header and the code gives both. Long lines wrap inside the box.
"""

from __future__ import annotations

from PySide6.QtGui import (
    QFontDatabase,
    QPalette,
    QTextBlock,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextFrame,
    QTextFrameFormat,
)

PADDING = 8.0  # px between a box's edge and its text
MARGIN = 6.0  # px above and below a box


def box_format(palette: QPalette) -> QTextFrameFormat:
    """The box: shaded with the palette's alternate base, padded, no border."""
    box = QTextFrameFormat()
    box.setPadding(PADDING)
    box.setTopMargin(MARGIN)
    box.setBottomMargin(MARGIN)
    box.setBorder(0)
    box.setBackground(palette.color(QPalette.ColorRole.AlternateBase))
    return box


def code_format() -> QTextCharFormat:
    """Monospace, as Qt's Markdown import gives code (for code still streaming)."""
    code = QTextCharFormat()
    code.setFontFamilies(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).families())
    code.setFontFixedPitch(True)
    return code


def label_format(palette: QPalette) -> QTextCharFormat:
    """The language's name above the code: full size, semi-bold, quieter than the text."""
    label = QTextCharFormat()
    label.setForeground(palette.color(QPalette.ColorRole.PlaceholderText))
    label.setFontWeight(600)
    return label


def box_code(lines: list[QTextBlock], palette: QPalette) -> QTextFrame:
    """Put a header line above a rendered code block's `lines` and both in a box; the box."""
    wrapping = QTextBlockFormat()
    wrapping.setNonBreakableLines(False)  # a long line wraps inside the box instead of being cut off
    for line in lines:
        QTextCursor(line).mergeBlockFormat(wrapping)
    header = _insert_header(lines[0])  # the code moved one block down, under the header
    last = header
    for _ in lines:
        last = last.next()
    box = QTextCursor(header)
    box.setPosition(last.position() + last.length() - 1, QTextCursor.MoveMode.KeepAnchor)
    frame = box.insertFrame(box_format(palette))
    _drop_empty_line_before(frame)
    return frame


def write_header(header: QTextBlock, language: str, copy_href: str, palette: QPalette) -> None:
    """The header's text: the language, then the Copy link."""
    cursor = QTextCursor(header)
    cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
    link = QTextCharFormat()
    link.setAnchor(True)
    link.setAnchorHref(copy_href)
    link.setForeground(palette.color(QPalette.ColorRole.Link))
    link.setToolTip("Copy this code to the clipboard")
    name = language.split()[:1]  # a fence's info string may say more than the language
    cursor.insertText(f"{name[0]}\u2003\u2003" if name else "", label_format(palette))
    cursor.insertText("Copy", link)


def open_live_box(cursor: QTextCursor, tail: str, palette: QPalette) -> QTextFrame:
    """At `cursor` (an empty block), a box for a code block still streaming: its language, then the code so
    far (`tail` is the Markdown from the opening fence on). More code goes at the box's last position."""
    fence, _newline, code = tail.partition("\n")
    language = fence.strip().lstrip("`~").split()[:1]
    flat = QTextBlockFormat()  # the block left empty above the box: no height while the code streams
    flat.setLineHeight(1, QTextBlockFormat.LineHeightTypes.FixedHeight.value)
    cursor.setBlockFormat(flat)
    frame = cursor.insertFrame(box_format(palette))
    inside = frame.firstCursorPosition()
    inside.insertText(language[0] if language else "code", label_format(palette))
    code_block = QTextBlockFormat()
    code_block.setNonBreakableLines(False)
    inside.insertBlock(code_block, code_format())
    inside.insertText(code, code_format())
    return frame


def _insert_header(first: QTextBlock) -> QTextBlock:
    """Open an empty line above the code block's first line; it becomes the header."""
    code_format_ = first.blockFormat()
    cursor = QTextCursor(first)
    # Splitting at the block's start keeps `first` (now empty) above and moves the code
    # into a new block below: this works at position 0 and inside any frame.
    cursor.insertBlock(code_format_, first.charFormat())
    header_format = QTextBlockFormat()
    header_format.setIndent(code_format_.indent())
    header_format.setBottomMargin(2)
    QTextCursor(first).setBlockFormat(header_format)
    return first


def _drop_empty_line_before(frame: QTextFrame) -> None:
    """Inserting a frame leaves the block it split empty above it: join that to the block before (the box has
    its own margin)."""
    document = frame.document()
    before = document.findBlock(frame.firstPosition() - 1)
    previous = before.previous()
    if before.length() == 1 and previous.isValid() and QTextCursor(previous).currentFrame() is frame.parentFrame():
        QTextCursor(before).deletePreviousChar()
