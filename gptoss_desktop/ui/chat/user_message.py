"""The person's message: a bubble on the right, as wide as its text needs, with Edit and its versions under it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QEnterEvent, QFocusEvent, QResizeEvent
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from .turn_parts import VersionSwitcher, action_button


class _Bubble(QFrame):
    """The bubble itself: Tab stops on it (a screen reader reads the message), and it says when it does."""

    focused = Signal(bool)

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 (Qt's name)
        super().focusInEvent(event)
        self.focused.emit(True)

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 (Qt's name)
        super().focusOutEvent(event)
        self.focused.emit(False)


class UserMessage(QWidget):
    """The person's message, as they typed it (plain text, never interpreted). Edit shows while the pointer
    is over the message or the keyboard is on it; "‹ 1 / 2 ›" shows whenever it has other versions."""

    #: The bubble never takes more than this share of the conversation's width.
    MAX_WIDTH_SHARE = 0.8

    edit_requested = Signal()
    #: Show the version before (-1) or after (+1) this one.
    version_requested = Signal(int)

    def __init__(self, text: str, parent: QWidget | None = None, uid: str = "") -> None:
        super().__init__(parent)
        self.uid = uid
        self.text = text
        self.bubble = _Bubble()
        self.bubble.setObjectName("userMessage")
        self.bubble.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.bubble.setAccessibleName("Your message")
        self.bubble.setAccessibleDescription(text)
        self.label = QLabel(text)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setAccessibleName("Your message")
        self.label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        inner = self._inner = QVBoxLayout(self.bubble)
        inner.setContentsMargins(12, 8, 12, 8)
        inner.addWidget(self.label)
        self.edit_button = action_button("Edit", "Edit this message and send it again")
        self.edit_button.clicked.connect(self.edit_requested)
        self.versions = VersionSwitcher("message")
        self.versions.step_requested.connect(self.version_requested)
        actions = QHBoxLayout()
        actions.setContentsMargins(0, 0, 0, 0)
        actions.setSpacing(2)
        actions.addStretch(1)
        actions.addWidget(self.versions)
        actions.addWidget(self.edit_button)
        bubble_row = QHBoxLayout()
        bubble_row.setContentsMargins(0, 0, 0, 0)
        bubble_row.addStretch(1)
        bubble_row.addWidget(self.bubble)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bubble_row)
        layout.addLayout(actions)
        policy = self.edit_button.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # showing it on hover must not move the conversation
        self.edit_button.setSizePolicy(policy)
        self.edit_button.setVisible(False)
        self.bubble.focused.connect(self._on_focus)
        self.edit_button.installEventFilter(self)

    def show_version(self, number: int, count: int) -> None:
        """This is version `number` of `count` of the message."""
        self.versions.show_version(number, count)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        """As wide as the text needs, up to a share of the width; long messages wrap there."""
        limit = int(event.size().width() * self.MAX_WIDTH_SHARE)
        margins = self._inner.contentsMargins()
        chrome = margins.left() + margins.right() + 2 * self.bubble.frameWidth()
        longest = max((self.label.fontMetrics().horizontalAdvance(line) for line in self.text.split("\n")), default=0)
        self.bubble.setFixedWidth(max(min(longest + chrome + 2, limit), chrome + 8))
        super().resizeEvent(event)

    def enterEvent(self, event: QEnterEvent) -> None:  # noqa: N802 (Qt's name)
        self.edit_button.setVisible(True)
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        self._hide_actions_unless_in_use()
        super().leaveEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """The Edit button leaving the keyboard's focus may leave the message altogether."""
        if watched is self.edit_button and event.type() == QEvent.Type.FocusOut:
            QTimer.singleShot(0, self, self._hide_actions_unless_in_use)
        return False

    def _on_focus(self, focused: bool) -> None:
        if focused:
            self.edit_button.setVisible(True)
        else:
            QTimer.singleShot(0, self, self._hide_actions_unless_in_use)  # once focus has landed (Tab to Edit keeps it)

    def _hide_actions_unless_in_use(self) -> None:
        focus = QApplication.focusWidget()
        if self.underMouse() or (focus is not None and self.isAncestorOf(focus)):
            return
        self.edit_button.setVisible(False)
