"""The scrolling conversation: turns stacked top to bottom, following the stream."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from .message_widgets import AssistantTurn, UserMessage

#: How close to the bottom (px) still counts as "at the bottom".
_FOLLOW_SLACK = 24


class ChatView(QScrollArea):
    """Shows the turns; keeps the newest text in view unless the person scrolled up."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatView")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        container = QWidget()
        container.setObjectName("chatContainer")
        self._layout = QVBoxLayout(container)
        self._layout.setContentsMargins(16, 16, 16, 16)
        self._layout.setSpacing(12)
        self.placeholder = QLabel()
        self.placeholder.setObjectName("placeholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setTextFormat(Qt.TextFormat.RichText)
        self._layout.addWidget(self.placeholder, 1)
        self._layout.addStretch(0)
        self.setWidget(container)
        self.turns: list[UserMessage | AssistantTurn] = []
        self._follow = True
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range_changed)

    def set_placeholder(self, html: str) -> None:
        """What the empty conversation says (e.g. how to load a model)."""
        self.placeholder.setText(html)
        self.placeholder.setVisible(not self.turns)

    def add_user_message(self, text: str) -> UserMessage:
        """Append the person's message."""
        widget = UserMessage(text)
        self._add(widget)
        return widget

    def add_assistant_turn(self, show_reasoning: bool) -> AssistantTurn:
        """Append an empty assistant turn to stream into."""
        widget = AssistantTurn(show_reasoning)
        self._add(widget)
        return widget

    def clear(self) -> None:
        """Remove every turn."""
        for widget in self.turns:
            widget.setParent(None)
            widget.deleteLater()
        self.turns.clear()
        self.placeholder.setVisible(True)

    def _add(self, widget: UserMessage | AssistantTurn) -> None:
        self.placeholder.setVisible(False)
        self._follow = True  # a new turn always comes into view
        self._layout.insertWidget(self._layout.count() - 1, widget)
        self.turns.append(widget)

    @Slot(int)
    def _on_scrolled(self, value: int) -> None:
        self._follow = value >= self.verticalScrollBar().maximum() - _FOLLOW_SLACK

    @Slot(int, int)
    def _on_range_changed(self, _minimum: int, maximum: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(maximum)
