"""The answer view: Markdown rendered while it streams, each update costing only what it adds."""

from __future__ import annotations

from PySide6.QtGui import QTextFormat
from pytestqt.qtbot import QtBot

from gptoss_desktop.ui.markdown_view import StreamingMarkdownView

ANSWER = (
    "# Plan\n\nSome **bold** text and `code`.\n\n- one\n- two\n\n"
    "```python\nprint('hi')\n```\n\n> a quote\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nThe end."
)


def blocks(view: StreamingMarkdownView) -> list[tuple[str, int, bool, bool]]:
    """(text, heading level, in a list, is code) for every block."""
    out = []
    block = view.document().firstBlock()
    while block.isValid():
        fmt = block.blockFormat()
        code = fmt.hasProperty(QTextFormat.Property.BlockCodeFence)
        out.append((block.text(), fmt.headingLevel(), block.textList() is not None, code))
        block = block.next()
    return out


def test_streamed_answer_renders_like_the_whole_text(qtbot: QtBot) -> None:
    view = StreamingMarkdownView()
    qtbot.addWidget(view)
    for char in ANSWER:
        view.append_text(char)
    view.finish()
    rendered = blocks(view)
    assert ("Plan", 1, False, False) in rendered
    assert ("one", 0, True, False) in rendered and ("two", 0, True, False) in rendered
    assert ("print('hi')", 0, False, True) in rendered
    assert rendered[-1] == ("The end.", 0, False, False)
    assert "**" not in view.toPlainText() and "```" not in view.toPlainText()
    assert view.markdown_source() == ANSWER


def test_finished_blocks_render_while_the_rest_still_streams(qtbot: QtBot) -> None:
    view = StreamingMarkdownView()
    qtbot.addWidget(view)
    view.append_text("# Plan\n\nStill **typ")
    assert blocks(view)[0] == ("Plan", 1, False, False)
    assert blocks(view)[-1][0] == "Still **typ"  # the live tail is plain text until its block ends


def test_an_update_adds_only_the_new_text(qtbot: QtBot) -> None:
    view = StreamingMarkdownView()
    qtbot.addWidget(view)
    view.append_text("# Title\n\n" + "word " * 2000)  # a long paragraph still streaming
    changes: list[tuple[int, int]] = []
    view.document().contentsChange.connect(lambda _pos, removed, added: changes.append((removed, added)))
    view.append_text(" more")
    assert changes == [(0, 5)]
