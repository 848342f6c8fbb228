"""The command line as a person runs it: real processes, real files, real llama.cpp."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gptoss_desktop import __version__
from gptoss_desktop.cli.chat import _JsonPrinter, _TextPrinter
from gptoss_desktop.core.events import ContextTrimmed
from gptoss_desktop.core.harmony.tokens import HARMONY_TOKENS


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gptoss_desktop", *args], input=stdin, capture_output=True, text=True, timeout=120
    )


def test_version() -> None:
    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"gptoss-desktop {__version__}"


def test_chat_json_streams_events_and_ends_with_counts(trained_model: Path) -> None:
    # The harmony-trained model: a random one may never write a channel header, and then the
    # parser rightly holds its text until the end (how it splits depends on the CPU's kernels).
    result = cli("chat", "--model", str(trained_model), "--json", "--seed", "4", "--max-tokens", "16", "hi")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert {e["type"] for e in events[:-1]} <= {"reasoning", "answer"}
    assert len(events) > 2
    done = events[-1]
    assert done["type"] == "done"
    assert done["completion_tokens"] == 16 and done["stop_reason"] == "length"
    assert done["prompt_tokens"] > 0 and done["generation_seconds"] > 0
    shown = "".join(e["text"] for e in events)
    assert not any(token in shown for token in HARMONY_TOKENS)


def test_chat_text_output_separates_reasoning_from_answer(tiny_model: Path) -> None:
    result = cli("chat", "--model", str(tiny_model), "--seed", "4", "--max-tokens", "400", "--temperature", "0", "hi")
    assert result.returncode == 0, result.stderr
    assert "\x1b[" not in result.stdout  # no colour codes when not on a terminal
    assert result.stdout.count("[reasoning]") <= 1 and result.stdout.count("[answer]") <= 1


def test_chat_with_a_missing_model_fails_clearly(tmp_path: Path) -> None:
    result = cli("chat", "--model", str(tmp_path / "none.gguf"), "--json", "hi")
    assert result.returncode == 1
    assert json.loads(result.stdout) == {"type": "error", "text": f"No model file at {tmp_path / 'none.gguf'}."}
    assert "No model file" in result.stderr


def test_chat_with_a_file_that_is_not_gguf_fails_clearly(tmp_path: Path) -> None:
    fake = tmp_path / "notes.gguf"
    fake.write_text("just some text")
    result = cli("chat", "--model", str(fake), "hi")
    assert result.returncode == 1
    assert "notes.gguf is not a GGUF model file" in result.stderr


def test_harmony_render_prints_the_exact_prompt(tmp_path: Path) -> None:
    conversation = tmp_path / "c.json"
    conversation.write_text(
        json.dumps(
            {
                "effort": "low",
                "date": "2026-01-02",
                "instructions": "Be terse.",
                "messages": [
                    {"role": "user", "content": "2+2?"},
                    {"role": "assistant", "reasoning": "Simple.", "content": "4"},
                    {"role": "user", "content": "And 3+3?"},
                ],
            }
        )
    )
    result = cli("harmony", "render", str(conversation))
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n"
        "Knowledge cutoff: 2024-06\nCurrent date: 2026-01-02\n\nReasoning: low\n\n"
        "# Valid channels: analysis, commentary, final. Channel must be included for every message.<|end|>"
        "<|start|>developer<|message|># Instructions\n\nBe terse.<|end|>"
        "<|start|>user<|message|>2+2?<|end|>"
        "<|start|>assistant<|channel|>final<|message|>4<|end|>"
        "<|start|>user<|message|>And 3+3?<|end|><|start|>assistant"
    )


def test_harmony_render_rejects_a_bad_file_with_a_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"effort": "max", "messages": []}')
    result = cli("harmony", "render", str(bad))
    assert result.returncode == 2
    assert "reasoning effort must be one of low, medium, high" in result.stderr


def test_harmony_parse_reads_a_completion_from_stdin() -> None:
    completion = (
        "<|channel|>analysis<|message|>Add them.<|end|><|start|>assistant<|channel|>final<|message|>6<|return|>"
    )
    result = cli("harmony", "parse", stdin=completion)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "messages": [
            {"channel": "analysis", "recipient": None, "content_type": None, "content": "Add them."},
            {"channel": "final", "recipient": None, "content_type": None, "content": "6"},
        ],
        "reasoning": "Add them.",
        "answer": "6",
        "call": None,
        "malformed": [],
    }


def test_chat_with_a_message_longer_than_the_context_fails_clearly(tiny_model: Path) -> None:
    result = cli("chat", "--model", str(tiny_model), "--json", "--context", "256", "word " * 400)
    assert result.returncode == 1
    (error,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert error["type"] == "error" and "context holds 256" in error["text"]
    assert "tokens" in result.stderr and "context holds 256" in result.stderr


def test_a_cut_conversation_is_an_event_in_json_and_a_notice_in_text(capsys: pytest.CaptureFixture[str]) -> None:
    # One message from the command line always fits whole or not at all; a longer conversation
    # (through the engine, as in tests/core/test_engine.py) is what gets cut.
    trimmed = ContextTrimmed(dropped_messages=12, kept_messages=9)
    _JsonPrinter(sys.stdout).show(trimmed)
    out = capsys.readouterr()
    assert json.loads(out.out) == {
        "type": "context_trimmed",
        "text": "The conversation no longer fits in the context: the model does not see its first 12 messages.",
        "dropped_messages": 12,
        "kept_messages": 9,
    }
    assert out.err == ""
    _TextPrinter(sys.stdout, color=False).show(trimmed)
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == f"gptoss-desktop: {trimmed.notice}\n"
