"""`gptoss-desktop chat`: one answer in the terminal, as text or as JSON events."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO

from ..core.cancel import CancelFlag
from ..core.documents.answer import DocumentEvent, DocumentsUsed, PartRead, SourcesCited
from ..core.documents.prompting import Source
from ..core.engine import MAX_ADAPTER_SCALE, ChatEngine, ChatRequest, LoraAdapter, ModelLoadError
from ..core.events import (
    AnswerDelta,
    Citation,
    ContextTrimmed,
    Done,
    Failed,
    ReasoningDelta,
    ToolApproval,
    ToolCall,
    ToolResult,
)
from ..core.harmony import EFFORTS, PYTHON, Conversation, Message
from ..core.local.load_probe import load_local_engine
from ..core.paths import app_paths
from ..core.sampling import SamplingParams
from ..core.tools.loop import Toolbox, run_turn
from ..core.tools.python_calls import PythonCalls
from ..core.tools.python_tool import PythonSession
from .documents import (
    BrowserUnavailable,
    DocumentProblem,
    DocumentReady,
    SemanticProblem,
    SemanticReady,
    document_events,
)
from .terminal import clean, json_line

DIM, RESET = "\033[2m", "\033[0m"
#: The context sizes --context takes: below, not even the harmony system message fits; above, no model.
MIN_CONTEXT, MAX_CONTEXT = 256, 1 << 24
#: The exit status of a command whose output pipe closed (128 + SIGPIPE, as a shell reports it).
BROKEN_PIPE = 141
Shown = DocumentEvent | DocumentProblem | DocumentReady | SemanticReady | SemanticProblem | BrowserUnavailable


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
        "--context",
        type=_context_size,
        metavar="N",
        help="context window in tokens (default 8192; on a server: its context)",
    )
    chat.add_argument(
        "--lora",
        action="append",
        default=[],
        type=_lora,
        metavar="FILE[:SCALE]",
        help=f"apply a LoRA adapter (GGUF) to the model, at SCALE 0 to {MAX_ADAPTER_SCALE:g} (default 1); repeatable",
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
    chat.add_argument(
        "--tools",
        action="append",
        default=[],
        choices=["python", "browser"],
        help="let the model call a tool: python (run in a sandbox, see `tools python`); browser (with --doc: "
        "gpt-oss searches and opens the documents itself and cites their lines); repeatable",
    )
    chat.add_argument(
        "--python",
        choices=["ask", "run", "off"],
        default="ask",
        help="with --tools python: run its code (run), or not (off); ask, the default, declines headless",
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
    if "browser" in args.tools and not args.doc:
        return _fail(args.json, "--tools browser reads documents (this app is offline): give them with --doc FILE.")
    adapters: tuple[LoraAdapter, ...] = tuple(getattr(args, "lora", ()))
    if adapters and getattr(args, "server", None):
        return _fail(args.json, "--lora changes a model on this computer: use it with --model, not --server.")
    if len({a.path.expanduser().resolve() for a in adapters}) < len(adapters):
        return _fail(args.json, "The same adapter is given twice with --lora; give each once, with one scale.")
    try:
        engine = _open_engine(args, adapters)
    except ModelLoadError as exc:
        return _fail(args.json, str(exc))
    except KeyboardInterrupt:  # Ctrl+C while the model loads or the server is asked
        return 130
    conversation = Conversation(
        messages=(Message("user", args.message),), effort=args.effort, instructions=args.instructions
    )
    cancel = CancelFlag()
    stack = ExitStack()  # what the answer opened (the python session): closed before the engine
    printer = _JsonPrinter(sys.stdout) if args.json else _TextPrinter(sys.stdout, sys.stdout.isatty())
    status = 0
    python = "python" in args.tools and args.python != "off"
    if args.doc:
        browse = "browser" in args.tools
        others = _python_toolbox(args.python, stack) if browse and python else None
        events: Iterator[Shown] = document_events(
            args.doc,
            engine,
            conversation,
            sampling,
            cancel,
            args.embedding_model,
            adapters,
            browse=browse,
            others=others,
        )
    elif python:
        request = ChatRequest(conversation, sampling, adapters=adapters)
        events = run_turn(engine, request, _python_toolbox(args.python, stack), cancel)
    elif engine.info.is_harmony:  # no tools declared, but gpt-oss may call one anyway: it is told there is none
        events = run_turn(engine, ChatRequest(conversation, sampling, adapters=adapters), Toolbox(), cancel)
    else:
        events = engine.generate(ChatRequest(conversation, sampling, adapters=adapters), cancel)
    try:
        for event in events:
            if isinstance(event, ToolApproval):
                event.decide(False)  # nobody to ask here: "ask first" declines
            printer.show(event)
            if isinstance(event, Failed | DocumentProblem | SemanticProblem):
                status = 1  # like cp: the others still count, the exit code says not all went well
    except KeyboardInterrupt:
        cancel.set()
        status = 130
    except BrokenPipeError:  # the reader went away (`| head -1`): stop quietly, as a shell command does
        cancel.set()
        _silence_stdout()
        status = BROKEN_PIPE
    finally:
        # The generation's own cleanup touches the model: it runs now, while the model is still loaded.
        close = getattr(events, "close", None)
        if close is not None:
            close()
        stack.close()
        engine.close()
    return status


def _python_toolbox(mode: str, stack: ExitStack) -> Toolbox:
    """The python tool: a sandboxed session for this one answer, in a folder under the app's data."""
    folder = app_paths().data / "python" / "command-line"
    session = stack.enter_context(PythonSession(folder))
    return Toolbox(
        declarations=(PYTHON,),
        tools={"python": PythonCalls(session)},
        ask=frozenset({"python"}) if mode == "ask" else frozenset(),
    )


