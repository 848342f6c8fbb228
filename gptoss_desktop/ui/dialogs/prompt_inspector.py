"""The prompt inspector: exactly what an answer's model received, message by message.

Control tokens are marked (a `<|start|>` the person typed is shown as the text it stayed), each
message says how many tokens it took, and what was left out to fit the context is named. Copy
gives the prompt exactly as the model read it, control tokens spelled out.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QFontDatabase, QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ...core.history.transcript import TranscriptMessage
from ...core.prompt_record import PromptPart, PromptSent
from ..style import is_dark

NOT_KEPT = (
    "This answer's prompt was not kept: the answer was written before the app kept prompts, or it ran on a "
    "server, which builds the prompt from the messages itself."
)


def summary(prompt: PromptSent, model: str) -> str:
    """The inspector's first lines: how big the prompt was and what it left out."""
    share = f" of a {prompt.context_size:,}-token context" if prompt.context_size else ""
    lines = [f"What {model or 'the model'} received for this answer: {prompt.tokens:,} tokens{share}."]
    if prompt.left_out:
        lines.append(
            f"Left out to fit the context ({len(prompt.left_out)} oldest messages): " + "; ".join(prompt.left_out)
        )
    if any(name == "<|channel|>" for part in prompt.parts for name, control in part.pieces if control):
        lines.append("Earlier answers appear without their reasoning, as gpt-oss's format requires.")
    return "\n".join(lines)


def part_line(part: PromptPart) -> str:
    """A message of the prompt in the list: who, how many tokens, and how it starts."""
    texts = [piece for piece, control in part.pieces if not control and piece.strip()]
    content = texts[-1] if texts else ""  # the message's text comes after its role and channel
    if part.role and content.startswith(part.role + "\n"):  # a template that writes "user\n…" after its token
        content = content[len(part.role) + 1 :]
    if content.strip() == part.role:
        content = ""
    start = " ".join(content.split())
    start = start if len(start) <= 60 else start[:59].rstrip() + "…"
    return f"{part.role or 'start'} · {part.tokens:,} tokens" + (f" — {start}" if start else "")


def prompt_html(prompt: PromptSent, palette: QPalette) -> str:
    """The prompt as rich text: control tokens on a tinted background, each message on its own lines."""
    dark = is_dark(palette)
    mark = "background:#3b4a63;color:#d6e4ff" if dark else "background:#dde7f7;color:#1d3b72"
    parts = []
    for index, part in enumerate(prompt.parts):
        pieces = "".join(
            f"<span style='{mark}'>{html.escape(text)}</span>" if control else html.escape(text)
            for text, control in part.pieces
        )
        parts.append(f"<a name='part{index}'></a><p style='white-space:pre-wrap;margin-bottom:10px'>{pieces}</p>")
    return "".join(parts)


class PromptInspector(QDialog):
    """Shows one answer's prompt (a window of its own: the conversation can be read beside it)."""

    #: Something was put on the clipboard, for the status line.
    copied = Signal(str)

    def __init__(self, message: TranscriptMessage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle("Prompt of this answer")
        self.prompt = message.prompt
        self.setAccessibleName("Prompt inspector")
        self.summary = QLabel(summary(self.prompt, message.model or "") if self.prompt else NOT_KEPT)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setAccessibleName("About this prompt")
        self.parts = QListWidget()
        self.parts.setAccessibleName("Messages of the prompt")
        self.text = QTextBrowser()
        self.text.setAccessibleName("The prompt")
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setOpenLinks(False)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.parts)
        split.addWidget(self.text)
        split.setStretchFactor(1, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("&Copy Prompt")
        self.copy_button.setAccessibleName("Copy the prompt exactly as the model received it")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.close)
        for button in buttons.buttons():
            button.setAccessibleName(button.accessibleName() or button.text().replace("&", ""))
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        layout.addWidget(buttons)
        self.copy_button.clicked.connect(self.copy_prompt)
        self.parts.currentRowChanged.connect(self._show_part)
        if self.prompt is None:
            split.setVisible(False)
            self.copy_button.setEnabled(False)
        else:
            for part in self.prompt.parts:
                self.parts.addItem(QListWidgetItem(part_line(part)))
            self.text.setHtml(prompt_html(self.prompt, self.palette()))
            rows = min(self.parts.count(), 8)
            list_height = rows * self.parts.sizeHintForRow(0) + 2 * self.parts.frameWidth()
            split.setSizes([list_height, 4 * list_height])
        metrics = self.fontMetrics()
        size = QSize(metrics.averageCharWidth() * 110, metrics.lineSpacing() * 42)
        screen = self.screen()
        self.resize(size.boundedTo(screen.availableGeometry().size() * 0.9) if screen is not None else size)

    @Slot()
    def copy_prompt(self) -> None:
        """The exact prompt, control tokens spelled out, to the clipboard."""
        if self.prompt is not None:
            QGuiApplication.clipboard().setText(self.prompt.text)
            self.copied.emit("Prompt copied")

    @Slot(int)
    def _show_part(self, row: int) -> None:
        if row >= 0:
            self.text.scrollToAnchor(f"part{row}")
