"""The real window, a real engine thread, the tiny gpt-oss: what a person sees and does."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.harmony import Conversation
from gptoss_desktop.core.harmony.tokens import HARMONY_TOKENS
from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.paths import app_paths
from gptoss_desktop.services.app_services import AppServices
from gptoss_desktop.ui.chat.message_widgets import AssistantTurn, UserMessage
from tests.fixtures.chat_events import is_done, is_end
from tests.fixtures.windows import close_window

from .conftest import WindowFactory


class RecordingEngine(LocalEngine):
    """The real engine, remembering each conversation it was asked to render."""

    seen: ClassVar[list[Conversation]] = []

    def prompt_ids(self, conversation: Conversation) -> list[int]:
        RecordingEngine.seen.append(conversation)
        return super().prompt_ids(conversation)


def send(qtbot: QtBot, window, text: str) -> None:  # type: ignore[no-untyped-def]
    window.composer.edit.setFocus()
    qtbot.keyClicks(window.composer.edit, text)
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)


def test_without_a_model_the_window_offers_ways_to_get_one(make_window: WindowFactory, qtbot: QtBot) -> None:
    window = make_window()
    panel = window.first_run
    assert window.pages.currentWidget() is panel
    assert panel.download_button.text() == "Download" and panel.download_button.isEnabled()
    assert panel.source.currentText() == "gpt-oss-20b MXFP4 (ggml-org)"
    assert "This computer: fits" in panel.fit.text()  # a 24 GB machine
    qtbot.waitUntil(lambda: "No gpt-oss model found" in panel.found_empty.text(), timeout=10_000)


def test_a_broken_model_file_is_reported_and_the_app_keeps_running(
    make_window: WindowFactory, qtbot: QtBot, tmp_path: Path, tiny_model: Path
) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 100)
    window = make_window()
    with qtbot.waitSignal(window.services.chat.model_failed, timeout=20_000):
        window.load_model(str(broken))
    assert window.pages.currentWidget() is window.first_run
    assert "could not be loaded" in window.first_run.problem.text()
    assert "broken.gguf" in window.first_run.problem.text()
    with qtbot.waitSignal(window.services.chat.model_loaded, timeout=20_000):
        window.load_model(str(tiny_model))
    assert window.composer.isEnabled()


def test_send_streams_a_reply_into_the_conversation(make_window: WindowFactory, qtbot: QtBot, tiny_model: Path) -> None:
    window = make_window(tiny_model)
    with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_done, timeout=30_000):
        send(qtbot, window, "Hello there")
    user, turn = window.chat_view.turns
    assert isinstance(user, UserMessage) and user.label.text() == "Hello there"
    assert isinstance(turn, AssistantTurn)
    assert window.composer.edit.toPlainText() == ""
    assert window.composer.button.text() == "Send"
    assert "tok/s" in window.speed_label.text()
    shown = turn.reasoning.reasoning() + turn.answer.toPlainText()
    assert not any(token in shown for token in HARMONY_TOKENS)
    assert [m.role for m in window.session.transcript.messages] == ["user", "assistant"]
    follow_up = window.session.transcript.prompt("medium", "2026-01-01")  # what the next message goes with
    assert [m.role for m in follow_up.messages] == (["user", "assistant"] if turn.answer_text() else ["user"])


def test_shift_enter_adds_a_line_instead_of_sending(make_window: WindowFactory, qtbot: QtBot, tiny_model: Path) -> None:
    window = make_window(tiny_model)
    qtbot.keyClicks(window.composer.edit, "line one")
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(window.composer.edit, "line two")
    assert window.composer.edit.toPlainText() == "line one\nline two"
    assert window.chat_view.turns == []


def test_stop_ends_the_reply_and_keeps_what_was_written(
    make_window: WindowFactory, qtbot: QtBot, tiny_model: Path
) -> None:
    window = make_window(tiny_model)
    send(qtbot, window, "Write forever")
    assert window.composer.button.text() == "Stop"
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn)
    qtbot.waitUntil(lambda: bool(turn.reasoning.reasoning() or turn.answer.toPlainText()), timeout=20_000)
    with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_done, timeout=5_000) as finished:
        qtbot.mouseClick(window.composer.button, Qt.MouseButton.LeftButton)
    assert finished.args[0].stop_reason == "cancelled"
    assert turn.notice.text() == "Stopped."
    assert window.composer.button.text() == "Send"


def test_effort_dropdown_reaches_the_prompt(make_window: WindowFactory, qtbot: QtBot, tiny_model: Path) -> None:
    RecordingEngine.seen.clear()
    window = make_window(tiny_model, AppServices(app_paths().database, engine_factory=RecordingEngine))
    for label in ("High", "Low"):
        window.new_chat()  # the babbling reply fills the context; start over each time
        window.composer.effort.setCurrentText(f"Reasoning: {label}")
        # What the babbler writes is random (its sampling seed too): it may end in a header the parser refuses.
        # The prompt it was given is what this test is about.
        with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_end, timeout=30_000):
            send(qtbot, window, f"effort {label}")
    assert [c.effort for c in RecordingEngine.seen] == ["high", "low"]


def test_closing_mid_reply_stops_the_engine_thread(make_window: WindowFactory, qtbot: QtBot, tiny_model: Path) -> None:
    window = make_window(tiny_model)
    send(qtbot, window, "Keep going")
    qtbot.waitUntil(
        lambda: (
            window.chat_view.turns[-1].answer.toPlainText() != ""
            or window.chat_view.turns[-1].reasoning.reasoning() != ""
        ),
        timeout=20_000,
    )  # type: ignore[union-attr]
    assert window.services.chat.busy
    close_window(qtbot, window)
    assert window.services.chat.stopped and window.services.running == []


def test_other_models_get_no_effort_and_no_reasoning_area(
    make_window: WindowFactory, qtbot: QtBot, smollm2_model: Path
) -> None:
    window = make_window(smollm2_model)
    assert not window.composer.effort.isVisible()  # it has no reasoning effort: nothing to choose
    send(qtbot, window, "Say hello")
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn)
    # At temperature 1 a small model may ramble on: three words show it works.
    qtbot.waitUntil(
        lambda: not window.services.chat.busy or len(turn.answer.toPlainText().split()) >= 3, timeout=60_000
    )
    window.services.chat.stop()
    qtbot.waitUntil(lambda: not window.services.chat.busy, timeout=5_000)
    assert turn.answer.toPlainText().strip() != ""
    assert not turn.reasoning.isVisible()


def test_model_and_effort_are_remembered(make_window: WindowFactory, qtbot: QtBot, tiny_model: Path) -> None:
    window = make_window(tiny_model)
    window.composer.effort.setCurrentText("Reasoning: High")
    close_window(qtbot, window)
    again = make_window()
    assert again.settings.model_path == str(tiny_model)
    assert again.composer.current_effort() == "high"
