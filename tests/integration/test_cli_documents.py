"""`gptoss-desktop chat --doc FILE`: real files, a real process, real llama.cpp and SQLite."""

from __future__ import annotations

import io
import json
from pathlib import Path

from gptoss_desktop.cli_chat import _JsonPrinter, _TextPrinter
from gptoss_desktop.core.documents.answer import DocumentsUsed, SourcesCited
from gptoss_desktop.core.documents.prompting import Source
from gptoss_desktop.core.events import Done, Stats

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
