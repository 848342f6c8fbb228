"""The `browser` tool over the conversation's documents: gpt-oss searches, opens and finds as it was trained.

`search(query, topn, source)` lists the passages the document index finds (words, and meaning where
set up) as links; `open(id | cursor, loc, num_lines)` shows a part of a document (a PDF page, or a
run of another file's text) as numbered lines, at a link's passage or scrolled to `loc`; `find(pattern,
cursor)` lists the lines of a page holding `pattern`. Every call puts a page on the turn's stack and
its cursor in the page's header; the answer cites `【cursor†Lx-Ly】` and `cite` resolves those to
the documents' pages and lines. The web is out of reach: the app is offline, and says so.

Calls run on the engine thread, one at a time; a Browser serves one turn (its page stack), while
the parts it has built are kept for the whole conversation when the same Browser is `reset`.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass
from typing import Any

from ..cancel import CancelFlag
from ..documents.sections import Section, SectionText, section_of, section_text, sections
from ..documents.shelf import Shelf, ShelvedDocument
from ..documents.types import Chunk
from ..events import Citation, ToolCall, ToolResult
from ..harmony import ToolNamespace, browser_tool
from .browser_page import VIEW_TOKENS, BrowserError, Link, Origin, Page, PageBuilder, defuse, find_page, label
from .citations import Viewed, resolve

#: Results a search lists unless the call asks for fewer (at most MAX_RESULTS).
DEFAULT_RESULTS, MAX_RESULTS = 10, 20
#: Characters of a passage shown under its link in the results.
SNIPPET_CHARS = 300
#: Documents named on the `sources=` line; the rest are searched all the same.
NAMED_SOURCES = 20
#: Lines shown above a link's passage when it is opened (the reference's).
CONTEXT_ABOVE = 4
#: Parts whose pages are kept built (a few documents' worth of pages).
KEPT_PAGES = 64

_WEB = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|www\.|web$|internet$|bing$|google$)", re.IGNORECASE)
_ALL = frozenset({"", "all", "documents", "local", "files", "docs"})


@dataclass(frozen=True)
class _Arguments:
    values: dict[str, Any]

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name, default)
        if value is None or isinstance(value, str):
            return value
        raise BrowserError(f"`{name}` should be a string, not `{type(value).__name__}`.")

    def number(self, name: str, default: int) -> int:
        value = self.values.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise BrowserError(f"`{name}` should be an integer, not `{value!r}`.")
        return int(value)


class Browser:
    """The browser tool for one conversation's documents (a loop Tool that also cites)."""

    def __init__(self, shelf: Shelf, view_tokens: int = VIEW_TOKENS) -> None:
        self.shelf = shelf
        self.view_tokens = view_tokens
        self.stack: list[Viewed] = []
        self._documents: list[ShelvedDocument] | None = None
        self._parts: dict[str, list[Section]] = {}
        self._pages: dict[tuple[str, int], Page] = {}

    def reset(self) -> None:
        """A new turn: an empty page stack (cursors start at 0 again); built pages and the document list stay."""
        self.stack = []

    def declaration(self) -> ToolNamespace:
        """The browser as declared in the system message, its `sources=` line naming the documents."""
        names = [label(document.name) for document in self.documents()]
        listed = ", ".join(names[:NAMED_SOURCES])
        if len(names) > NAMED_SOURCES:
            listed += f" and {len(names) - NAMED_SOURCES} more"
        return browser_tool(f"{listed or 'no documents'} (default: all)")

    def documents(self) -> list[ShelvedDocument]:
        if self._documents is None:
            self._documents = self.shelf.documents()
        return self._documents

    def run(self, call: ToolCall, cancel: CancelFlag) -> ToolResult:
        """Answer one call (`browser.search`, `.open` or `.find`); a bad call is answered with why."""
        started = time.monotonic()
        function = call.recipient.partition(".")[2]
        try:
            arguments = _arguments(call.arguments)
        except BrowserError as exc:
            return _failed(call, str(exc), started, as_json=True)
        try:
            if function == "search":
                summary, text = self._search(arguments)
            elif function == "open":
                summary, text = self._open(arguments)
            elif function == "find":
                summary, text = self._find(arguments)
            else:
                return _failed(call, f"Unknown function: {function}", started, as_json=True)
        except BrowserError as exc:
            return _failed(call, str(exc), started)
        return ToolResult(call.recipient, summary, text, text, "done", time.monotonic() - started)

    def cite(self, answer: str) -> tuple[Citation, ...]:
        """The answer's `【cursor†Lx-Ly】` citations, resolved against this turn's page stack."""
        return resolve(answer, self.stack)

    def _search(self, arguments: _Arguments) -> tuple[str, str]:
        query = arguments.text("query")
        if query is None or not query.strip():
            raise BrowserError("`query` is required: the words to search the documents for.")
        topn = min(max(arguments.number("topn", arguments.number("top_n", DEFAULT_RESULTS)), 1), MAX_RESULTS)
        scope = self._source(arguments.text("source"))
        passages = self.shelf.search(query, topn, scope.uid if scope else None)
        builder = PageBuilder()
        builder.add("# Search Results")
        builder.add("")
        links: dict[int, Link] = {}
        for number, passage in enumerate(passages):
            chunk = passage.chunk
            title = label(", ".join(p for p in (chunk.heading, chunk.anchor) if p) or passage.document_name)
            snippet = " ".join(defuse(chunk.text).split())
            snippet = snippet if len(snippet) <= SNIPPET_CHARS else snippet[: SNIPPET_CHARS - 1] + "…"
            origin = Origin(passage.document_uid, passage.document_name, chunk.page, chunk.line_start)
            builder.add(f"  * 【{number}†{title}†{label(passage.document_name)}】 {snippet}", origin)
            links[number] = Link(passage.document_uid, None, ordinal=chunk.ordinal)
        if not passages:
            where = f"`{label(scope.name)}`" if scope else "the documents"
            builder.add(f"No passage of {where} matches `{label(query)}`.")
        page = builder.page("", label(query), links=links, listing=True)
        text = self._show(page, 0, -1)
        count = len(passages)
        return f"Searched '{label(query, 60)}' · {count} result{'' if count == 1 else 's'}", text

    def _open(self, arguments: _Arguments) -> tuple[str, str]:
        ident = arguments.values.get("id", -1)
        cursor = arguments.number("cursor", -1)
        loc = arguments.number("loc", -1)
        num_lines = arguments.number("num_lines", -1)
        if isinstance(ident, str):
            page = self._named(ident)
        elif isinstance(ident, int | float) and not isinstance(ident, bool):
            current = self._page(cursor)
            if ident < 0:  # scroll the page at `cursor`
                page = current
            else:
                link = current.links.get(int(ident))
                if link is None:
                    raise BrowserError(f"Invalid link id `{int(ident)}`.")
                page = self._part_page(link.document_uid, self._section_number(link))
                if loc < 0:
                    at = page.chunk_lines.get(link.ordinal, 0) if link.ordinal is not None else link.line or 0
                    loc = at - CONTEXT_ABOVE if at > CONTEXT_ABOVE else at
        else:
            raise BrowserError(f"`id` should be a link number or a document's name, not `{type(ident).__name__}`.")
        text = self._show(page, max(loc, 0), num_lines)
        viewed = self.stack[-1]
        return f"Opened {page.title} · lines {viewed.first}-{viewed.end - 1}", text

    def _find(self, arguments: _Arguments) -> tuple[str, str]:
        pattern = arguments.text("pattern")
        if not pattern:
            raise BrowserError("`pattern` is required: the text to find in the page.")
        page = self._page(arguments.number("cursor", -1))
        if page.listing:
            raise BrowserError("Cannot run `find` on search results page or find results page")
        found = find_page(pattern, page)
        text = self._show(found, 0, -1)
        count = len([line for line in found.lines if line.startswith("# 【")])
        return f"Found '{label(pattern, 60)}' · {count} match{'' if count == 1 else 'es'} in {page.title}", text

    def _show(self, page: Page, loc: int, num_lines: int) -> str:
        """Push `page` on the stack and show it from `loc`; a view that cannot be shown is taken off again."""
        cursor = len(self.stack)
        text, end = page.view(cursor, loc, num_lines, self.view_tokens)  # raises before the page is pushed
        self.stack.append(Viewed(page, loc, end))
        return text

    def _page(self, cursor: int) -> Page:
        if not self.stack:
            raise BrowserError("No pages to access!")
        if cursor in (-1, len(self.stack) - 1):
            return self.stack[-1].page
        if not 0 <= cursor < len(self.stack):
            raise BrowserError(
                f"Cursor `{cursor}` is out of range. Available cursor indices: [0 - {len(self.stack) - 1}]."
            )
        return self.stack[cursor].page

    def _source(self, source: str | None) -> ShelvedDocument | None:
        """The document a search is limited to (None: all of them); the web is answered as offline."""
        name = (source or "").strip()
        if name.lower() in _ALL:
            return None
        document = self._document(name)
        if document is None and _WEB.match(name):
            raise BrowserError(self._offline())
        if document is None:
            raise BrowserError(f"No source `{label(name)}`. {self._listing()}")
        return document

    def _named(self, ident: str) -> Page:
        """open(id="lease.pdf"), or "lease.pdf#page=3" / "#part=2"; a web address is answered as offline."""
        name, _, fragment = ident.strip().partition("#")
        document = self._document(name)
        if document is None:
            if _WEB.match(name) or "/" in name:
                raise BrowserError(self._offline())
            raise BrowserError(f"No document `{label(name)}`. {self._listing()}")
        parts = self._sections(document.uid)
        key, _, value = fragment.partition("=")
        number = 0
        if value.isdigit():
            wanted = int(value)
            if key == "page":
                number = next((p.number for p in parts if p.page == wanted), -1)
            elif key == "part":
                number = wanted - 1
            if not 0 <= number < len(parts):
                raise BrowserError(f"`{label(document.name)}` has no {key} {wanted}.")
        return self._part_page(document.uid, number)

    def _document(self, name: str) -> ShelvedDocument | None:
        wanted = name.strip().lower()
        for document in self.documents():
            if wanted in (document.name.lower(), label(document.name).lower()):
                return document
        return None

    def _offline(self) -> str:
        return f"This app is offline: it cannot search or open the web. {self._listing()}"

    def _listing(self) -> str:
        names = ", ".join(f"`{label(d.name)}`" for d in self.documents()[:NAMED_SOURCES]) or "none"
        return f"Search or open the person's documents instead: {names}."

    def _sections(self, uid: str) -> list[Section]:
        parts = self._parts.get(uid)
        if parts is None:
            parts = self._parts[uid] = sections(self.shelf.outline(uid))
        return parts

    def _section_number(self, link: Link) -> int:
        """The part a link leads to (a search result's: the one holding its chunk)."""
        if link.section is not None:
            return link.section
        part = section_of(self._sections(link.document_uid), link.ordinal or 0)
        if part is None:
            raise BrowserError("That passage is no longer in the documents.")
        return part.number

    def _part_page(self, uid: str, number: int) -> Page:
        """Part `number` of a document as a page (built once, kept)."""
        key = (uid, number)
        page = self._pages.get(key)
        if page is None:
            if len(self._pages) >= KEPT_PAGES:
                self._pages.pop(next(iter(self._pages)))
            page = self._pages[key] = self._build(uid, number)
        return page

    def _build(self, uid: str, number: int) -> Page:
        document = next((d for d in self.documents() if d.uid == uid), None)
        parts = self._sections(uid)
        if document is None or not 0 <= number < len(parts):
            raise BrowserError("That document is no longer attached to the conversation.")
        part = parts[number]
        # A part that goes on where the one before stopped (the same page or file) starts with the previous
        # chunk's overlap: read that chunk too, and begin at the line where this part's first chunk starts.
        follows = number > 0 and parts[number - 1].page == part.page
        chunks = self.shelf.chunks(uid, part.first - 1 if follows else part.first, part.last)
        text = section_text(chunks)
        skip = _lines_shown_before(text, chunks[0]) if follows and chunks else 0
        builder = PageBuilder()
        starts: list[int] = [0] * skip
        for line in text.lines[skip:]:
            starts.append(len(builder.lines))
            origin = Origin(uid, document.name, part.page, line.line)
            for piece in defuse(line.text).split("\n"):
                builder.add(piece, origin)
        chunk_lines = {ordinal: starts[at] for ordinal, at in text.chunk_starts.items() if ordinal >= part.first}
        name = label(document.name)
        links: dict[int, Link] = {}
        if len(parts) > 1:
            steps = [("previous", number - 1), ("next", number + 1)]
            shown = [(word, n) for word, n in steps if 0 <= n < len(parts)]
            for link_id, (_word, n) in enumerate(shown):
                links[link_id] = Link(uid, n)
            builder.add("")
            builder.add(" · ".join(f"{word}: 【{i}†{_part_name(parts, n)}】" for i, (word, n) in enumerate(shown)))
        if part.page is not None:
            last_page = max(p.page or 0 for p in parts)
            title, url = f"{name}, page {part.page} of {last_page}", f"{name}#page={part.page}"
        elif len(parts) > 1:
            title, url = f"{name}, part {number + 1} of {len(parts)}", f"{name}#part={number + 1}"
        else:
            title, url = name, name
        if not builder.lines:
            builder.add("(this part has no text)")
        return builder.page(url, title, links=links, part=(uid, number), chunk_lines=chunk_lines)


