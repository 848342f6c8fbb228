"""The real window with a tiny gpt-oss that really browses the attached documents: nothing scripted.

The model (tests/fixtures/gpt-oss-tiny-browse.gguf) is asked for a project's access code, which only
one of the dropped documents holds: it searches them, opens the result, answers with the line it read
and cites it. The documents thread, index, browser, tool loop, citations, history and widgets are the
app's own; clicking the citation opens the source viewer at the cited line.
"""

from __future__ import annotations

import html
from pathlib import Path

from pytestqt.qtbot import QtBot

from gptoss_desktop.core.conversation_settings import ConversationSettings
from gptoss_desktop.core.tools.browser_page import defuse
from gptoss_desktop.ui.window.main_window import MainWindow
from tests.integration.test_browse_model import BROWSE_MODEL, three_document_worlds, write_documents
from tools.tiny_gptoss.browse_data import HOSTILE, World, with_hostile_text

from .conftest import WindowFactory
from .test_browse_window import BROWSED, attach, click_mark, last_turn, selected
from .test_conversations import ask
from .tool_windows import steps

EXACT = ConversationSettings(temperature=0.0, seed=1, max_tokens=200, python="off")


def window_on_browse_model(make_window: WindowFactory) -> MainWindow:
    window = make_window(BROWSE_MODEL)
    window.session.update_settings(EXACT)
    return window


def check_answer(qtbot: QtBot, window: MainWindow, world: World) -> None:
    """The steps, the answer with its one citation, and the viewer at the cited line, as a person sees them."""
    asked = world.documents[world.asked]
    turn = last_turn(window)
    assert turn.notice.text() == BROWSED
    titles = [step.title for step in steps(turn)]
    assert len(titles) == 2, titles
    assert titles[0].startswith(f"Searched 'Project {world.project} access code' · ")
    assert titles[1].startswith(f"Opened {asked.name} · lines 0-")
    assert turn.answer.toPlainText() == asked.fact[:-1] + "1."  # the citation is the raised 1
    line = asked.lines.index(asked.fact) + 1
    assert f"1 {asked.name}, line {line}</a> — “{html.escape(asked.fact)}”" in turn.cited.text()
    click_mark(qtbot, turn, 1)
    qtbot.waitUntil(window.source_viewer.isVisible, timeout=5_000)
    assert window.source_viewer.place.text() == f"{asked.name}, line {line}"
    assert selected(window) == asked.fact


def test_the_model_browses_the_dropped_documents_and_its_citation_opens_the_line(
    make_window: WindowFactory, qtbot: QtBot, tmp_path: Path
) -> None:
    world = three_document_worlds()[2]
    window = window_on_browse_model(make_window)
    attach(qtbot, window, *write_documents(world, tmp_path))
    ask(qtbot, window, world.question)
    check_answer(qtbot, window, world)
    stored = window.session.transcript.messages[-1]
    assert stored.state == "complete" and [c.quote for c in stored.citations] == [world.documents[world.asked].fact]


def test_control_strings_in_a_document_change_nothing(make_window: WindowFactory, qtbot: QtBot, tmp_path: Path) -> None:
    world = three_document_worlds()[3]
    window = window_on_browse_model(make_window)
    attach(qtbot, window, *write_documents(with_hostile_text(world), tmp_path))
    ask(qtbot, window, world.question)
    check_answer(qtbot, window, world)  # the same steps, answer and citation as without it
    opened = steps(last_turn(window))[1].output.toPlainText()
    assert all(defuse(line) in opened for line in HOSTILE)  # it was read, as text (【】 shown as 〖〗)
