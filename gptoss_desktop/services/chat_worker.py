"""The object that lives on the engine thread and is the only one to touch llama.cpp."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal, Slot

from ..core.cancel import CancelFlag
from ..core.engine import ChatRequest, LocalEngine
from ..core.events import EngineEvent, Failed
from ..core.model_file import ModelLoadError
from .event_buffer import EventBuffer
from .threads import Worker

EngineFactory = Callable[[str], LocalEngine]
Tagged = tuple[int, EngineEvent]


class ChatWorker(Worker):
    """Loads a model and runs requests on its thread; results go through an EventBuffer."""

    events_ready = Signal()
    model_loaded = Signal(object)  # ModelInfo
    model_failed = Signal(str)

    def __init__(self, buffer: EventBuffer[Tagged], engine_factory: EngineFactory = LocalEngine) -> None:
        super().__init__()
        self._buffer = buffer
        self._engine_factory = engine_factory
        self._engine: LocalEngine | None = None

    @Slot(str)
    def load(self, path: str) -> None:
        """Replace the current model with the one at `path` (engine thread)."""
        self._close_engine()
        try:
            self._engine = self._engine_factory(path)
        except ModelLoadError as exc:
            self.model_failed.emit(str(exc))
            return
        self.model_loaded.emit(self._engine.info)

    @Slot(int, object, object)
    def generate(self, request_id: int, request: ChatRequest, cancel: CancelFlag) -> None:
        """Run one request to its end or until `cancel` is set (engine thread)."""
        if self._engine is None:
            self._push(request_id, Failed("No model is loaded."))
            return
        try:
            for event in self._engine.generate(request, cancel):
                self._push(request_id, event)
        except Exception as exc:  # the worker must survive anything one request does
            self._push(request_id, Failed(f"Generation failed: {exc}"))

    def release(self) -> None:
        """Free the model before the engine thread ends (engine thread)."""
        self._close_engine()

    def _push(self, request_id: int, event: EngineEvent) -> None:
        if self._buffer.push((request_id, event)):
            self.events_ready.emit()

    def _close_engine(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None
