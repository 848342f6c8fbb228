"""File ▸ Adapters…: the LoRA adapters the app knows, which of them the shown conversation applies and how strongly.

Every change applies at once to the shown conversation's next answer (llama.cpp switches adapters
without reloading the model), so the dialog can stay open beside the window; Close only closes it.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ...core.engine import MAX_ADAPTER_SCALE
from ...services.chat_worker import AdapterStatus
from ..style import problem_color

#: The slider's steps per unit of scale.
STEPS = 100
INTRO = (
    "A LoRA adapter changes how the model writes without a second copy of the model. Tick the adapters this "
    "conversation uses; the scale goes from 0 (no change) through 1 (as trained) to 2. Switching costs no reload: "
    "the next answer is written with the new set."
)
NONE_YET = (
    "No adapters yet. Add a GGUF LoRA adapter (one made by llama.cpp's convert_lora_to_gguf.py), or drop one on the "
    "window."
)


class AdapterList(Protocol):
    """What the dialog shows and changes (the window's WindowAdapters)."""

    statuses: dict[str, AdapterStatus]
    checking: set[str]

    def paths(self) -> list[str]: ...
    def name_of(self, path: str) -> str: ...
    def scale_of(self, path: str) -> float | None: ...
    @property
    def on_server(self) -> str: ...
    def add(self, path: str) -> None: ...
    def remove(self, path: str) -> None: ...
    def choose(self, path: str, scale: float | None) -> None: ...


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{max(size // 1000, 1)} KB"


def describe(path: str, status: AdapterStatus | None, checking: bool) -> tuple[str, bool]:
    """The line under an adapter's name, and whether it is a problem."""
    file = Path(path).name
    if status is not None and status.problem:
        return status.problem, True
    if status is None or checking:
        return f"{file} · checking…", False
    parts = [file, f"rank {status.rank}", _size(status.size)]
    parts.append(f"fits {status.model}" if status.model else "checked against the model once one is loaded")
    return " · ".join(parts), False


class AdapterRow(QFrame):
    """One adapter: on or off in this conversation, its scale (slider and box), what checking it found, Remove."""

    def __init__(self, path: str, adapters: AdapterList) -> None:
        super().__init__()
        self.setObjectName("adapterRow")
        self.path = path
        self._adapters = adapters
        name = adapters.name_of(path)
        scale = adapters.scale_of(path)
        self.on = QCheckBox(name)
        self.on.setAccessibleName(f"Apply {name} in this conversation")
        self.on.setChecked(scale is not None)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, int(MAX_ADAPTER_SCALE * STEPS))
        self.slider.setPageStep(STEPS // 4)
        self.slider.setAccessibleName(f"Scale of {name}")
        self.scale = QDoubleSpinBox()
        self.scale.setRange(0.0, MAX_ADAPTER_SCALE)
        self.scale.setSingleStep(0.1)
        self.scale.setDecimals(2)
        self.scale.setPrefix("×")
        self.scale.setKeyboardTracking(False)  # typing "1.5" applies 1.5, not 1 on the way
        self.scale.setAccessibleName(f"Scale of {name} (0 to {MAX_ADAPTER_SCALE:g})")
        self.scale.setToolTip("0 changes nothing, 1 applies the adapter as trained, 2 twice as strongly")
        self.scale.setValue(1.0 if scale is None else scale)
        self.slider.setValue(round(self.scale.value() * STEPS))
        self.remove_button = QPushButton("Remove")
        self.remove_button.setAccessibleName(f"Remove {name}")
        self.remove_button.setToolTip("The app forgets it; the file stays where it is")
        self.remove_button.setAutoDefault(False)
        text, problem = describe(path, adapters.statuses.get(path), path in adapters.checking)
        self.details = QLabel(html.escape(text))
        self.details.setObjectName("adapterDetails")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if problem:
            self.details.setStyleSheet(f"color: {problem_color(self.palette()).name()}")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 4, 0, 4)
        grid.addWidget(self.on, 0, 0)
        grid.addWidget(self.slider, 0, 1)
        grid.addWidget(self.scale, 0, 2)
        grid.addWidget(self.remove_button, 0, 3)
        grid.addWidget(self.details, 1, 0, 1, 4)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 2)
        self._enable()
        self.on.toggled.connect(self._apply)
        self.slider.valueChanged.connect(lambda value: self.scale.setValue(value / STEPS))
        self.scale.valueChanged.connect(self._on_scale)
        self.remove_button.clicked.connect(lambda: adapters.remove(path))

    def _enable(self) -> None:
        self.slider.setEnabled(self.on.isChecked())
        self.scale.setEnabled(self.on.isChecked())

    @Slot(float)
    def _on_scale(self, value: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(round(value * STEPS))
        self.slider.blockSignals(False)
        self._apply()

    @Slot()
    def _apply(self) -> None:
        self._enable()
        self._adapters.choose(self.path, self.scale.value() if self.on.isChecked() else None)


class AdaptersDialog(QDialog):
    """The adapters and the shown conversation's choice of them; Add Adapter… checks a file and adds it."""

    def __init__(self, adapters: AdapterList, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Adapters")
        self._adapters = adapters
        self.rows: list[AdapterRow] = []
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        self.server_note = QLabel()
        self.server_note.setWordWrap(True)
        self.problem = QLabel()
        self.problem.setObjectName("adapterProblem")
        self.problem.setWordWrap(True)
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem.setVisible(False)
        self.empty = QLabel(NONE_YET)
        self.empty.setWordWrap(True)
        self._list = QWidget()
        self._rows_layout = QVBoxLayout(self._list)
        self._rows_layout.setContentsMargins(0, 0, 0, 0)
        self._rows_layout.addWidget(self.empty)
        self._rows_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self._list)
        self.add_button = QPushButton("&Add Adapter…")
        self.add_button.setAccessibleName("Add a LoRA adapter file")
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(self.choose_file)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.server_note)
        layout.addWidget(self.problem)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        metrics = self.fontMetrics()
        self.resize(metrics.averageCharWidth() * 80, metrics.lineSpacing() * 20)

    @Slot()
    def refresh(self) -> None:
        """Show the adapters and the shown conversation's choice as they are now."""
        for row in self.rows:
            self._rows_layout.removeWidget(row)
            row.deleteLater()
        self.rows = [AdapterRow(path, self._adapters) for path in self._adapters.paths()]
        for index, row in enumerate(self.rows):
            self._rows_layout.insertWidget(index, row)
        self.empty.setVisible(not self.rows)
        server = self._adapters.on_server
        self.server_note.setText(
            f"This conversation runs on {server}: adapters change the model on this computer, so they apply once "
            "it runs here again."
            if server
            else ""
        )
        self.server_note.setVisible(bool(server))

    @Slot(str)
    def show_problem(self, text: str) -> None:
        """Why an adapter was not added, at the top until the next one is."""
        self.problem.setText(text)
        self.problem.setStyleSheet(f"color: {problem_color(self.palette()).name()}")
        self.problem.setVisible(True)

    @Slot()
    def choose_file(self) -> None:
        """Add Adapter…: a GGUF file, checked against the loaded model before it is added."""
        path, _ = QFileDialog.getOpenFileName(
            self, "Add a LoRA adapter", "", "GGUF LoRA adapters (*.gguf);;All files (*)"
        )
        if path:
            self.problem.setVisible(False)
            self._adapters.add(path)
