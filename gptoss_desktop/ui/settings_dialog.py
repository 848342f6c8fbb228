"""Preferences: theme, font size, default reasoning effort, whether reasoning starts open, semantic search.

Theme and font size preview live while the dialog is open and are undone by Cancel; the caller
saves what settings() returns after OK.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import DEFAULT_EMBEDDING_SOURCE
from ..core.documents.embeddings import EmbeddingModelError, check_embedding_model
from ..core.harmony import EFFORTS, Effort
from ..core.settings import MAX_FONT_SIZE, MIN_FONT_SIZE, Settings, Theme
from .style import apply_appearance, system_font_size

THEME_NAMES: dict[Theme, str] = {"system": "Follow the system", "light": "Light", "dark": "Dark"}


def effort_combo(accessible_name: str) -> QComboBox:
    """A low / medium / high dropdown whose item data is the harmony effort name."""
    combo = QComboBox()
    for effort in EFFORTS:
        combo.addItem(effort.capitalize(), effort)
    combo.setAccessibleName(accessible_name)
    return combo


def ok_cancel_buttons(dialog: QDialog) -> QDialogButtonBox:
    """OK / Cancel wired to the dialog, each button named for screen readers."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    for button in buttons.buttons():
        button.setAccessibleName(button.text().replace("&", ""))
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


def select_data(combo: QComboBox, value: object) -> None:
    """Select the item carrying this data (left as is when there is none)."""
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)


class FontSizeSpin(QSpinBox):
    """Point size, whose lowest value reads "System default"; stepping up from it starts at the system size."""

    def __init__(self) -> None:
        super().__init__()
        self.setRange(MIN_FONT_SIZE - 1, MAX_FONT_SIZE)
        self.setSpecialValueText("System default")
        self.setSuffix(" pt")

    def point_size(self) -> int | None:
        """The chosen size, or None for the system's."""
        return None if self.value() == self.minimum() else self.value()

    def set_point_size(self, size: int | None) -> None:
        """Show a size (None: system default)."""
        self.setValue(self.minimum() if size is None else size)

    def stepBy(self, steps: int) -> None:  # noqa: N802 (Qt's name)
        """From "System default", one step up lands on the system's size rather than the smallest."""
        if self.value() == self.minimum() and steps > 0:
            self.setValue(min(max(system_font_size(), MIN_FONT_SIZE), MAX_FONT_SIZE))
        else:
            super().stepBy(steps)


#: Short lines rather than word wrap: the dialog grows to fit them at any text size.
SEMANTIC_HELP = (
    "Finds passages worded differently\n"
    "from your question, with a small\n"
    f"embedding model ({DEFAULT_EMBEDDING_SOURCE.label.split(' (')[0]}).\n"
    "Off: documents are searched by\n"
    "their words only."
)
SEMANTIC_DOWNLOAD = (
    f"Download it from {DEFAULT_EMBEDDING_SOURCE.repo_id} with\n"
    f"gptoss-desktop models download --repo {DEFAULT_EMBEDDING_SOURCE.repo_id}"
    f" --file {DEFAULT_EMBEDDING_SOURCE.filename}\n"
    "then choose the file."
)


def _problem_with(path: str) -> str | None:
    """Why the file at `path` cannot be the embedding model (its header is read), or None."""
    try:
        check_embedding_model(Path(path))
    except EmbeddingModelError as exc:
        return str(exc)
    return None


