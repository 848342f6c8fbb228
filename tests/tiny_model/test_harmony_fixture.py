"""The trained fixture speaks harmony in real llama.cpp at temperature 0 (no torch needed).

Prompts are built the app's way: its renderer, special ids looked up by text, text tokenized by
llama.cpp with ``special=False``. The full closed-world sweep is ``python -m tools.tiny_gptoss.evaluate``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import gguf
import pytest

from gptoss_desktop.core.harmony import EFFORTS
from gptoss_desktop.core.harmony.conversation import Effort
from tests.fixtures.tiny_gptoss import build_vocab
from tools.tiny_gptoss.data import arithmetic_question, capital_question, closed_world, make_example, vocabulary_words
from tools.tiny_gptoss.evaluate import Evaluator, analysis_lengths, two_turn


@pytest.fixture(scope="module")
def evaluator(trained_model: Path) -> Iterator[Evaluator]:
    evaluator = Evaluator(trained_model)
    yield evaluator
    evaluator.close()


@pytest.mark.parametrize("effort", EFFORTS)
def test_sum_gets_analysis_then_exact_final(evaluator: Evaluator, effort: Effort) -> None:
    reply = evaluator.complete(make_example(arithmetic_question(12, "+", 7), effort))
    assert reply.well_formed
    assert "12 + 7" in reply.analysis
    assert reply.answer == "19"


def test_capital(evaluator: Evaluator) -> None:
    reply = evaluator.complete(make_example(capital_question("France", "Paris"), "medium"))
    assert reply.well_formed
    assert reply.answer == "Paris"


@pytest.mark.parametrize("effort", EFFORTS)
def test_follow_up_uses_the_previous_answer(evaluator: Evaluator, effort: Effort) -> None:
    assert two_turn(evaluator, effort) == ("19", "22")


def test_high_effort_reasons_at_least_twice_as_long_as_low(evaluator: Evaluator) -> None:
    lengths = analysis_lengths(evaluator, count=20)
    assert lengths["high"] >= 2 * lengths["low"]
    assert lengths["low"] < lengths["medium"] < lengths["high"]


def test_sampled_closed_world_accuracy(evaluator: Evaluator) -> None:
    rng = random.Random(1)
    questions = rng.sample(closed_world(), 60)
    right = 0
    for question in questions:
        reply = evaluator.complete(make_example(question, rng.choice(EFFORTS), date="2031-02-03"))
        right += reply.well_formed and reply.answer == question.answer
    assert right >= 0.9 * len(questions)


def test_vocabulary_is_the_one_the_training_code_builds(trained_model: Path) -> None:
    """Guards regeneration: the data module still yields the committed model's tokens."""
    field = gguf.GGUFReader(trained_model).get_field("tokenizer.ggml.tokens")
    assert field is not None
    assert field.contents() == build_vocab(vocabulary_words())[0]
