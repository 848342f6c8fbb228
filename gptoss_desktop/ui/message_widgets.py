"""One widget per turn: the person's message, and the assistant's reasoning and answer."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette, QResizeEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QTextEdit, QToolButton, QVBoxLayout, QWidget

from ..core.events import Stats
from .auto_height import make_auto_height
from .markdown_view import StreamingMarkdownView


class UserMessage(QWidget):
    """The person's message, as they typed it (plain text, never interpreted), in a bubble on the right."""

    #: The bubble never takes more than this share of the conversation's width.
    MAX_WIDTH_SHARE = 0.75

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bubble = QFrame()
        self.bubble.setObjectName("userMessage")
        self.label = QLabel(text)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        inner = QVBoxLayout(self.bubble)
        inner.setContentsMargins(12, 8, 12, 8)
        inner.addWidget(self.label)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addStretch(1)
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
    """Reasoning (gpt-oss only) above the answer, which is rendered as Markdown."""

    def __init__(self, show_reasoning: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("assistantTurn")
        self.reasoning = ReasoningPanel()
        self.reasoning.setVisible(False)
        self._show_reasoning = show_reasoning
        self.answer = StreamingMarkdownView()
        self.answer.setObjectName("answerView")
        self.notice = QLabel()
        self.notice.setObjectName("turnNotice")
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.reasoning)
        layout.addWidget(self.answer)
        layout.addWidget(self.notice)

    def append_reasoning(self, text: str) -> None:
        """More reasoning arrived."""
        if self._show_reasoning and not self.reasoning.isVisible():
            self.reasoning.setVisible(True)
        self.reasoning.append(text)

    def append_answer(self, text: str) -> None:
        """More of the answer arrived."""
        self.answer.append_text(text)

    def answer_text(self) -> str:
        """The answer as the model wrote it (Markdown source)."""
        return self.answer.markdown_source()

    def finish(self, stats: Stats | None, notice: str = "") -> None:
        """The reply is over: fold reasoning, render the rest, show a notice (stopped, error)."""
        self.answer.finish()
        if self.reasoning.isVisible():
            self.reasoning.finish(stats)
        if notice:
            self.notice.setText(notice)
            self.notice.setVisible(True)
