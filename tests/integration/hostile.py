"""Running the command line against hostile input: a real process, with a memory ceiling and a deadline,
so a regression shows as a failed test rather than a machine brought down."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

#: A child that needs more than this has lost its bounds (the tiny model needs ~300 MB).
MEMORY_CEILING = 2 << 30


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CEILING, MEMORY_CEILING))


def run_cli(
    *args: str, home: Path, stdin: str | None = None, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`gptoss-desktop --home HOME ARGS` under the ceiling; a hang past `timeout` raises TimeoutExpired."""
    return subprocess.run(
        [sys.executable, "-m", "gptoss_desktop", "--home", str(home), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_limit_memory,
        env={**os.environ, **(env or {})},
    )


def assert_clean_failure(result: subprocess.CompletedProcess[str], *, says: str) -> None:
    """Exit 1 with a message naming the problem: no signal, no traceback."""
    assert result.returncode >= 0, f"killed by {signal.Signals(-result.returncode).name}: {result.stderr[-2000:]}"
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, result.stderr
    assert says in result.stderr, result.stderr
