"""LoRA adapters in the real window: the tiny gpt-oss trained to speak harmony and the real adapter that makes it
answer capitals in French, on the real engine thread, stored in real SQLite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from gptoss_desktop.ui.chat.message_widgets import AssistantTurn
from gptoss_desktop.ui.dialogs.adapters import AdapterRow, AdaptersDialog
from gptoss_desktop.ui.window.main_window import MainWindow
from tests.fixtures.chat_events import is_done, is_failed
from tests.fixtures.lora_gguf import FRENCH_ADAPTER, random_pairs, write_adapter
from tests.fixtures.windows import close_window

from .conftest import WindowFactory
from .test_conversations import answers, ask, exact_window, listed, row_of
from .test_documents_window import drop_files

FRENCH = str(FRENCH_ADAPTER.resolve())
WRITTEN_BY = "gpt-oss-tiny-harmony + gpt-oss-tiny French capitals"
POLAND = "What is the capital of Poland?"


def last_turn(window: MainWindow) -> AssistantTurn:
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn)
    return turn


def adapters_dialog(window: MainWindow) -> AdaptersDialog:
    window.menu_actions["adapters"].trigger()
    dialog = window.adapters.dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def row(dialog: AdaptersDialog, path: str) -> AdapterRow:
    return next(r for r in dialog.rows if r.path == path)


def add_from_dialog(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, dialog: AdaptersDialog, path: Path) -> None:
    """Add Adapter… as a person uses it: the platform's file dialog returns their choice."""
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(path), ""))
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)


def regenerate(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_done, timeout=30_000):
        qtbot.mouseClick(last_turn(window).regenerate_button, Qt.MouseButton.LeftButton)


def test_the_answer_changes_with_the_adapter_on_and_regenerate_uses_the_set_chosen_now(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = exact_window(make_window, trained_model)
    reloads: list[str] = []
    window.services.chat.model_loading.connect(reloads.append)
    ask(qtbot, window, POLAND)
    assert answers(window) == ["Warsaw"] and not last_turn(window).written_by.isVisible()

    dialog = adapters_dialog(window)
    assert dialog.empty.isVisible()
    add_from_dialog(qtbot, monkeypatch, dialog, FRENCH_ADAPTER)
    qtbot.waitUntil(lambda: window.adapters.scale_of(FRENCH) == 1.0)  # checked, loaded, on here at ×1
    assert window.settings.adapters == (FRENCH,)
    french = row(dialog, FRENCH)
    assert french.on.isChecked() and french.on.text() == "gpt-oss-tiny French capitals"
    assert french.details.text() == "gpt-oss-tiny-french.lora.gguf · rank 8 · 0.4 MB · fits gpt-oss-tiny-harmony"
    regenerate(qtbot, window)
    assert answers(window) == ["La capitale est Varsovie."]
    assert last_turn(window).written_by.text() == f"{WRITTEN_BY} ×1.0"

    row(dialog, FRENCH).scale.setValue(0.0)  # on, at no strength: the model's own answer
    regenerate(qtbot, window)
    assert answers(window) == ["Warsaw"] and last_turn(window).written_by.text() == f"{WRITTEN_BY} ×0.0"
    qtbot.mouseClick(row(dialog, FRENCH).on, Qt.MouseButton.LeftButton)  # off
    assert window.session.settings.adapters == ()
    regenerate(qtbot, window)
    assert answers(window) == ["Warsaw"] and not last_turn(window).written_by.isVisible()
    qtbot.mouseClick(row(dialog, FRENCH).on, Qt.MouseButton.LeftButton)
    row(dialog, FRENCH).slider.setValue(100)
    regenerate(qtbot, window)
    assert answers(window) == ["La capitale est Varsovie."]
    assert reloads == []  # every switch went without reloading the model

    qtbot.mouseClick(last_turn(window).versions.previous, Qt.MouseButton.LeftButton)  # each version keeps its own
    qtbot.waitUntil(lambda: answers(window) == ["Warsaw"])
    assert not last_turn(window).written_by.isVisible()
    window.new_chat()  # a new conversation starts without adapters; the app still offers them
    window.session.update_settings(window.session.settings.with_changes(temperature=0.0, seed=1, python="off"))
    assert window.session.settings.adapters == () and [r.path for r in dialog.rows] == [FRENCH]
    assert not row(dialog, FRENCH).on.isChecked()
    ask(qtbot, window, POLAND)
    assert answers(window) == ["Warsaw"]
    dialog.close()


def test_a_dropped_adapter_is_remembered_and_each_answer_keeps_it_after_a_restart_and_in_exports(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = exact_window(make_window, trained_model)
    drop_files(window, FRENCH_ADAPTER)
    qtbot.waitUntil(lambda: window.adapters.scale_of(FRENCH) == 1.0)
    assert "Adapter gpt-oss-tiny French capitals added: on in this conversation at ×1.0" in (
        window.statusBar().currentMessage()
    )
    assert window.services.chat.model_info is not None  # dropped as an adapter, not loaded as a model
    ask(qtbot, window, POLAND)
    assert answers(window) == ["La capitale est Varsovie."]
    qtbot.waitUntil(lambda: listed(window) == [POLAND])
    close_window(qtbot, window)

    again = make_window(trained_model)
    assert again.settings.adapters == (FRENCH,)
    qtbot.mouseClick(
        again.sidebar.list.viewport(),
        Qt.MouseButton.LeftButton,
        pos=again.sidebar.list.visualItemRect(again.sidebar.list.item(row_of(again, POLAND))).center(),
    )
    qtbot.waitUntil(lambda: answers(again) == ["La capitale est Varsovie."])
    turn = last_turn(again)
    assert turn.written_by.isVisible() and turn.written_by.text() == f"{WRITTEN_BY} ×1.0"
    assert again.session.settings.adapters[0].scale == 1.0  # the conversation's set came back with it
    dialog = adapters_dialog(again)
    qtbot.waitUntil(lambda: "fits gpt-oss-tiny-harmony" in row(dialog, FRENCH).details.text())
    assert row(dialog, FRENCH).on.isChecked()
    dialog.close()

    target = tmp_path / "capitals.md"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), ""))
    with qtbot.waitSignal(again.services.history.exported, timeout=10_000):
        again.menu_actions["export_md"].trigger()
    assert f"## Assistant · {WRITTEN_BY} ×1.0 · medium effort" in target.read_text(encoding="utf-8")
    target = tmp_path / "capitals.json"
    with qtbot.waitSignal(again.services.history.exported, timeout=10_000):
        again.menu_actions["export_json"].trigger()
    answer = json.loads(target.read_text(encoding="utf-8"))["messages"][1]
    assert answer["model"] == "gpt-oss-tiny-harmony"
    assert answer["adapters"] == [
        {"name": "gpt-oss-tiny French capitals", "file": "gpt-oss-tiny-french.lora.gguf", "scale": 1.0}
    ]


