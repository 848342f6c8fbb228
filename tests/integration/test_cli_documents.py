"""`gptoss-desktop chat --doc FILE`: real files, a real process, real llama.cpp and SQLite."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from pathlib import Path

from gptoss_desktop.cli.chat import _JsonPrinter, _TextPrinter
from gptoss_desktop.cli.documents import SemanticReady, document_events
from gptoss_desktop.core.cancel import CancelFlag
from gptoss_desktop.core.documents.answer import DocumentsUsed, SourcesCited
from gptoss_desktop.core.documents.prompting import Source
from gptoss_desktop.core.events import Done, Stats
from gptoss_desktop.core.harmony import Conversation, Message
from gptoss_desktop.core.sampling import SamplingParams
from tests.core.test_document_semantic import LEASE as LEASE_CLAUSES
from tests.core.test_document_semantic import QUESTION
from tests.services.test_semantic_answers import FILLER, CitingEngine

from .test_cli import cli

LEASE = """# Lease

## Rent
The rent is 900 euros, due on the first day of each month.

## Notice
Either side may end the lease with 30 days' notice in writing.
"""


def events_of(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def ask(model: Path, question: str, *files: Path) -> tuple[int, list[dict[str, object]], str]:
    args = ["chat", "--model", str(model), "--json", "--temperature", "0", "--max-tokens", "24"]
    for file in files:
        args += ["--doc", str(file)]
    result = cli(*args, question)
    return result.returncode, events_of(result.stdout), result.stderr


def test_documents_are_read_and_the_answer_says_how(trained_model: Path, tmp_path: Path) -> None:
    lease = tmp_path / "lease.md"
    lease.write_text(LEASE)
    notes = tmp_path / "notes.txt"
    notes.write_text("Keys are returned to the agency.\n")
    status, events, stderr = ask(trained_model, "When is rent due?", lease, notes)
    assert status == 0, stderr
    assert events[:3] == [
        {"type": "document", "file": "lease.md", "chunks": 3},  # one per section
        {"type": "document", "file": "notes.txt", "chunks": 1},
        {
            "type": "documents",
            "strategy": "whole",
            "passages": 4,
            "text": "Answered from the whole of the documents.",
        },
    ]
    assert events[-1]["type"] == "done"
    assert {e["type"] for e in events[3:-1]} <= {"reasoning", "answer"}


def test_a_bad_file_is_reported_and_the_others_still_answer(trained_model: Path, tmp_path: Path) -> None:
    good = tmp_path / "lease.md"
    good.write_text(LEASE)
    binary = tmp_path / "photo.txt"
    binary.write_bytes(bytes(range(256)) * 64)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    missing = tmp_path / "gone.pdf"
    status, events, stderr = ask(trained_model, "When is rent due?", binary, good, empty, missing)
    problems = [e for e in events if e["type"] == "document_error"]
    assert [e["file"] for e in problems] == ["photo.txt", "empty.txt", "gone.pdf"]
    assert all(str(e["text"]) in stderr for e in problems)
    assert [e["file"] for e in events if e["type"] == "document"] == ["lease.md"]
    assert events[-1]["type"] == "done"  # answered from the file that could be read
    assert status == 1  # but not everything asked for was used


def test_when_no_document_can_be_read_nothing_is_answered(trained_model: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n")
    status, events, _stderr = ask(trained_model, "When is rent due?", empty)
    assert status == 1
    assert events[-1] == {
        "type": "error",
        "text": "None of the documents could be read, so there is nothing to answer from.",
    }
    assert not any(e["type"] == "answer" for e in events)


SOURCE = Source(1, "doc-uid", "lease.pdf", 4, "page 2", "The rent is 900 euros, due on the first day")


def test_the_done_event_lists_the_sources_cited() -> None:
    out = io.StringIO()
    printer = _JsonPrinter(out)
    printer.show(DocumentsUsed("retrieve", 8))
    printer.show(SourcesCited((SOURCE,)))
    printer.show(Done("return", Stats(10, 10, 5, 0, 0.1, 0.2)))
    done = events_of(out.getvalue())[-1]
    assert done["sources"] == [
        {
            "number": 1,
            "document_uid": "doc-uid",
            "document_name": "lease.pdf",
            "chunk_ordinal": 4,
            "anchor": "page 2",
            "snippet": "The rent is 900 euros, due on the first day",
        }
    ]


def test_the_text_output_lists_the_sources_after_the_answer() -> None:
    out = io.StringIO()
    printer = _TextPrinter(out, color=False)
    printer.show(SourcesCited((SOURCE,)))
    printer.show(Done("return", Stats(10, 10, 5, 0, 0.1, 0.2)))
    assert "[sources]\n[1] lease.pdf, page 2: The rent is 900 euros, due on the first day\n" in out.getvalue()


def test_pdfs_headless_a_locked_one_and_a_scan_say_why(trained_model: Path, tmp_path: Path) -> None:
    from tests.fixtures.documents import write_encrypted_pdf, write_image_pdf, write_pdf

    lease = write_pdf(tmp_path / "lease.pdf", ["Parties.", "The rent is 900 euros a month."])
    locked = write_encrypted_pdf(tmp_path / "locked.pdf", ["secret"])
    scan = write_image_pdf(tmp_path / "scan.pdf")
    status, events, _stderr = ask(trained_model, "How much is the rent?", lease, locked, scan)
    problems = {str(e["file"]): str(e["text"]) for e in events if e["type"] == "document_error"}
    assert "password-protected" in problems["locked.pdf"]
    assert "no text layer" in problems["scan.pdf"]
    assert [e["file"] for e in events if e["type"] == "document"] == ["lease.pdf"]
    assert events[-1]["type"] == "done" and status == 1


def test_headless_a_zip_bomb_and_a_huge_file_are_refused_and_invalid_utf8_is_read(
    trained_model: Path, tmp_path: Path
) -> None:
    from tests.fixtures.documents import write_zip_bomb

    bomb = write_zip_bomb(tmp_path / "bomb.docx")
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as file:
        file.truncate(512_000_000)  # sparse: refused by its size before a byte is read
    mixed = tmp_path / "mixed.txt"
    mixed.write_bytes("Total: 12 €\n".encode() + b"broken \xff\xfe bytes\nThe rent is 900 euros.\n")
    status, events, _stderr = ask(trained_model, "How much is the rent?", bomb, huge, mixed)
    problems = {str(e["file"]): str(e["text"]) for e in events if e["type"] == "document_error"}
    assert problems["bomb.docx"].startswith("bomb.docx looks like a zip bomb")
    assert problems["huge.txt"] == "huge.txt is 512 MB; the limit is 200 MB"
    assert [e["file"] for e in events if e["type"] == "document"] == ["mixed.txt"]
    assert events[-1]["type"] == "done" and status == 1


def lease_with_filler(path: Path) -> Path:
    """A Markdown lease whose clauses and 120 unrelated notes are each a section: too long to go in
    whole, so the best passages are quoted."""
    sections = [*LEASE_CLAUSES, *FILLER]
    path.write_text("".join(f"## Part {n}\n{text}\n\n" for n, text in enumerate(sections, start=1)))
    return path


def first_cited(events: Iterable[object]) -> Source:
    cited = [event.sources for event in events if isinstance(event, SourcesCited)]
    assert len(cited) == 1 and cited[0], "the answer lists the passage it cites"
    return cited[0][0]


def test_with_an_embedding_model_the_clause_worded_otherwise_is_found(
    tiny_model: Path, minilm_model: Path, tmp_path: Path
) -> None:
    lease = lease_with_filler(tmp_path / "lease.md")
    engine = CitingEngine(tiny_model)
    try:

        def answer(embedding_model: str | None) -> list[object]:
            conversation = Conversation((Message("user", QUESTION),))
            sampling = SamplingParams(seed=1, max_tokens=4)
            return list(document_events([str(lease)], engine, conversation, sampling, CancelFlag(), embedding_model))

        by_words = answer(None)
        by_meaning = answer(str(minilm_model))
    finally:
        engine.close()
    assert [e.strategy for e in by_words + by_meaning if isinstance(e, DocumentsUsed)] == ["retrieve", "retrieve"]
    assert LEASE_CLAUSES[0] in first_cited(by_words).snippet  # shares "end" and "lease" with the question
    assert SemanticReady("all-MiniLM-L6-v2", len(LEASE_CLAUSES) + len(FILLER)) in by_meaning
    assert LEASE_CLAUSES[1] in first_cited(by_meaning).snippet  # "terminate this tenancy … notice"


def test_headless_semantic_search_is_reported_and_a_chat_model_is_refused_as_embedding_model(
    tiny_model: Path, minilm_model: Path, trained_model: Path, tmp_path: Path
) -> None:
    lease = lease_with_filler(tmp_path / "lease.md")
    base = ["chat", "--model", str(tiny_model), "--json", "--seed", "1", "--max-tokens", "4", "--doc", str(lease)]
    used = cli(*base, "--embedding-model", str(minilm_model), QUESTION)
    assert used.returncode == 0, used.stderr
    events = events_of(used.stdout)
    assert {"type": "semantic", "model": "all-MiniLM-L6-v2", "passages": 126} in events
    assert "searched by meaning too" not in used.stderr  # JSON mode: the event says it

    refused = cli(*base, "--embedding-model", str(trained_model), QUESTION)
    assert refused.returncode == 1  # like a bad --doc: the answer comes, the exit code says not all went well
    events = events_of(refused.stdout)
    problems = [e for e in events if e["type"] == "semantic_error"]
    assert len(problems) == 1 and "not an embedding model" in str(problems[0]["text"])
    assert events[-1]["type"] == "done"  # answered by words

    alone = cli("chat", "--model", str(tiny_model), "--embedding-model", str(minilm_model), "hi")
    assert alone.returncode == 1 and "--doc" in alone.stderr
