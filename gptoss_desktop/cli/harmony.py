"""`gptoss-desktop harmony render|parse`: the prompt and the completion, spelled out.

The conversation file is a JSON object:
    {"effort": "low|medium|high", "date": "YYYY-MM-DD", "instructions": "...",
     "tools": ["browser", "python"],
     "functions": [{"name": "get_weather", "description": "...", "parameters": {JSON Schema}}],
     "messages": [
        {"role": "user", "content": "..."},
        {"role": "assistant", "reasoning": "...", "content": "the answer"},
        {"role": "assistant", "channel": "analysis", "content": "thinking"},
        {"role": "assistant", "channel": "analysis", "recipient": "python", "content_type": "code",
         "content": "print(1)"},
        {"role": "tool", "name": "python", "channel": "analysis", "content": "1"}]}
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..core.harmony import Conversation, Function, Message, builtin_tool, render_text
from ..core.harmony.completion import parse_completion

_MESSAGE_KEYS = {"role", "content", "reasoning", "channel", "recipient", "content_type", "name"}


def conversation_from_json(data: object) -> Conversation:
    """Build a Conversation from the documented JSON shape; ValueError says what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("the file must hold a JSON object")
    raw_messages = data.get("messages")
    if not isinstance(raw_messages, list):
        raise ValueError('"messages" must be a list')
    messages = tuple(_message(index, raw) for index, raw in enumerate(raw_messages))
    extra: dict[str, Any] = {}
    if "date" in data:
        extra["date"] = str(data["date"])
    for key in ("effort", "instructions"):
        if key in data:
            extra[key] = data[key]
    if extra.get("instructions") is not None and not isinstance(extra["instructions"], str):
        raise ValueError('"instructions" must be text')
    return Conversation(messages=messages, tools=_tools(data.get("tools", [])), functions=_functions(data), **extra)


def _message(index: int, raw: object) -> Message:
    where = f"message {index}"
    if not isinstance(raw, dict) or not isinstance(raw.get("content"), str):
        raise ValueError(f'{where} needs a string "content"')
    role = raw.get("role")
    if role not in ("user", "assistant", "tool"):
        raise ValueError(f'{where}: role must be "user", "assistant" or "tool"')
    unknown = set(raw) - _MESSAGE_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    fields: dict[str, str | None] = {}
    for key in ("channel", "recipient", "content_type", "name"):
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise ValueError(f'{where}: "{key}" must be text')
        fields[key] = value
    if role == "tool" and fields["recipient"] is None:
        fields["recipient"] = "assistant"  # a tool answers the assistant
    try:
        return Message(role, raw["content"], str(raw.get("reasoning") or ""), **fields)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _tools(raw: object) -> tuple[Any, ...]:
    if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
        raise ValueError('"tools" must be a list of names, e.g. ["python", "browser"]')
    return tuple(builtin_tool(name) for name in raw)


def _functions(data: Mapping[str, object]) -> tuple[Function, ...]:
    raw = data.get("functions", [])
    if not isinstance(raw, list):
        raise ValueError('"functions" must be a list')
    functions = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ValueError(f'function {index} needs a string "name"')
        description = item.get("description", "")
        parameters = item.get("parameters")
        if not isinstance(description, str):
            raise ValueError(f'function {item["name"]}: "description" must be text')
        if parameters is not None and not isinstance(parameters, dict):
            raise ValueError(f'function {item["name"]}: "parameters" must be a JSON Schema object')
        functions.append(Function(item["name"], description, parameters))
    return tuple(functions)


def _read_conversation(path: str) -> Conversation:
    return conversation_from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`harmony`: its options."""
    harmony = commands.add_parser("harmony", help="see exactly what the model gets and says")
    harmony_commands = harmony.add_subparsers(dest="harmony_command", metavar="ACTION", required=True)
    render = harmony_commands.add_parser("render", help="print the exact prompt for a conversation JSON file")
    render.add_argument("conversation", metavar="CONVERSATION.json")
    parse = harmony_commands.add_parser("parse", help="parse raw completion text from stdin into JSON")
    parse.add_argument(
        "--conversation",
        metavar="CONVERSATION.json",
        help="the conversation the completion answers: its tools decide whether a call is to a declared tool",
    )


def run(args: argparse.Namespace) -> int:
    """Dispatch `render` and `parse`."""
    path = args.conversation
    try:
        conversation = _read_conversation(path) if path is not None else None
    except (OSError, ValueError) as exc:
        action = "render" if args.harmony_command == "render" else "read"
        print(f"gptoss-desktop: cannot {action} {path}: {exc}", file=sys.stderr)
        return 2
    if args.harmony_command == "render":
        assert conversation is not None
        sys.stdout.write(render_text(conversation))
        return 0
    tools = conversation.tool_recipients() if conversation is not None else frozenset[str]()
    parsed = parse_completion(sys.stdin.read(), tools)
    print(json.dumps(parsed.to_json(), ensure_ascii=False, indent=2))
    return 0
