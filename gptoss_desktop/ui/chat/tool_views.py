"""How a tool step looks in an answer: its code coloured, its output, whether it runs, and the person's Run or Skip.

A step sits in the reasoning area where the model made the call: one line ("Running Python… 3 s"
with Stop while it runs, "Ran Python · 0.4 s" once done) that unfolds to the code and its output. A
browser step ("Searched 'notice period' · 5 results", "Opened lease.pdf, page 3 of 12 · lines 0-41")
unfolds to the page the model read; it starts folded, pages are long.
Before python runs on "ask first", a box in the answer shows the code with Run and Skip.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QSizeF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.history.tool_steps import ToolStep
from .auto_height import make_auto_height
from .code_highlight import CodeHighlighter
from .turn_parts import action_button

#: The output shows this many lines at most; more scroll inside it (a cell may print megabytes).
OUTPUT_LINES = 12


def _monospace(widget: QWidget) -> None:
    widget.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))


def language_of(recipient: str) -> str:
    """The language a call's arguments are written in, for colouring."""
    return "python" if recipient == "python" else "json"


class CodeView(QTextEdit):
    """Code as code: monospace, coloured for its language (again when the theme changes), wrapping, as tall as it is."""

    def __init__(self, code: str, language: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("toolCode")
        self.setReadOnly(True)
        self.setAcceptRichText(False)
        self.setAccessibleName("Code")
        _monospace(self)
        make_auto_height(self)
        self.document().setDocumentMargin(6)
        self._language = language
        self.setPlainText(code)
        self._colour(reset=False)

    def code(self) -> str:
        """The code shown."""
        return self.toPlainText()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        """A new palette (light or dark) gets colours chosen for it."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "_language"):
            self._colour(reset=True)

    def _colour(self, reset: bool) -> None:
        CodeHighlighter(self.palette()).highlight(self.document(), 0, self.toPlainText(), self._language, reset)


class OutputView(QPlainTextEdit):
    """What a call printed, whole: monospace, up to OUTPUT_LINES lines tall, the rest scrolls."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("toolOutput")
        self.setReadOnly(True)
        self.setAccessibleName("Output")
        _monospace(self)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)

    @Slot(QSizeF)
    def _fit(self, size: QSizeF) -> None:
        lines = max(1, min(int(size.height()), OUTPUT_LINES))  # a plain text layout counts its height in lines
        height = lines * self.fontMetrics().lineSpacing() + 2 * int(self.document().documentMargin()) + 4
        if self.height() != height:
            self.setFixedHeight(height)


