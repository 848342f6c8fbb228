"""Where the person writes: the message box, the reasoning-effort dropdown, Send / Stop."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from ...core.harmony import EFFORTS, Effort


class MessageEdit(QPlainTextEdit):
    """Enter sends; Shift+Enter starts a new line; Escape cancels an edit."""

    submitted = Signal()
    escaped = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        if event.key() == Qt.Key.Key_Escape:
            self.escaped.emit()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
            event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            self.submitted.emit()
            return
        super().keyPressEvent(event)


class Composer(QWidget):
    """Emits send_requested(text, effort) and stop_requested; Send turns into Stop while busy."""

    send_requested = Signal(str, str)
    stop_requested = Signal()
    edit_cancelled = Signal()

    #: The message box shows this many lines of text, whatever the font size.
    VISIBLE_LINES = 3

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = MessageEdit()
        self.edit.setObjectName("messageEdit")
        self.edit.setAccessibleName("Message")
        self.edit.setPlaceholderText("Message gpt-oss — Enter to send, Shift+Enter for a new line")
        self.edit.setTabChangesFocus(True)
        self.edit.escaped.connect(self.edit_cancelled)
        self.effort = QComboBox()
        self.effort.setObjectName("effortBox")
        self.effort.setAccessibleName("Reasoning effort")
        for effort in EFFORTS:
            self.effort.addItem(effort.capitalize(), effort)
        self.effort.setToolTip("Reasoning effort for the next message: how long the model thinks first")
        self.button = QPushButton("Send")
        self.button.setObjectName("sendButton")
        self.button.setAccessibleName("Send")
        self.button.setDefault(True)
        self.editing: QWidget | None = None
        self.edit_banner = QLabel("Editing your message: sending replaces it and everything after it. Esc cancels.")
        self.edit_banner.setObjectName("editBanner")
        self.edit_banner.setWordWrap(True)
        self.edit_banner.setVisible(False)
        row = self._row = QHBoxLayout()
        row.addWidget(self.edit, 1)
        row.addWidget(self.effort, 0, Qt.AlignmentFlag.AlignBottom)
        row.addWidget(self.button, 0, Qt.AlignmentFlag.AlignBottom)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 12)
        layout.addWidget(self.edit_banner)
        layout.addLayout(row)
        self._busy = False
        self.set_effort("medium")
        self._fit_height()
        self.edit.submitted.connect(self._submit)
        self.button.clicked.connect(self._on_button)

    def _fit_height(self) -> None:
        """Room for VISIBLE_LINES lines in the current font (so 200 % text is not clipped)."""
        margins = self.edit.contentsMargins()
        line = self.edit.fontMetrics().lineSpacing()
        frame = 2 * self.edit.frameWidth() + 2 * int(self.edit.document().documentMargin())
        self.edit.setFixedHeight(line * self.VISIBLE_LINES + frame + margins.top() + margins.bottom() + 8)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        """Follow font changes (the font size setting)."""
        if event.type() == QEvent.Type.FontChange:
            self._fit_height()
        super().changeEvent(event)

    def set_editing(self, message: QWidget | None) -> None:
        """Show that the next send replaces `message` (None: a normal send)."""
        self.editing = message
        self.edit_banner.setVisible(message is not None)

    def add_control(self, widget: QWidget) -> None:
        """Put `widget` beside the effort dropdown, before it (Tab reaches it after the message box)."""
        self._row.insertWidget(1, widget, 0, Qt.AlignmentFlag.AlignBottom)
        QWidget.setTabOrder(self.edit, widget)
        QWidget.setTabOrder(widget, self.effort)

    def current_effort(self) -> Effort:
        """The effort the next message will use."""
        value: Effort = self.effort.currentData()
        return value

    def set_effort(self, effort: str) -> None:
        """Select an effort by name (low / medium / high)."""
        index = self.effort.findData(effort)
        if index >= 0:
            self.effort.setCurrentIndex(index)

    def set_reasoning_supported(self, supported: bool) -> None:
        """Disable the dropdown, saying why, for models that have no reasoning effort."""
        self.effort.setEnabled(supported)
        self.effort.setToolTip(
            "Reasoning effort for the next message: how long the model thinks first"
            if supported
            else "This model is not gpt-oss: it has no reasoning effort to choose"
        )

    def set_placeholder_model(self, name: str) -> None:
        """Say in the empty message box what the message goes to."""
        self.edit.setPlaceholderText(f"Message {name} — Enter to send, Shift+Enter for a new line")

    def set_busy(self, busy: bool) -> None:
        """While a reply streams the button stops it instead of sending."""
        self._busy = busy
        self.button.setText("Stop" if busy else "Send")
        self.button.setAccessibleName("Stop" if busy else "Send")

    @Slot()
    def _on_button(self) -> None:
        if self._busy:
            self.stop_requested.emit()
        else:
            self._submit()

    @Slot()
    def _submit(self) -> None:
        text = self.edit.toPlainText().strip()
        if not text or self._busy or not self.isEnabled():
            return
        self.edit.clear()
        self.send_requested.emit(text, self.current_effort())
