"""One conversation's settings: developer instructions, reasoning effort, Python, documents and sampling.

Sampling shows what the conversation will use: the person's choices, and the model's own defaults
elsewhere (gpt-oss: OpenAI's recommendation; other models: what their file advises or chat
defaults). A value left at the model's default is stored as "the model's default", so the
conversation keeps following the model it runs on.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core.conversation_settings import (
    MAX_REPEAT_PENALTY,
    MAX_SEED,
    MAX_TEMPERATURE,
    MAX_TOKENS_LIMIT,
    MAX_TOP_K,
    MIN_REPEAT_PENALTY,
    ConversationSettings,
    DocumentsChoice,
    PythonChoice,
)
from ...core.harmony import Effort
from ...core.sampling import GPT_OSS_SAMPLING, SamplingParams
from ...core.tools.loop import DEFAULT_STEP_LIMIT
from .settings import effort_combo, ok_cancel_buttons, select_data

_NO_LIMIT = 0  # max tokens spin box value shown as "No limit"
_RANDOM = -1  # seed spin box value shown as "Random"
PYTHON_NAMES: dict[PythonChoice, str] = {"ask": "Ask first", "run": "Run without asking", "off": "Off"}
PYTHON_NOTE = f"In a sandbox on this computer; up to {DEFAULT_STEP_LIMIT} tool calls an answer."
DOCUMENTS_NAMES: dict[DocumentsChoice, str] = {
    "browse": "Let the model browse them",
    "passages": "Give it passages",
}
DOCUMENTS_NOTE = f"Up to {DEFAULT_STEP_LIMIT} steps an answer, with Python's."


class InstructionsEdit(QPlainTextEdit):
    """A plain-text box sized in lines of its own font, so it grows with the text size; Tab leaves it."""

    def __init__(self) -> None:
        super().__init__()
        self.setTabChangesFocus(True)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """About 50 characters by 4 lines (the dialog must fit a small screen at large text sizes)."""
        metrics = self.fontMetrics()
        frame = 2 * self.frameWidth() + 8
        return QSize(metrics.averageCharWidth() * 50 + frame, metrics.lineSpacing() * 4 + frame)


def _number(low: float, high: float, step: float, name: str, tip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setDecimals(2)
    box.setAccessibleName(name)
    box.setToolTip(tip)
    return box


def describe_defaults(model: str, defaults: SamplingParams) -> str:
    """The model's defaults in one line, as the dialog says them."""
    parts = [f"temperature {defaults.temperature:g}", f"top p {defaults.top_p:g}"]
    parts.append(f"top k {defaults.top_k}" if defaults.top_k else "no top k")
    if defaults.min_p:
        parts.append(f"min p {defaults.min_p:g}")
    if defaults.repeat_penalty != 1.0:
        parts.append(f"repeat penalty {defaults.repeat_penalty:g}")
    advice = " (as OpenAI recommends for gpt-oss)" if defaults == GPT_OSS_SAMPLING else ""
    return f"{model}'s defaults{advice}: " + ", ".join(parts) + "."


