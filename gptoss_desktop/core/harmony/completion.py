"""Parse a whole completion written as text with control tokens spelled out."""

from __future__ import annotations

from dataclasses import dataclass

from .parser import HarmonyStreamParser, ParsedMessage, split_spelled_out


@dataclass(frozen=True)
class ParsedCompletion:
    """All messages of a completion, and the reasoning and answer a person would see."""

    messages: tuple[ParsedMessage, ...]
    reasoning: str
    answer: str

    def to_json(self) -> dict[str, object]:
        """The shape `gptoss-desktop harmony parse` prints."""
        return {
            "messages": [{"channel": m.channel, "recipient": m.recipient, "content": m.content} for m in self.messages],
            "reasoning": self.reasoning,
            "answer": self.answer,
        }


def parse_completion(text: str) -> ParsedCompletion:
    """Parse what the model wrote after ``<|start|>assistant``."""
    parser = HarmonyStreamParser()
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
        answer="".join(m.content for m in shown if m.channel == "final"),
    )
