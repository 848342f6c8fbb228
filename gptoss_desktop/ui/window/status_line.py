"""The status line: which model (or server) the conversation runs on, then the figures of the last answer.

Figures always belong to what is shown: a new model or another conversation clears them, so the
line never pairs one model's context size with another's token counts.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPushButton, QStatusBar

from ...core.events import Stats
from .elided_label import ElidedLabel


class StatusLine:
    """The parts of the window's status bar this app keeps current (GUI thread)."""

    def __init__(self, bar: QStatusBar) -> None:
        self.bar = bar
        self.model_label = ElidedLabel("No model")
        self.model_label.setAccessibleName("Model")
        self.speed_label = QLabel()
        self.speed_label.setAccessibleName("Last answer")
        self.undo_button = QPushButton("Undo")
        self.undo_button.setAccessibleName("Undo delete")
        self.undo_button.setVisible(False)
        bar.addWidget(self.model_label, 1)
        bar.addPermanentWidget(self.undo_button)
        bar.addPermanentWidget(self.speed_label)

    def show_where(self, text: str) -> None:
        """What the conversation runs on (model and context, or the server)."""
        self.model_label.setText(text)

    def show_answer(self, stats: Stats) -> None:
        """The figures of the answer that just ended."""
        self.speed_label.setText(
            f"{stats.tokens_per_second:.1f} tok/s · context {stats.context_used:,} / {stats.context_size:,} tokens"
        )

    def show_generating(self) -> None:
        self.speed_label.setText("Generating…")

    def clear_figures(self) -> None:
        """Another model, another conversation, or a failed answer: the last figures no longer apply."""
        self.speed_label.clear()

    def say(self, text: str, milliseconds: int = 0) -> None:
        """A passing message (0: until the next one)."""
        self.bar.showMessage(text, milliseconds)
