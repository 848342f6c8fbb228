"""Route llama.cpp's log lines into Python logging instead of the terminal.

llama-cpp-python prints some of them to stderr even with verbose=False; a
desktop app and `chat --json` must keep stderr for real errors.
"""

from __future__ import annotations

import ctypes
import logging

import llama_cpp

logger = logging.getLogger("gptoss_desktop.llama_cpp")
_GGML_ERROR = 4
#: What llama.cpp logs as an error when a decode was aborted on purpose (Stop): not an error here.
_ABORTED = b"failed to decode, ret = 2"


@llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
def _log(level: int, text: bytes, _user_data: ctypes.c_void_p) -> None:
    # ggml's levels: 1 debug, 2 info, 3 warn, 4 error, 5 continuation. Warnings here are expected
    # noise (e.g. "using full-size SWA cache"), so only errors are logged above debug.
    error = level == _GGML_ERROR and _ABORTED not in text
    logger.log(logging.ERROR if error else logging.DEBUG, "%s", text.decode("utf-8", "replace").rstrip())


def route_llama_logs() -> None:
    """Install the callback (idempotent)."""
    llama_cpp.llama_log_set(_log, ctypes.c_void_p(0))
