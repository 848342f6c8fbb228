"""Render a conversation into harmony as a sequence of segments.

Segments keep control tokens apart from plain text, so the caller can turn the
former into special ids and the latter into ordinary tokens: text never becomes
a control token, whatever it contains.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import tokens as t
from .conversation import Conversation, Message

IDENTITY = "You are ChatGPT, a large language model trained by OpenAI."
KNOWLEDGE_CUTOFF = "2024-06"
VALID_CHANNELS = "# Valid channels: analysis, commentary, final. Channel must be included for every message."


@dataclass(frozen=True)
class Special:
    """A control token, named by its text (e.g. ``<|start|>``)."""

    name: str


@dataclass(frozen=True)
class Text:
    """Plain text: always tokenized as text, never as control tokens."""

    text: str


Segment = Special | Text


def system_content(conversation: Conversation) -> str:
    """The system message body: identity and date, effort, valid channels."""
    return "\n\n".join(
        (
            f"{IDENTITY}\nKnowledge cutoff: {KNOWLEDGE_CUTOFF}\nCurrent date: {conversation.date}",
            f"Reasoning: {conversation.effort}",
            VALID_CHANNELS,
        )
    )


def _message(role: str, content: str, channel: str | None = None) -> list[Segment]:
    segments: list[Segment] = [Special(t.START), Text(role)]
    if channel is not None:
        segments += [Special(t.CHANNEL), Text(channel)]
    return [*segments, Special(t.MESSAGE), Text(content), Special(t.END)]


def _turn(message: Message) -> list[Segment]:
    if message.role == "user":
        return _message("user", message.content)
    # Earlier answers keep only their final text, as the gpt-oss template does.
    return _message("assistant", message.content, channel="final")


def render_segments(conversation: Conversation) -> list[Segment]:
    """The whole prompt, ending with ``<|start|>assistant`` for the model to continue."""
    segments = _message("system", system_content(conversation))
    if conversation.instructions and conversation.instructions.strip():
        segments += _message("developer", f"# Instructions\n\n{conversation.instructions}")
    for message in conversation.messages:
        segments += _turn(message)
    segments += [Special(t.START), Text("assistant")]
    return _merge_text(segments)


def _merge_text(segments: list[Segment]) -> list[Segment]:
    """Join adjacent text segments so each run tokenizes as the model saw it in training."""
    merged: list[Segment] = []
    for segment in segments:
        if isinstance(segment, Text) and merged and isinstance(merged[-1], Text):
            merged[-1] = Text(merged[-1].text + segment.text)
        elif not (isinstance(segment, Text) and segment.text == ""):
            merged.append(segment)
    return merged


def segments_to_text(segments: list[Segment]) -> str:
    """The prompt as text with control tokens spelled out (for people and debugging)."""
    return "".join(s.name if isinstance(s, Special) else s.text for s in segments)


def render_text(conversation: Conversation) -> str:
    """Exact prompt text, special tokens spelled out, nothing after ``<|start|>assistant``."""
    return segments_to_text(render_segments(conversation))
