"""`gptoss-desktop chat`: one answer in the terminal, as text or as JSON events."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Iterable
from typing import TextIO

from ..core.cancel import CancelFlag
from ..core.documents.answer import DocumentEvent, DocumentsUsed, PartRead, SourcesCited
from ..core.documents.prompting import Source
from ..core.engine import ChatEngine, ChatRequest, ModelLoadError
from ..core.events import AnswerDelta, ContextTrimmed, Done, Failed, ReasoningDelta
from ..core.harmony import EFFORTS, Conversation, Message
from ..core.local.engine import LocalEngine
from ..core.sampling import SamplingParams
from .documents import DocumentProblem, DocumentReady, SemanticProblem, SemanticReady, document_events

DIM, RESET = "\033[2m", "\033[0m"
Shown = DocumentEvent | DocumentProblem | DocumentReady | SemanticReady | SemanticProblem


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`chat`: its options."""
    chat = commands.add_parser("chat", help="answer one message in the terminal")
    where = chat.add_mutually_exclusive_group(required=True)
    where.add_argument("--model", metavar="PATH", help="GGUF model file, run on this computer")
    where.add_argument("--server", metavar="URL", help="an OpenAI-compatible server instead, e.g. http://host:8080/v1")
    chat.add_argument("--server-model", metavar="NAME", help="model on the server (default: its first gpt-oss)")
    chat.add_argument(
        "--api-key-env",
        metavar="VAR",
        help="read the server's API key from environment variable VAR (default: the keyring)",
    )
    chat.add_argument("--ca-file", metavar="FILE", help="certificate authority of a server with its own certificate")
    chat.add_argument("--effort", choices=EFFORTS, default="medium", help="reasoning effort (gpt-oss)")
    chat.add_argument("--instructions", metavar="TEXT", help="developer instructions (the system prompt)")
    chat.add_argument("--seed", type=int, help="fix the sampling seed for a repeatable reply")
    chat.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (default 1.0)")
    chat.add_argument("--max-tokens", type=int, metavar="N", help="stop after N tokens")
    chat.add_argument(
        "--context", type=int, metavar="N", help="context window in tokens (default 8192; on a server: its context)"
    )
    chat.add_argument("--json", action="store_true", help="one JSON event per line")
    chat.add_argument(
        "--doc", action="append", default=[], metavar="FILE", help="answer from FILE (PDF, DOCX, text…); repeatable"
    )
    chat.add_argument(
        "--embedding-model",
        metavar="PATH",
        help="with --doc: also search the documents by meaning with this embedding GGUF (e.g. all-MiniLM-L6-v2)",
    )
    chat.add_argument("message", help="the message to answer")


def run(args: argparse.Namespace) -> int:
    """Load the model, answer the message, print it; non-zero exit on any error."""
    try:
        sampling = SamplingParams(temperature=args.temperature, max_tokens=args.max_tokens, seed=args.seed)
    except ValueError as exc:
        return _fail(args.json, str(exc))
    if getattr(args, "embedding_model", None) and not args.doc:
        return _fail(args.json, "--embedding-model searches documents: give them with --doc FILE.")
    try:
        engine = _open_engine(args)
    except ModelLoadError as exc:
        return _fail(args.json, str(exc))
    conversation = Conversation(
        messages=(Message("user", args.message),), effort=args.effort, instructions=args.instructions
    )
    cancel = CancelFlag()
    printer = _JsonPrinter(sys.stdout) if args.json else _TextPrinter(sys.stdout, sys.stdout.isatty())
    status = 0
    try:
        if args.doc:
            events: Iterable[Shown] = document_events(
                args.doc, engine, conversation, sampling, cancel, args.embedding_model
            )
        else:
            events = engine.generate(ChatRequest(conversation, sampling), cancel)
        for event in events:
            printer.show(event)
            if isinstance(event, Failed | DocumentProblem | SemanticProblem):
                status = 1  # like cp: the others still count, the exit code says not all went well
    except KeyboardInterrupt:
        cancel.set()
        status = 130
    finally:
        engine.close()
    return status


