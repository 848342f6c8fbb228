"""Where the person writes: the message box, and beneath it Attach, Runs on, the reasoning effort and Send / Stop.

The box spans the conversation's width and grows with its text up to a limit; the controls sit on a
row of their own under it, so however many there are and however large the text, they never
squeeze the box (it keeps room for MIN_LINE_CHARS characters a line, and the window's panes give
way first).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent, QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QVBoxLayout,
    QWidget,
)

from ...core.harmony import EFFORTS, Effort

#: The message box always has room for this many characters a line.
MIN_LINE_CHARS = 40
#: It grows with its text up to this many lines, then scrolls.
MAX_LINES = 10
EFFORT_TIP = "Reasoning effort for the next message: how long the model thinks first"


class ShrinkingComboBox(QComboBox):
    """A dropdown as wide as its longest item when there is room, down to a few characters (its text then ends
    in "…") when there is not, so a row of controls never pushes the window wider."""

    SHORTEST_CHARS = 6

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        hint = super().minimumSizeHint()
        shortest = self.fontMetrics().horizontalAdvance("x" * self.SHORTEST_CHARS) + 2 * self.iconSize().width()
        return QSize(min(hint.width(), shortest), hint.height())

    def shown_text(self) -> str:
        """The current item's text as it fits the box now: whole, or cut short with "…" (never clipped mid-letter)."""
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        field = self.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, self
        )
        return self.fontMetrics().elidedText(self.currentText(), Qt.TextElideMode.ElideRight, field.width())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        option.currentText = self.shown_text()
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)


class MessageEdit(QPlainTextEdit):
    """Enter sends; Shift+Enter starts a new line; Escape cancels an edit. As tall as its text, within limits."""

    submitted = Signal()
    escaped = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.height_limit = 0  # pixels the box may grow to (0: MAX_LINES); the window sets it from its height
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self._fit()

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

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """Room for MIN_LINE_CHARS characters a line, in the current font."""
        width = self.fontMetrics().horizontalAdvance("x" * MIN_LINE_CHARS) + self._chrome()
        return QSize(width, super().minimumSizeHint().height())

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        """Follow font changes (the font size setting)."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit()

    def _chrome(self) -> int:
        margins = self.contentsMargins()
        return 2 * int(self.document().documentMargin()) + margins.left() + margins.right() + 2 * self.frameWidth()

    def limit_height(self, pixels: int) -> None:
        """Grow to at most `pixels` (a share of the window's height), then scroll."""
        self.height_limit = pixels
        self._fit()

    @Slot()
    def _fit(self) -> None:
        """As many lines as the text has, at least two and at most MAX_LINES (fewer in a low window)."""
        line = self.fontMetrics().lineSpacing()
        margins = self.contentsMargins()
        chrome = 2 * int(self.document().documentMargin()) + margins.top() + margins.bottom() + 2 * self.frameWidth()
        most = MAX_LINES if not self.height_limit else max(2, min(MAX_LINES, (self.height_limit - chrome) // line))
        lines = max(2, min(most, int(self.document().size().height()) or 1))
        if self.height() != lines * line + chrome:
            self.setFixedHeight(lines * line + chrome)


class Composer(QWidget):
    """Emits send_requested(text, effort) and stop_requested; Send turns into Stop while busy."""

    send_requested = Signal(str, str)
    stop_requested = Signal()
    edit_cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composer")
        self.edit = MessageEdit()
        self.edit.setObjectName("messageEdit")
        self.edit.setAccessibleName("Message")
        self.edit.setPlaceholderText("Message gpt-oss — Enter to send, Shift+Enter for a new line")
        self.edit.setTabChangesFocus(True)
        self.edit.escaped.connect(self.edit_cancelled)
        self.effort = QComboBox()  # whole, always: where the row is short, "Runs on" gives way first
        self.effort.setObjectName("effortBox")
        self.effort.setAccessibleName("Reasoning effort")
        for effort in EFFORTS:
            self.effort.addItem(f"Reasoning: {effort.capitalize()}", effort)
        self.effort.setToolTip(EFFORT_TIP)
        self.effort.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.button = QPushButton("Send")
        self.button.setObjectName("sendButton")
        self.button.setAccessibleName("Send")
        self.button.setDefault(True)
        self.editing: QWidget | None = None
        self.edit_banner = QLabel("Editing your message: sending makes it a new version of it. Esc cancels.")
        self.edit_banner.setObjectName("editBanner")
        self.edit_banner.setWordWrap(True)
        self.edit_banner.setVisible(False)
        box = QFrame()
        box.setObjectName("composerBox")
        self.controls = QHBoxLayout()
        self.controls.setContentsMargins(0, 0, 0, 0)
        self.controls.addWidget(self.effort)
        self.controls.addStretch(1)
        self.controls.addWidget(self.button)
        inner = QVBoxLayout(box)
        inner.setContentsMargins(8, 6, 8, 8)
        inner.setSpacing(4)
        inner.addWidget(self.edit)
        inner.addLayout(self.controls)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 4, 12, 10)
        layout.setSpacing(4)
        layout.addWidget(self.edit_banner)
        layout.addWidget(box)
        self._busy = False
        self.set_effort("medium")
        self.edit.submitted.connect(self._submit)
        self.button.clicked.connect(self._on_button)

    def set_editing(self, message: QWidget | None) -> None:
        """Show that the next send makes a new version of `message` (None: a normal send)."""
        self.editing = message
        self.edit_banner.setVisible(message is not None)

    def add_control(self, widget: QWidget, first: bool = False) -> None:
        """Put `widget` on the row under the box, before the effort dropdown (`first`: before everything);
        Tab reaches the row's controls after the message box, left to right."""
        index = 0 if first else self.controls.indexOf(self.effort)
        self.controls.insertWidget(index, widget)
        previous: QWidget = self.edit
        for index in range(self.controls.count()):
            item = self.controls.itemAt(index)
            control = item.widget() if item is not None else None
            if control is not None:
                QWidget.setTabOrder(previous, control)
                previous = control

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
        """Only models with a reasoning effort show the dropdown (other models have nothing to choose)."""
        self.effort.setVisible(supported)

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
