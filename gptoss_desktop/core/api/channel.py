"""Events from the engine thread to the asyncio loop serving the request, woken once per batch.

A wake-up per token would cost a system call each (call_soon_threadsafe writes to the loop's
self-pipe); instead the engine thread appends to a list and wakes the loop only when it is not
already due to look. Whatever piled up meanwhile is taken in one go and sent as one chunk.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading


class EventChannel:
    """Created on the event loop's thread; `push` from any thread, `take` on the loop."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._lock = threading.Lock()
        self._events: list[object] = []
        self._ready = asyncio.Event()
        self._woken = False

    def push(self, event: object) -> None:
        """Add an event (engine thread)."""
        with self._lock:
            self._events.append(event)
            if self._woken:
                return
            self._woken = True
        with contextlib.suppress(RuntimeError):  # a closed loop: the server is going away, nobody reads
            self._loop.call_soon_threadsafe(self._ready.set)

    async def take(self) -> list[object]:
        """Every event pushed since the last call, waiting for at least one (event loop)."""
        await self._ready.wait()
        with self._lock:
            events, self._events = self._events, []
            self._woken = False
            self._ready.clear()
        return events
