"""Command line: open the window, or work without one. One module per command, each with
`add_parser` (its options) and `run` (what it does)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from .. import __version__
from ..core.paths import use_home
from . import chat, export, harmony, models, serve

#: The commands, in the order `--help` lists them.
COMMANDS: dict[str, ModuleType] = {
    "chat": chat,
    "harmony": harmony,
    "models": models,
    "export": export,
    "serve": serve,
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `gptoss-desktop` and `python -m gptoss_desktop`: a command, or the window."""
    args = build_parser().parse_args(argv)
    if args.home:
        use_home(args.home)
    if args.command in COMMANDS:
        result: int = COMMANDS[args.command].run(args)
        return result
    from ..ui.app import run_app

    return run_app(args.model)


if __name__ == "__main__":
    sys.exit(main())
