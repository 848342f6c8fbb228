"""Conversations that last, in the real window with the real engine and real SQLite: history,
stop, regenerate, edit and resend, delete with undo, search, export, settings across restarts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QTextTable
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.conversation_settings import ConversationSettings
from gptoss_desktop.core.history.store import Store
from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.paths import app_paths
from gptoss_desktop.services.app_services import AppServices
from gptoss_desktop.ui.chat.message_widgets import AssistantTurn, UserMessage
from gptoss_desktop.ui.window.main_window import MainWindow
from gptoss_desktop.ui.window.sidebar import HEADING_ROLE
from tests.fixtures.chat_events import is_done
from tests.fixtures.windows import close_window

from .conftest import WindowFactory

#: The trained model answers these deterministically at temperature 0.
EXACT = ConversationSettings(temperature=0.0, seed=1, python="off")


def ask(qtbot: QtBot, window: MainWindow, text: str) -> None:
    """Type a message, press Enter, wait for the answer to end."""
    window.composer.edit.setFocus()
    qtbot.keyClicks(window.composer.edit, text)
    with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_done, timeout=30_000):
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)


def answers(window: MainWindow) -> list[str]:
    """The answers a person can see (older turns of an opened conversation appear step by step)."""
    return [t.answer.toPlainText() for t in window.chat_view.turns if isinstance(t, AssistantTurn) and not t.isHidden()]


def questions(window: MainWindow) -> list[str]:
    return [t.text for t in window.chat_view.turns if isinstance(t, UserMessage) and not t.isHidden()]


def listed(window: MainWindow) -> list[str]:
    """The conversations (or search results) listed, without the Today / Yesterday headings."""
    items = [window.sidebar.list.item(row) for row in range(window.sidebar.list.count())]
    return [item.text() for item in items if not item.data(HEADING_ROLE)]


def headings(window: MainWindow) -> list[str]:
    items = [window.sidebar.list.item(row) for row in range(window.sidebar.list.count())]
    return [item.text() for item in items if item.data(HEADING_ROLE)]


def row_of(window: MainWindow, title: str) -> int:
    return next(row for row in range(window.sidebar.list.count()) if window.sidebar.list.item(row).text() == title)


def stored_messages() -> list[tuple[str, str, str]]:
    """(role, content, state) of every stored message, read with a separate connection."""
    store = Store(app_paths().database)
    try:
        return [(m.role, m.content, m.state) for c in store.conversations() for m in store.messages(c.id)]
    finally:
        store.close()


def exact_window(make_window: WindowFactory, model: Path) -> MainWindow:
    window = make_window(model)
    window.session.update_settings(EXACT)
    return window


def test_a_conversation_is_saved_titled_and_reopened_after_a_restart(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = exact_window(make_window, trained_model)
    ask(qtbot, window, "What is 12 + 7?")
    ask(qtbot, window, "Add 3 to that.")
    assert answers(window) == ["19", "22"]
    qtbot.waitUntil(lambda: listed(window) == ["What is 12 + 7?"])  # titled from the first message
    close_window(qtbot, window)

    again = make_window(trained_model)
    qtbot.waitUntil(lambda: listed(again) == ["What is 12 + 7?"])
    qtbot.mouseClick(
        again.sidebar.list.viewport(),
        Qt.MouseButton.LeftButton,
        pos=again.sidebar.list.visualItemRect(again.sidebar.list.item(row_of(again, "What is 12 + 7?"))).center(),
    )
    qtbot.waitUntil(lambda: questions(again) == ["What is 12 + 7?", "Add 3 to that."])
    assert answers(again) == ["19", "22"]
    assert again.session.settings.temperature == 0.0  # the conversation's settings came back with it
    assert "What is 12 + 7?" in again.windowTitle()
    ask(qtbot, again, "What is 2 + 2?")  # the reopened conversation goes on
    assert answers(again) == ["19", "22", "4"]


def test_an_opened_conversation_looks_as_it_did_when_written(make_window: WindowFactory, qtbot: QtBot) -> None:
    """Older turns are built out of sight and shown later: folded reasoning and table shading survive that."""
    store = Store(app_paths().database)
    conversation = store.create_conversation("Tables")
    for index in range(4):
        store.add_message(conversation, "user", f"Question {index}")
        answer = store.add_message(conversation, "assistant", state="streaming", effort="low", model="m")
        table = f"| month | total |\n|---|---|\n| 2026-0{index + 1} | {index} |\n| 2026-10 | 1 |"
        store.update_message(answer, content=table, reasoning="Add them up.", state="complete")
    record = store.conversation(conversation)
    store.close()
    assert record is not None
    window = make_window()
    window.session.open(record.uid)
    qtbot.waitUntil(lambda: questions(window) == [f"Question {index}" for index in range(4)])
    turns = [t for t in window.chat_view.turns if isinstance(t, AssistantTurn)]
    assert [t.reasoning.toggle.text() for t in turns] == ["Reasoning"] * 4  # stored without its figures
    for turn in turns:
        tables = [f for f in turn.answer.document().rootFrame().childFrames() if isinstance(f, QTextTable)]
        header = tables[0].cellAt(0, 0).format().background().color()
        assert header.lightness() > 180, f"table header shaded {header.name()} on a light window"


def test_stop_keeps_the_partial_answer_in_the_window_and_the_history(
    make_window: WindowFactory, qtbot: QtBot, tiny_model: Path
) -> None:
    window = make_window(tiny_model)
    window.composer.edit.setFocus()
    qtbot.keyClicks(window.composer.edit, "Write forever")
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn)
    qtbot.waitUntil(lambda: len(turn.answer.markdown_source()) > 20, timeout=20_000)
    with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_done, timeout=5_000):
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_Escape)  # Esc stops
    partial = turn.answer_text()
    assert turn.notice.text() == "Stopped." and partial
    close_window(qtbot, window)
    assert stored_messages() == [("user", "Write forever", "complete"), ("assistant", partial, "stopped")]


def test_regenerate_keeps_the_earlier_answer_as_a_version(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = make_window(trained_model)
    window.session.update_settings(ConversationSettings(temperature=0.0, seed=1, max_tokens=3))
    ask(qtbot, window, "What is 12 + 7?")  # cut short by max_tokens: still thinking
    first = window.chat_view.turns[-1]
    assert isinstance(first, AssistantTurn) and "token limit" in first.notice.text()
    assert not first.versions.isVisible()  # one version: nothing to flip through
    window.session.update_settings(EXACT)
    with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_done, timeout=30_000):
        qtbot.mouseClick(first.regenerate_button, Qt.MouseButton.LeftButton)
    assert len(window.chat_view.turns) == 2 and answers(window) == ["19"]
    second = window.chat_view.turns[-1]
    assert isinstance(second, AssistantTurn) and second.versions.text == "‹ 2 / 2 ›"
    qtbot.mouseClick(second.versions.previous, Qt.MouseButton.LeftButton)  # back to the first answer
    qtbot.waitUntil(lambda: answers(window) == [""])
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn) and turn.versions.text == "‹ 1 / 2 ›" and "token limit" in turn.notice.text()
    assert turn.regenerate_button.isVisibleTo(turn)
    close_window(qtbot, window)
    assert stored_messages() == [
        ("user", "What is 12 + 7?", "complete"),
        ("assistant", "", "complete"),
        ("assistant", "19", "complete"),
    ]
    again = make_window(trained_model)  # the version shown last is the one shown after a restart
    qtbot.waitUntil(lambda: listed(again) == ["What is 12 + 7?"])
    again.session.open(again.sidebar.list.item(row_of(again, "What is 12 + 7?")).data(Qt.ItemDataRole.UserRole))
    qtbot.waitUntil(lambda: len(answers(again)) == 1)
    reopened = again.chat_view.turns[-1]
    assert isinstance(reopened, AssistantTurn) and reopened.versions.text == "‹ 1 / 2 ›"
    qtbot.mouseClick(reopened.versions.next, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: answers(again) == ["19"])


def test_edit_and_resend_makes_a_new_version_and_keeps_the_old_branch(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = exact_window(make_window, trained_model)
    ask(qtbot, window, "What is 12 + 7?")
    ask(qtbot, window, "Add 3 to that.")
    first = window.chat_view.turns[0]
    assert isinstance(first, UserMessage)
    assert not first.edit_button.isVisible()  # Edit shows when the pointer or the keyboard is on the message
    qtbot.mouseMove(first.bubble)
    qtbot.waitUntil(first.edit_button.isVisible)
    qtbot.mouseClick(first.edit_button, Qt.MouseButton.LeftButton)
    assert window.composer.edit.toPlainText() == "What is 12 + 7?" and window.composer.edit_banner.isVisible()
    window.composer.edit.selectAll()
    qtbot.keyClicks(window.composer.edit, "What is 20 + 5?")
    with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_done, timeout=30_000):
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
    assert questions(window) == ["What is 20 + 5?"] and answers(window) == ["25"]
    assert not window.composer.edit_banner.isVisible()
    edited = window.chat_view.turns[0]
    assert isinstance(edited, UserMessage) and edited.versions.text == "‹ 2 / 2 ›"
    qtbot.mouseClick(edited.versions.previous, Qt.MouseButton.LeftButton)  # the old branch, whole
    qtbot.waitUntil(lambda: questions(window) == ["What is 12 + 7?", "Add 3 to that."])
    assert answers(window) == ["19", "22"]
    close_window(qtbot, window)
    assert sorted(stored_messages()) == sorted(
        [
            ("user", "What is 12 + 7?", "complete"),
            ("assistant", "19", "complete"),
            ("user", "Add 3 to that.", "complete"),
            ("assistant", "22", "complete"),
            ("user", "What is 20 + 5?", "complete"),
            ("assistant", "25", "complete"),
        ]
    )


def test_delete_can_be_undone_and_the_list_follows(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = exact_window(make_window, trained_model)
    ask(qtbot, window, "What is 12 + 7?")
    window.new_chat()
    window.session.update_settings(EXACT)
    ask(qtbot, window, "What is 2 + 2?")
    qtbot.waitUntil(lambda: listed(window) == ["What is 2 + 2?", "What is 12 + 7?"])  # newest first
    assert headings(window) == ["Today"]
    window.sidebar.list.setCurrentRow(row_of(window, "What is 12 + 7?"))
    window.sidebar.list.setFocus()
    qtbot.keyClick(window.sidebar.list, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: listed(window) == ["What is 2 + 2?"])
    assert window.undo_button.isVisible() and "Deleted “What is 12 + 7?”" in window.statusBar().currentMessage()
    qtbot.mouseClick(window.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: listed(window) == ["What is 2 + 2?", "What is 12 + 7?"])
    assert not window.undo_button.isVisible()
    # Deleting the open conversation empties the window too.
    window.delete_conversation(window.session.uid)
    qtbot.waitUntil(lambda: listed(window) == ["What is 12 + 7?"])
    assert window.chat_view.turns == [] and window.session.uid == ""


def test_rename_in_place(make_window: WindowFactory, qtbot: QtBot, trained_model: Path) -> None:
    window = exact_window(make_window, trained_model)
    ask(qtbot, window, "What is 12 + 7?")
    qtbot.waitUntil(lambda: listed(window) == ["What is 12 + 7?"])
    window.menu_actions["rename"].trigger()  # F2
    editor = window.sidebar.list.findChild(QLineEdit)
    assert editor is not None
    editor.selectAll()
    qtbot.keyClicks(editor, "Sums")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Sums" in window.windowTitle())
    close_window(qtbot, window)
    store = Store(app_paths().database)
    assert [c.title for c in store.conversations()] == ["Sums"]
    store.close()


def test_search_as_you_type_finds_and_opens_the_conversation(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = exact_window(make_window, trained_model)
    ask(qtbot, window, "What is 12 + 7?")
    window.new_chat()
    window.session.update_settings(EXACT)
    ask(qtbot, window, "What is 2 + 2?")
    window.menu_actions["find"].trigger()  # Ctrl+F
    assert QApplication.focusWidget() is window.sidebar.search
    qtbot.keyClicks(window.sidebar.search, "19")
    qtbot.waitUntil(lambda: len(listed(window)) == 1 and listed(window)[0].startswith("What is 12 + 7?"))
    result = window.sidebar.list.item(0)
    assert "<b>19</b>" in result.data(Qt.ItemDataRole.UserRole + 2)  # the snippet shows the match in bold
    line = window.sidebar.list.fontMetrics().height()
    assert window.sidebar.list.visualItemRect(result).height() >= 2 * line  # title and snippet both drawn
    qtbot.keyClick(window.sidebar.search, Qt.Key.Key_Down)
    qtbot.keyClick(window.sidebar.list, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: answers(window) == ["19"])
    window.sidebar.search.clear()
    qtbot.waitUntil(lambda: listed(window) == ["What is 2 + 2?", "What is 12 + 7?"])  # opening does not reorder
    qtbot.keyClicks(window.sidebar.search, "nothing like this")
    qtbot.waitUntil(lambda: listed(window) == ["No conversation contains that."])


def test_export_writes_markdown_and_json(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = exact_window(make_window, trained_model)
    ask(qtbot, window, "What is 12 + 7?")
    target = tmp_path / "sums.md"
    # The file dialog is the platform's; the person's choice is what it returns.
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), ""))
    with qtbot.waitSignal(window.services.history.exported, timeout=10_000):
        window.menu_actions["export_md"].trigger()
    text = target.read_text(encoding="utf-8")
    assert "# What is 12 + 7?" in text and "19" in text and "Reasoning" not in text
    target = tmp_path / "sums.json"
    window.menu_actions["export_reasoning"].setChecked(True)
    with qtbot.waitSignal(window.services.history.exported, timeout=10_000):
        window.menu_actions["export_json"].trigger()
    data = json.loads(target.read_text(encoding="utf-8"))
    assert [m["content"] for m in data["messages"]] == ["What is 12 + 7?", "19"]
    assert "12 + 7" in data["messages"][1]["reasoning"]
    assert "Exported to" in window.statusBar().currentMessage()


def test_reasoning_is_folded_by_default_setting_and_toggles_per_message(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = exact_window(make_window, trained_model)
    window.apply_settings(window.settings.with_changes(show_reasoning=False))
    window.composer.edit.setFocus()
    qtbot.keyClicks(window.composer.edit, "What is 12 + 7?")
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn)
    qtbot.waitUntil(lambda: turn.reasoning.isVisible())
    assert not turn.reasoning.text.isVisible()  # hidden by default, even while it streams
    qtbot.waitUntil(lambda: not window.services.chat.busy, timeout=30_000)
    turn.reasoning.toggle.click()
    assert turn.reasoning.text.isVisible() and "12 + 7" in turn.reasoning.reasoning()
    turn.reasoning.toggle.click()
    assert not turn.reasoning.text.isVisible()


def test_settings_persist_across_restarts(make_window: WindowFactory, qtbot: QtBot, trained_model: Path) -> None:
    window = exact_window(make_window, trained_model)
    shown = window.document_strip, window.source_viewer
    window.apply_settings(window.settings.with_changes(theme="dark", font_size=14, show_reasoning=False))
    assert (window.document_strip, window.source_viewer) == shown  # the same widgets, restyled in place
    window.session.update_settings(EXACT.with_changes(instructions="Answer tersely.", effort="high"))
    ask(qtbot, window, "What is 12 + 7?")
    close_window(qtbot, window)
    again = make_window(trained_model)
    assert (again.settings.theme, again.settings.font_size, again.settings.show_reasoning) == ("dark", 14, False)
    qtbot.waitUntil(lambda: listed(again) == ["What is 12 + 7?"])
    again.session.open(again.sidebar.list.item(row_of(again, "What is 12 + 7?")).data(Qt.ItemDataRole.UserRole))
    qtbot.waitUntil(lambda: answers(again) == ["19"])
    assert again.session.settings.instructions == "Answer tersely."
    assert again.composer.current_effort() == "high"


def test_copy_answer_puts_the_markdown_on_the_clipboard(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = exact_window(make_window, trained_model)
    ask(qtbot, window, "What is 12 + 7?")
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn)
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(turn.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "19"
    assert window.statusBar().currentMessage() == "Answer copied"


class SmallContextEngine(LocalEngine):
    """The real engine with a context small enough to overflow in a few turns."""

    def __init__(self, path: str) -> None:
        super().__init__(path, context_size=256)


def test_a_conversation_longer_than_the_context_keeps_working_and_says_so(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = make_window(trained_model, AppServices(app_paths().database, engine_factory=SmallContextEngine))
    window.session.update_settings(EXACT)
    notices: list[str] = []
    window.session.context_notice.connect(notices.append)
    for step in range(40):
        ask(qtbot, window, f"What is {step} + 7?")
        if notices:
            break
    assert notices, "the conversation never outgrew the context"
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn) and "no longer fits" in turn.notice.text()
    assert turn.answer.toPlainText() == str(step + 7)  # still answers the question asked
    ask(qtbot, window, "What is 1 + 1?")
    assert answers(window)[-1] == "2"


def test_every_control_has_an_accessible_name(make_window: WindowFactory, qtbot: QtBot, trained_model: Path) -> None:
    from PySide6.QtGui import QAccessible

    window = exact_window(make_window, trained_model)
    ask(qtbot, window, "What is 12 + 7?")
    unnamed = []
    for widget in window.findChildren(QWidget):
        if widget.isVisible() and widget.focusPolicy() != Qt.FocusPolicy.NoFocus and widget.isEnabled():
            interface = QAccessible.queryAccessibleInterface(widget)
            if interface is None or not interface.text(QAccessible.Text.Name).strip():
                unnamed.append(f"{type(widget).__name__}#{widget.objectName()}")
    assert unnamed == []


def focus_cycle(qtbot: QtBot, first: QWidget) -> list[QWidget]:
    """The widgets met pressing Tab from `first` until focus comes back to it."""
    first.setFocus(Qt.FocusReason.TabFocusReason)
    met: list[QWidget] = []
    current = first
    for _ in range(60):
        met.append(current)
        qtbot.keyClick(current, Qt.Key.Key_Tab)
        focused = QApplication.focusWidget()
        assert focused is not None
        if focused is first:
            return met
        current = focused
    raise AssertionError(f"Tab never came back: {[w.accessibleName() for w in met]}")


def test_tab_order_follows_the_layout(make_window: WindowFactory, qtbot: QtBot, trained_model: Path) -> None:
    """Sidebar, then the turns top to bottom, then documents and the composer: live, and when opened later."""
    window = exact_window(make_window, trained_model)
    ask(qtbot, window, "What is 12 + 7?")
    ask(qtbot, window, "Add 3 to that.")
    sidebar = ["New chat", "Search conversations", "Search reasoning too", "Conversations", "Conversation"]
    # Edit shows once the keyboard is on the message: Tab goes from the message to it.
    question = ["Your message", "Edit this message and send it again"]
    answer = ["Show reasoning", "Answer", "Copy the answer"]
    prompt = "Show the prompt this answer's model received"
    composer = ["Message", "Attach documents", "Runs on", "Reasoning effort", "Send"]
    expected = [*sidebar, *question, *answer, prompt, *question, *answer, "Write this answer again", prompt, *composer]
    uid = window.session.uid
    for opened_from_history in (False, True):
        if opened_from_history:
            window.new_chat()
            window.session.open(uid)
            qtbot.waitUntil(lambda: len(questions(window)) == 2 and not window.session.loading)
        met = focus_cycle(qtbot, window.sidebar.new_button)
        assert [w.accessibleName() for w in met] == expected, [w.accessibleName() for w in met]
        owners = [i for w in met for i, t in enumerate(window.chat_view.turns) if t.isAncestorOf(w)]
        assert owners == sorted(owners)  # turn by turn, top to bottom


def test_at_twice_the_text_size_nothing_is_cut_off(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    """200 % text: every button, box and label keeps room for its text, and the conversation still reads."""
    from PySide6.QtWidgets import QAbstractButton, QComboBox, QLabel

    from gptoss_desktop.core.settings import Settings
    from gptoss_desktop.ui.style import apply_appearance, system_font_size
    from gptoss_desktop.ui.window.elided_label import ElidedLabel

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_appearance(app, Settings(font_size=2 * system_font_size()))
    try:
        window = exact_window(make_window, trained_model)
        ask(qtbot, window, "What is 12 + 7?")
        qtbot.waitUntil(lambda: answers(window) == ["19"])

        def cut_off() -> list[str]:
            cut = []
            for widget in window.findChildren(QWidget):
                if not widget.isVisible() or not isinstance(widget, QAbstractButton | QComboBox | QLabel):
                    continue
                if isinstance(widget, QLabel) and (widget.wordWrap() or isinstance(widget, ElidedLabel)):
                    continue  # wraps, or ends in "…" with the whole text in its tooltip
                need = widget.minimumSizeHint() if isinstance(widget, QComboBox) else widget.sizeHint()
                if widget.width() < need.width() or widget.height() < need.height():
                    cut.append(f"{type(widget).__name__} {widget.accessibleName() or widget.objectName()!r}")
            return cut

        try:
            qtbot.waitUntil(lambda: not cut_off(), timeout=2_000)  # once the layout has settled
        except qtbot.TimeoutError:
            assert cut_off() == []
        line = window.composer.edit.fontMetrics().lineSpacing()
        assert window.composer.edit.height() >= 2 * line
        assert window.chat_view.turns[-1].height() >= 2 * line
    finally:
        apply_appearance(app, Settings())
