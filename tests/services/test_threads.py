"""Calls submitted to a worker run on its thread, in order; every service of the app stops at once."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QThread
from pytestqt.qtbot import QtBot

from gptoss_desktop.services.app_services import AppServices
from gptoss_desktop.services.threads import ThreadOwner, Worker


class Recorder(Worker):
    """Notes which thread ran each call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str]] = []

    def record(self, label: str, suffix: str = "") -> None:
        thread = QThread.currentThread()
        self.calls.append((label + suffix, thread.objectName() if thread is not None else ""))


def test_submitted_calls_run_on_the_workers_thread_in_the_order_given(qtbot: QtBot) -> None:
    worker = Recorder()
    owner = ThreadOwner(worker, "recorder")
    try:
        for n in range(50):
            owner.submit(worker.record, str(n), suffix="!")
        qtbot.waitUntil(lambda: len(worker.calls) == 50)
        assert worker.calls == [(f"{n}!", "recorder") for n in range(50)]
        assert threading.current_thread() is threading.main_thread()  # the test never ran them itself
    finally:
        assert owner.shutdown(2000)
    assert owner.stopped


def test_every_service_stops_at_once_and_says_so(qtbot: QtBot, tmp_path: Path) -> None:
    services = AppServices(tmp_path / "history.db")
    assert sorted(services.running) == ["documents", "engine", "models", "servers", "storage"]
    with qtbot.waitSignal(services.stopped, timeout=10_000) as stopped:
        services.begin_shutdown()
    assert stopped.args == [[]] and services.running == []
    assert services.shutdown() == []  # a second request finds nothing left to stop
