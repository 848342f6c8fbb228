"""One widget per turn: the person's message, and the assistant's reasoning and answer."""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication, QPalette, QResizeEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QTextEdit, QToolButton, QVBoxLayout, QWidget

from ...core.documents.prompting import Source
from ...core.events import Stats
from .auto_height import make_auto_height
from .markdown_view import StreamingMarkdownView


def _action_button(text: str, tip: str) -> QToolButton:
    """A small flat button under a message (Copy, Edit, Regenerate)."""
    button = QToolButton()
    button.setObjectName("turnAction")
    button.setText(text)
    button.setToolTip(tip)
    button.setAccessibleName(tip)
    button.setAutoRaise(True)
    return button


class UserMessage(QWidget):
    """The person's message, as they typed it (plain text, never interpreted), in a bubble on the right."""

    #: The bubble never takes more than this share of the conversation's width.
    MAX_WIDTH_SHARE = 0.75

    edit_requested = Signal()

    def __init__(self, text: str, parent: QWidget | None = None, uid: str = "") -> None:
        super().__init__(parent)
        self.uid = uid
        self.text = text
        self.bubble = QFrame()
        self.bubble.setObjectName("userMessage")
        self.label = QLabel(text)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setAccessibleName("Your message")
        inner = QVBoxLayout(self.bubble)
        inner.setContentsMargins(12, 8, 12, 8)
        inner.addWidget(self.label)
        self.edit_button = _action_button("Edit", "Edit this message and send it again")
        self.edit_button.clicked.connect(self.edit_requested)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addStretch(1)
        row.addWidget(self.edit_button, 0, Qt.AlignmentFlag.AlignBottom)
        row.addWidget(self.bubble)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        """Wrap long messages at a share of the width instead of letting the bubble fill the row."""
        self.bubble.setMaximumWidth(int(event.size().width() * self.MAX_WIDTH_SHARE))
        super().resizeEvent(event)


