"""A download's progress in a terminal: one line redrawn in place, or plain lines in a log."""

from __future__ import annotations

import shutil
import threading
import time
from typing import TextIO

from ..core.models.downloads.progress import Progress, describe_progress

PLAIN_LINE_EVERY_S = 30.0
BAR_WIDTH = 16


class ProgressLine:
    """Progress reports as text: one line redrawn with \\r on a terminal, a plain line now and then otherwise.

    Called on the download thread; `note` and `end` on the main one, hence the lock.
    """

    def __init__(self, out: TextIO, labels: dict[str, str]) -> None:
        self._out = out
        self._labels = labels
        self._live = out.isatty()
        self._lock = threading.Lock()
        self._width = 0  # of the live line now shown, 0 when none
        self._stage = ""
        self._tenth = -1
        self._printed_at = 0.0

    def __call__(self, progress: Progress) -> None:
        with self._lock:
            if progress.stage != self._stage:
                self._close_line()
                self._stage, self._tenth = progress.stage, -1
            text = _progress_text(self._labels.get(progress.stage, progress.stage), progress)
            if self._live:
                text = text[: shutil.get_terminal_size().columns - 1]
                self._out.write("\r" + text.ljust(self._width))
                self._width = len(text)
            else:
                tenth, now = int(progress.fraction * 10), time.monotonic()
                if tenth <= self._tenth and now - self._printed_at < PLAIN_LINE_EVERY_S:
                    return
                self._tenth, self._printed_at = tenth, now
                self._out.write(text + "\n")
            self._out.flush()

    def note(self, text: str) -> None:
        with self._lock:
            self._close_line()
            self._out.write(text + "\n")
            self._out.flush()

    def end(self) -> None:
        with self._lock:
            self._close_line()

    def _close_line(self) -> None:
        if self._width:
            self._out.write("\n")
            self._out.flush()
            self._width = 0


def _progress_text(label: str, progress: Progress) -> str:
    filled = int(progress.fraction * BAR_WIDTH)
    bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}]"
    return f"{label} {progress.fraction:4.0%} {bar} {describe_progress(progress)}"
