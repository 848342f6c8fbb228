"""Documents in the real window with the real engine, document thread and SQLite: drag and drop, the
strip with each file's state and reason, answers from the documents, and the sources they cite."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QTextCursor, QTextDocumentFragment
from PySide6.QtWidgets import QApplication, QLabel, QToolButton
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.documents.answer import SourcesCited
from gptoss_desktop.core.documents.index import StoredDocument
from gptoss_desktop.core.documents.prompting import Source
from gptoss_desktop.core.events import AnswerDelta
from gptoss_desktop.core.history.store import Store
from gptoss_desktop.core.paths import app_paths
from gptoss_desktop.ui.chat.message_widgets import AssistantTurn
from gptoss_desktop.ui.window.main_window import MainWindow
from tests.fixtures.documents import write_encrypted_pdf, write_image_pdf, write_pdf, write_zip_bomb
from tests.fixtures.windows import close_window

from .conftest import WindowFactory
from .test_conversations import answers, ask, listed
from .test_conversations import exact_window as exact_browsing_window


def exact_window(make_window: WindowFactory, model: Path) -> MainWindow:
    """A window whose gpt-oss is given passages, as these tests are about (browsing: test_browse_window.py)."""
    window = exact_browsing_window(make_window, model)
    window.session.update_settings(window.session.settings.with_changes(documents="passages"))
    return window


def drop_files(window: MainWindow, *paths: Path) -> None:
    """What a real drag of files delivers: enter (the window must accept it), then drop."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    where, action, button, keys = (
        QPointF(200, 200),
        Qt.DropAction.CopyAction,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier(0),
    )
    enter = QDragEnterEvent(where, action, mime, button, keys)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(window, QDropEvent(where, action, mime, button, keys))


def only_document(window: MainWindow) -> StoredDocument:
    """The one document of the window's conversation, as stored (read with a connection of its own)."""
    store = Store(app_paths().database, recover=False)
    try:
        conversation_id = store.conversation_id(window.session.uid)
        assert conversation_id is not None
        [document] = store.document_index.documents(conversation_id)
        return document
    finally:
        store.close()


def test_dropped_documents_are_read_listed_and_answered_from(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, tmp_path: Path
) -> None:
    lease = tmp_path / "lease.md"
    lease.write_text("# Rent\nThe rent is 900 euros a month.\n")
    photo = tmp_path / "photo.txt"
    photo.write_bytes(bytes(range(256)) * 16)
    window = exact_window(make_window, trained_model)
    drop_files(window, lease, photo)  # into a new conversation: it is stored first, titled after the file
    qtbot.waitUntil(lambda: len(window.document_strip.chips) == 2, timeout=20_000)
    labels = [chip.findChild(QLabel) for chip in window.document_strip.chips]
    assert [shown_text(label) for label in labels if label is not None] == [
        "lease.md ✓",
        "photo.txt ✗ is not a text file",  # why, beside it, in red
    ]
    assert labels[1] is not None and "#b3261e" in labels[1].text()
    qtbot.waitUntil(lambda: listed(window) == ["About lease.md"])
    ask(qtbot, window, "How much is the rent?")
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn)
    assert turn.notice.text() == (
        "Answered from the whole of the documents that could be read. Not used: photo.txt is not a text file."
    )

    remove = window.document_strip.chips[1].findChild(QToolButton)
    assert remove is not None and remove.accessibleName() == "Remove photo.txt"
    qtbot.mouseClick(remove, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(window.document_strip.chips) == 1)
    window.new_chat()
    qtbot.waitUntil(lambda: window.document_strip.chips == [])  # documents belong to their conversation


def test_a_cited_source_opens_its_passage_highlighted(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, tmp_path: Path
) -> None:
    """The test model cannot cite, so the sources are put under its answer as the engine thread reports
    them; the list, the link and the viewer reading the passage from the real index are what is tested."""
    lease = tmp_path / "lease.md"
    lease.write_text("# Notice\nEither side may end the lease\nwith 30 days' notice in writing.\n")
    window = exact_window(make_window, trained_model)
    drop_files(window, lease)
    qtbot.waitUntil(lambda: len(window.document_strip.chips) == 1, timeout=20_000)
    ask(qtbot, window, "How can I end the lease?")
    document = only_document(window)
    source = Source(1, document.uid, "lease.md", 0, "lines 1-3", "Either side may end the lease with 30 days' notice…")
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn)
    turn.show_sources([source])
    turn.source_requested.connect(window.session.source_requested)
    assert turn.sources.isVisible() and "[1] lease.md, lines 1-3" in turn.sources.text()
    turn.sources.linkActivated.emit("source:1")  # the person clicks [1]
    qtbot.waitUntil(lambda: window.source_viewer.isVisible(), timeout=5_000)
    assert window.source_viewer.width() >= 300  # a pane beside the conversation, wide enough to read
    assert window.source_viewer.place.text() == "[1] lease.md, lines 1-3"
    assert "with 30 days' notice in writing." in window.source_viewer.text.toPlainText()
    selected = window.source_viewer.text.textCursor().selectedText().replace("\u2029", "\n")
    assert selected == "Either side may end the lease\nwith 30 days' notice"


