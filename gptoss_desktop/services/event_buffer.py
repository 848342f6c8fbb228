"""A hand-off from a worker thread to the GUI thread that wakes the GUI once per batch."""

from __future__ import annotations

import threading


class EventBuffer[T]:
    """The worker pushes, the GUI drains. One wake-up per batch instead of one signal per token."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[T] = []
        self._wake_pending = False

    def push(self, item: T) -> bool:
        """Add an item (any thread); True when the consumer is not yet due to drain and must be woken."""
        with self._lock:
            self._items.append(item)
            if self._wake_pending:
                return False
            self._wake_pending = True
            return True

    def drain(self) -> list[T]:
        """Take everything pushed so far (consumer thread)."""
        with self._lock:
            items, self._items = self._items, []
            self._wake_pending = False
            return items
