"""The assistant's turn: its reasoning (folded once done), the answer as Markdown, its sources and actions.

The person's message is in user_message.py; both are re-exported here for the conversation view.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QTextEdit, QToolButton, QVBoxLayout, QWidget

from ...core.documents.prompting import Source
from ...core.events import Stats
from ...core.history.transcript import TranscriptMessage
from .auto_height import make_auto_height
from .markdown_view import StreamingMarkdownView
from .turn_parts import VersionSwitcher, action_button
from .user_message import UserMessage

__all__ = ["AssistantTurn", "ReasoningPanel", "UserMessage", "plain_snippet", "reasoning_summary"]

_MARKDOWN_MARKS = re.compile(
    r"^(?:#{1,6}|>+|[-*+]|\d+[.)])\s+|(?<=\s)(?:#{1,6}|>+)\s+|(?<!\w)[*_`~]{1,3}(?=\S)|(?<=\S)[*_`~]{1,3}(?!\w)"
)
_MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def plain_snippet(text: str) -> str:
    """The start of a passage as a person reads it: headings, quotes, list marks, emphasis and links of its
    Markdown taken out ("# Notice" reads "Notice")."""
    text = _MARKDOWN_LINK.sub(r"\1", text)
    return _MARKDOWN_MARKS.sub("", " ".join(text.split()))


def reasoning_summary(seconds: float | None, tokens: int | None) -> str:
    """ "Thought for 4 s · 120 tokens"; parts not known are left out (answers stored before the time was)."""
    if seconds is None and not tokens:
        return "Reasoning"
    took = ""
    if seconds is not None:
        took = f" for {round(seconds)} s" if seconds >= 1 else " for under a second"
    return f"Thought{took}" + (f" · {tokens:,} tokens" if tokens else "")


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
        self.toggle.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # a click leaves the keyboard in the message box
        self.toggle.setText("Thinking…")
        self.toggle.toggled.connect(self.set_expanded)
        self.text = QTextEdit()
        self.text.setObjectName("reasoningText")
        self.text.setReadOnly(True)
        self.text.setAcceptRichText(False)
        # Its colour comes from the style sheet (placeholder text), so a theme switch recolours it.
        make_auto_height(self.text)
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

    def finish(self, summary: str) -> None:
        """Fold the reasoning and say how long it took."""
        self.toggle.setText(summary)
        self.set_expanded(False)


class AssistantTurn(QFrame):
    """Reasoning (gpt-oss only) above the answer, which is rendered as Markdown; sources, a notice, then
    "‹ 1 / 2 ›", Copy, Regenerate (the last answer) and Prompt."""

    regenerate_requested = Signal()
    #: A cited source was clicked: show its passage.
    source_requested = Signal(Source)
    #: What was put on the clipboard ("Answer copied", "Code copied"), for the status line.
    copied = Signal(str)
    #: Show the version before (-1) or after (+1) this answer.
    version_requested = Signal(int)
    #: Show the prompt this answer's model received.
    prompt_requested = Signal()

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
        self.versions = VersionSwitcher("answer")
        self.versions.step_requested.connect(self.version_requested)
        self.copy_button = action_button("Copy", "Copy the answer")
        self.copy_button.clicked.connect(self.copy_answer)
        self.answer.code_copied.connect(lambda _index: self.copied.emit("Code copied"))
        self.answer.citation_clicked.connect(self._on_citation_clicked)
        self._finished = False  # citations become links once the answer is rendered whole
        self.regenerate_button = action_button("Regenerate", "Write this answer again")
        self.regenerate_button.clicked.connect(self.regenerate_requested)
        self.prompt_button = action_button("Prompt", "Show the prompt this answer's model received")
        self.prompt_button.clicked.connect(self.prompt_requested)
        self.action_row = QWidget()
        row = QHBoxLayout(self.action_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        row.addWidget(self.versions)
        row.addWidget(self.copy_button)
        row.addWidget(self.regenerate_button)
        row.addWidget(self.prompt_button)
        row.addStretch(1)
        self.action_row.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 6)
        layout.setSpacing(4)
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
            self.reasoning.finish(
                reasoning_summary(stats.reasoning_seconds, stats.reasoning_tokens) if stats else "Reasoning"
            )
        if notice:
            self.show_notice(notice)
        self.action_row.setVisible(True)

    def show_stored(self, message: TranscriptMessage, notice: str) -> None:
        """Fill the turn from history: everything rendered at once, reasoning folded with its summary."""
        if message.reasoning and self._show_reasoning:
            self.reasoning.setVisible(True)
            self.reasoning.append(message.reasoning)
        self.answer.append_text(message.content)
        self.answer.finish()
        self._finished = True
        if not self.reasoning.isHidden():
            stats = message.stats
            self.reasoning.finish(
                reasoning_summary(stats.reasoning_seconds, stats.reasoning_tokens) if stats else "Reasoning"
            )
        if notice:
            self.show_notice(notice)
        if message.sources:
            self.show_sources(message.sources, message.sources_cited)
        self.action_row.setVisible(True)

    def show_sources(self, sources: Sequence[Source], cited: bool = True) -> None:
        """The sources the answer cites (or, citing none, the first it was given), under it: number, document,
        page or lines, and the start of the passage."""
        self._cited = {source.number: source for source in sources}
        lines = []
        for source in sources:
            place = ", ".join(html.escape(part) for part in (source.document_name, source.anchor) if part)
            snippet = html.escape(plain_snippet(source.snippet))
            lines.append(f"<a href='source:{source.number}'>[{source.number}] {place}</a> — {snippet}")
        heading = "Sources" if cited else "Cites no source; it was given"
        self.sources.setText(f"<b>{heading}</b><br>" + "<br>".join(lines) if lines else "")
        self.sources.setVisible(bool(lines))
        if cited:
            self._link_citations()

    def show_version(self, number: int, count: int) -> None:
        """This answer is version `number` of `count` (Regenerate makes more)."""
        self.versions.show_version(number, count)

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
