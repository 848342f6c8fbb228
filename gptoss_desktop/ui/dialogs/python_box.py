"""Preferences ▸ Python for code: which Python runs gpt-oss's code (the app's own, or one with pandas, matplotlib).

Another interpreter runs under the same sandbox as the app's own. A path that is not a program is
kept as typed (nothing the person wrote is lost) and said to be wrong here, before any answer needs it.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from ..style import problem_color

OWN_PYTHON = "The app's own Python (the standard library and NumPy)"


def interpreter_problem(path: str) -> str:
    """What is wrong with `path` as a Python to run, "" when nothing is."""
    if not path:
        return ""
    candidate = Path(path).expanduser()
    if not candidate.is_absolute():
        return "Give the whole path to the Python program (for example /usr/bin/python3)."
    if not candidate.exists():
        return f"There is no {candidate.name} there."
    if not candidate.is_file() or not os.access(candidate, os.X_OK):
        return f"{candidate.name} is not a program this computer can run."
    return ""


class PythonBox(QWidget):
    """The interpreter's path (empty, or cleared with its ✕, for the app's own) and Browse…; below, what is wrong
    with it, if anything."""

    def __init__(self, interpreter: str | None) -> None:
        super().__init__()
        self.path = QLineEdit(interpreter or "")
        self.path.setClearButtonEnabled(True)
        self.path.setAccessibleName("Python interpreter for the model's code")
        self.path.setPlaceholderText(OWN_PYTHON)
        self.path.setToolTip(
            "gpt-oss's Python code runs in a sandbox on this computer. Another interpreter, with the packages you "
            "want the model to use (pandas, matplotlib…), runs under the same sandbox."
        )
        self.browse = QPushButton("&Browse…")
        self.browse.setAccessibleName("Choose a Python interpreter")
        self.browse.setAutoDefault(False)
        self.browse.clicked.connect(self._browse)
        self.problem = QLabel()
        self.problem.setObjectName("interpreterProblem")
        self.problem.setWordWrap(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.path, 1)
        row.addWidget(self.browse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.problem)
        self.path.textChanged.connect(self._check)
        self._check()

    @property
    def interpreter(self) -> str | None:
        """The path as typed (None: the app's own)."""
        text = self.path.text().strip()
        return text or None

    @Slot()
    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a Python interpreter", self.path.text())
        if path:
            self.path.setText(path)

    @Slot()
    def _check(self) -> None:
        problem = interpreter_problem(self.path.text().strip())
        self.problem.setText(problem)
        self.problem.setStyleSheet(f"color: {problem_color(self.palette()).name()}")
        self.problem.setVisible(bool(problem))
