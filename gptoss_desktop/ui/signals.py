"""Unix signals (logout's SIGTERM, Ctrl+C, a closed terminal) close the window the normal way.

Python runs a signal handler only between bytecodes, and the Qt event loop runs none while it
waits; so the handler only asks for the close, and a wake-up byte on a pipe makes the event loop
look at once (the set_wakeup_fd pattern; on Windows, which has no such pipe, the main thread's
garbage-collection timer runs Python five times a second). The close then stops the threads and
saves the answer so far, exactly as the close button does.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterable
from types import FrameType

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Slot
from PySide6.QtWidgets import QWidget


class CloseOnSignals(QObject):
    """While it exists, each of `signals` closes `window` (a second one while closing is ignored)."""

    def __init__(self, window: QWidget, signals: Iterable[signal.Signals]) -> None:
        super().__init__(window)
        self._window = window
        self._pipe: tuple[int, int] | None = None
        self._notifier: QSocketNotifier | None = None
        if sys.platform != "win32":
            self._pipe = os.pipe()
            for end in self._pipe:
                os.set_blocking(end, False)
            self._previous_fd = signal.set_wakeup_fd(self._pipe[1], warn_on_full_buffer=False)
            self._notifier = QSocketNotifier(self._pipe[0], QSocketNotifier.Type.Read, self)
            self._notifier.activated.connect(self._drain)
        self._previous = {number: signal.signal(number, self._on_signal) for number in signals}
        self.received: list[int] = []

    def _on_signal(self, number: int, _frame: FrameType | None) -> None:
        self.received.append(number)
        QTimer.singleShot(0, self._window.close)

    @Slot()
    def _drain(self) -> None:
        assert self._pipe is not None
        try:
            while os.read(self._pipe[0], 64):
                pass
        except BlockingIOError:
            pass

    def restore(self) -> None:
        """Put back the handlers and the wake-up descriptor that were there before."""
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        if self._pipe is not None and self._notifier is not None:
            signal.set_wakeup_fd(self._previous_fd)
            self._notifier.setEnabled(False)
            for end in self._pipe:
                os.close(end)
            self._pipe = None
