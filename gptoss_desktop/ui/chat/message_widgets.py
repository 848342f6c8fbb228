"""The assistant's turn: its reasoning and tool steps (folded once done), the answer as Markdown, the files its
code wrote, its sources and actions.

The person's message is in user_message.py; both are re-exported here for the conversation view.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ...core.documents.prompting import Source
from ...core.events import Citation, Stats, ToolFile
from ...core.history.answer_adapters import AnswerAdapter, written_by
from ...core.history.tool_steps import ToolStep, interleaved
from ...core.history.transcript import TranscriptMessage
from .browser_citations import BROWSER_CITATION_SCHEME, citation_list, marks_of
from .markdown_view import StreamingMarkdownView
from .reasoning_panel import ReasoningPanel, reasoning_summary
from .tool_views import ToolApprovalBox
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


def _size(size: int) -> str:
    """ "820 bytes", "12 KB", "3.4 MB"."""
    if size < 1000:
        return f"{size} byte{'s' if size != 1 else ''}"
    value, unit = size / 1000, "KB"
    for bigger in ("MB", "GB"):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    return f"{value:.1f} {unit}" if value < 10 else f"{value:,.0f} {unit}"


class AssistantTurn(QFrame):
    """Reasoning (gpt-oss only) above the answer, which is rendered as Markdown; sources, a notice, then
    "‹ 1 / 2 ›", Copy, Regenerate (the last answer) and Prompt."""

    regenerate_requested = Signal()
    #: A cited source was clicked: show its passage.
    source_requested = Signal(Source)
    #: A verified citation of a browsed answer was clicked: show its lines in the document.
    citation_requested = Signal(object)  # Citation
    #: What was put on the clipboard ("Answer copied", "Code copied"), for the status line.
    copied = Signal(str)
    #: Show the version before (-1) or after (+1) this answer.
    version_requested = Signal(int)
    #: Show the prompt this answer's model received.
    prompt_requested = Signal()
    #: Stop was pressed on a running tool step.
    stop_requested = Signal()
    #: Run (True) or Skip (False) in the "run this code?" box; then whether to stop asking in this conversation.
    tool_decided = Signal(bool, bool)
    #: The person lets python run without network isolation in this conversation (the sandbox could not cut it off).
    unisolated_python_requested = Signal()

    def __init__(
        self, show_reasoning: bool, parent: QWidget | None = None, uid: str = "", expand_reasoning: bool = True
    ) -> None:
        super().__init__(parent)
        self.setObjectName("assistantTurn")
        self.uid = uid
        self.reasoning = ReasoningPanel()
        self.reasoning.setVisible(False)
        self.reasoning.set_expanded(expand_reasoning)
        self.reasoning.stop_requested.connect(self.stop_requested)
        self.approval: ToolApprovalBox | None = None  # while the person is asked to Run or Skip
        self.files = QLabel()
        self.files.setObjectName("turnFiles")
        self.files.setAccessibleName("Files its code wrote")
        self.files.setWordWrap(True)
        self.files.setTextFormat(Qt.TextFormat.RichText)
        self.files.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.files.linkActivated.connect(self._open_file)
        self.files.setVisible(False)
        self._file_links: set[str] = set()
        self.sandbox_problem = QFrame()
        self.sandbox_problem.setObjectName("sandboxProblem")
        self.sandbox_reason = QLabel()
        self.sandbox_reason.setWordWrap(True)
        self.unisolated_button = QPushButton("Run Python Without Network Isolation")
        self.unisolated_button.setToolTip("In this conversation only (Conversation Settings can change it back)")
        self.unisolated_button.clicked.connect(self.unisolated_python_requested)
        problem = QVBoxLayout(self.sandbox_problem)
        problem.setContentsMargins(10, 6, 10, 6)
        problem.addWidget(self.sandbox_reason)
        problem.addWidget(self.unisolated_button, alignment=Qt.AlignmentFlag.AlignLeft)
        self.sandbox_problem.setVisible(False)
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
        self.cited = QLabel()
        self.cited.setObjectName("turnCitations")
        self.cited.setAccessibleName("Cited")
        self.cited.setWordWrap(True)
        self.cited.setTextFormat(Qt.TextFormat.RichText)
        self.cited.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.cited.linkActivated.connect(self._on_cited_link)
        self.cited.setVisible(False)
        self.citations: tuple[Citation, ...] = ()
        self.written_by = QLabel()
        self.written_by.setObjectName("turnAdapters")
        self.written_by.setAccessibleName("Model and adapters")
        self.written_by.setToolTip("The model and the LoRA adapters this answer was written with, at their scales")
        self.written_by.setWordWrap(True)
        self.written_by.setVisible(False)
        self._cited: dict[int, Source] = {}
        self.versions = VersionSwitcher("answer")
        self.versions.step_requested.connect(self.version_requested)
        self.copy_button = action_button("Copy", "Copy the answer")
        self.copy_button.clicked.connect(self.copy_answer)
        self.answer.code_copied.connect(lambda _index: self.copied.emit("Code copied"))
        self.answer.citation_clicked.connect(self._on_citation_clicked)
        self.answer.browser_citation_clicked.connect(self._on_browser_citation)
        self._finished = False  # citations become links once the answer is rendered whole
        self._marked = False  # a browsed answer's marks are shown as numbers (once)
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
        layout.addWidget(self.files)
        layout.addWidget(self.cited)
        layout.addWidget(self.sources)
        layout.addWidget(self.sandbox_problem)
        layout.addWidget(self.notice)
        layout.addWidget(self.written_by)
        layout.addWidget(self.action_row)
        self._layout = layout

    def append_reasoning(self, text: str) -> None:
        """More reasoning arrived."""
        if self._show_reasoning and self.reasoning.isHidden():
            self.reasoning.setVisible(True)
        self.reasoning.append(text)

    def show_step(self, index: int, step: ToolStep) -> None:
        """Tool step `index` as it is now, in the reasoning area after what came before it (shown even where
        reasoning is not, since it is something done on this computer)."""
        self.reasoning.setVisible(True)
        self.reasoning.show_step(index, step)

    def ask_approval(self, code: str, recipient: str, network_isolated: bool = True) -> ToolApprovalBox:
        """ "Run this code?" between the reasoning and the answer, until the person decides or the answer stops."""
        self.close_approval()
        self.approval = ToolApprovalBox(code, recipient, network_isolated)
        self.approval.decided.connect(self.tool_decided)
        self._layout.insertWidget(self._layout.indexOf(self.answer), self.approval)
        return self.approval

    def close_approval(self) -> None:
        """The person decided, or the call was answered otherwise (Stop): the box goes."""
        if self.approval is not None:
            self.approval.hide()
            self._layout.removeWidget(self.approval)
            self.approval.deleteLater()
            self.approval = None

    def mark_step_running(self, index: int) -> None:
        """The person pressed Run on step `index`."""
        if index < len(self.reasoning.steps):
            self.reasoning.steps[index].mark_running()

    def show_python_unavailable(self, reason: str, network_only: bool) -> None:
        """The sandbox could not start: why, and where only the network could not be cut off, the offer to run
        without that isolation."""
        text = f"Python could not run: {reason}."
        if network_only:
            text += (
                " You can let it run without network isolation in this conversation: its code could then "
                "reach the network. Everything else stays confined."
            )
        self.sandbox_reason.setText(text)
        self.unisolated_button.setVisible(network_only)
        self.sandbox_problem.setVisible(True)

    def show_files(self, files: Sequence[ToolFile]) -> None:
        """The files the answer's code wrote, each a link that opens it in the system's app."""
        unique = {file.path: file for file in files}
        self._file_links = {QUrl.fromLocalFile(path).toString() for path in unique}
        links = [
            f"<a href='{html.escape(QUrl.fromLocalFile(path).toString(), quote=True)}'>{html.escape(file.name)}</a>"
            f" ({_size(file.size)})"
            for path, file in unique.items()
        ]
        self.files.setText("<b>Files its code wrote:</b> " + " · ".join(links) if links else "")
        self.files.setVisible(bool(links))

    @Slot(str)
    def _open_file(self, link: str) -> None:
        if link in self._file_links:  # only what the list offers, never a link from elsewhere
            QDesktopServices.openUrl(QUrl(link))

    def copy_answer(self) -> None:
        """Put the answer's Markdown source on the clipboard."""
        QGuiApplication.clipboard().setText(self.answer_text())
        self.copied.emit("Answer copied")

    def show_adapters(self, model: str | None, adapters: Sequence[AnswerAdapter]) -> None:
        """The model and LoRA adapters that wrote the answer: "gpt-oss-20b + French capitals ×1.0" (none: hidden)."""
        self.written_by.setText(written_by(model, adapters) if adapters else "")
        self.written_by.setVisible(bool(adapters))

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
        self._mark_citations()
        self.close_approval()
        if not self.reasoning.isHidden():
            calls = len(self.reasoning.steps)
            self.reasoning.finish(
                reasoning_summary(stats.reasoning_seconds, stats.reasoning_tokens, calls)
                if stats
                else reasoning_summary(None, None, calls)
            )
        if notice:
            self.show_notice(notice)
        self.action_row.setVisible(True)

    def show_stored(self, message: TranscriptMessage, notice: str) -> None:
        """Fill the turn from history: everything rendered at once, reasoning folded with its summary."""
        if (message.reasoning and self._show_reasoning) or message.steps:
            self.reasoning.setVisible(True)
            self.reasoning.show_parts(interleaved(message.reasoning, message.steps))
        self.answer.append_text(message.content)
        self.answer.finish()
        self._finished = True
        self.show_citations(message.citations)
        if not self.reasoning.isHidden():
            stats, calls = message.stats, len(message.steps)
            self.reasoning.finish(
                reasoning_summary(stats.reasoning_seconds, stats.reasoning_tokens, calls)
                if stats
                else reasoning_summary(None, None, calls)
            )
        self.show_files([file for step in message.steps for file in step.files])
        if notice:
            self.show_notice(notice)
        if message.sources:
            self.show_sources(message.sources, message.sources_cited)
        self.show_adapters(message.model, message.adapters)
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

    def show_citations(self, citations: Sequence[Citation]) -> None:
        """What the browsed answer cites: its marks become numbers (links, or grey when unverified) once it is
        rendered whole, and the list under it names each document, page and lines."""
        self.citations = tuple(citations)
        self.cited.setText(citation_list(self.citations, self.palette()))
        self.cited.setVisible(bool(self.citations))
        self._mark_citations()

    def _mark_citations(self) -> None:
        if self._finished and self.citations and not self._marked:
            self._marked = True
            self.answer.mark_browser_citations(marks_of(self.citations))

    @Slot(int)
    def _on_browser_citation(self, index: int) -> None:
        if 0 <= index < len(self.citations) and self.citations[index].verified:
            self.citation_requested.emit(self.citations[index])

    @Slot(str)
    def _on_cited_link(self, link: str) -> None:
        scheme, _, index = link.partition(":")
        if scheme == BROWSER_CITATION_SCHEME and index.isdigit():
            self._on_browser_citation(int(index))

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
