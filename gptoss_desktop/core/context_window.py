"""Fit a conversation into the model's context by leaving out its oldest exchanges.

A chat resends its whole history every turn, so where the history is cut must
not move from one turn to the next: then every turn's prompt begins with the
previous turn's prompt and llama.cpp reuses its cache for that prefix instead of
reading the whole conversation again. So the cut moves only when the next turn
no longer fits, and then by a chunk of at least a quarter of the budget, which
leaves room for several more turns before the next cut. The rule depends on the
conversation alone (no state between turns), so a reopened chat is cut at the
same place:

1. Split the messages into exchanges: a user message and the replies after it,
   so a prompt never starts with an assistant turn that answers nothing.
2. Walking from the oldest exchange, start a new chunk each time the exchanges
   since the last start hold a quarter of the budget. Chunk starts are the only
   places a window may begin, besides the last exchange (the user's new
   message). A start depends only on the exchanges before it, which later turns
   do not change.
3. Send the window from the earliest start whose prompt fits the budget: the
   context minus the room kept for the reply (see `reply_reserve`).

The instructions are never left out. If even they and the last message exceed the
budget, the window is that last message alone and the caller decides whether it
can still run (any room left for a reply) or must report the message too long.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from dataclasses import dataclass

from .harmony import Conversation, Message

Counter = Callable[[Conversation], int]

#: Room kept for the reply when the request sets no limit: a medium-effort gpt-oss answer with its reasoning.
DEFAULT_REPLY_TOKENS = 4096
#: Each cut leaves out at least this share of the budget, so the next cut is several turns away.
CHUNK_SHARE = 4


@dataclass(frozen=True)
class Window:
    """What to send: `conversation` without its first `dropped` messages, `tokens` long once rendered."""

    conversation: Conversation
    dropped: int
    tokens: int


def reply_reserve(context_size: int, max_tokens: int | None) -> int:
    """Tokens kept free for the reply: its limit (else DEFAULT_REPLY_TOKENS), at most a quarter of the context.

    The cap keeps at least three quarters of the context for the conversation even when a
    request asks for a very long reply; such a reply may then stop at the end of the context.
    """
    return max(1, min(max_tokens or DEFAULT_REPLY_TOKENS, context_size // 4))


def fit_window(conversation: Conversation, count: Counter, context_size: int, reserve: int) -> Window:
    """The conversation to send so that its prompt plus `reserve` fits in `context_size` tokens.

    `count` gives the prompt length of a conversation; it is called once when everything
    fits, otherwise once per exchange and a few more times.
    """
    budget = context_size - reserve
    whole = count(conversation)
    if whole <= budget:
        return Window(conversation, 0, whole)
    exchanges = _exchange_starts(conversation.messages)
    costs = _exchange_costs(conversation, exchanges, count)
    starts = _window_starts(exchanges, costs, budget)
    # Estimates from the exchange costs are exact for harmony, where messages tokenize apart;
    # counting the chosen window settles it for chat templates, where they are close.
    left_out = 0
    estimates: dict[int, int] = {}
    for index, start in enumerate(exchanges):
        estimates[start] = whole - left_out
        left_out += costs[index] if index < len(costs) else 0
    for start in starts[1:]:
        if estimates[start] > budget and start != starts[-1]:
            continue
        window = _without_first(conversation, start)
        tokens = count(window)
        if tokens <= budget or start == starts[-1]:
            return Window(window, start, tokens)
    return Window(conversation, 0, whole)  # a single exchange: nothing can be left out


def _exchange_starts(messages: tuple[Message, ...]) -> list[int]:
    """Index of the first message of each exchange (a leading assistant message is one on its own)."""
    return [i for i, message in enumerate(messages) if i == 0 or message.role == "user"]


def _exchange_costs(conversation: Conversation, exchanges: list[int], count: Counter) -> list[int]:
    """Tokens each exchange adds to a prompt, for every exchange but the last (still unanswered)."""
    bare = dataclasses.replace(conversation, instructions=None)
    try:
        overhead = count(dataclasses.replace(bare, messages=()))
    except ValueError:  # a chat template that cannot render no messages: costs come out a little high
        overhead = 0
    messages = conversation.messages
    return [
        max(count(dataclasses.replace(bare, messages=messages[begin:end])) - overhead, 0)
        for begin, end in itertools.pairwise(exchanges)
    ]


def _window_starts(exchanges: list[int], costs: list[int], budget: int) -> list[int]:
    """Where a window may begin: 0, each chunk start, and the last exchange."""
    chunk = max(1, budget // CHUNK_SHARE)
    starts = [0]
    filled = 0
    for cost, following in zip(costs, exchanges[1:], strict=True):
        filled += cost
        if filled >= chunk:
            starts.append(following)
            filled = 0
    if starts[-1] != exchanges[-1]:
        starts.append(exchanges[-1])
    return starts


def _without_first(conversation: Conversation, dropped: int) -> Conversation:
    return dataclasses.replace(conversation, messages=conversation.messages[dropped:])
