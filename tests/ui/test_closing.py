"""Closing the window while an answer streams and a download runs: it goes at once, nothing is lost."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QElapsedTimer, Qt
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.history.store import Store
from gptoss_desktop.core.models.catalog import DEFAULT_SOURCE
from gptoss_desktop.core.paths import app_paths
from tests.fixtures.hub_server import HubFile, HubRepo, HubServer, use_endpoint

from .conftest import WindowFactory


@pytest.fixture
def slow_hub(tmp_path: Path) -> Iterator[HubServer]:
    """The default download, 16 MB over a 256 KB/s link: still running when the window closes."""
    big = HubFile.from_bytes(random.Random(0).randbytes(16 << 20))
    repos = {DEFAULT_SOURCE.repo_id: HubRepo({DEFAULT_SOURCE.filename: big})}
    with HubServer(repos) as server, use_endpoint(server.url, tmp_path / "hf"):
        server.faults.link_bytes_per_s = 256 << 10
        yield server


def test_the_window_closes_within_a_second_while_an_answer_streams_and_a_download_runs(
    make_window: WindowFactory, qtbot: QtBot, slow_hub: HubServer, tiny_model: Path
) -> None:
    window = make_window()
    panel = window.first_run
    qtbot.mouseClick(panel.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.progress.value() > 0, timeout=20_000)  # bytes are arriving
    with qtbot.waitSignal(window.services.chat.model_loaded, timeout=20_000):
        window.load_model(str(tiny_model))  # a file at hand, while the download goes on
    window.composer.edit.setPlainText("Write forever")
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
    answer = window.session.transcript.messages[-1]
    qtbot.waitUntil(lambda: bool(answer.reasoning or answer.content), timeout=20_000)
    assert window.services.chat.busy and not panel.pause_button.isHidden(), panel.status.text()  # both running
    stopped: list[int] = []
    window.services.models.download_stopped.connect(lambda _ticket, kept: stopped.append(kept))

    clock = QElapsedTimer()
    clock.start()
    window.close()
    assert window.isVisible() and not window.isEnabled()  # saying it is closing, not frozen
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=1_000)
    assert clock.elapsed() < 1_000
    assert window.services.running == []
    assert stopped and stopped[0] > 0  # the download paused with its bytes kept for a resume

    store = Store(app_paths().database)
    try:
        [conversation] = store.conversations()
        question, stored = store.messages(conversation.id)
    finally:
        store.close()
    assert (question.content, stored.state) == ("Write forever", "stopped")
    assert (stored.reasoning, stored.content) == (answer.reasoning, answer.content) != ("", "")