class ConversationSettingsDialog(QDialog):
    """Edits a ConversationSettings; the caller stores conversation_settings() after OK."""

    def __init__(
        self,
        settings: ConversationSettings,
        parent: QWidget | None = None,
        *,
        defaults: SamplingParams | None = None,
        model: str = "gpt-oss",
        reasoning_supported: bool = True,
    ) -> None:
        """`defaults` is what the conversation's model samples with unless told otherwise; a model without a
        reasoning effort (`reasoning_supported` False: not gpt-oss) gets no effort or Python setting."""
        super().__init__(parent)
        self.setWindowTitle("Conversation settings")
        self._original = settings
        self._defaults = defaults or SamplingParams()

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
        self.python = QComboBox()
        for choice, shown in PYTHON_NAMES.items():
            self.python.addItem(shown, choice)
        self.python.setAccessibleName("Python")
        self.python.setToolTip(
            "Whether gpt-oss may run the Python code it writes, in a sandbox on this computer (cut off from the "
            "network and your files). Ask first shows you the code with Run and Skip."
        )
        self.python_note = QLabel(PYTHON_NOTE)
        self.python_note.setObjectName("pythonNote")
        self.documents = QComboBox()
        for way, named in DOCUMENTS_NAMES.items():
            self.documents.addItem(named, way)
        self.documents.setAccessibleName("Documents")
        self.documents.setToolTip(
            "With documents attached, gpt-oss on this computer searches, opens and reads them itself with its "
            "browser tool and cites the lines it read; or it is given their whole text or the best passages."
        )
        self.documents_note = QLabel(DOCUMENTS_NOTE)
        self.documents_note.setObjectName("documentsNote")
        self.unisolated = QCheckBox("Even where the network cannot be cut off")
        self.unisolated.setAccessibleName("Run Python without network isolation")
        self.unisolated.setToolTip(
            "Where the system cannot cut the sandbox off from the network (no user namespaces), run Python "
            "anyway: its code could then reach the network. Everything else stays confined."
        )

        self.temperature = _number(
            0.0, MAX_TEMPERATURE, 0.05, "Temperature", "Higher is more varied, 0 always picks the likeliest word"
        )
        self.top_p = _number(
            0.01, 1.0, 0.05, "Top p", "Sample only from the likeliest words that together reach this probability"
        )
        self.top_k = QSpinBox()
        self.top_k.setRange(0, MAX_TOP_K)
        self.top_k.setSpecialValueText("Off")
        self.top_k.setAccessibleName("Top k")
        self.top_k.setToolTip("Sample only from this many likeliest words (Off: no limit)")
        self.min_p = _number(0.0, 1.0, 0.01, "Min p", "Leave out words less likely than this share of the likeliest")
        self.repeat_penalty = _number(
            MIN_REPEAT_PENALTY,
            MAX_REPEAT_PENALTY,
            0.05,
            "Repeat penalty",
            "Above 1, words already used get less likely",
        )
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
        self.defaults_note = QLabel(describe_defaults(model, self._defaults))
        self.defaults_note.setObjectName("samplingDefaults")
        self.defaults_note.setWordWrap(True)
        self.reset_button = QPushButton("&Use the model's defaults")
        self.reset_button.setAccessibleName("Use the model's sampling defaults")
        self.reset_button.setToolTip(
            "gpt-oss: temperature 1 and top p 1, as OpenAI recommends; other models: what their file advises, "
            "or common chat defaults"
        )
        self.reset_button.setAutoDefault(False)  # Enter means OK, not reset
        self.reset_button.clicked.connect(self.reset_sampling)
        buttons = ok_cancel_buttons(self)

        # Two columns of fields: the dialog stays short enough for a small screen at large text sizes.
        grid = QGridLayout()
        rows = [
            ("&Temperature:", self.temperature, "Top &p:", self.top_p),
            ("Top &k:", self.top_k, "Mi&n p:", self.min_p),
            ("Repeat pe&nalty:", self.repeat_penalty, "&Maximum reply tokens:", self.max_tokens),
        ]
        for row, (first, first_field, second, second_field) in enumerate(rows):
            for column, (text, field) in enumerate(((first, first_field), (second, second_field))):
                name = QLabel(text)
                name.setBuddy(field)
                grid.addWidget(name, row, 2 * column)
                grid.addWidget(field, row, 2 * column + 1)
        seed_label = QLabel("&Seed:")
        seed_label.setBuddy(self.seed)
        grid.addWidget(seed_label, len(rows), 0)
        grid.addWidget(self.seed, len(rows), 1)
        grid.addWidget(self.reset_button, len(rows), 2, 1, 2)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        sampling = QGroupBox("Sampling")
        in_box = QVBoxLayout(sampling)  # the note wraps: a form's rows would not give it the height it needs
        in_box.addWidget(self.defaults_note)
        in_box.addLayout(grid)
        form = QFormLayout()
        if reasoning_supported:
            form.addRow("Reasoning &effort:", self.effort)
            python_row = QHBoxLayout()
            python_row.addWidget(self.python)
            python_row.addWidget(self.python_note, 1)
            python_label = QLabel("P&ython:")
            python_label.setBuddy(self.python)
            form.addRow(python_label, python_row)
            form.addRow("", self.unisolated)
            documents_row = QHBoxLayout()
            documents_row.addWidget(self.documents)
            documents_row.addWidget(self.documents_note, 1)
            documents_label = QLabel("&Documents:")
            documents_label.setBuddy(self.documents)
            form.addRow(documents_label, documents_row)
        else:  # not gpt-oss: no effort, no tools, passages only; nothing to choose
            for widget in (self.effort, self.python, self.unisolated, self.python_note, self.documents,
                           self.documents_note):  # fmt: skip
                widget.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.instructions, 1)
        layout.addLayout(form)
        layout.addWidget(sampling)
        layout.addWidget(buttons)

        self.instructions.setPlainText(settings.instructions)
        select_data(self.effort, settings.effort)
        select_data(self.python, settings.python)
        select_data(self.documents, settings.documents)
        self.unisolated.setChecked(settings.python_without_network_isolation)
        self._show_sampling(settings)

    def conversation_settings(self) -> ConversationSettings:
        """The settings as edited; what the dialog does not show (where it runs, consent) is kept. A sampling
        value equal to the model's default is stored as the model's default."""
        effort: Effort = self.effort.currentData()
        python: PythonChoice = self.python.currentData()
        documents: DocumentsChoice = self.documents.currentData()
        max_tokens = self.max_tokens.value()
        seed = self.seed.value()
        defaults = self._defaults

        def chosen(value: float, default: float) -> float | None:
            return None if abs(value - default) < 1e-6 else value

        return self._original.with_changes(
            instructions=self.instructions.toPlainText(),
            effort=effort,
            python=python,
            documents=documents,
            python_without_network_isolation=self.unisolated.isChecked(),
            temperature=chosen(self.temperature.value(), defaults.temperature),
            top_p=chosen(self.top_p.value(), defaults.top_p),
            top_k=None if self.top_k.value() == defaults.top_k else self.top_k.value(),
            min_p=chosen(self.min_p.value(), defaults.min_p),
            repeat_penalty=chosen(self.repeat_penalty.value(), defaults.repeat_penalty),
            max_tokens=None if max_tokens == _NO_LIMIT else max_tokens,
            seed=None if seed == _RANDOM else seed,
        )

    def reset_sampling(self) -> None:
        """Put sampling back to the model's defaults; instructions and effort stay."""
        self._show_sampling(self.conversation_settings().reset_sampling())

    def _show_sampling(self, settings: ConversationSettings) -> None:
        sampling = settings.sampling(self._defaults)
        self.temperature.setValue(sampling.temperature)
        self.top_p.setValue(sampling.top_p)
        self.top_k.setValue(sampling.top_k)
        self.min_p.setValue(sampling.min_p)
        self.repeat_penalty.setValue(sampling.repeat_penalty)
        self.max_tokens.setValue(_NO_LIMIT if sampling.max_tokens is None else sampling.max_tokens)
        self.seed.setValue(_RANDOM if sampling.seed is None else sampling.seed)
