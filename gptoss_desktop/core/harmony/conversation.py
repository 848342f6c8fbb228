"""What a harmony prompt is made from: a conversation, independent of any model.

Two kinds of assistant message live side by side:
- a finished answer, `Message("assistant", answer, reasoning)` (no channel): the final channel,
  its reasoning kept for the record but never rendered, as the template drops it;
- one harmony message of a turn with tool steps, with its channel and, for a call, its recipient
  and content type: `Message("assistant", "print(6*7)", channel="analysis", recipient="python",
  content_type="code")`. A tool's answer is `tool_result("python", "42\\n", channel="analysis")`.
A stored turn maps onto these in order: analysis, call, result, ..., final.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Literal

from ..events import ToolCall
from .tools import Function, ToolNamespace, recipients

Effort = Literal["low", "medium", "high"]
EFFORTS: tuple[Effort, ...] = ("low", "medium", "high")
Role = Literal["user", "assistant", "tool"]
ROLES: tuple[Role, ...] = ("user", "assistant", "tool")
#: The channels gpt-oss writes on (the system message lists them).
CHANNELS: tuple[str, ...] = ("analysis", "commentary", "final")


@dataclass(frozen=True)
class Message:
    """One harmony message, or (assistant, no channel) one finished answer with its reasoning.

    `name` is the author of a tool message (`python`, `browser.search`, `functions.get_weather`);
    `recipient` is whom the message is addressed to (`to=` in the header: the tool for a call,
    `assistant` for a tool's answer); `content_type` is the header's word before `<|message|>`
    as written (`code`, `json`, `<|constrain|>json`).
    """

    role: Role
    content: str
    reasoning: str = ""
    channel: str | None = None
    recipient: str | None = None
    content_type: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        words = (("channel", self.channel), ("recipient", self.recipient), ("name", self.name))
        for label, value in (*words, ("content type", self.content_type)):
            # A content type may hold <|constrain|>; nothing else in a header may hold `<`.
            bad = "" if label == "content type" else "<"
            if value is not None and (not value or any(c.isspace() or c in bad for c in value)):
                raise ValueError(f"a message's {label} must be one word, not {value!r}")
        if self.role == "user" and (self.channel or self.recipient or self.content_type or self.name):
            raise ValueError("a user message has only content")
        if self.role == "tool" and self.name is None:
            raise ValueError("a tool message needs the tool's name")
        if self.role != "tool" and self.name is not None:
            raise ValueError("only a tool message has a name")
        if self.reasoning and (self.role != "assistant" or self.channel is not None):
            raise ValueError("reasoning belongs to a finished answer (an assistant message without a channel)")

    @property
    def is_final_answer(self) -> bool:
        """An answer that ends a turn: the final channel (or none), addressed to nobody."""
        return self.role == "assistant" and self.recipient is None and self.channel in (None, "final")


def tool_call(recipient: str, arguments: str, channel: str = "analysis", content_type: str | None = None) -> Message:
    """The model's call of a tool as it goes back into the prompt (it ends with `<|call|>`)."""
    return Message("assistant", arguments, channel=channel, recipient=recipient, content_type=content_type)


def tool_result(name: str, output: str, channel: str | None) -> Message:
    """A tool's answer: authored by the tool, addressed to the assistant, on the channel of the call."""
    return Message("tool", output, channel=channel, recipient="assistant", name=name)


def answer_call(call: ToolCall, output: str) -> Message:
    """The answer to `call` (its output, or for an undeclared tool an error the model can read),
    from the tool it was addressed to, on the call's channel."""
    return tool_result(call.recipient, output, call.channel)


@dataclass(frozen=True)
class Conversation:
    """Everything the renderer needs; `date` defaults to today so prompts stay current.

    `tools` are declared in the system message (gpt-oss's builtin `browser` and `python`),
    `functions` in the developer message (called as `functions.NAME`).
    """

    messages: tuple[Message, ...]
    effort: Effort = "medium"
    instructions: str | None = None
    date: str = field(default_factory=lambda: _dt.date.today().isoformat())
    tools: tuple[ToolNamespace, ...] = ()
    functions: tuple[Function, ...] = ()

    def __post_init__(self) -> None:
        if self.effort not in EFFORTS:
            raise ValueError(f"reasoning effort must be one of {', '.join(EFFORTS)}, not {self.effort!r}")
        for message in self.messages:
            if not isinstance(message, Message):
                raise ValueError(f"not a message: {message!r}")
        names = [namespace.name for namespace in self.tools]
        if len(set(names)) != len(names):
            raise ValueError("a tool is declared twice")
        if "functions" in names:
            raise ValueError("functions are declared in `functions`, not as a tool namespace")
        functions = [function.name for function in self.functions]
        if len(set(functions)) != len(functions):
            raise ValueError("a function is declared twice")

    def tool_recipients(self) -> frozenset[str]:
        """Every `to=` name this conversation's tools answer to; give it to the parser."""
        return recipients(self.tools, self.functions)
