"""Details a person notices within minutes: colours after a theme switch, the status line after a model change,
the reasoning summary of a reopened answer, the conversation list's headings and marks, Undo's menu item."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.documents.prompting import Source
from gptoss_desktop.core.history.store import MessageStats, Store
from gptoss_desktop.core.paths import app_paths
from gptoss_desktop.core.settings import Settings
from gptoss_desktop.ui.chat.code_highlight import contrast
from gptoss_desktop.ui.chat.message_widgets import AssistantTurn
from gptoss_desktop.ui.style import apply_appearance, text_background
from tests.fixtures.windows import close_window

from .conftest import WindowFactory
from .test_conversations import answers, ask, exact_window, headings, listed, row_of


def test_switching_to_dark_recolours_reasoning_already_on_screen(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_appearance(app, Settings(theme="light"))
    try:
        window = exact_window(make_window, trained_model)
        ask(qtbot, window, "What is 12 + 7?")
        turn = window.chat_view.turns[-1]
        assert isinstance(turn, AssistantTurn)
        turn.reasoning.set_expanded(True)
        text = turn.reasoning.text

        def readable() -> float:
            return contrast(text.palette().color(QPalette.ColorRole.Text), text_background(text.palette()))

        assert readable() >= 4.5
        window.apply_settings(window.settings.with_changes(theme="dark"))
        assert text_background(text.palette()).lightness() < 128  # it is dark now
        assert readable() >= 4.5, "reasoning written before the switch stays readable on the dark background"
    finally:
        apply_appearance(app, Settings())


def test_the_status_line_drops_the_last_answers_figures_when_the_model_changes(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, smollm2_model: Path
) -> None:
    window = exact_window(make_window, trained_model)
    ask(qtbot, window, "What is 12 + 7?")
    assert "/ 4,096 tokens" in window.speed_label.text()
    with qtbot.waitSignal(window.services.chat.model_loaded, timeout=30_000) as loaded:
        window.load_model(str(smollm2_model))
    size = loaded.args[0].context_size
    assert window.speed_label.text() == ""  # not "225 / 4,096" under another model
    assert f"SmolLM2-135M-Instruct (llama, answer only) · context {size:,} tokens" == window.model_label.text()
    assert "Smollm2 135M 8k" not in window.composer.edit.placeholderText()  # the file's name, not general.name
    assert "SmolLM2-135M-Instruct" in window.composer.edit.placeholderText()


def test_opening_another_conversation_drops_the_last_answers_figures(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = exact_window(make_window, trained_model)
    ask(qtbot, window, "What is 12 + 7?")
    assert "tok/s" in window.speed_label.text()
    window.new_chat()
    assert window.speed_label.text() == ""


def test_a_reopened_answer_says_how_long_it_thought(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = exact_window(make_window, trained_model)
    ask(qtbot, window, "What is 12 + 7?")
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn)
    summary = turn.reasoning.toggle.text()
    assert summary.startswith("Thought for ") and summary.endswith(" tokens")
    close_window(qtbot, window)
    again = make_window(trained_model)
    qtbot.waitUntil(lambda: listed(again) == ["What is 12 + 7?"])
    again.sidebar.list.setCurrentRow(row_of(again, "What is 12 + 7?"))
    again.session.open(again.sidebar.list.currentItem().data(Qt.ItemDataRole.UserRole))
    qtbot.waitUntil(lambda: answers(again) == ["19"])
    reopened = again.chat_view.turns[-1]
    assert isinstance(reopened, AssistantTurn)
    assert reopened.reasoning.toggle.text() == summary  # not "Thoughts"


def test_answers_stored_before_the_time_was_kept_say_what_is_known(make_window: WindowFactory, qtbot: QtBot) -> None:
    store = Store(app_paths().database)
    conversation = store.create_conversation("Old")
    store.add_message(conversation, "user", "hi")
    answer = store.add_message(conversation, "assistant", state="streaming")
    store.update_message(answer, content="hello", reasoning="greet", state="complete", stats=MessageStats(5, 9, 4, 1.0))
    record = store.conversation(conversation)
    store.close()
    assert record is not None
    window = make_window()
    window.session.open(record.uid)
    qtbot.waitUntil(lambda: answers(window) == ["hello"])
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn) and turn.reasoning.toggle.text() == "Thought · 4 tokens"


def test_the_list_groups_by_day_marks_only_the_open_conversation_and_keeps_it_on_right_click(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = exact_window(make_window, trained_model)
    ask(qtbot, window, "What is 12 + 7?")
    window.new_chat()
    window.session.update_settings(window.session.settings.with_changes(temperature=0.0, seed=1))
    ask(qtbot, window, "What is 2 + 2?")
    qtbot.waitUntil(lambda: listed(window) == ["What is 2 + 2?", "What is 12 + 7?"])
    assert headings(window) == ["Today"]
    lst = window.sidebar.list
    assert lst.currentItem() is not None and lst.currentItem().text() == "What is 2 + 2?"
    # A right click opens the menu for the other conversation; the open one stays marked.
    other = lst.visualItemRect(lst.item(row_of(window, "What is 12 + 7?"))).center()
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.RightButton, pos=other)
    assert lst.currentItem().text() == "What is 2 + 2?"
    for menu in QApplication.topLevelWidgets():
        if menu.isVisible() and menu.inherits("QMenu"):
            menu.close()
    window.new_chat()  # a new conversation is not in the list yet: nothing is marked
    assert lst.currentItem() is None and lst.selectedItems() == []
    # Items stand apart: two titles never touch.
    first, second = (lst.visualItemRect(lst.item(row_of(window, t))) for t in ("What is 2 + 2?", "What is 12 + 7?"))
    assert second.top() - first.bottom() >= 1 and first.height() > lst.fontMetrics().height() + 6
    assert lst.itemAt(QPoint(5, lst.visualItemRect(lst.item(0)).center().y())).text() == "Today"


def test_a_search_hit_in_the_reasoning_opens_with_the_reasoning_unfolded(
    make_window: WindowFactory, qtbot: QtBot
) -> None:
    store = Store(app_paths().database)
    conversation = store.create_conversation("Lighthouses")
    store.add_message(conversation, "user", "How tall is it?")
    answer = store.add_message(conversation, "assistant", state="streaming")
    store.update_message(answer, content="About 30 m.", reasoning="The keeper said thirty metres.", state="complete")
    store.close()
    window = make_window()
    window.sidebar.include_reasoning.setChecked(True)
    window.sidebar.start_search()
    qtbot.keyClicks(window.sidebar.search, "keeper")
    qtbot.waitUntil(lambda: len(listed(window)) == 1 and listed(window)[0].startswith("Lighthouses"))
    qtbot.keyClick(window.sidebar.search, Qt.Key.Key_Down)
    qtbot.keyClick(window.sidebar.list, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: answers(window) == ["About 30 m."])
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn) and turn.reasoning.text.isVisibleTo(turn)


def test_undo_delete_is_offered_only_with_something_to_undo(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = exact_window(make_window, trained_model)
    undo = window.menu_actions["undo_delete"]
    assert not undo.isEnabled()
    ask(qtbot, window, "What is 12 + 7?")
    window.delete_conversation(window.session.uid)
    assert undo.isEnabled()
    undo.trigger()
    assert not undo.isEnabled()
    qtbot.waitUntil(lambda: listed(window) == ["What is 12 + 7?"])


def test_clicking_a_reasoning_toggle_leaves_the_keyboard_in_the_message_box(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = exact_window(make_window, trained_model)
    ask(qtbot, window, "What is 12 + 7?")
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn)
    window.composer.edit.setFocus()
    qtbot.mouseClick(turn.reasoning.toggle, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(turn.copy_button, Qt.MouseButton.LeftButton)
    assert QApplication.focusWidget() is window.composer.edit


def test_sources_read_as_text_and_an_answer_citing_none_lists_what_it_was_given(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = exact_window(make_window, trained_model)
    ask(qtbot, window, "What is 12 + 7?")
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn)
    given = Source(1, "d", "notice.md", 0, "lines 1-3", "# Notice **Either** side may end the lease…")
    turn.show_sources([given], cited=False)
    assert "Cites no source; it was given" in turn.sources.text()
    assert "— Notice Either side may end the lease…" in turn.sources.text()  # no raw Markdown
    assert "#" not in turn.sources.text().split("—", 1)[1] and "**" not in turn.sources.text()


def test_the_effort_dropdown_says_what_it_is_and_opens_as_a_list_below_it(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    from PySide6.QtWidgets import QStyle, QStyleOptionComboBox

    window = exact_window(make_window, trained_model)
    effort = window.composer.effort
    assert effort.currentText() == "Reasoning: Medium"
    option = QStyleOptionComboBox()
    option.initFrom(effort)
    # 0: a plain list under the box, not a menu opened around the current choice (where clicks land wrongly).
    assert effort.style().styleHint(QStyle.StyleHint.SH_ComboBox_Popup, option, effort) == 0


def test_a_search_hit_in_another_version_opens_that_version(make_window: WindowFactory, qtbot: QtBot) -> None:
    store = Store(app_paths().database)
    conversation = store.create_conversation("Colours")
    store.add_message(conversation, "user", "Name a colour.", uid="q")
    store.add_message(conversation, "assistant", "Turquoise", uid="a1", parent="q")
    store.add_message(conversation, "assistant", "Red", uid="a2", parent="q")  # regenerated: shown
    store.close()
    window = make_window()
    window.sidebar.start_search()
    qtbot.keyClicks(window.sidebar.search, "turquoise")
    qtbot.waitUntil(lambda: len(listed(window)) == 1)
    qtbot.keyClick(window.sidebar.search, Qt.Key.Key_Down)
    qtbot.keyClick(window.sidebar.list, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: answers(window) == ["Turquoise"])
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn) and turn.versions.text == "‹ 1 / 2 ›"
