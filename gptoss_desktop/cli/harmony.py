"""`gptoss-desktop harmony render|parse`: the prompt and the completion, spelled out."""

from __future__ import annotations

import argparse
import json
import sys

from ..core.files import read_regular
from ..core.harmony import Conversation, Message, render_text
from ..core.harmony.completion import parse_completion
from ..core.remote.bounded import parse_json

#: The largest conversation file read (a long chat is a few MB).
CONVERSATION_LIMIT = 64 << 20


def conversation_from_json(data: object) -> Conversation:
    """Build a Conversation from the documented JSON shape; ValueError says what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("the file must hold a JSON object")
    raw_messages = data.get("messages")
    if not isinstance(raw_messages, list):
        raise ValueError('"messages" must be a list')
    messages = []
    for name in ("instructions", "effort", "date"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise ValueError(f'"{name}" must be a string')
    for index, raw in enumerate(raw_messages):
        if not isinstance(raw, dict) or not isinstance(raw.get("content"), str):
            raise ValueError(f'message {index} needs a string "content"')
        if raw.get("role") not in ("user", "assistant"):
            raise ValueError(f'message {index}: role must be "user" or "assistant"')
        messages.append(Message(raw["role"], raw["content"], str(raw.get("reasoning") or "")))
    _check_unicode(data)
    extra: dict[str, str] = {}
    if "date" in data:
        extra["date"] = str(data["date"])
    return Conversation(
        messages=tuple(messages),
        effort=data.get("effort", "medium"),
        instructions=data.get("instructions"),
        **extra,
    )


def _check_unicode(value: object) -> None:
    """Refuse strings that cannot be written as UTF-8 (a lone surrogate such as "\\ud800" in the JSON)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("it holds text that is not valid Unicode (a lone surrogate escape)") from None
    elif isinstance(value, dict):
        for item in value.values():
            _check_unicode(item)
    elif isinstance(value, list):
        for item in value:
            _check_unicode(item)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`harmony`: its options."""
    harmony = commands.add_parser("harmony", help="see exactly what the model gets and says")
    harmony_commands = harmony.add_subparsers(dest="harmony_command", metavar="ACTION", required=True)
    render = harmony_commands.add_parser("render", help="print the exact prompt for a conversation JSON file")
    render.add_argument("conversation", metavar="CONVERSATION.json")
    harmony_commands.add_parser("parse", help="parse raw completion text from stdin into JSON")


def run(args: argparse.Namespace) -> int:
    """Dispatch `render` and `parse`."""
    if args.harmony_command == "render":
        try:
            data = read_regular(args.conversation, CONVERSATION_LIMIT).decode("utf-8")
            conversation = conversation_from_json(parse_json(data))
        except (OSError, ValueError) as exc:  # UnicodeDecodeError and too deep JSON are ValueErrors
            print(f"gptoss-desktop: cannot render {args.conversation}: {exc}", file=sys.stderr)
            return 2
        sys.stdout.write(render_text(conversation))
        return 0
    parsed = parse_completion(sys.stdin.buffer.read().decode("utf-8", errors="replace"))
    print(json.dumps(parsed.to_json(), ensure_ascii=False, indent=2))
    return 0
