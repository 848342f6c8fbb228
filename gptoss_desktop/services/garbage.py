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
        gc.disable()
        self._frozen = gc.get_freeze_count()
        self._long_lived = len(gc.get_objects(generation=2))
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_due)
        self._timer.start()

    def collect_due(self) -> int:
        """Collect the generations Python would have collected by now; returns objects freed.

        As CPython 3.12 does, a full collection waits until the objects that reached the oldest
        generation since the last one are a quarter of those it held then, so full collections
        grow rarer as the heap grows instead of walking it all again and again.
        """
        count0, count1, count2 = gc.get_count()
        limit0, limit1, limit2 = gc.get_threshold()
        if limit0 == 0 or count0 <= limit0:
            return 0
        if count1 <= limit1:
            return gc.collect(0)
        if count2 <= limit2 or self._newly_long_lived() < self._long_lived // 4:
            return gc.collect(1)
        freed = gc.collect(2)
        self._long_lived = len(gc.get_objects(generation=2))
        return freed

    def _newly_long_lived(self) -> int:
        now = len(gc.get_objects(generation=2))
        if gc.get_freeze_count() != self._frozen:  # gc.freeze() took objects away since: count from here
            self._frozen, self._long_lived = gc.get_freeze_count(), now
        return now - self._long_lived

    def stop(self) -> None:
        """Stop the timer and hand collection back to Python if it was on before."""
        self._timer.stop()
        self.collect_due()
        if self._was_enabled:
            gc.enable()