def test_cited_sources_come_back_with_the_conversation(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    """Sources reported for an answer are stored with it: after a restart they are under it again."""
    source = Source(1, "doc-uid", "lease.pdf", 3, "page 2", "The rent is 900 euros…")
    window = exact_window(make_window, trained_model)

    def report_sources(event: object) -> None:  # as the engine thread reports them, while the answer is live
        if isinstance(event, AnswerDelta):
            window.services.chat.event_received.disconnect(report_sources)
            window.services.chat.event_received.emit(SourcesCited((source,)))

    window.services.chat.event_received.connect(report_sources)
    ask(qtbot, window, "What is 12 + 7?")
    assert "[1] lease.pdf, page 2" in window.chat_view.turns[-1].sources.text()  # type: ignore[union-attr]
    conversation_uid = window.session.uid
    close_window(qtbot, window)

    again = make_window(trained_model)
    qtbot.waitUntil(lambda: listed(again) == ["What is 12 + 7?"])
    again.session.open(conversation_uid)
    qtbot.waitUntil(lambda: answers(again) == ["19"])
    turn = again.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn) and turn.sources.isVisible()
    assert "[1] lease.pdf, page 2" in turn.sources.text()


def shown_text(label: QLabel) -> str:
    """A label's text as a person reads it (rich text without its markup)."""
    return QTextDocumentFragment.fromHtml(label.text()).toPlainText()


def chips(window: MainWindow) -> dict[str, tuple[str, str]]:
    """What the strip shows of each document: its mark (✓ ✗ …) and its tooltip (the whole reason, for a failure)."""
    out = {}
    for chip in window.document_strip.chips:
        label = chip.findChild(QLabel)
        assert label is not None
        name, mark = shown_text(label).split(" ")[:2]
        out[name] = (mark, label.toolTip())
    return out


