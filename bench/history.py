"""Opening a long conversation: time to first paint, and the GUI thread's stalls while the rest loads.

    python bench/history.py        (from the repo root, in the project's environment)

A conversation of 200 exchanges (400 messages: questions, reasoning, Markdown answers
with code blocks, lists and tables) is written to a real SQLite history under a
temporary home. The real window (offscreen) then opens it from the sidebar, as a
click would. Measured, in the same run:
- first paint: from the open request to the conversation view's first paint showing it
  (target <= 300 ms); the newest turns are built first, older ones follow on idle;
- stalls: a 5 ms probe timer on the GUI thread from the request until every turn is
  built (target p99 <= 16 ms, max <= 50 ms);
- baseline: the same window opening a conversation of 2 exchanges (ratio = long / short).
The last line reads `history first_paint_ms=F short_first_paint_ms=S p99_stall_ms=P max_stall_ms=M`.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QElapsedTimer, QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from gptoss_desktop.core.history.store import MessageStats, Store
from gptoss_desktop.core.paths import app_paths, use_home
from gptoss_desktop.core.settings import Settings
from gptoss_desktop.services.app_services import AppServices
from gptoss_desktop.ui.app import settle_garbage_collector
from gptoss_desktop.ui.style import apply_style
from gptoss_desktop.ui.window.main_window import MainWindow

PROBE_MS = 5
ROUNDS = 5


def answer(index: int) -> str:
    """A Markdown answer of a few hundred words with the shapes people get back."""
    return (
        f"## Step {index}\n\nHere is how it works, with **bold**, `inline code` and a [link](https://example.org).\n\n"
        "- first point, explained in a sentence or two so the line wraps in the view\n"
        "- second point\n  - nested detail\n\n"
        "| setting | value |\n|---|---|\n| context | 8192 |\n| effort | high |\n\n"
        f"```python\ndef step_{index}(x: int) -> int:\n    return x * {index} + 1\n```\n\n"
        + "A closing paragraph that goes on for a while to look like a real answer. "
        * 6
    )


def write_conversation(store: Store, exchanges: int) -> str:
    conversation = store.create_conversation(f"{exchanges} exchanges")
    for index in range(exchanges):
        store.add_message(conversation, "user", f"Question {index}: how does step {index} work?")
        message = store.add_message(conversation, "assistant", state="streaming", effort="medium", model="bench")
        store.update_message(
            message,
            content=answer(index),
            reasoning=f"The person asks about step {index}. " * 8,
            state="complete",
            stats=MessageStats(100, 300, 40, 3.0),
        )
    record = store.conversation(conversation)
    assert record is not None
    return record.uid


class PaintWatch(QObject):
    """Records when the conversation's viewport first paints after `arm()`."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False
        self.painted_at: float | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if self.armed and event.type() == QEvent.Type.Paint and self.painted_at is None:
            self.painted_at = time.perf_counter()
        return False


def open_and_measure(app: QApplication, window: MainWindow, uid: str, turns: int) -> tuple[float, list[float]]:
    """(ms to first paint with the newest turn built, probe gaps in ms until every turn is built)."""
    window.new_chat()
    app.processEvents()
    watch = PaintWatch()
    window.chat_view.viewport().installEventFilter(watch)
    gaps: list[float] = []
    clock = QElapsedTimer()
    probe = QTimer()
    probe.setInterval(PROBE_MS)

    def on_probe() -> None:
        gaps.append(clock.restart() - PROBE_MS)

    probe.timeout.connect(on_probe)
    probe.start()
    clock.start()
    start = time.perf_counter()
    watch.armed = False
    window.session.opened.connect(lambda _uid: setattr(watch, "armed", True))
    window.session.open(uid)
    while watch.painted_at is None or window.session.loading or len(window.chat_view.turns) < turns:
        app.processEvents()
    probe.stop()
    window.session.opened.disconnect()
    window.chat_view.viewport().removeEventFilter(watch)
    assert watch.painted_at is not None
    return (watch.painted_at - start) * 1000, gaps


def main() -> None:
    home = tempfile.mkdtemp(prefix="gptoss-bench-history-")
    use_home(home)
    store = Store(app_paths().database)
    long_uid = write_conversation(store, 200)
    short_uid = write_conversation(store, 2)
    store.close()
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    apply_style(app)
    services = AppServices(app_paths().database)
    window = MainWindow(services, Settings(), app_paths().settings_file)
    services.setParent(window)
    window.pages.setCurrentIndex(1)
    window.show()
    while not window.lexer_warm_up.done:  # the app warms Pygments while a model loads (seconds)
        app.processEvents()
    settle_garbage_collector()  # as run_app does once the window is up
    firsts, shorts, gaps = [], [], []
    for _ in range(ROUNDS):
        first, round_gaps = open_and_measure(app, window, long_uid, 400)
        short, _ = open_and_measure(app, window, short_uid, 4)
        firsts.append(first)
        shorts.append(short)
        gaps += round_gaps
        print(f"round: first_paint={first:.0f} ms (2 exchanges: {short:.0f} ms) max_stall={max(round_gaps):.1f} ms")
    window.close()
    while window.isVisible():
        app.processEvents()
    gaps.sort()
    p99 = gaps[int(len(gaps) * 0.99)]
    print(
        f"history first_paint_ms={statistics.median(firsts):.0f} short_first_paint_ms={statistics.median(shorts):.0f} "
        f"p99_stall_ms={p99:.1f} max_stall_ms={gaps[-1]:.1f}"
    )


if __name__ == "__main__":
    main()
