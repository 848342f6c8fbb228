"""What a streamed token costs the window, counted as work Qt does (not timed): the text that grew is repainted
and nothing under it, and only the paragraph that streams keeps its glyphs between updates."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, QRect
from PySide6.QtGui import QRegion, QTextDocument
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from gptoss_desktop.ui.chat.chat_view import ChatView
from gptoss_desktop.ui.chat.markdown_view import StreamingMarkdownView
from gptoss_desktop.ui.chat.message_widgets import AssistantTurn
from gptoss_desktop.ui.chat.reasoning_panel import ReasoningPanel
from gptoss_desktop.ui.style import apply_style


class PaintCounter(QObject):
    """Counts the paint events each widget of the application receives, and where they painted."""

    def __init__(self) -> None:
        super().__init__()
        self.painted: Counter[QWidget] = Counter()
        self.regions: dict[QWidget, QRegion] = {}

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint and isinstance(watched, QWidget):
            self.painted[watched] += 1
            self.regions[watched] = self.regions.get(watched, QRegion()).united(event.region())  # type: ignore[attr-defined]
        return False

    def clear(self) -> None:
        self.painted.clear()
        self.regions.clear()


@pytest.fixture
def paints() -> Iterator[PaintCounter]:
    counter = PaintCounter()
    app = QApplication.instance()
    assert app is not None
    app.installEventFilter(counter)
    yield counter
    app.removeEventFilter(counter)


def shown_turn(qtbot: QtBot) -> tuple[ChatView, AssistantTurn]:
    """A conversation in the app's style, a question and the answer streaming under it, on screen."""
    apply_style(QApplication.instance())  # type: ignore[arg-type]
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.add_user_message("Say hi.")
    turn = view.add_assistant_turn(show_reasoning=True)
    view.show()
    view.activateWindow()
    qtbot.waitActive(view)  # its activation repaints everything, in the active colours
    return view, turn


def stream_words(qtbot: QtBot, paints: PaintCounter, append: Callable[[str], None], surface: QWidget) -> None:
    """Stream a few words, one update at a time, each waited for until it is on screen; the words fit on one
    line (a new line may grow the turn, which repaints what moves)."""
    append("Hello")
    qtbot.waitUntil(lambda: paints.painted[surface] > 0)
    paints.clear()
    for word in (" there,", " how", " are", " you", " today?"):
        before = paints.painted[surface]
        append(word)
        qtbot.waitUntil(lambda before=before: paints.painted[surface] > before)  # type: ignore[misc]


def painted_under(paints: PaintCounter, widget: QWidget, top: QWidget) -> list[str]:
    """The widgets from `widget`'s parent up to `top` that were painted where `widget` is, by object name.
    (What they paint elsewhere is not the stream's doing: the question's Edit button, say, shows when the
    window's focus lands on the question or an earlier test left the pointer over it.)"""
    names = []
    parent = widget.parentWidget()
    while parent is not None:
        under = QRect(widget.mapTo(parent, QPoint(0, 0)), widget.size())
        if parent in paints.regions and paints.regions[parent].intersects(under):
            names.append(parent.objectName() or type(parent).__name__)
        if parent is top:
            break
        parent = parent.parentWidget()
    return names


def test_a_streamed_token_repaints_the_answer_and_nothing_under_it(qtbot: QtBot, paints: PaintCounter) -> None:
    view, turn = shown_turn(qtbot)
    answer = turn.answer
    stream_words(qtbot, paints, answer.append_text, answer.viewport())
    assert paints.painted[answer.viewport()] >= 5
    assert painted_under(paints, answer.viewport(), view) == []  # not the turn, the column, the view behind it
    assert answer.markdown_source() == "Hello there, how are you today?"


def test_streamed_reasoning_repaints_its_text_and_nothing_under_it(qtbot: QtBot, paints: PaintCounter) -> None:
    view, turn = shown_turn(qtbot)
    text = turn.reasoning.text
    stream_words(qtbot, paints, turn.append_reasoning, text.viewport())
    assert paints.painted[text.viewport()] >= 5
    assert painted_under(paints, text.viewport(), view) == []  # not its bar, the panel, the turn, the column
    assert turn.reasoning.reasoning() == "Hello there, how are you today?"


def cached(document: QTextDocument) -> list[str]:
    """The paragraphs whose layout keeps its glyphs (Qt drops them after laying a paragraph out by default)."""
    texts = []
    block = document.firstBlock()
    while block.isValid():
        if block.layout().cacheEnabled():
            texts.append(block.text())
        block = block.next()
    return texts


def test_only_the_paragraph_that_streams_keeps_its_glyphs(qtbot: QtBot) -> None:
    """Its repaint after each update draws the glyphs its layout made, instead of shaping it all again;
    a paragraph the stream has left, and the whole answer once finished, hold no more than Qt's default."""
    view = StreamingMarkdownView()
    qtbot.addWidget(view)
    view.append_text("First paragraph.\n\nSecond, still stream")
    assert cached(view.document()) == ["Second, still stream"]
    view.append_text("ing.\n\nThird")
    assert cached(view.document()) == ["Third"]
    view.append_text(" one.\n\n```python\nx = 1\ny")
    assert cached(view.document()) == ["y"]  # the code line that streams, in its box
    view.finish()
    assert cached(view.document()) == []

    panel = ReasoningPanel()
    qtbot.addWidget(panel)
    panel.append("Thinking about it")
    panel.append(" some more")
    assert cached(panel.text.document()) == ["Thinking about it some more"]
    panel.finish("Thought for 2 s")
    assert cached(panel.text.document()) == []
