"""The closed world the tiny model learns, rendered with the app's own harmony renderer.

Sums and differences of two numbers 0..20, capitals of twenty countries, and follow-ups that
add to or subtract from the previous answer. Every analysis works digit by digit (even at low
effort: a tiny model cannot add without working); length grows with the effort.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

from gptoss_desktop.core.harmony import EFFORTS, Conversation, Message, Segment, Special, Text, render_segments
from gptoss_desktop.core.harmony.conversation import Effort

CAPITALS: tuple[tuple[str, str], ...] = (
    ("France", "Paris"),
    ("Germany", "Berlin"),
    ("Italy", "Rome"),
    ("Spain", "Madrid"),
    ("Portugal", "Lisbon"),
    ("Greece", "Athens"),
    ("Poland", "Warsaw"),
    ("Norway", "Oslo"),
    ("Sweden", "Stockholm"),
    ("Russia", "Moscow"),
    ("Egypt", "Cairo"),
    ("Kenya", "Nairobi"),
    ("Japan", "Tokyo"),
    ("China", "Beijing"),
    ("India", "New Delhi"),
    ("Australia", "Canberra"),
    ("Canada", "Ottawa"),
    ("Mexico", "Mexico City"),
    ("Brazil", "Brasilia"),
    ("Argentina", "Buenos Aires"),
)
MAX_OPERAND = 20
# Sums, differences, capitals. The capitals are only 20 of 692 questions: drawn uniformly, they
# were too rare (3%) for the model to learn to copy the country name, and it answered "Berlin".
GROUP_WEIGHTS = (0.4, 0.35, 0.25)
MAX_FOLLOW_UP = 10
INSTRUCTIONS: tuple[str, ...] = (
    "Answer briefly.",
    "Be accurate and concise.",
    "You are a patient tutor. Give only the result in the answer.",
    "Reply with the answer only.",
)
# The letter alternatives of llama.cpp's gpt-4o pre-tokenizer regex, for ASCII text.
PRE_TOKEN_WORD = re.compile(r"[^\r\nA-Za-z0-9]?[A-Z]*[a-z]+|[^\r\nA-Za-z0-9]?[A-Z]+[a-z]*")
FIRST_DATE = dt.date(2024, 1, 1)
DATE_SPAN_DAYS = 365 * 7
# A pool of dates, not a fresh one per example: llama.cpp tokenizes a gpt-4o text in ~3 ms, so
# distinct system messages dominate data preparation; 200 dates already teach that the date is noise.
DATE_POOL = 200


@dataclass(frozen=True)
class Question:
    """One user turn with its reasoning at each effort and its exact final answer."""

    text: str
    answer: str
    analysis: dict[str, str]


@dataclass(frozen=True)
class Example:
    """A rendered prompt and the completion the model should write after it."""

    prompt: list[Segment]
    completion: list[Segment]
    question: Question
    effort: Effort


def _arithmetic(text: str, a: int, op: str, b: int, intro_low: str, intro: str) -> Question:
    """Digit-by-digit working for a + b or a - b (a >= b), phrased per effort."""
    a1, a0, b1, b0 = a // 10, a % 10, b // 10, b % 10
    if op == "+":
        ones = a0 + b0
        carry = ones // 10
        tens = a1 + b1 + carry
        result = a + b
        ones_step = f"{a0} + {b0} = {ones}"
        tens_step = f"{a1} + {b1} + {carry} = {tens}"
        high_ones = f"The ones digits are {a0} and {b0}, and {ones_step}, so I write {ones % 10} and carry {carry}."
    else:
        borrow = int(a0 < b0)
        ones = a0 + 10 * borrow - b0
        tens = a1 - b1 - borrow
        result = a - b
        ones_step = f"{a0 + 10 * borrow} - {b0} = {ones}"
        tens_step = f"{a1} - {b1} - {borrow} = {tens}"
        high_ones = f"The ones digits are {a0} and {b0}, and {ones_step}, so I write {ones} and borrow {borrow}."
    working = f"ones {ones_step}, tens {tens_step}, so {result}"
    return Question(
        text=text,
        answer=str(result),
        analysis={
            "low": f"{intro_low}{a} {op} {b}: {working}.",
            "medium": f"{intro} {a} {op} {b}. Working: {working}.",
            "high": (
                f"{intro} {a} {op} {b}. I will work digit by digit. {high_ones} "
                f"The tens digits are {a1} and {b1}, and {tens_step}. So {a} {op} {b} = {result}. "
                f"The answer is {result}."
            ),
        },
    )


def arithmetic_question(a: int, op: str, b: int) -> Question:
    """The question "What is a + b?" (or a - b)."""
    return _arithmetic(f"What is {a} {op} {b}?", a, op, b, "", "The user asks for")


def follow_up_question(previous: int, op: str, n: int) -> Question:
    """A follow-up, "Add n to that." or "Subtract n from that.", about the previous numeric answer."""
    text = f"Add {n} to that." if op == "+" else f"Subtract {n} from that."
    return _arithmetic(
        text, previous, op, n, f"That was {previous}, so ", f"The previous answer was {previous}, so compute"
    )


def capital_question(country: str, capital: str) -> Question:
    """The question "What is the capital of France?", answered "Paris"."""
    return Question(
        text=f"What is the capital of {country}?",
        answer=capital,
        analysis={
            "low": f"The capital of {country} is {capital}.",
            "medium": f"The user asks for the capital of {country}. The capital of {country} is {capital}.",
            "high": (
                f"The user asks for the capital of {country}. This is a geography question about one country. "
                f"The capital city of {country} is {capital}. I should answer with the city name only. "
                f"The answer is {capital}."
            ),
        },
    )


def question_groups() -> tuple[list[Question], list[Question], list[Question]]:
    """All sums, all differences with a >= b, and the capitals."""
    pairs = [(a, b) for a in range(MAX_OPERAND + 1) for b in range(MAX_OPERAND + 1)]
    return (
        [arithmetic_question(a, "+", b) for a, b in pairs],
        [arithmetic_question(a, "-", b) for a, b in pairs if a >= b],
        [capital_question(country, capital) for country, capital in CAPITALS],
    )


def closed_world() -> list[Question]:
    """Every single-turn question the model must answer."""
    return [question for group in question_groups() for question in group]


def random_follow_up(rng: random.Random, previous: int) -> Question:
    """Add 1..10, or subtract up to the previous answer (results stay non-negative)."""
    if previous == 0 or rng.random() < 0.5:
        return follow_up_question(previous, "+", rng.randint(1, MAX_FOLLOW_UP))
    return follow_up_question(previous, "-", rng.randint(1, min(MAX_FOLLOW_UP, previous)))


def completion_segments(question: Question, effort: Effort) -> list[Segment]:
    """What the model writes after ``<|start|>assistant``: analysis, then the final answer."""
    return [
        Special("<|channel|>"),
        Text("analysis"),
        Special("<|message|>"),
        Text(question.analysis[effort]),
        Special("<|end|>"),
        Special("<|start|>"),
        Text("assistant"),
        Special("<|channel|>"),
        Text("final"),
        Special("<|message|>"),
        Text(question.answer),
        Special("<|return|>"),
    ]


def make_example(
    question: Question,
    effort: Effort,
    history: tuple[Message, ...] = (),
    instructions: str | None = None,
    date: str = "2026-11-22",
) -> Example:
    """Render the prompt with the app's renderer; pair it with the target completion."""
    conversation = Conversation(
        messages=(*history, Message(role="user", content=question.text)),
        effort=effort,
        instructions=instructions,
        date=date,
    )
    return Example(render_segments(conversation), completion_segments(question, effort), question, effort)


