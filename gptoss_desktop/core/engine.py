"""What every engine offers, local (llama.cpp) or on a server: callers depend on this, not on one engine."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .cancel import CancelFlag
from .events import EngineEvent
from .harmony import Conversation
from .sampling import SamplingParams


@dataclass(frozen=True)
class ModelInfo:
    """What the window shows about a model loaded on this computer (an EngineInfo)."""

    path: Path
    name: str
    architecture: str
    is_harmony: bool
    context_size: int
    plan_message: str = ""
    #: What a conversation with this model samples with unless the person chose otherwise.
    sampling: SamplingParams = field(default_factory=SamplingParams)


class ModelLoadError(Exception):
    """A model (or a server's model) could not be opened; the message is meant for a person."""


#: The strongest an adapter may be applied: twice what it was trained to do.
MAX_ADAPTER_SCALE = 2.0


@dataclass(frozen=True)
class LoraAdapter:
    """A LoRA adapter (a GGUF file) to apply to the local model, and how strongly.

    `scale` 0 leaves the model as it is, 1 applies the adapter as trained, up to MAX_ADAPTER_SCALE.
    """

    path: Path
    scale: float = 1.0

    def __post_init__(self) -> None:
        if isinstance(self.scale, bool) or not math.isfinite(self.scale) or not 0 <= self.scale <= MAX_ADAPTER_SCALE:
            raise ValueError(f"An adapter's scale must be 0 to {MAX_ADAPTER_SCALE:g}, not {self.scale}.")


@dataclass(frozen=True)
class ChatRequest:
    """One turn to answer: the conversation so far (ending with the user's message) and sampling.

    `stop`: the answer ends just before the first of these texts (stop reason "stop").
    `answer_grammar`: a llama.cpp grammar (GBNF) the answer must match; for gpt-oss it applies to
    the final channel only, so the reasoning stays free.
    `call_grammars`: (recipient, GBNF) pairs: a call the model writes to that recipient (e.g.
    `functions.get_weather`) must match it, from the call's `<|message|>` on.
    `forced_call`: a recipient the reply must call: once the model has reasoned, the engine opens
    that call's message itself (gpt-oss only).
    `adapters`: the LoRA adapters the reply is written with (the conversation's set, at their scales).
    The engine applies them to its context before the run and, when the set differs from the last
    run's, computes the prompt afresh: the cache of a prompt is never reused across a change.
    Local models only: engines on a server ignore the last four.
    """

    conversation: Conversation
    sampling: SamplingParams = field(default_factory=SamplingParams)
    stop: tuple[str, ...] = ()
    answer_grammar: str | None = None
    call_grammars: tuple[tuple[str, str], ...] = ()
    forced_call: str | None = None
    adapters: tuple[LoraAdapter, ...] = ()


class EngineInfo(Protocol):
    """What the window shows about the model: ModelInfo (local) and ServerModelInfo both have it."""

    @property
    def name(self) -> str: ...
    @property
    def architecture(self) -> str: ...
    @property
    def is_harmony(self) -> bool: ...
    @property
    def context_size(self) -> int: ...
    @property
    def plan_message(self) -> str: ...


class ChatEngine(Protocol):
    """Answers requests as typed events and counts tokens for planning prompts (documents, history)."""

    @property
    def info(self) -> EngineInfo: ...

    def generate(self, request: ChatRequest, cancel: CancelFlag | None = None) -> Iterator[EngineEvent]:
        """Answer the last user message; stop soon after `cancel` is set."""
        ...

    def count_prompt_tokens(self, conversation: Conversation) -> int:
        """Tokens the model gets for `conversation` (exact locally, estimated on a server)."""
        ...

    def count_text_tokens(self, text: str) -> int:
        """Tokens `text` takes as plain text in a message."""
        ...

    def close(self) -> None:
        """Free the model or the connections."""
        ...
