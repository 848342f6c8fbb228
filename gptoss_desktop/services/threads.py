"""Worker threads: the one way to start them, to run a call on them, and to stop them.

A service (a QObject on the GUI thread) owns one Worker on a thread of its own. It hands the
worker calls with `submit(worker.method, *args)`, which runs the method on the worker's thread
after everything submitted before it (Anki's `taskman` does the same); results come back as the
worker's named signals, connected to slots of GUI-thread objects only. Stopping is in two steps:
`stop_work()` cancels what runs now, `close()` asks the thread to end, and `finished` says it did,
so an owner of several services can stop them all at once and wait for none of them on the GUI
thread.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

P = ParamSpec("P")

#: Every thread started and not yet seen finished, held strongly: a running QThread whose last
#: reference goes (its owner dropped without shutdown) would abort the whole process.
_started: list[QThread] = []


def start_worker_thread(worker: QObject, name: str) -> QThread:
    """Move `worker` onto a new named thread with its own event loop and start it."""
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    thread.start()
    _started[:] = [t for t in _started if not t.isFinished()]
    _started.append(thread)
    return thread


def running_worker_threads() -> list[str]:
    """Names of worker threads still running (tests fail on any left behind)."""
    return [t.objectName() for t in _started if t.isRunning()]


class Worker(QObject):
    """An object that lives on a worker thread, runs the calls submitted to it there, and ends the
    thread when closed."""

    _call_requested = Signal(object)  # a callable without arguments, run on the worker's thread

    def __init__(self) -> None:
        super().__init__()
        # Queued: the call is posted to the thread this object lives on, whichever thread submits it.
        self._call_requested.connect(self._run_call, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _run_call(self, call: Callable[[], object]) -> None:
        call()

    def close(self) -> None:
        """Release what the worker holds, then end its thread's event loop (worker thread)."""
        self.release()
        thread = QThread.currentThread()
        if thread is not None:
            thread.quit()

    def release(self) -> None:
        """Free resources before the thread ends; nothing by default."""


class ThreadOwner(QObject):
    """A GUI-thread facade that owns one Worker on its own thread."""

    #: The worker's thread has ended (after close()); the service can be dropped.
    finished = Signal()

    def __init__(self, worker: Worker, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker_object = worker
        self._thread = start_worker_thread(worker, name)
        self._closing = False
        self._thread.finished.connect(self._on_thread_finished)

    @property
    def name(self) -> str:
        """The thread's name, as shutdown reports and leak checks show it."""
        return self._thread.objectName()

    def submit(self, method: Callable[P, object], /, *args: P.args, **kwargs: P.kwargs) -> None:
        """Run `method(*args, **kwargs)` on the worker's thread, after every call submitted before it."""
        self._worker_object._call_requested.emit(functools.partial(method, *args, **kwargs))

    def stop_work(self) -> None:
        """Ask running work to stop before the thread is closed (GUI thread); nothing by default."""

    def close(self) -> None:
        """Stop work and ask the thread to end once the worker released what it holds; `finished` follows."""
        if self._closing:
            return
        self._closing = True
        self.stop_work()
        self.submit(self._worker_object.close)

    @property
    def stopped(self) -> bool:
        """True once the worker's thread has ended."""
        return self._thread.isFinished()

    def wait(self, timeout_ms: int) -> bool:
        """Block until the thread has ended or `timeout_ms` passed; True if it ended (tests and the CLI)."""
        return self._thread.wait(timeout_ms)

    def shutdown(self, timeout_ms: int = 2000) -> bool:
        """close() and wait for the thread; False if it did not end in time."""
        self.close()
        return self.wait(timeout_ms)

    @Slot()
    def _on_thread_finished(self) -> None:
        self.finished.emit()
