"""The window's part that follows a model being loaded: what the status line, the empty conversation and the
first-run screen say before, during and after."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QMimeData, QObject, Slot
from PySide6.QtWidgets import QStackedWidget, QWidget

from ...core.engine import ModelInfo
from ...services.chat_service import ChatService
from .first_run import FirstRunPanel
from .status_line import StatusLine
from .where_it_runs import WhereItRuns

FIRST_RUN_PAGE, CONVERSATION_PAGE = 0, 1


def dropped_model(mime: QMimeData) -> str | None:
    """The first local .gguf file in a drag, if any."""
    for url in mime.urls():
        if url.isLocalFile() and url.toLocalFile().lower().endswith(".gguf"):
            return url.toLocalFile()
    return None


class ModelLoading(QObject):
    """Shows a model loading, ready or refused (GUI thread)."""

    def __init__(
        self,
        parent: QWidget,
        chat: ChatService,
        where: WhereItRuns,
        first_run: FirstRunPanel,
        pages: QStackedWidget,
        status: StatusLine,
        loaded: Callable[[ModelInfo], None],
    ) -> None:
        """`loaded` is called once a model is ready (the window remembers it and puts the keyboard in the box)."""
        super().__init__(parent)
        self._where = where
        self._first_run = first_run
        self._pages = pages
        self._status = status
        self._loaded = loaded
        chat.model_loading.connect(self._on_loading)
        chat.model_loaded.connect(self._on_loaded)
        chat.model_failed.connect(self._on_failed)

    @Slot(str)
    def _on_loading(self, path: str) -> None:
        self._status.clear_figures()  # they were the previous model's
        self._pages.setCurrentIndex(CONVERSATION_PAGE)
        name = Path(path).name
        self._where.local_label = f"Loading {name}…"
        self._where.local_placeholder = f"<h3>Loading {html.escape(name)}…</h3>"
        self._where.update()

    @Slot(object)
    def _on_loaded(self, info: ModelInfo) -> None:
        kind = "gpt-oss" if info.is_harmony else f"{info.architecture}, answer only"
        self._where.local_label = f"{info.name} ({kind}) · context {info.context_size:,} tokens"
        self._where.local_placeholder = (
            f"<h3>{html.escape(info.name)} is ready</h3><p>Ask anything. Nothing leaves this computer.</p>"
            f"<p>Memory: {html.escape(info.plan_message)}</p>"
        )
        self._where.update()
        self._loaded(info)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._where.local_label = "No model"
        self._where.update()
        self._first_run.show_problem(message)
        self._pages.setCurrentIndex(FIRST_RUN_PAGE)
