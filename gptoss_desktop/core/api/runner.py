"""The one thread that owns the model, seen from the API: submit work, receive its events, cancel it.

llama.cpp contexts are not thread-safe, so every request runs on the thread that owns the model, in
the order it came, and the API only ever waits for events. Headless, that thread is an EngineThread
here; in the window it is the window's own engine thread, so one model serves both and API requests
queue behind the person's turns. Work is a function called on that thread with the engine.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from ..cancel import CancelFlag
from ..engine import ModelInfo
from ..events import Done, Failed, Stats
from ..local.engine import LocalEngine
from .errors import ApiError

log = logging.getLogger(__name__)

#: Runs on the engine thread; yields events until it ends (Done or Failed last, or a Refusal).
Work = Callable[[LocalEngine, CancelFlag], Iterator[object]]


class EventSink(Protocol):
    """Receives a job's events; `push` is called on the engine thread."""

    def push(self, event: object) -> None: ...


class BusyError(Exception):
    """The queue is full."""

    def __init__(self, waiting: int) -> None:
        super().__init__(f"{waiting} requests are waiting")
        self.waiting = waiting


class NoModelError(Exception):
    """No local model is loaded (the window may have none, or run its conversation on a server)."""


@dataclass(eq=False)
class Job:
    """One submitted piece of work; `cancel` may be set from any thread, before or while it runs."""

    work: Work
    sink: EventSink
    cancel: CancelFlag = field(default_factory=CancelFlag)


class EngineRunner(Protocol):
    """Where API work runs: the thread that owns the model."""

    @property
    def model(self) -> ModelInfo | None:
        """The loaded model, or None."""
        ...

    def submit(self, work: Work, sink: EventSink) -> Job:
        """Queue `work` (any thread); raises BusyError when the queue is full, NoModelError when none is loaded."""
        ...


def run_job(engine: LocalEngine | None, job: Job) -> None:
    """Run one job to its end on the calling (engine) thread; the sink always gets a last event."""
    if job.cancel.is_set():
        job.sink.push(Done("cancelled", Stats()))
        return
    if engine is None:
        job.sink.push(ApiError(503, "No model is loaded in the app.", type="server_error", code="model_not_loaded"))
        return
    try:
        for event in job.work(engine, job.cancel):
            job.sink.push(event)
    except Exception as exc:  # the engine thread must outlive anything one request does
        log.exception("API request failed")
        job.sink.push(Failed(f"Generation failed: {exc}"))


class EngineThread:
    """Headless: a thread of its own that owns `engine` and runs jobs one at a time, at most `max_waiting` queued."""

    def __init__(self, engine: LocalEngine, max_waiting: int = 8) -> None:
        self._engine = engine
        self._jobs: queue.Queue[Job | None] = queue.Queue(maxsize=max_waiting)
        self._running: Job | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="api-engine", daemon=False)
        self._thread.start()

    @property
    def model(self) -> ModelInfo:
        return self._engine.info

    def submit(self, work: Work, sink: EventSink) -> Job:
        job = Job(work, sink)
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            raise BusyError(self._jobs.maxsize) from None
        return job

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            with self._lock:
                self._running = job
            run_job(self._engine, job)
            with self._lock:
                self._running = None

    def close(self, timeout: float = 10.0) -> bool:
        """Cancel the running job and everything queued, end the thread, free the model; False if it hung."""
        with self._lock:
            if self._running is not None:
                self._running.cancel.set()
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job.cancel.set()
                job.sink.push(Done("cancelled", Stats()))
        self._jobs.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            return False
        self._engine.close()
        return True
