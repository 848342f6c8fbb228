"""Save a screenshot of the real window mid-answer, as README shows it.

    QT_QPA_PLATFORM=offscreen python tools/screenshot.py MODEL.gguf OUT.png "question" ... [--effort E] [--mid-answer]
    QT_QPA_PLATFORM=offscreen python tools/screenshot.py none OUT.png          # the first-run screen
    ... --history [--search TEXT]     # with the demo conversations (tools/demo_history.py) stored first;
                                      # the newest one is opened, or TEXT typed in the search box
    ... --doc FILE [--doc FILE]       # documents added to the conversation before the questions
    ... --exact                       # temperature 0, seed 1: the same answers every time
    ... --max-tokens N                # stop each reply after N tokens (seed 1), e.g. for the babbling stand-in
    ... --open-source N               # then click citation [N] of the last answer (opens the source pane)
    ... --server URL [--server-model M]  # the conversation runs on that OpenAI-compatible server
    ... --theme dark --font-size 18   # appearance (Preferences' theme and point size)
    ... --new-chat                    # with --history: the questions go to a new conversation
    ... --regenerate                  # then write the last answer again (its versions show "‹ 2 / 2 ›")
    ... --prompt                      # then open the last answer's prompt inspector and shoot that instead
    ... --settings                    # then open Conversation Settings and shoot that instead
    ... --tool-demo                   # store a conversation whose answer ran Python (tools/demo_tools.py), open it
    ... --unfold                      # unfold the last answer's reasoning and each of its tool steps
    ... --ask-python CODE             # the model calls python with CODE (scripted, tests/fixtures/scripted_tools.py)
                                      # and the picture is taken while the window asks Run or Skip
    ... --adapter FILE[:SCALE]        # add a LoRA adapter as File ▸ Adapters… does, on in the conversation at SCALE
        [--adapter-from N]            # from question N on (0: all); earlier questions are answered without it
    ... --adapters-dialog             # then open File ▸ Adapters… and shoot that instead
    ... --browse search:JSON [--browse open:JSON ...] [--answer TEXT]
                                      # the model browses the documents with these calls (scripted, CallsBrowser),
                                      # then says TEXT (its citations resolved) or goes on by itself
    ... --open-citation N             # then click the last answer's citation N (opens the source pane there)
    ... --show-steps                  # unfold the last answer's reasoning: its steps show, each folded

Runs against a temporary home. The picture is taken when the last reply finishes,
or with --mid-answer as soon as its answer starts to stream.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from gptoss_desktop.ui.window.main_window import MainWindow

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model", help="GGUF to chat with, or 'none' for the first-run screen")
    parser.add_argument("out")
    parser.add_argument("questions", nargs="*")
    parser.add_argument("--effort", default="medium")
    parser.add_argument("--mid-answer", action="store_true", help="shoot as the last answer starts to stream")
    parser.add_argument("--history", action="store_true", help="store the demo conversations and open the newest")
    parser.add_argument("--search", metavar="TEXT", help="type TEXT in the search box before the picture")
    parser.add_argument("--size", default="900x700", help="window size, WxH")
    parser.add_argument("--doc", action="append", default=[], metavar="FILE", help="add FILE as a document first")
    parser.add_argument("--exact", action="store_true", help="temperature 0 and seed 1, for repeatable answers")
    parser.add_argument("--max-tokens", type=int, metavar="N", help="stop each reply after N tokens, seed 1")
    parser.add_argument("--open-source", type=int, metavar="N", help="click citation [N] of the last answer")
    parser.add_argument("--server", metavar="URL", help="run the conversation on this server")
    parser.add_argument("--server-model", metavar="M", help="the model on that server")
    parser.add_argument("--theme", choices=("light", "dark", "system"), default="light")
    parser.add_argument("--font-size", type=int, metavar="PT", help="text size in points")
    parser.add_argument("--new-chat", action="store_true", help="with --history: ask in a new conversation")
    parser.add_argument("--regenerate", action="store_true", help="write the last answer again")
    parser.add_argument("--prompt", action="store_true", help="shoot the last answer's prompt inspector")
    parser.add_argument("--settings", action="store_true", help="shoot Conversation Settings")
    parser.add_argument("--tool-demo", action="store_true", help="store and open a conversation that ran Python")
    parser.add_argument("--unfold", action="store_true", help="unfold the last answer's reasoning and tool steps")
    parser.add_argument("--ask-python", metavar="CODE", help="the model calls python with CODE; shoot the question")
    parser.add_argument("--adapter", action="append", default=[], metavar="FILE[:SCALE]", help="add a LoRA adapter")
    parser.add_argument("--adapter-from", type=int, default=0, metavar="N", help="turn the adapters on at question N")
    parser.add_argument("--adapters-dialog", action="store_true", help="shoot File ▸ Adapters…")
    parser.add_argument(
        "--browse", action="append", default=[], metavar="CALL", help="the model browses: search:JSON, open:JSON…"
    )
    parser.add_argument("--answer", help="after the --browse calls, the model says this")
    parser.add_argument("--open-citation", type=int, metavar="N", help="click the last answer's citation N")
    parser.add_argument("--show-steps", action="store_true", help="unfold the last answer's reasoning")
    args = parser.parse_args()

    from gptoss_desktop.core.paths import app_paths, use_home

    use_home(tempfile.mkdtemp())
    if args.history:
        from gptoss_desktop.core.history.store import Store
        from tools.demo_history import age_demo_history, write_demo_history

        store = Store(app_paths().database)
        write_demo_history(store)
        store.close()
        age_demo_history(app_paths().database)
    if args.tool_demo:
        from gptoss_desktop.core.history.store import Store
        from tools.demo_tools import write_tool_demo

        store = Store(app_paths().database)
        write_tool_demo(store)
        store.close()
    from PySide6.QtWidgets import QApplication

    from gptoss_desktop.core.events import AnswerDelta
    from gptoss_desktop.core.settings import Settings
    from gptoss_desktop.ui.style import apply_appearance

    app = QApplication(sys.argv)
    apply_appearance(app, Settings(theme=args.theme, font_size=args.font_size))
    window = create_window(None if args.model == "none" else args.model, args.ask_python, args.browse, args.answer)
    width, height = (int(n) for n in args.size.split("x"))
    window.resize(width, height)
    window.show()
    if args.model == "none":
        found: list[object] = []
        window.services.models.models_found.connect(found.append)
        while not found:
            app.processEvents()
        app.processEvents()
        window.grab().save(args.out)
        close(app, window)
        return
    while window.services.chat.model_info is None:
        app.processEvents()
    if args.history or args.tool_demo:
        while window.sidebar.list.count() == 0:
            app.processEvents()
        first = next(row for row in range(window.sidebar.list.count()) if window.sidebar.list.item(row).data(0x0100))
        window.session.open(window.sidebar.list.item(first).data(0x0100))
        while not window.chat_view.turns or window.session.loading:
            app.processEvents()
    if args.new_chat:
        window.new_chat()
    if args.search:
        window.sidebar.start_search()
        window.sidebar.search.setText(args.search)
        while window.sidebar.list.count() == 0 or not window.sidebar.list.item(0).text().count("\n"):
            app.processEvents()
    if args.doc:
        window.documents.add(args.doc)
        while len(window.document_strip.chips) < len(args.doc) or window.document_strip.reading.text():
            app.processEvents()
    if args.exact:
        from gptoss_desktop.core.conversation_settings import ConversationSettings

        python = "ask" if args.ask_python else "off"  # the tiny model was trained without tools
        window.session.update_settings(ConversationSettings(temperature=0.0, seed=1, python=python))
    elif args.max_tokens:
        from gptoss_desktop.core.conversation_settings import ConversationSettings

        window.session.update_settings(ConversationSettings(max_tokens=args.max_tokens, seed=1))
    if args.server:
        from gptoss_desktop.core.remote.profile import ServerProfile

        server = ServerProfile(args.server, model=args.server_model)
        window.session.update_settings(window.session.settings.with_changes(server=server))
    window.composer.set_effort(args.effort)
    shots: list[bool] = []

    def shoot_mid_answer(event: object) -> None:
        # Connected after the window's own slot: the answer has begun, the reply is not finished.
        if isinstance(event, AnswerDelta) and not shots:
            app.processEvents()  # let the layout catch up with the text, as the next frame would
            shots.append(window.grab().save(args.out))

    for index, question in enumerate(args.questions):
        if args.adapter and index == args.adapter_from:
            add_adapters(app, window, args.adapter)
        if args.mid_answer and index == len(args.questions) - 1:
            window.services.chat.event_received.connect(shoot_mid_answer)
        window.composer.edit.setPlainText(question)
        window.composer._submit()
        if args.ask_python:
            shoot_approval(app, window, args.out)
            close(app, window)
            return
        while window.services.chat.busy:
            app.processEvents()
    if args.adapter and args.adapter_from >= len(args.questions):
        add_adapters(app, window, args.adapter)
    if args.regenerate:
        window.session.regenerate()
        while window.services.chat.busy:
            app.processEvents()
    if args.adapters_dialog:
        dialog = window.adapters.show_dialog()
        dialog.resize(640, 300)
        for _ in range(20):
            app.processEvents()
        dialog.grab().save(args.out)
        dialog.close()
        close(app, window)
        return
    if args.prompt or args.settings:
        shoot_dialog(app, window, args)
        close(app, window)
        return
    if args.open_citation:
        open_citation(app, window, args.open_citation)
    if args.show_steps:
        turn = window.chat_view.turns[-1]
        turn.reasoning.set_expanded(True)  # type: ignore[union-attr]
        window.chat_view.scroll_to(turn)
    if args.open_source:
        window.chat_view.turns[-1].answer.citation_clicked.emit(args.open_source)
        while not window.source_viewer.isVisible():
            app.processEvents()
    if args.unfold:
        unfold(window)
    for _ in range(20):
        app.processEvents()
    if not shots:
        window.grab().save(args.out)
    close(app, window)


def create_window(
    model: str | None, ask_python: str | None, browse: list[str] | None = None, answer: str | None = None
) -> MainWindow:
    """The app's window; with `ask_python`, on an engine whose first answer calls python with that code; with
    `browse` ("search:{...}", "open:{...}"), on one whose first browsing answer makes those calls, then says
    `answer` (when given)."""
    from gptoss_desktop.ui.app import create_window as app_window

    if ask_python is None and not browse:
        return app_window(model)
    from gptoss_desktop.core.local.engine import LocalEngine
    from gptoss_desktop.core.paths import app_paths
    from gptoss_desktop.core.settings import load_settings
    from gptoss_desktop.services.app_services import AppServices
    from gptoss_desktop.ui.window.main_window import MainWindow
    from tests.fixtures.scripted_tools import CallsBrowser, CallsPython

    calls = [(f"browser.{call.partition(':')[0]}", call.partition(":")[2]) for call in browse or []]

    def engine(path: str) -> LocalEngine:
        if ask_python is not None:
            return CallsPython(path, [[ask_python]])
        return CallsBrowser(path, calls, answer)

    paths = app_paths()
    services = AppServices(paths.database, engine_factory=engine)
    window = MainWindow(services, load_settings(paths.settings_file), paths.settings_file)
    services.setParent(window)
    if model:
        window.load_model(model)
    return window


def open_citation(app: QApplication, window: MainWindow, number: int) -> None:
    """Click the last answer's citation `number` (from 1), as a person does, and wait for the source pane."""
    from gptoss_desktop.ui.chat.message_widgets import AssistantTurn

    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn)
    turn.cited.linkActivated.emit(f"cite:{number - 1}")
    while not window.source_viewer.isVisible():
        app.processEvents()