def _lines_shown_before(text: SectionText, previous: Chunk) -> int:
    """How many of `text`'s lines the part before showed already: those of its last chunk, `previous`
    (a line it showed only in part stays, whole)."""
    last = text.chunk_starts.get(previous.ordinal, 0) + previous.text.count("\n")
    if last < len(text.lines) and text.lines[last].text == previous.text.rsplit("\n", 1)[-1]:
        last += 1
    return min(last, len(text.lines))


def _part_name(parts: list[Section], number: int) -> str:
    part = parts[number]
    return f"page {part.page}" if part.page is not None else f"part {number + 1}"


def _arguments(text: str) -> _Arguments:
    """A call's JSON object (nothing at all: no arguments)."""
    if not text.strip():
        return _Arguments({})
    try:
        values = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise BrowserError("Invalid function arguments") from None
    if not isinstance(values, dict):
        raise BrowserError("Invalid function arguments")
    return _Arguments(values)


def _failed(call: ToolCall, message: str, started: float, as_json: bool = False) -> ToolResult:
    """A call answered with what went wrong (as JSON for arguments the reference cannot read either)."""
    text = json.dumps({"error": message}) if as_json else message
    summary = "Browser: " + label(message, 80)
    return ToolResult(call.recipient, summary, text, text, "error", time.monotonic() - started)
