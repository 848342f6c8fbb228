"""An answer view that renders Markdown incrementally while it streams.

Finished blocks are converted once (QTextDocument.setMarkdown, then inserted as
a fragment); until a block finishes, its text is appended as plain text, except
inside a code block, which streams as code already (monospace, in its shaded
box, under its language). A finished code block is coloured and given a "Copy"
link in a padded box (a text frame), and a table striped, once. So an update
costs what it adds, not what came before it. Long code lines wrap (Copy copies
them as written), so nothing is cut off and nothing needs sideways scrolling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QUrl, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QGuiApplication,
    QPalette,
    QTextBlock,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextDocumentFragment,
    QTextFormat,
    QTextFrame,
    QTextTable,
)
from PySide6.QtWidgets import QTextBrowser, QWidget

from ...core.documents.prompting import citation_marks
from ...core.markdown_blocks import MarkdownBlocks, fenced_code
from ..style import text_background
from .auto_height import make_auto_height
from .browser_citations import BROWSER_CITATION_SCHEME, CitationMark, mark_citations
from .code_boxes import box_code, box_format, code_format, open_live_box, write_header
from .code_highlight import CodeHighlighter
from .streaming_text import ShapedParagraph, edit_at

#: Scheme of the "Copy" links above code blocks: `copy-code:N` copies block N.
COPY_SCHEME = "copy-code"
#: Scheme of citation links in the answer: `source:N` opens cited source N.
CITATION_SCHEME = "source"
#: Links the system may open; anything else (file:, relative paths) an answer cannot make us open.
EXTERNAL_SCHEMES = frozenset({"http", "https", "mailto"})


@dataclass
class _CodeBlock:
    """A finished code block: a frame holding its header line (language, Copy), then its lines of code."""

    frame: QTextFrame
    language: str
    text: str  # as the model wrote it: what Copy copies
    shown: str  # as the document holds it (Qt expands tabs): what the colours are laid on

    @property
    def header(self) -> QTextBlock:
        return self.frame.firstCursorPosition().block()


def _mix(base: QColor, other: QColor, share: float) -> QColor:
    """`base` moved `share` of the way to `other`: shades that follow a light or dark palette."""
    red, green, blue = (b + (o - b) * share for b, o in zip(_rgb(base), _rgb(other), strict=True))
    return QColor.fromRgbF(red, green, blue)


def _rgb(color: QColor) -> tuple[float, float, float]:
    return color.redF(), color.greenF(), color.blueF()


class StreamingMarkdownView(QTextBrowser):
    """Read-only Markdown that can be appended to piece by piece."""

    #: The code of block N went to the clipboard (the window may say so).
    code_copied = Signal(int)
    #: A citation marker [N] in the answer was clicked.
    citation_clicked = Signal(int)
    #: A browsed answer's verified citation mark was clicked: its index in the answer's citations.
    browser_citation_clicked = Signal(int)
    _ready = False  # Qt may send change events while __init__ is still running

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenExternalLinks(False)
        self.setOpenLinks(False)  # never navigate: the document is the answer
        self.anchorClicked.connect(self._on_anchor_clicked)
        make_auto_height(self)
        self._blocks = MarkdownBlocks()
        self._source: list[str] = []
        self._tail_start = 0  # document position where the plain-text tail begins
        self._code: list[_CodeBlock] = []
        self._tables: list[QTextTable] = []
        self._citations: dict[int, str] = {}
        self._browser_links = 0  # how many `cite:` links the answer has
        self._live: QTextFrame | None = None  # the code block streaming now, in its box
        self._shaped = ShapedParagraph()  # the paragraph streaming now keeps its glyphs between updates
        self._highlighter = CodeHighlighter(self.palette())
        self._palette_key = self._key(self.palette())
        self._ready = True

    def markdown_source(self) -> str:
        """All text appended so far, as written by the model."""
        return "".join(self._source)

    def code_blocks(self) -> list[str]:
        """The code of every finished code block, in order, without fences."""
        return [block.text for block in self._code]

    def copy_code_block(self, index: int) -> None:
        """Put the code of finished block `index` on the clipboard (IndexError if there is none)."""
        QGuiApplication.clipboard().setText(self._code[index].text)
        self.code_copied.emit(index)

    def append_text(self, text: str) -> None:
        """Add streamed text: render blocks that became final, redraw the tail."""
        if not text:
            return
        self._source.append(text)
        finished = self._blocks.feed(text)
        cursor = self._edit_tail()
        tables_from = None
        if not finished:
            # Nothing became final: only the new text is added, whatever the tail's length.
            if self._live is not None:
                cursor = self._live.lastCursorPosition()
                cursor.insertText(text, code_format())
            else:
                cursor.clearSelection()
                cursor.insertText(text, QTextCharFormat())
        else:
            self._live = None  # in the tail, which is replaced
            tables_from = self._render(cursor, finished)
            # The tail gets a fresh, unformatted block of its own after the rendered ones: at the very end,
            # outside a code box the rendering may have ended in (Qt keeps an empty block after a frame).
            self._new_block_at_end(cursor)
            self._tail_start = cursor.position()
            cursor.insertText(self._blocks.tail, QTextCharFormat())
        if self._live is None and self._blocks.in_code:
            self._stream_as_code()
        self._shaped.follow(self._live.lastCursorPosition().block() if self._live else self.document().lastBlock())
        cursor.endEditBlock()
        self._style_new_tables(tables_from)

    def finish(self) -> None:
        """The stream ended: render the tail as Markdown too."""
        self._live = None
        self._shaped.follow(None)
        rest = self._blocks.finish()
        cursor = self._edit_tail()
        tables_from = None
        if rest.strip():
            tables_from = self._render(cursor, [rest])
        else:
            cursor.removeSelectedText()
            if cursor.position() > 0:
                cursor.deletePreviousChar()  # the empty block that was waiting for a tail
        self._tail_start = cursor.position()
        cursor.endEditBlock()
        self._style_new_tables(tables_from)

    def link_citations(self, places: Mapping[int, str]) -> int:
        """Make every [n] marker of a finished answer whose n is in `places` a link to that source,
        its place ("lease.md, page 2") as the tooltip. Code stays as written. Returns the links made."""
        self._citations = dict(places)
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        made = 0
        block = self.document().firstBlock()
        while block.isValid():
            if not block.blockFormat().hasProperty(QTextFormat.Property.BlockCodeFence):
                made += self._link_block(cursor, block)
            block = block.next()
        cursor.endEditBlock()
        return made

    def mark_browser_citations(self, marks: Sequence[CitationMark]) -> int:
        """Show a finished answer's `【cursor†Lx-Ly】` marks as their numbers, raised: links when verified
        (`cite:N` emits browser_citation_clicked(N)), grey when not. Returns how many were replaced."""
        self._browser_links = max((m.number for m in marks), default=0)
        return mark_citations(self.document(), marks, self.palette())

    def _link_block(self, cursor: QTextCursor, block: QTextBlock) -> int:
        made = 0
        for mark in citation_marks(block.text()):
            place = self._citations.get(mark.number)
            if place is None:
                continue
            cursor.setPosition(block.position() + mark.end)
            existing = cursor.charFormat()  # the format of the mark's last character
            if existing.fontFixedPitch() or (existing.isAnchor() and not self._is_citation(existing)):
                continue  # inline code, or already a link of the answer's own
            cursor.setPosition(block.position() + mark.start, QTextCursor.MoveMode.KeepAnchor)
            link = QTextCharFormat()
            link.setAnchor(True)
            link.setAnchorHref(f"{CITATION_SCHEME}:{mark.number}")
            link.setForeground(self.palette().color(QPalette.ColorRole.Link))
            link.setToolTip(place)
            cursor.mergeCharFormat(link)
            made += 1
        return made

    @staticmethod
    def _is_citation(char_format: QTextCharFormat) -> bool:
        return char_format.anchorHref().startswith(f"{CITATION_SCHEME}:")

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        """Recolour code for a new palette (light/dark switch): once per change, not per update."""
        super().changeEvent(event)
        if not self._ready or event.type() != QEvent.Type.PaletteChange:
            return
        if self._key(self.palette()) != self._palette_key:
            self._palette_key = self._key(self.palette())
            self._restyle()

    @Slot(QUrl)
    def _on_anchor_clicked(self, url: QUrl) -> None:
        """Copy links copy; web and mail links open in the system's apps; the view stays put."""
        if url.scheme() == COPY_SCHEME:
            index = url.path()
            if index.isdigit() and int(index) < len(self._code):
                self.copy_code_block(int(index))
        elif url.scheme() == BROWSER_CITATION_SCHEME:
            number = url.path()
            if number.isdigit() and int(number) < self._browser_links:
                self.browser_citation_clicked.emit(int(number))
        elif url.scheme() == CITATION_SCHEME:
            number = url.path()
            if number.isdigit() and int(number) in self._citations:
                self.citation_clicked.emit(int(number))
        elif url.scheme().lower() in EXTERNAL_SCHEMES:
            QDesktopServices.openUrl(url)

    def _render(self, cursor: QTextCursor, blocks: list[str]) -> int | None:
        """Replace the selected tail by `blocks` rendered as Markdown; where tables start, if any came."""
        cursor.removeSelectedText()
        cursor.setBlockFormat(QTextBlockFormat())
        tables_from = None
        for index, block in enumerate(blocks):
            if index:
                self._new_block_at_end(cursor)
            start = cursor.position()
            markdown = block.strip("\n")
            if self._insert_markdown(cursor, markdown) and tables_from is None:
                tables_from = start
            self._finish_code_blocks(start, cursor.position(), markdown)
        return tables_from

    @staticmethod
    def _new_block_at_end(cursor: QTextCursor) -> None:
        """Put `cursor` in a fresh, unformatted block at the end of the document: outside a code box that the
        last block may have ended in (Qt keeps an empty block after a frame, which is used then)."""
        cursor.movePosition(QTextCursor.MoveOperation.End)
        if cursor.block().length() > 1:
            cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        else:
            cursor.setBlockFormat(QTextBlockFormat())

    def _insert_markdown(self, cursor: QTextCursor, markdown: str) -> bool:
        """Insert Markdown into the empty block at `cursor`, keeping the first block's look; True if it has a table.

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
        return any(isinstance(frame, QTextTable) for frame in source.rootFrame().childFrames())

    def _finish_code_blocks(self, start: int, end: int, markdown: str) -> None:
        """Colour, head and shade each code block just rendered from `markdown` in [start, end], once."""
        runs: list[list[QTextBlock]] = []
        previous: tuple[str, int] | None = None  # (language, indent) of the code line before
        block = self.document().findBlock(start)
        while block.isValid() and block.position() <= end:
            block_format = block.blockFormat()
            if block_format.hasProperty(QTextFormat.Property.BlockCodeFence):
                kind = (self._language(block), block_format.indent())
                if kind == previous:
                    runs[-1].append(block)
                else:
                    runs.append([block])
                previous = kind
            else:
                previous = None
            block = block.next()
        sources = fenced_code(markdown)
        for index, lines in enumerate(runs):
            self._add_code_block(lines, sources[index] if len(sources) == len(runs) else None)

    def _style_new_tables(self, start: int | None) -> None:
        """Stripe the tables rendered from `start` on: only after the edit block ends does Qt
        file new tables under frameAt(), so this is a second, small edit."""
        if start is None:
            return
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        block, last = self.document().findBlock(start), None
        while block.isValid():
            table = self.document().frameAt(block.position())
            if isinstance(table, QTextTable) and table is not last:
                self._tables.append(table)
                self._style_table(table)
                last = table
            block = block.next()
        cursor.endEditBlock()

    def _add_code_block(self, lines: list[QTextBlock], source: str | None) -> None:
        """Colour a finished code block, then box it under its language and a Copy link."""
        language = self._language(lines[0])
        shown = "\n".join(line.text() for line in lines)
        self._highlighter.highlight(self.document(), lines[0].position(), shown, language)
        frame = box_code(lines, self.palette())
        code = _CodeBlock(frame, language, shown if source is None else source, shown)
        self._code.append(code)
        write_header(code.header, language, f"{COPY_SCHEME}:{len(self._code) - 1}", self.palette())

    def _stream_as_code(self) -> None:
        """The tail has become an open code block: show it as code from now on, in its box under its language,
        without its fence (the rest of it streams into the box)."""
        cursor = self._edit_tail()
        cursor.removeSelectedText()
        self._live = open_live_box(cursor, self._blocks.tail, self.palette())
        cursor.endEditBlock()

    def _style_table(self, table: QTextTable) -> None:
        """Shaded header and striped rows instead of Qt's collapsed borders, which cost every
        paint something for every table in the document, on screen or not."""
        table_format = table.format()
        table_format.setBorder(0)
        table_format.setCellSpacing(0)
        table.setFormat(table_format)
        base, text = text_background(self.palette()), self.palette().color(QPalette.ColorRole.Text)
        header, stripe = _mix(base, text, 0.10), _mix(base, text, 0.04)
        for row in range(table.rows()):
            shade = header if row == 0 else stripe if row % 2 == 0 else None
            for column in range(table.columns()):
                cell = table.cellAt(row, column)
                cell_format = cell.format().toTableCellFormat()
                if shade is None:
                    cell_format.clearBackground()
                else:
                    cell_format.setBackground(shade)
                cell.setFormat(cell_format)

    @staticmethod
    def _language(block: QTextBlock) -> str:
        return str(block.blockFormat().property(QTextFormat.Property.BlockCodeLanguage) or "")

    def _restyle(self) -> None:
        """Shade, colours and headers of every finished code block, again, for the current palette."""
        self._highlighter = CodeHighlighter(self.palette())
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        for index, code in enumerate(self._code):
            first = code.header.next().position()
            self._highlighter.highlight(self.document(), first, code.shown, code.language, reset=True)
            write_header(code.header, code.language, f"{COPY_SCHEME}:{index}", self.palette())
            code.frame.setFrameFormat(box_format(self.palette()))
        if self._live is not None:
            self._live.setFrameFormat(box_format(self.palette()))
        for table in self._tables:
            self._style_table(table)
        cursor.endEditBlock()
        if self._citations:
            self.link_citations(self._citations)  # in the new palette's link colour

    @staticmethod
    def _key(palette: QPalette) -> tuple[int, ...]:
        roles = ("Base", "AlternateBase", "Text", "Link", "PlaceholderText")
        return tuple(palette.color(getattr(QPalette.ColorRole, role)).rgba() for role in roles)

    def _edit_tail(self) -> QTextCursor:
        """A cursor selecting the plain-text tail, in an edit block the caller ends (see streaming_text.edit_at)."""
        cursor = edit_at(self.document(), self._tail_start)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        return cursor
