"""One conversation's settings: developer instructions, reasoning effort and sampling."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import (
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core.conversation_settings import MAX_SEED, MAX_TEMPERATURE, MAX_TOKENS_LIMIT, ConversationSettings
from ...core.harmony import Effort
from .settings import effort_combo, ok_cancel_buttons, select_data

_NO_LIMIT = 0  # max tokens spin box value shown as "No limit"
_RANDOM = -1  # seed spin box value shown as "Random"


class InstructionsEdit(QPlainTextEdit):
    """A plain-text box sized in lines of its own font, so it grows with the text size; Tab leaves it."""

    def __init__(self) -> None:
        super().__init__()
        self.setTabChangesFocus(True)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """About 50 characters by 6 lines."""
        metrics = self.fontMetrics()
        frame = 2 * self.frameWidth() + 8
        return QSize(metrics.averageCharWidth() * 50 + frame, metrics.lineSpacing() * 6 + frame)


class ConversationSettingsDialog(QDialog):
    """Edits a ConversationSettings; the caller stores conversation_settings() after OK."""

    def __init__(self, settings: ConversationSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Conversation settings")
        self._original = settings

        label = QLabel("&Instructions (system prompt):")
        self.instructions = InstructionsEdit()
        self.instructions.setAccessibleName("Instructions (system prompt)")
        self.instructions.setAccessibleDescription(
            "Sent to the model before the conversation as developer instructions"
        )
        self.instructions.setPlaceholderText("For example: Answer in French. Keep replies short.")
        label.setBuddy(self.instructions)
        self.effort = effort_combo("Reasoning effort")
        self.effort.setToolTip("How long the model thinks before answering")

        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, MAX_TEMPERATURE)
        self.temperature.setSingleStep(0.05)
        self.temperature.setDecimals(2)
        self.temperature.setAccessibleName("Temperature")
        self.temperature.setToolTip("Higher is more varied, 0 always picks the likeliest word")
        self.top_p = QDoubleSpinBox()
        self.top_p.setRange(0.01, 1.0)
        self.top_p.setSingleStep(0.05)
        self.top_p.setDecimals(2)
        self.top_p.setAccessibleName("Top p")
        self.top_p.setToolTip("Sample only from the likeliest words that together reach this probability")
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(_NO_LIMIT, MAX_TOKENS_LIMIT)
        self.max_tokens.setSingleStep(256)
        self.max_tokens.setSpecialValueText("No limit")
        self.max_tokens.setAccessibleName("Maximum reply tokens")
        self.max_tokens.setToolTip("Stop a reply (reasoning included) after this many tokens")
        self.seed = QSpinBox()
        self.seed.setRange(_RANDOM, MAX_SEED)
        self.seed.setSpecialValueText("Random")
        self.seed.setAccessibleName("Seed")
        self.seed.setToolTip("A fixed seed makes the same prompt give the same reply")
        self.reset_button = QPushButton("&Reset to recommended")
        self.reset_button.setAccessibleName("Reset sampling to recommended")
        self.reset_button.setToolTip(
            "OpenAI's recommendation for gpt-oss: temperature 1, top p 1, no limit, random seed"
        )
        self.reset_button.setAutoDefault(False)  # Enter means OK, not reset
        self.reset_button.clicked.connect(self.reset_sampling)
        buttons = ok_cancel_buttons(self)

        sampling_form = QFormLayout()
        sampling_form.addRow("&Temperature:", self.temperature)
        sampling_form.addRow("Top &p:", self.top_p)
        sampling_form.addRow("&Maximum reply tokens:", self.max_tokens)
        sampling_form.addRow("&Seed:", self.seed)
        reset_row = QHBoxLayout()
        reset_row.addStretch(1)
        reset_row.addWidget(self.reset_button)
        sampling_form.addRow(reset_row)
        sampling = QGroupBox("Sampling")
        sampling.setLayout(sampling_form)
        form = QFormLayout()
        form.addRow("Reasoning &effort:", self.effort)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.instructions, 1)
        layout.addLayout(form)
        layout.addWidget(sampling)
        layout.addWidget(buttons)

        self.instructions.setPlainText(settings.instructions)
        select_data(self.effort, settings.effort)
        self._show_sampling(settings)

    def conversation_settings(self) -> ConversationSettings:
        """The settings as edited; what the dialog does not show (where it runs, consent) is kept."""
        effort: Effort = self.effort.currentData()
        max_tokens = self.max_tokens.value()
        seed = self.seed.value()
        return self._original.with_changes(
            instructions=self.instructions.toPlainText(),
            effort=effort,
            temperature=self.temperature.value(),
            top_p=self.top_p.value(),
            max_tokens=None if max_tokens == _NO_LIMIT else max_tokens,
            seed=None if seed == _RANDOM else seed,
        )

    def reset_sampling(self) -> None:
        """Put sampling back to the recommended values; instructions and effort stay."""
        self._show_sampling(self.conversation_settings().reset_sampling())

    def _show_sampling(self, settings: ConversationSettings) -> None:
        self.temperature.setValue(settings.temperature)
        self.top_p.setValue(settings.top_p)
        self.max_tokens.setValue(_NO_LIMIT if settings.max_tokens is None else settings.max_tokens)
        self.seed.setValue(_RANDOM if settings.seed is None else settings.seed)
