"""The window's panes: conversation list, conversation, source pane, and which give way when room runs out.

The conversation (and its message box, which keeps room for 40 characters a line) never gives way:
the list and the source pane do. Each has a small explicit minimum width, so the window itself can
be made narrow; when one would get less than it needs, it folds away (the list comes back once there
is room, unless the person hid it), so nothing is drawn squeezed or cut off. The window opens no
larger than the screen, where it was last time.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QObject, QSize, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow, QSplitter, QWidget

#: How wide the conversation list opens, and the source pane, in average characters.
SIDEBAR_CHARS = 40
SOURCE_CHARS = 60
#: How large a first window opens (then never beyond the screen's free area).
FIRST_SIZE = QSize(1180, 800)


def natural_minimum(widget: QWidget) -> int:
    """The width a pane's contents need, whatever minimum was set on the pane itself."""
    layout = widget.layout()
    return layout.totalMinimumSize().width() if layout is not None else widget.minimumSizeHint().width()


class Panes(QObject):
    """Keeps the splitter's panes within the window (GUI thread)."""

    def __init__(self, splitter: QSplitter, sidebar: QWidget, conversation: QWidget, source: QWidget) -> None:
        super().__init__(splitter)
        self.splitter = splitter
        self.sidebar = sidebar
        self.conversation = conversation
        self.source = source
        #: Whether the person wants the list (View ▸ Conversation List); room permitting, it shows.
        self.sidebar_wanted = True
        for widget in (sidebar, conversation, source):
            splitter.addWidget(widget)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setStretchFactor(2, 0)
        for pane in (sidebar, source):
            pane.setMinimumWidth(1)  # the window may be narrower than the pane needs: it then folds away
        splitter.installEventFilter(self)
        source.installEventFilter(self)
        splitter.splitterMoved.connect(lambda _position, _index: self.fit())  # a dragged divider squeezes no pane
        self._fitting = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """Refit when the window is resized or the text size changes."""
        if (watched is self.splitter and event.type() in (QEvent.Type.Resize, QEvent.Type.FontChange)) or (
            watched is self.source and event.type() == QEvent.Type.Hide
        ):
            QTimer.singleShot(0, self, self.fit)
        return False

    def set_sidebar_wanted(self, wanted: bool) -> None:
        """The person showed or hid the list."""
        self.sidebar_wanted = wanted
        self.fit()

    def open_source(self) -> None:
        """The source pane opens beside the conversation, as wide as the room allows."""
        self.source.show()
        self.fit(source_opened=True)

    def fit(self, source_opened: bool = False) -> None:
        """Fold away what does not fit; give the source pane its width when it opens."""
        if self._fitting:
            return
        self._fitting = True
        try:
            self._fit(source_opened)
        finally:
            self._fitting = False

    def _fit(self, source_opened: bool) -> None:
        room = self.splitter.width()
        handle = self.splitter.handleWidth()
        chars = self.splitter.fontMetrics().averageCharWidth()
        conversation = self.conversation.minimumSizeHint().width()
        # An open source pane wants room to be read in: the list folds away before it is squeezed.
        source = max(chars * SOURCE_CHARS, natural_minimum(self.source)) + handle if self.source.isVisible() else 0
        sidebar_need = natural_minimum(self.sidebar) + handle
        show_sidebar = self.sidebar_wanted and room >= conversation + source + sidebar_need
        if show_sidebar != self.sidebar.isVisible():
            self.sidebar.setVisible(show_sidebar)
        if not (show_sidebar or self.source.isVisible()):
            return
        sizes = self.splitter.sizes()
        if show_sidebar:
            sizes[0] = max(natural_minimum(self.sidebar), min(sizes[0] or chars * SIDEBAR_CHARS, room // 3))
        if self.source.isVisible():
            left = room - conversation - (sizes[0] + handle if show_sidebar else 0) - handle
            wanted = chars * SOURCE_CHARS if source_opened or sizes[2] < natural_minimum(self.source) else sizes[2]
            sizes[2] = max(min(wanted, left), natural_minimum(self.source))
        sizes[1] = max(room - (sizes[0] if show_sidebar else 0) - (sizes[2] if self.source.isVisible() else 0), 1)
        self.splitter.setSizes(sizes)


def place_window(window: QMainWindow, saved: str | None) -> None:
    """Where the window was last time (or a comfortable first size), never larger than the screen's free area."""
    if saved:
        window.restoreGeometry(QByteArray.fromBase64(saved.encode("ascii")))
    else:
        window.resize(FIRST_SIZE)
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return
    free = screen.availableGeometry()
    size = window.size().boundedTo(free.size())
    if size != window.size():
        window.resize(size)
    frame = window.frameGeometry()
    left = max(free.left(), min(frame.left(), free.right() + 1 - frame.width()))
    top = max(free.top(), min(frame.top(), free.bottom() + 1 - frame.height()))
    if (left, top) != (frame.left(), frame.top()):
        window.move(left, top)


def saved_geometry(window: QMainWindow) -> str:
    """The window's place and size, for the settings file."""
    return bytes(window.saveGeometry().toBase64().data()).decode("ascii")
