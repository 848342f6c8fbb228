"""The app's whole pipeline on an already loaded full-size engine: service, worker thread, window; and the
service and its worker thread alone, without a window (where the pipeline's cost is, if it has one).

bench/fullsize_speed.py alternates these rounds with the raw llama-cpp-python loop on the same
engine (12 GB cannot be loaded twice). The engine is handed to the ChatService through its
factory; between rounds it is idle, so the raw loop may use it from the main thread.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication

from gptoss_desktop.core.conversation_settings import ConversationSettings
from gptoss_desktop.core.engine import ChatRequest
from gptoss_desktop.core.events import Done
from gptoss_desktop.core.harmony import Conversation
from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.sampling import SamplingParams
from gptoss_desktop.core.settings import Settings
from gptoss_desktop.services.app_services import AppServices
from gptoss_desktop.services.chat_service import ChatService
from gptoss_desktop.ui.style import apply_style
from gptoss_desktop.ui.window.main_window import MainWindow


def cpu_by_thread() -> dict[str, float]:
    """CPU seconds each thread of this process has used, summed by thread name ("gui" for the main thread)."""
    seconds: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            name = "gui" if task.name == str(os.getpid()) else (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        seconds[name] = seconds.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


def answered(service: ChatService, start: Callable[[], object]) -> Done:
    """Call `start` (which sends a message to `service`) and wait in Qt's event loop for the turn's Done."""
    done: list[Done] = []
    loop = QEventLoop()

    def on_event(event: object) -> None:
        if isinstance(event, Done):
            done.append(event)
            loop.quit()

    service.event_received.connect(on_event)
    start()
    loop.exec()
    service.event_received.disconnect(on_event)
    return done[0]


class WindowPipeline:
    """A main window whose chat service runs `engine`; `decode` answers one turn into its widgets."""

    def __init__(self, engine: LocalEngine) -> None:
        self.app = QApplication.instance() or QApplication([])
        apply_style(self.app)  # type: ignore[arg-type]
        folder = Path(tempfile.mkdtemp(prefix="gptoss-fullsize-"))
        self.services = AppServices(folder / "history.sqlite", engine_factory=lambda _path: engine)
        self.service = self.services.chat
        self.window = MainWindow(self.services, Settings(), folder / "settings.json")
        self.services.setParent(self.window)
        self.window.show()
        loop = QEventLoop()  # wait in Qt's event loop: a processEvents() spin would steal a core
        self.service.model_loaded.connect(loop.quit)
        self.service.load_model(str(engine.info.path))
        loop.exec()

    def decode(self, conversation: Conversation, max_tokens: int, seed: int) -> tuple[float, dict[str, float]]:
        """Tokens/s after the first token, as the engine's stats count them, the message sent as a person
        sends it (the window's own session, transcript, widgets and history); and each thread's CPU
        milliseconds per token over the whole turn (Linux)."""
        before = cpu_by_thread()

        def send() -> None:
            # A new conversation each round: the same prompt as the raw loop's, at the same place in the context.
            self.window.session.new(ConversationSettings(seed=seed, max_tokens=max_tokens))
            self.window.session.send(conversation.messages[-1].content, conversation.effort)

        stats = answered(self.service, send).stats
        after = cpu_by_thread()
        cpu = {name: round((spent - before.get(name, 0.0)) * 1000 / stats.completion_tokens, 2)
               for name, spent in after.items() if spent > before.get(name, 0.0)}  # fmt: skip
        return (stats.completion_tokens - 1) / stats.generation_seconds, cpu

    def close(self) -> None:
        """Close the window: the services free the engine and join their threads."""
        self.window.close()
        while self.window.isVisible():
            self.app.processEvents()


class ServicePipeline:
    """A ChatService of its own (worker thread, event buffer, frame batching) running `engine`, its events taken
    on the main thread by nothing but the benchmark: the pipeline without the window."""

    def __init__(self, engine: LocalEngine) -> None:
        self.app = QApplication.instance() or QApplication([])
        self.service = ChatService(lambda _path: engine)
        loop = QEventLoop()
        self.service.model_loaded.connect(loop.quit)
        self.service.load_model(str(engine.info.path))
        loop.exec()

    def decode(self, conversation: Conversation, max_tokens: int, seed: int) -> float:
        """Tokens/s after the first token, as the engine's stats count them."""
        request = ChatRequest(conversation, SamplingParams(max_tokens=max_tokens, seed=seed))
        stats = answered(self.service, lambda: self.service.send(request)).stats
        return (stats.completion_tokens - 1) / stats.generation_seconds

    def close(self) -> None:
        """End the service's thread (it frees the engine: close this one last but for the window)."""
        loop = QEventLoop()
        self.service.finished.connect(loop.quit)
        self.service.close()
        loop.exec()
