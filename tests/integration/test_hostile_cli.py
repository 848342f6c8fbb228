"""The command line as a hostile or careless person runs it: closed pipes, odd arguments, odd text."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("mode", [[], ["--json"]])
def test_a_closed_output_pipe_ends_the_chat_quietly(mode: list[str], trained_model: Path, tmp_path: Path) -> None:
    """`chat ... | head -1`: the reader goes away after one line."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gptoss_desktop", "--home", str(tmp_path / "home"), "chat", *mode,
         "--model", str(trained_model), "--seed", "1", "hi"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline()
    process.stdout.close()
    with process.stderr:
        stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141, stderr  # 128 + SIGPIPE, as a shell reports a closed pipe
    assert "Traceback" not in stderr
