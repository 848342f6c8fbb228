"""The main window's menus and shortcuts, in one table so the keyboard map can be read at a glance.

The table names each action's handler; the window supplies the handlers, so this module knows
nothing of the window.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenuBar

Shortcut = QKeySequence.StandardKey | str | None
_STD = QKeySequence.StandardKey


@dataclass(frozen=True)
class Entry:
    """One menu item: its menu, name (the handler's key), text and shortcut; None for a separator."""

    menu: str
    key: str
    text: str
    shortcut: Shortcut = None
    checkable: bool = False


MENUS: tuple[Entry | str, ...] = (
    Entry("&File", "new", "&New Chat", _STD.New),
    Entry("&File", "open_model", "&Open Model…", _STD.Open),
    Entry("&File", "adapters", "&Adapters…", "Ctrl+Shift+A"),
    "&File",
    Entry("&File", "export_md", "Export as &Markdown…", "Ctrl+Shift+E"),
    Entry("&File", "export_json", "Export as &JSON…"),
    Entry("&File", "export_reasoning", "Include &Reasoning in Exports", checkable=True),
    "&File",
    Entry("&File", "quit", "&Quit", _STD.Quit),
    Entry("&Edit", "find", "&Search Conversations", _STD.Find),
    Entry("&Edit", "undo_delete", "&Undo Delete", _STD.Undo),
    "&Edit",
    Entry("&Edit", "preferences", "&Preferences…", _STD.Preferences),
    Entry("&View", "sidebar", "&Conversation List", "Ctrl+Shift+L", checkable=True),
    Entry("&Conversation", "stop", "&Stop", "Esc"),
    Entry("&Conversation", "regenerate", "&Regenerate Answer", "Ctrl+R"),
    "&Conversation",
    Entry("&Conversation", "rename", "Re&name…", "F2"),
    Entry("&Conversation", "delete", "&Delete"),
    Entry("&Conversation", "settings", "Conversation &Settings…", "Ctrl+Shift+,"),
    Entry("&Conversation", "prompt", "Show the &Prompt of the Last Answer", "Ctrl+Shift+P"),
    Entry("&Help", "about", "&About gptoss-desktop"),
)
#: Where a system has no standard key for an action, this one.
FALLBACK_SHORTCUTS = {"preferences": "Ctrl+,"}  # Linux has no standard Preferences key


def build_menus(bar: QMenuBar, owner: QObject, handlers: Mapping[str, Callable[[], object]]) -> dict[str, QAction]:
    """Fill `bar` from MENUS, each action triggering `handlers[key]` (a checkable one gets its new state
    through `toggled` instead); returns the actions by key."""
    menus = {name: bar.addMenu(name) for name in dict.fromkeys(e.menu if isinstance(e, Entry) else e for e in MENUS)}
    actions: dict[str, QAction] = {}
    for entry in MENUS:
        if isinstance(entry, str):
            menus[entry].addSeparator()
            continue
        action = QAction(entry.text, owner)
        if isinstance(entry.shortcut, str):
            action.setShortcut(QKeySequence(entry.shortcut))
        elif entry.shortcut is not None:
            action.setShortcut(entry.shortcut)
        if action.shortcut().isEmpty() and entry.key in FALLBACK_SHORTCUTS:
            action.setShortcut(QKeySequence(FALLBACK_SHORTCUTS[entry.key]))
        action.setCheckable(entry.checkable)
        if not entry.checkable:
            action.triggered.connect(handlers[entry.key])
        menus[entry.menu].addAction(action)
        actions[entry.key] = action
    actions["about"].setMenuRole(QAction.MenuRole.AboutRole)  # macOS moves it into the application menu
    return actions
