"""Render a conversation into harmony as a sequence of segments.

Segments keep control tokens apart from plain text, so the caller can turn the
former into special ids and the latter into ordinary tokens: text never becomes
a control token, whatever it contains. The text is cut where openai-harmony cuts
it (role, ` to=...`, channel, content type and content are tokenized apart), so
the token ids match the reference renderer's, not only the text.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import tokens as t
from .conversation import Conversation, Message
from .schema import tools_section
from .tools import FUNCTIONS, ToolNamespace

IDENTITY = "You are ChatGPT, a large language model trained by OpenAI."
KNOWLEDGE_CUTOFF = "2024-06"
VALID_CHANNELS = "# Valid channels: analysis, commentary, final. Channel must be included for every message."
FUNCTION_CHANNEL = "Calls to these tools must go to the commentary channel: 'functions'."


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
    """The system message body: identity and date, effort, builtin tools, valid channels."""
    sections = [
        f"{IDENTITY}\nKnowledge cutoff: {KNOWLEDGE_CUTOFF}\nCurrent date: {conversation.date}",
        f"Reasoning: {conversation.effort}",
    ]
    if conversation.tools:
        sections.append(tools_section(conversation.tools))
    channels = VALID_CHANNELS
    if conversation.functions:
        channels += "\n" + FUNCTION_CHANNEL
    return "\n\n".join([*sections, channels])


def developer_content(conversation: Conversation) -> str | None:
    """The developer message body (instructions, then function tools), or None when there is neither."""
    sections = []
    if conversation.instructions and conversation.instructions.strip():
        sections += ["# Instructions", conversation.instructions]
    if conversation.functions:
        sections.append(tools_section([ToolNamespace(FUNCTIONS, None, conversation.functions)]))
    return "\n\n".join(sections) if sections else None


def message_segments(message: Message) -> list[Segment]:
    """One message as openai-harmony renders it; a finished answer goes on the final channel.

    A call keeps its recipient in the role part and ends with ``<|call|>``; a content type
    starting with ``<|constrain|>`` keeps that marker a control token.
    """
    author = (message.name or "") if message.role == "tool" else message.role
    segments: list[Segment] = [Special(t.START), Text(author)]
    if message.recipient is not None and message.recipient != "all":
        segments.append(Text(f" to={message.recipient}"))
    channel = message.channel
    if message.is_final_answer and channel is None:
        channel = "final"  # a finished answer
    if channel is not None:
        segments += [Special(t.CHANNEL), Text(channel)]
    if message.content_type is not None:
        if message.content_type.startswith(t.CONSTRAIN):
            segments += [Text(" "), Special(t.CONSTRAIN), Text(message.content_type.removeprefix(t.CONSTRAIN))]
        else:
            segments.append(Text(f" {message.content_type}"))
    calls = message.role == "assistant" and message.recipient is not None
    segments += [Special(t.MESSAGE), Text(message.content), Special(t.CALL if calls else t.END)]
    return segments


def kept_messages(conversation: Conversation) -> tuple[Message, ...]:
    """The messages the prompt shows: the chain of thought before the last final answer is dropped.

    Everything on the analysis channel (reasoning, builtin tool calls and their results) is kept
    while a turn's tools run and dropped once a final answer follows it, as gpt-oss's chat
    template does (openai-harmony drops only what comes before the first final answer).
    """
    messages = conversation.messages
    last_final = max((i for i, m in enumerate(messages) if m.is_final_answer), default=-1)
    return tuple(m for i, m in enumerate(messages) if i > last_final or m.channel != "analysis")


def render_segments(conversation: Conversation) -> list[Segment]:
    """The whole prompt, ending with ``<|start|>assistant`` for the model to continue."""
    segments = _plain("system", system_content(conversation))
    developer = developer_content(conversation)
    if developer is not None:
        segments += _plain("developer", developer)
    for message in kept_messages(conversation):
        segments += message_segments(message)
    segments += [Special(t.START), Text("assistant")]
    return [s for s in segments if not (isinstance(s, Text) and s.text == "")]


def _plain(role: str, content: str) -> list[Segment]:
    return [Special(t.START), Text(role), Special(t.MESSAGE), Text(content), Special(t.END)]


def segments_to_text(segments: list[Segment]) -> str:
    """The prompt as text with control tokens spelled out (for people and debugging)."""
    return "".join(s.name if isinstance(s, Special) else s.text for s in segments)


def render_text(conversation: Conversation) -> str:
    """Exact prompt text, special tokens spelled out, nothing after ``<|start|>assistant``."""
    return segments_to_text(render_segments(conversation))
