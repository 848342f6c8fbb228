"""Garbage holding Qt objects is freed on the main thread, never on a worker that allocates."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from gptoss_desktop.services.garbage import MainThreadCollector


@pytest.fixture
def collection_threads() -> Iterator[list[str]]:
    """Names of the threads each collection ran on, from a fresh process's state (automatic on)."""
    names: list[str] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            names.append(threading.current_thread().name)

    was_enabled = gc.isenabled()
    gc.collect()  # on this thread first: a worker's collection must find no earlier test's Qt objects
    gc.enable()
    gc.callbacks.append(note)
    yield names
    gc.callbacks.remove(note)
    if not was_enabled:
        gc.disable()


def allocate_on_a_worker() -> None:
    """Leave far more cyclic garbage than one generation holds, as any long-running worker does."""

    def churn() -> None:
        for _ in range(10 * gc.get_threshold()[0]):
            cycle: list[object] = []
            cycle.append(cycle)

    worker = threading.Thread(target=churn, name="worker")
    worker.start()
    worker.join()


class Cyclic(QObject):
    """A Qt object kept alive only by a reference cycle, like a closed window's wrappers."""

    def __init__(self) -> None:
        super().__init__()
        self.me = self


def test_without_the_collector_a_worker_thread_collects(collection_threads: list[str]) -> None:
    allocate_on_a_worker()
    assert "worker" in collection_threads  # the hazard the collector exists for


def test_collections_run_on_the_main_thread_and_still_free_cycles(collection_threads: list[str], qtbot: QtBot) -> None:
    collector = MainThreadCollector(interval_ms=10)
    try:
        garbage = Cyclic()
        freed = weakref.ref(garbage)
        del garbage
        allocate_on_a_worker()
        qtbot.waitUntil(lambda: freed() is None)
    finally:
        collector.stop()
    assert collection_threads, "nothing was collected"
    assert set(collection_threads) == {threading.main_thread().name}