def _open_engine(args: argparse.Namespace) -> ChatEngine:
    """The local model, or the server named by --server (its key from --api-key-env, else the keyring)."""
    if not getattr(args, "server", None):
        return LocalEngine(args.model, context_size=args.context)
    from ..core.remote.connect import open_engine
    from ..core.remote.profile import ServerProfile
    from ..core.remote.server_errors import ServerUnavailableError
    from ..core.remote.server_url import BadServerAddressError

    key = None
    if args.api_key_env:
        key = os.environ.get(args.api_key_env, "").strip()
        if not key:
            raise ServerUnavailableError(f"The environment variable {args.api_key_env} holds no API key.")
    try:
        server = ServerProfile(args.server, model=args.server_model, ca_file=args.ca_file, context_size=args.context)
    except BadServerAddressError as exc:
        raise ServerUnavailableError(str(exc)) from exc
    engine = open_engine(server, api_key=key)  # without --api-key-env: the keyring's key, if any
    print(f"gptoss-desktop: {engine.info.name} runs {engine.info.where}", file=sys.stderr)
    if args.doc:
        print("gptoss-desktop: passages of the documents are sent to that server", file=sys.stderr)
    if engine.info.effort_note:
        print(f"gptoss-desktop: {engine.info.effort_note}", file=sys.stderr)
    return engine


def _fail(as_json: bool, message: str) -> int:
    if as_json:
        print(json.dumps({"type": "error", "text": message}), flush=True)
    print(f"gptoss-desktop: {message}", file=sys.stderr)
    return 1


class _JsonPrinter:
    """One JSON object per line: context_trimmed, reasoning, answer, done (with counts and timings), error;
    with --doc also document / document_error per file, semantic / semantic_error (--embedding-model),
    documents (the strategy), progress, and the sources cited in done."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._sources: list[dict[str, object]] = []

    def show(self, event: Shown) -> None:
        if isinstance(event, DocumentReady):
            record: dict[str, object] = {"type": "document", "file": event.name, "chunks": event.chunks}
        elif isinstance(event, DocumentProblem):
            record = {"type": "document_error", "file": event.name, "text": event.message}
            print(f"gptoss-desktop: {event.message}", file=sys.stderr)
        elif isinstance(event, SemanticReady):
            record = {"type": "semantic", "model": event.name, "passages": event.passages}
        elif isinstance(event, SemanticProblem):
            record = {"type": "semantic_error", "text": event.message}
            print(f"gptoss-desktop: {event.message}", file=sys.stderr)
        elif isinstance(event, DocumentsUsed):
            record = {"type": "documents", "strategy": event.strategy, "passages": event.passages, "text": event.note}
        elif isinstance(event, PartRead):
            record = {"type": "progress", "part": event.part, "parts": event.parts}
        elif isinstance(event, SourcesCited):
            self._sources = [dataclasses.asdict(source) for source in event.sources]
            return
        elif isinstance(event, ReasoningDelta):
            record = {"type": "reasoning", "text": event.text}
        elif isinstance(event, AnswerDelta):
            record = {"type": "answer", "text": event.text}
        elif isinstance(event, ContextTrimmed):
            record = {"type": "context_trimmed", "text": event.notice, **dataclasses.asdict(event)}
        elif isinstance(event, Done):
            stats = dataclasses.asdict(event.stats)
            stats["tokens_per_second"] = round(event.stats.tokens_per_second, 2)
            record = {"type": "done", "text": "", "stop_reason": event.stop_reason, **stats}
            if self._sources:
                record["sources"] = self._sources
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
        self._sources: tuple[Source, ...] = ()

    def show(self, event: Shown) -> None:
        if isinstance(event, DocumentProblem | SemanticProblem):
            print(f"gptoss-desktop: {event.message}", file=sys.stderr)
        elif isinstance(event, SemanticReady):
            print(f"gptoss-desktop: {event.passages} passages searched by meaning too ({event.name})", file=sys.stderr)
        elif isinstance(event, DocumentsUsed):
            print(f"gptoss-desktop: {event.note}", file=sys.stderr)
        elif isinstance(event, SourcesCited):
            self._sources = event.sources
        elif isinstance(event, ReasoningDelta):
            self._enter("reasoning")
            self._write(f"{DIM}{event.text}{RESET}" if self._color else event.text)
        elif isinstance(event, AnswerDelta):
            self._enter("answer")
            self._write(event.text)
        elif isinstance(event, Done):
            self._write("\n")
            if self._sources:
                self._enter("sources")
                for source in self._sources:
                    place = ", ".join(part for part in (source.document_name, source.anchor) if part)
                    self._write(f"[{source.number}] {place}: {source.snippet}\n")
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
