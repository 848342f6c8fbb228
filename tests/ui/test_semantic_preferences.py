"""Preferences ▸ Semantic search: choose an embedding model file, or turn it off; a chat model is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.documents.ingest import ingest
from gptoss_desktop.core.paths import app_paths
from gptoss_desktop.core.settings import Settings
from gptoss_desktop.core.storage import Store
from gptoss_desktop.ui.settings_dialog import SettingsDialog
from tests.fixtures.minilm_gguf import session_minilm
from tests.ui.conftest import WindowFactory


@pytest.fixture(scope="session")
def minilm_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return session_minilm(tmp_path_factory.getbasetemp())


def dialog_for(qtbot: QtBot, settings: Settings) -> SettingsDialog:
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_an_embedding_model_is_chosen_and_turned_off(qtbot: QtBot, minilm_model: Path) -> None:
    dialog = dialog_for(qtbot, Settings())
    box = dialog.semantic
    assert box.file.text() == "Off" and not box.off.isEnabled()
    assert "words only" in box.help.text()
    assert box.set_path(str(minilm_model)) is None  # what Choose… does with the file picked
    assert box.file.text() == minilm_model.name and box.off.isEnabled()
    assert dialog.settings().embedding_model_path == str(minilm_model)
    qtbot.mouseClick(box.off, Qt.MouseButton.LeftButton)
    assert box.file.text() == "Off" and dialog.settings().embedding_model_path is None


def test_a_chat_model_is_refused_with_the_reason_and_the_choice_is_kept(
    qtbot: QtBot, minilm_model: Path, trained_model: Path
) -> None:
    dialog = dialog_for(qtbot, Settings(embedding_model_path=str(minilm_model)))
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
    window.close()

    again = make_window()  # the setting was saved: the next start turns it on by itself, nothing left to embed
    assert again.settings.embedding_model_path == str(minilm_model)
    qtbot.waitUntil(lambda: again.statusBar().currentMessage() == on, timeout=20_000)


def test_a_saved_model_that_has_gone_is_shown_with_the_reason(qtbot: QtBot, tmp_path: Path) -> None:
    gone = tmp_path / "all-MiniLM-L6-v2-Q8_0.gguf"
    dialog = dialog_for(qtbot, Settings(embedding_model_path=str(gone)))
    box = dialog.semantic
    assert box.file.text() == gone.name and box.off.isEnabled()
    assert box.problem.isVisible() and "Semantic search is off" in box.problem.text()
    qtbot.mouseClick(box.off, Qt.MouseButton.LeftButton)
    assert dialog.settings().embedding_model_path is None and not box.problem.isVisible()
