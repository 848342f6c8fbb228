"""What a harmony prompt is made from: a conversation, independent of any model."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Literal

Effort = Literal["low", "medium", "high"]
EFFORTS: tuple[Effort, ...] = ("low", "medium", "high")
Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Message:
    """One turn. An assistant turn carries its reasoning apart from its answer."""

    role: Role
    content: str
    reasoning: str = ""


@dataclass(frozen=True)
class Conversation:
    """Everything the renderer needs; `date` defaults to today so prompts stay current."""

    messages: tuple[Message, ...]
    effort: Effort = "medium"
    instructions: str | None = None
    date: str = field(default_factory=lambda: _dt.date.today().isoformat())

    def __post_init__(self) -> None:
        if self.effort not in EFFORTS:
            raise ValueError(f"reasoning effort must be one of {', '.join(EFFORTS)}, not {self.effort!r}")
        for message in self.messages:
            if message.role not in ("user", "assistant"):
                raise ValueError(f"unknown role {message.role!r}")
