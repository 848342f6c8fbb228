"""What a request imposes on the reply's messages as the model opens them: a grammar on the answer or
on a call's arguments, and a call the reply must make.

The engine asks at each `<|message|>` the model writes. A forced call replaces the header the model
was writing (anything but its reasoning) with the call's own, so the model reasons freely, then
writes the call's arguments under their grammar.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engine import ChatRequest
from ..harmony import HarmonyStreamParser, Special, message_segments, tool_call
from ..harmony import tokens as harmony_tokens
from .vocabulary import Vocabulary


@dataclass(frozen=True)
class Opened:
    """What to do now that a message was opened: go on under `grammar` (None: freely), and with
    `header` (token ids) in place of the model's own header when a forced call takes over."""

    grammar: str | None
    header: list[int] | None = None
    is_call: bool = False


class ReplyRules:
    """The request's rules, applied once: after the first message that a rule binds, the reply ends
    when that message does."""

    def __init__(self, request: ChatRequest, vocabulary: Vocabulary) -> None:
        self._answer = request.answer_grammar
        self._calls = dict(request.call_grammars)
        self._forced = request.forced_call
        self._vocabulary = vocabulary
        self.spent = False

    def without_harmony(self) -> str | None:
        """A model without harmony: its whole output is the answer, bound from the first token."""
        self.spent = True
        return self._answer

    def opened(self, parser: HarmonyStreamParser) -> Opened | None:
        """Called right after a `<|message|>`; None when no rule concerns this message."""
        if self.spent or (parser.channel is None and parser.recipient is None):
            return None
        recipient = parser.recipient
        if self._forced is not None and recipient != self._forced and parser.channel != "analysis":
            self.spent = True
            return Opened(self._calls.get(self._forced), self._call_header(self._forced), is_call=True)
        if recipient is not None and recipient in self._calls:
            self.spent = True
            return Opened(self._calls[recipient], is_call=True)
        if recipient is None and parser.channel == "final" and self._answer is not None:
            self.spent = True
            return Opened(self._answer)
        return None

    def _call_header(self, recipient: str) -> list[int]:
        """`<|start|>assistant to=RECIPIENT<|channel|>commentary <|constrain|>json<|message|>` as ids,
        as the renderer writes a call back into a prompt."""
        content_type = "<|constrain|>json" if harmony_tokens.CONSTRAIN in self._vocabulary.special_ids else "json"
        segments = message_segments(tool_call(recipient, "", channel="commentary", content_type=content_type))
        end = next(i for i, s in enumerate(segments) if s == Special(harmony_tokens.MESSAGE))
        return self._vocabulary.encode(segments[: end + 1])
