"""Many generated schemas and completions, each checked against openai-harmony 0.0.8.

The generators are seeded, so a failure names a case that can be replayed; they combine every
JSON Schema keyword openai-harmony's renderer reads, and every header form a completion can take.
"""

from __future__ import annotations

import random

import openai_harmony as rh
import pytest

from gptoss_desktop.core.harmony import Conversation, Function, Message, render_text
from tests.core.test_harmony_agreement_parse import feed, ours, theirs
from tests.fixtures.harmony_reference import to_reference

WORDS = ["city", "unit", "ünïcode", "x", "list_of_things", "Q"]
TEXTS = ["A city", "two\nlines", 'with "quotes"', "é ✓ 🎉", ""]
VALUES: list[object] = [0, -1, 2.5, 1e-7, 1e21, True, None, "s", 'q"uote', [1, "a"], {"k": [None]}]


def schema(rng: random.Random, depth: int) -> object:
    if rng.random() < 0.05:
        return rng.choice([True, {}, "not a schema"])
    kind = rng.choice(["string", "number", "integer", "boolean", "array", "object", "null", ["string", "null"], None])
    out: dict[str, object] = {} if kind is None else {"type": kind}
    if kind == "object" and depth < 3:
        properties = {rng.choice(WORDS) + str(i): schema(rng, depth + 1) for i in range(rng.randint(0, 4))}
        out["properties"] = properties
        if properties and rng.random() < 0.6:
            out["required"] = rng.sample(sorted(properties), rng.randint(1, len(properties)))
    if kind == "array" and rng.random() < 0.8 and depth < 3:
        out["items"] = schema(rng, depth + 1)
    if rng.random() < 0.3:
        out["enum"] = rng.sample(["a", "b", "c", 1], rng.randint(0, 3))
    if rng.random() < 0.15 and depth < 3:
        out["oneOf"] = [schema(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    for key, chance in (("description", 0.4), ("title", 0.15)):
        if rng.random() < chance:
            out[key] = rng.choice(TEXTS)
    if rng.random() < 0.3:
        out["default"] = rng.choice([*VALUES, "a"])
    if rng.random() < 0.15:
        out["nullable"] = rng.random() < 0.8
    if rng.random() < 0.1:
        out["examples"] = rng.sample(["hello", "world", 3], rng.randint(0, 3))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_generated_schemas_render_as_in_openai_harmony(harmony_reference: rh.HarmonyEncoding, seed: int) -> None:
    rng = random.Random(seed)
    functions = tuple(
        Function(f"f{i}", rng.choice(TEXTS), {"type": "object", "properties": {"p": schema(rng, 1)}} if i else None)
        for i in range(5)
    ) + tuple(Function(f"top{i}", "", top if isinstance(top := schema(rng, 0), dict) else {}) for i in range(5))
    conversation = Conversation((Message("user", "go"),), date="2026-01-01", functions=functions)
    expected = harmony_reference.render_conversation_for_completion(
        to_reference(conversation, conversation.messages), rh.Role.ASSISTANT
    )
    assert render_text(conversation) == harmony_reference.decode_utf8(expected)


def header(rng: random.Random, first: bool) -> tuple[str, str]:
    """A well-formed header (after <|start|> unless first) and how the message ends."""
    channel = rng.choice(["analysis", "commentary", "final"])
    recipient = rng.choice([None, None, "python", "browser.search", "functions.get_weather", "lookup"])
    content_type = rng.choice([None, "code", "json", "<|constrain|>json"]) if recipient else None
    role = "" if first else "assistant"
    if recipient and rng.random() < 0.5:  # recipient in the role part
        text = f"{role} to={recipient}<|channel|>{channel}"
    else:
        text = f"{role}<|channel|>{channel}" + (f" to={recipient}" if recipient else "")
    if content_type:
        text += rng.choice([" ", ""]) + content_type if content_type.startswith("<|") else f" {content_type}"
    return text, "<|call|>" if recipient else rng.choice(["<|end|>", "<|return|>"])


@pytest.mark.parametrize("seed", range(60))
def test_generated_completions_parse_as_in_openai_harmony(harmony_reference: rh.HarmonyEncoding, seed: int) -> None:
    rng = random.Random(seed)
    text = ""
    for index in range(rng.randint(1, 4)):
        head, end = header(rng, first=index == 0)
        body = "".join(
            rng.choice(["x", " ", "é", "✓", "🎉", "\n", "{", '"', "1", "ab"]) for _ in range(rng.randint(0, 40))
        )
        text += ("" if index == 0 else "<|start|>") + head + "<|message|>" + body
        if rng.random() < 0.1:
            break  # a stream cut off inside a message
        text += end
        if end != "<|end|>":
            break
    parser, _ = feed(harmony_reference, text)
    assert ours(parser) == theirs(harmony_reference, text), text
    assert not parser.malformed
