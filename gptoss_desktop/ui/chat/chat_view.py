"""The scrolling conversation: turns stacked top to bottom in a centred reading column, following the stream."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from .message_widgets import AssistantTurn, UserMessage

#: How close to the bottom (px) still counts as "at the bottom".
_FOLLOW_SLACK = 24
#: Turns deleted per idle step after leaving a conversation (about 0.25 ms each).
_DELETE_PER_STEP = 20
#: The reading column is at most this many average characters wide (about 750 px at 9 pt), whatever the window.
COLUMN_CHARS = 125
#: The composer lines up with the column's text: its own margins added to the column's width.
COMPOSER_MARGIN = 8


def column_width(widget: QWidget) -> int:
    """The widest the reading column (and the composer under it) grows in `widget`'s font."""
    return widget.fontMetrics().averageCharWidth() * COLUMN_CHARS


class CentredColumn(QWidget):
    """Holds one widget, centred, no wider than its maximum width: the rest of the width is margin."""

    def __init__(self, column: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)  # the style sheet's background fills the margins
        self.column = column
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(column)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        """Margins take what the column cannot use."""
        self._centre(event.size().width())
        super().resizeEvent(event)

    def recentre(self) -> None:
        """The column's maximum width changed (the text size did)."""
        self._centre(self.width())

    def _centre(self, width: int) -> None:
        side = max(0, (width - self.column.maximumWidth()) // 2)
        if self._layout.contentsMargins().left() != side:
            self._layout.setContentsMargins(side, 0, side, 0)
            self._layout.activate()  # now, not on the next pass: the column never shows at a stale width


def _focusable(widget: QWidget) -> list[QWidget]:
    """The controls inside `widget` that Tab can reach, in layout order (each turn builds its parts top-down)."""
    return [w for w in widget.findChildren(QWidget) if w.focusPolicy() & Qt.FocusPolicy.TabFocus]


class ChatView(QScrollArea):
    """Shows the turns; keeps the newest text in view unless the person scrolled up."""

    #: A turn put something on the clipboard; the text says what, for the status line.
    copied = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatView")
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        # Tab reaches it (keys scroll it); a click on a turn's button does not move the keyboard out of the message box.
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.column = QWidget()
        self.column.setObjectName("readingColumn")
        container = CentredColumn(self.column)
        container.setObjectName("chatContainer")
        self._layout = QVBoxLayout(self.column)
        self._layout.setContentsMargins(16, 16, 16, 16)
        self._layout.setSpacing(6)
        self.placeholder = QLabel()
        self.placeholder.setObjectName("placeholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setTextFormat(Qt.TextFormat.RichText)
        self._layout.addWidget(self.placeholder, 1)
        self._layout.addStretch(0)
        self.setWidget(container)
        self.column.setMaximumWidth(column_width(self))
        self.turns: list[UserMessage | AssistantTurn] = []
        self._hidden: list[UserMessage | AssistantTurn] = []  # older turns added at the top, not yet shown
        self._doomed: list[UserMessage | AssistantTurn] = []  # out of view, deleted a few per idle step
        self._reaper = QTimer(self)
        self._reaper.setInterval(0)
        self._reaper.timeout.connect(self._delete_some)
        self._follow = True
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range_changed)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        """The column follows the font size."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_column()

    def _fit_column(self) -> None:
        self.column.setMaximumWidth(column_width(self))
        container = self.widget()
        if isinstance(container, CentredColumn):
            container.recentre()

    def set_placeholder(self, html: str) -> None:
        """What the empty conversation says (e.g. how to load a model)."""
        self.placeholder.setText(html)
        self.placeholder.setVisible(not self.turns)

    def add_user_message(self, text: str, uid: str = "", at_top: bool = False) -> UserMessage:
        """Append the person's message (or put it above the others, when history loads from the end)."""
        widget = UserMessage(text, uid=uid)
        self._add(widget, at_top)
        return widget

    def add_assistant_turn(
        self, show_reasoning: bool, uid: str = "", expand_reasoning: bool = True, at_top: bool = False
    ) -> AssistantTurn:
        """Append an empty assistant turn to stream into."""
        widget = AssistantTurn(show_reasoning, uid=uid, expand_reasoning=expand_reasoning)
        widget.copied.connect(self.copied)
        self._add(widget, at_top)
        return widget

    def remove_from(self, index: int) -> None:
        """Remove the turn at `index` and every later one (regenerate, edit and resend)."""
        self._retire(self.turns[index:])
        self._hidden = [widget for widget in self._hidden if widget not in self.turns[index:]]
        del self.turns[index:]
        self.placeholder.setVisible(not self.turns)

    def scroll_to(self, widget: QWidget) -> None:
        """Bring a turn into view (a search hit) and stop following the stream."""
        self._follow = False
        self.ensureWidgetVisible(widget, 0, 40)

    def clear(self) -> None:
        """Remove every turn."""
        self._retire(self.turns)
        self.turns.clear()
        self._hidden.clear()
        self.placeholder.setVisible(True)

    def _retire(self, widgets: list[UserMessage | AssistantTurn]) -> None:
        """Take turns out of view now and delete them a few at a time, so leaving a long conversation is instant.

        `setParent(None)` costs about 3 ms a turn (400 turns: over a second); hiding and
        unhooking costs almost nothing, and deleting is spread over idle steps.
        """
        for widget in widgets:
            widget.hide()
            self._layout.removeWidget(widget)
        self._doomed.extend(widgets)
        if self._doomed and not self._reaper.isActive():
            self._reaper.start()

    @Slot()
    def _delete_some(self) -> None:
        batch, self._doomed = self._doomed[:_DELETE_PER_STEP], self._doomed[_DELETE_PER_STEP:]
        for widget in batch:
            widget.deleteLater()
        if not self._doomed:
            self._reaper.stop()

    def _add(self, widget: UserMessage | AssistantTurn, at_top: bool = False) -> None:
        self.placeholder.setVisible(False)
        if at_top:
            # Older turns go above the others, hidden until `reveal_older` (laying out and styling a
            # turn costs as much as building it: two steps, two short pauses). Sized to the view's
            # width first, so its text is laid out once, at the width it will have.
            widget.setVisible(False)
            widget.resize(self._layout.contentsRect().width() or self.column.width(), widget.height())
            if (inner := widget.layout()) is not None:
                inner.activate()
            self._layout.insertWidget(1, widget)
            self.turns.insert(0, widget)
            self._hidden.append(widget)
            self._chain_focus(widget, after=self)
            return
        self._follow = True  # a new turn always comes into view
        self._layout.insertWidget(self._layout.count() - 1, widget)
        previous = _focusable(self.turns[-1])[-1:] if self.turns else []
        self.turns.append(widget)
        self._chain_focus(widget, after=previous[0] if previous else self)

    @staticmethod
    def _chain_focus(widget: QWidget, after: QWidget) -> None:
        """Tab goes through the turns in the order they are shown, between the view and the composer
        (Qt's default is creation order, which puts every new turn after the Send button)."""
        for control in _focusable(widget):
            QWidget.setTabOrder(after, control)
            after = control

    def has_hidden(self) -> bool:
        """True while older turns wait to be shown."""
        return bool(self._hidden)

    def reveal_older(self) -> bool:
        """Show the older turns added hidden at the top; False if there were none."""
        hidden, self._hidden = self._hidden, []
        for widget in hidden:
            widget.setVisible(True)
        return bool(hidden)

    @Slot(int)
    def _on_scrolled(self, value: int) -> None:
        self._follow = value >= self.verticalScrollBar().maximum() - _FOLLOW_SLACK

    @Slot(int, int)
    def _on_range_changed(self, _minimum: int, maximum: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(maximum)
