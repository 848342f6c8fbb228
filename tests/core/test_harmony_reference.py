"""The offline reference itself: openai-harmony 0.0.8 loads the rebuilt vocabulary and speaks harmony."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from openai_harmony import Conversation, HarmonyEncoding, Message, Role, SystemContent

from tests.fixtures.harmony_reference import VOCABULARY_FILE, VOCABULARY_SHA256, vocabulary_folder


def test_the_rebuilt_vocabulary_is_tiktokens_exact_file() -> None:
    content = (vocabulary_folder() / VOCABULARY_FILE).read_bytes()
    assert hashlib.sha256(content).hexdigest() == VOCABULARY_SHA256
    assert content.count(b"\n") == 199_998


def test_a_damaged_vocabulary_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKTOKEN_ENCODINGS_BASE", str(tmp_path))
    (tmp_path / VOCABULARY_FILE).write_bytes(b"aGVsbG8= 0\n")
    assert vocabulary_folder() == tmp_path
    assert hashlib.sha256((tmp_path / VOCABULARY_FILE).read_bytes()).hexdigest() == VOCABULARY_SHA256


def test_the_reference_renders_and_parses_offline(harmony_reference: HarmonyEncoding) -> None:
    conversation = Conversation.from_messages(
        [
            Message.from_role_and_content(Role.SYSTEM, SystemContent.new().with_conversation_start_date("2026-01-02")),
            Message.from_role_and_content(Role.USER, "Wie viel ist 2 + 2? ✓"),
        ]
    )
    tokens = harmony_reference.render_conversation_for_completion(conversation, Role.ASSISTANT)
    text = harmony_reference.decode_utf8(tokens)
    assert text.startswith("<|start|>system<|message|>You are ChatGPT")
    assert text.endswith("<|start|>user<|message|>Wie viel ist 2 + 2? ✓<|end|><|start|>assistant")
    completion = harmony_reference.encode("<|channel|>final<|message|>4<|return|>", allowed_special="all")
    (message,) = harmony_reference.parse_messages_from_completion_tokens(completion, Role.ASSISTANT)
    assert (message.channel, message.content[0].text) == ("final", "4")  # type: ignore[attr-defined]