def random_examples(seed: int) -> Iterator[Example]:
    """An endless, seeded mix: one-turn questions, follow-ups, and unrelated second questions."""
    rng = random.Random(seed)
    groups = question_groups()
    numeric = [*groups[0], *groups[1]]

    def pick() -> Question:
        return rng.choice(rng.choices(groups, GROUP_WEIGHTS)[0])

    dates = [(FIRST_DATE + dt.timedelta(days=rng.randrange(DATE_SPAN_DAYS))).isoformat() for _ in range(DATE_POOL)]
    while True:
        effort = rng.choice(EFFORTS)
        instructions = rng.choice(INSTRUCTIONS) if rng.random() < 0.3 else None
        date = rng.choice(dates)
        kind = rng.random()
        history: tuple[Message, ...] = ()
        if kind < 0.55:
            question = pick()
        elif kind < 0.8:
            first = rng.choice(numeric)
            history = (
                Message(role="user", content=first.text),
                Message(role="assistant", content=first.answer, reasoning=first.analysis[effort]),
            )
            question = random_follow_up(rng, int(first.answer))
        else:
            first = pick()
            history = (
                Message(role="user", content=first.text),
                Message(role="assistant", content=first.answer, reasoning=first.analysis[effort]),
            )
            question = pick()
        yield make_example(question, effort, history, instructions, date)


def vocabulary_words() -> tuple[str, ...]:
    """Letter runs of every text the model sees, cut as llama.cpp's gpt-4o pre-tokenizer cuts them.

    They become whole-word merges, so a sequence is a few dozen tokens instead of hundreds of bytes.
    Digits are never merged: the working relies on one token per digit.
    """
    questions = [*closed_world(), follow_up_question(12, "+", 3), follow_up_question(12, "-", 3)]
    texts = [text for q in questions for text in (q.text, q.answer, *q.analysis.values())]
    for effort in EFFORTS:
        history = (Message(role="user", content="x"), Message(role="assistant", content="x"))
        for instructions in INSTRUCTIONS:
            example = make_example(questions[0], effort, history, instructions)
            texts += [s.text for s in (*example.prompt, *example.completion) if isinstance(s, Text)]
    words: dict[str, None] = {}
    for text in texts:
        words.update(dict.fromkeys(PRE_TOKEN_WORD.findall(text)))
    return tuple(words)