class ReasoningPanel(QWidget):
    """The model's reasoning: live while it thinks, then folded behind "Thought for N s"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.toggle = QToolButton()
        self.toggle.setObjectName("reasoningToggle")
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow)
        self.toggle.setCheckable(True)
        self.toggle.setChecked(True)
        self.toggle.setAutoRaise(True)
        self.toggle.setText("Thinking…")
        self.toggle.toggled.connect(self.set_expanded)
        self.text = QTextEdit()
        self.text.setObjectName("reasoningText")
        self.text.setReadOnly(True)
        self.text.setAcceptRichText(False)
        make_auto_height(self.text)
        palette = self.text.palette()
        palette.setColor(QPalette.ColorRole.Text, palette.color(QPalette.ColorRole.PlaceholderText))
        self.text.setPalette(palette)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.toggle, alignment=Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.text)

    def append(self, text: str) -> None:
        """Add reasoning text at the end."""
        cursor = QTextCursor(self.text.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text, QTextCharFormat())

    def reasoning(self) -> str:
        """The reasoning shown so far."""
        return self.text.toPlainText()

    def set_expanded(self, expanded: bool) -> None:
        """Show or fold the reasoning text."""
        self.toggle.setChecked(expanded)
        self.toggle.setAccessibleName("Hide reasoning" if expanded else "Show reasoning")
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self.text.setVisible(expanded)

    def finish(self, stats: Stats | None) -> None:
        """Fold the reasoning and say how long it took."""
        if stats is not None:
            seconds = round(stats.reasoning_seconds)
            took = f"{seconds} s" if seconds >= 1 else "under a second"
            self.toggle.setText(f"Thought for {took} · {stats.reasoning_tokens} tokens")
        else:
            self.toggle.setText("Thoughts")
        self.set_expanded(False)


class AssistantTurn(QFrame):
    """Reasoning (gpt-oss only) above the answer, which is rendered as Markdown, then Copy / Regenerate."""

    regenerate_requested = Signal()
    #: A cited source was clicked: show its passage.
    source_requested = Signal(Source)
    #: What was put on the clipboard ("Answer copied", "Code copied"), for the status line.
    copied = Signal(str)

    def __init__(
        self, show_reasoning: bool, parent: QWidget | None = None, uid: str = "", expand_reasoning: bool = True
    ) -> None:
        super().__init__(parent)
        self.setObjectName("assistantTurn")
        self.uid = uid
        self.reasoning = ReasoningPanel()
        self.reasoning.setVisible(False)
        self.reasoning.set_expanded(expand_reasoning)
        self._show_reasoning = show_reasoning
        self.answer = StreamingMarkdownView()
        self.answer.setObjectName("answerView")
        self.answer.setAccessibleName("Answer")
        self.notice = QLabel()
        self.notice.setObjectName("turnNotice")
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        self.sources = QLabel()
        self.sources.setObjectName("turnSources")
        self.sources.setAccessibleName("Sources")
        self.sources.setWordWrap(True)
        self.sources.setTextFormat(Qt.TextFormat.RichText)
        self.sources.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.sources.linkActivated.connect(self._on_source_link)
        self.sources.setVisible(False)
        self._cited: dict[int, Source] = {}
        self.copy_button = _action_button("Copy", "Copy the answer")
        self.copy_button.clicked.connect(self.copy_answer)
        self.answer.code_copied.connect(lambda _index: self.copied.emit("Code copied"))
        self.answer.citation_clicked.connect(self._on_citation_clicked)
        self._finished = False  # citations become links once the answer is rendered whole
        self.regenerate_button = _action_button("Regenerate", "Write this answer again")
        self.regenerate_button.clicked.connect(self.regenerate_requested)
        self.action_row = QWidget()
        row = QHBoxLayout(self.action_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.copy_button)
        row.addWidget(self.regenerate_button)
        row.addStretch(1)
        self.action_row.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.reasoning)
        layout.addWidget(self.answer)
        layout.addWidget(self.sources)
        layout.addWidget(self.notice)
        layout.addWidget(self.action_row)

    def append_reasoning(self, text: str) -> None:
        """More reasoning arrived."""
        if self._show_reasoning and self.reasoning.isHidden():
            self.reasoning.setVisible(True)
        self.reasoning.append(text)

    def copy_answer(self) -> None:
        """Put the answer's Markdown source on the clipboard."""
        QGuiApplication.clipboard().setText(self.answer_text())
        self.copied.emit("Answer copied")

    def show_notice(self, text: str) -> None:
        """A line under the answer (stopped, context trimmed, an error)."""
        current = self.notice.text()
        self.notice.setText(f"{current}\n{text}" if current and text not in current else text)
        self.notice.setVisible(True)

    def append_answer(self, text: str) -> None:
        """More of the answer arrived."""
        self.answer.append_text(text)

    def answer_text(self) -> str:
        """The answer as the model wrote it (Markdown source)."""
        return self.answer.markdown_source()

    def finish(self, stats: Stats | None, notice: str = "") -> None:
        """The reply is over: fold reasoning, render the rest, link its citations, show a notice (stopped, error)."""
        self.answer.finish()
        self._finished = True
        self._link_citations()
        if not self.reasoning.isHidden():
            self.reasoning.finish(stats)
        if notice:
            self.show_notice(notice)
        self.action_row.setVisible(True)

    def show_stored(self, reasoning: str, answer: str, notice: str) -> None:
        """Fill the turn from history: everything rendered at once, reasoning folded."""
        if reasoning and self._show_reasoning:
            self.reasoning.setVisible(True)
            self.reasoning.append(reasoning)
        self.answer.append_text(answer)
        if not self.reasoning.isHidden():
            self.reasoning.toggle.setText("Thoughts")
        self.answer.finish()
        self._finished = True
        self.reasoning.set_expanded(False)
        if notice:
            self.show_notice(notice)
        self.action_row.setVisible(True)

    def show_sources(self, sources: Sequence[Source]) -> None:
        """The sources the answer cites, under it: number, document, page or lines, and the start of the passage."""
        self._cited = {source.number: source for source in sources}
        lines = []
        for source in sources:
            place = ", ".join(html.escape(part) for part in (source.document_name, source.anchor) if part)
            snippet = html.escape(source.snippet)
            lines.append(f"<a href='source:{source.number}'>[{source.number}] {place}</a> — {snippet}")
        self.sources.setText("<b>Sources</b><br>" + "<br>".join(lines) if lines else "")
        self.sources.setVisible(bool(lines))
        self._link_citations()

    def _link_citations(self) -> None:
        """The [n] markers in the answer open source n, as the list under it does."""
        if self._finished and self._cited:
            places = {n: ", ".join(p for p in (s.document_name, s.anchor) if p) for n, s in self._cited.items()}
            self.answer.link_citations(places)

    @Slot(int)
    def _on_citation_clicked(self, number: int) -> None:
        if number in self._cited:
            self.source_requested.emit(self._cited[number])

    @Slot(str)
    def _on_source_link(self, link: str) -> None:
        number = int(link.partition(":")[2] or 0)
        if number in self._cited:
            self.source_requested.emit(self._cited[number])

    def set_regenerate_visible(self, visible: bool) -> None:
        """Only the last answer can be regenerated."""
        self.regenerate_button.setVisible(visible)
