"""`gptoss-desktop serve`: the model behind a local OpenAI-compatible API, without a window."""

from __future__ import annotations

import argparse
import os
import sys

from ..core.api.app import ApiSettings, create_app
from ..core.api.response_store import ResponseStore
from ..core.api.runner import EngineThread
from ..core.api.server import ApiServer, ServeError, check_exposure
from ..core.engine import ModelLoadError
from ..core.local.engine import LocalEngine
from ..core.paths import app_paths

DEFAULT_PORT = 8080


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`serve`: its options."""
    serve = commands.add_parser("serve", help="serve a model through a local OpenAI-compatible API")
    serve.add_argument("--model", metavar="PATH", required=True, help="GGUF model file")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this computer only)"
    )
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)"
    )
    serve.add_argument(
        "--api-key-env",
        metavar="VAR",
        help="require the API key held in environment variable VAR (needed off 127.0.0.1)",
    )
    serve.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="let web pages from ORIGIN (e.g. http://localhost:3000) call the API; repeatable; off by default",
    )
    serve.add_argument("--context", type=int, metavar="N", help="context window in tokens (default: the memory plan's)")
    serve.add_argument("--threads", type=int, metavar="N", help="CPU threads for llama.cpp (default: cores less one)")
    serve.add_argument(
        "--queue", type=int, default=8, metavar="N", help="requests that may wait (default 8; more get 429)"
    )
    serve.add_argument("--no-store", action="store_true", help="keep no Responses API replies in the database")


def run(args: argparse.Namespace) -> int:
    """Load the model, serve until Ctrl+C; non-zero exit when it cannot start."""
    key = None
    if args.api_key_env:
        key = os.environ.get(args.api_key_env, "").strip()
        if not key:
            return _fail(f"The environment variable {args.api_key_env} holds no API key.")
    try:
        check_exposure(args.host, key)
        engine = LocalEngine(args.model, context_size=args.context, n_threads=args.threads)
    except (ServeError, ModelLoadError) as exc:
        return _fail(str(exc))
    runner = EngineThread(engine, max_waiting=max(args.queue, 0) or 1)
    store = None if args.no_store else ResponseStore(app_paths().database)
    settings = ApiSettings(host=args.host, api_key=key, cors_origins=tuple(args.cors_origin))
    server = ApiServer(create_app(runner, settings, store), args.host, args.port, log_level="warning")
    try:
        server.start()
        print(f"gptoss-desktop: serving {engine.info.name} at {server.base_url}", file=sys.stderr, flush=True)
        print(server.base_url, flush=True)
        _wait_for_interrupt()
    except ServeError as exc:
        return _fail(str(exc))
    finally:
        server.stop()
        runner.close()
    return 0


def _wait_for_interrupt() -> None:
    """Block the main thread until Ctrl+C or SIGTERM."""
    import contextlib
    import signal
    import threading

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()


def _fail(message: str) -> int:
    print(f"gptoss-desktop: {message}", file=sys.stderr)
    return 1
