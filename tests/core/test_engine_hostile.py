"""The local engine against what a person can throw at it: generations abandoned after close, long runs of
one character (a stack overflow in llama.cpp's pre-tokenizer), on the main thread and on workers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gptoss_desktop.core.engine import ChatRequest
from gptoss_desktop.core.events import Failed, PromptSent, ReasoningDelta
from gptoss_desktop.core.harmony import Conversation, Message
from gptoss_desktop.core.local.big_stack import cut_text, run_with_stack, tokenize_text
from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.sampling import SamplingParams


def test_a_generation_abandoned_after_close_is_cleaned_up_without_touching_the_freed_model(trained_model: Path) -> None:
    engine = LocalEngine(trained_model, context_size=256)
    events = engine.generate(
        ChatRequest(Conversation(messages=(Message("user", "hi"),)), SamplingParams(seed=1, max_tokens=20))
    )
    assert isinstance(next(e for e in events if not isinstance(e, PromptSent)), ReasoningDelta)
    engine.close()  # what the command line did when its output pipe closed: then the generator was collected
    events.close()  # its cleanup switched llama.cpp's abort callback off on the freed context (a segfault)


@pytest.fixture(scope="module")
def engine(trained_model: Path) -> Iterator[LocalEngine]:
    engine = LocalEngine(trained_model, context_size=256)
    yield engine
    engine.close()


#: Each of these killed the process (a stack overflow in llama.cpp's gpt-4o pre-tokenizer).
LONG_RUNS = ["a" * 30_000, "." * 60_000, " " * 60_000, "é" * 40_000, "x/\n" * 30_000]


@pytest.mark.parametrize("text", LONG_RUNS, ids=["letters", "dots", "spaces", "accented", "slashes-and-lines"])
def test_long_runs_of_one_character_are_counted_on_the_main_thread(engine: LocalEngine, text: str) -> None:
    assert engine.count_text_tokens(text) > 0


def on_thread(work: Callable[[], int], stack_size: int = 0) -> int:
    """`work()` on a Python thread with `stack_size` (0: the default), as the window's workers run it."""
    result: list[int] = []
    previous = threading.stack_size(stack_size)
    try:
        thread = threading.Thread(target=lambda: result.append(work()))
        thread.start()
    finally:
        threading.stack_size(previous)
    thread.join()
    assert result, "the thread died"
    return result[0]


def test_a_long_run_is_counted_on_a_worker_thread(engine: LocalEngine) -> None:
    assert on_thread(lambda: engine.count_text_tokens("a" * 30_000)) == engine.count_text_tokens("a" * 30_000)


def test_a_long_run_is_counted_on_a_thread_with_macos_sized_stack(engine: LocalEngine) -> None:
    """macOS gives secondary threads 512 KiB: 3,000 letters overflowed there."""
    assert on_thread(lambda: engine.count_text_tokens("b" * 3_000), 512 << 10) > 0


def test_a_long_run_in_the_instructions_gets_a_message_not_a_crash(engine: LocalEngine) -> None:
    conversation = Conversation(messages=(Message("user", "hi"),), instructions="x" * 50_000)
    (event,) = list(engine.generate(ChatRequest(conversation, SamplingParams(seed=1, max_tokens=4))))
    assert isinstance(event, Failed) and "with the instructions" in event.message


def reference_ids(engine: LocalEngine, text: str) -> list[int]:
    """What llama.cpp gives for the whole text in one call, on a stack deep enough for any of these texts."""
    llama = engine._llama
    return run_with_stack(lambda: llama.tokenize(text.encode("utf-8"), add_bos=False, special=False), len(text))


def prose() -> str:
    lines = []
    for n in range(400):
        lines.append(f"Line {n}: the quick brown fox jumps over {n * 7} lazy dogs, doesn't it?")
        lines.append("    indented code(x) -> y  # with  two  spaces")
        lines.append("Ünïcödé — “quotes”, 東京, emoji 🙂 and tabs\tin\ttext...")
        lines.append("")
    return "\n".join(lines)


TEXTS = {
    "prose": prose(),
    "letters-then-prose": "a" * 5_000 + "\nAnd then " + prose(),
    "no-safe-cut": "." * 3_000 + " " * 3_000 + "é" * 3_000,
}


@pytest.mark.parametrize("name", list(TEXTS))
@pytest.mark.parametrize("piece_chars", [250, 2_000, 500_000])
def test_ids_are_exactly_llama_cpps_for_the_whole_text(engine: LocalEngine, name: str, piece_chars: int) -> None:
    """Cut into pieces (small ones here, so every kind of cut happens) the ids are those of one call;
    only a text with no safe cut inside a piece ("no-safe-cut" in small pieces) may differ."""
    text = TEXTS[name]
    vocabulary_tokenize = engine.vocabulary._tokenize_part
    ids = tokenize_text(vocabulary_tokenize, text, piece_chars)
    if name == "no-safe-cut" and piece_chars < len(text):
        assert b"".join(map(engine.vocabulary.piece, ids)) == text.encode()  # the same text, in other tokens
        return
    assert ids == reference_ids(engine, text)


def test_pieces_join_back_to_the_text_and_are_cut_at_line_breaks() -> None:
    text = prose()
    pieces = cut_text(text, 1_000)
    assert "".join(pieces) == text
    assert len(pieces) > 10 and all(len(p) <= 1_000 for p in pieces)
    assert all(p.endswith("\n") for p in pieces[:-1])
