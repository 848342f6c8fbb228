"""Parse a whole completion written as text with control tokens spelled out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..events import MalformedMessage, ToolCall
from .parser import HarmonyStreamParser, ParsedMessage, split_spelled_out


@dataclass(frozen=True)
class ParsedCompletion:
    """All messages of a completion, the reasoning and answer a person would see, and any call."""

    messages: tuple[ParsedMessage, ...]
    reasoning: str
    answer: str
    call: ToolCall | None = None
    malformed: tuple[MalformedMessage, ...] = ()

    def to_json(self) -> dict[str, object]:
        """The shape `gptoss-desktop harmony parse` prints."""
        call = self.call
        return {
            "messages": [
                {"channel": m.channel, "recipient": m.recipient, "content_type": m.content_type, "content": m.content}
                for m in self.messages
            ],
            "reasoning": self.reasoning,
            "answer": self.answer,
            "call": None
            if call is None
            else {
                "recipient": call.recipient,
                "channel": call.channel,
                "content_type": call.content_type,
                "arguments": call.arguments,
                "declared": call.declared,
            },
            "malformed": [{"reason": m.reason, "header": m.header, "content": m.content} for m in self.malformed],
        }


def parse_completion(text: str, tools: Iterable[str] = ()) -> ParsedCompletion:
    """Parse what the model wrote after ``<|start|>assistant``; `tools` are the declared recipients."""
    parser = HarmonyStreamParser(tools)
    for is_special, piece in split_spelled_out(text):
        if is_special:
            parser.feed_special(piece)
        else:
            parser.feed_text(piece.encode("utf-8"))
    parser.finish()
    shown = [m for m in parser.messages if m.recipient is None]
    return ParsedCompletion(
        messages=tuple(parser.messages),
        reasoning="".join(m.content for m in shown if m.channel == "analysis"),
        answer="".join(m.content for m in shown if m.channel in (None, "final")),
        call=parser.call,
        malformed=tuple(parser.malformed),
    )
