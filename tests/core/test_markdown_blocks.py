"""Streaming Markdown is cut into blocks exactly where rendering them early is safe."""

from __future__ import annotations

from gptoss_desktop.core.markdown_blocks import MarkdownBlocks, fenced_code

DOCUMENT = (
    "# Title\n\nA paragraph\nover two lines.\n\n```python\nx = 1\n\n\ny = 2\n```\n"
    "- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~~\n```not a close\n~~~\ntail text"
)
BLOCKS = [
    "# Title\n\n",
    "A paragraph\nover two lines.\n\n",
    "```python\nx = 1\n\n\ny = 2\n```\n",
    "- one\n- two\n\n",
    "| a | b |\n|---|---|\n| 1 | 2 |\n\n",
    "~~~\n```not a close\n~~~\n",
]


def test_blocks_close_on_blank_lines_and_fences_but_never_inside_code() -> None:
    splitter = MarkdownBlocks()
    assert splitter.feed(DOCUMENT) == BLOCKS
    assert splitter.tail == "tail text"


def test_same_blocks_whatever_the_chunking() -> None:
    for size in (1, 2, 3, 7, 64):
        splitter = MarkdownBlocks()
        blocks = []
        for start in range(0, len(DOCUMENT), size):
            blocks += splitter.feed(DOCUMENT[start : start + size])
        assert blocks == BLOCKS, size
        assert splitter.finish() == "tail text"
        assert splitter.tail == ""


def test_tail_stays_short_while_text_grows() -> None:
    splitter = MarkdownBlocks()
    for i in range(2000):
        splitter.feed(f"Paragraph {i} with some words.\n\n")
    assert splitter.tail == ""


def test_fenced_code_is_the_code_exactly_as_written() -> None:
    markdown = (
        "Intro\n```make\nall:\n\tcc -o app main.c  \n\n```\n- step\n\n  ~~~sh\n  ls -l\n    two deeper\n  ~~~\n"
        "````md\n```\nnested fence\n```\n````\n```python\nunclosed = True\n"
    )
    assert fenced_code(markdown) == [
        "all:\n\tcc -o app main.c  \n",
        "ls -l\n  two deeper",
        "```\nnested fence\n```",
        "unclosed = True",
    ]
    assert fenced_code("no code here\n\n    indented is not fenced\n") == []
