"""`gptoss-desktop harmony render|parse`: the prompt and the completion, spelled out."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..core.harmony import Conversation, Message, render_segments, render_text
from ..core.harmony.completion import parse_completion


def conversation_from_json(data: object) -> Conversation:
    """Build a Conversation from the documented JSON shape; ValueError says what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("the file must hold a JSON object")
    raw_messages = data.get("messages")
    if not isinstance(raw_messages, list):
        raise ValueError('"messages" must be a list')
    messages = []
    for index, raw in enumerate(raw_messages):
        if not isinstance(raw, dict) or not isinstance(raw.get("content"), str):
            raise ValueError(f'message {index} needs a string "content"')
        if raw.get("role") not in ("user", "assistant"):
            raise ValueError(f'message {index}: role must be "user" or "assistant"')
        messages.append(Message(raw["role"], raw["content"], str(raw.get("reasoning") or "")))
    extra: dict[str, str] = {}
    if "date" in data:
        extra["date"] = str(data["date"])
    return Conversation(
        messages=tuple(messages),
        effort=data.get("effort", "medium"),
        instructions=data.get("instructions"),
        **extra,
    )


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`harmony`: its options."""
    harmony = commands.add_parser("harmony", help="see exactly what the model gets and says")
    harmony_commands = harmony.add_subparsers(dest="harmony_command", metavar="ACTION", required=True)
    render = harmony_commands.add_parser("render", help="print the exact prompt for a conversation JSON file")
    render.add_argument("conversation", metavar="CONVERSATION.json")
    render.add_argument("--model", metavar="GGUF", help="with --ids: the model whose vocabulary gives the ids")
    render.add_argument("--ids", action="store_true", help="print the prompt's token ids (a JSON list) instead")
    harmony_commands.add_parser("parse", help="parse raw completion text from stdin into JSON")


def run(args: argparse.Namespace) -> int:
    """Dispatch `render` and `parse`."""
    if args.harmony_command == "render":
        try:
            conversation = conversation_from_json(json.loads(Path(args.conversation).read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            print(f"gptoss-desktop: cannot render {args.conversation}: {exc}", file=sys.stderr)
            return 2
        if args.ids:
            return _print_ids(conversation, args.model)
        sys.stdout.write(render_text(conversation))
        return 0
    parsed = parse_completion(sys.stdin.read())
    print(json.dumps(parsed.to_json(), ensure_ascii=False, indent=2))
    return 0


def _print_ids(conversation: Conversation, model: str | None) -> int:
    """The exact token ids the app gives `model` for the conversation, as one JSON list."""
    if model is None:
        print("gptoss-desktop: --ids needs --model GGUF (the ids depend on the vocabulary)", file=sys.stderr)
        return 2
    from ..core.engine import ModelLoadError
    from ..core.local.vocabulary import open_vocabulary

    try:
        ids = open_vocabulary(model).encode(render_segments(conversation))
    except (ModelLoadError, ValueError) as exc:
        print(f"gptoss-desktop: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(ids))
    return 0
