"""The conversation list: newest first under Today / Yesterday / … headings, search as you type, rename in
place, delete."""

from __future__ import annotations

import datetime as dt
import html

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPalette,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from ...services.history_service import SearchHit, StoredConversation

#: Searching starts once typing pauses this long, so each key press does not query the database.
SEARCH_DELAY_MS = 150
UNTITLED = "New conversation"
_UID = Qt.ItemDataRole.UserRole
_MESSAGE_UID = Qt.ItemDataRole.UserRole + 1
_Index = QModelIndex | QPersistentModelIndex
_RICH_TEXT = Qt.ItemDataRole.UserRole + 2  # a search result drawn with its matched words in bold
_MATCHED = Qt.ItemDataRole.UserRole + 3  # a search result's matched words
#: True on the Today / Yesterday / … headings between conversations.
HEADING_ROLE = Qt.ItemDataRole.UserRole + 4
_RESULT_PADDING = 4  # pixels above and below each search result, so results read as separate


def result_html(title: str, hit: SearchHit) -> str:
    """A search result as rich text: the title, then the snippet with the matched words in bold."""
    snippet = "".join(f"<b>{html.escape(text)}</b>" if matched else html.escape(text) for text, matched in hit.runs())
    return f"{html.escape(title)}<br><span style='font-size: small'>{snippet}</span>"


