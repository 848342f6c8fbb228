"""The browser tool at scale: each call's own time over 50,000 indexed passages, and what a page costs the context.

    python bench/browse.py [--turns N]      (from the repo root, in the project's environment)

The documents are bench/retrieval.py's seeded pseudo-prose (400 pages each) until 50,000 chunks are
indexed in one conversation of a real SQLite database, through Store.document_index as the app does:
every other document a PDF (a part per page), the others one long text file with lines (parts of
about 20,000 characters). Each of N turns (a fresh Browser, so every part it opens is built from
the index, never from an earlier turn) makes the calls a model makes: `search` with a question drawn
from one chunk, `open` of its first result, `find` of a word of the opened page, `open` scrolled
further down (`loc`), and `open` of a document by its name at another page. Measured:
- per call, the tool's own time (`Browser.run`: index search, building the part, rendering the view),
  p50 / p95 / max; target p95 <= 50 ms;
- per kind of page, the tokens its view costs the context: the view (what the model reads) counted
  with gpt-oss's o200k encoding (openai-harmony offline, tests/fixtures/harmony_reference.py), plus
  the ~10 tokens of the tool message's header; and what the browser's declaration adds to the system
  message.
The last line reads `browse passages=50000 p95_ms=P search_p95_ms=S open_p95_ms=O find_p95_ms=F view_tokens_p50=T`.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from retrieval import CHUNKS, PAGES_PER_DOCUMENT, SEED, page, percentile, question, vocabulary

from gptoss_desktop.core.cancel import CancelFlag
from gptoss_desktop.core.documents.chunking import chunk_document
from gptoss_desktop.core.documents.shelf import IndexShelf
from gptoss_desktop.core.documents.types import Chunk, ExtractedDocument, TextSpan
from gptoss_desktop.core.events import ToolCall, ToolResult
from gptoss_desktop.core.harmony import BROWSER, Conversation, Message, render_text
from gptoss_desktop.core.history.store import Store
from gptoss_desktop.core.tools.browser import Browser

KINDS = ("search", "open", "find", "scroll", "open by name")


def documents(rng: random.Random) -> list[tuple[ExtractedDocument, list[Chunk]]]:
    """Documents until CHUNKS chunks: PDFs (a span per page) and text files (one span with lines), alternately."""
    words = vocabulary(rng)
    cumulative = list(accumulate(1 / (rank + 1) ** 1.05 for rank in range(len(words))))
    made: list[tuple[ExtractedDocument, list[Chunk]]] = []
    while sum(len(chunks) for _, chunks in made) < CHUNKS:
        pages = [page(rng, words, cumulative) for _ in range(PAGES_PER_DOCUMENT)]
        number = len(made) + 1
        if number % 2:
            spans = tuple(TextSpan(text, page=n) for n, text in enumerate(pages, start=1))
            document = ExtractedDocument(f"report-{number}.pdf", "pdf", spans)
        else:
            document = ExtractedDocument(f"notes-{number}.txt", "text", (TextSpan("\n\n".join(pages), line=1),))
        made.append((document, chunk_document(document)))
    excess = sum(len(chunks) for _, chunks in made) - CHUNKS
    made[-1] = (made[-1][0], made[-1][1][: len(made[-1][1]) - excess])
    return made


def timed(browser: Browser, function: str, arguments: dict[str, object]) -> tuple[ToolResult, float]:
    call = ToolCall(f"browser.{function}", "analysis", "json", json.dumps(arguments), True)
    started = time.perf_counter()
    result = browser.run(call, CancelFlag())
    return result, (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=100, help="turns of five calls (default 100)")
    args = parser.parse_args()
    from tests.fixtures.harmony_reference import harmony_encoding

    encoding = harmony_encoding()
    rng = random.Random(SEED)
    made = documents(rng)
    common = set(vocabulary(random.Random(SEED))[:20])
    all_chunks = [(document.name, chunk) for document, chunks in made for chunk in chunks]
    with tempfile.TemporaryDirectory() as home:
        store = Store(Path(home) / "chats.db")
        conversation = store.create_conversation("big documents")
        for document, chunks in made:
            store.document_index.fill(
                store.document_index.add(conversation, document.name, document.kind, 0, ""), chunks
            )
        shelf = IndexShelf(store.document_index, conversation)
        declared = Browser(shelf).declaration()
        ask = (Message("user", "Hello"),)

        def prompt_tokens(conversation: Conversation) -> int:
            return len(encoding.encode(render_text(conversation), allowed_special="all"))

        declaration_tokens = prompt_tokens(Conversation(ask, tools=(declared,))) - prompt_tokens(Conversation(ask))
        reference_tokens = prompt_tokens(Conversation(ask, tools=(BROWSER,))) - prompt_tokens(Conversation(ask))
        for _ in range(5):  # warm SQLite's page cache, as a session that has searched once
            Browser(shelf).run(ToolCall("browser.search", "analysis", "json", '{"query": "warm"}', True), CancelFlag())
        times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        tokens: dict[str, list[float]] = {kind: [] for kind in KINDS}
        failures: list[str] = []

        def record(kind: str, result: ToolResult, ms: float) -> None:
            times[kind].append(ms)
            tokens[kind].append(len(encoding.encode(result.model_text, disallowed_special=())) + 10)
            if result.status != "done":
                failures.append(f"{kind}: {result.model_text[:120]}")

        for _ in range(args.turns):
            browser = Browser(shelf)
            _name, chunk = rng.choice(all_chunks)
            record("search", *timed(browser, "search", {"query": question(rng, chunk, common)}))
            record("open", *timed(browser, "open", {"id": 0}))
            words = [
                w.strip(".?!,")
                for w in browser.stack[-1].page.lines[rng.randrange(len(browser.stack[-1].page.lines))].split()
            ]
            record(
                "find", *timed(browser, "find", {"pattern": rng.choice([w for w in words if w] or ["ka"]), "cursor": 1})
            )
            opened = browser.stack[1]
            loc = min(opened.end, len(opened.page.lines) - 1)
            record("scroll", *timed(browser, "open", {"cursor": 1, "loc": loc}))
            document, chunks = rng.choice(made)
            fragment = f"#page={rng.randint(1, chunks[-1].page or 1)}" if document.kind == "pdf" else "#part=2"
            record("open by name", *timed(browser, "open", {"id": document.name + fragment}))
        store.close()

    every = [ms for kind in KINDS for ms in times[kind]]
    print(f"{CHUNKS} passages in {len(made)} documents (PDFs by page, text files in parts); {args.turns} turns")
    print(f"{'call':<14}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}{'tokens p50':>12}{'p95':>6}{'max':>6}")
    for kind in KINDS:
        t, n = times[kind], tokens[kind]
        print(
            f"{kind:<14}{statistics.median(t):>8.1f}{percentile(t, 0.95):>8.1f}{max(t):>8.1f}"
            f"{statistics.median(n):>12.0f}{percentile(n, 0.95):>6.0f}{max(n):>6}"
        )
    print(f"all calls: p95 {percentile(every, 0.95):.1f} ms (target <= 50 ms)")
    print(
        f"the declaration adds {declaration_tokens} tokens to the system message "
        f"({reference_tokens} with the reference's `sources=web`)"
    )
    if failures:
        print(f"{len(failures)} calls answered with an error, e.g. {failures[0]}")
    print(
        f"browse passages={CHUNKS} p95_ms={percentile(every, 0.95):.1f} "
        f"search_p95_ms={percentile(times['search'], 0.95):.1f} open_p95_ms={percentile(times['open'], 0.95):.1f} "
        f"find_p95_ms={percentile(times['find'], 0.95):.1f} view_tokens_p50={statistics.median(tokens['open']):.0f}"
    )


if __name__ == "__main__":
    main()
