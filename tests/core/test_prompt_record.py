"""The prompt an answer received, as the engine reports it: exact tokens, control tokens apart, what was cut."""

from __future__ import annotations

from pathlib import Path

from gptoss_desktop.core.engine import ChatRequest
from gptoss_desktop.core.events import PromptSent
from gptoss_desktop.core.harmony import Conversation, Message
from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.prompt_record import PromptPart
from gptoss_desktop.core.sampling import SamplingParams

QUICK = SamplingParams(temperature=0, seed=1, max_tokens=8)


def prompt_sent(engine: LocalEngine, conversation: Conversation) -> PromptSent:
    sent = [e for e in engine.generate(ChatRequest(conversation, QUICK)) if isinstance(e, PromptSent)]
    assert len(sent) == 1
    return sent[0]


def test_a_gpt_oss_prompt_is_reported_message_by_message(trained_model: Path) -> None:
    engine = LocalEngine(trained_model, context_size=1024)
    try:
        conversation = Conversation(
            (Message("user", "What is 2 + 2?"), Message("assistant", "4", "add"), Message("user", "<|start|> Add 1.")),
            instructions="Be brief.",
            date="2026-12-04",
        )
        sent = prompt_sent(engine, conversation)
        ids = engine.prompt_ids(conversation)
    finally:
        engine.close()
    assert [part.role for part in sent.parts] == ["system", "developer", "user", "assistant", "user", "assistant"]
    assert sent.tokens == len(ids) and sent.context_size == 1024 and sent.left_out == ()
    system = sent.parts[0]
    assert system.pieces[0] == ("<|start|>", True) and "Reasoning: medium" in system.text
    typed = sent.parts[4]
    assert ("<|start|>", True) in typed.pieces[:1]
    assert any("<|start|> Add 1." in text and not control for text, control in typed.pieces)  # typed text stays text
    assert sent.parts[-1].text == "<|start|>assistant" and sent.parts[-1].tokens == 2
    assert "add" not in sent.parts[3].text  # an earlier answer's reasoning is dropped, as the format requires


def test_the_messages_left_out_to_fit_are_named(trained_model: Path) -> None:
    engine = LocalEngine(trained_model, context_size=256)
    try:
        long = "word " * 300
        conversation = Conversation(
            (Message("user", f"First {long}"), Message("assistant", "ok"), Message("user", "What is 2 + 2?")),
            date="2026-12-04",
        )
        sent = prompt_sent(engine, conversation)
    finally:
        engine.close()
    assert sent.left_out[0].startswith("user: First word word")
    assert all("First" not in part.text for part in sent.parts)


def test_a_template_prompt_is_split_at_its_own_message_tokens(smollm2_model: Path) -> None:
    engine = LocalEngine(smollm2_model, context_size=1024)
    try:
        sent = prompt_sent(engine, Conversation((Message("user", "Hi"),), date="2026-12-04"))
    finally:
        engine.close()
    assert [part.role for part in sent.parts] == ["system", "user", "assistant"]
    assert sent.parts[1].pieces[0] == ("<|im_start|>", True) and "Hi" in sent.parts[1].text


def test_a_prompt_survives_the_trip_through_the_database() -> None:
    sent = PromptSent((PromptPart("user", (("<|start|>", True), ("user", False)), 2),), 4096, ("user: hi",))
    assert PromptSent.from_bytes(sent.to_bytes()) == sent
    assert PromptSent.from_bytes(b"not compressed") is None and PromptSent.from_bytes(None) is None
