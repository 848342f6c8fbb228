"""Adding a 1000-page PDF to a conversation: pages per second end to end, and how much memory it takes.

    python bench/ingest_memory.py [--pages 1000]      (from the repo root, in the project's environment)

A text PDF of N pages (about 40 lines each, written by tests/fixtures/documents.write_pdf)
goes through `ingest` as the app adds a file: extraction page by page, chunking, and
indexing into a real SQLite database in a temporary folder. Measured: pages/s for the
whole ingest, and the process's peak resident memory before and after (Linux ru_maxrss),
against the size of the file and of its text: memory should grow with the text kept
(a few MB), not with the number of pages rendered.
The last line reads `ingest pages=N pages_per_s=P peak_growth_mb=G text_mb=T`.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gptoss_desktop.core.documents.ingest import ingest
from gptoss_desktop.core.history.store import Store
from tests.fixtures.documents import write_pdf


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    args = parser.parse_args()
    line = "Clause {n}.{i}: the parties agree that payments are due within thirty days of the invoice date."
    pages = ["\n".join(line.format(n=n, i=i) for i in range(40)) for n in range(args.pages)]
    text_mb = sum(len(page) for page in pages) / 1e6
    with tempfile.TemporaryDirectory(prefix="gptoss-bench-ingest-") as folder:
        pdf = write_pdf(Path(folder) / "contract.pdf", pages)
        del pages
        store = Store(Path(folder) / "history.db")
        conversation = store.create_conversation("bench")
        before = peak_mb()
        start = time.perf_counter()
        document = ingest(store.document_index, conversation, pdf)
        seconds = time.perf_counter() - start
        after = peak_mb()
        assert document is not None and document.status == "ready", document
        print(
            f"{args.pages} pages, {pdf.stat().st_size / 1e6:.1f} MB file, {text_mb:.1f} MB of text: "
            f"{seconds:.2f} s ({args.pages / seconds:.0f} pages/s), {document.chunk_count} chunks; "
            f"peak memory {before:.0f} MB before, {after:.0f} MB after"
        )
        store.close()
    print(
        f"ingest pages={args.pages} pages_per_s={args.pages / seconds:.0f} "
        f"peak_growth_mb={after - before:.0f} text_mb={text_mb:.1f}"
    )


if __name__ == "__main__":
    main()