class SemanticSearchBox(QGroupBox):
    """The embedding model file, or Off: Choose… checks the file's header before taking it."""

    def __init__(self, path: str | None) -> None:
        super().__init__("Se&mantic search")
        self.path = path
        self.file = QLabel()
        self.file.setAccessibleName("Semantic search model")
        self.choose = QPushButton("C&hoose…")
        self.choose.setAccessibleName("Choose an embedding model")
        self.choose.setToolTip(f"An embedding model in GGUF, such as all-MiniLM-L6-v2. {SEMANTIC_DOWNLOAD}")
        self.off = QPushButton("&Off")
        self.off.setAccessibleName("Turn semantic search off")
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setAccessibleName("Why the model cannot be used")
        self.problem.setVisible(False)
        self.help = QLabel(SEMANTIC_HELP)
        self.help.setToolTip(SEMANTIC_DOWNLOAD)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.file, 1)
        row.addWidget(self.choose)
        row.addWidget(self.off)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.problem)
        layout.addWidget(self.help)
        self.choose.clicked.connect(self._choose)
        self.off.clicked.connect(self._turn_off)  # a method: a lambda holding self would keep the box in a cycle
        self._show(path)
        if path is not None:  # the saved model may have gone or been replaced since: say so, keep it until changed
            self._show_problem(_problem_with(path))

    def set_path(self, path: str | None) -> str | None:
        """Use the embedding model at `path` (None: off); a file that is not one is refused, and why is
        shown. Returns the reason, or None when taken."""
        problem = _problem_with(path) if path is not None else None
        self._show_problem(problem)
        if problem is None:
            self._show(path)
        return problem

    def _show(self, path: str | None) -> None:
        self.path = path
        self.file.setText(Path(path).name if path else "Off")
        self.file.setToolTip(path or "Documents are searched by their words only")
        self.off.setEnabled(path is not None)

    def _show_problem(self, problem: str | None) -> None:
        self.problem.setText(problem or "")
        self.problem.setVisible(problem is not None)

    def _turn_off(self) -> None:
        self.set_path(None)

    def _choose(self) -> None:
        start = str(Path(self.path).parent) if self.path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Choose an embedding model", start, "GGUF models (*.gguf)")
        if path:
            self.set_path(path)


class SettingsDialog(QDialog):
    """The Preferences dialog."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self._original = settings
        self._previewed = False

        self.theme = QComboBox()
        for theme, name in THEME_NAMES.items():
            self.theme.addItem(name, theme)
        self.theme.setAccessibleName("Theme")
        self.font_size = FontSizeSpin()
        self.font_size.setAccessibleName("Font size")
        self.font_size.setAccessibleDescription("Text size in points; the lowest value follows the system")
        self.effort = effort_combo("Default reasoning effort")
        self.effort.setToolTip("The reasoning effort new conversations start with")
        self.show_reasoning = QCheckBox("&Show reasoning by default")
        self.show_reasoning.setAccessibleName("Show reasoning by default")
        self.show_reasoning.setToolTip("Open each reply's reasoning panel instead of folding it away")
        self.semantic = SemanticSearchBox(settings.embedding_model_path)
        buttons = ok_cancel_buttons(self)

        form = QFormLayout()
        form.addRow("&Theme:", self.theme)
        form.addRow("&Font size:", self.font_size)
        form.addRow("Default reasoning &effort:", self.effort)
        form.addRow(self.show_reasoning)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.semantic)
        layout.addStretch(1)
        layout.addWidget(buttons)

        select_data(self.theme, settings.theme)
        self.font_size.set_point_size(settings.font_size)
        select_data(self.effort, settings.effort)
        self.show_reasoning.setChecked(settings.show_reasoning)
        self.theme.currentIndexChanged.connect(self._preview)
        self.font_size.valueChanged.connect(self._preview)

    def settings(self) -> Settings:
        """The settings as edited (fields this dialog does not show are kept)."""
        theme: Theme = self.theme.currentData()
        effort: Effort = self.effort.currentData()
        return self._original.with_changes(
            theme=theme,
            font_size=self.font_size.point_size(),
            effort=effort,
            show_reasoning=self.show_reasoning.isChecked(),
            embedding_model_path=self.semantic.path,
        )

    def reject(self) -> None:
        """Cancel also undoes the live preview."""
        if self._previewed:
            apply_appearance(_app(), self._original)
            self._previewed = False
        super().reject()

    def _preview(self) -> None:
        apply_appearance(_app(), self.settings())
        self._previewed = True


def _app() -> QApplication:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return app
