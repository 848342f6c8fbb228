"""The local OpenAI-compatible API inside the window: one model in memory, programs' requests queued
with the person's own turns on the window's engine thread.

The HTTP server (uvicorn) runs on a thread of its own; each request becomes a job submitted to the
engine thread through ChatService, and its events come back to the server's event loop directly
(core/api/channel.py), never through the GUI thread. The GUI thread only hears when a program
starts and stops being answered, for the status line.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from ..core.api.app import ApiSettings, create_app
from ..core.api.response_store import ResponseStore
from ..core.api.runner import BusyError, EventSink, Job, NoModelError, Work
from ..core.api.server import ApiServer
from ..core.engine import ModelInfo
from .chat_service import ChatService

#: Programs' requests that may wait for the engine thread; more get 429.
MAX_WAITING = 8
HOST = "127.0.0.1"


class WindowRunner:
    """An EngineRunner over the window's engine thread (core/api/runner.py). `submit` runs on the
    server's thread, the jobs on the engine thread, `model` is set on the GUI thread."""

    def __init__(self, chat: ChatService, max_waiting: int = MAX_WAITING) -> None:
        self._chat = chat
        self._max_waiting = max_waiting
        self._lock = threading.Lock()
        self._jobs: set[Job] = set()
        self.model: ModelInfo | None = chat.model_info

    def submit(self, work: Work, sink: EventSink) -> Job:
        if self.model is None:
            raise NoModelError
        job = Job(work, sink)
        with self._lock:
            if len(self._jobs) > self._max_waiting:  # the one running does not count
                raise BusyError(self._max_waiting)
            self._jobs.add(job)
        self._chat.run_api_job(job, self._finished)
        return job

    def _finished(self, job: Job) -> None:
        with self._lock:
            self._jobs.discard(job)

    def cancel_all(self) -> None:
        """Stop every program's request, running or waiting (any thread)."""
        with self._lock:
            jobs = list(self._jobs)
        for job in jobs:
            job.cancel.set()


class ApiService(QObject):
    """Starts and stops the server (GUI thread) and says when a program is being answered."""

    #: True while the engine thread answers a program's request.
    answering_changed = Signal(bool)

    def __init__(self, chat: ChatService, database: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._chat = chat
        self._database = database
        self.runner = WindowRunner(chat)
        self._server: ApiServer | None = None
        self._answering = 0
        chat.model_loaded.connect(self._on_model_loaded)
        chat.model_loading.connect(self._on_model_loading)
        chat.api_started.connect(self._on_started)
        chat.api_finished.connect(self._on_finished)

    @property
    def base_url(self) -> str | None:
        """What programs use as the OpenAI base URL while serving, else None."""
        return self._server.base_url if self._server is not None else None

    def start(self, port: int) -> str:
        """Serve on 127.0.0.1:`port` (0: any free port); the base URL. ServeError if it cannot listen."""
        self.stop()
        app = create_app(self.runner, ApiSettings(host=HOST), ResponseStore(self._database))
        server = ApiServer(app, HOST, port)
        server.start()
        self._server = server
        return server.base_url

    def stop(self) -> bool:
        """Stop serving: programs' requests are cancelled and the server's thread ends; False if it hung."""
        server, self._server = self._server, None
        self.runner.cancel_all()
        return server.stop(timeout=5.0) if server is not None else True

    @Slot(ModelInfo)
    def _on_model_loaded(self, info: ModelInfo) -> None:
        self.runner.model = info

    @Slot(str)
    def _on_model_loading(self, _path: str) -> None:
        self.runner.model = None

    @Slot()
    def _on_started(self) -> None:
        self._answering += 1
        if self._answering == 1:
            self.answering_changed.emit(True)

    @Slot()
    def _on_finished(self) -> None:
        self._answering = max(self._answering - 1, 0)
        if self._answering == 0:
            self.answering_changed.emit(False)
