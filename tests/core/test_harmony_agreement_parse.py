"""Our streaming parser reads completions as openai-harmony 0.0.8 does, token by token.

Completions are tokenized by the reference encoding and fed to both parsers one token at a time
(ours as the engine feeds it: control tokens by name, other tokens as raw bytes, which may end
inside a UTF-8 character). Headers the reference rejects are malformed for us too: reported,
never shown.
"""

from __future__ import annotations

import openai_harmony as rh
import pytest

from gptoss_desktop.core.events import (
    AnswerDelta,
    ChannelDelta,
    MalformedMessage,
    ParserEvent,
    ReasoningDelta,
    ToolCall,
)
from gptoss_desktop.core.harmony import HarmonyStreamParser, Message, message_segments, segments_to_text, tool_call

Parsed = tuple[str, str | None, str | None, str | None, str | None, str]  # role, name, channel, recipient, type, text


def feed(
    reference: rh.HarmonyEncoding, text: str, tools: frozenset[str] = frozenset()
) -> tuple[HarmonyStreamParser, list[ParserEvent]]:
    parser = HarmonyStreamParser(tools)
    events: list[ParserEvent] = []
    for token in reference.encode(text, allowed_special="all"):
        if reference.is_special_token(token):
            events += parser.feed_special(reference.decode_utf8([token]))
        else:
            events += parser.feed_text(
                reference.decode([token], errors="surrogateescape").encode("utf-8", "surrogateescape")
            )
    events += parser.finish()
    return parser, events


def theirs(reference: rh.HarmonyEncoding, text: str) -> list[Parsed]:
    tokens = reference.encode(text, allowed_special="all")
    role = None if text.startswith("<|start|>") else rh.Role.ASSISTANT
    messages = reference.parse_messages_from_completion_tokens(tokens, role)
    return [
        (m.author.role.value, m.author.name, m.channel, m.recipient, m.content_type, "".join(c.text for c in m.content))  # type: ignore[attr-defined]
        for m in messages
    ]


def ours(parser: HarmonyStreamParser) -> list[Parsed]:
    return [("assistant", None, m.channel, m.recipient, m.content_type, m.content) for m in parser.messages]


SF = '{"location": "San Francisco"}'
WEATHER_ROLE_PART = "<|start|>assistant to=functions.get_weather<|channel|>commentary"
WEATHER_CHANNEL_PART = "<|start|>assistant<|channel|>commentary to=functions.get_weather"
COMPLETIONS = {
    "reasoning then answer": "<|channel|>analysis<|message|>User asks: “2 + 2?” Simple.<|end|>"
    "<|start|>assistant<|channel|>final<|message|>2 + 2 = 4. ✓ 🎉<|return|>",
    "function call, recipient in the role part": "<|channel|>analysis<|message|>Use the tool.<|end|>"
    f"{WEATHER_ROLE_PART} <|constrain|>json<|message|>{SF}<|call|>",
    "function call, recipient in the channel part": "<|channel|>analysis<|message|>Need get_weather.<|end|>"
    f"{WEATHER_CHANNEL_PART} <|constrain|>json<|message|>{SF}<|call|>",
    "constrain right after the channel": f"{WEATHER_ROLE_PART}<|constrain|>json<|message|>{SF}<|call|>",
    "constrain right after the recipient": f"{WEATHER_CHANNEL_PART}<|constrain|>json<|message|>{SF}<|call|>",
    "json as a bare word": f"{WEATHER_ROLE_PART} json<|message|>{SF}<|call|>",
    "constrain with nothing after it": f"{WEATHER_ROLE_PART} <|constrain|><|message|>{SF}<|call|>",
    "python call in the role part": "<|channel|>analysis<|message|>Compute it.<|end|>"
    "<|start|>assistant to=python<|channel|>analysis code<|message|>print(123 * 457)<|call|>",
    "python call in the channel part": "<|channel|>analysis to=python code<|message|>import math\n"
    "print(math.pi)<|call|>",
    "the first header carries the recipient": " to=python<|channel|>analysis code<|message|>print('é')<|call|>",
    "browser search": "<|channel|>analysis<|message|>Search.<|end|>"
    '<|start|>assistant<|channel|>analysis to=browser.search code<|message|>{"query": "lease", "topn": 5}<|call|>',
    "browser open without a content type": "<|start|>assistant to=browser.open<|channel|>analysis<|message|>"
    '{"id": 2}<|call|>',
    "a recipient without a namespace": "<|channel|>analysis<|message|>Use lookup_weather.<|end|>"
    '<|start|>assistant to=lookup_weather<|channel|>analysis code<|message|>{"location": "Tokyo"}<|call|>',
    "a preamble before the call": "<|channel|>analysis<|message|>Plan.<|end|>"
    "<|start|>assistant<|channel|>commentary<|message|>**Plan**: 1. fetch\n2. answer<|end|>"
    '<|start|>assistant to=functions.fetch<|channel|>commentary<|constrain|>json<|message|>{"u": 1}<|call|>',
    "a message without a channel": "<|start|>assistant<|message|>plain<|end|>",
    "a cut-off answer": "<|channel|>analysis<|message|>Think.<|end|>"
    "<|start|>assistant<|channel|>final<|message|>half an ans",
    "a cut-off call": "<|channel|>analysis to=python code<|message|>for i in range(",
    "long arguments": f"<|channel|>commentary to=functions.{'very_long_function_name_' * 3} <|constrain|>json"
    + '<|message|>{"x": "'
    + "ß" * 300
    + '"}<|call|>',
}


