"""What every engine offers, local (llama.cpp) or on a server: callers depend on this, not on one engine."""

from __future__ import annotations

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
    Local models only: engines on a server ignore the last three.
    """

    conversation: Conversation
    sampling: SamplingParams = field(default_factory=SamplingParams)
    stop: tuple[str, ...] = ()
    answer_grammar: str | None = None
    call_grammars: tuple[tuple[str, str], ...] = ()
    forced_call: str | None = None


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
