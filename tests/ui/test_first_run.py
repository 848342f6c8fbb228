"""First run in the real window: download over real HTTP from a local hub, or use a file on disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.models.catalog import DEFAULT_SOURCE
from tests.fixtures.chat_events import is_done
from tests.fixtures.hub_server import HubFile, HubRepo, HubServer, use_endpoint

from .conftest import WindowFactory


@pytest.fixture
def hub(tmp_path: Path, tiny_model: Path) -> Iterator[HubServer]:
    """A hub-protocol server on 127.0.0.1 publishing the tiny gpt-oss as the default download."""
    repos = {DEFAULT_SOURCE.repo_id: HubRepo({DEFAULT_SOURCE.filename: HubFile.from_path(tiny_model)})}
    with HubServer(repos) as server, use_endpoint(server.url, tmp_path / "hf"):
        yield server


def test_download_then_chat(make_window: WindowFactory, qtbot: QtBot, hub: HubServer) -> None:
    window = make_window()
    panel = window.first_run
    with qtbot.waitSignal(window.services.chat.model_loaded, timeout=30_000) as loaded:
        qtbot.mouseClick(panel.download_button, Qt.MouseButton.LeftButton)
    assert "blobs" in str(loaded.args[0].path.resolve())  # verified and placed in the Hugging Face cache
    assert panel.status.text().startswith("Downloaded and verified")
    assert window.pages.currentIndex() == 1
    assert window.settings.model_path == str(loaded.args[0].path)
    with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_done, timeout=30_000):
        window.composer.edit.setPlainText("hi")
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)


def test_pause_keeps_the_bytes_and_resume_finishes(
    make_window: WindowFactory, qtbot: QtBot, hub: HubServer, tiny_model: Path
) -> None:
    hub.faults.hold_after = tiny_model.stat().st_size // 2
    window = make_window()
    panel = window.first_run
    qtbot.mouseClick(panel.download_button, Qt.MouseButton.LeftButton)
    assert hub.wait_held()
    with qtbot.waitSignal(window.services.models.download_stopped, timeout=10_000) as stopped:
        qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
        hub.release()
    assert stopped.args[1] > 0
    assert panel.status.text().startswith("Paused with")
    assert panel.download_button.text() == "Resume"
    with qtbot.waitSignal(window.services.chat.model_loaded, timeout=30_000):
        qtbot.mouseClick(panel.download_button, Qt.MouseButton.LeftButton)
    resumed = hub.body_requests()[-1]
    assert resumed.range is not None and not resumed.range.startswith("bytes=0-")


def test_corrupted_download_is_rejected_and_the_app_carries_on(
    make_window: WindowFactory, qtbot: QtBot, hub: HubServer
) -> None:
    hub.faults.corrupt_at = 1000
    window = make_window()
    panel = window.first_run
    with qtbot.waitSignal(window.services.models.download_failed, timeout=30_000):
        qtbot.mouseClick(panel.download_button, Qt.MouseButton.LeftButton)
    assert "corrupt" in panel.status.text().lower() and "deleted" in panel.status.text().lower()
    assert window.pages.currentIndex() == 0 and panel.download_button.isEnabled()


def lm_studio_file(name: str) -> Path:
    folder = Path.home() / ".lmstudio" / "models" / "lmstudio-community" / "gpt-oss-20b-GGUF"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def test_models_found_on_disk_are_offered_and_broken_ones_explained(
    make_window: WindowFactory, qtbot: QtBot, tiny_model: Path
) -> None:
    good = lm_studio_file("gpt-oss-20b-MXFP4.gguf")
    good.write_bytes(tiny_model.read_bytes())
    lm_studio_file("gpt-oss-20b-half.gguf").write_bytes(tiny_model.read_bytes()[: tiny_model.stat().st_size // 2])
    window = make_window()
    panel = window.first_run
    qtbot.waitUntil(lambda: panel.found.count() == 2, timeout=10_000)
    usable, broken = panel.found.item(0), panel.found.item(1)
    assert "LM Studio" in usable.text() and usable.flags() & Qt.ItemFlag.ItemIsEnabled
    assert "gpt-oss-20b-half.gguf" in broken.text() and not broken.flags() & Qt.ItemFlag.ItemIsEnabled
    with qtbot.waitSignal(window.services.chat.model_loaded, timeout=20_000) as loaded:
        qtbot.mouseClick(panel.use_button, Qt.MouseButton.LeftButton)
    assert loaded.args[0].path == good


def test_a_gguf_dropped_on_the_window_is_loaded(make_window: WindowFactory, qtbot: QtBot, tiny_model: Path) -> None:
    window = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tiny_model))])
    where, action, button, keys = (
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier(0),
    )
    # What a real drag delivers: enter (the window must accept it), then drop.
    assert QApplication.sendEvent(window, QDragEnterEvent(where, action, mime, button, keys))
    with qtbot.waitSignal(window.services.chat.model_loaded, timeout=20_000):
        QApplication.sendEvent(window, QDropEvent(where, action, mime, button, keys))
    assert window.pages.currentIndex() == 1
