"""Harmony, gpt-oss's prompt format: rendering conversations and parsing completions."""

from .conversation import (
    CHANNELS,
    EFFORTS,
    Conversation,
    Effort,
    Message,
    Role,
    answer_call,
    tool_call,
    tool_result,
)
from .parser import HarmonyStreamParser, ParsedMessage, split_spelled_out
from .render import (
    Segment,
    Special,
    Text,
    developer_content,
    kept_messages,
    message_segments,
    render_segments,
    render_text,
    segments_to_text,
    system_content,
)
from .tools import BROWSER, BUILTIN_TOOLS, PYTHON, Function, ToolNamespace, browser_tool, builtin_tool

__all__ = [
    "BROWSER",
    "BUILTIN_TOOLS",
    "CHANNELS",
    "EFFORTS",
    "PYTHON",
    "Conversation",
    "Effort",
    "Function",
    "HarmonyStreamParser",
    "Message",
    "ParsedMessage",
    "Role",
    "Segment",
    "Special",
    "Text",
    "ToolNamespace",
    "answer_call",
    "browser_tool",
    "builtin_tool",
    "developer_content",
    "kept_messages",
    "message_segments",
    "render_segments",
    "render_text",
    "segments_to_text",
    "split_spelled_out",
    "system_content",
    "tool_call",
    "tool_result",
]
