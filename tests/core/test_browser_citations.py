"""Citations of what the model read with the browser: parsed from the answer, resolved to the documents' lines."""

from __future__ import annotations

import json
from pathlib import Path

from gptoss_desktop.core.cancel import CancelFlag
from gptoss_desktop.core.documents.answer import DocumentsUsed
from gptoss_desktop.core.documents.ingest import ingest
from gptoss_desktop.core.documents.shelf import IndexShelf
from gptoss_desktop.core.engine import ChatRequest
from gptoss_desktop.core.events import (
    AnswerDelta,
    Done,
    EngineEvent,
    MessageEnded,
    ReasoningDelta,
    Stats,
    ToolCall,
    ToolResult,
)
from gptoss_desktop.core.harmony import PYTHON, Conversation, Message
from gptoss_desktop.core.history.store import Store
from gptoss_desktop.core.tools.browser import Browser
from gptoss_desktop.core.tools.browsing import BROWSE_INSTRUCTIONS, browse_documents, browsing_toolbox
from gptoss_desktop.core.tools.citations import citation_marks
from gptoss_desktop.core.tools.loop import Toolbox, run_turn
from tests.core.test_browser_tool import LEASE_PAGES, browser, call, store  # noqa: F401 (fixtures)
from tests.core.test_tool_loop import ContinuingEngine, ScriptedEngine
from tests.fixtures.documents import write_pdf


def calls_browser(function: str, arguments: dict[str, object]) -> list[EngineEvent]:
    text = json.dumps(arguments)
    return [
        ReasoningDelta("Look in the documents. "),
        MessageEnded("analysis", None, "Look in the documents. "),
        MessageEnded("analysis", f"browser.{function}", text, "json"),
        ToolCall(f"browser.{function}", "analysis", "json", text, declared=True),
        Done("call", Stats(prompt_tokens=50, completion_tokens=12, context_size=4096)),
    ]


def answers(text: str) -> list[EngineEvent]:
    return [AnswerDelta(text), Done("return", Stats(prompt_tokens=300, completion_tokens=20, context_size=4096))]


def test_marks_are_read_in_both_forms_and_nothing_else() -> None:
    text = "Rent 【4†L9-L11】, notice 【6†L3】, dash 【2†L1–L2】; not 【4†Title†site】 nor [4] nor 【x†L1】."
    marks = [(m.cursor, m.first_line, m.last_line, text[m.start : m.end]) for m in citation_marks(text)]
    assert marks == [(4, 9, 11, "【4†L9-L11】"), (6, 3, 3, "【6†L3】"), (2, 1, 2, "【2†L1–L2】")]


def test_a_citation_resolves_to_the_pdf_page_and_lines_the_model_was_shown(browser: Browser) -> None:  # noqa: F811
    call(browser, "search", query="notice in writing")
    call(browser, "open", id="lease.pdf#page=3")
    page = browser.stack[1].page
    line = next(n for n, text in enumerate(page.lines) if "30 days' notice" in text)
    answer = f"Thirty days, in writing 【1†L{line}-L{line + 1}】."
    (citation,) = browser.cite(answer)
    assert answer[citation.start : citation.end] == f"【1†L{line}-L{line + 1}】"
    assert citation.verified and (citation.document_name, citation.page) == ("lease.pdf", 3)
    assert "Either side may end the lease with 30 days' notice in writing." in citation.quote


def test_a_text_file_citation_names_the_files_own_lines(browser: Browser) -> None:  # noqa: F811
    call(browser, "open", id="notes.txt", num_lines=20)
    (citation,) = browser.cite("Serviced on day 12 【0†L12】.")
    assert (citation.document_name, citation.page, citation.file_lines) == ("notes.txt", None, (13, 13))
    assert citation.quote == "Note 12: the boiler was serviced on day 12 of the year, by the usual firm."


def test_citations_pointing_at_nothing_shown_are_unverified(browser: Browser) -> None:  # noqa: F811
    call(browser, "open", id="notes.txt", num_lines=20)
    call(browser, "search", query="boiler")
    cited = browser.cite(
        "No such page 【7†L1】, not shown 【0†L150】, past the end 【0†L5-L99999】, a header 【1†L0】."
    )
    assert [c.verified for c in cited] == [False, False, False, False]
    assert all(c.document_uid is None for c in cited)


def test_a_turn_that_browses_ends_with_its_citations_in_done(store: Store, tmp_path: Path) -> None:  # noqa: F811
    conversation_id = store.create_conversation("lease")
    ingest(store.document_index, conversation_id, write_pdf(tmp_path / "lease.pdf", LEASE_PAGES))
    engine = ContinuingEngine(
        [
            calls_browser("search", {"query": "rent due"}),
            calls_browser("open", {"id": 0}),
            answers("It is due on the first day of each month 【1†L2】; see also 【5†L1】."),
        ]
    )
    question = Conversation((Message("user", "When is the rent due?"),), date="2026-12-04")
    events = list(browse_documents(engine, question, IndexShelf(store.document_index, conversation_id)))
    assert events[0] == DocumentsUsed("browse", 3)
    results = [e for e in events if isinstance(e, ToolResult)]
    assert [r.summary for r in results] == [
        "Searched 'rent due' · 1 result",
        "Opened lease.pdf, page 2 of 3 · lines 0-4",
    ]
    assert [m.name for m in engine.results] == ["browser.search", "browser.open"]  # what the model read back
    assert engine.results[1].content.startswith("[1] lease.pdf, page 2 of 3 (lease.pdf#page=2)\n**viewing lines")
    done = events[-1]
    assert isinstance(done, Done) and done.stop_reason == "return" and done.stats.tool_calls == 2
    assert [(c.verified, c.document_name, c.page, c.quote) for c in done.citations] == [
        (True, "lease.pdf", 2, "It is due on the first day of each month."),
        (False, None, None, ""),
    ]
    declared = engine.requests[0].conversation
    assert [t.name for t in declared.tools] == ["browser"]
    assert declared.tools[0].description.endswith("\nsources=lease.pdf (default: all)")  # type: ignore[union-attr]
    assert declared.instructions == BROWSE_INSTRUCTIONS
    assert "Rent" not in str(declared.messages)  # nothing of the document is in the prompt up front


def test_a_turn_without_a_citing_tool_has_no_citations() -> None:
    engine = ScriptedEngine([answers("Hello 【0†L1】.")])
    request = ChatRequest(Conversation((Message("user", "Hi"),), date="2026-12-04"))
    done = list(run_turn(engine, request, Toolbox(), CancelFlag()))[-1]
    assert isinstance(done, Done) and done.stop_reason == "return" and done.citations == ()


def test_the_browser_joins_the_other_tools_of_the_turn(browser: Browser) -> None:  # noqa: F811
    python = Toolbox(declarations=(PYTHON,), tools={"python": browser}, ask=frozenset({"python"}), step_limit=3)
    toolbox = browsing_toolbox(browser, python)
    assert [d.name for d in toolbox.declarations] == ["browser", "python"]
    assert set(toolbox.tools) == {"browser", "python"} and toolbox.tools["browser"] is browser
    assert (toolbox.ask, toolbox.step_limit) == (frozenset({"python"}), 3)
