"""The exact prompt a model received, kept with the answer so a person can inspect it.

Built on the engine's thread from the token ids it is about to evaluate, so what is shown is
what the model got: control tokens apart from text (a `<|start|>` typed by the person stays
text), one part per message with its own token count, and the messages left out to fit the
context. Plain data: stored with the answer as JSON, shown by the window's prompt inspector.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

#: A piece of a prompt: its text, and whether it is one control token (shown marked) or plain text.
Piece = tuple[str, bool]


class PromptVocabulary(Protocol):
    """What describing a prompt needs of a vocabulary (the local engine's Vocabulary has it)."""

    @property
    def special_names(self) -> Mapping[int, str]: ...

    def piece(self, token: int) -> bytes: ...


@dataclass(frozen=True)
class PromptPart:
    """One message of the prompt (or what comes before the first): its pieces and how many tokens it took."""

    role: str
    pieces: tuple[Piece, ...]
    tokens: int

    @property
    def text(self) -> str:
        """The part as text, control tokens spelled out."""
        return "".join(text for text, _control in self.pieces)


@dataclass(frozen=True)
class PromptSent:
    """The prompt an answer's model received, before any text of the answer.

    ``left_out`` names the messages dropped to fit the context ("user: What is…"), oldest first.
    """

    parts: tuple[PromptPart, ...]
    context_size: int
    left_out: tuple[str, ...] = ()

    @property
    def tokens(self) -> int:
        """Tokens of the whole prompt."""
        return sum(part.tokens for part in self.parts)

    @property
    def text(self) -> str:
        """The whole prompt as text, control tokens spelled out (what Copy gives)."""
        return "".join(part.text for part in self.parts)

    def to_bytes(self) -> bytes:
        """Compressed JSON for a database column: prompts repeat the conversation, and compress well."""
        document = {
            "context_size": self.context_size,
            "left_out": list(self.left_out),
            "parts": [{"role": p.role, "tokens": p.tokens, "pieces": [list(x) for x in p.pieces]} for p in self.parts],
        }
        return zlib.compress(json.dumps(document, ensure_ascii=False).encode("utf-8"))

    @classmethod
    def from_bytes(cls, data: bytes | None) -> PromptSent | None:
        """Read what to_bytes wrote; None for nothing or anything damaged."""
        if not data:
            return None
        try:
            document = json.loads(zlib.decompress(data))
            parts = tuple(
                PromptPart(
                    str(p["role"]), tuple((str(text), bool(control)) for text, control in p["pieces"]), int(p["tokens"])
                )
                for p in document["parts"]
            )
            return cls(parts, int(document["context_size"]), tuple(str(x) for x in document["left_out"]))
        except (ValueError, TypeError, KeyError, zlib.error):
            return None


def opens_message(name: str) -> bool:
    """Whether a control token begins a message: harmony's <|start|>, ChatML's <|im_start|>, Llama 3's
    <|start_header_id|>, Gemma's <start_of_turn>; not a beginning-of-text token."""
    lowered = name.lower()
    return "start" in lowered and "text" not in lowered


def describe_prompt(
    ids: Sequence[int], vocabulary: PromptVocabulary, context_size: int, left_out: Sequence[str] = ()
) -> PromptSent:
    """The prompt `ids` as parts a person can read: one per message, control tokens marked."""
    names = vocabulary.special_names
    parts: list[PromptPart] = []
    pieces: list[Piece] = []
    text: list[bytes] = []
    tokens = 0

    def end_text() -> None:
        if text:
            pieces.append((b"".join(text).decode("utf-8", errors="replace"), False))
            text.clear()

    def end_part() -> None:
        end_text()
        if pieces:
            parts.append(PromptPart(_role(pieces), tuple(pieces), tokens))
            pieces.clear()

    for token in ids:
        name = names.get(token)
        if name is None:
            text.append(vocabulary.piece(token))
        else:
            if opens_message(name):
                end_part()
                tokens = 0
            end_text()
            pieces.append((name, True))
        tokens += 1
    end_part()
    return PromptSent(tuple(parts), context_size, tuple(left_out))


def _role(pieces: Sequence[Piece]) -> str:
    """Who a part is from: the first word of text after its opening control token ("" for what precedes any)."""
    if not pieces or not pieces[0][1]:
        return ""
    following = next((text for text, control in pieces[1:] if not control), "")
    words = following.split()
    return words[0] if words else ""


def left_out_summary(role: str, content: str, width: int = 60) -> str:
    """How the inspector names a message dropped from the prompt: role and its first words."""
    flat = " ".join(content.split())
    return f"{role}: {flat if len(flat) <= width else flat[: width - 1].rstrip() + '…'}"
