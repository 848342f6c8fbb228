"""Preferences ▸ Semantic search: download the embedding model, choose a file, or turn it off.

The download goes through the app's model manager, as gpt-oss's does (resumable, SHA-256 checked
against the hub, into the Hugging Face cache); it is paused when the dialog closes, and what was
fetched is kept for the next try.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, Slot
from PySide6.QtWidgets import QFileDialog, QGroupBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout

from ...core.documents.embeddings import EmbeddingModelError, check_embedding_model
from ...core.models.catalog import DEFAULT_EMBEDDING_SOURCE, ModelSource
from ...core.models.downloads.progress import Progress, progress_text
from ...core.models.errors import format_size
from ...services.model_setup import ModelSetupService

SEMANTIC_HELP = (
    "Finds passages of your documents worded differently from your question, with a small embedding model "
    f"({DEFAULT_EMBEDDING_SOURCE.label.split(' (')[0]}). Without one, documents are searched by their words."
)
#: The box keeps room for this many characters a line, so its text wraps into a few lines, not a column.
LINE_CHARS = 48
DOWNLOAD_TIP = (
    f"Download {DEFAULT_EMBEDDING_SOURCE.label} (about 25 MB) from the Hugging Face hub\n"
    f"({DEFAULT_EMBEDDING_SOURCE.repo_id}) into the Hugging Face cache, checked against the hub's SHA-256."
)


def _problem_with(path: str) -> str | None:
    """Why the file at `path` cannot be the embedding model (its header is read), or None."""
    try:
        check_embedding_model(Path(path))
    except EmbeddingModelError as exc:
        return str(exc)
    return None


class SemanticSearchBox(QGroupBox):
    """The embedding model file, or Off: Download fetches the default one, Choose… checks a file's header."""

    def __init__(
        self, path: str | None, models: ModelSetupService, source: ModelSource = DEFAULT_EMBEDDING_SOURCE
    ) -> None:
        """`models` is the app's model manager, which Download borrows."""
        super().__init__("Se&mantic search")
        self.path = path
        self.source = source
        self._models = models
        self._ticket = 0  # this box's download, while it runs
        self.file = QLabel()
        self.file.setAccessibleName("Semantic search model")
        self.download = QPushButton("&Download")
        self.download.setAccessibleName("Download the embedding model")
        self.download.setToolTip(DOWNLOAD_TIP)
        self.choose = QPushButton("C&hoose…")
        self.choose.setAccessibleName("Choose an embedding model")
        self.choose.setToolTip("An embedding model in GGUF already on this computer, such as all-MiniLM-L6-v2")
        self.off = QPushButton("Turn &Off")
        self.off.setAccessibleName("Turn semantic search off")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setAccessibleName("Embedding model download progress")
        self.progress.setVisible(False)
        self.status = QLabel()
        self.status.setAccessibleName("Embedding model download status")
        self.status.setVisible(False)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setAccessibleName("Why the model cannot be used")
        self.problem.setVisible(False)
        self.help = QLabel(SEMANTIC_HELP)
        self.help.setWordWrap(True)
        self.file.setWordWrap(True)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * LINE_CHARS)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.file, 1)
        row.addWidget(self.download)
        row.addWidget(self.choose)
        row.addWidget(self.off)
        layout = QVBoxLayout(self)
        layout.addWidget(self.help)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.problem)
        # Methods, not lambdas: a lambda holding self would keep the box in a reference cycle.
        self.download.clicked.connect(self._download_or_cancel)
        self.choose.clicked.connect(self._choose)
        self.off.clicked.connect(self._turn_off)
        models.download_progressed.connect(self._on_progress)
        models.download_finished.connect(self._on_finished)
        models.download_stopped.connect(self._on_stopped)
        models.download_failed.connect(self._on_failed)
        self._show(path)
        if path is not None:  # the saved model may have gone or been replaced since: say so, keep it until changed
            self._show_problem(_problem_with(path))

    @property
    def downloading(self) -> bool:
        return self._ticket != 0

    def set_path(self, path: str | None) -> str | None:
        """Use the embedding model at `path` (None: off); a file that is not one is refused, and why is
        shown. Returns the reason, or None when taken."""
        problem = _problem_with(path) if path is not None else None
        self._show_problem(problem)
        if problem is None:
            self._show(path)
        return problem

    def stop_download(self) -> None:
        """The dialog closes: pause a download in progress (its bytes are kept for the next try).

        A download that finished just before is still taken: its news, already posted to this thread, is
        delivered before this returns, so OK pressed at that moment saves the new model."""
        if self._ticket:
            QCoreApplication.sendPostedEvents(self._models)
            self._models.pause(self._ticket)
            self._ticket = 0
            self._set_downloading(False)

    def _show(self, path: str | None) -> None:
        self.path = path
        self.file.setText(f"Uses {Path(path).name}." if path else "Off.")
        self.file.setToolTip(path or "Documents are searched by their words only")
        self.off.setVisible(path is not None)  # nothing to turn off otherwise
        self.off.setEnabled(not self.downloading)
        self._offer_download()

    def _show_problem(self, problem: str | None) -> None:
        self.problem.setText(problem or "")
        self.problem.setVisible(problem is not None)
        self._offer_download()

    def _offer_download(self) -> None:
        """Download is offered while there is no working model (none chosen, or the chosen one is unusable)."""
        self.download.setVisible(self.path is None or bool(self.problem.text()) or self.downloading)

    def _show_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def _set_downloading(self, downloading: bool) -> None:
        self.download.setText("&Cancel Download" if downloading else "&Download")
        self.download.setAccessibleName("Cancel the download" if downloading else "Download the embedding model")
        self.choose.setEnabled(not downloading)
        self.off.setEnabled(not downloading)
        self.progress.setVisible(downloading)

    @Slot()
    def _turn_off(self) -> None:
        self.set_path(None)

    @Slot()
    def _choose(self) -> None:
        start = str(Path(self.path).parent) if self.path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Choose an embedding model", start, "GGUF models (*.gguf)")
        if path:
            self.set_path(path)

    @Slot()
    def _download_or_cancel(self) -> None:
        models = self._models
        if self._ticket:
            models.cancel(self._ticket)
            return
        self._show_problem(None)
        self._show_status("Asking the hub for the file…")
        self.progress.setValue(0)
        self._ticket = models.download(self.source)
        self._set_downloading(True)

    @Slot(int, Progress)
    def _on_progress(self, ticket: int, progress: Progress) -> None:
        if ticket == self._ticket:
            self.progress.setValue(int(progress.fraction * 1000))
            self._show_status(progress_text(progress))

    @Slot(int, str)
    def _on_finished(self, ticket: int, path: str) -> None:
        if ticket != self._ticket:
            return
        self._ticket = 0
        self._set_downloading(False)
        problem = self.set_path(path)
        self._show_status("" if problem else "Downloaded and verified. OK turns semantic search on.")

    @Slot(int, int)
    def _on_stopped(self, ticket: int, kept: int) -> None:
        if ticket != self._ticket:
            return
        self._ticket = 0
        self._set_downloading(False)
        self._show_status(
            f"Stopped with {format_size(kept)} kept: Download carries on from there."
            if kept
            else "Download cancelled; nothing was kept."
        )

    @Slot(int, str)
    def _on_failed(self, ticket: int, message: str) -> None:
        if ticket != self._ticket:
            return
        self._ticket = 0
        self._set_downloading(False)
        self._show_status("")
        self._show_problem(message)
