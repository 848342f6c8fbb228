"""The window's threads tokenize what a person pastes: a long run of one character must not kill the app."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QThread

from gptoss_desktop.core.local.engine import LocalEngine


class _Counting(QThread):
    def __init__(self, engine: LocalEngine, text: str) -> None:
        super().__init__()
        self.engine, self.text, self.count = engine, text, -1

    def run(self) -> None:
        self.count = self.engine.count_text_tokens(self.text)


def test_a_pasted_run_of_one_letter_is_counted_on_a_small_stacked_qthread(trained_model: Path) -> None:
    engine = LocalEngine(trained_model, context_size=256)
    try:
        thread = _Counting(engine, "a" * 30_000)
        thread.setStackSize(512 << 10)  # macOS's default for secondary threads
        thread.start()
        assert thread.wait(60_000)
        assert thread.count > 0
    finally:
        engine.close()
