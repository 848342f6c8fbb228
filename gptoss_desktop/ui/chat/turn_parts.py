"""Small parts shared by the turns: the flat action buttons under a message and the "‹ 2 / 3 ›" version switcher."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget


def action_button(text: str, tip: str) -> QToolButton:
    """A small flat button under a message (Copy, Edit, Regenerate, Prompt). Clicking it leaves the keyboard
    focus where it was (the message box); Tab still reaches it."""
    button = QToolButton()
    button.setObjectName("turnAction")
    button.setText(text)
    button.setToolTip(tip)
    button.setAccessibleName(tip)
    button.setAutoRaise(True)
    button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
    return button


class VersionSwitcher(QWidget):
    """ "‹ 2 / 3 ›": which version of a message shows, and buttons to the one before and after."""

    #: -1 for the version before, +1 for the one after.
    step_requested = Signal(int)

    def __init__(self, what: str, parent: QWidget | None = None) -> None:
        """`what` names the message for screen readers ("answer", "message")."""
        super().__init__(parent)
        self._what = what
        self.previous = QToolButton()
        self.previous.setObjectName("versionButton")
        self.previous.setText("‹")
        self.previous.setAccessibleName(f"Previous version of this {what}")
        self.previous.setToolTip(f"Previous version of this {what}")
        self.next = QToolButton()
        self.next.setObjectName("versionButton")
        self.next.setText("›")
        self.next.setAccessibleName(f"Next version of this {what}")
        self.next.setToolTip(f"Next version of this {what}")
        for button in (self.previous, self.next):
            button.setAutoRaise(True)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.label = QLabel()
        self.label.setObjectName("versionLabel")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.previous)
        row.addWidget(self.label)
        row.addWidget(self.next)
        self.previous.clicked.connect(lambda: self.step_requested.emit(-1))
        self.next.clicked.connect(lambda: self.step_requested.emit(1))
        self.show_version(1, 1)

    def show_version(self, number: int, count: int) -> None:
        """Version `number` of `count` shows; the switcher hides while there is only one."""
        self.label.setText(f"{number} / {count}")
        self.label.setAccessibleName(f"Version {number} of {count} of this {self._what}")
        self.previous.setEnabled(number > 1)
        self.next.setEnabled(number < count)
        self.setVisible(count > 1)

    @property
    def text(self) -> str:
        """What a person reads: "‹ 2 / 3 ›"."""
        return f"‹ {self.label.text()} ›"
