"""Every service of the app, built in one place: the one owner of all worker threads.

The window and its dialogs borrow services from here and never start threads of their own.
Stopping is one call for all of them: each is told to stop its work and close its thread at
the same time, so the slowest decides how long it takes, not the sum, and nothing blocks the
GUI thread meanwhile; `stopped` names any thread that had not ended when the time was up.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from .api_service import ApiService
from .chat_service import ChatService
from .chat_worker import EngineFactory
from .document_service import DocumentService
from .history_service import HistoryService
from .model_setup import ModelSetupService
from .server_service import ServerService
from .threads import ThreadOwner

log = logging.getLogger(__name__)

#: How long closing waits for the threads: a server that never answers a connect takes its
#: connect timeout (10 s) to give up; everything else stops within a token or a read.
SHUTDOWN_TIMEOUT_MS = 15_000


class AppServices(QObject):
    """The chat engine, history, documents, model setup and server threads, owned together (GUI thread)."""

    #: Every thread has ended, or the time was up: the names of those still running ([] when none).
    stopped = Signal(list)

    def __init__(self, database: Path, engine_factory: EngineFactory | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.chat = ChatService(engine_factory, self)
        self.history = HistoryService(database, self)
        self.documents = DocumentService(database, self)
        self.models = ModelSetupService(self)
        self.servers = ServerService(self)
        self.api = ApiService(self.chat, database, self)  # serves only once switched on
        self._stopping = False
        self._reported = False
        self._deadline = QTimer(self)
        self._deadline.setSingleShot(True)
        self._deadline.timeout.connect(self._report)
        for service in self.all:
            service.finished.connect(self._on_service_finished)

    @property
    def all(self) -> tuple[ThreadOwner, ...]:
        """Every service, in the order they are asked to stop."""
        return (self.chat, self.documents, self.models, self.servers, self.history)

    @property
    def running(self) -> list[str]:
        """The names of the threads that have not ended."""
        return [service.name for service in self.all if not service.stopped]

    @property
    def stopping(self) -> bool:
        """True once begin_shutdown() was called."""
        return self._stopping

    def begin_shutdown(self, timeout_ms: int = SHUTDOWN_TIMEOUT_MS) -> None:
        """Stop all work and close every thread now, without waiting; `stopped` follows."""
        if self._stopping:
            return
        self._stopping = True
        self.api.stop()  # programs' requests go first, so the engine thread is free to end
        for service in self.all:
            service.close()
        self._deadline.start(timeout_ms)
        self._on_service_finished()  # all may have ended already

    def shutdown(self, timeout_ms: int = SHUTDOWN_TIMEOUT_MS) -> list[str]:
        """begin_shutdown() and block until every thread ended or the time was up (the CLI and tests);
        the names of threads still running."""
        self.begin_shutdown(timeout_ms)
        for service in self.all:
            service.wait(timeout_ms)  # all are closing at once: this waits for the slowest, not the sum
        return self.running

    @Slot()
    def _on_service_finished(self) -> None:
        if self._stopping and not self.running:
            self._report()

    @Slot()
    def _report(self) -> None:
        """Once: every thread ended, or the deadline passed."""
        if self._reported:
            return
        self._reported = True
        self._deadline.stop()
        running = self.running
        if running:
            log.warning("Threads still running at shutdown: %s", ", ".join(running))
        self.stopped.emit(running)
