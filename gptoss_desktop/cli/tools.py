"""`gptoss-desktop tools python < cell.py`: one cell in the python tool's sandbox, the result as JSON.

The same session the window uses, alone: the sandbox can be tried, attacked and tested without a model.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..core.paths import app_paths
from ..core.tools.python_tool import DEFAULT_TIMEOUT, PythonSession, SandboxOptions, SandboxUnavailableError


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`tools`: its options."""
    tools = commands.add_parser("tools", help="run the model's tools by hand")
    which = tools.add_subparsers(dest="tool", metavar="TOOL", required=True)
    python = which.add_parser(
        "python",
        help="run one Python cell (read from stdin) in the sandbox and print the result as JSON",
        description="Run one Python cell, read from stdin, in the python tool's sandbox; print "
        '{"output", "value", "error", "timed_out", "exit", "files", ...} as JSON. '
        "Exit status: 0 ran, 1 the cell raised or timed out, 2 the sandbox is unavailable.",
    )
    python.add_argument("--workdir", metavar="DIR", help="working folder, /mnt/data inside (default: under --home)")
    python.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S", help="seconds (default 120)")
    python.add_argument("--memory", type=int, metavar="MIB", help="memory limit in MiB (default 2048)")
    python.add_argument("--processes", type=int, metavar="N", help="process and thread limit (default 64)")
    python.add_argument(
        "--python", metavar="PATH", help="another Python interpreter to run the cell (e.g. with pandas)"
    )
    python.add_argument("--attach", action="append", default=[], metavar="FILE", help="copy FILE in; repeatable")
    python.add_argument(
        "--without-network-isolation",
        action="store_true",
        help="run even where the code cannot be cut off from the network",
    )


def run(args: argparse.Namespace) -> int:
    """Run the cell; the JSON goes to stdout whatever happened."""
    workdir = Path(args.workdir) if args.workdir else app_paths().data / "python" / "command-line"
    defaults = SandboxOptions()
    options = SandboxOptions(
        timeout=args.timeout,
        memory=args.memory * 2**20 if args.memory else defaults.memory,
        processes=args.processes or defaults.processes,
        interpreter=Path(args.python) if args.python else None,
        require_network_isolation=not args.without_network_isolation,
    )
    code = sys.stdin.read()
    with PythonSession(workdir, options) as session:
        try:
            attached = session.attach(Path(name) for name in args.attach)
            isolation = session.start()
            result = session.run(code)
        except (SandboxUnavailableError, OSError) as exc:
            reason = exc.reason if isinstance(exc, SandboxUnavailableError) else f"{exc.strerror}: {exc.filename}"
            network = isinstance(exc, SandboxUnavailableError) and exc.network_only
            unavailable = {"output": "", "value": None, "error": reason, "timed_out": False, "exit": None,
                           "unavailable": True, "network_only": network}  # fmt: skip
            print(json.dumps(unavailable, ensure_ascii=False, indent=2))
            return 2
    report = {**result.to_json(), "attached": attached, "isolation": isolation.to_json()}
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 1 if result.error else 0
