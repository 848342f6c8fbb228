"""The app's whole pipeline on an already loaded full-size engine: service, worker thread, window.

bench/fullsize_speed.py alternates these rounds with the raw llama-cpp-python loop on the same
engine (12 GB cannot be loaded twice). The engine is handed to the ChatService through its
factory; between rounds it is idle, so the raw loop may use it from the main thread.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication

from gptoss_desktop.core.engine import ChatRequest
from gptoss_desktop.core.events import Done
from gptoss_desktop.core.harmony import Conversation
from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.sampling import SamplingParams
from gptoss_desktop.core.settings import Settings
from gptoss_desktop.services.chat_service import ChatService
from gptoss_desktop.ui.style import apply_style
from gptoss_desktop.ui.window.main_window import MainWindow


class WindowPipeline:
    """A main window whose chat service runs `engine`; `decode` answers one turn into its widgets."""

    def __init__(self, engine: LocalEngine) -> None:
        self.app = QApplication.instance() or QApplication([])
        apply_style(self.app)  # type: ignore[arg-type]
        self.service = ChatService(engine_factory=lambda _path: engine)
        self.window = MainWindow(self.service, Settings(), Path(tempfile.mkdtemp()) / "settings.json")
        self.window.show()
        loop = QEventLoop()
        self.service.model_loaded.connect(loop.quit)
        self.service.load_model(str(engine.info.path))
        loop.exec()

    def decode(self, conversation: Conversation, max_tokens: int, seed: int) -> float:
        """Tokens/s after the first token, as the engine's stats count them, with the widgets updating."""
        done: list[Done] = []
        loop = QEventLoop()

        def finished(event: Done) -> None:
            done.append(event)
            loop.quit()

        self.service.generation_finished.connect(finished)
        self.window.chat_view.add_user_message(conversation.messages[-1].content)
        self.window.session._turn = self.window.chat_view.add_assistant_turn(show_reasoning=True)
        self.service.send(ChatRequest(conversation, SamplingParams(max_tokens=max_tokens, seed=seed)))
        loop.exec()
        self.service.generation_finished.disconnect(finished)
        stats = done[0].stats
        return (stats.completion_tokens - 1) / stats.generation_seconds

    def close(self) -> None:
        """Close the window: the service frees the engine and joins its thread."""
        self.window.close()
        self.app.processEvents()
