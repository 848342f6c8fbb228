"""Split streaming Markdown into finished blocks and a live tail.

A block is finished once a blank line follows it outside a fenced code block,
or once its closing fence arrives. Finished blocks are rendered once; only the
tail is redrawn as text arrives, so each token costs the same however long the
answer grows.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


class MarkdownBlocks:
    """Accumulates streamed text; `feed` returns the blocks that just became final."""

    def __init__(self) -> None:
        self.tail = ""
        self._fence: str | None = None  # the opening fence while inside a code block
        self._scanned = 0  # tail offset up to which whole lines were examined

    def feed(self, text: str) -> list[str]:
        """Add text; return finished blocks (each ends with a newline) in order."""
        self.tail += text
        finished: list[str] = []
        while True:
            newline = self.tail.find("\n", self._scanned)
            if newline < 0:
                break
            line = self.tail[self._scanned : newline]
            self._scanned = newline + 1
            cut = self._line_ends_block(line)
            if cut:
                block = self.tail[: self._scanned]
                if block.strip():
                    finished.append(block)
                self.tail = self.tail[self._scanned :]
                self._scanned = 0
        return finished

    @property
    def in_code(self) -> bool:
        """True while the tail is a fenced code block whose closing fence has not come yet."""
        return self._fence is not None

    def finish(self) -> str:
        """Everything not yet returned as a block; resets the splitter."""
        rest, self.tail, self._scanned, self._fence = self.tail, "", 0, None
        return rest

    def _line_ends_block(self, line: str) -> bool:
        fence = _FENCE.match(line)
        if self._fence is not None:
            closes = (
                fence is not None
                and fence.group(1)[0] == self._fence[0]
                and len(fence.group(1)) >= len(self._fence)
                and not line.strip().strip(self._fence[0])
            )
            if closes:
                self._fence = None
            return closes
        if fence:
            self._fence = fence.group(1)
            return False
        return not line.strip()


_ANY_FENCE = re.compile(r"^( *)(`{3,}|~{3,})")


def fenced_code(markdown: str) -> list[str]:
    """The contents of each fenced code block in `markdown`, exactly as written (tabs kept).

    What a "Copy" button must copy: a renderer may expand tabs. The fence's own
    indentation (a list item's) is removed from each line, as CommonMark does.
    """
    blocks: list[str] = []
    fence: str | None = None
    indent = 0
    lines: list[str] = []
    for line in markdown.split("\n"):
        match = _ANY_FENCE.match(line)
        if fence is None:
            if match:
                indent, fence, lines = len(match.group(1)), match.group(2), []
            continue
        if (
            match
            and match.group(2)[0] == fence[0]
            and len(match.group(2)) >= len(fence)
            and not line.strip(" " + fence[0])
        ):
            blocks.append("\n".join(lines))
            fence = None
            continue
        lines.append(line[min(indent, len(line) - len(line.lstrip(" "))) :])
    if fence is not None:
        blocks.append("\n".join(lines).rstrip("\n"))
    return blocks
