"""The one place that starts and stops worker threads, so shutdown and leak checks find them all."""

from __future__ import annotations

from PySide6.QtCore import QObject, QThread, Signal, Slot

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
    """An object that lives on a worker thread and ends that thread when asked to close."""

    @Slot()
    def close(self) -> None:
        """Release what the worker holds, then end its thread's event loop (worker thread)."""
        self.release()
        thread = QThread.currentThread()
        if thread is not None:
            thread.quit()

    def release(self) -> None:
        """Free resources before the thread ends; nothing by default."""


class ThreadOwner(QObject):
    """A GUI-thread facade that owns one Worker on its own thread and joins it on shutdown()."""

    _close_requested = Signal()

    def __init__(self, worker: Worker, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = start_worker_thread(worker, name)
        self._closed = False
        self._close_requested.connect(worker.close)

    def stop_work(self) -> None:
        """Ask running work to stop before the thread is closed (GUI thread); nothing by default."""

    def shutdown(self, timeout_ms: int = 2000) -> bool:
        """Stop work, let the worker release what it holds, join the thread; False if it did not end in time."""
        if self._closed:
            return True
        self._closed = True
        self.stop_work()
        self._close_requested.emit()
        return self._thread.wait(timeout_ms)
