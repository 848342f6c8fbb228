"""Measure the tool-calling fixture through the app: the real engine, tool loop and sandbox.

``python -m tools.tiny_gptoss.tool_evaluate [--model tests/fixtures/gpt-oss-tiny-tools.gguf]`` asks the
held-out questions (expressions training never saw) as `gptoss-desktop chat --tools python --python run`
would, and prints one JSON report: the share answered right through a python call, and where the rest
went wrong. No torch needed.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from gptoss_desktop.core.cancel import CancelFlag
from gptoss_desktop.core.engine import ChatRequest
from gptoss_desktop.core.events import AnswerDelta, Done, ReasoningDelta, ToolCall, ToolResult
from gptoss_desktop.core.harmony import PYTHON, Conversation, Effort, Message
from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.sampling import SamplingParams
from gptoss_desktop.core.tools.loop import Toolbox, run_turn
from gptoss_desktop.core.tools.python_calls import PythonCalls
from gptoss_desktop.core.tools.python_tool import PythonSession
from tools.tiny_gptoss.tool_data import ToolQuestion, held_out_questions

DEFAULT_MODEL = Path("tests/fixtures/gpt-oss-tiny-tools.gguf")


@dataclass(frozen=True)
class Turn:
    """What one question came to: the reasoning, the calls' code, the sandbox's answers, the answer."""

    reasoning: str
    calls: tuple[str, ...]
    results: tuple[str, ...]
    answer: str
    stop_reason: str

    def verdict(self, question: ToolQuestion) -> str:
        """`right` (one call with the expression, its value as the answer), or what went wrong first."""
        if not self.calls:
            return "no call"
        if self.calls[0] != question.expression:
            return "call miscopied"
        if len(self.calls) > 1:
            return "called again"
        if self.results[0] != question.value:
            return "sandbox answered otherwise"
        if self.answer != question.value or self.stop_reason != "return":
            return "answer miscopied"
        return "right"


def ask(engine: LocalEngine, toolbox: Toolbox, text: str, effort: Effort, sampling: SamplingParams) -> Turn:
    """One turn of the app's tool loop with python declared and run."""
    conversation = Conversation((Message("user", text),), effort=effort, tools=(PYTHON,))
    events = list(run_turn(engine, ChatRequest(conversation, sampling), toolbox, CancelFlag()))
    done = events[-1]
    assert isinstance(done, Done)
    return Turn(
        reasoning="".join(e.text for e in events if isinstance(e, ReasoningDelta)),
        calls=tuple(e.arguments for e in events if isinstance(e, ToolCall)),
        results=tuple(e.model_text for e in events if isinstance(e, ToolResult)),
        answer="".join(e.text for e in events if isinstance(e, AnswerDelta)),
        stop_reason=done.stop_reason,
    )


def measure(model: Path, questions: list[ToolQuestion], sampling: SamplingParams) -> dict[str, object]:
    """Verdicts over `questions`, efforts taken in turn, one sandboxed session for all."""
    efforts: tuple[Effort, ...] = ("low", "medium", "high")
    engine = LocalEngine(model)
    verdicts: Counter[str] = Counter()
    wrong: list[dict[str, str]] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder, PythonSession(Path(folder)) as session:
        toolbox = Toolbox(declarations=(PYTHON,), tools={"python": PythonCalls(session)})
        for index, question in enumerate(questions):
            turn = ask(engine, toolbox, question.text, efforts[index % 3], sampling)
            verdict = turn.verdict(question)
            verdicts[verdict] += 1
            if verdict != "right" and len(wrong) < 10:
                wrong.append({"question": question.text, "verdict": verdict, "call": ";".join(turn.calls),
                              "answer": turn.answer})  # fmt: skip
    engine.close()
    return {
        "questions": len(questions),
        "right_via_python": verdicts["right"] / len(questions),
        "verdicts": dict(verdicts.most_common()),
        "seconds": round(time.monotonic() - started, 1),
        "wrong_examples": wrong,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Measure the tool-calling tiny gpt-oss through the app.")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--count", type=int, default=200, help="held-out questions")
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sampling = SamplingParams(temperature=args.temperature, seed=args.seed, max_tokens=200)
    report = measure(args.model, held_out_questions(args.count), sampling)
    print(json.dumps({"model": str(args.model), "temperature": args.temperature, **report}, indent=2))


if __name__ == "__main__":
    main()
