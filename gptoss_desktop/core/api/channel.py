"""Events from the engine thread to the asyncio loop serving the request, woken once per batch.

A wake-up per token would cost a system call each (call_soon_threadsafe writes to the loop's
self-pipe); instead the engine thread appends to a list and wakes the loop only when it is not
already due to look. Whatever piled up meanwhile is taken in one go and sent as one chunk, at most
one batch per `pace` seconds: a model faster than that (the tiny test models write ~2,500 tokens a
second) gets fewer, longer chunks instead of costing the server a JSON chunk per token, and a
model slower than that has each token sent as it comes.
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
        self._last_take = 0.0

    def push(self, event: object) -> None:
        """Add an event (engine thread)."""
        with self._lock:
            self._events.append(event)
            if self._woken:
                return
            self._woken = True
        with contextlib.suppress(RuntimeError):  # a closed loop: the server is going away, nobody reads
            self._loop.call_soon_threadsafe(self._ready.set)

    async def take(self, pace: float = 0.0) -> list[object]:
        """Every event pushed since the last call, waiting for at least one, and until `pace` seconds
        have passed since the last call (event loop)."""
        await self._ready.wait()
        wait = self._last_take + pace - self._loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_take = self._loop.time()
        with self._lock:
            events, self._events = self._events, []
            self._woken = False
            self._ready.clear()
        return events
