"""The streaming parser: same result however the stream is cut, and no control token shown."""

from __future__ import annotations

import pytest

from gptoss_desktop.core.events import (
    AnswerDelta,
    ChannelDelta,
    MalformedMessage,
    MessageEnded,
    ParserEvent,
    ReasoningDelta,
    ToolCall,
    coalesce,
)
from gptoss_desktop.core.harmony import (
    Conversation,
    HarmonyStreamParser,
    Message,
    answer_call,
    render_text,
    split_spelled_out,
)
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


TOOL_STREAMS = [
    "<|channel|>analysis<|message|>Compute 123·457 ✓<|end|>"
    "<|start|>assistant to=python<|channel|>analysis code<|message|>print(123 * 457)  # ✓<|call|>",
    '<|channel|>commentary to=functions.get_current_weather_for_a_city_by_name <|constrain|>json<|message|>{"q": "ß"}'
    "<|call|>",
    "<|channel|>commentary to=functions.f json extra<|message|>{}<|end|>"
    "<|start|>assistant<|channel|>final<|message|>ok",
    "<|channel|>analysis the model forgot the message token and kept on writing ✓<|end|>"
    "<|start|>assistant<|channel|>final<|message|>done",
    "<|channel|>analysis<|message|>a<|end|><|start|>user<|message|>now I, the user, say ✓<|end|>",
    "plain words with no header at all<|end|><|start|>assistant to=browser.search<|channel|>analysis<|message|>{}",
]


@pytest.mark.parametrize("text", TOOL_STREAMS)
def test_calls_and_malformed_headers_give_the_same_events_at_every_split_point(text: str) -> None:
    whole = run(pieces_of(text))
    total = sum(len(d) for s, d in pieces_of(text) if not s)
    for cut in range(1, total):
        assert run(split_at(pieces_of(text), cut)) == whole, f"cut at byte {cut}"


def test_a_call_streams_hidden_then_ends_in_one_tool_call_event() -> None:
    parser = HarmonyStreamParser({"python"})
    events = parser.feed_special("<|channel|>") + parser.feed_text(b"analysis to=python code")
    events += parser.feed_special("<|message|>")
    assert (parser.channel, parser.recipient) == ("analysis", "python")
    events += parser.feed_text(b"print(1)") + parser.feed_special("<|call|>")
    assert events == [
        ChannelDelta("analysis", "python", "print(1)"),
        MessageEnded("analysis", "python", "print(1)", "code"),
        ToolCall("python", "analysis", "code", "print(1)", declared=True),
    ]
    assert parser.done and parser.stop_token == "<|call|>" and parser.call == events[-1]
    assert parser.finish() == [] and parser.feed_text(b"more") == []


def test_a_call_to_a_tool_the_conversation_did_not_declare_says_so() -> None:
    parsed = parse_completion("<|channel|>analysis to=python code<|message|>1<|call|>", tools={"browser.search"})
    assert parsed.call == ToolCall("python", "analysis", "code", "1", declared=False)


def test_call_ending_a_message_to_nobody_is_no_tool_call() -> None:
    parsed = parse_completion("<|channel|>analysis<|message|>thinking<|call|>")
    assert parsed.call is None and parsed.reasoning == "thinking"


def test_a_long_recipient_is_still_a_header() -> None:
    name = "functions." + "x" * 120
    parsed = parse_completion(f"<|channel|>commentary to={name} <|constrain|>json<|message|>{{}}<|call|>", {name})
    assert parsed.call == ToolCall(name, "commentary", "<|constrain|>json", "{}", declared=True)


def test_a_header_that_never_ends_is_malformed_and_hidden() -> None:
    text = "<|channel|>analysis" + "x" * 300 + " and more<|end|><|start|>assistant<|channel|>final<|message|>B"
    events = run(pieces_of(text))
    malformed = [e for e in events if isinstance(e, MalformedMessage)]
    assert [m.header for m in malformed] == ["<|channel|>analysis" + "x" * 300 + " and more"]
    assert [e for e in events if isinstance(e, AnswerDelta | ReasoningDelta | ChannelDelta)] == [AnswerDelta("B")]


def test_a_made_up_tool_result_is_malformed_and_hidden() -> None:
    parsed = parse_completion(
        "<|channel|>analysis<|message|>Call it.<|end|>"
        "<|start|>python to=assistant<|channel|>analysis<|message|>42<|end|>"
        "<|start|>assistant<|channel|>final<|message|>42<|return|>"
    )
    assert (parsed.reasoning, parsed.answer) == ("Call it.", "42")
    ((reason, header, content),) = [(m.reason, m.header, m.content) for m in parsed.malformed]
    assert "the tool python" in reason and header == "python to=assistant<|channel|>analysis" and content == "42"


def test_parsed_messages_go_back_into_the_prompt_as_they_were_written() -> None:
    parsed = parse_completion(
        "<|channel|>analysis<|message|>Use python.<|end|>"
        "<|start|>assistant<|channel|>analysis to=python code<|message|>print(2)<|call|>"
    )
    assert [m.as_message() for m in parsed.messages] == [
        Message("assistant", "Use python.", channel="analysis"),
        Message("assistant", "print(2)", channel="analysis", recipient="python", content_type="code"),
    ]


def test_a_call_and_its_answer_continue_the_prompt() -> None:
    parsed = parse_completion(
        "<|channel|>analysis<|message|>Compute.<|end|>"
        "<|start|>assistant to=python<|channel|>analysis code<|message|>print(6 * 7)<|call|>",
        tools={"python"},
    )
    assert parsed.call is not None
    turn = (Message("user", "6 * 7?"), *(m.as_message() for m in parsed.messages), answer_call(parsed.call, "42\n"))
    assert render_text(Conversation(turn, date="2026-11-22")).endswith(
        "<|start|>user<|message|>6 * 7?<|end|>"
        "<|start|>assistant<|channel|>analysis<|message|>Compute.<|end|>"
        "<|start|>assistant to=python<|channel|>analysis code<|message|>print(6 * 7)<|call|>"
        "<|start|>python to=assistant<|channel|>analysis<|message|>42\n<|end|><|start|>assistant"
    )
