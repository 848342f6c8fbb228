"""The tool-calling fixture writes, token for token, the turns it was trained on (real llama.cpp, temperature 0).

No sandbox here: the tool's answer is appended as the engine appends it. The app end to end is
tests/integration/test_tools_model.py and tests/ui/test_tools_model_window.py; the full held-out
measure is ``python -m tools.tiny_gptoss.tool_evaluate``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import gguf
import pytest

from tests.fixtures.tiny_gptoss import build_vocab
from tools.tiny_gptoss.evaluate import Evaluator
from tools.tiny_gptoss.tool_data import (
    ToolQuestion,
    call_segments,
    final_segments,
    held_out_questions,
    make_example,
    result_segments,
    tool_question,
    tool_vocabulary_words,
)

TOOLS_MODEL = Path(__file__).parents[1] / "fixtures" / "gpt-oss-tiny-tools.gguf"


@pytest.fixture(scope="module")
def evaluator() -> Iterator[Evaluator]:
    evaluator = Evaluator(TOOLS_MODEL)
    yield evaluator
    evaluator.close()


def written(evaluator: Evaluator, prompt: list[int]) -> list[int]:
    """Greedy tokens after `prompt`, up to and with ``<|call|>`` or ``<|return|>``."""
    stops = {evaluator.tokenizer.special("<|call|>"), evaluator.tokenizer.special("<|return|>")}
    tokens: list[int] = []
    for token in evaluator.llama.generate(prompt, temp=0.0, repeat_penalty=1.0):
        tokens.append(token)
        if token in stops or len(tokens) >= 100:
            return tokens
    return tokens


def turn_is_exact(evaluator: Evaluator, question: ToolQuestion) -> bool:
    """The call as trained, then, after the tool's answer, the final answer as trained."""
    encode = evaluator.tokenizer.encode
    prompt = encode(make_example(question).prompt)
    call = written(evaluator, prompt)
    if call != encode(call_segments(question)):
        return False
    return written(evaluator, [*prompt, *call, *encode(result_segments(question))]) == encode(final_segments(question))


def test_vocabulary_is_the_one_the_training_code_builds() -> None:
    field = gguf.GGUFReader(TOOLS_MODEL).get_field("tokenizer.ggml.tokens")
    assert field is not None
    assert field.contents() == build_vocab(tool_vocabulary_words())[0]


def test_a_product_is_called_and_answered_exactly(evaluator: Evaluator) -> None:
    question = tool_question("123 * 457", "*")
    encode, decode = evaluator.tokenizer.encode, evaluator.tokenizer.decode
    prompt = encode(make_example(question).prompt)
    call = written(evaluator, prompt)
    assert decode(call) == (
        "<|channel|>analysis<|message|>The user wants a product. Python computes it exactly.<|end|>"
        "<|start|>assistant<|channel|>analysis to=python code<|message|>123 * 457<|call|>"
    )
    final = written(evaluator, [*prompt, *call, *encode(result_segments(question))])
    assert decode(final) == "<|channel|>final<|message|>56211<|return|>"


def test_held_out_turns_are_exact(evaluator: Evaluator) -> None:
    questions = held_out_questions()[60:120]  # others than the end-to-end test's
    wrong = [q.text for q in questions if not turn_is_exact(evaluator, q)]
    assert len(wrong) <= 0.1 * len(questions), f"{len(wrong)} of {len(questions)} wrong, e.g. {wrong[:5]}"
