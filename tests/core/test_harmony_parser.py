"""The streaming parser: same result however the stream is cut, and no control token shown."""

from __future__ import annotations

import pytest

from gptoss_desktop.core.events import AnswerDelta, ChannelDelta, MessageEnded, ParserEvent, ReasoningDelta, coalesce
from gptoss_desktop.core.harmony import HarmonyStreamParser, split_spelled_out
from gptoss_desktop.core.harmony.completion import parse_completion

Piece = tuple[bool, bytes]  # (is_special, text or token name)

TYPICAL = (
    "<|channel|>analysis<|message|>The user asks 12 + 7. Añadir: 19 ✓.<|end|>"
    "<|start|>assistant<|channel|>final<|message|>**19** — ½ of 38 🎉<|return|>"
)


def pieces_of(text: str) -> list[Piece]:
    return [(special, piece.encode()) for special, piece in split_spelled_out(text)]


def run(pieces: list[Piece]) -> list[ParserEvent]:
    parser = HarmonyStreamParser()
    events: list[ParserEvent] = []
    for special, data in pieces:
        events += parser.feed_special(data.decode()) if special else parser.feed_text(data)
    events += parser.finish()
    return list(coalesce(events))  # type: ignore[arg-type]


def split_at(pieces: list[Piece], cut: int) -> list[Piece]:
    """Cut the byte stream of the text pieces at offset `cut` (special tokens stay whole)."""
    out: list[Piece] = []
    offset = 0
    for special, data in pieces:
        if not special and offset < cut < offset + len(data):
            out += [(False, data[: cut - offset]), (False, data[cut - offset :])]
        else:
            out.append((special, data))
        offset += 0 if special else len(data)
    return out


def test_typical_completion() -> None:
    events = run(pieces_of(TYPICAL))
    assert events == [
        ReasoningDelta("The user asks 12 + 7. Añadir: 19 ✓."),
        MessageEnded("analysis", None, "The user asks 12 + 7. Añadir: 19 ✓."),
        AnswerDelta("**19** — ½ of 38 🎉"),
        MessageEnded("final", None, "**19** — ½ of 38 🎉"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        TYPICAL,
        "no channel at all, just an answer that runs longer than any header could possibly be ✓✓✓",
        "<|channel|>analysis thinking but the message token never came ✓<|end|><|start|>assistant"
        "<|channel|>final<|message|>ok ✓",
        '<|channel|>commentary to=functions.lookup <|constrain|>json<|message|>{"q": "ß"}<|call|>',
    ],
)
def test_every_split_point_gives_the_same_events(text: str) -> None:
    whole = run(pieces_of(text))
    total = sum(len(d) for s, d in pieces_of(text) if not s)
    for cut in range(1, total):
        assert run(split_at(pieces_of(text), cut)) == whole, f"cut at byte {cut}"


def test_one_byte_at_a_time_keeps_multibyte_characters_whole() -> None:
    pieces: list[Piece] = []
    for special, data in pieces_of(TYPICAL):
        pieces += [(True, data)] if special else [(False, data[i : i + 1]) for i in range(len(data))]
    assert run(pieces) == run(pieces_of(TYPICAL))


def test_unknown_channel_is_kept_but_not_answer() -> None:
    events = run(
        pieces_of("<|channel|>scratchpad<|message|>notes<|end|><|start|>assistant<|channel|>final<|message|>A")
    )
    assert ChannelDelta("scratchpad", None, "notes") in events
    assert [e.text for e in events if isinstance(e, AnswerDelta)] == ["A"]


def test_tool_call_is_not_shown_as_answer_even_on_final() -> None:
    parsed = parse_completion("<|start|>assistant to=functions.x<|channel|>final<|message|>{}<|call|>")
    assert parsed.answer == ""
    assert parsed.messages[0].recipient == "functions.x"


def test_text_before_the_first_channel_does_not_leak_into_the_answer() -> None:
    parsed = parse_completion(
        "junk<|channel|>analysis<|message|>think<|end|><|start|>assistant<|channel|>final<|message|>B<|return|>"
    )
    assert (parsed.reasoning, parsed.answer) == ("think", "B")


def test_stream_cut_off_mid_message_keeps_what_came() -> None:
    parsed = parse_completion("<|channel|>analysis<|message|>half a thou")
    assert parsed.reasoning == "half a thou"
    assert parsed.answer == ""


def test_stream_cut_inside_a_utf8_character_shows_a_replacement_not_garbage() -> None:
    parser = HarmonyStreamParser()
    parser.feed_special("<|channel|>")
    parser.feed_text(b"final")
    parser.feed_special("<|message|>")
    events = parser.feed_text("ok ✓".encode()[:-1])
    events += parser.finish()
    assert "".join(e.text for e in events if isinstance(e, AnswerDelta)) == "ok \ufffd"


def test_no_control_token_reaches_any_text() -> None:
    noisy = (
        "<|startoftext|><|channel|>analysis<|message|>a<|endoftext|>b<|message|>c<|end|><|end|><|start|>"
        "assistant<|channel|>final<|reserved_200017|><|message|>d<|constrain|>e<|return|>late"
    )
    parsed = parse_completion(noisy)
    everything = parsed.reasoning + parsed.answer + "".join(m.content for m in parsed.messages)
    assert "<|" not in everything
    assert (parsed.reasoning, parsed.answer) == ("abc", "de")


def test_nothing_is_parsed_after_return() -> None:
    parser = HarmonyStreamParser()
    parser.feed_special("<|return|>")
    assert parser.done and parser.feed_text(b"more") == [] and parser.stop_token == "<|return|>"
