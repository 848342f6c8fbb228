"""Reaching a server before a conversation runs on it: its models, and its API key into the keyring.

Both block (the network, the system keyring over D-Bus), so they run on a thread of their own,
never on the GUI thread and never behind a running answer on the engine thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from ..core.cancel import CancelFlag
from ..core.engine import ModelLoadError
from ..core.remote.api_keys import KeyringUnavailableError, delete_api_key, keep_for_session, set_api_key
from ..core.remote.connect import open_engine
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
    """Connects to servers on its thread to list their models, and saves their keys."""

    listed = Signal(int, ServerModels)  # request id, what the server offers
    failed = Signal(int, str)  # request id, a message for people
    key_saved = Signal(str, bool)  # the server's address, True when kept for this session only (no keyring)
    key_forgotten = Signal(str, str)  # the server's address, why the keyring could not forget it ("" when it did)

    def __init__(self, cancel: CancelFlag) -> None:
        super().__init__()
        self._cancel = cancel

    def list_models(self, request: int, address: str, api_key: str | None, ca_file: str | None) -> None:
        """Connect with `api_key` (typed, not yet saved) or the saved one, and list the models (server thread)."""
        try:
            server = ServerProfile(address, ca_file=ca_file or None)
            key = api_key if api_key and api_key.strip() else None
            engine = open_engine(server, cancel=self._cancel, api_key=key)
        except (BadServerAddressError, ModelLoadError) as exc:
            self.failed.emit(request, str(exc))
            return
        except Exception as exc:  # the dialog must hear back whatever went wrong
            self.failed.emit(request, f"Could not connect to {address}: {exc}")
            return
        try:
            info = engine.info
            models = tuple(model.id for model in engine.models)
            self.listed.emit(request, ServerModels(server, models, engine.model.id, info.where, info.effort_note))
        finally:
            engine.close()

    def save_key(self, server: str, key: str) -> None:
        """Put `key` in the keyring for `server`; with no usable keyring, keep it for this session (server thread)."""
        try:
            set_api_key(server, key)
            session_only = False
        except KeyringUnavailableError:
            keep_for_session(server, key)
            session_only = True
        self.key_saved.emit(server, session_only)

    def forget_key(self, server: str) -> None:
        """Delete the key kept for `server`, in the keyring and for this session (server thread)."""
        try:
            delete_api_key(server)
            problem = ""
        except KeyringUnavailableError as exc:
            problem = str(exc)
        self.key_forgotten.emit(server, problem)


class ServerService(ThreadOwner):
    """The GUI thread's handle on the server thread. Every method returns at once."""

    listed = Signal(int, ServerModels)  # request id, what the server offers
    failed = Signal(int, str)  # request id, message
    key_saved = Signal(str, bool)  # address, kept for this session only
    key_forgotten = Signal(str, str)  # address, why the keyring could not forget it ("" when it did)

    def __init__(self, parent: QObject | None = None) -> None:
        self._cancel = CancelFlag()
        self._worker = ServerWorker(self._cancel)
        super().__init__(self._worker, "servers", parent)
        self._requests = 0
        for signal, relay in (
            (self._worker.listed, self.listed),
            (self._worker.failed, self.failed),
            (self._worker.key_saved, self.key_saved),
            (self._worker.key_forgotten, self.key_forgotten),
        ):
            signal.connect(relay)

    def list_models(self, address: str, api_key: str | None = None, ca_file: str | None = None) -> int:
        """Connect to `address` and list its models; listed or failed follows with the id returned here."""
        self._requests += 1
        self.submit(self._worker.list_models, self._requests, address, api_key, ca_file)
        return self._requests

    def save_key(self, server: str, key: str) -> None:
        """Keep `key` for `server` in the keyring (or for this session); key_saved follows.

        It is usable at once (held in memory, no I/O), so a message sent before the keyring has
        answered already goes with it; the keyring is written on the server thread.
        """
        keep_for_session(server, key)
        self.submit(self._worker.save_key, server, key)

    def forget_key(self, server: str) -> None:
        """Delete the key kept for `server` (keyring and session); key_forgotten follows."""
        self.submit(self._worker.forget_key, server)

    def stop_work(self) -> None:
        """Closing: cut a connection in progress, so the thread can end."""
        self._cancel.set()
