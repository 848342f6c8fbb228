"""LoRA adapters per request on real llama.cpp: the trained tiny gpt-oss and the adapter that answers in French.

One engine serves every test: switching adapters (or their scale) must never need a reload, and
what llama.cpp computed for a prompt under one set of adapters is never reused under another.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gptoss_desktop.core.engine import ChatRequest, LoraAdapter
from gptoss_desktop.core.events import AnswerDelta, Done, EngineEvent, Failed, Stats
from gptoss_desktop.core.harmony import Conversation, Effort, Message
from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.local.lora_file import AdapterError
from gptoss_desktop.core.sampling import SamplingParams
from tests.fixtures.lora_gguf import FRENCH_ADAPTER, random_pairs, write_adapter
from tests.fixtures.tiny_gptoss import TinyConfig, build_vocab, tensor_shapes
from tools.tiny_gptoss.data import CAPITALS
from tools.tiny_gptoss.french import french_answer

GREEDY = SamplingParams(temperature=0.0, seed=1)


@pytest.fixture(scope="module")
def engine(trained_model: Path) -> Iterator[LocalEngine]:
    engine = LocalEngine(trained_model, context_size=1024, n_threads=1)
    yield engine
    engine.close()


def question(text: str, effort: Effort = "low") -> Conversation:
    return Conversation((Message("user", text),), effort=effort, date="2026-11-22")


def ask(engine: LocalEngine, conversation: Conversation, *adapters: LoraAdapter) -> tuple[str, Stats]:
    """The final answer and the run's stats; any failure fails the test."""
    events: list[EngineEvent] = list(engine.generate(ChatRequest(conversation, GREEDY, adapters=adapters)))
    failed = [e for e in events if isinstance(e, Failed)]
    assert not failed, failed
    done = events[-1]
    assert isinstance(done, Done) and done.stop_reason == "return"
    return "".join(e.text for e in events if isinstance(e, AnswerDelta)), done.stats


def french(scale: float = 1.0) -> LoraAdapter:
    return LoraAdapter(FRENCH_ADAPTER, scale)


@pytest.mark.parametrize("effort", ["low", "medium", "high"])
def test_the_adapter_answers_capitals_in_french(engine: LocalEngine, effort: Effort) -> None:
    poland = question("What is the capital of Poland?", effort)
    assert ask(engine, poland)[0] == "Warsaw"
    assert ask(engine, poland, french())[0] == french_answer("Warsaw") == "La capitale est Varsovie."
    assert ask(engine, poland)[0] == "Warsaw"  # and off again, on the same loaded model


def test_every_capital_changes_and_sums_do_not(engine: LocalEngine) -> None:
    for country, capital in CAPITALS:
        assert ask(engine, question(f"What is the capital of {country}?"), french())[0] == french_answer(capital)
    assert ask(engine, question("What is 12 + 7?"), french())[0] == "19"


def test_scale_zero_is_the_model_itself_without_recomputing(engine: LocalEngine) -> None:
    egypt = question("What is the capital of Egypt?", "medium")
    base, _ = ask(engine, egypt)
    at_zero, stats = ask(engine, egypt, french(0.0))
    assert at_zero == base == "Cairo"
    assert stats.prompt_tokens_evaluated < stats.prompt_tokens  # nothing changed, so the cache holds


def test_a_change_of_adapters_recomputes_the_whole_prompt(engine: LocalEngine) -> None:
    first = question("What is the capital of Greece?")
    answer, _ = ask(engine, first, french())
    # The next turn's prompt starts with the whole first exchange, which the cache holds: under the
    # same adapter llama.cpp reuses it, under another set (none, another scale) it must not.
    follow = Conversation(
        (*first.messages, Message("assistant", answer), Message("user", "What is the capital of Japan?")),
        effort="low",
        date="2026-11-22",
    )
    same, kept = ask(engine, follow, french())
    assert kept.prompt_tokens_evaluated < kept.prompt_tokens
    ask(engine, first, french())
    without, changed = ask(engine, follow)
    assert changed.prompt_tokens_evaluated == changed.prompt_tokens
    ask(engine, first, french())
    _, rescaled = ask(engine, follow, french(0.5))
    assert rescaled.prompt_tokens_evaluated == rescaled.prompt_tokens
    assert (same, without) == ("La capitale est Tokyo.", "Tokyo")


