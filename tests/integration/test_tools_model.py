"""End to end, headless, with a tiny gpt-oss that really calls python (nothing scripted).

The model (tests/fixtures/gpt-oss-tiny-tools.gguf, see docs/tools-model.md) answers
arithmetic it cannot do by itself by calling python with the expression and answering with the value
the sandbox gives back. Here the real engine, the real tool loop and the real sandbox run it, as
`gptoss-desktop chat --tools python` does; at temperature 0 its answers are checkable.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gptoss_desktop.core.harmony import PYTHON
from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.sampling import SamplingParams
from gptoss_desktop.core.tools.loop import Toolbox
from gptoss_desktop.core.tools.python_calls import PythonCalls
from gptoss_desktop.core.tools.python_tool import PythonSession
from tools.tiny_gptoss.tool_data import held_out_questions
from tools.tiny_gptoss.tool_evaluate import ask

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux sandbox")

TOOLS_MODEL = Path(__file__).parents[1] / "fixtures" / "gpt-oss-tiny-tools.gguf"
GREEDY = SamplingParams(temperature=0.0, max_tokens=200)


def chat(home: Path, *args: str) -> tuple[int, list[dict[str, Any]], str]:
    """`gptoss-desktop chat --tools python --json` in a process of its own: exit code, events, stderr."""
    command = [sys.executable, "-m", "gptoss_desktop", "--home", str(home), "chat", "--model", str(TOOLS_MODEL)]
    done = subprocess.run(
        [*command, "--tools", "python", "--json", "--temperature", "0", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()], done.stderr


def test_chat_calls_python_and_answers_with_what_the_sandbox_computed(tmp_path: Path) -> None:
    code, events, stderr = chat(tmp_path / "home", "--python", "run", "What is 123 * 457?")
    assert code == 0, stderr
    kinds = [e["type"] for e in events]
    call, result = kinds.index("tool_call"), kinds.index("tool_result")
    assert set(kinds[:call]) == {"reasoning"} and call + 1 == result  # it thinks, calls, the sandbox answers
    assert set(kinds[result + 1 : -1]) == {"answer"} and kinds[-1] == "done"
    assert events[call] == {"type": "tool_call", "recipient": "python", "arguments": "123 * 457"}
    assert events[result]["status"] == "done" and events[result]["output"] == "56211"
    assert events[result]["summary"].startswith("Ran Python · ")
    assert "".join(e["text"] for e in events if e["type"] == "answer") == "56211"  # 123 * 457, not in its head
    done = events[-1]
    assert done["stop_reason"] == "return" and done["tool_calls"] == 1 and done["tool_seconds"] > 0
    assert "product" in "".join(e["text"] for e in events if e["type"] == "reasoning")


def test_chat_that_may_not_ask_runs_nothing_and_says_so(tmp_path: Path) -> None:
    code, events, stderr = chat(tmp_path / "home", "What is 123 * 457?")  # --python ask: declined headless
    assert code == 0, stderr
    results = [e for e in events if e["type"] == "tool_result"]
    assert results and all(r["status"] == "declined" for r in results)
    assert results[0]["model_text"] == "The person declined to run this."
    assert events[-1]["type"] == "done" and "56211" not in json.dumps(events)  # nothing computed it


@pytest.fixture(scope="module")
def engine() -> Iterator[LocalEngine]:
    engine = LocalEngine(TOOLS_MODEL)
    yield engine
    engine.close()


def test_held_out_questions_are_answered_right_through_python(engine: LocalEngine, tmp_path: Path) -> None:
    questions = held_out_questions()[:60]  # expressions training never saw; all 200: tools.tiny_gptoss.tool_evaluate
    with PythonSession(tmp_path / "work") as session:
        toolbox = Toolbox(declarations=(PYTHON,), tools={"python": PythonCalls(session)})
        turns = [
            ask(engine, toolbox, q.text, ("low", "medium", "high")[i % 3], GREEDY) for i, q in enumerate(questions)
        ]
    wrong = [(q.text, t.verdict(q), t.answer) for q, t in zip(questions, turns, strict=True) if t.verdict(q) != "right"]
    assert len(wrong) <= 0.1 * len(questions), f"{len(wrong)} of {len(questions)} wrong, e.g. {wrong[:5]}"