def add_adapters(app: QApplication, window: MainWindow, adapters: list[str]) -> None:
    """Add each FILE[:SCALE] as File ▸ Adapters… does (checked and loaded on the engine thread), then set its scale."""
    for text in adapters:
        path, colon, scale = text.rpartition(":")
        if not colon or not scale.replace(".", "", 1).isdigit():
            path, scale = text, "1"
        key = str(Path(path).resolve())
        window.adapters.add(key)
        while key in window.adapters.checking:
            app.processEvents()
        if window.adapters.scale_of(key) is None:
            raise SystemExit(f"The adapter was refused: {window.statusBar().currentMessage()}")
        window.adapters.choose(key, float(scale))


def shoot_approval(app: QApplication, window: MainWindow, out: str) -> None:
    """Wait until the answer asks Run or Skip, shoot, then Skip (the answer ends)."""
    from gptoss_desktop.ui.chat.message_widgets import AssistantTurn

    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn)
    while turn.approval is None:
        app.processEvents()
    for _ in range(20):
        app.processEvents()
    window.grab().save(out)
    turn.approval.skip_button.click()
    while window.services.chat.busy:
        app.processEvents()


def unfold(window: MainWindow) -> None:
    """The last answer's reasoning unfolded, and each of its tool steps, scrolled into view."""
    from gptoss_desktop.ui.chat.message_widgets import AssistantTurn

    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn)
    turn.reasoning.set_expanded(True)
    for step in turn.reasoning.steps:
        step.set_expanded(True)
    window.chat_view.scroll_to(turn)


def shoot_dialog(app: QApplication, window: MainWindow, args: argparse.Namespace) -> None:
    """Open the prompt inspector of the last answer, or Conversation Settings, and save its picture."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QDialog

    from gptoss_desktop.ui.dialogs.prompt_inspector import PromptInspector

    if args.prompt:
        window.dialogs.show_last_prompt()
        while window.findChild(PromptInspector) is None:
            app.processEvents()
        dialog: QDialog = window.findChild(PromptInspector)  # type: ignore[assignment]
        for _ in range(20):
            app.processEvents()
        dialog.grab().save(args.out)
        dialog.close()
        return

    def shoot() -> None:
        shown = next(w for w in app.topLevelWidgets() if isinstance(w, QDialog) and w.isVisible())
        for _ in range(20):
            app.processEvents()
        shown.grab().save(args.out)
        shown.reject()

    QTimer.singleShot(300, shoot)
    window.edit_conversation_settings()


def close(app: QApplication, window: MainWindow) -> None:
    """Close as a person does: the window stops its threads, then goes."""
    window.close()
    while window.isVisible():
        app.processEvents()


if __name__ == "__main__":
    main()
