"""Chunking: every word kept, a chunk on one page, its lines right, consecutive chunks overlapping."""

from __future__ import annotations

import random
import string
import time

import pytest

from gptoss_desktop.core.documents.chunking import chunk_document
from gptoss_desktop.core.documents.types import Chunk, ExtractedDocument, TextSpan

TARGET, OVERLAP = 300, 60


def prose(sentences: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    words = ("tenant", "landlord", "notice", "rent", "deposit", "clause", "period", "payment", "month", "party")
    text = [" ".join(rng.choices(words, k=rng.randint(5, 14))).capitalize() + "." for _ in range(sentences)]
    return " ".join(text[:10]) + "\n\n" + " ".join(text[10:])


def numbered_lines(first: int, count: int) -> str:
    return "\n".join(f"row {n}: value = compute(row, {n * 7})" for n in range(first, first + count))


def base64ish(length: int) -> str:
    rng = random.Random(3)
    return "".join(rng.choices(string.ascii_letters + string.digits + "+/", k=length))


def where(source: str, chunks: list[Chunk]) -> list[int]:
    """Each chunk's offset in `source`, checking they come in order and leave out nothing but whitespace."""
    offsets: list[int] = []
    for chunk in chunks:
        offset = source.find(chunk.text, offsets[-1] + 1 if offsets else 0)
        assert offset >= 0, f"chunk {chunk.ordinal} is not a piece of its span"
        gap_from = offsets[-1] + len(chunks[len(offsets) - 1].text) if offsets else 0
        assert source[gap_from:offset].strip() == "", f"text lost before chunk {chunk.ordinal}"
        offsets.append(offset)
    assert source[offsets[-1] + len(chunks[-1].text) :].strip() == "", "text lost after the last chunk"
    return offsets


CASES = {
    "a short page is one chunk": ((TextSpan("  The rent is due monthly.  ", page=3),), ["page 3"]),
    "pages are never joined": ((TextSpan("Page one.", page=1), TextSpan("Page two.", page=2)), ["page 1", "page 2"]),
    "a long page is cut, every piece on it": ((TextSpan(prose(40), page=7),), ["page 7"] * 13),
    "code lines are counted from the span's first line": (
        (TextSpan(numbered_lines(10, 40), line=10),),
        ["lines 10-17", "lines 17-24", "lines 24-31", "lines 31-38", "lines 38-45", "lines 45-49"],
    ),
    "a huge line without spaces is still cut": ((TextSpan(base64ish(1500), line=1),), ["line 1"] * 6),
    "blank spans make no chunk": ((TextSpan("   \n\n  ", page=1), TextSpan("", line=4)), []),
    "short sections under one heading are joined": (
        (TextSpan("First.", line=1, heading="Rent"), TextSpan("Second.\nMore.", line=3, heading="Rent")),
        ["lines 1-4"],
    ),
    "a new heading starts a new chunk": (
        (TextSpan("First.", line=1, heading="Rent"), TextSpan("Second.", line=3, heading="Deposit")),
        ["line 1", "line 3"],
    ),
    "leading blank lines do not shift the lines": ((TextSpan("\n\n  text\nmore", line=5),), ["lines 7-8"]),
}


@pytest.mark.parametrize(("spans", "anchors"), CASES.values(), ids=CASES.keys())
def test_chunks_keep_every_word_and_where_it_came_from(spans: tuple[TextSpan, ...], anchors: list[str]) -> None:
    chunks = chunk_document(ExtractedDocument("doc", "text", spans), TARGET, OVERLAP)
    assert [chunk.anchor for chunk in chunks] == anchors
    assert [chunk.ordinal for chunk in chunks] == list(range(len(chunks)))
    assert all(chunk.text.strip() == chunk.text != "" and len(chunk.text) <= TARGET for chunk in chunks)
    assert {chunk.page for chunk in chunks} <= {span.page for span in spans}
    if len(spans) == 1 and chunks:
        (span,) = spans
        offsets = where(span.text, chunks)
        for chunk, offset, following in zip(chunks, offsets, [*offsets[1:], None], strict=True):
            assert chunk.heading == span.heading
            if span.line is not None:
                assert chunk.line_start == span.line + span.text.count("\n", 0, offset)
                assert chunk.line_end == chunk.line_start + chunk.text.count("\n")
            if following is not None:
                assert following < offset + len(chunk.text), "consecutive chunks of a span overlap"


def test_cuts_fall_between_sentences_and_lines_and_overlap_starts_a_word() -> None:
    text = prose(40)
    chunks = chunk_document(ExtractedDocument("doc", "text", (TextSpan(text, page=1),)), TARGET, OVERLAP)
    assert all(chunk.text.endswith(".") for chunk in chunks)
    words = set(text.split())
    assert all(chunk.text.split()[0] in words for chunk in chunks)
    code = chunk_document(ExtractedDocument("a.py", "code", (TextSpan(numbered_lines(1, 40), line=1),)), TARGET)
    assert all(chunk.text.startswith("row ") and chunk.text.endswith(")") for chunk in code)
    assert all(chunk.text.startswith(f"row {chunk.line_start}:") for chunk in code)


def test_heading_and_page_ride_along_and_defaults_fit_a_prompt() -> None:
    spans = (TextSpan(prose(60), page=2, heading="Termination"),)
    chunks = chunk_document(ExtractedDocument("lease.pdf", "pdf", spans))
    assert len(chunks) > 1 and all((c.page, c.heading) == (2, "Termination") for c in chunks)
    assert all(600 <= len(c.text) <= 1200 for c in chunks[:-1])


def test_a_thousand_page_document_is_chunked_in_well_under_a_second() -> None:
    pages = tuple(TextSpan(prose(30, seed=n) * 2, page=n) for n in range(1, 1001))
    started = time.perf_counter()
    chunks = chunk_document(ExtractedDocument("big.pdf", "pdf", pages))
    assert time.perf_counter() - started < 1.0
    assert [c.page for c in chunks[:1]] == [1] and chunks[-1].page == 1000
