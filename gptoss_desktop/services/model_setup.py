"""Getting a model onto the machine: finding files already on disk and downloading one.

Both block (disk scans, 12 GB over the network), so they run on their own thread,
apart from the engine's. Pause and cancel set a CancelFlag directly from the GUI
thread; the download notices within one chunk.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from ..core.cancel import CancelFlag
from ..core.models.catalog import ModelSource
from ..core.models.discovery import FoundModel, discover_models
from ..core.models.downloads import DownloadError, DownloadStoppedError, Folder, HubCache, discard, download, kept_bytes
from ..core.models.downloads.progress import Progress
from .threads import ThreadOwner, Worker


class DownloadStop(CancelFlag):
    """Pause keeps the bytes fetched so far for a later resume; cancel also throws them away."""

    def __init__(self) -> None:
        super().__init__()
        self.discard = False


class ModelSetupWorker(Worker):
    """Lives on the `models` thread."""

    models_found = Signal(list)  # list[FoundModel]
    download_progressed = Signal(object)  # Progress
    download_finished = Signal(str)  # path of the verified file
    download_stopped = Signal(int)  # bytes kept for a later resume (0 after cancel)
    download_failed = Signal(str)

    @Slot(list)
    def find(self, files: list[str]) -> None:
        """Scan the usual stores, plus `files` the person picked or dropped."""
        found = discover_models(files=[Path(f) for f in files])
        self.models_found.emit(found)

    @Slot(object, str, object)
    def download(self, source: ModelSource, folder: str, cancel: DownloadStop) -> None:
        """Fetch `source` into the Hugging Face cache (or `folder`), verified, resumable."""
        destination = Folder(Path(folder)) if folder else HubCache()
        try:
            path = download(
                source.repo_id,
                source.filename,
                revision=source.revision,
                destination=destination,
                on_progress=self.download_progressed.emit,
                cancel=cancel,
            )
        except DownloadStoppedError as stopped:
            if cancel.discard:
                discard(stopped.remote, destination)
            self.download_stopped.emit(0 if cancel.discard else kept_bytes(stopped.remote, destination))
        except DownloadError as exc:
            self.download_failed.emit(str(exc))
        except OSError as exc:
            self.download_failed.emit(f"The download stopped: {exc.strerror or exc}.")
        else:
            self.download_finished.emit(str(path))


class ModelSetupService(ThreadOwner):
    """The GUI thread's handle on the `models` thread. One download at a time."""

    models_found = Signal(list)  # list[FoundModel]
    download_started = Signal(object)  # ModelSource
    download_progressed = Signal(object)  # Progress
    download_finished = Signal(str)
    download_stopped = Signal(int)
    download_failed = Signal(str)

    _find_requested = Signal(list)
    _download_requested = Signal(object, str, object)

    def __init__(self, parent: QObject | None = None) -> None:
        self._worker = ModelSetupWorker()
        super().__init__(self._worker, "models", parent)
        self._stop = DownloadStop()
        self._downloading = False
        self._find_requested.connect(self._worker.find)
        self._download_requested.connect(self._worker.download)
        self._worker.models_found.connect(self._on_models_found)
        self._worker.download_progressed.connect(self._on_progressed)
        self._worker.download_finished.connect(self._on_finished)
        self._worker.download_stopped.connect(self._on_stopped)
        self._worker.download_failed.connect(self._on_failed)

    @property
    def downloading(self) -> bool:
        """True from download() until finished, stopped or failed."""
        return self._downloading

    def find_models(self, files: list[str] | None = None) -> None:
        """Look for usable models on disk; models_found follows."""
        self._find_requested.emit(list(files or []))

    def download(self, source: ModelSource, folder: str = "") -> None:
        """Start (or resume) downloading `source`; an empty `folder` means the Hugging Face cache."""
        if self._downloading:
            return
        self._downloading = True
        self._stop = DownloadStop()
        self.download_started.emit(source)
        self._download_requested.emit(source, folder, self._stop)

    def pause(self) -> None:
        """Stop the download, keeping what was fetched for a resume."""
        self._stop.set()

    def cancel(self) -> None:
        """Stop the download and delete what was fetched."""
        self._stop.discard = True
        self._stop.set()

    def stop_work(self) -> None:
        """Before shutdown joins the thread: pause any download (it resumes next time)."""
        self._stop.set()

    @Slot(list)
    def _on_models_found(self, found: list[FoundModel]) -> None:
        self.models_found.emit(found)

    @Slot(object)
    def _on_progressed(self, progress: Progress) -> None:
        self.download_progressed.emit(progress)

    @Slot(str)
    def _on_finished(self, path: str) -> None:
        self._downloading = False
        self.download_finished.emit(path)

    @Slot(int)
    def _on_stopped(self, kept: int) -> None:
        self._downloading = False
        self.download_stopped.emit(kept)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._downloading = False
        self.download_failed.emit(message)
