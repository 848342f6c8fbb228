"""Browser pages as gpt-oss was trained to read them (openai/gpt-oss `gpt_oss/tools/simple_browser/`).

A page is text wrapped at 80 columns into numbered lines; a view of it reads

    [3] lease.pdf, page 2 of 4 (lease.pdf#page=2)
    **viewing lines [0 - 41] of 57**

    L0: …

and links inside it are written `【id†text】` (`【id†text†source】` for another source). Every line
remembers where in which document it came from, so a citation `【3†L9-L11】` resolves to a file,
a page and its own lines. Document text is defused on the way in: it cannot write a link, a
citation or a line break the model would read as one (`【` and `】` become `〖` `〗`, as the
reference browser does); harmony's control strings stay text, as everywhere (the renderer
tokenizes a tool's output as plain text).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field

#: Columns a page's lines are wrapped at (the reference browser's).
WIDTH = 80
#: What one view shows when the call names no number of lines: about this many tokens (the reference's).
VIEW_TOKENS = 1024
#: Characters per token assumed to fill a view (o200k averages a little over 4 on English prose).
CHARS_PER_TOKEN = 4
#: Lines shown around a match by `find`, and the most matches listed (the reference's).
FIND_LINES, FIND_RESULTS = 4, 50
#: The longest name or title put in a header or a link.
NAME_LIMIT = 100

_LINE_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_LINK = re.compile(r"【\d+†(?P<content>[^†】]+)(?:†[^†】]+)?】")


class BrowserError(Exception):
    """A call the browser cannot serve; the message is what the model reads (its words follow the reference's)."""


@dataclass(frozen=True)
class Origin:
    """Where a line of a page comes from: a document, its PDF page, the file's own line when it has lines."""

    document_uid: str
    document_name: str
    page: int | None = None
    line: int | None = None


@dataclass(frozen=True)
class Link:
    """Where a link on a page leads: a part of a document, at the line of a page of it (a match, a result)."""

    document_uid: str
    section: int | None  # the part; None: the part holding chunk `ordinal` (found when the link is opened)
    ordinal: int | None = None  # the chunk to show: the view starts a few lines above its first line
    line: int | None = None  # or that line of the part's page


@dataclass(frozen=True)
class Page:
    """One page of the stack: its lines as the model reads them, each line's origin, its links.

    `listing` marks a page of search or find results: `find` does not search those (as the reference).
    A document's page names its `part` (document uid, section number) and `chunk_lines`, the first
    line of each chunk shown on it, for links to a chunk.
    """

    url: str
    title: str
    lines: tuple[str, ...]
    origins: tuple[Origin | None, ...]
    links: dict[int, Link] = field(default_factory=dict)
    listing: bool = False
    part: tuple[str, int] | None = None
    chunk_lines: dict[int, int] = field(default_factory=dict)

    def view(self, cursor: int, loc: int, num_lines: int, view_tokens: int = VIEW_TOKENS) -> tuple[str, int]:
        """The page from line `loc`, `num_lines` of them (<= 0: what fits in `view_tokens`), as the model reads it,
        and the line after the last shown. BrowserError when `loc` is past the end."""
        total = len(self.lines)
        if loc >= total or loc < 0:
            raise BrowserError(f"Invalid location parameter: `{loc}`. Cannot exceed page maximum of {total - 1}.")
        end = _view_end(self.lines, loc, num_lines, view_tokens)
        body = "\n".join(f"L{number}: {line}" for number, line in enumerate(self.lines[loc:end], start=loc))
        header = self.title + (f" ({self.url})" if self.url else "")
        return f"[{cursor}] {header}\n**viewing lines [{loc} - {end - 1}] of {total - 1}**\n\n{body}", end


def _view_end(lines: Sequence[str], loc: int, num_lines: int, view_tokens: int) -> int:
    if num_lines > 0:
        return min(loc + num_lines, len(lines))
    budget = view_tokens * CHARS_PER_TOKEN
    used = 0
    end = loc
    while end < len(lines):
        used += len(lines[end]) + len(str(end)) + 4  # "L12: " and the line break
        if used > budget and end > loc:
            break
        end += 1
    return end


def defuse(text: str) -> str:
    """Document text as page text: line breaks as `\\n`, no control characters, no link or citation brackets."""
    text = _CONTROL.sub("", _LINE_BREAKS.sub("\n", text))
    return text.replace("【", "〖").replace("】", "〗")


def label(text: str, limit: int = NAME_LIMIT) -> str:
    """A name or title for a header or a link: one line, defused, no `†`, cut short."""
    text = " ".join(defuse(text).replace("†", "‡").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def wrap(line: str, width: int = WIDTH) -> list[str]:
    """One line of text as the reference browser wraps it (words kept whole, whitespace kept)."""
    if not line:
        return [""]
    if len(line) <= width and "\t" not in line:
        return [line]
    return textwrap.wrap(line, width=width, replace_whitespace=False, drop_whitespace=False) or [""]


class PageBuilder:
    """Lines added one source line at a time, wrapped, each with its origin."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.origins: list[Origin | None] = []

    def add(self, text: str, origin: Origin | None = None) -> int:
        """Add a line of text (wrapped, possibly into several); returns the number of its first page line."""
        first = len(self.lines)
        for part in wrap(text):
            self.lines.append(part)
            self.origins.append(origin)
        return first

    def page(self, url: str, title: str, **rest: object) -> Page:
        return Page(url, title, tuple(self.lines), tuple(self.origins), **rest)  # type: ignore[arg-type]


def find_page(pattern: str, page: Page) -> Page:
    """`find`: the lines of `page` holding `pattern` (any case), each with the lines after it, as a results page."""
    needle = pattern.lower()
    lines = [_LINK.sub(lambda match: match.group("content"), line) for line in page.lines]
    builder = PageBuilder()
    links: dict[int, Link] = {}
    number = 0
    index = 0
    while index < len(lines) and len(links) < FIND_RESULTS:
        if needle not in lines[index].lower():
            index += 1
            continue
        if number:
            builder.add("")
        builder.add(f"# 【{number}†match at L{index}】")
        for shown in range(index, min(index + FIND_LINES, len(lines))):
            builder.lines.append(lines[shown])  # already wrapped
            builder.origins.append(page.origins[shown])
        if page.part is not None:
            links[number] = Link(page.part[0], page.part[1], line=index)
        number += 1
        index += FIND_LINES
    if not number:
        builder.add(f"No `find` results for pattern: `{label(pattern)}`")
    title = f"Find results for text: `{label(pattern)}` in `{page.title}`"
    return builder.page(f"{page.url}/find?pattern={label(pattern)}", title, links=links, listing=True)
