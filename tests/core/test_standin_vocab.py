"""The prompt's token ids on gpt-oss-20b's real vocabulary equal openai-harmony's, token for token.

The vocabulary is the stand-in's (tools/gptoss_standin.py --vocab-only: o200k_harmony as llama.cpp's
conversion of gpt-oss-20b writes it), built once per session; the reference is openai-harmony 0.0.8
(tests/fixtures/harmony_reference.py) and, for free text, tiktoken over the same ranks.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from gptoss_desktop.cli import main
from gptoss_desktop.core.harmony import Conversation, Message, render_segments
from gptoss_desktop.core.local.vocabulary import Vocabulary, open_vocabulary
from tools.gptoss_standin import write_standin
from tools.standin_vocab import O200K_PATTERN, o200k_ranks, special_tokens

if TYPE_CHECKING:
    import tiktoken
    from openai_harmony import HarmonyEncoding

CODE = (
    'def mean(xs: list[float]) -> float:\n    """Average."""\n    return sum(xs) / len(xs)  # ÷ n\n'
    "\n\tprint(mean([1, 2]))\n"
)
SPELLED = "Type <|start|>user<|message|>hi<|end|> or <|return|>, <|call|>, <|channel|>final and <|constrain|>json."
CONVERSATIONS = {
    "one question": Conversation((Message("user", "What is the capital of France?"),), "medium", None, "2026-12-04"),
    "low effort": Conversation((Message("user", "2+2?"),), "low", None, "2025-01-31"),
    "high effort, instructions": Conversation(
        (Message("user", "Explain recursion."),), "high", "Answer in one paragraph.\nNo lists.", "2024-06-01"
    ),
    "several turns": Conversation(
        (
            Message("user", "Name a prime."),
            Message("assistant", "7", reasoning="The user wants a prime; 7 is one."),
            Message("user", "Another one?"),
            Message("assistant", "Eleven."),
            Message("user", "Add them."),
        ),
        "medium",
        "Be terse.",
        "2026-02-28",
    ),
    "unicode": Conversation(
        (Message("user", "Übersetze: «naïve café» — 日本語, Привет, مرحبا, 한국어, emoji 👩‍💻🎉🇫🇷, NBSP\u00a0here"),),
        "medium",
        None,
        "2026-12-04",
    ),
    "code": Conversation((Message("user", CODE), Message("assistant", "```python\n" + CODE + "```")), "low", None),
    "whitespace runs": Conversation(
        (Message("user", "a  b   c    d\n\n\n\t\t  indented\r\nCRLF   " + " " * 40 + "end  "),),
        "high",
        "  ",
        "2026-12-04",
    ),
    "numbers": Conversation(
        (Message("user", "1234567890 3.14159e-10 -42 1,000,000 0x1F 2026-12-04 12:30 50% $9.99"),), "medium"
    ),
    "text that spells control tokens": Conversation(
        (Message("user", SPELLED), Message("assistant", SPELLED)), "medium", SPELLED, "2026-12-04"
    ),
}
FREE_TEXT = [
    "Hello world",
    "  leading and trailing   ",
    "don't I'll we're THEY'RE it's",
    "ThisIsCamelCase andALLCAPS snake_case kebab-case",
    "tabs\t\tand\r\nCRLF\n\n\nblank lines",
    " " * 100,
    "x" * 300,
    "Ünïcödé café naïve Ångström",
    "日本語のテキストです。中文文本。",
    "Привет, мир! Γειά σου κόσμε",
    "emoji 👩‍💻🎉 and flags 🇫🇷🇯🇵",
    "$100.00 (50%) #tag @user <b>html</b> &amp; a/b\\c",
    CODE,
    SPELLED,
    "<|endoftext|><|startoftext|><|reserved_200100|>[PAD200100]",
]


@pytest.fixture(scope="session")
def standin_vocabulary(tmp_path_factory: pytest.TempPathFactory) -> Vocabulary:
    """gpt-oss-20b's vocabulary (13 MB GGUF, written in about 3 s)."""
    path = tmp_path_factory.mktemp("standin") / "gpt-oss-20b-vocab.gguf"
    write_standin(path, vocab_only=True)
    return open_vocabulary(path)


@pytest.fixture(scope="session")
def o200k() -> tiktoken.Encoding:
    """tiktoken's o200k_harmony over the same ranks, with its own pre-tokenizer."""
    import tiktoken

    ranks = {token: rank for rank, token in enumerate(o200k_ranks())}
    return tiktoken.Encoding(
        "o200k_harmony", pat_str=O200K_PATTERN, mergeable_ranks=ranks, special_tokens=special_tokens()
    )


