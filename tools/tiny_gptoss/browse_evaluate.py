"""Measure the browsing fixture through the app: the real engine, index, browser, tool loop and citations.

``python -m tools.tiny_gptoss.browse_evaluate [--model tests/fixtures/gpt-oss-tiny-browse.gguf]`` asks the
held-out questions (worlds training never saw) as the window does with documents attached and a gpt-oss
model loaded (core/tools/browsing.py), and prints one JSON report: the share answered right with a
citation that resolves to the line holding the answer, and where the rest went wrong. No torch needed.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from gptoss_desktop.core.cancel import CancelFlag
from gptoss_desktop.core.documents.shelf import IndexShelf
from gptoss_desktop.core.events import AnswerDelta, Citation, Done, ToolCall, ToolResult
from gptoss_desktop.core.harmony import Conversation, Effort, Message
from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.sampling import SamplingParams
from gptoss_desktop.core.tools.browsing import browse_documents
from tools.tiny_gptoss.browse_data import Library, World, held_out_worlds, with_hostile_text

DEFAULT_MODEL = Path("tests/fixtures/gpt-oss-tiny-browse.gguf")


@dataclass(frozen=True)
class Turn:
    """What one question came to: the calls, the pages' summaries, the answer and its citations."""

    calls: tuple[tuple[str, str], ...]
    summaries: tuple[str, ...]
    answer: str
    citations: tuple[Citation, ...]
    stop_reason: str

    def verdict(self, world: World) -> str:
        """`right` (searched, opened, the access code in the answer, a citation resolving to its line), or what
        went wrong first."""
        recipients = [recipient for recipient, _ in self.calls]
        if "browser.search" not in recipients:
            return "no search"
        if "browser.open" not in recipients:
            return "no open"
        if self.stop_reason != "return":
            return f"ended: {self.stop_reason}"
        if str(world.code) not in self.answer:
            return "wrong code"
        if any(str(other.code) in self.answer for other in world.documents if other.code != world.code):
            return "other codes too"
        if not self.citations:
            return "no citation"
        asked = world.documents[world.asked]
        if not any(c.verified and c.document_name == asked.name and asked.fact in c.quote for c in self.citations):
            return "citation misses the line"
        return "right"


def ask(engine: LocalEngine, library: Library, world: World, effort: Effort, sampling: SamplingParams) -> Turn:
    """One question with the world's documents attached, answered the way the app answers it with gpt-oss."""
    shelf = IndexShelf(library.store.document_index, library.conversation(world))
    conversation = Conversation((Message("user", world.question),), effort=effort)
    events = list(browse_documents(engine, conversation, shelf, sampling, CancelFlag()))
    done = events[-1]
    assert isinstance(done, Done), done
    return Turn(
        calls=tuple((e.recipient, e.arguments) for e in events if isinstance(e, ToolCall)),
        summaries=tuple(e.summary for e in events if isinstance(e, ToolResult)),
        answer="".join(e.text for e in events if isinstance(e, AnswerDelta)),
        citations=done.citations,
        stop_reason=done.stop_reason,
    )


def measure(model: Path, worlds: list[World], sampling: SamplingParams) -> dict[str, object]:
    """Verdicts over `worlds`, efforts taken in turn."""
    efforts: tuple[Effort, ...] = ("low", "medium", "high")
    engine = LocalEngine(model)
    verdicts: Counter[str] = Counter()
    wrong: list[dict[str, object]] = []
    started = time.monotonic()
    with Library() as library:
        for index, world in enumerate(worlds):
            turn = ask(engine, library, world, efforts[index % 3], sampling)
            verdict = turn.verdict(world)
            verdicts[verdict] += 1
            if verdict != "right" and len(wrong) < 10:
                wrong.append({"question": world.question, "code": world.code, "verdict": verdict,
                              "calls": turn.calls, "answer": turn.answer})  # fmt: skip
    engine.close()
    return {
        "questions": len(worlds),
        "right_with_citation": verdicts["right"] / len(worlds),
        "verdicts": dict(verdicts.most_common()),
        "seconds": round(time.monotonic() - started, 1),
        "wrong_examples": wrong,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Measure the browsing tiny gpt-oss through the app.")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--count", type=int, default=100, help="held-out questions")
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--hostile", action="store_true", help="every line of browse_data.HOSTILE right after the asked fact"
    )
    args = parser.parse_args()
    sampling = SamplingParams(temperature=args.temperature, seed=args.seed, max_tokens=200)
    worlds = held_out_worlds(args.count)
    if args.hostile:
        worlds = [with_hostile_text(world) for world in worlds]
    report = measure(args.model, worlds, sampling)
    summary = {"model": str(args.model), "temperature": args.temperature, "hostile": args.hostile}
    print(json.dumps({**summary, **report}, indent=2))


if __name__ == "__main__":
    main()