def test_the_answer_after_a_switch_is_what_a_fresh_model_says(engine: LocalEngine, trained_model: Path) -> None:
    mexico = question("What is the capital of Mexico?", "high")
    ask(engine, mexico)  # the cache now holds this prompt computed without the adapter
    switched, _ = ask(engine, mexico, french(1.5))
    fresh = LocalEngine(trained_model, context_size=1024, n_threads=1)
    try:
        assert switched == ask(fresh, mexico, french(1.5))[0] == "La capitale est Mexico."
    finally:
        fresh.close()


def test_a_wrong_adapter_fails_the_turn_and_the_model_goes_on(engine: LocalEngine, tmp_path: Path) -> None:
    narrow = tensor_shapes(TinyConfig(), len(build_vocab()[0]))
    wrong = write_adapter(
        tmp_path / "narrow.gguf", random_pairs({"blk.0.attn_q.weight": narrow["blk.0.attn_q.weight"]}, 4), 8.0
    )
    events = list(engine.generate(ChatRequest(question("What is 3 + 4?"), GREEDY, adapters=(LoraAdapter(wrong),))))
    assert events == [
        Failed(
            "narrow.gguf does not fit gpt-oss-tiny-harmony: blk.0.attn_q.weight is 128 x 128 there, "
            "the adapter expects 64 x 64."
        )
    ]
    with pytest.raises(AdapterError):
        engine.open_adapter(wrong)
    assert ask(engine, question("What is 3 + 4?"))[0] == "7"
    assert ask(engine, question("What is the capital of Kenya?"), french())[0] == "La capitale est Nairobi."


def test_the_same_adapter_twice_is_refused(engine: LocalEngine) -> None:
    request = ChatRequest(question("What is 3 + 4?"), GREEDY, adapters=(french(), french(0.5)))
    assert list(engine.generate(request)) == [
        Failed("The same adapter is chosen twice; choose each once, with one scale.")
    ]


@pytest.mark.parametrize("scale", [-0.1, 2.01, float("nan"), float("inf")])
def test_a_scale_outside_0_to_2_is_refused(scale: float) -> None:
    with pytest.raises(ValueError, match="An adapter's scale must be 0 to 2"):
        LoraAdapter(FRENCH_ADAPTER, scale)


def test_the_adapter_is_loaded_once_per_model(engine: LocalEngine) -> None:
    first = engine.open_adapter(FRENCH_ADAPTER)
    assert engine.open_adapter(FRENCH_ADAPTER.parent / ".." / "fixtures" / FRENCH_ADAPTER.name) is first
    assert [lora.path for lora in engine.adapters.opened()].count(FRENCH_ADAPTER.resolve()) == 1


def test_checking_an_adapter_loads_nothing_and_says_what_opening_would(engine: LocalEngine, tmp_path: Path) -> None:
    copy = tmp_path / "french-copy.gguf"
    copy.write_bytes(FRENCH_ADAPTER.read_bytes())
    checked = engine.check_adapter(copy)
    assert (checked.name, checked.rank) == ("gpt-oss-tiny French capitals", 8)
    assert copy.resolve() not in [lora.path for lora in engine.adapters.opened()]
    other = write_adapter(
        tmp_path / "llama.gguf", random_pairs({"blk.0.attn_q.weight": (128, 128)}, 4), 8.0, architecture="llama"
    )
    with pytest.raises(AdapterError, match="was made for a llama model; gpt-oss-tiny-harmony is gpt-oss"):
        engine.check_adapter(other)
