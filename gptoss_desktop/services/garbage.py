"""Python's cyclic garbage collector, run on the main thread only.

With automatic collection on, a collection starts on whichever thread happens to allocate
past the threshold: the engine thread parsing a GGUF, say. If the garbage it finds holds a
Qt widget (a closed window's wrappers in a reference cycle), the widget is destroyed on that
worker thread and the process crashes (CI saw a segfault "Garbage-collecting" on the engine
thread). So automatic collection is switched off and a main-thread timer makes the same
threshold checks Python would have made.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

#: How often the thresholds are checked; a check with nothing due costs microseconds.
CHECK_INTERVAL_MS = 200


class MainThreadCollector(QObject):
    """Turns automatic collection off and collects from a timer on the thread that made it."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_INTERVAL_MS) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        self._thresholds = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_due)
        self._timer.start()

    def collect_due(self) -> int:
        """Collect the generations Python would have collected by now; returns objects freed."""
        count0, count1, count2 = gc.get_count()
        limit0, limit1, limit2 = self._thresholds
        if limit0 == 0 or count0 <= limit0:
            return 0
        if count1 <= limit1:
            return gc.collect(0)
        if count2 <= limit2:
            return gc.collect(1)
        return gc.collect(2)

    def stop(self) -> None:
        """Stop the timer and hand collection back to Python if it was on before."""
        self._timer.stop()
        self.collect_due()
        if self._was_enabled:
            gc.enable()
