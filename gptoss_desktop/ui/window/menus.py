"""The main window's menus and shortcuts, in one place so the keyboard map can be read at a glance."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence

from ..dialogs.about import show_about

if TYPE_CHECKING:
    from .main_window import MainWindow

Shortcut = QKeySequence.StandardKey | str | None


def build_menus(window: MainWindow) -> dict[str, QAction]:
    """Add File / Edit / Conversation / Help menus to `window`; returns the actions by name."""
    actions: dict[str, QAction] = {}

    def add(menu_name: str, key: str, text: str, shortcut: Shortcut, slot: Callable[[], object]) -> QAction:
        action = QAction(text, window)
        if isinstance(shortcut, str):
            action.setShortcut(QKeySequence(shortcut))
        elif shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menus[menu_name].addAction(action)
        actions[key] = action
        return action

    bar = window.menuBar()
    menus = {name: bar.addMenu(name) for name in ("&File", "&Edit", "&Conversation", "&Help")}
    add("&File", "new", "&New Chat", QKeySequence.StandardKey.New, window.new_chat)
    add("&File", "open_model", "&Open Model…", QKeySequence.StandardKey.Open, window.choose_model)
    menus["&File"].addSeparator()
    add("&File", "export_md", "Export as &Markdown…", "Ctrl+Shift+E", lambda: window.export_conversation("md"))
    add("&File", "export_json", "Export as &JSON…", None, lambda: window.export_conversation("json"))
    reasoning = add("&File", "export_reasoning", "Include &Reasoning in Exports", None, lambda: None)
    reasoning.setCheckable(True)
    reasoning.toggled.connect(lambda on: setattr(window, "include_reasoning_in_exports", on))
    menus["&File"].addSeparator()
    add("&File", "quit", "&Quit", QKeySequence.StandardKey.Quit, window.close)

    add("&Edit", "find", "&Search Conversations", QKeySequence.StandardKey.Find, window.sidebar.start_search)
    add("&Edit", "undo_delete", "&Undo Delete", QKeySequence.StandardKey.Undo, window.undo_delete)
    menus["&Edit"].addSeparator()
    add("&Edit", "preferences", "&Preferences…", QKeySequence.StandardKey.Preferences, window.edit_preferences)
    if actions["preferences"].shortcut().isEmpty():  # Linux has no standard key for it
        actions["preferences"].setShortcut(QKeySequence("Ctrl+,"))

    add("&Conversation", "stop", "&Stop", "Esc", window.session.stop)
    add("&Conversation", "regenerate", "&Regenerate Answer", "Ctrl+R", window.session.regenerate)
    menus["&Conversation"].addSeparator()
    add("&Conversation", "rename", "Re&name…", "F2", window.rename_conversation)
    add("&Conversation", "delete", "&Delete", None, lambda: window.delete_conversation(window.session.uid))
    add("&Conversation", "settings", "Conversation &Settings…", "Ctrl+Shift+,", window.edit_conversation_settings)
    about = add("&Help", "about", "&About gptoss-desktop", None, lambda: show_about(window))
    about.setMenuRole(QAction.MenuRole.AboutRole)  # macOS moves it into the application menu
    actions["stop"].setEnabled(False)
    window.services.chat.busy_changed.connect(actions["stop"].setEnabled)
    return actions
