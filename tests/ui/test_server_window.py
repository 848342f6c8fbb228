"""Conversations on a server, in the real window: llama-cpp-python's own server serving the tiny gpt-oss,
and a scripted server on 127.0.0.1 where a test must see exactly what was sent."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.export import export_json, export_markdown
from gptoss_desktop.core.paths import app_paths
from gptoss_desktop.core.remote.api_keys import SERVICE
from gptoss_desktop.core.remote.profile import ServerProfile
from gptoss_desktop.core.settings import Settings, save_settings
from gptoss_desktop.core.storage import Store
from gptoss_desktop.ui.main_window import MainWindow
from gptoss_desktop.ui.message_widgets import AssistantTurn
from gptoss_desktop.ui.server_dialog import ServerDialog
from gptoss_desktop.ui.server_switch import CONNECT_LABEL, LOCAL_LABEL
from tests.fixtures.llama_server import LlamaServer, free_port, with_chat_template
from tests.fixtures.memory_keyring import MemoryKeyring
from tests.fixtures.sse_server import ScriptedServer, delta

from .conftest import WindowFactory
from .test_conversations import answers, ask, exact_window, listed
from .test_documents_window import chips, drop_files


@pytest.fixture(scope="module")
def gpt_oss_server(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    model = with_chat_template(trained_model, tmp_path_factory.mktemp("served") / "gpt-oss-tiny.gguf")
    server = LlamaServer(model, "gpt-oss-tiny")
    yield server
    server.stop()


def when_modal(act: Callable[[QWidget], None]) -> None:
    """Run `act` on the modal dialog that is about to open (from inside its own event loop)."""

    def run() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(10, run)
            return
        act(dialog)

    QTimer.singleShot(0, run)


def pick(window: MainWindow, label: str) -> None:
    """Choose an entry of the Runs-on dropdown as a person does: open it, click the entry."""
    combo = window.server_switch.combo
    index = combo.findText(label)
    assert index >= 0, [combo.itemText(i) for i in range(combo.count())]
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def connect_through_dialog(qtbot: QtBot, window: MainWindow, address: str, key: str = "") -> None:
    """Runs on ▸ Connect to a Server…: type the address (and key), Connect, wait for the models, Use."""

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, ServerDialog)
        dialog.address.setText(address)
        dialog.api_key.setText(key)
        dialog.connect_button.click()
        qtbot.waitUntil(dialog.use_button.isEnabled, timeout=20_000)
        dialog.use_button.click()

    when_modal(fill)
    pick(window, CONNECT_LABEL)


def test_a_conversation_runs_on_a_server_and_remembers_it(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, gpt_oss_server: LlamaServer
) -> None:
    window = exact_window(make_window, trained_model)
    connect_through_dialog(qtbot, window, gpt_oss_server.url)
    host = gpt_oss_server.url.removeprefix("http://").removesuffix("/v1")
    assert window.server_switch.combo.currentText() == f"gpt-oss-tiny at {host}"
    banner = window.server_switch.banner
    assert banner.isVisible() and f"Runs on a server on this computer ({host})." in banner.text()
    ask(qtbot, window, "What is 2 + 3?")
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn)
    assert answers(window) == ["5"]  # the server's raw harmony, parsed: reasoning apart, no control token
    assert "2 + 3" in turn.reasoning.reasoning() and "<|" not in turn.reasoning.reasoning()
    assert f"gpt-oss-tiny on a server on this computer ({host})" in window.model_label.text()

    window.new_chat()  # a new conversation runs here, on the loaded model
    assert window.server_switch.combo.currentText() == LOCAL_LABEL and not banner.isVisible()
    ask(qtbot, window, "What is 12 + 7?")
    assert answers(window) == ["19"]
    qtbot.waitUntil(lambda: len(listed(window)) == 2)
    window.close()

    again = make_window(trained_model)
    qtbot.waitUntil(lambda: len(listed(again)) == 2)
    again.session.open(next(c for c in again._titles if again._titles[c] == "What is 2 + 3?"))
    qtbot.waitUntil(lambda: answers(again) == ["5"])
    assert again.server_switch.combo.currentText() == f"gpt-oss-tiny at {host}"  # remembered per conversation
    assert again.server_switch.banner.isVisible()
    again.session.update_settings(again.session.settings.with_changes(temperature=0.0, seed=1))
    ask(qtbot, again, "Add 3 to that.")
    assert answers(again) == ["5", "8"]
    saved = json.loads(app_paths().settings_file.read_text())
    assert [s["base_url"] for s in saved["servers"]] == [gpt_oss_server.url]
    again.close()
    store = Store(app_paths().database, recover=False)  # the export says where each answer came from
    try:
        record = next(c for c in store.conversations() if c.title == "What is 2 + 3?")
        exported = json.loads(export_json(record, store.messages(record.id), include_reasoning=False))
        markdown = export_markdown(record, store.messages(record.id), include_reasoning=False)
    finally:
        store.close()
    assert exported["settings"]["server"] == {"base_url": gpt_oss_server.url, "model": "gpt-oss-tiny"}
    assert [m["model"] for m in exported["messages"] if m["role"] == "assistant"] == [f"gpt-oss-tiny at {host}"] * 2
    assert f"gpt-oss-tiny at {host}" in markdown and "8" in markdown


def test_a_known_server_is_two_clicks_away_and_this_computer_one_more(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    team = ServerProfile("http://gpu-box:8000", model="gpt-oss-120b")
    save_settings(app_paths().settings_file, Settings(servers=(team,)))
    window = exact_window(make_window, trained_model)
    pick(window, "gpt-oss-120b at gpu-box:8000")
    assert window.session.settings.server == team
    assert "on the server gpu-box:8000 (not encrypted" in window.server_switch.banner.text()
    assert window.composer.edit.placeholderText().startswith("Message gpt-oss-120b at gpu-box:8000")
    pick(window, LOCAL_LABEL)
    assert window.session.settings.server is None and not window.server_switch.banner.isVisible()


def test_a_server_that_cannot_be_reached_says_so_and_nothing_is_lost(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = exact_window(make_window, trained_model)
    nowhere = ServerProfile(f"http://127.0.0.1:{free_port()}", model="gpt-oss-120b")
    window.server_switch.show_conversation(nowhere)
    window.server_switch.chosen.emit(nowhere)
    qtbot.keyClicks(window.composer.edit, "What is 2 + 3?")
    with qtbot.waitSignal(window.service.generation_failed, timeout=30_000):
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn)
    assert "refused" in turn.notice.text().lower()
    assert window.chat_view.turns[0].text == "What is 2 + 3?"  # type: ignore[union-attr]
    pick(window, LOCAL_LABEL)  # the person moves it back here and asks again
    ask(qtbot, window, "What is 12 + 7?")
    assert answers(window)[-1] == "19"


def test_the_dialog_says_why_it_cannot_connect_and_keeps_the_key_in_the_keyring(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, memory_keyring: MemoryKeyring
) -> None:
    window = exact_window(make_window, trained_model)
    with ScriptedServer(api_key="sk-team") as server:
        dialog = ServerDialog(window.servers, window)
        qtbot.addWidget(dialog)
        dialog.address.setText(server.url)
        dialog.connect_button.click()
        qtbot.waitUntil(lambda: "API key" in dialog.status.text(), timeout=10_000)
        assert not dialog.use_button.isEnabled()
        dialog.api_key.setText("sk-team")
        dialog.connect_button.click()
        qtbot.waitUntil(dialog.use_button.isEnabled, timeout=10_000)
        assert dialog.api_key.text() == ""  # the field does not keep it
        assert memory_keyring.passwords == {(SERVICE, server.url): "sk-team"}
        assert dialog.profile() == ServerProfile(server.url, model="gpt-oss-20b")
        dialog.close()
    assert "sk-team" not in app_paths().settings_file.read_text() if app_paths().settings_file.exists() else True


def test_documents_go_to_a_server_only_once_the_person_agrees(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, tmp_path: Path
) -> None:
    lease = tmp_path / "lease.md"
    lease.write_text("# Rent\nThe rent is 900 euros a month.\n")
    script = [delta(reasoning_content="Look it up."), delta("900 euros."), delta(finish_reason="stop")]
    with ScriptedServer(script=lambda reply: reply.stream(script)) as server:
        window = exact_window(make_window, trained_model)
        profile = ServerProfile(server.url, model="gpt-oss-20b")
        window.server_switch.show_conversation(profile)
        window.server_switch.chosen.emit(profile)
        drop_files(window, lease)
        qtbot.waitUntil(lambda: chips(window).get("lease.md", ("", ""))[0] == "✓", timeout=20_000)

        def answer_with(button_text: str) -> Callable[[QWidget], None]:
            def act(box: QWidget) -> None:
                assert isinstance(box, QMessageBox) and "127.0.0.1" in box.text()
                next(b for b in box.buttons() if b.text() == button_text).click()

            return act

        when_modal(answer_with("Answer Without Them"))
        ask(qtbot, window, "How much is the rent?")
        assert "900 euros a month" not in json.dumps(server.requests[-1])
        first = window.chat_view.turns[-1]
        assert isinstance(first, AssistantTurn)
        assert "Answered without the documents" in first.notice.text()

        when_modal(answer_with("Send Documents"))
        ask(qtbot, window, "And when is it due?")
        assert "900 euros a month" in json.dumps(server.requests[-1])
        second = window.chat_view.turns[-1]
        assert isinstance(second, AssistantTurn)
        assert "Answered from the whole of the documents." in second.notice.text()

        ask(qtbot, window, "Thanks.")  # agreed once for this conversation: no question this time
        assert "900 euros a month" in json.dumps(server.requests[-1])
        assert window.session.settings.documents_to_server == server.url
        window.close()


def test_stop_ends_a_server_answer_at_once(make_window: WindowFactory, qtbot: QtBot, trained_model: Path) -> None:
    """The server has taken the request and sends nothing yet (a big model reading a long prompt): Esc stops."""
    with ScriptedServer(script=lambda reply: reply.stream([], headers_only_then_wait=True)) as server:
        window = exact_window(make_window, trained_model)
        profile = ServerProfile(server.url, model="gpt-oss-20b")
        window.server_switch.show_conversation(profile)
        window.server_switch.chosen.emit(profile)
        qtbot.keyClicks(window.composer.edit, "Write a long story.")
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
        qtbot.waitUntil(server.arrived.is_set, timeout=10_000)
        with qtbot.waitSignal(window.service.generation_finished, timeout=2_000) as finished:
            qtbot.keyClick(window.composer.edit, Qt.Key.Key_Escape)
        assert finished.args[0].stop_reason == "cancelled"
        turn = window.chat_view.turns[-1]
        assert isinstance(turn, AssistantTurn) and "Stopped." in turn.notice.text()
        assert not window.service.busy and window.composer.button.text() == "Send"
        window.close()


def test_without_a_model_here_the_first_screen_offers_a_server(
    make_window: WindowFactory, qtbot: QtBot, gpt_oss_server: LlamaServer
) -> None:
    window = make_window()  # nothing on this computer
    assert window.pages.currentWidget() is window.first_run and not window.composer.isEnabled()

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, ServerDialog)
        dialog.address.setText(gpt_oss_server.url)
        dialog.connect_button.click()
        qtbot.waitUntil(dialog.use_button.isEnabled, timeout=20_000)
        dialog.use_button.click()

    when_modal(fill)
    use_server = window.first_run.findChild(QPushButton, "useServer")
    assert use_server is not None
    qtbot.mouseClick(use_server, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.pages.currentIndex() == 1)
    assert window.composer.isEnabled()
    window.session.update_settings(window.session.settings.with_changes(temperature=0.0, seed=1))
    ask(qtbot, window, "What is 2 + 3?")
    assert answers(window) == ["5"]
