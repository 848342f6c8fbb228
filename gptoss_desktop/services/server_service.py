"""Reaching a server before a conversation runs on it: its models, and its API key into the keyring.

Both block (the network, the system keyring over D-Bus), so they run on a thread of their own,
never on the GUI thread and never behind a running answer on the engine thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal, Slot

from ..core.model_file import ModelLoadError
from ..core.remote.api_keys import KeyringUnavailableError, get_api_key, set_api_key
from ..core.remote.openai_engine import ServerEngine
from ..core.remote.profile import ServerProfile
from ..core.remote.server_url import BadServerAddressError
from .threads import ThreadOwner, Worker


@dataclass(frozen=True)
class ServerModels:
    """What a server offers: its models (ids), the one it would pick, and where it runs, in words."""

    server: ServerProfile
    models: tuple[str, ...]
    chosen: str
    where: str
    effort_note: str


class ServerWorker(Worker):
    """Connects to servers on its thread to list their models."""

    listed = Signal(object)  # ServerModels
    failed = Signal(str, str)  # the address as typed, a message for people

    @Slot(str, object, object)
    def list_models(self, address: str, api_key: object, ca_file: object) -> None:
        """Save `api_key` (if any) for the server, then connect with it and list the models (server thread)."""
        try:
            server = ServerProfile(address, ca_file=ca_file if isinstance(ca_file, str) and ca_file else None)
        except BadServerAddressError as exc:
            self.failed.emit(address, str(exc))
            return
        try:
            if isinstance(api_key, str) and api_key.strip():
                set_api_key(server.base_url, api_key)
            key = get_api_key(server.base_url)
        except KeyringUnavailableError as exc:
            if isinstance(api_key, str) and api_key.strip():
                self.failed.emit(address, str(exc))
                return
            key = None  # no keyring and no key given: a server without a key still works
        try:
            engine = ServerEngine(server.base_url, api_key=key, ca_file=server.ca_file)
        except ModelLoadError as exc:
            self.failed.emit(address, str(exc))
            return
        try:
            info = engine.info
            models = tuple(model.id for model in engine.models)
            self.listed.emit(ServerModels(server, models, engine.model.id, info.where, info.effort_note))
        finally:
            engine.close()


class ServerService(ThreadOwner):
    """The GUI thread's handle on the server thread. Every method returns at once."""

    listed = Signal(object)  # ServerModels
    failed = Signal(str, str)  # address, message

    _list_requested = Signal(str, object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        self._worker = ServerWorker()
        super().__init__(self._worker, "servers", parent)
        self._list_requested.connect(self._worker.list_models)
        self._worker.listed.connect(self._on_listed)
        self._worker.failed.connect(self._on_failed)

    def list_models(self, address: str, api_key: str | None = None, ca_file: str | None = None) -> None:
        """Connect to `address` (saving `api_key` in the keyring first) and list its models: listed or failed."""
        self._list_requested.emit(address, api_key, ca_file)

    @Slot(object)
    def _on_listed(self, models: ServerModels) -> None:
        self.listed.emit(models)

    @Slot(str, str)
    def _on_failed(self, address: str, message: str) -> None:
        self.failed.emit(address, message)
