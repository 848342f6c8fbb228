"""Command line: open the window, or chat and inspect harmony without one."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__
from .core.export import FORMATS
from .core.harmony import EFFORTS
from .core.paths import use_home


def build_parser() -> argparse.ArgumentParser:
    """All commands and options."""
    parser = argparse.ArgumentParser(prog="gptoss-desktop", description="Private, offline chat with gpt-oss.")
    parser.add_argument("--version", action="version", version=f"gptoss-desktop {__version__}")
    parser.add_argument("--home", metavar="DIR", help="keep all data, settings and caches under DIR")
    parser.add_argument("--model", metavar="PATH", help="GGUF model to load in the window (remembered)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

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

    harmony = commands.add_parser("harmony", help="see exactly what the model gets and says")
    harmony_commands = harmony.add_subparsers(dest="harmony_command", metavar="ACTION", required=True)
    render = harmony_commands.add_parser("render", help="print the exact prompt for a conversation JSON file")
    render.add_argument("conversation", metavar="CONVERSATION.json")
    harmony_commands.add_parser("parse", help="parse raw completion text from stdin into JSON")

    models = commands.add_parser("models", help="find, download and check model files without the window")
    models_commands = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    listing = models_commands.add_parser("list", help="model files on this computer, and the ones to download")
    listing.add_argument("--online", action="store_true", help="ask the hub for each download's size and fit")
    listing.add_argument("--json", action="store_true", help="print one JSON document")
    fetch = models_commands.add_parser("download", help="download a model file; run it again to resume")
    fetch.add_argument("--repo", metavar="R", help="hub repository (default: the recommended gpt-oss-20b)")
    fetch.add_argument("--file", metavar="F", help="GGUF file in that repository")
    fetch.add_argument("--to", metavar="FOLDER", help="download into FOLDER instead of the Hugging Face cache")
    verify = models_commands.add_parser("verify", help="check a model file: structure, SHA-256, memory")
    verify.add_argument("path", metavar="PATH", help="the GGUF file")

    export = commands.add_parser("export", help="print or save a conversation as Markdown or JSON")
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("conversation_id", nargs="?", type=int, metavar="CONVERSATION_ID", help="see --list")
    which.add_argument("--list", action="store_true", help="list conversations, newest first: id, updated, title")
    export.add_argument("--format", choices=FORMATS, default="md", help="md (default) or json")
    export.add_argument("--reasoning", action="store_true", help="include the model's reasoning")
    export.add_argument("-o", "--output", metavar="FILE", help="write FILE (replaced only once complete), not stdout")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `gptoss-desktop` and `python -m gptoss_desktop`."""
    args = build_parser().parse_args(argv)
    if args.home:
        use_home(args.home)
    if args.command == "chat":
        from .cli_chat import run_chat

        return run_chat(args)
    if args.command == "harmony":
        from .cli_harmony import run_harmony

        return run_harmony(args)
    if args.command == "models":
        from .cli_models import run_models

        return run_models(args)
    if args.command == "export":
        from .cli_export import run_export

        return run_export(args)
    from .ui.app import run_app

    return run_app(args.model)


if __name__ == "__main__":
    sys.exit(main())
