"""The window serving its model to other programs (Preferences ▸ Other programs): off by default, one model
in memory, programs' requests queued with the person's own turns, the status line saying so."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import openai
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.settings import Settings
from gptoss_desktop.ui.chat.message_widgets import AssistantTurn
from gptoss_desktop.ui.dialogs.settings import SettingsDialog
from tests.fixtures.chat_events import is_done
from tests.fixtures.llama_server import free_port

from .conftest import WindowFactory


def in_background(target: Any) -> tuple[threading.Thread, list[object]]:
    """Run a client call on a thread of its own (the GUI thread must keep spinning); its result or error."""
    results: list[object] = []

    def run() -> None:
        try:
            results.append(target())
        except Exception as exc:
            results.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, results


def test_the_api_is_off_until_switched_on_in_preferences(make_window: WindowFactory, qtbot: QtBot, models: Any) -> None:
    assert Settings().api_enabled is False
    window = make_window()
    assert window.services.api.base_url is None and not window.api_status.label.isVisible()
    dialog = SettingsDialog(window.settings, models, window)
    qtbot.addWidget(dialog)
    assert not dialog.api.enabled.isChecked() and not dialog.api.port.isEnabled()
    dialog.api.enabled.setChecked(True)
    dialog.api.port.setValue(8123)
    assert dialog.api.url.text() == "Base URL: http://127.0.0.1:8123/v1"
    assert dialog.settings().api_enabled and dialog.settings().api_port == 8123


def test_the_window_serves_programs_while_a_person_chats(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = make_window(trained_model)
    # The tiny model was trained without a `# Tools` section: the person's conversation offers none.
    window.session.update_settings(window.session.settings.with_changes(python="off"))
    port = free_port()
    window.apply_settings(window.settings.with_changes(api_enabled=True, api_port=port))
    base_url = f"http://127.0.0.1:{port}/v1"
    assert window.services.api.base_url == base_url
    assert window.api_status.label.text() == f"API: {base_url}"
    client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=60)
    assert [m.id for m in client.models.list()] == ["gpt-oss-tiny-harmony"]  # the window's model, loaded once

    seen: list[bool] = []
    window.services.api.answering_changed.connect(seen.append)
    qtbot.keyClicks(window.composer.edit, "What is 12 + 7?")
    ask = lambda: client.chat.completions.create(  # noqa: E731
        model="gpt-oss-tiny-harmony",
        messages=[{"role": "user", "content": "What is 12 + 7?"}],
        reasoning_effort="high",
        temperature=0,
    )
    with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_done, timeout=30_000):
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
        thread, results = in_background(ask)  # sent while the person's turn runs: it waits its turn
    qtbot.waitUntil(lambda: bool(results), timeout=30_000)
    thread.join()
    reply = results[0]
    assert isinstance(reply, openai.types.chat.ChatCompletion), reply
    assert reply.choices[0].message.content == "19"
    assert "2 + 7 = 9" in (reply.choices[0].message.model_extra or {})["reasoning_content"]
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn) and turn.answer.toPlainText() == "19"  # the person's answer is theirs
    qtbot.waitUntil(lambda: seen == [True, False], timeout=10_000)  # the status line said a program was answered
    assert window.api_status.label.text() == f"API: {base_url}"

    window.apply_settings(window.settings.with_changes(api_enabled=False))
    assert window.services.api.base_url is None and not window.api_status.label.isVisible()
    with pytest.raises(openai.APIConnectionError):
        client.models.list()


def test_closing_the_window_cancels_a_program_being_answered(
    make_window: WindowFactory, qtbot: QtBot, tiny_model: Path
) -> None:
    window = make_window(tiny_model)  # the babbler: writes until stopped
    port = free_port()
    window.apply_settings(window.settings.with_changes(api_enabled=True, api_port=port))
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0, timeout=60)
    stream = client.chat.completions.create(
        model="gpt-oss-tiny-babbler", messages=[{"role": "user", "content": "hi"}], stream=True, temperature=0
    )
    next(iter(stream))  # it is being answered
    qtbot.waitUntil(lambda: window.api_status.label.text() == "API: answering a program…", timeout=10_000)
    thread, results = in_background(lambda: sum(1 for _ in stream))
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    thread.join(timeout=30)
    assert not thread.is_alive() and results  # the stream ended (cut off or finished) instead of hanging
