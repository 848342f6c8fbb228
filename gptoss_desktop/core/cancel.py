"""A cancel request that Python and llama.cpp's C threads can both read.

llama.cpp polls an abort callback from inside a decode. A Python callback there
needs the GIL, and in the app (engine on a QThread, GUI in Qt's event loop) that
deadlocked the decode. So the flag is a byte in C memory and the callback is
libc's strlen: a C function that reads the byte and needs no Python at all
(strlen returns 0 while the flag is clear, 1 once it is set).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading
from collections.abc import Callable
from typing import Any


def _strlen() -> Any:
    if sys.platform == "win32":
        return ctypes.cdll.msvcrt.strlen
    return ctypes.CDLL(ctypes.util.find_library("c")).strlen


_STRLEN = _strlen()


class CancelFlag:
    """Set from any thread; checked per token in Python and per graph node in C."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._byte = ctypes.create_string_buffer(2)
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def set(self) -> None:
        """Ask the running request to stop (any thread); runs the `when_set` callbacks on this thread."""
        self._byte[0] = b"x"
        self._event.set()
        with self._lock:
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def when_set(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run `callback` once the flag is set (at once if it already is), on the thread that sets it: for
        waking a thread blocked where no flag is checked, such as a socket read. Returns a function that
        forgets the callback; call it when the blocking part is over. The callback must be quick."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return lambda: self._forget(callback)
        callback()
        return lambda: None

    def _forget(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

    def is_set(self) -> bool:
        """True once cancel was asked for."""
        return self._event.is_set()

    @property
    def c_pointer(self) -> ctypes.c_void_p:
        """The flag's address, the `data` argument of the C callback."""
        return ctypes.cast(self._byte, ctypes.c_void_p)

    @staticmethod
    def c_function_address() -> int:
        """Address of a C function `bool (*)(void *)` that is true once the flag is set."""
        return ctypes.cast(_STRLEN, ctypes.c_void_p).value or 0
