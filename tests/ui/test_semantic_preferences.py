"""Preferences ▸ Semantic search: download the embedding model over real HTTP from a local hub, choose
a file, or turn it off; a chat model is refused."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.documents.ingest import ingest
from gptoss_desktop.core.history.store import Store
from gptoss_desktop.core.models.catalog import DEFAULT_EMBEDDING_SOURCE
from gptoss_desktop.core.paths import app_paths
from gptoss_desktop.core.settings import Settings
from gptoss_desktop.services.model_setup import ModelSetupService
from gptoss_desktop.ui.dialogs.settings import SettingsDialog
from tests.fixtures.hub_server import HubFile, HubRepo, HubServer, use_endpoint
from tests.fixtures.windows import close_window
from tests.ui.conftest import WindowFactory


@pytest.fixture
def hub(tmp_path: Path, minilm_model: Path) -> Iterator[HubServer]:
    """A hub-protocol server on 127.0.0.1 publishing MiniLM as the default embedding model."""
    published = HubFile.from_path(minilm_model)
    repos = {DEFAULT_EMBEDDING_SOURCE.repo_id: HubRepo({DEFAULT_EMBEDDING_SOURCE.filename: published})}
    with HubServer(repos) as server, use_endpoint(server.url, tmp_path / "hf"):
        yield server


PreferencesFactory = Callable[[Settings], SettingsDialog]


@pytest.fixture
def open_preferences(qtbot: QtBot) -> Iterator[PreferencesFactory]:
    """Open Preferences as the window does; each is closed at the end the way a person would
    (Cancel), which stops its download thread. Kept referenced until then: qtbot holds widgets weakly."""
    opened: list[SettingsDialog] = []
    models = ModelSetupService()  # the app's model manager, which the dialog borrows

    def open_dialog(settings: Settings) -> SettingsDialog:
        dialog = SettingsDialog(settings, models)
        qtbot.addWidget(dialog)
        dialog.show()
        opened.append(dialog)
        return dialog

    yield open_dialog
    for dialog in opened:
        dialog.reject()
    assert models.shutdown(10_000)


def test_an_embedding_model_is_chosen_and_turned_off(
    open_preferences: PreferencesFactory, qtbot: QtBot, minilm_model: Path
) -> None:
    dialog = open_preferences(Settings())
    box = dialog.semantic
    assert box.file.text() == "Off." and not box.off.isVisible()  # nothing to turn off: no greyed "Off" beside "Off"
    assert "searched by their words" in box.help.text()
    assert box.set_path(str(minilm_model)) is None  # what Choose… does with the file picked
    assert box.file.text() == f"Uses {minilm_model.name}." and box.off.isVisible() and box.off.isEnabled()
    assert dialog.settings().embedding_model_path == str(minilm_model)
    qtbot.mouseClick(box.off, Qt.MouseButton.LeftButton)
    assert box.file.text() == "Off." and dialog.settings().embedding_model_path is None


def test_a_chat_model_is_refused_with_the_reason_and_the_choice_is_kept(
    open_preferences: PreferencesFactory, qtbot: QtBot, minilm_model: Path, trained_model: Path
) -> None:
    dialog = open_preferences(Settings(embedding_model_path=str(minilm_model)))
    box = dialog.semantic
    reason = box.set_path(str(trained_model))
    assert reason is not None and "not an embedding model" in reason
    assert box.problem.isVisible() and "gpt-oss" in box.problem.text()
    assert dialog.settings().embedding_model_path == str(minilm_model)  # the working model stays
    assert box.set_path(str(minilm_model)) is None and not box.problem.isVisible()


def test_the_window_turns_semantic_search_on_at_once_and_again_at_the_next_start(
    make_window: WindowFactory, qtbot: QtBot, minilm_model: Path
) -> None:
    store = Store(app_paths().database)  # a conversation with a document read before the model was chosen
    notes = app_paths().database.parent / "lease.md"
    notes.write_text("Either party may terminate this tenancy with three months' notice.\n")
    assert ingest(store.document_index, store.create_conversation("lease"), notes) is not None
    store.close()
    window = make_window()
    on = "Semantic search uses all-MiniLM-L6-v2."
    window.apply_settings(window.settings.with_changes(embedding_model_path=str(minilm_model)))
    qtbot.waitUntil(
        lambda: window.statusBar().currentMessage() == "Preparing semantic search: 1 of 1 passages…", timeout=20_000
    )
    close_window(qtbot, window)

    again = make_window()  # the setting was saved: the next start turns it on by itself, nothing left to embed
    assert again.settings.embedding_model_path == str(minilm_model)
    qtbot.waitUntil(lambda: again.statusBar().currentMessage() == on, timeout=20_000)


def test_a_saved_model_that_has_gone_is_shown_with_the_reason(
    open_preferences: PreferencesFactory, qtbot: QtBot, tmp_path: Path
) -> None:
    gone = tmp_path / "all-MiniLM-L6-v2-Q8_0.gguf"
    dialog = open_preferences(Settings(embedding_model_path=str(gone)))
    box = dialog.semantic
    assert box.file.text() == f"Uses {gone.name}." and box.off.isEnabled()
    assert box.problem.isVisible() and "Semantic search is off" in box.problem.text()
    qtbot.mouseClick(box.off, Qt.MouseButton.LeftButton)
    assert dialog.settings().embedding_model_path is None and not box.problem.isVisible()


def test_download_fetches_the_model_into_the_hub_cache_and_ok_turns_it_on(
    open_preferences: PreferencesFactory, qtbot: QtBot, hub: HubServer
) -> None:
    dialog = open_preferences(Settings())
    box = dialog.semantic
    assert box.download.isEnabled() and "Hugging Face" in box.download.toolTip()
    qtbot.mouseClick(box.download, Qt.MouseButton.LeftButton)
    assert box.download.text() == "&Cancel Download" and not box.choose.isEnabled()
    qtbot.waitUntil(lambda: box.path is not None, timeout=20_000)
    assert box.path is not None and "blobs" in str(Path(box.path).resolve())  # shared with other tools
    assert box.file.text() == f"Uses {DEFAULT_EMBEDDING_SOURCE.filename}."
    assert box.status.text().startswith("Downloaded and verified")
    assert not box.progress.isVisible() and box.choose.isEnabled()
    assert not box.download.isVisible()  # nothing left to download; Off brings it back
    assert dialog.settings().embedding_model_path == box.path
    qtbot.mouseClick(box.off, Qt.MouseButton.LeftButton)
    assert box.download.isVisible()


def test_corrupted_bytes_are_refused_and_semantic_search_stays_off(
    open_preferences: PreferencesFactory, qtbot: QtBot, hub: HubServer
) -> None:
    hub.faults.corrupt_at = 1000
    dialog = open_preferences(Settings())
    box = dialog.semantic
    qtbot.mouseClick(box.download, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: box.problem.isVisible(), timeout=20_000)
    assert "SHA-256" in box.problem.text() or "corrupt" in box.problem.text().lower()
    assert box.file.text() == "Off." and dialog.settings().embedding_model_path is None
    assert box.download.text() == "&Download" and box.choose.isEnabled()


def test_closing_the_dialog_mid_download_stops_it_and_the_next_try_resumes(
    open_preferences: PreferencesFactory, qtbot: QtBot, hub: HubServer
) -> None:
    size = hub.repos[DEFAULT_EMBEDDING_SOURCE.repo_id].files[DEFAULT_EMBEDDING_SOURCE.filename].size
    hub.faults.link_bytes_per_s = size / 20  # slow enough to be mid-way when the dialog closes
    dialog = open_preferences(Settings())
    qtbot.mouseClick(dialog.semantic.download, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.semantic.progress.value() > 0, timeout=20_000)
    dialog.reject()  # Cancel, Esc or the close button: the download stops and its thread is joined
    assert dialog.semantic.path is None and not dialog.semantic.downloading

    hub.faults.link_bytes_per_s = None
    box = open_preferences(Settings()).semantic
    qtbot.mouseClick(box.download, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: box.path is not None, timeout=20_000)
    resumed = hub.body_requests()[-1]
    assert resumed.range is not None and not resumed.range.startswith("bytes=0-")
    assert resumed.body_bytes < size  # only what the first try had not written
