"""Getting a model onto the machine: finding files already on disk and downloading one.

Both block (disk scans, 12 GB over the network), so they run on their own thread,
apart from the engine's. Pause and cancel set a CancelFlag directly from the GUI
thread; the download notices within one chunk.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from ..core.cancel import CancelFlag
from ..core.models.catalog import ModelSource
from ..core.models.discovery import discover_models
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
    download_progressed = Signal(int, Progress)  # the download's ticket, its progress
    download_finished = Signal(int, str)  # ticket, the path of the verified file
    download_stopped = Signal(int, int)  # ticket, bytes kept for a later resume (0 after cancel)
    download_failed = Signal(int, str)  # ticket, why

    def find(self, files: list[str]) -> None:
        """Scan the usual stores, plus `files` the person picked or dropped."""
        found = discover_models(files=[Path(f) for f in files])
        self.models_found.emit(found)

    def download(self, ticket: int, source: ModelSource, folder: str, cancel: DownloadStop) -> None:
        """Fetch `source` into the Hugging Face cache (or `folder`), verified, resumable."""
        destination = Folder(Path(folder)) if folder else HubCache()
        try:
            path = download(
                source.repo_id,
                source.filename,
                revision=source.revision,
                destination=destination,
                on_progress=lambda progress: self.download_progressed.emit(ticket, progress),
                cancel=cancel,
            )
        except DownloadStoppedError as stopped:
            if cancel.discard:
                discard(stopped.remote, destination)
            self.download_stopped.emit(ticket, 0 if cancel.discard else kept_bytes(stopped.remote, destination))
        except DownloadError as exc:
            self.download_failed.emit(ticket, str(exc))
        except OSError as exc:
            self.download_failed.emit(ticket, f"The download stopped: {exc.strerror or exc}.")
        else:
            self.download_finished.emit(ticket, str(path))


class ModelSetupService(ThreadOwner):
    """The GUI thread's handle on the `models` thread, for whichever part of the window asks (the first-run
    screen, Preferences). Downloads run one after another; each has a ticket that its signals carry, so
    each part listens to its own."""

    models_found = Signal(list)  # list[FoundModel]
    download_started = Signal(int, ModelSource)  # ticket, what
    download_progressed = Signal(int, Progress)
    download_finished = Signal(int, str)  # ticket, the path of the verified file
    download_stopped = Signal(int, int)  # ticket, bytes kept for a later resume (0 after cancel)
    download_failed = Signal(int, str)  # ticket, why

    def __init__(self, parent: QObject | None = None) -> None:
        self._worker = ModelSetupWorker()
        super().__init__(self._worker, "models", parent)
        self._tickets = itertools.count(1)
        self._running: dict[int, tuple[ModelSource, DownloadStop]] = {}  # asked for and not yet ended
        worker = self._worker
        for ended in (worker.download_finished, worker.download_stopped, worker.download_failed):
            ended.connect(self._on_ended)  # before the relays, so a listener sees the download gone
        for signal, relay in (
            (worker.models_found, self.models_found),
            (worker.download_progressed, self.download_progressed),
            (worker.download_finished, self.download_finished),
            (worker.download_stopped, self.download_stopped),
            (worker.download_failed, self.download_failed),
        ):
            signal.connect(relay)

    def downloading(self, ticket: int) -> bool:
        """True from download() until that download finished, stopped or failed."""
        return ticket in self._running

    def find_models(self, files: list[str] | None = None) -> None:
        """Look for usable models on disk; models_found follows."""
        self.submit(self._worker.find, list(files or []))

    def download(self, source: ModelSource, folder: str = "") -> int:
        """Start (or resume) downloading `source`, after any download before it; an empty `folder` means the
        Hugging Face cache. Returns the ticket its signals carry."""
        ticket = next(self._tickets)
        stop = DownloadStop()
        self._running[ticket] = (source, stop)
        self.download_started.emit(ticket, source)
        self.submit(self._worker.download, ticket, source, folder, stop)
        return ticket

    def pause(self, ticket: int) -> None:
        """Stop that download, keeping what was fetched for a resume."""
        if ticket in self._running:
            self._running[ticket][1].set()

    def cancel(self, ticket: int) -> None:
        """Stop that download and delete what was fetched."""
        if ticket in self._running:
            stop = self._running[ticket][1]
            stop.discard = True
            stop.set()

    def stop_work(self) -> None:
        """Before the thread closes: pause every download (each resumes next time)."""
        for _source, stop in self._running.values():
            stop.set()

    @Slot(int)
    def _on_ended(self, ticket: int) -> None:
        self._running.pop(ticket, None)