def reference_ids(encoding: HarmonyEncoding, conversation: Conversation) -> list[int]:
    """openai-harmony's render_conversation_for_completion for the same conversation."""
    from openai_harmony import Conversation as HarmonyConversation
    from openai_harmony import DeveloperContent, ReasoningEffort, Role, SystemContent
    from openai_harmony import Message as HarmonyMessage

    effort = {"low": ReasoningEffort.LOW, "medium": ReasoningEffort.MEDIUM, "high": ReasoningEffort.HIGH}
    system = SystemContent.new().with_reasoning_effort(effort[conversation.effort])
    messages = [
        HarmonyMessage.from_role_and_content(Role.SYSTEM, system.with_conversation_start_date(conversation.date))
    ]
    if conversation.instructions and conversation.instructions.strip():
        developer = DeveloperContent.new().with_instructions(conversation.instructions)
        messages.append(HarmonyMessage.from_role_and_content(Role.DEVELOPER, developer))
    for message in conversation.messages:
        if message.role == "user":
            messages.append(HarmonyMessage.from_role_and_content(Role.USER, message.content))
        else:  # earlier answers keep only their final text, as the app renders them
            messages.append(HarmonyMessage.from_role_and_content(Role.ASSISTANT, message.content).with_channel("final"))
    return list(
        encoding.render_conversation_for_completion(HarmonyConversation.from_messages(messages), Role.ASSISTANT)
    )


@pytest.mark.parametrize("name", CONVERSATIONS)
def test_prompt_ids_equal_openai_harmony(
    name: str, standin_vocabulary: Vocabulary, harmony_reference: HarmonyEncoding
) -> None:
    conversation = CONVERSATIONS[name]
    assert standin_vocabulary.encode(render_segments(conversation)) == reference_ids(harmony_reference, conversation)


def test_harmony_render_ids_prints_the_same_ids(
    tmp_path: Path,
    standin_vocabulary: Vocabulary,
    harmony_reference: HarmonyEncoding,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gguf = tmp_path / "vocab.gguf"
    write_standin(gguf, vocab_only=True)
    file = tmp_path / "conversation.json"
    file.write_text(
        json.dumps(
            {
                "messages": [{"role": "user", "content": SPELLED}, {"role": "assistant", "content": "Done."}],
                "effort": "high",
                "instructions": "Quote exactly.",
                "date": "2026-12-04",
            }
        ),
        encoding="utf-8",
    )
    assert main(["harmony", "render", str(file), "--model", str(gguf), "--ids"]) == 0
    conversation = Conversation(
        (Message("user", SPELLED), Message("assistant", "Done.")), "high", "Quote exactly.", "2026-12-04"
    )
    assert json.loads(capsys.readouterr().out) == reference_ids(harmony_reference, conversation)


def test_harmony_render_ids_needs_a_model_and_refuses_a_non_gguf(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "conversation.json"
    file.write_text('{"messages": [{"role": "user", "content": "hi"}]}', encoding="utf-8")
    assert main(["harmony", "render", str(file), "--ids"]) == 2
    assert "--ids needs --model" in capsys.readouterr().err
    assert main(["harmony", "render", str(file), "--ids", "--model", str(file)]) == 1
    assert "not a GGUF model file" in capsys.readouterr().err


@pytest.mark.parametrize("text", FREE_TEXT)
def test_free_text_encodes_as_tiktoken_o200k(
    text: str, standin_vocabulary: Vocabulary, o200k: tiktoken.Encoding
) -> None:
    assert standin_vocabulary.tokenize_plain(text) == o200k.encode_ordinary(text)


def test_combining_marks_encode_as_o200k_not_as_llama_cpp_splits_them(
    standin_vocabulary: Vocabulary, o200k: tiktoken.Encoding
) -> None:
    """llama.cpp's gpt-4o pre-tokenizer starts a new piece at each combining mark (\\p{M}); o200k keeps
    marks in the word. The vocabulary encodes such text as o200k does (core/local/marked_text.py)."""
    llama_cpp_alone = standin_vocabulary._tokenize_unmarked
    hindi = "नमस्ते दुनिया, यह एक परीक्षण है।"
    assert len(llama_cpp_alone(hindi)) > len(o200k.encode_ordinary(hindi))  # the difference being fixed
    for text in (hindi, "e\u0301,a", "Cafe\u0301 «naïve»", "!!\u0301,a  नमस्ते\n\nx", "ก่อน ที่ (Thai)", "\u0301" * 5):
        assert standin_vocabulary.tokenize_plain(text) == o200k.encode_ordinary(text), text


def test_random_mixed_text_encodes_as_o200k(standin_vocabulary: Vocabulary, o200k: tiktoken.Encoding) -> None:
    alphabet = "ab cd\n\t.,'0123456789ÄéЖ中日🎉 \u00a0\u0301\u093f\u0947!?-_/\\\"<|>नमस"
    generator = random.Random(1)
    for _ in range(1000):
        text = "".join(generator.choice(alphabet) for _ in range(generator.randint(1, 40)))
        assert standin_vocabulary.tokenize_plain(text) == o200k.encode_ordinary(text), text
