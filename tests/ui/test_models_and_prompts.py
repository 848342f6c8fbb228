"""Each model samples as it should, in the real window, and each answer's prompt can be inspected, also after
a restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.cancel import CancelFlag
from gptoss_desktop.core.engine import ChatRequest
from gptoss_desktop.core.events import EngineEvent
from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.paths import app_paths
from gptoss_desktop.core.sampling import CHAT_SAMPLING, GPT_OSS_SAMPLING
from gptoss_desktop.services.app_services import AppServices
from gptoss_desktop.ui.chat.message_widgets import AssistantTurn
from gptoss_desktop.ui.dialogs.conversation_settings import ConversationSettingsDialog
from gptoss_desktop.ui.dialogs.prompt_inspector import PromptInspector
from gptoss_desktop.ui.window.main_window import MainWindow
from tests.fixtures.windows import close_window

from .conftest import WindowFactory
from .test_conversations import answers, ask, exact_window, listed, row_of


class RecordingEngine(LocalEngine):
    """The real engine, remembering the sampling each request asked for."""

    requests: ClassVar[list[ChatRequest]] = []

    def generate(self, request: ChatRequest, cancel: CancelFlag | None = None) -> Iterator[EngineEvent]:
        RecordingEngine.requests.append(request)
        return super().generate(request, cancel)


def recording_window(make_window: WindowFactory, model: Path) -> MainWindow:
    RecordingEngine.requests.clear()
    return make_window(model, AppServices(app_paths().database, engine_factory=RecordingEngine))


def test_a_new_conversation_with_another_model_samples_as_that_model_advises(
    make_window: WindowFactory, qtbot: QtBot, smollm2_model: Path
) -> None:
    window = recording_window(make_window, smollm2_model)
    window.session.update_settings(window.session.settings.with_changes(max_tokens=8))
    ask(qtbot, window, "Say hello")
    sent = RecordingEngine.requests[-1].sampling
    assert (sent.temperature, sent.top_p, sent.top_k, sent.min_p, sent.repeat_penalty) == (
        CHAT_SAMPLING.temperature,
        CHAT_SAMPLING.top_p,
        CHAT_SAMPLING.top_k,
        CHAT_SAMPLING.min_p,
        CHAT_SAMPLING.repeat_penalty,
    )  # not gpt-oss's 1.0 / 1.0, which makes SmolLM2 write word salad

    # Its settings offer no reasoning effort, show its defaults, and keep what the person changes.
    dialog = ConversationSettingsDialog(
        window.session.settings,
        window,
        defaults=window.model_sampling(),
        model=window.where.model_name,
        reasoning_supported=window.where.reasoning_supported,
    )
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.effort.isVisible()
    assert dialog.defaults_note.text().startswith("SmolLM2-135M-Instruct's defaults: temperature 0.8, top p 0.95")
    assert dialog.temperature.value() == 0.8 and dialog.top_k.value() == 40
    dialog.temperature.setValue(0.3)
    changed = dialog.conversation_settings()
    assert (changed.temperature, changed.top_p, changed.top_k) == (0.3, None, None)  # the rest follows the model
    window.session.update_settings(changed)
    ask(qtbot, window, "Say hello again")
    sent = RecordingEngine.requests[-1].sampling
    assert (sent.temperature, sent.top_p, sent.top_k) == (0.3, CHAT_SAMPLING.top_p, CHAT_SAMPLING.top_k)


def test_gpt_oss_samples_as_openai_recommends(make_window: WindowFactory, qtbot: QtBot, trained_model: Path) -> None:
    window = recording_window(make_window, trained_model)
    window.session.update_settings(window.session.settings.with_changes(max_tokens=16))
    ask(qtbot, window, "What is 12 + 7?")
    sent = RecordingEngine.requests[-1].sampling
    assert (sent.temperature, sent.top_p, sent.top_k, sent.min_p, sent.repeat_penalty) == (1.0, 1.0, 0, 0.0, 1.0)
    assert sent.temperature == GPT_OSS_SAMPLING.temperature
    assert window.composer.effort.isVisible()


def inspector(window: MainWindow, qtbot: QtBot) -> PromptInspector:
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn)
    qtbot.mouseClick(turn.prompt_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.findChild(PromptInspector) is not None)
    shown = window.findChild(PromptInspector)
    assert isinstance(shown, PromptInspector)
    return shown


def test_the_prompt_inspector_shows_what_the_model_received_and_keeps_it(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = exact_window(make_window, trained_model)
    ask(qtbot, window, "What is 12 + 7?")
    ask(qtbot, window, "Add 3 to that.")
    answer = window.session.transcript.messages[-1]
    assert answer.stats is not None
    shown = inspector(window, qtbot)
    assert shown.prompt is not None
    assert shown.prompt.tokens == answer.stats.prompt_tokens  # exactly what the engine evaluated
    roles = [shown.parts.item(row).text().split(" · ")[0] for row in range(shown.parts.count())]
    assert roles == ["system", "user", "assistant", "user", "assistant"]
    assert "user · " in shown.parts.item(3).text() and "Add 3 to that." in shown.parts.item(3).text()
    assert f"{shown.prompt.tokens:,} tokens of a 4,096-token context" in shown.summary.text()
    assert "without their reasoning" in shown.summary.text()
    assert "<|start|>" in shown.text.toPlainText()
    html = shown.text.toHtml()
    assert "background-color:#dde7f7" in html or "background-color:#3b4a63" in html  # control tokens marked
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(shown.copy_button, Qt.MouseButton.LeftButton)
    copied = QGuiApplication.clipboard().text()
    assert copied.startswith("<|start|>system<|message|>You are ChatGPT")
    assert copied.endswith("<|end|><|start|>assistant") and "\n\n<|start|>" not in copied  # exact: no added breaks
    shown.close()

    close_window(qtbot, window)
    again = make_window(trained_model)
    qtbot.waitUntil(lambda: listed(again) == ["What is 12 + 7?"])
    again.session.open(again.sidebar.list.item(row_of(again, "What is 12 + 7?")).data(Qt.ItemDataRole.UserRole))
    qtbot.waitUntil(lambda: answers(again) == ["19", "22"])
    kept = inspector(again, qtbot)  # read back from the history
    assert kept.prompt is not None and kept.prompt.text == copied
    kept.close()
    QApplication.processEvents()
