"""`gptoss-desktop harmony render|parse` with tools, run as a person runs it, checked against openai-harmony."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openai_harmony as rh
import pytest

from gptoss_desktop.cli.harmony import conversation_from_json
from tests.fixtures.harmony_reference import to_reference

# The shape issue 15 describes: builtin tools, functions, an assistant turn with tool steps.
CONVERSATION = {
    "effort": "high",
    "date": "2026-03-04",
    "instructions": "Answer briefly.",
    "tools": ["python", "browser"],
    "functions": [
        {
            "name": "get_weather",
            "description": "Gets the weather.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "A city"},
                    "unit": {"type": "string", "enum": ["c", "f"], "default": "c"},
                },
                "required": ["city"],
            },
        },
        {"name": "ping", "description": "Checks the connection."},
    ],
    "messages": [
        {"role": "user", "content": "Earlier question"},
        {"role": "assistant", "reasoning": "Easy.", "content": "Earlier answer"},
        {"role": "user", "content": "What is 123 * 457, and the weather in Lyon?"},
        {"role": "assistant", "channel": "analysis", "content": "Compute, then look up."},
        {
            "role": "assistant",
            "channel": "analysis",
            "recipient": "python",
            "content_type": "code",
            "content": "123*457",
        },
        {"role": "tool", "name": "python", "channel": "analysis", "content": "56211"},
        {
            "role": "assistant",
            "channel": "commentary",
            "recipient": "functions.get_weather",
            "content_type": "<|constrain|>json",
            "content": '{"city": "Lyon"}',
        },
        {"role": "tool", "name": "functions.get_weather", "channel": "commentary", "content": '{"sky": "clear"}'},
    ],
}


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gptoss_desktop", *args], input=stdin, capture_output=True, text=True, timeout=120
    )


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "conversation.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_render_with_tools_prints_what_openai_harmony_renders(
    tmp_path: Path, harmony_reference: rh.HarmonyEncoding
) -> None:
    result = cli("harmony", "render", str(write(tmp_path, CONVERSATION)))
    assert result.returncode == 0, result.stderr
    conversation = conversation_from_json(CONVERSATION)
    # The earlier turn keeps only its answer (its reasoning is never rendered), the running turn all.
    expected = harmony_reference.render_conversation_for_completion(
        to_reference(conversation, conversation.messages), rh.Role.ASSISTANT
    )
    assert result.stdout == harmony_reference.decode_utf8(expected)
    assert "Easy." not in result.stdout and "## browser" in result.stdout
    assert "Calls to these tools must go to the commentary channel" in result.stdout
    assert result.stdout.endswith(
        '<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>{"sky": "clear"}<|end|>'
        "<|start|>assistant"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tools": ["python", "shell"]}, "unknown builtin tool 'shell'"),
        ({"tools": "python"}, '"tools" must be a list of names'),
        ({"functions": [{"description": "no name"}]}, 'function 0 needs a string "name"'),
        ({"functions": [{"name": "f", "parameters": "string"}]}, '"parameters" must be a JSON Schema object'),
        ({"messages": [{"role": "tool", "content": "1"}]}, "message 0: a tool message needs the tool's name"),
        ({"messages": [{"role": "system", "content": "1"}]}, 'role must be "user", "assistant" or "tool"'),
        ({"messages": [{"role": "user", "content": "1", "channel": "final"}]}, "a user message has only content"),
        ({"messages": [{"role": "assistant", "content": "1", "recipent": "python"}]}, "unknown keys recipent"),
        ({"messages": [{"role": "assistant", "content": "1", "channel": 3}]}, '"channel" must be text'),
    ],
)
def test_render_refuses_a_bad_file_with_a_reason(tmp_path: Path, change: dict[str, object], message: str) -> None:
    result = cli("harmony", "render", str(write(tmp_path, {**CONVERSATION, **change})))
    assert result.returncode == 2 and result.stdout == ""
    assert message in result.stderr


def test_parse_reports_channel_recipient_and_content_type_and_the_call(tmp_path: Path) -> None:
    completion = (
        "<|channel|>analysis<|message|>Need the weather.<|end|>"
        "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>"
        '{"city": "Lyon"}<|call|>'
    )
    result = cli("harmony", "parse", "--conversation", str(write(tmp_path, CONVERSATION)), stdin=completion)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "messages": [
            {"channel": "analysis", "recipient": None, "content_type": None, "content": "Need the weather."},
            {
                "channel": "commentary",
                "recipient": "functions.get_weather",
                "content_type": "<|constrain|>json",
                "content": '{"city": "Lyon"}',
            },
        ],
        "reasoning": "Need the weather.",
        "answer": "",
        "call": {
            "recipient": "functions.get_weather",
            "channel": "commentary",
            "content_type": "<|constrain|>json",
            "arguments": '{"city": "Lyon"}',
            "declared": True,
        },
        "malformed": [],
    }


def test_parse_without_a_conversation_calls_every_tool_undeclared_and_reports_malformed_headers() -> None:
    completion = (
        "<|channel|>analysis stray words and no message token<|end|>"
        "<|start|>assistant to=python<|channel|>analysis code<|message|>print(1)<|call|>"
    )
    result = cli("harmony", "parse", stdin=completion)
    assert result.returncode == 0, result.stderr
    parsed = json.loads(result.stdout)
    assert parsed["call"]["recipient"] == "python" and parsed["call"]["declared"] is False
    assert parsed["malformed"] == [
        {
            "reason": "the header never reached <|message|>",
            "header": "<|channel|>analysis stray words and no message token",
            "content": "",
        }
    ]
    assert parsed["reasoning"] == "" and parsed["answer"] == ""
