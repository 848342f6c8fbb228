"""HTML into one span per heading's section, with the standard library's parser: text only, nothing fetched.

Scripts, styles and other non-text elements are skipped; block elements end lines, paragraphs
end with a blank line, table cells are joined by " | ", and `<pre>` keeps its lines. The page's
`<title>` is the heading of the text above the first heading. Lines of the text do not match
lines of the source, so these spans carry headings but no line numbers.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from ..types import TextSpan
from .common import Cancel, check_cancel

#: Characters fed to the parser between two cancel checks (about a second of dense HTML). Not smaller: the
#: parser scans an unfinished tag again on every feed, so many small feeds of one huge tag cost quadratic time.
_FEED = 1 << 20

_SKIPPED = frozenset({"script", "style", "template", "noscript", "svg", "math", "canvas", "iframe", "object", "select"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_PARAGRAPHS = frozenset({"p", "pre", "table", "ul", "ol", "dl", "blockquote", "figure", "hr", *_HEADINGS})
_BLOCKS = _PARAGRAPHS | frozenset(
    {
        "address", "article", "aside", "body", "caption", "dd", "details", "dialog", "div", "dt", "fieldset",
        "figcaption", "footer", "form", "header", "hgroup", "legend", "li", "main", "nav", "section", "summary", "tr",
    }
)  # fmt: skip


def html_spans(text: str, name: str, cancel: Cancel) -> list[TextSpan]:
    """The page's text in sections under its headings."""
    text = _without_huge_tags(text)
    parser = _TextParser()
    for start in range(0, len(text), _FEED):
        check_cancel(cancel, name)
        parser.feed(text[start : start + _FEED])
    parser.close()
    return parser.finish()


def _without_huge_tags(text: str) -> str:
    """`text` with every tag longer than _FEED cut to its bare name, and a tag that never closes cut off
    with the rest (a browser shows nothing after it either).

    The parser rescans an unfinished tag on every feed and builds its attributes in memory: one unclosed
    `<div a=b a=b …` of 10 MB took 11 s and 2 GB, of 40 MB 335 s and 8 GB. Attributes are never read here,
    so a huge tag (an inline image as a data: URI) loses nothing. Linear: the next ">" is looked for once
    per stretch between two of them.
    """
    if len(text) <= _FEED:
        return text
    parts: list[str] = []
    done = 0  # text[:done] is in parts
    next_close = -1
    for opening in _TAG_START.finditer(text):
        start = opening.start()
        if start < done:
            continue
        if next_close < start:
            next_close = text.find(">", start)
            if next_close == -1:  # no tag closes from here on
                parts.append(text[done:start])
                return "".join(parts)
        if next_close - start > _FEED:
            parts += [text[done:start], f"<{opening[1]}>"]
            done = next_close + 1
    parts.append(text[done:])
    return "".join(parts)


_TAG_START = re.compile(r"<(/?[A-Za-z][A-Za-z0-9-]*)")


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._spans: list[TextSpan] = []
        self._lines: list[str] = []  # of the current section
        self._line: list[str] = []  # fragments of the current line
        self._heading: str | None = None
        self._heading_text: list[str] | None = None  # collecting, while inside <h1>…<h6>
        self._title: list[str] | None = None  # collecting, while inside <title>
        self._title_text = ""
        self._skipped = 0  # depth inside skipped elements
        self._pre = 0  # depth inside <pre>
        self._cells = 0  # cells so far in the current table row

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skipped += 1
        if self._skipped:
            return
        if tag == "title":
            self._title = []
        elif tag in _HEADINGS:
            self._end_line()
            self._end_section()
            self._heading_text = []
        elif tag == "br":
            self._end_line()
        elif tag in ("td", "th"):
            if self._cells:
                self._line.append(" | ")
            self._cells += 1
        elif tag == "li":
            self._end_line()
            self._line.append("- ")
        elif tag in _BLOCKS:
            self._end_line()
        if tag == "pre":
            self._pre += 1
        elif tag == "tr":
            self._cells = 0

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skipped = max(0, self._skipped - 1)
            return
        if self._skipped:
            return
        if tag == "title" and self._title is not None:
            self._title_text = " ".join("".join(self._title).split())
            self._title = None
        elif tag in _HEADINGS and self._heading_text is not None:
            self._heading = " ".join("".join(self._heading_text).split()) or self._heading
            self._heading_text = None
        if tag in _BLOCKS:
            self._end_line()
        if tag in _PARAGRAPHS and self._lines and self._lines[-1]:
            self._lines.append("")
        if tag == "pre":
            self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._skipped:
            return
        if self._title is not None:
            self._title.append(data)
            return
        if self._heading_text is not None:
            self._heading_text.append(data)
        if not self._pre:
            self._line.append(data)
            return
        first, *rest = data.split("\n")
        self._line.append(first)
        for line in rest:
            self._end_line(keep_spaces=True)
            self._line.append(line)

    def finish(self) -> list[TextSpan]:
        """The spans, once the whole page was fed and the parser closed."""
        self._end_line()
        self._end_section()
        return self._spans

    def _end_line(self, keep_spaces: bool = False) -> None:
        line = "".join(self._line)
        self._line = []
        line = line.rstrip() if keep_spaces or self._pre else " ".join(line.split())
        if line or keep_spaces:
            self._lines.append(line)

    def _end_section(self) -> None:
        text = "\n".join(self._lines).strip()
        self._lines = []
        if text:
            self._spans.append(TextSpan(text, heading=self._heading or self._title_text or None))