@pytest.mark.parametrize("text", COMPLETIONS.values(), ids=COMPLETIONS.keys())
def test_messages_agree_with_openai_harmony(harmony_reference: rh.HarmonyEncoding, text: str) -> None:
    parser, events = feed(harmony_reference, text)
    assert ours(parser) == theirs(harmony_reference, text)
    assert not parser.malformed and not any(isinstance(e, MalformedMessage) for e in events)


@pytest.mark.parametrize("text", COMPLETIONS.values(), ids=COMPLETIONS.keys())
def test_only_messages_to_nobody_are_shown(harmony_reference: rh.HarmonyEncoding, text: str) -> None:
    parser, events = feed(harmony_reference, text)
    shown = "".join(e.text for e in events if isinstance(e, ReasoningDelta | AnswerDelta))
    assert shown == "".join(m.content for m in parser.messages if m.recipient is None and m.channel != "commentary")
    hidden = "".join(e.text for e in events if isinstance(e, ChannelDelta))
    assert hidden == "".join(m.content for m in parser.messages if m.recipient is not None or m.channel == "commentary")


@pytest.mark.parametrize("text", COMPLETIONS.values(), ids=COMPLETIONS.keys())
def test_a_call_ended_by_call_is_one_tool_call_event(harmony_reference: rh.HarmonyEncoding, text: str) -> None:
    declared = frozenset({"python", "browser.search", "functions.get_weather"})
    parser, events = feed(harmony_reference, text, declared)
    calls = [e for e in events if isinstance(e, ToolCall)]
    last = parser.messages[-1]
    if text.endswith("<|call|>"):
        assert (
            calls
            == [parser.call]
            == [ToolCall(last.recipient, last.channel, last.content_type, last.content, last.recipient in declared)]
        )  # type: ignore[arg-type]
        assert parser.stop_token == "<|call|>"
    else:
        assert calls == [] and parser.call is None


def test_an_undeclared_tool_is_reported_as_such(harmony_reference: rh.HarmonyEncoding) -> None:
    text = "<|channel|>analysis to=container.exec code<|message|>ls /<|call|>"
    _, events = feed(harmony_reference, text, frozenset({"python"}))
    assert events[-1] == ToolCall("container.exec", "analysis", "code", "ls /", declared=False)


def test_a_rendered_call_parses_back_to_itself(harmony_reference: rh.HarmonyEncoding) -> None:
    calls = [
        tool_call("python", "print(1)\n", content_type="code"),
        tool_call("functions.get_weather", SF, "commentary", "<|constrain|>json"),
        tool_call("browser.find", '{"pattern": "rent"}', "analysis", "json"),
        tool_call("functions.ping", "{}", "commentary"),
    ]
    for call in calls:
        text = segments_to_text(message_segments(call))
        parser, _ = feed(harmony_reference, text)
        assert [m.as_message() for m in parser.messages] == [call]
        assert ours(parser) == theirs(harmony_reference, text)