class ToolStepView(QFrame):
    """One step: a line saying what it did (or that it runs, with Stop), unfolding to its code and output."""

    #: Stop was pressed on the running step (it stops the answer, as Stop does).
    stop_requested = Signal()

    def __init__(self, step: ToolStep, expanded: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("toolStep")
        #: A browser step shows the page the model read, not the call's JSON.
        self.browsing = step.recipient.split(".", 1)[0] == "browser"
        expanded = expanded and not self.browsing
        self.toggle = QToolButton()
        self.toggle.setObjectName("toolStepToggle")
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setCheckable(True)
        self.toggle.setAutoRaise(True)
        self.toggle.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.toggle.toggled.connect(self.set_expanded)
        self.stop_button = action_button("Stop", "Stop running this code (the answer stops too)")
        self.stop_button.clicked.connect(self.stop_requested)
        self.code = CodeView(step.arguments, language_of(step.recipient))
        self.output = OutputView()
        if self.browsing:
            self.code.setVisible(False)  # (showing it here, before it has a parent, would open it as a window)
            self.output.setAccessibleName("The page the model read")
        self.output.setVisible(False)
        self.details = QWidget()
        inner = QVBoxLayout(self.details)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(2)
        inner.addWidget(self.code)
        inner.addWidget(self.output)
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.toggle)
        header.addWidget(self.stop_button)
        header.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 2, 0, 2)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self.details)
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._tick)
        self._started = time.monotonic()
        self.step = step
        self.show_step(step)
        self.set_expanded(expanded)

    @property
    def title(self) -> str:
        """The line a person reads: "Ran Python · 0.4 s", "Running Python… 3 s"."""
        return self.toggle.text()

    def show_step(self, step: ToolStep) -> None:
        """Show the step as it is now (its call, the person's turn to decide, its result)."""
        was_running = self.step.status == "running" and self._clock.isActive()
        self.step = step
        running = step.status == "running"
        if running and not was_running:
            self._started = time.monotonic()
            self._clock.start()
        elif not running:
            self._clock.stop()
        self.stop_button.setVisible(running)
        if step.finished:
            self.toggle.setText(step.summary or f"Called {step.recipient}")
            self.output.setPlainText(step.output)
            self.output.setVisible(bool(step.output))
        elif step.status == "waiting":
            self.toggle.setText(f"{step.tool_name[:1].upper()}{step.tool_name[1:]}: waiting for your Run or Skip")
            self.set_expanded(False)  # the question under the reasoning shows the code
        else:
            self._tick()
        self.setAccessibleName(self.title)

    def mark_running(self) -> None:
        """The person pressed Run: the step runs from now on (its result follows), its code in view."""
        self.show_step(ToolStep(self.step.recipient, self.step.arguments, self.step.at))
        self.set_expanded(True)

    def set_expanded(self, expanded: bool) -> None:
        """Show or fold the code and output."""
        self.toggle.setChecked(expanded)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        what = "the page" if self.browsing else "the code"
        self.toggle.setAccessibleName(f"{'Hide' if expanded else 'Show'} {what}: {self.toggle.text()}")
        self.details.setVisible(expanded)

    @property
    def expanded(self) -> bool:
        return self.toggle.isChecked()

    @Slot()
    def _tick(self) -> None:
        seconds = int(time.monotonic() - self._started)
        self.toggle.setText(f"Running {self.step.tool_name}…" + (f" {seconds} s" if seconds else ""))


class ToolApprovalBox(QFrame):
    """ "Run this code?" inside the answer: the code, Run and Skip, and whether to stop asking in this conversation."""

    #: Run (True) or Skip (False); the second value is "do not ask again in this conversation".
    decided = Signal(bool, bool)

    def __init__(self, code: str, recipient: str, network_isolated: bool = True, parent: QWidget | None = None) -> None:
        """`network_isolated` False: the person let python run where the network cannot be cut off (it says so)."""
        super().__init__(parent)
        self.setObjectName("toolApproval")
        self.setAccessibleName("Run this code?")
        where = (
            "in a sandbox cut off from the network and from your files"
            if network_isolated
            else "in a sandbox that, as you allowed, is not cut off from the network"
        )
        self.question = QLabel(f"<b>The model wants to run this Python code.</b> It runs on this computer, {where}.")
        self.question.setWordWrap(True)
        self.code = CodeView(code, language_of(recipient))
        self.run_button = QPushButton("&Run")
        self.run_button.setAccessibleName("Run the code")
        self.run_button.clicked.connect(lambda: self._decide(True))
        self.skip_button = QPushButton("S&kip")
        self.skip_button.setAccessibleName("Skip: do not run the code")
        self.skip_button.setToolTip("The model is told you declined, and goes on without it")
        self.skip_button.clicked.connect(lambda: self._decide(False))
        self.always = QCheckBox("Run without asking in this conversation")
        self.always.setToolTip("Conversation Settings ▸ Python can change it back")
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.skip_button)
        buttons.addSpacing(12)
        buttons.addWidget(self.always)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addWidget(self.question)
        layout.addWidget(self.code)
        layout.addLayout(buttons)

    def _decide(self, run: bool) -> None:
        self.run_button.setEnabled(False)
        self.skip_button.setEnabled(False)
        self.decided.emit(run, run and self.always.isChecked())
