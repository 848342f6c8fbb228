"""Progress of a download (bytes, speed, time left) and the free-space probe checked before it starts."""

from __future__ import annotations

import math
import shutil
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import format_size

Stage = Literal["checking", "downloading"]
REPORT_EVERY_S = 0.1
SPEED_WINDOW_S = 5.0


@dataclass(frozen=True)
class Progress:
    """One report: `checking` re-hashes bytes kept from an earlier attempt, `downloading` fetches the rest."""

    stage: Stage
    done: int
    total: int
    bytes_per_second: float
    seconds_left: float | None

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


ProgressCallback = Callable[[Progress], None]
FreeSpace = Callable[[Path], int]


def free_bytes(folder: Path) -> int:
    """Free bytes on the disk holding `folder`, or its nearest existing parent if it is not made yet."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return shutil.disk_usage(candidate).free
    return shutil.disk_usage(Path.cwd()).free


class Meter:
    """Turns byte counts into throttled Progress reports, speed averaged over the last few seconds.

    Speed counts only bytes moved in this run, so resuming at 90% does not show a burst.
    """

    def __init__(self, callback: ProgressCallback | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._callback = callback
        self._clock = clock
        self._stage: Stage = "downloading"
        self._total = 0
        self._samples: deque[tuple[float, int]] = deque()
        self._last_report = float("-inf")

    def start(self, stage: Stage, total: int, already: int = 0) -> None:
        self._stage, self._total = stage, total
        self._samples.clear()
        self._samples.append((self._clock(), already))
        self._last_report = float("-inf")
        self.update(already)

    def update(self, done: int) -> None:
        if self._callback is None:
            return
        now = self._clock()
        if now - self._last_report < REPORT_EVERY_S:
            return
        self._last_report = now
        self._report(now, done)

    def finish(self, done: int) -> None:
        """Always report the final count, whatever the throttle says."""
        if self._callback is not None:
            self._report(self._clock(), done)

    def _report(self, now: float, done: int) -> None:
        assert self._callback is not None
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[1][0] >= SPEED_WINDOW_S:
            self._samples.popleft()
        start_time, start_done = self._samples[0]
        elapsed = now - start_time
        speed = (done - start_done) / elapsed if elapsed > 0 else 0.0
        left = (self._total - done) / speed if speed > 0 else None
        self._callback(Progress(self._stage, done, self._total, speed, left))


def format_duration(seconds: float) -> str:
    """Seconds for the last minute, whole minutes (rounded up) below an hour, then hours and minutes."""
    s = math.ceil(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{math.ceil(s / 60)} min"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def describe_progress(progress: Progress) -> str:
    """ "1.2 GB of 12.1 GB · 45.0 MB/s · 4 min left", as the window and the terminal show it."""
    parts = [f"{format_size(progress.done)} of {format_size(progress.total)}"]
    if progress.bytes_per_second > 0:
        parts.append(f"{format_size(progress.bytes_per_second)}/s")
    if progress.seconds_left is not None and progress.done < progress.total:
        parts.append(f"{format_duration(progress.seconds_left)} left")
    return " · ".join(parts)


def progress_text(progress: Progress) -> str:
    """What is happening now, for the window: re-checking kept bytes, or bytes, speed and time left."""
    if progress.stage == "checking":
        return f"Checking the {format_size(progress.done)} already downloaded…"
    return describe_progress(progress)