def test_every_bad_file_says_why_and_the_good_ones_are_answered_from(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, tmp_path: Path
) -> None:
    """A folder of files a person might really drop: each bad one is refused with its reason in the strip,
    the readable ones are used, and the window goes on answering."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "lease.md").write_text("# Rent\nThe rent is 900 euros a month.\n")
    (folder / "mixed.txt").write_bytes("Total: 12 €\n".encode() + b"broken \xff\xfe bytes\nlast line\n")
    write_pdf(folder / "notice.pdf", ["Either side may end the lease", "with 30 days' notice."])
    write_encrypted_pdf(folder / "salary.pdf", ["Confidential"])
    write_image_pdf(folder / "scan.pdf")
    write_zip_bomb(folder / "bomb.docx")
    (folder / "photo.txt").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 40)
    (folder / "empty.txt").write_bytes(b"")
    with (folder / "huge.txt").open("wb") as huge:
        huge.truncate(512_000_000)  # sparse: refused by its size before a byte is read
    window = exact_window(make_window, trained_model)
    strip, shown_while_reading = window.document_strip, []
    window.services.documents.reading.connect(  # after the window's own slot: what the strip shows at each file
        lambda *_: shown_while_reading.append(
            (strip.reading.text(), strip.progress.isVisible(), strip.progress.value(), strip.progress.maximum())
        )
    )
    drop_files(window, folder)
    qtbot.waitUntil(
        lambda: len(chips(window)) == 9 and "…" not in {m for m, _ in chips(window).values()}, timeout=30_000
    )
    shown = chips(window)
    assert {name for name, (mark, _) in shown.items() if mark == "✓"} == {"lease.md", "mixed.txt", "notice.pdf"}
    reasons = {name: tip for name, (mark, tip) in shown.items() if mark == "✗"}
    assert reasons == {
        "salary.pdf": "salary.pdf is password-protected",
        "scan.pdf": "scan.pdf has no text layer (a scan?); text recognition is not supported",
        "bomb.docx": reasons["bomb.docx"],
        "photo.txt": "photo.txt is not a text file",
        "empty.txt": "empty.txt is empty",
        "huge.txt": "huge.txt is 512 MB; the limit is 200 MB",
    }
    assert reasons["bomb.docx"].startswith("bomb.docx looks like a zip bomb")
    qtbot.waitUntil(lambda: len(shown_while_reading) == 10)  # a step per file, then done
    assert [
        (text.endswith(f"({n} of 9)…"), bar, value, top)
        for n, (text, bar, value, top) in enumerate(shown_while_reading[:9], 1)
    ] == [(True, True, n - 1, 9) for n in range(1, 10)]
    assert shown_while_reading[-1][:2] == ("", False)
    ask(qtbot, window, "How much is the rent?")
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn) and turn.answer.toPlainText()
    assert "Answered from the whole of the documents that could be read. Not used: " in turn.notice.text()
    assert "salary.pdf is password-protected" in turn.notice.text()  # the answer says what it did not read
    window.new_chat()
    window.session.update_settings(window.session.settings.with_changes(python="off"))  # trained without tools
    ask(qtbot, window, "What is 12 + 7?")  # the app keeps going
    assert answers(window) == ["19"]


def test_a_real_model_cites_and_the_citation_opens_its_source(
    make_window: WindowFactory, qtbot: QtBot, smollm2_model: Path, tmp_path: Path
) -> None:
    """End to end with a real model (SmolLM2, temperature 0): it writes a [1], the engine thread names the
    source, and the [1] in the answer is a link that opens the passage beside the conversation. What the
    small model chose to cite is its own business: the test checks that what it cites is what is shown."""
    lease = tmp_path / "lease.md"
    lease.write_text(
        "# Notice\nEither side may end the lease with 30 days' notice in writing.\n\n"
        "# Rent\nThe rent is 900 euros a month, due on the first day.\n"
    )
    window = exact_window(make_window, smollm2_model)
    drop_files(window, lease)
    qtbot.waitUntil(lambda: chips(window).get("lease.md", ("", ""))[0] == "✓", timeout=20_000)
    ask(qtbot, window, "How much is the rent? Cite it like [1].")
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn)
    view = turn.answer
    marks = re.findall(r"\[(\d)\]", turn.answer_text())
    assert marks, f"SmolLM2 no longer cites here: {turn.answer_text()!r}"
    number = int(marks[0])
    cited = turn.sources.text()
    place = re.search(rf"\[{number}\] (lease\.md, lines \d+-\d+)", cited)
    assert turn.sources.isVisible() and place is not None, cited  # what it cites is listed, with where
    cursor = QTextCursor(view.document())
    cursor.setPosition(view.toPlainText().index(f"[{number}]") + 2)
    assert cursor.charFormat().anchorHref() == f"source:{number}"
    assert cursor.charFormat().toolTip() == place.group(1)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.cursorRect(cursor).center())
    qtbot.waitUntil(lambda: window.source_viewer.isVisible(), timeout=5_000)
    assert window.source_viewer.place.text() == f"[{number}] {place.group(1)}"  # and it opens


def test_a_citation_in_the_answer_opens_its_source(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, tmp_path: Path
) -> None:
    """The [1] an answer writes is a link: clicking it opens the passage beside the conversation. The trained
    test model cannot cite, so its answer gets the marker and the sources the way the engine thread reports
    them; the link, the tooltip and the viewer reading the real index are what is tested."""
    lease = tmp_path / "lease.md"
    lease.write_text("# Notice\nEither side may end the lease\nwith 30 days' notice in writing.\n")
    window = exact_window(make_window, trained_model)
    drop_files(window, lease)
    qtbot.waitUntil(lambda: chips(window).get("lease.md", ("", ""))[0] == "✓", timeout=20_000)
    document = only_document(window)
    source = Source(1, document.uid, "lease.md", 0, "lines 1-3", "Either side may end the lease with 30 days' notice…")

    def cite(event: object) -> None:  # as the engine thread reports it, while the answer is live
        if isinstance(event, AnswerDelta):
            window.services.chat.event_received.disconnect(cite)
            window.services.chat.event_received.emit(AnswerDelta(" Thirty days' notice [1]."))
            window.services.chat.event_received.emit(SourcesCited((source,)))

    window.services.chat.event_received.connect(cite)
    ask(qtbot, window, "How can I end the lease?")
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn)
    view = turn.answer
    cursor = QTextCursor(view.document())
    cursor.setPosition(view.toPlainText().index("[1]") + 2)
    assert cursor.charFormat().anchorHref() == "source:1"
    assert cursor.charFormat().toolTip() == "lease.md, lines 1-3"
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.cursorRect(cursor).center())
    qtbot.waitUntil(lambda: window.source_viewer.isVisible(), timeout=5_000)
    assert window.source_viewer.place.text() == "[1] lease.md, lines 1-3"
    assert "with 30 days' notice in writing." in window.source_viewer.text.toPlainText()
    assert turn.answer_text().endswith("Thirty days' notice [1].")  # Copy copies what was written
