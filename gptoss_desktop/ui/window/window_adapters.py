"""The window's LoRA adapters: the files the app knows, what checking each against the loaded model found, and
which of them the shown conversation applies, at what scale.

An adapter is added from File ▸ Adapters… or by dropping it on the window: the engine thread checks
it against the loaded model (its header, its shapes, the memory left) and loads it; one it refuses
is said in the window and not kept. One it takes is remembered (Settings.adapters) and turned on in
the shown conversation at scale 1. Each conversation keeps its own set (ConversationSettings.adapters),
which every answer's request carries.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QMimeData, QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from ...core.engine import MAX_ADAPTER_SCALE, LoraAdapter
from ...core.local.lora_file import is_adapter_file
from ...services.chat_service import ChatService
from ...services.chat_worker import AdapterStatus
from ..chat.chat_session import ChatSession
from ..dialogs.adapters import AdaptersDialog


def dropped_adapters(mime: QMimeData) -> list[str]:
    """The local .gguf files in a drag whose headers say they are LoRA adapters (not models)."""
    files = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
    return [path for path in files if path.lower().endswith(".gguf") and is_adapter_file(path)]


def _key(path: str | Path) -> str:
    """One spelling per file: the same adapter chosen twice by two paths is one adapter."""
    return str(Path(path).expanduser().resolve())


class WindowAdapters(QObject):
    """Adds, checks, remembers and chooses adapters for the shown conversation (GUI thread)."""

    #: An adapter was checked, added or removed: its list and states changed (the dialog shows them again).
    changed = Signal()
    #: Why an adapter being added was refused, for the window to say.
    refused = Signal(str)
    #: An adapter was added and turned on in the shown conversation: what to say.
    added = Signal(str)

    def __init__(
        self,
        parent: QWidget,
        chat: ChatService,
        session: ChatSession,
        remembered: Callable[[], tuple[str, ...]],
        remember: Callable[[tuple[str, ...]], None],
    ) -> None:
        """`remembered` gives the adapters the app knows (settings), `remember` stores a new list."""
        super().__init__(parent)
        self._parent = parent
        self._chat = chat
        self._session = session
        self._remembered = remembered
        self._remember = remember
        #: What the last check of each adapter found, by path.
        self.statuses: dict[str, AdapterStatus] = {}
        self.checking: set[str] = set()
        self._adding: set[str] = set()  # being added: kept only if the check finds nothing wrong
        self._choosing = False  # the person is changing the conversation's set from the dialog
        self.dialog: AdaptersDialog | None = None
        session.adapter_name = self.name_of
        chat.adapter_checked.connect(self._on_checked)
        chat.model_loaded.connect(self._check_all)
        session.settings_changed.connect(self._on_conversation_changed)
        self._check_all()

    # --- what is known ---------------------------------------------------------------------

    def paths(self) -> list[str]:
        """The adapters to list: those the app knows, then any the shown conversation uses that it does not."""
        known = [_key(path) for path in self._remembered()]
        used = [_key(adapter.path) for adapter in self._session.settings.adapters]
        return list(dict.fromkeys([*known, *used]))

    def name_of(self, path: str | Path) -> str:
        """The adapter's name as its file says it, or its file's name before it was read."""
        status = self.statuses.get(_key(path))
        return status.name if status is not None else Path(path).stem

    def scale_of(self, path: str) -> float | None:
        """The scale the shown conversation applies the adapter at; None when it is off there."""
        key = _key(path)
        return next((a.scale for a in self._session.settings.adapters if _key(a.path) == key), None)

    @property
    def on_server(self) -> str:
        """The server the shown conversation runs on ("" on this computer): adapters change local models only."""
        server = self._session.settings.server
        return server.label if server is not None else ""

    # --- changes ---------------------------------------------------------------------------

    def add(self, path: str) -> None:
        """Check `path` against the loaded model and load it; remembered and turned on here if it can be used."""
        key = _key(path)
        self._adding.add(key)
        self.checking.add(key)
        self._chat.check_adapters([key], load=True)
        self.changed.emit()

    def remove(self, path: str) -> None:
        """Forget an adapter: the app no longer offers it, and the shown conversation no longer applies it."""
        key = _key(path)
        self._remember(tuple(p for p in self._remembered() if _key(p) != key))
        self.choose(key, None)
        self.statuses.pop(key, None)
        self.changed.emit()

    def choose(self, path: str, scale: float | None) -> None:
        """Apply the adapter at `scale` in the shown conversation's next answers; None turns it off there."""
        key = _key(path)
        current = self._session.settings.adapters
        kept = [a for a in current if _key(a.path) != key]
        if scale is not None:
            scale = min(max(scale, 0.0), MAX_ADAPTER_SCALE)
            position = next((i for i, a in enumerate(current) if _key(a.path) == key), len(kept))
            kept.insert(position, LoraAdapter(Path(key), scale))
        if tuple(kept) == current:
            return
        self._choosing = True
        try:
            self._session.update_settings(self._session.settings.with_changes(adapters=tuple(kept)))
        finally:
            self._choosing = False

    # --- the dialog ----------------------------------------------------------------------------

    def show_dialog(self) -> AdaptersDialog:
        """File ▸ Adapters…: the list, open beside the window while the person goes on."""
        if self.dialog is None:
            self.dialog = AdaptersDialog(self, self._parent)
            self.changed.connect(self.dialog.refresh)
            self.refused.connect(self.dialog.show_problem)
        self.dialog.refresh()
        self.dialog.show()
        self.dialog.activateWindow()
        return self.dialog

    # --- checks ---------------------------------------------------------------------------------

    @Slot(object)
    def _check_all(self, _loaded: object = None) -> None:
        """Check every adapter listed against the model loaded now (header only: nothing is loaded)."""
        paths = self.paths()
        self.checking.update(paths)
        self._chat.check_adapters(paths)
        if paths:
            self.changed.emit()

    @Slot(object)
    def _on_checked(self, status: AdapterStatus) -> None:
        key = _key(status.path)
        self.checking.discard(key)
        self.statuses[key] = status
        if key in self._adding:
            self._adding.discard(key)
            known = key in [_key(p) for p in self._remembered()]
            if status.problem:
                if not known:
                    self.statuses.pop(key, None)  # not kept: nothing of it stays listed
                self.refused.emit(f"Adapter not added: {status.problem}")
            else:
                if not known:
                    self._remember((*self._remembered(), key))
                if self.scale_of(key) is None:
                    self.choose(key, 1.0)
                where = f" (it applies once the conversation runs on this computer, not on {self.on_server})"
                self.added.emit(
                    f"Adapter {status.name} added: on in this conversation at ×1.0" + (where if self.on_server else "")
                )
        self.changed.emit()

    @Slot(object)
    def _on_conversation_changed(self, _settings: object) -> None:
        """Another conversation is shown, or its settings changed elsewhere: the dialog shows its set."""
        if not self._choosing:
            self.changed.emit()
