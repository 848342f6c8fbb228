"""The model's reasoning in an answer, with its tool steps where they happened: live while it thinks, then folded.

The panel is a column of parts: reasoning text, a tool step, more text, … in the order the model
wrote and called them. More reasoning goes into the last text part, or a new one after a step.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QTextEdit, QToolButton, QVBoxLayout, QWidget

from ...core.history.tool_steps import ToolStep
from .auto_height import make_auto_height
from .streaming_text import ShapedParagraph, append_plain
from .tool_views import ToolStepView


def reasoning_summary(seconds: float | None, tokens: int | None, tool_calls: int = 0) -> str:
    """ "Thought for 4 s · 120 tokens · 2 tool calls"; parts not known are left out (answers stored before
    the time was)."""
    calls = f" · {tool_calls} tool call{'s' if tool_calls != 1 else ''}" if tool_calls else ""
    if seconds is None and not tokens:
        return "Reasoning" + calls
    took = ""
    if seconds is not None:
        took = f" for {round(seconds)} s" if seconds >= 1 else " for under a second"
    return f"Thought{took}" + (f" · {tokens:,} tokens" if tokens else "") + calls


def _reasoning_text() -> QTextEdit:
    """A part of the reasoning, in a frame that draws the bar on its left (see `_framed`)."""
    text = QTextEdit()
    text.setObjectName("reasoningText")
    text.setReadOnly(True)
    text.setAcceptRichText(False)
    text.setAccessibleName("Reasoning")
    # Its colour comes from the style sheet (placeholder text), so a theme switch recolours it.
    make_auto_height(text)
    return text


def _framed(text: QTextEdit) -> QFrame:
    """`text` in the frame that draws the bar on its left. The bar is the frame's, not the text's: a style
    sheet border or padding on the text would leave its viewport transparent, and every streamed token
    would repaint the turn, the column and the window's background under it too."""
    frame = QFrame()
    frame.setObjectName("reasoningPart")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(text)
    return frame


class ReasoningPanel(QWidget):
    """The model's reasoning and tool steps: live while it thinks, then folded behind "Thought for N s"."""

    #: Stop was pressed on a running tool step.
    stop_requested = Signal()

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
        self.text = _reasoning_text()  # the first part: reasoning before any tool step
        self.body = QWidget()
        self._parts = QVBoxLayout(self.body)
        self._parts.setContentsMargins(0, 0, 0, 0)
        self._parts.setSpacing(2)
        self._first_part = _framed(self.text)
        self._parts.addWidget(self._first_part)
        self._texts = [self.text]
        self._last_text: QTextEdit | None = self.text  # where more reasoning goes (None right after a step)
        self.steps: list[ToolStepView] = []
        self._shaped = ShapedParagraph()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.toggle, alignment=Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.body)

    def append(self, text: str) -> None:
        """Add reasoning text at the end (after the last step, if one came since the last text)."""
        if self._last_text is None:
            self._last_text = _reasoning_text()
            part = _framed(self._last_text)
            self._parts.addWidget(part)
            part.setVisible(True)  # now, not on the layout's next pass: it shows when the panel does
            self._texts.append(self._last_text)
        append_plain(self._last_text.document(), text, self._shaped)

    def reasoning(self) -> str:
        """The reasoning shown so far (without the steps)."""
        return "".join(part.toPlainText() for part in self._texts)

    def show_step(self, index: int, step: ToolStep, expanded: bool = True) -> ToolStepView:
        """Show step `index` as it is now: a new step goes after everything so far."""
        if index < len(self.steps):
            self.steps[index].show_step(step)
            return self.steps[index]
        if not self.text.toPlainText():
            self._first_part.setVisible(False)  # the model called a tool before writing any reasoning
        view = ToolStepView(step, expanded)
        view.stop_requested.connect(self.stop_requested)
        self._parts.addWidget(view)
        view.setVisible(True)
        self.steps.append(view)
        self._last_text = None
        return view

    def show_parts(self, parts: Sequence[str | ToolStep]) -> None:
        """Fill the panel from history: text and steps in order, the steps folded."""
        index = 0
        for part in parts:
            if isinstance(part, ToolStep):
                self.show_step(index, part, expanded=False)
                index += 1
            else:
                self.append(part)

    def set_expanded(self, expanded: bool) -> None:
        """Show or fold the reasoning and its steps."""
        self.toggle.setChecked(expanded)
        self.toggle.setAccessibleName("Hide reasoning" if expanded else "Show reasoning")
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self.body.setVisible(expanded)

    def finish(self, summary: str) -> None:
        """Fold the reasoning and say how long it took (and how many tools it called)."""
        self._shaped.follow(None)
        self.toggle.setText(summary)
        self.set_expanded(False)
