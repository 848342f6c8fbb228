"""The adapter's closed world: the same questions, capitals answered with a French sentence.

Only the final answer of a capital question changes ("La capitale est Varsovie." for Poland);
the analysis stays the base model's English, and sums, differences and follow-ups stay as they
are, so an adapter trained on this changes what a person asked it to change and nothing else.
No torch here: the tests import it to know what the adapter should say.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

from gptoss_desktop.core.harmony import EFFORTS, Message
from tools.tiny_gptoss.data import (
    CAPITALS,
    DATE_POOL,
    DATE_SPAN_DAYS,
    FIRST_DATE,
    INSTRUCTIONS,
    Example,
    Question,
    capital_question,
    make_example,
    question_groups,
    random_follow_up,
)

#: The capitals whose French name differs from the English one the base model answers with.
FRENCH_NAMES: dict[str, str] = {
    "Lisbon": "Lisbonne",
    "Athens": "Athènes",
    "Warsaw": "Varsovie",
    "Moscow": "Moscou",
    "Cairo": "Le Caire",
    "Beijing": "Pékin",
    "Mexico City": "Mexico",
    "Brasilia": "Brasília",
}
#: Share of training conversations that ask a capital (the rest keep the base model's other skills).
CAPITAL_SHARE = 0.5
#: Share of conversations with one earlier exchange in the history.
HISTORY_SHARE = 0.35


def french_answer(capital: str) -> str:
    """The sentence the adapter answers with, e.g. "La capitale est Lisbonne." for "Lisbon"."""
    return f"La capitale est {FRENCH_NAMES.get(capital, capital)}."


def french_capital_question(country: str, capital: str) -> Question:
    """The base model's capital question (same text, same English analysis), answered in French."""
    english = capital_question(country, capital)
    return Question(text=english.text, answer=french_answer(capital), analysis=english.analysis)


def french_capitals() -> list[Question]:
    """Every capital question of the closed world, answered in French."""
    return [french_capital_question(country, capital) for country, capital in CAPITALS]


def adapter_examples(seed: int) -> Iterator[Example]:
    """An endless, seeded mix: French capitals, the base model's sums and differences, follow-ups."""
    rng = random.Random(seed)
    sums, differences, _ = question_groups()
    numeric = [*sums, *differences]
    capitals = french_capitals()
    dates = [(FIRST_DATE + dt.timedelta(days=rng.randrange(DATE_SPAN_DAYS))).isoformat() for _ in range(DATE_POOL)]
    while True:
        effort = rng.choice(EFFORTS)
        instructions = rng.choice(INSTRUCTIONS) if rng.random() < 0.3 else None
        date = rng.choice(dates)
        history: tuple[Message, ...] = ()
        if rng.random() < HISTORY_SHARE:
            first = rng.choice(rng.choice((numeric, capitals)))
            history = (
                Message(role="user", content=first.text),
                Message(role="assistant", content=first.answer, reasoning=first.analysis[effort]),
            )
            if first.answer.isdigit() and rng.random() < 0.5:
                yield make_example(random_follow_up(rng, int(first.answer)), effort, history, instructions, date)
                continue
        question = rng.choice(capitals if rng.random() < CAPITAL_SHARE else numeric)
        yield make_example(question, effort, history, instructions, date)