def _silence_stdout() -> None:
    """Point stdout at the null device, so flushing it at exit does not fail a second time."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _context_size(text: str) -> int:
    """--context: a whole number of tokens llama.cpp and servers can work with."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of tokens") from None
    if not MIN_CONTEXT <= value <= MAX_CONTEXT:
        raise argparse.ArgumentTypeError(f"{value} tokens: the context must be {MIN_CONTEXT} to {MAX_CONTEXT:,}")
    return value


def _lora(text: str) -> LoraAdapter:
    """--lora FILE[:SCALE]: the scale after the last colon when it is a number (a path may hold colons)."""
    path, colon, scale = text.rpartition(":")
    try:
        value = float(scale) if colon and path else None
    except ValueError:
        value = None
    try:
        return LoraAdapter(Path(path if value is not None else text), 1.0 if value is None else value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _open_engine(args: argparse.Namespace, adapters: tuple[LoraAdapter, ...] = ()) -> ChatEngine:
    """The local model (checked with its adapters), or the server named by --server (its key from
    --api-key-env, else the keyring)."""
    if not getattr(args, "server", None):
        local = load_local_engine(args.model, context_size=args.context, adapters=[a.path for a in adapters])
        for adapter in adapters:
            lora = local.open_adapter(adapter.path)
            _say(f"adapter {lora.name} (rank {lora.rank}) at scale {adapter.scale:g}")
        return local
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
    _say(f"{engine.info.name} runs {engine.info.where}")
    if args.doc:
        _say("passages of the documents are sent to that server")
    if engine.info.effort_note:
        _say(engine.info.effort_note)
    return engine


def _say(message: str, blank_line: bool = False) -> None:
    """A message on stderr, stripped of terminal control sequences (it may quote a server or a file name)."""
    print(f"{chr(10) if blank_line else ''}gptoss-desktop: {clean(message)}", file=sys.stderr)


def _fail(as_json: bool, message: str) -> int:
    if as_json:
        print(json.dumps({"type": "error", "text": message}), flush=True)
    _say(message)
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
            _say(event.message)
        elif isinstance(event, SemanticReady):
            record = {"type": "semantic", "model": event.name, "passages": event.passages}
        elif isinstance(event, SemanticProblem):
            record = {"type": "semantic_error", "text": event.message}
            _say(event.message)
        elif isinstance(event, BrowserUnavailable):
            record = {"type": "browser_unavailable", "text": event.message}
            _say(event.message)
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
            if event.citations:
                record["citations"] = [dataclasses.asdict(citation) for citation in event.citations]
        elif isinstance(event, Failed):
            record = {"type": "error", "text": event.message}
            _say(event.message)
        elif isinstance(event, ToolCall):
            record = {"type": "tool_call", "recipient": event.recipient, "arguments": event.arguments}
        elif isinstance(event, ToolResult):
            record = {
                "type": "tool_result",
                "recipient": event.recipient,
                "status": event.status,
                "summary": event.summary,
                "output": event.output,
                "model_text": event.model_text,
                "seconds": round(event.seconds, 3),
                "files": [dataclasses.asdict(file) for file in event.files],
            }
        else:
            return
        self._out.write(json_line(json.dumps(record, ensure_ascii=False)) + "\n")
        self._out.flush()


class _TextPrinter:
    """Reasoning under a header (dimmed on a terminal), then the answer."""

    def __init__(self, out: TextIO, color: bool) -> None:
        self._out = out
        self._color = color
        self._section: str | None = None
        self._sources: tuple[Source, ...] = ()

    def show(self, event: Shown) -> None:
        if isinstance(event, DocumentProblem | SemanticProblem | BrowserUnavailable):
            _say(event.message)
        elif isinstance(event, SemanticReady):
            _say(f"{event.passages} passages searched by meaning too ({event.name})")
        elif isinstance(event, DocumentsUsed):
            _say(event.note)
        elif isinstance(event, SourcesCited):
            self._sources = event.sources
        elif isinstance(event, ReasoningDelta):
            self._enter("reasoning")
            self._write(event.text, dim=self._color)
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
            if event.citations:
                self._enter("citations")
                for citation in event.citations:
                    self._write(_citation_line(citation) + "\n")
            if event.stop_reason == "length":
                _say("the reply reached the token limit")
        elif isinstance(event, ContextTrimmed):
            _say(event.notice)
        elif isinstance(event, Failed):
            _say(event.message, blank_line=True)
        elif isinstance(event, ToolCall):
            self._enter(event.recipient)
            self._write(event.arguments.rstrip("\n") + "\n")
        elif isinstance(event, ToolResult):
            self._enter(f"{event.recipient} · {event.summary}")
            self._write((event.output or "(no output)").rstrip("\n") + "\n")
            for file in event.files:
                self._write(f"wrote {file.path} ({file.size:,} bytes)\n")

    def _enter(self, section: str) -> None:
        if self._section != section:
            prefix = "\n\n" if self._section else ""
            self._write(f"{prefix}[{section}]\n")
            self._section = section

    def _write(self, text: str, dim: bool = False) -> None:
        """Write `text` stripped of terminal control sequences (it comes from a model, a server, a file)."""
        self._out.write(f"{DIM}{clean(text)}{RESET}" if dim else clean(text))
        self._out.flush()


def _citation_line(citation: Citation) -> str:
    """`【1†L5-L6】 lease.pdf, page 3, lines 6-7: "…"`, or the mark and "unverified"."""
    lines = f"L{citation.first_line}" + (f"-L{citation.last_line}" if citation.last_line != citation.first_line else "")
    mark = f"【{citation.cursor}†{lines}】"
    if not citation.verified:
        return f"{mark} unverified: the model was shown nothing there"
    place = [citation.document_name or ""]
    if citation.page is not None:
        place.append(f"page {citation.page}")
    if citation.file_lines is not None:
        first, last = citation.file_lines
        place.append(f"line {first}" if first == last else f"lines {first}-{last}")
    return f'{mark} {", ".join(place)}: "{citation.quote}"'