def test_wrong_adapters_are_refused_with_the_reason_and_the_app_goes_on(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = exact_window(make_window, trained_model)
    narrow = write_adapter(
        tmp_path / "narrow.gguf", random_pairs({"blk.0.attn_q.weight": (64, 64)}, 4), 8.0, name="narrow"
    )
    llama = write_adapter(
        tmp_path / "llama.gguf", random_pairs({"blk.0.attn_q.weight": (128, 128)}, 4), 8.0, architecture="llama"
    )
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(FRENCH_ADAPTER.read_bytes()[:5000])
    problems: list[str] = []
    window.adapters.refused.connect(problems.append)

    drop_files(window, narrow)
    qtbot.waitUntil(lambda: len(problems) == 1)
    assert problems[0] == (
        "Adapter not added: narrow.gguf does not fit gpt-oss-tiny-harmony: blk.0.attn_q.weight is 128 x 128 "
        "there, the adapter expects 64 x 64."
    )
    assert window.statusBar().currentMessage() == problems[0]
    drop_files(window, cut)
    qtbot.waitUntil(lambda: len(problems) == 2)
    assert problems[1].startswith("Adapter not added: cut.gguf is incomplete")

    dialog = adapters_dialog(window)
    add_from_dialog(qtbot, monkeypatch, dialog, llama)
    qtbot.waitUntil(lambda: len(problems) == 3)
    assert problems[2] == "Adapter not added: llama.gguf was made for a llama model; gpt-oss-tiny-harmony is gpt-oss."
    assert dialog.problem.isVisible() and dialog.problem.text() == problems[2]
    add_from_dialog(qtbot, monkeypatch, dialog, trained_model)  # a model chosen by mistake
    qtbot.waitUntil(lambda: len(problems) == 4)
    assert "gpt-oss-tiny-harmony.gguf is a model, not a LoRA adapter" in problems[3]

    assert window.settings.adapters == () and window.session.settings.adapters == () and dialog.rows == []
    assert window.services.chat.model_info is not None and window.services.chat.model_info.name == (
        "gpt-oss-tiny-harmony"
    )
    ask(qtbot, window, POLAND)
    assert answers(window) == ["Warsaw"]
    dialog.close()


def test_an_adapter_moved_away_is_said_in_the_list_and_in_place_of_the_answer_until_turned_off(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "french-copy.gguf"
    copy.write_bytes(FRENCH_ADAPTER.read_bytes())
    window = exact_window(make_window, trained_model)
    drop_files(window, copy)
    qtbot.waitUntil(lambda: window.adapters.scale_of(str(copy)) == 1.0)
    ask(qtbot, window, POLAND)
    assert answers(window) == ["La capitale est Varsovie."]
    qtbot.waitUntil(lambda: listed(window) == [POLAND])
    close_window(qtbot, window)
    copy.unlink()

    again = make_window(trained_model)
    again.session.open(again.sidebar.list.item(row_of(again, POLAND)).data(Qt.ItemDataRole.UserRole))
    qtbot.waitUntil(lambda: answers(again) == ["La capitale est Varsovie."])
    dialog = adapters_dialog(again)
    missing = f"No adapter file at {copy}."
    qtbot.waitUntil(lambda: row(dialog, str(copy)).details.text() == missing)
    qtbot.keyClicks(again.composer.edit, "What is the capital of Japan?")
    with qtbot.waitSignal(again.services.chat.event_received, check_params_cb=is_failed, timeout=30_000):
        qtbot.keyClick(again.composer.edit, Qt.Key.Key_Return)
    assert last_turn(again).notice.text() == missing  # said where the answer would be; nothing else breaks
    qtbot.mouseClick(last_turn(again).regenerate_button, Qt.MouseButton.LeftButton)  # same set: same reason
    qtbot.waitUntil(lambda: not again.services.chat.busy)
    assert last_turn(again).notice.text() == missing
    qtbot.mouseClick(row(dialog, str(copy)).on, Qt.MouseButton.LeftButton)
    regenerate(qtbot, again)
    assert answers(again) == ["La capitale est Varsovie.", "Tokyo"]
    dialog.close()
