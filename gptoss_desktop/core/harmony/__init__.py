"""Harmony, gpt-oss's prompt format: rendering conversations and parsing completions."""

from .conversation import EFFORTS, Conversation, Effort, Message
from .parser import HarmonyStreamParser, ParsedMessage, split_spelled_out
from .render import Segment, Special, Text, render_segments, render_text, segments_to_text, system_content

__all__ = [
    "EFFORTS",
    "Conversation",
    "Effort",
    "HarmonyStreamParser",
    "Message",
    "ParsedMessage",
    "Segment",
    "Special",
    "Text",
    "render_segments",
    "render_text",
    "segments_to_text",
    "split_spelled_out",
    "system_content",
]