class RichTextDelegate(QStyledItemDelegate):
    """Draws items that carry rich text (search results) as such; other items as usual."""

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        """The item's background and focus as the style draws them, then the rich text on top."""
        rich = index.data(_RICH_TEXT)
        if not rich:
            super().paint(painter, option, index)
            return
        options = QStyleOptionViewItem(option)
        self.initStyleOption(options, index)
        options.text = ""
        style = options.widget.style() if options.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, options, painter, options.widget)
        document = self._document(rich, options)
        selected = bool(options.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        context = QAbstractTextDocumentLayout.PaintContext()
        context.palette.setColor(QPalette.ColorRole.Text, options.palette.color(role))
        painter.save()
        painter.translate(options.rect.topLeft() + QPoint(0, _RESULT_PADDING))
        document.documentLayout().draw(painter, context)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:  # noqa: N802
        """As tall as the wrapped rich text at the list's width."""
        rich = index.data(_RICH_TEXT)
        if not rich:
            return super().sizeHint(option, index)
        document = self._document(rich, option)
        return QSize(option.rect.width(), int(document.size().height()) + 2 * _RESULT_PADDING)

    @staticmethod
    def _document(rich: str, option: QStyleOptionViewItem) -> QTextDocument:
        document = QTextDocument()
        document.setDefaultFont(option.font)
        document.setHtml(rich)
        width = option.rect.width() or (option.widget.width() if option.widget else 200)
        document.setTextWidth(max(width, 50))
        return document


def group_of(timestamp: float, today: dt.date | None = None) -> str:
    """The heading a conversation last changed at `timestamp` is listed under."""
    day = dt.datetime.fromtimestamp(timestamp).date()
    today = today or dt.date.today()
    age = (today - day).days
    if age <= 0:
        return "Today"
    if age == 1:
        return "Yesterday"
    if age < 7:
        return "Previous 7 days"
    if age < 30:
        return "Previous 30 days"
    return day.strftime("%B %Y")


def _when(timestamp: float) -> str:
    """ "14:05" today, "Mon 3 Nov" this year, "3 Nov 2025" before."""
    moment = dt.datetime.fromtimestamp(timestamp)
    today = dt.date.today()
    if moment.date() == today:
        return moment.strftime("%H:%M")
    if moment.year == today.year:
        return moment.strftime("%a %-d %b")
    return moment.strftime("%-d %b %Y")


class SearchBox(QLineEdit):
    """The search field: Down moves into the results, Escape clears the search."""

    down_pressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        """Down goes to the results; Escape empties the field (back to all conversations)."""
        if event.key() == Qt.Key.Key_Down:
            self.down_pressed.emit()
            return
        if event.key() == Qt.Key.Key_Escape and self.text():
            self.clear()
            return
        super().keyPressEvent(event)


class ConversationList(QListWidget):
    """The list itself; Delete deletes, F2 renames; a right click opens the menu without selecting."""

    delete_pressed = Signal()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        """A right click only asks for the context menu: the conversation shown stays marked."""
        if event.button() == Qt.MouseButton.RightButton:
            event.accept()
            return
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        """Delete removes the selected conversation (undo from the status bar)."""
        if (
            event.key() == Qt.Key.Key_Delete
            and self.currentItem() is not None
            and self.state() != self.State.EditingState
        ):
            self.delete_pressed.emit()
            return
        super().keyPressEvent(event)


class ConversationSidebar(QWidget):
    """Lists conversations or search results; says what the person wants through signals."""

    open_requested = Signal(str, str, str)  # conversation uid, message uid ("" = none in particular), matched words
    new_requested = Signal()
    rename_requested = Signal(str, str)  # uid, title
    delete_requested = Signal(str)
    search_requested = Signal(str, bool)  # text, include reasoning

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.new_button = QPushButton("New chat")
        self.new_button.setAccessibleName("New chat")
        self.new_button.setToolTip("Start a new conversation (Ctrl+N)")
        self.new_button.clicked.connect(self.new_requested)
        self.search = SearchBox()
        self.search.setPlaceholderText("Search conversations")
        self.search.setAccessibleName("Search conversations")
        self.search.setToolTip("Search every conversation (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_search_text)
        self.search.down_pressed.connect(self._focus_list)
        self.include_reasoning = QCheckBox("Search reasoning too")
        self.include_reasoning.setAccessibleName("Search reasoning too")
        self.include_reasoning.toggled.connect(self._search_now)
        self.list = ConversationList()
        self.list.setObjectName("conversationList")
        self.list.setAccessibleName("Conversations")
        self.list.setWordWrap(True)
        self.list.setSpacing(1)
        self.list.setItemDelegate(RichTextDelegate(self.list))
        self.list.setEditTriggers(QListWidget.EditTrigger.EditKeyPressed)
        self.list.itemActivated.connect(self._on_activated)
        self.list.itemClicked.connect(self._on_activated)
        self.list.itemChanged.connect(self._on_item_changed)
        self.list.delete_pressed.connect(self._delete_current)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._show_menu)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.new_button)
        layout.addWidget(self.search)
        layout.addWidget(self.include_reasoning)
        layout.addWidget(self.list, 1)
        self._conversations: list[StoredConversation] = []
        self._current = ""
        self._filling = False
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._search_now)

    @property
    def searching(self) -> bool:
        """True while the list shows search results."""
        return bool(self.search.text().strip())

    def set_conversations(self, conversations: list[StoredConversation]) -> None:
        """The conversations as stored, newest first (shown unless a search is on)."""
        self._conversations = conversations
        if self.searching:
            self._search_now()  # results may have changed (a delete, a new answer)
        else:
            self._show_conversations()

    def set_current(self, uid: str) -> None:
        """Mark the conversation shown in the window ("": a new one, not listed yet, so none is marked)."""
        self._current = uid
        if self.searching:
            return
        for row in range(self.list.count()):
            item = self.list.item(row)
            if uid and item.data(_UID) == uid:
                self.list.setCurrentItem(item)
                return
        self.list.setCurrentRow(-1)
        self.list.clearSelection()

    def show_results(self, hits: list[SearchHit]) -> None:
        """Search results: the conversation's title and where the words matched."""
        if not self.searching:
            return
        self._filling = True
        self.list.clear()
        for hit in hits:
            title = hit.title or UNTITLED
            item = QListWidgetItem(f"{title}\n{hit.plain_snippet}")  # what screen readers and tests read
            item.setData(_RICH_TEXT, result_html(title, hit))
            item.setData(_UID, hit.conversation_uid)
            item.setData(_MESSAGE_UID, hit.message_uid)
            item.setData(_MATCHED, " ".join(text for text, matched in hit.runs() if matched))
            item.setToolTip(hit.plain_snippet)
            self.list.addItem(item)
        if not hits:
            empty = QListWidgetItem("No conversation contains that.")
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(empty)
        self._filling = False

    def start_search(self) -> None:
        """Ctrl+F: put the cursor in the search box."""
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def rename_current(self) -> None:
        """Edit the selected conversation's title in place."""
        item = self.list.currentItem()
        if item is not None and not self.searching:
            self.list.editItem(item)

    def _show_conversations(self) -> None:
        self._filling = True
        self.list.clear()
        heading = ""
        for conversation in self._conversations:
            group = group_of(conversation.updated_at)
            if group != heading:
                heading = group
                self.list.addItem(self._heading(group))
            item = QListWidgetItem(conversation.title or UNTITLED)
            item.setData(_UID, conversation.uid)
            item.setData(_MESSAGE_UID, "")
            item.setToolTip(f"{conversation.title or UNTITLED} · {_when(conversation.updated_at)}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.list.addItem(item)
            if conversation.uid == self._current:
                self.list.setCurrentItem(item)
        self._filling = False

    def _heading(self, text: str) -> QListWidgetItem:
        """A group's heading: not a conversation, so it cannot be opened, selected or renamed."""
        item = QListWidgetItem(text)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        font = QFont(self.list.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 0.9)
        item.setFont(font)
        item.setForeground(self.palette().color(QPalette.ColorRole.PlaceholderText))
        item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{text}:")
        item.setData(HEADING_ROLE, True)
        return item

    @Slot(str)
    def _on_search_text(self, text: str) -> None:
        if text.strip():
            self._search_timer.start()
        else:
            self._search_timer.stop()
            self._show_conversations()

    @Slot()
    def _search_now(self) -> None:
        if self.searching:
            self.search_requested.emit(self.search.text(), self.include_reasoning.isChecked())

    @Slot()
    def _focus_list(self) -> None:
        if self.list.count():
            self.list.setFocus()
            self.list.setCurrentRow(0)

    @Slot(QListWidgetItem)
    def _on_activated(self, item: QListWidgetItem) -> None:
        uid = item.data(_UID)
        if uid:
            self.open_requested.emit(uid, item.data(_MESSAGE_UID) or "", item.data(_MATCHED) or "")

    @Slot(QListWidgetItem)
    def _on_item_changed(self, item: QListWidgetItem) -> None:
        if self._filling:
            return
        title = " ".join(item.text().split())
        uid = item.data(_UID)
        if uid and title:
            self.rename_requested.emit(uid, title)

    @Slot()
    def _delete_current(self) -> None:
        item = self.list.currentItem()
        if item is not None and item.data(_UID):
            self.delete_requested.emit(item.data(_UID))

    @Slot(QPoint)
    def _show_menu(self, position: QPoint) -> None:
        """Open, rename or delete the conversation under the pointer; the one shown stays marked."""
        item = self.list.itemAt(position)
        if item is None or not item.data(_UID):
            return
        uid = item.data(_UID)
        menu = QMenu(self)
        menu.addAction("Open", lambda: self._on_activated(item))
        if not self.searching:
            menu.addAction("Rename", lambda: self.list.editItem(item))
        menu.addAction("Delete", lambda: self.delete_requested.emit(uid))
        menu.exec(self.list.viewport().mapToGlobal(position))
