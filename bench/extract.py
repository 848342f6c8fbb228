"""Indexing throughput, part 1: extraction. Pages per second from a PDF, MB per second from plain text.

    python bench/extract.py [--pages 200] [--text-mb 20] [--rounds 3]      (from the repo root, in .venv)

Inputs are generated in a temporary folder: a PDF of dense pages (45 lines, about 3,000
characters each) printed by Qt's PDF writer, as an app prints one (embedded subset font,
a ToUnicode map, one glyph per text operator: the heavy case for PDFium), the same pages
written as simple producers do (one Helvetica line per operator), and a UTF-8 text file of
prose lines, also saved as Windows-1252 (whose encoding is guessed). Each is extracted with
`extract()` a few rounds and the best round counts. The last line reads
`extract pdf_pages_per_s=P text_mb_per_s=T` (the Qt PDF and the UTF-8 text).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WORDS = (
    "tenant", "landlord", "notice", "rent", "deposit", "clause", "period", "payment", "month", "party", "agreement",
    "premises", "repair", "insurance", "liability", "termination", "renewal", "schedule", "inventory", "utilities",
    "café", "naïve", "façade",
)  # fmt: skip


def prose_lines(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choices(WORDS, k=9)).capitalize() + "." for _ in range(count)]


def page_texts(pages: int) -> list[str]:
    return [f"Page {n}\n" + "\n".join(prose_lines(44, n)) for n in range(1, pages + 1)]


def write_text(path: Path, megabytes: int, encoding: str) -> None:
    lines = prose_lines(20_000, 0)
    block = ("\n".join(lines) + "\n").encode(encoding)
    with path.open("wb") as file:
        for _ in range(max(1, megabytes * 1_000_000 // len(block))):
            file.write(block)


def best_seconds(rounds: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--text-mb", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from PySide6.QtGui import QGuiApplication

    from gptoss_desktop.core.documents.extract import extract
    from tests.fixtures.documents import write_pdf, write_qt_pdf

    app = QGuiApplication([])  # noqa: F841 - Qt's PDF writer needs fonts, which need the application
    with tempfile.TemporaryDirectory(prefix="gptoss-bench-") as tmp:
        work = Path(tmp)
        pages = page_texts(args.pages)
        qt_pdf = write_qt_pdf(work / "printed.pdf", pages)
        simple_pdf = write_pdf(work / "simple.pdf", pages)
        utf8, cp1252 = work / "notes.txt", work / "notes-1252.txt"
        write_text(utf8, args.text_mb, "utf-8")
        write_text(cp1252, args.text_mb, "cp1252")

        results = {}
        for label, path in (("pdf from Qt", qt_pdf), ("pdf, simple", simple_pdf)):
            assert len(extract(path).spans) == args.pages
            seconds = best_seconds(args.rounds, lambda path=path: extract(path))
            results[label] = args.pages / seconds
            size = path.stat().st_size / 1e6
            print(f"{label:12} {args.pages} pages, {size:.1f} MB: {seconds:.2f} s, {results[label]:.0f} pages/s")
        for label, path in (("text, UTF-8", utf8), ("text, 1252", cp1252)):
            size = path.stat().st_size / 1e6
            seconds = best_seconds(args.rounds, lambda path=path: extract(path))
            results[label] = size / seconds
            print(f"{label:12} {size:.1f} MB: {seconds:.2f} s, {results[label]:.0f} MB/s")
    print(f"extract pdf_pages_per_s={results['pdf from Qt']:.0f} text_mb_per_s={results['text, UTF-8']:.0f}")


if __name__ == "__main__":
    main()
