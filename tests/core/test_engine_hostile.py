"""The local engine against what a person can throw at it: generations abandoned after close, long runs of
one character (a stack overflow in llama.cpp's pre-tokenizer), on the main thread and on workers."""

from __future__ import annotations

from pathlib import Path

from gptoss_desktop.core.engine import ChatRequest
from gptoss_desktop.core.events import ReasoningDelta
from gptoss_desktop.core.harmony import Conversation, Message
from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.sampling import SamplingParams


def test_a_generation_abandoned_after_close_is_cleaned_up_without_touching_the_freed_model(trained_model: Path) -> None:
    engine = LocalEngine(trained_model, context_size=256)
    events = engine.generate(
        ChatRequest(Conversation(messages=(Message("user", "hi"),)), SamplingParams(seed=1, max_tokens=20))
    )
    assert isinstance(next(events), ReasoningDelta)
    engine.close()  # what the command line did when its output pipe closed: then the generator was collected
    events.close()  # its cleanup switched llama.cpp's abort callback off on the freed context (a segfault)
