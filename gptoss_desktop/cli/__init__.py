"""Command line: open the window, or work without one. One module per command, each with
`add_parser` (its options) and `run` (what it does)."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from types import ModuleType

from .. import __version__
from ..core.paths import use_home
from . import chat, export, harmony, models, serve, tools

#: The commands, in the order `--help` lists them.
COMMANDS: dict[str, ModuleType] = {
    "chat": chat,
    "harmony": harmony,
    "models": models,
    "export": export,
    "serve": serve,
    "tools": tools,
}


def build_parser() -> argparse.ArgumentParser:
    """All commands and options."""
    parser = argparse.ArgumentParser(prog="gptoss-desktop", description="Private, offline chat with gpt-oss.")
    parser.add_argument("--version", action="version", version=f"gptoss-desktop {__version__}")
    parser.add_argument("--home", metavar="DIR", help="keep all data, settings and caches under DIR")
    parser.add_argument("--model", metavar="PATH", help="GGUF model to load in the window (remembered)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS.values():
        module.add_parser(commands)
    return parser


def _exit_cleanly_on_termination() -> None:
    """SIGTERM and SIGHUP (a closed terminal, a logout) unwind the command like Ctrl+C does, so its
    temporary copies of documents are deleted and the model is closed; by default they killed it outright."""

    def leave(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), leave)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `gptoss-desktop` and `python -m gptoss_desktop`: a command, or the window."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.home:
        try:
            use_home(args.home)
        except RuntimeError as exc:  # ~user of no such user
            parser.error(f"--home {args.home}: {exc}")
    if args.command in COMMANDS:
        _exit_cleanly_on_termination()
        result: int = COMMANDS[args.command].run(args)
        return result
    from ..ui.app import run_app

    return run_app(args.model)


if __name__ == "__main__":
    sys.exit(main())