# Headers openai-harmony (strict, as it parses by default) rejects; the model writes such things at
# temperature 1 (llama.cpp#27720, openai/harmony#38).
REJECTED = {
    "stray words after the channel": "<|channel|>commentary to=functions.f json extra<|message|>{}<|call|>",
    "a recipient after the content type": "<|channel|>commentary json to=functions.f<|message|>{}<|call|>",
    "a channel mark with no name": "<|channel|><|message|>hello<|end|>",
    "free text after the channel mark": "<|channel|>the user wants me to check the weather<|message|>sunny<|end|>",
    "an unknown author after start": "<|channel|>analysis<|message|>ok<|end|><|start|>bash<|message|>rm -rf /<|end|>",
}


@pytest.mark.parametrize("text", REJECTED.values(), ids=REJECTED.keys())
def test_headers_openai_harmony_rejects_are_malformed_and_never_shown(
    harmony_reference: rh.HarmonyEncoding, text: str
) -> None:
    with pytest.raises(rh.HarmonyError):
        theirs(harmony_reference, text)
    parser, events = feed(harmony_reference, text)
    (malformed,) = [e for e in events if isinstance(e, MalformedMessage)]
    assert malformed.reason and malformed in parser.malformed
    shown = "".join(e.text for e in events if isinstance(e, ReasoningDelta | AnswerDelta | ChannelDelta))
    assert shown == "".join(m.content for m in parser.messages)  # the well-formed messages only
    assert parser.call is None


def test_made_up_messages_from_other_authors_are_malformed(harmony_reference: rh.HarmonyEncoding) -> None:
    """openai-harmony reads these as messages from the user or a tool; in a completion the model
    made them up (a hallucinated tool result, a turn written for the user), so we report them."""
    for author in ("user", "functions.get_weather to=assistant<|channel|>commentary"):
        text = f"<|channel|>analysis<|message|>Wait.<|end|><|start|>{author}<|message|>made up<|end|>"
        theirs(harmony_reference, text)  # accepted there
        parser, events = feed(harmony_reference, text)
        assert [m.content for m in parser.messages] == ["Wait."]
        assert [e.content for e in events if isinstance(e, MalformedMessage)] == ["made up"]
        assert not any(
            "made up" in e.text for e in events if isinstance(e, ReasoningDelta | AnswerDelta | ChannelDelta)
        )


def test_a_header_that_never_reaches_message_is_malformed(harmony_reference: rh.HarmonyEncoding) -> None:
    """openai-harmony's lenient mode keeps such text as content; we report it instead of showing it."""
    text = "<|channel|>analysis I must refuse<|end|><|start|>assistant<|channel|>final<|message|>Sorry.<|return|>"
    _, events = feed(harmony_reference, text)
    assert [e.header for e in events if isinstance(e, MalformedMessage)] == ["<|channel|>analysis I must refuse"]
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta | AnswerDelta | ChannelDelta)) == "Sorry."


def test_text_without_any_header_is_the_answer_as_in_openai_harmony(harmony_reference: rh.HarmonyEncoding) -> None:
    text = "I must refuse that request, sorry.<|end|><|start|>assistant<|channel|>final<|message|>No.<|return|>"
    parser, _ = feed(harmony_reference, text)
    lenient = harmony_reference.parse_messages_from_completion_tokens(
        harmony_reference.encode(text, allowed_special="all"), rh.Role.ASSISTANT, strict=False
    )
    assert [(m.channel, "".join(c.text for c in m.content)) for m in lenient] == [  # type: ignore[attr-defined]
        (None, "I must refuse that request, sorry."),
        ("final", "No."),
    ]
    assert [(m.channel, m.content) for m in parser.messages] == [
        (None, "I must refuse that request, sorry."),
        ("final", "No."),
    ]


def test_a_call_that_does_not_end_with_call_is_no_tool_call(harmony_reference: rh.HarmonyEncoding) -> None:
    text = (
        "<|channel|>commentary to=functions.f <|constrain|>json<|message|>{}<|end|>"
        "<|start|>assistant<|channel|>final<|message|>Hi<|return|>"
    )
    parser, events = feed(harmony_reference, text, frozenset({"functions.f"}))
    assert ours(parser) == theirs(harmony_reference, text)
    assert parser.call is None and not any(isinstance(e, ToolCall) for e in events)
    assert (
        Message("assistant", "{}", channel="commentary", recipient="functions.f", content_type="<|constrain|>json")
        == parser.messages[0].as_message()
    )
