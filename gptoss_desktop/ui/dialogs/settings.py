"""Preferences: theme, font size, default reasoning effort, whether reasoning starts open, semantic search,
the Python that runs the model's code, saved servers, the local API for other programs.

Theme and font size preview live while the dialog is open and are undone by Cancel; the caller
saves what settings() returns after OK.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core.harmony import EFFORTS, Effort
from ...core.settings import MAX_FONT_SIZE, MIN_FONT_SIZE, Settings, Theme
from ...services.model_setup import ModelSetupService
from ..style import apply_appearance, system_font_size
from .api_box import ApiBox
from .python_box import PythonBox
from .semantic_search_box import SemanticSearchBox
from .servers_box import ServersBox

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
        """From "System default", one step up is one point larger than the system's size (so the text does
        grow), rather than the smallest size."""
        if self.value() == self.minimum() and steps > 0:
            self.setValue(min(max(system_font_size() + steps, MIN_FONT_SIZE), MAX_FONT_SIZE))
        else:
            super().stepBy(steps)


class _Scrolling(QScrollArea):
    """A scroll area as large as its contents want (Qt's caps its hint at a few dozen lines): the dialog
    grows with the text size, and only a screen too small for it makes it scroll."""

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        inner = self.widget()
        if inner is None:
            return super().sizeHint()
        hint = inner.sizeHint()
        bar = self.verticalScrollBar().sizeHint().width()
        return QSize(hint.width() + bar, hint.height())


class SettingsDialog(QDialog):
    """The Preferences dialog."""

    def __init__(self, settings: Settings, models: ModelSetupService, parent: QWidget | None = None) -> None:
        """`models`: the app's model manager, which Semantic search ▸ Download borrows."""
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
        self.semantic = SemanticSearchBox(settings.embedding_model_path, models)
        self.python = PythonBox(settings.python_interpreter)
        self.servers = ServersBox(settings.servers)
        self.api = ApiBox(settings)
        buttons = ok_cancel_buttons(self)

        form = QFormLayout()
        form.addRow("&Theme:", self.theme)
        form.addRow("&Font size:", self.font_size)
        form.addRow("Default reasoning &effort:", self.effort)
        form.addRow(self.show_reasoning)
        form.addRow("P&ython for code:", self.python)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.semantic)
        layout.addWidget(self.servers)
        layout.addWidget(self.api)
        layout.addStretch(1)
        # Scrolls where the screen is too small for all of it (800x600 at 200 % text); OK stays in view.
        scroll = _Scrolling()
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        outer = QVBoxLayout(self)
        outer.addWidget(scroll, 1)
        outer.addWidget(buttons)

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
            servers=self.servers.servers,
            api_enabled=self.api.enabled.isChecked(),
            api_port=self.api.port.value(),
            python_interpreter=self.python.interpreter,
        )

    def done(self, result: int) -> None:
        """However the dialog ends, a download it started pauses (keeping its bytes for the next try)."""
        self.semantic.stop_download()
        super().done(result)

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
