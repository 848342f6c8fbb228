"""Conversations on a server, in the real window: llama-cpp-python's own server serving the tiny gpt-oss,
and a scripted server on 127.0.0.1 where a test must see exactly what was sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.history.export import export_json, export_markdown
from gptoss_desktop.core.history.store import Store
from gptoss_desktop.core.paths import app_paths
from gptoss_desktop.core.remote.api_keys import SERVICE, set_api_key
from gptoss_desktop.core.remote.profile import ServerProfile
from gptoss_desktop.core.settings import Settings, load_settings, save_settings
from gptoss_desktop.ui.chat.message_widgets import AssistantTurn
from gptoss_desktop.ui.dialogs.server import ServerDialog
from gptoss_desktop.ui.dialogs.settings import SettingsDialog
from gptoss_desktop.ui.window.main_window import MainWindow
from gptoss_desktop.ui.window.where_it_runs import CONNECT_LABEL, LOCAL_LABEL
from tests.fixtures.chat_events import is_done, is_failed
from tests.fixtures.llama_server import LlamaServer
from tests.fixtures.memory_keyring import MemoryKeyring
from tests.fixtures.sse_server import ScriptedServer, delta
from tests.fixtures.windows import close_window

from .conftest import WindowFactory
from .test_conversations import answers, ask, exact_window, listed
from .test_documents_window import chips, drop_files


def when_modal(act: Callable[[QWidget], None]) -> None:
    """Run `act` on the modal dialog that is about to open (from inside its own event loop)."""

    def run() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(10, run)
            return
        try:
            act(dialog)
        except BaseException:
            dialog.close()  # never leave a modal loop running: the failure is reported, not a hang
            raise

    QTimer.singleShot(0, run)


def pick(qtbot: QtBot, window: MainWindow, label: str) -> None:
    """Choose an entry of the Runs-on dropdown as a person can: with it focused, type the entry's first
    letter. (The offscreen platform cannot open the list as a popup.)"""
    combo = window.where.combo
    index = combo.findText(label)
    assert index >= 0, [combo.itemText(i) for i in range(combo.count())]
    combo.setFocus()
    interval = QApplication.keyboardInputInterval()
    QApplication.setKeyboardInputInterval(0)  # a new search per key, however soon after the last one
    try:
        qtbot.keyClick(combo, label[0])  # typing an entry's first letter picks it (each letter typed picks again)
    finally:
        QApplication.setKeyboardInputInterval(interval)
    assert label == CONNECT_LABEL or combo.currentIndex() == index  # Connect… ends on the server chosen


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
    pick(qtbot, window, CONNECT_LABEL)


def on_known_server(make_window: WindowFactory, qtbot: QtBot, model: Path, server: ServerProfile) -> MainWindow:
    """A window whose settings know `server` (used before), with the new conversation moved to it."""
    save_settings(app_paths().settings_file, Settings(servers=(server,)))
    window = exact_window(make_window, model)
    pick(qtbot, window, server.label)
    return window


def test_a_conversation_runs_on_a_server_and_remembers_it(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, gpt_oss_server: LlamaServer
) -> None:
    window = exact_window(make_window, trained_model)
    connect_through_dialog(qtbot, window, gpt_oss_server.url)
    host = gpt_oss_server.url.removeprefix("http://").removesuffix("/v1")
    assert window.where.combo.currentText() == f"gpt-oss-tiny at {host}"
    banner = window.where.banner
    assert banner.isVisible() and f"Runs on a server on this computer ({host})." in banner.text()
    ask(qtbot, window, "What is 2 + 3?")
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn)
    assert answers(window) == ["5"]  # the server's raw harmony, parsed: reasoning apart, no control token
    assert "2 + 3" in turn.reasoning.reasoning() and "<|" not in turn.reasoning.reasoning()
    assert f"gpt-oss-tiny on a server on this computer ({host})" in window.model_label.text()

    window.new_chat()  # a new conversation runs here, on the loaded model
    assert window.where.combo.currentText() == LOCAL_LABEL and not banner.isVisible()
    window.session.update_settings(window.session.settings.with_changes(python="off"))  # trained without tools
    ask(qtbot, window, "What is 12 + 7?")
    assert answers(window) == ["19"]
    qtbot.waitUntil(lambda: len(listed(window)) == 2)
    close_window(qtbot, window)

    again = make_window(trained_model)
    qtbot.waitUntil(lambda: len(listed(again)) == 2)
    sidebar = again.sidebar.list
    item = next(sidebar.item(row) for row in range(sidebar.count()) if "What is 2 + 3?" in sidebar.item(row).text())
    qtbot.mouseClick(sidebar.viewport(), Qt.MouseButton.LeftButton, pos=sidebar.visualItemRect(item).center())
    qtbot.waitUntil(lambda: answers(again) == ["5"])
    assert again.where.combo.currentText() == f"gpt-oss-tiny at {host}"  # remembered per conversation
    assert again.where.banner.isVisible()
    again.session.update_settings(again.session.settings.with_changes(temperature=0.0, seed=1))
    ask(qtbot, again, "Add 3 to that.")
    assert answers(again) == ["5", "8"]
    saved = json.loads(app_paths().settings_file.read_text())
    assert [s["base_url"] for s in saved["servers"]] == [gpt_oss_server.url]
    close_window(qtbot, again)
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
    window = on_known_server(make_window, qtbot, trained_model, team)
    assert window.session.settings.server == team
    assert "on the server gpu-box:8000 (not encrypted" in window.where.banner.text()
    assert window.composer.edit.placeholderText().startswith("Message gpt-oss-120b at gpu-box:8000")
    pick(qtbot, window, LOCAL_LABEL)
    assert window.session.settings.server is None and not window.where.banner.isVisible()


def test_forgetting_servers_in_preferences_takes_them_off_runs_on_and_deletes_their_keys(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, memory_keyring: MemoryKeyring
) -> None:
    team = ServerProfile("http://gpu-box:8000", model="gpt-oss-120b")
    lab = ServerProfile("https://llm.example.org/v1")
    kept = ServerProfile("https://kept.example.org/v1")
    for server, key in ((team, "sk-team"), (lab, "sk-lab"), (kept, "sk-kept")):
        set_api_key(server.base_url, key)
    save_settings(app_paths().settings_file, Settings(servers=(team, lab, kept)))
    window = exact_window(make_window, trained_model)
    pick(qtbot, window, team.label)  # this conversation runs on the team's server

    def forget_team_and_lab(dialog: QWidget) -> None:
        assert isinstance(dialog, SettingsDialog)
        saved = dialog.servers.list
        assert [saved.item(row).text() for row in range(saved.count())] == [team.label, lab.label, kept.label]
        for _ in range(2):
            first = saved.visualItemRect(saved.item(0)).center()
            qtbot.mouseClick(saved.viewport(), Qt.MouseButton.LeftButton, pos=first)
            qtbot.mouseClick(dialog.servers.forget, Qt.MouseButton.LeftButton)
        assert [saved.item(row).text() for row in range(saved.count())] == [kept.label]
        dialog.accept()

    when_modal(forget_team_and_lab)
    window.menu_actions["preferences"].trigger()
    assert window.settings.servers == load_settings(app_paths().settings_file).servers == (kept,)
    offered = [window.where.combo.itemText(i) for i in range(window.where.combo.count())]
    assert lab.label not in offered and kept.label in offered
    assert team.label in offered and window.session.settings.server == team  # still where this conversation runs
    qtbot.waitUntil(lambda: (SERVICE, lab.base_url) not in memory_keyring.passwords)
    qtbot.waitUntil(lambda: (SERVICE, team.base_url) not in memory_keyring.passwords)
    assert memory_keyring.passwords[(SERVICE, kept.base_url)] == "sk-kept"


def press(button_text: str) -> Callable[[QWidget], None]:
    """Click the button of a question box that says `button_text`."""

    def act(box: QWidget) -> None:
        assert isinstance(box, QMessageBox), box
        next(button for button in box.buttons() if button.text() == button_text).click()

    return act


def test_a_server_that_goes_away_says_so_and_nothing_is_lost(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = exact_window(make_window, trained_model)
    with ScriptedServer() as server:
        connect_through_dialog(qtbot, window, server.url)
    qtbot.keyClicks(window.composer.edit, "What is 2 + 3?")  # the server has stopped since
    with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_failed, timeout=30_000):
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn)
    assert "refused" in turn.notice.text().lower()
    assert window.chat_view.turns[0].text == "What is 2 + 3?"  # type: ignore[union-attr]
    pick(qtbot, window, LOCAL_LABEL)  # the person moves it back here and asks again
    ask(qtbot, window, "What is 12 + 7?")
    assert answers(window)[-1] == "19"


def test_the_dialog_says_why_it_cannot_connect_and_the_key_never_reaches_a_file(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, memory_keyring: MemoryKeyring, app_home: Path
) -> None:
    script = [delta("19"), delta(finish_reason="stop")]
    with ScriptedServer(api_key="sk-team-secret", script=lambda reply: reply.stream(script)) as server:
        window = exact_window(make_window, trained_model)

        def fill(dialog: QWidget) -> None:
            assert isinstance(dialog, ServerDialog)
            dialog.address.setText(server.url)
            dialog.connect_button.click()  # no key: the server refuses, and the dialog says what to do
            qtbot.waitUntil(lambda: "API key" in dialog.status.text(), timeout=10_000)
            assert not dialog.use_button.isEnabled()
            dialog.api_key.setText("sk-team-secret")
            dialog.connect_button.click()
            qtbot.waitUntil(dialog.use_button.isEnabled, timeout=10_000)
            assert memory_keyring.passwords == {}  # not saved before the server is used
            dialog.use_button.click()

        when_modal(fill)
        pick(qtbot, window, CONNECT_LABEL)
        qtbot.waitUntil(lambda: bool(memory_keyring.passwords))
        assert memory_keyring.passwords == {(SERVICE, server.url): "sk-team-secret"}
        ask(qtbot, window, "What is 12 + 7?")
        assert answers(window) == ["19"] and server.authorizations[-1] == "Bearer sk-team-secret"
        close_window(qtbot, window)
    written = [path for path in app_home.rglob("*") if path.is_file()]
    assert any(path.name == "settings.json" for path in written)
    assert not any(b"sk-team-secret" in path.read_bytes() for path in written)  # settings, database, logs


def test_a_new_key_is_used_from_the_next_answer_on(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, memory_keyring: MemoryKeyring
) -> None:
    script = [delta("Yes."), delta(finish_reason="stop")]
    with ScriptedServer(api_key="sk-old", script=lambda reply: reply.stream(script)) as server:
        window = exact_window(make_window, trained_model)
        connect_through_dialog(qtbot, window, server.url, key="sk-old")
        ask(qtbot, window, "Still there?")
        assert server.authorizations[-1] == "Bearer sk-old"
        server.api_key = "sk-new"  # the team rotated its key
        connect_through_dialog(qtbot, window, server.url, key="sk-new")
        qtbot.waitUntil(lambda: memory_keyring.passwords.get((SERVICE, server.url)) == "sk-new")
        ask(qtbot, window, "And now?")
        assert server.authorizations[-1] == "Bearer sk-new" and answers(window)[-1] == "Yes."
        close_window(qtbot, window)


def test_without_a_keyring_the_key_is_kept_for_this_session_only(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    import keyring
    import keyring.backends.fail

    from gptoss_desktop.core.remote.api_keys import delete_api_key

    keyring.set_keyring(keyring.backends.fail.Keyring())  # this machine's own case: no Secret Service
    script = [delta("Yes."), delta(finish_reason="stop")]
    with ScriptedServer(api_key="sk-only-now", script=lambda reply: reply.stream(script)) as server:
        try:
            window = exact_window(make_window, trained_model)
            connect_through_dialog(qtbot, window, server.url, key="sk-only-now")
            qtbot.waitUntil(lambda: "kept only until the app quits" in window.statusBar().currentMessage())
            ask(qtbot, window, "Still there?")
            assert server.authorizations[-1] == "Bearer sk-only-now"
            close_window(qtbot, window)
        finally:
            delete_api_key(server.url)  # the session's key must not reach the next test


def test_conversation_settings_keep_where_it_runs(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    from gptoss_desktop.ui.dialogs.conversation_settings import ConversationSettingsDialog

    team = ServerProfile("http://gpu-box:8000", model="gpt-oss-120b")
    window = on_known_server(make_window, qtbot, trained_model, team)

    def edit(dialog: QWidget) -> None:
        assert isinstance(dialog, ConversationSettingsDialog)
        dialog.instructions.setPlainText("Answer briefly.")
        dialog.accept()

    when_modal(edit)
    window.edit_conversation_settings()
    assert window.session.settings.instructions == "Answer briefly."
    assert window.session.settings.server == team and window.where.banner.isVisible()


def test_a_bad_certificate_authority_file_is_explained(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, tmp_path: Path
) -> None:
    bogus = tmp_path / "team-ca.pem"
    bogus.write_text("not a certificate")
    window = exact_window(make_window, trained_model)
    dialog = ServerDialog(window.services.servers, window)
    qtbot.addWidget(dialog)
    dialog.address.setText("https://gpu-box.example:8443/v1")
    dialog.ca_file.setText(str(bogus))
    dialog.connect_button.click()
    qtbot.waitUntil(lambda: "certificate authority file" in dialog.status.text(), timeout=10_000)
    assert dialog.connect_button.isEnabled() and not dialog.use_button.isEnabled()


def test_stop_and_closing_while_the_server_is_being_reached(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    """A stored conversation on a server that takes the connection and never lists its models: Stop still
    stops at once, and the window still closes with every thread ended (the leak check sees to that)."""
    with ScriptedServer(stall_models=True) as server:
        team = ServerProfile(server.url, model="gpt-oss-20b")
        save_settings(app_paths().settings_file, Settings(servers=(team,)))
        window = exact_window(make_window, trained_model)
        pick(qtbot, window, team.label)
        window.composer.edit.setFocus()
        qtbot.keyClicks(window.composer.edit, "Hello?")
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: len(server.authorizations) >= 1, timeout=10_000)  # it is asking for the models
        assert window.composer.button.text() == "Stop"
        with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_done, timeout=2_000) as finished:
            qtbot.mouseClick(window.composer.button, Qt.MouseButton.LeftButton)
        assert finished.args[0].stop_reason == "cancelled" and window.composer.button.text() == "Send"
        qtbot.keyClicks(window.composer.edit, "Hello again?")
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: len(server.authorizations) >= 2, timeout=10_000)
        close_window(qtbot, window)  # mid-connect: the connection is cut and the engine thread joined


def test_documents_go_to_a_server_only_once_the_person_agrees(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, tmp_path: Path
) -> None:
    lease = tmp_path / "lease.md"
    lease.write_text("# Rent\nThe rent is 900 euros a month.\n")
    script = [delta(reasoning_content="Look it up."), delta("900 euros."), delta(finish_reason="stop")]
    with ScriptedServer(script=lambda reply: reply.stream(script)) as server:
        window = exact_window(make_window, trained_model)
        connect_through_dialog(qtbot, window, server.url)
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
        close_window(qtbot, window)


def test_regenerate_asks_before_documents_go_to_a_server(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, tmp_path: Path
) -> None:
    lease = tmp_path / "lease.md"
    lease.write_text("# Rent\nThe rent is 900 euros a month.\n")
    script = [delta("900 euros."), delta(finish_reason="stop")]
    with ScriptedServer(script=lambda reply: reply.stream(script)) as server:
        window = exact_window(make_window, trained_model)
        ask(qtbot, window, "What is 12 + 7?")  # answered here, before there were documents
        connect_through_dialog(qtbot, window, server.url)
        drop_files(window, lease)
        qtbot.waitUntil(lambda: chips(window).get("lease.md", ("", ""))[0] == "✓", timeout=20_000)
        when_modal(press("Cancel"))
        window.session.regenerate()
        assert server.requests == [] and answers(window) == ["19"]  # cancelled: nothing sent, nothing lost
        when_modal(press("Answer Without Them"))
        with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_done, timeout=10_000):
            window.session.regenerate()
        assert len(server.requests) == 1 and "900 euros a month" not in json.dumps(server.requests[-1])
        close_window(qtbot, window)


def test_stop_ends_a_server_answer_at_once(make_window: WindowFactory, qtbot: QtBot, trained_model: Path) -> None:
    """The server has taken the request and sends nothing yet (a big model reading a long prompt): Stop stops."""
    with ScriptedServer(script=lambda reply: reply.stream([], headers_only_then_wait=True)) as server:
        window = exact_window(make_window, trained_model)
        connect_through_dialog(qtbot, window, server.url)
        window.composer.edit.setFocus()
        qtbot.keyClicks(window.composer.edit, "Write a long story.")
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
        qtbot.waitUntil(server.arrived.is_set, timeout=10_000)
        assert window.composer.button.text() == "Stop"
        with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_done, timeout=2_000) as finished:
            qtbot.mouseClick(window.composer.button, Qt.MouseButton.LeftButton)
        assert finished.args[0].stop_reason == "cancelled"
        turn = window.chat_view.turns[-1]
        assert isinstance(turn, AssistantTurn) and "Stopped." in turn.notice.text()
        assert not window.services.chat.busy and window.composer.button.text() == "Send"
        close_window(qtbot, window)


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
