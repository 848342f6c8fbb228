"""The rule that cuts a long conversation to the context, with words standing in for tokens.

The real token counts are exercised in test_engine.py; here the counter is a stand-in, so the
rule itself (what is kept, and that the cut stays put from one turn to the next) can be checked
over hundreds of turns in milliseconds.
"""

from __future__ import annotations

import pytest

from gptoss_desktop.core.context_window import DEFAULT_REPLY_TOKENS, Window, fit_window, reply_reserve
from gptoss_desktop.core.harmony import Conversation, Message

HEADER = 10  # the system message and the final `<|start|>assistant`
PER_MESSAGE = 3  # a message's own control tokens and role


def words(conversation: Conversation) -> int:
    """A prompt length that adds up message by message, as harmony's does."""
    total = HEADER + (len(conversation.instructions.split()) + PER_MESSAGE if conversation.instructions else 0)
    return total + sum(len(m.content.split()) + PER_MESSAGE for m in conversation.messages)


def history(exchanges: int, size: int = 7) -> tuple[Message, ...]:
    """`exchanges` answered questions, each message `size` words."""
    messages: list[Message] = []
    for n in range(exchanges):
        messages += [Message("user", f"question{n} " * size), Message("assistant", f"answer{n} " * size)]
    return tuple(messages)


def chat(messages: tuple[Message, ...], instructions: str | None = "Be brief.") -> Conversation:
    return Conversation(messages, instructions=instructions, date="2026-01-02")


def test_reply_reserve_is_the_reply_limit_capped_at_a_quarter_of_the_context() -> None:
    assert reply_reserve(8192, None) == 2048
    assert reply_reserve(131072, None) == DEFAULT_REPLY_TOKENS
    assert reply_reserve(8192, 500) == 500
    assert reply_reserve(512, 5000) == 128
    assert reply_reserve(2, None) == 1


def test_a_conversation_that_fits_is_sent_whole() -> None:
    conversation = chat((*history(3), Message("user", "last")))
    window = fit_window(conversation, words, 1000, 100)
    assert window == Window(conversation, 0, words(conversation))


def test_the_oldest_exchanges_go_and_the_instructions_and_last_message_stay() -> None:
    conversation = chat((*history(40), Message("user", "What now?")))
    window = fit_window(conversation, words, 300, 60)
    kept = window.conversation
    assert window.dropped > 0 and window.dropped % 2 == 0  # whole exchanges
    assert kept.messages == conversation.messages[window.dropped :]
    assert kept.messages[0].role == "user"
    assert kept.messages[-1] == Message("user", "What now?")
    assert kept.instructions == "Be brief." and kept.effort == conversation.effort and kept.date == conversation.date
    assert window.tokens == words(kept) <= 300 - 60
    # Not more than a chunk (a quarter of the budget) was given up beyond what had to go.
    assert words(kept) > (300 - 60) * 3 / 4 - 2 * (7 + PER_MESSAGE)


def test_the_cut_stays_put_between_turns_and_moves_by_chunks() -> None:
    budget, reserve = 400, 100
    messages: tuple[Message, ...] = ()
    previous: Window | None = None
    cuts = 0
    for turn in range(300):
        messages = (*messages, Message("user", f"question{turn} " * (3 + turn % 11)))
        window = fit_window(chat(messages), words, budget + reserve, reserve)
        assert window.tokens <= budget
        if previous is not None:
            assert window.dropped >= previous.dropped
            if window.dropped == previous.dropped:
                # The prompt grew by the last reply and the new message: the cache still holds the rest.
                old = previous.conversation.messages
                assert window.conversation.messages[: len(old)] == old
            else:
                cuts += 1
                # Each cut leaves out at least a quarter of the budget.
                assert words(chat(messages[previous.dropped : window.dropped], None)) - HEADER >= budget // 4
        previous = window
        messages = (*messages, Message("assistant", f"answer{turn} " * (1 + turn % 5)))
    total = words(chat(messages))
    assert cuts >= 10
    assert cuts <= total / (budget // 4)


def test_the_cut_depends_on_the_conversation_alone() -> None:
    conversation = chat((*history(50, size=5), Message("user", "again")))
    first = fit_window(conversation, words, 256, 64)
    assert fit_window(conversation, words, 256, 64) == first
    # A longer reply limit shrinks the budget: more goes, never less.
    assert fit_window(conversation, words, 256, 128).dropped >= first.dropped


def test_a_huge_last_message_is_kept_alone_for_the_caller_to_judge() -> None:
    conversation = chat((*history(5), Message("user", "long " * 500)))
    window = fit_window(conversation, words, 300, 60)
    assert window.conversation.messages == (Message("user", "long " * 500),)
    assert window.dropped == 10
    assert window.tokens == words(window.conversation) > 300


def test_a_single_message_too_long_is_returned_whole() -> None:
    conversation = chat((Message("user", "long " * 500),))
    assert fit_window(conversation, words, 300, 60) == Window(conversation, 0, words(conversation))


def test_a_leading_assistant_message_goes_first() -> None:
    conversation = chat((Message("assistant", "Hello! " * 50), *history(3), Message("user", "hi")))
    window = fit_window(conversation, words, 150, 30)
    assert window.dropped >= 1
    assert window.conversation.messages[0].role == "user"


def test_a_template_that_cannot_render_no_messages_still_trims() -> None:
    def strict(conversation: Conversation) -> int:
        if not conversation.messages:
            raise ValueError("The model's chat template failed: no messages")
        return words(conversation)

    conversation = chat((*history(40), Message("user", "What now?")))
    window = fit_window(conversation, strict, 300, 60)
    assert window.dropped > 0 and window.tokens <= 240
    assert window.conversation.messages[-1].content == "What now?"


@pytest.mark.parametrize("instructions", [None, "word " * 100])
def test_instructions_count_against_the_budget_but_are_never_dropped(instructions: str | None) -> None:
    conversation = chat((*history(30), Message("user", "last")), instructions)
    window = fit_window(conversation, words, 400, 50)
    assert window.conversation.instructions == instructions
    assert window.tokens <= 350
