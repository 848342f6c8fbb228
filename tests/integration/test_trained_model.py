"""End to end with the tiny gpt-oss trained to speak harmony: the app shows what the model means.

The model (tests/fixtures/gpt-oss-tiny-harmony.gguf) answers sums, differences and
capitals, with analysis whose length follows the effort. At temperature 0 its
answers are checkable, so these tests assert content, not just shape.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gptoss_desktop.core.engine import ChatRequest
from gptoss_desktop.core.events import AnswerDelta, Done, EngineEvent, ReasoningDelta
from gptoss_desktop.core.harmony import Conversation, Effort, Message
from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.sampling import SamplingParams
from tools.tiny_gptoss.data import closed_world

GREEDY = SamplingParams(temperature=0.0, max_tokens=200)


@pytest.fixture(scope="module")
def engine(trained_model: Path) -> Iterator[LocalEngine]:
    engine = LocalEngine(trained_model)
    yield engine
    engine.close()


def reply(engine: LocalEngine, messages: tuple[Message, ...], effort: Effort = "medium") -> tuple[str, str, Done]:
    events: list[EngineEvent] = list(engine.generate(ChatRequest(Conversation(messages, effort=effort), GREEDY)))
    done = events[-1]
    assert isinstance(done, Done)
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    answer = "".join(e.text for e in events if isinstance(e, AnswerDelta))
    return reasoning, answer, done


def test_cli_streams_reasoning_then_the_answer(trained_model: Path) -> None:
    command = ["chat", "--model", str(trained_model), "--json", "--temperature", "0", "What is 12 + 7?"]
    result = subprocess.run(
        [sys.executable, "-m", "gptoss_desktop", *command],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [e["type"] for e in events]
    first_answer = kinds.index("answer")
    assert kinds[0] == "reasoning" and set(kinds[:first_answer]) == {"reasoning"}
    assert set(kinds[first_answer:-1]) == {"answer"} and kinds[-1] == "done"
    assert "".join(e["text"] for e in events if e["type"] == "answer") == "19"
    assert "12 + 7" in "".join(e["text"] for e in events if e["type"] == "reasoning")
    assert events[-1]["stop_reason"] == "return"


def test_analysis_end_does_not_stop_the_reply(engine: LocalEngine) -> None:
    reasoning, answer, done = reply(engine, (Message("user", "What is 12 + 7?"),))
    assert reasoning and answer == "19"
    assert done.stop_reason == "return"
    assert done.stats.reasoning_tokens > 0


def test_whole_closed_world_is_at_least_90_percent_right(engine: LocalEngine) -> None:
    questions = closed_world()
    wrong = [q.text for q in questions if reply(engine, (Message("user", q.text),), "low")[1] != q.answer]
    assert len(wrong) <= 0.1 * len(questions), f"{len(wrong)} of {len(questions)} wrong, e.g. {wrong[:5]}"


def test_high_effort_thinks_at_least_twice_as_long_as_low(engine: LocalEngine) -> None:
    questions = closed_world()[::35][:20]
    tokens = {
        effort: sum(reply(engine, (Message("user", q.text),), effort)[2].stats.reasoning_tokens for q in questions)
        for effort in ("low", "high")
    }
    assert tokens["high"] >= 2 * tokens["low"]


def test_follow_up_turn_uses_the_previous_answer(engine: LocalEngine) -> None:
    first = (Message("user", "What is 12 + 7?"),)
    reasoning, answer, _ = reply(engine, first)
    assert answer == "19"
    second = (*first, Message("assistant", answer, reasoning), Message("user", "Add 3 to that."))
    _, follow_up, done = reply(engine, second)
    assert follow_up == "22"
    # The cache kept the first turn: only what followed its prompt was evaluated again.
    assert done.stats.prompt_tokens_evaluated < done.stats.prompt_tokens - len(engine.prompt_ids(Conversation(first)))
