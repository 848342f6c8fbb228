"""The one place that starts threads, so shutdown and leak checks can find them all."""

from __future__ import annotations

import weakref

from PySide6.QtCore import QObject, QThread

_started: weakref.WeakSet[QThread] = weakref.WeakSet()


def start_worker_thread(worker: QObject, name: str) -> QThread:
    """Move `worker` onto a new named thread with its own event loop and start it."""
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    thread.start()
    _started.add(thread)
    return thread


def running_worker_threads() -> list[str]:
    """Names of worker threads still running (tests fail on any left behind)."""
    return [t.objectName() for t in list(_started) if t.isRunning()]
