"""What the tiny tool-calling gpt-oss learns: arithmetic it cannot do, done by calling python.

One turn, rendered with the app's own harmony renderer and the `python` tool declared as the
app declares it. The model writes a short analysis that names the operation (no digits: every
copy is a chance to err), then calls python with the question's expression copied as it was
typed, reads the sandbox's answer (the repr of the value, as the kernel gives a last expression),
and answers with that value copied:

    <|channel|>analysis<|message|>The user wants a product. Python computes it exactly.<|end|>
    <|start|>assistant<|channel|>analysis to=python code<|message|>123 * 457<|call|>
    <|start|>python to=assistant<|channel|>analysis<|message|>56211<|end|>      (the tool: not trained)
    <|start|>assistant<|channel|>final<|message|>56211<|return|>

Both copies are induction (find the source, copy what follows), which a tiny transformer learns;
numbers are cut into two-digit tokens and operators are single tokens, so there is less to copy and
fewer look-alike places to copy from; the operands are random, so nothing can be memorised instead.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

from gptoss_desktop.core.harmony import (
    EFFORTS,
    PYTHON,
    Conversation,
    Message,
    Segment,
    Special,
    Text,
    message_segments,
    render_segments,
    tool_result,
)
from gptoss_desktop.core.harmony.conversation import Effort
from tools.tiny_gptoss.data import INSTRUCTIONS, PRE_TOKEN_WORD, vocabulary_words

OPERATIONS: dict[str, str] = {"+": "sum", "-": "difference", "*": "product", "/": "quotient", "**": "power"}
# Users type "What is 123 * 457?" most, but not only.
QUESTIONS: tuple[tuple[str, float], ...] = (
    ("What is {}?", 0.55),
    ("Compute {}.", 0.1),
    ("Calculate {}.", 0.1),
    ("How much is {}?", 0.1),
    ("What is {}? Use python.", 0.05),
    ("{}", 0.05),
    ("{} = ?", 0.05),
)
# Two-digit tokens: llama.cpp's gpt-4o pre-tokenizer cuts a number into runs of at most three
# digits, and BPE then merges pairs. With one token per digit the copies went wrong where a digit
# follows a digit seen elsewhere too (at 1,000 steps: 22 % right, mostly the second operand's
# first digit); pairs halve the tokens to copy and repeat far less often.
NUMBER_PIECES: tuple[str, ...] = tuple(f"{n:02d}" for n in range(100))
CALL_HEADER = "analysis to=python code"
FIRST_DATE = dt.date(2024, 1, 1)
DATE_SPAN_DAYS = 365 * 7
DATE_POOL = 200


@dataclass(frozen=True)
class ToolQuestion:
    """A question, the expression python gets, and the value it answers (the repr, as the kernel shows it)."""

    text: str
    expression: str
    operation: str
    value: str


@dataclass(frozen=True)
class ToolExample:
    """Segments of one turn with the parts the model writes marked (the tool's answer is not)."""

    parts: tuple[tuple[tuple[Segment, ...], bool], ...]
    question: ToolQuestion
    prompt: tuple[Segment, ...]


def analysis(operation: str) -> str:
    """The reasoning before the call: which operation, and that python does it (no digits to copy)."""
    return f"The user wants a {OPERATIONS[operation]}. Python computes it exactly."


def value_of(expression: str) -> str:
    """What the sandbox answers: the repr of the value (the kernel evaluates a last expression)."""
    return repr(eval(expression, {"__builtins__": {}}))


@dataclass(frozen=True)
class Distribution:
    """Which questions: operations with their weights, operand digits, digits of a power's result."""

    weights: tuple[tuple[str, float], ...]
    max_digits: int
    max_power_digits: int


#: The first stage: all five operations, operands up to 7 digits, results up to 24 characters.
WIDE = Distribution((("+", 0.25), ("-", 0.2), ("*", 0.3), ("/", 0.1), ("**", 0.15)), 7, 24)
#: The second stage and the held-out set: no division (its 17-digit floats were copied right 35 % of
#: the time), operands up to 5 digits, powers up to 10 digits (results of 12+ characters: 20 % right).
NARROW = Distribution((("+", 0.25), ("-", 0.2), ("*", 0.35), ("**", 0.2)), 5, 10)
DISTRIBUTIONS = {"wide": WIDE, "narrow": NARROW}


def _number(rng: random.Random, max_digits: int) -> int:
    digits = rng.randint(1, max_digits)
    return rng.randint(10 ** (digits - 1) if digits > 1 else 0, 10**digits - 1)


def random_expression(rng: random.Random, distribution: Distribution = NARROW) -> tuple[str, str]:
    """`A op B` with random operands (a division never by zero, a power short enough to read)."""
    operations, weights = zip(*distribution.weights, strict=True)
    operation = rng.choices(operations, weights)[0]
    a, b = _number(rng, distribution.max_digits), _number(rng, distribution.max_digits)
    if operation == "/":
        b = b or 1
    if operation == "**":
        a = _number(rng, 3)
        b = rng.randint(0, 99)
        while len(str(a**b)) > distribution.max_power_digits:
            b //= 2
    space = " " if rng.random() < 0.9 else ""
    return f"{a}{space}{operation}{space}{b}", operation


def tool_question(expression: str, operation: str, template: str = "What is {}?") -> ToolQuestion:
    return ToolQuestion(template.format(expression), expression, operation, value_of(expression))


def random_question(
    rng: random.Random, held_out: frozenset[str] = frozenset(), distribution: Distribution = NARROW
) -> ToolQuestion:
    """A random question whose expression is not among `held_out`."""
    while True:
        expression, operation = random_expression(rng, distribution)
        if expression not in held_out:
            break
    template = rng.choices([q for q, _ in QUESTIONS], [w for _, w in QUESTIONS])[0]
    return tool_question(expression, operation, template)


def held_out_questions(
    count: int = 200, seed: int = 1_000_003, distribution: Distribution = NARROW
) -> list[ToolQuestion]:
    """The evaluation set: "What is A op B?" from a seed of its own; training never sees these expressions."""
    rng = random.Random(seed)
    questions: dict[str, ToolQuestion] = {}
    while len(questions) < count:
        expression, operation = random_expression(rng, distribution)
        questions.setdefault(expression, tool_question(expression, operation))
    return list(questions.values())


def conversation(
    question: ToolQuestion,
    effort: Effort = "medium",
    history: tuple[Message, ...] = (),
    instructions: str | None = None,
    date: str = "2026-11-22",
) -> Conversation:
    """The conversation as the app sends it with Python on: the tool declared in the system message."""
    return Conversation(
        messages=(*history, Message("user", question.text)),
        effort=effort,
        instructions=instructions,
        date=date,
        tools=(PYTHON,),
    )


def call_segments(question: ToolQuestion) -> tuple[Segment, ...]:
    """What the model writes up to its ``<|call|>``."""
    return (
        Special("<|channel|>"),
        Text("analysis"),
        Special("<|message|>"),
        Text(analysis(question.operation)),
        Special("<|end|>"),
        Special("<|start|>"),
        Text("assistant"),
        Special("<|channel|>"),
        Text(CALL_HEADER),
        Special("<|message|>"),
        Text(question.expression),
        Special("<|call|>"),
    )


def result_segments(question: ToolQuestion) -> tuple[Segment, ...]:
    """The tool's answer as the engine appends it, then ``<|start|>assistant`` for the model."""
    answer = tool_result("python", question.value, "analysis")
    return (*message_segments(answer), Special("<|start|>"), Text("assistant"))


def final_segments(question: ToolQuestion) -> tuple[Segment, ...]:
    """What the model writes after reading the value: the value, as the answer."""
    return (Special("<|channel|>"), Text("final"), Special("<|message|>"), Text(question.value), Special("<|return|>"))


def make_example(question: ToolQuestion, **kwargs: object) -> ToolExample:
    prompt = tuple(render_segments(conversation(question, **kwargs)))  # type: ignore[arg-type]
    parts = (
        (prompt, False),
        (call_segments(question), True),
        (result_segments(question), False),
        (final_segments(question), True),
    )
    return ToolExample(parts, question, prompt)


def random_examples(
    seed: int, held_out: frozenset[str] = frozenset(), distribution: Distribution = NARROW
) -> Iterator[ToolExample]:
    """Endless seeded turns: any effort, sometimes instructions, sometimes an earlier exchange before."""
    rng = random.Random(seed)
    dates = [(FIRST_DATE + dt.timedelta(days=rng.randrange(DATE_SPAN_DAYS))).isoformat() for _ in range(DATE_POOL)]
    while True:
        effort = rng.choice(EFFORTS)
        instructions = rng.choice(INSTRUCTIONS) if rng.random() < 0.3 else None
        history: tuple[Message, ...] = ()
        if rng.random() < 0.2:
            earlier = random_question(rng, held_out, distribution)
            history = (Message("user", earlier.text), Message("assistant", earlier.value))
        question = random_question(rng, held_out, distribution)
        yield make_example(question, effort=effort, history=history, instructions=instructions, date=rng.choice(dates))


def tool_vocabulary_words() -> tuple[str, ...]:
    """The harmony fixture's words first (their tokens keep their ids), then the words of tool turns."""
    texts = [PYTHON.description or "", "python", CALL_HEADER, "to=assistant", "# Tools", "## python"]
    texts += [analysis(operation) for operation in OPERATIONS]  # all five: both stages share one vocabulary
    texts += [template for template, _ in QUESTIONS]
    words = dict.fromkeys(vocabulary_words())
    for text in texts:
        words.update(dict.fromkeys(PRE_TOKEN_WORD.findall(text)))
    words.update(dict.fromkeys(NUMBER_PIECES))
    words.update(dict.fromkeys(f" {operation}" for operation in OPERATIONS))
    return tuple(words)
