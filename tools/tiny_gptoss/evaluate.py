"""Greedy evaluation of the harmony fixture in real llama.cpp (no torch needed).

``python -m tools.tiny_gptoss.evaluate [--model tests/fixtures/gpt-oss-tiny-harmony.gguf]`` prints
accuracy over the whole closed world, analysis length per effort and the two-turn follow-up.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

import llama_cpp

from gptoss_desktop.core.harmony import EFFORTS, Message
from gptoss_desktop.core.harmony.conversation import Effort
from tests.fixtures.tiny_gptoss import HARMONY_SPECIALS
from tools.tiny_gptoss.data import (
    Example,
    arithmetic_question,
    closed_world,
    follow_up_question,
    make_example,
    random_follow_up,
)
from tools.tiny_gptoss.vocab import HarmonyTokenizer

DEFAULT_MODEL = Path("tests/fixtures/gpt-oss-tiny-harmony.gguf")
MAX_COMPLETION_TOKENS = 256


@dataclass(frozen=True)
class Reply:
    """A parsed greedy completion; ``well_formed`` means exactly analysis then final."""

    analysis: str
    answer: str
    analysis_tokens: int
    well_formed: bool


class Evaluator:
    """One llama.cpp context driven token by token at temperature 0."""

    def __init__(self, model_path: str | Path, n_ctx: int = 1024) -> None:
        # One thread: as fast as two for a model this small, and no spinning when cores are shared.
        self.llama = llama_cpp.Llama(
            model_path=str(model_path), n_ctx=n_ctx, n_batch=n_ctx, n_threads=1, n_threads_batch=1, verbose=False
        )
        self.tokenizer = HarmonyTokenizer(model_path)
        self._stops = {self.tokenizer.special("<|return|>"), self.tokenizer.special("<|call|>")}
        self._end = self.tokenizer.special("<|end|>")
        self._specials = {self.tokenizer.special(name) for name in HARMONY_SPECIALS}
        self.generated_tokens = 0

    def close(self) -> None:
        """Free both llama.cpp handles now rather than at garbage collection."""
        self.llama.close()
        self.tokenizer.close()

    def complete(self, example: Example) -> Reply:
        """Generate greedily after the prompt until ``<|return|>`` / ``<|call|>``, then parse."""
        tokens: list[int] = []
        for token in self.llama.generate(self.tokenizer.encode(example.prompt), temp=0.0, repeat_penalty=1.0):
            tokens.append(token)
            if token in self._stops or len(tokens) >= MAX_COMPLETION_TOKENS:
                break
        self.generated_tokens += len(tokens)
        return self._parse(tokens)

    def _parse(self, tokens: list[int]) -> Reply:
        """Split at the first ``<|end|>``; the control tokens around the two texts must be exact."""
        t = self.tokenizer
        head = [t.special("<|channel|>"), *t.text("analysis"), t.special("<|message|>")]
        middle = [
            t.special("<|end|>"),
            t.special("<|start|>"),
            *t.text("assistant"),
            t.special("<|channel|>"),
            *t.text("final"),
            t.special("<|message|>"),
        ]
        end = tokens.index(self._end) if self._end in tokens else len(tokens)
        analysis, rest = tokens[len(head) : end], tokens[end:]
        answer = rest[len(middle) : -1]
        well_formed = (
            tokens[: len(head)] == head
            and rest[: len(middle)] == middle
            and rest[-1:] == [t.special("<|return|>")]
            and not self._specials & {*analysis, *answer}
        )
        return Reply(t.decode(analysis), t.decode(answer), len(analysis), well_formed)


def closed_world_accuracy(evaluator: Evaluator, efforts: tuple[Effort, ...] = EFFORTS) -> dict[str, float]:
    """Share of exactly right, well-formed final answers over every question at each effort."""
    world = closed_world()
    result: dict[str, float] = {}
    for effort in efforts:
        right = 0
        for question in world:
            reply = evaluator.complete(make_example(question, effort))
            right += reply.well_formed and reply.answer == question.answer
        result[effort] = right / len(world)
    return result


def analysis_lengths(evaluator: Evaluator, count: int = 20, seed: int = 0) -> dict[str, float]:
    """Mean analysis tokens at each effort over the same ``count`` questions."""
    questions = random.Random(seed).sample(closed_world(), count)
    return {
        effort: sum(evaluator.complete(make_example(q, effort)).analysis_tokens for q in questions) / count
        for effort in EFFORTS
    }


def two_turn(evaluator: Evaluator, effort: Effort) -> tuple[str, str]:
    """Ask "What is 12 + 7?", then "Add 3 to that." with the model's own first answer as history."""
    first_question = arithmetic_question(12, "+", 7)
    first = evaluator.complete(make_example(first_question, effort))
    history = (
        Message(role="user", content=first_question.text),
        Message(role="assistant", content=first.answer, reasoning=first.analysis),
    )
    follow_up = follow_up_question(19, "+", 3)
    return first.answer, evaluator.complete(make_example(follow_up, effort, history)).answer


def follow_up_accuracy(evaluator: Evaluator, count: int = 150, seed: int = 0) -> float:
    """Share of right answers to random follow-ups after a correct numeric first turn."""
    rng = random.Random(seed)
    numeric = [q for q in closed_world() if q.answer.isdigit()]
    right = 0
    for _ in range(count):
        first = rng.choice(numeric)
        follow_up = random_follow_up(rng, int(first.answer))
        effort = rng.choice(EFFORTS)
        history = (Message(role="user", content=first.text), Message(role="assistant", content=first.answer))
        reply = evaluator.complete(make_example(follow_up, effort, history))
        right += reply.well_formed and reply.answer == follow_up.answer
    return right / count


def main() -> None:
    """Run every measure and print one JSON report."""
    parser = argparse.ArgumentParser(description="Evaluate the tiny harmony gpt-oss in llama.cpp.")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args()
    evaluator = Evaluator(args.model)
    started = time.monotonic()
    lengths = analysis_lengths(evaluator)
    report = {
        "closed_world_accuracy": closed_world_accuracy(evaluator),
        "follow_up_accuracy": follow_up_accuracy(evaluator),
        "two_turn": {effort: two_turn(evaluator, effort) for effort in EFFORTS},
        "mean_analysis_tokens": lengths,
        "high_over_low": lengths["high"] / lengths["low"],
    }
    elapsed = time.monotonic() - started
    report["generated_tokens_per_second_with_prompts"] = evaluator.generated_tokens / elapsed
    evaluator.close()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
