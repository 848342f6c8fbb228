"""`gptoss-desktop chat`: one answer in the terminal, as text or as JSON events."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import TextIO

from .core.cancel import CancelFlag
from .core.engine import ChatRequest, LocalEngine
from .core.events import AnswerDelta, ContextTrimmed, Done, EngineEvent, Failed, ReasoningDelta
from .core.harmony import Conversation, Message
from .core.model_file import ModelLoadError
from .core.sampling import SamplingParams

DIM, RESET = "\033[2m", "\033[0m"


def run_chat(args: argparse.Namespace) -> int:
    """Load the model, answer the message, print it; non-zero exit on any error."""
    try:
        sampling = SamplingParams(temperature=args.temperature, max_tokens=args.max_tokens, seed=args.seed)
    except ValueError as exc:
        return _fail(args.json, str(exc))
    try:
        engine = LocalEngine(args.model, context_size=args.context)
    except ModelLoadError as exc:
        return _fail(args.json, str(exc))
    conversation = Conversation(
        messages=(Message("user", args.message),), effort=args.effort, instructions=args.instructions
    )
    cancel = CancelFlag()
    printer = _JsonPrinter(sys.stdout) if args.json else _TextPrinter(sys.stdout, sys.stdout.isatty())
    status = 0
    try:
        for event in engine.generate(ChatRequest(conversation, sampling), cancel):
            printer.show(event)
            if isinstance(event, Failed):
                status = 1
    except KeyboardInterrupt:
        cancel.set()
        status = 130
    finally:
        engine.close()
    return status


def _fail(as_json: bool, message: str) -> int:
    if as_json:
        print(json.dumps({"type": "error", "text": message}), flush=True)
    print(f"gptoss-desktop: {message}", file=sys.stderr)
    return 1


class _JsonPrinter:
    """One JSON object per line: context_trimmed, reasoning, answer, done (with counts and timings), error."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def show(self, event: EngineEvent) -> None:
        if isinstance(event, ReasoningDelta):
            record: dict[str, object] = {"type": "reasoning", "text": event.text}
        elif isinstance(event, AnswerDelta):
            record = {"type": "answer", "text": event.text}
        elif isinstance(event, ContextTrimmed):
            record = {"type": "context_trimmed", "text": event.notice, **dataclasses.asdict(event)}
        elif isinstance(event, Done):
            stats = dataclasses.asdict(event.stats)
            stats["tokens_per_second"] = round(event.stats.tokens_per_second, 2)
            record = {"type": "done", "text": "", "stop_reason": event.stop_reason, **stats}
        elif isinstance(event, Failed):
            record = {"type": "error", "text": event.message}
            print(f"gptoss-desktop: {event.message}", file=sys.stderr)
        else:
            return
        self._out.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._out.flush()


class _TextPrinter:
    """Reasoning under a header (dimmed on a terminal), then the answer."""

    def __init__(self, out: TextIO, color: bool) -> None:
        self._out = out
        self._color = color
        self._section: str | None = None

    def show(self, event: EngineEvent) -> None:
        if isinstance(event, ReasoningDelta):
            self._enter("reasoning")
            self._write(f"{DIM}{event.text}{RESET}" if self._color else event.text)
        elif isinstance(event, AnswerDelta):
            self._enter("answer")
            self._write(event.text)
        elif isinstance(event, Done):
            self._write("\n")
            if event.stop_reason == "length":
                print("gptoss-desktop: the reply reached the token limit", file=sys.stderr)
        elif isinstance(event, ContextTrimmed):
            print(f"gptoss-desktop: {event.notice}", file=sys.stderr)
        elif isinstance(event, Failed):
            print(f"\ngptoss-desktop: {event.message}", file=sys.stderr)

    def _enter(self, section: str) -> None:
        if self._section != section:
            prefix = "\n\n" if self._section else ""
            self._write(f"{prefix}[{section}]\n")
            self._section = section

    def _write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()
