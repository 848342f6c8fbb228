"""Offline, proven: a local chat, a document answer (with semantic search) and the window's start-up make
no network connection at all. Every Python process of theirs (the model probe too) runs with an audit hook
on `socket.connect` and `socket.getaddrinfo` (tests/fixtures/offline/sitecustomize.py); none of these
scenarios sets up a socket of its own, so the log of connections must stay empty."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HOOK_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "offline"
ROOT = Path(__file__).resolve().parents[2]


def run_hooked(args: list[str], log: Path, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HOOK_DIR), str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "GPTOSS_OFFLINE_LOG": str(log),
        "QT_QPA_PLATFORM": "offscreen",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "gptoss_desktop", "--home", str(home), *args],
        capture_output=True, text=True, timeout=300, env=environment,
    )  # fmt: skip


def test_the_hook_sees_a_connection(tmp_path: Path) -> None:
    """The proof is only as good as the hook: a connection to a port nobody listens on is logged."""
    log = tmp_path / "connections.log"
    environment = {**os.environ, "PYTHONPATH": str(HOOK_DIR), "GPTOSS_OFFLINE_LOG": str(log)}
    code = "import socket\ntry:\n    socket.create_connection(('127.0.0.1', 9), timeout=1)\nexcept OSError:\n    pass\n"
    subprocess.run([sys.executable, "-c", code], env=environment, timeout=60, check=True)
    assert "connect AF_INET ('127.0.0.1', 9)" in log.read_text()


@pytest.mark.slow
def test_chat_documents_and_the_window_make_no_connection(
    trained_model: Path, minilm_model: Path, tmp_path: Path
) -> None:
    log = tmp_path / "connections.log"
    home = tmp_path / "home"
    document = tmp_path / "notes.txt"
    document.write_text("The ferry leaves the harbour at seven in the morning.\n")
    chat = run_hooked(["chat", "--model", str(trained_model), "--max-tokens", "8", "--seed", "1", "hi"], log, home)
    assert chat.returncode == 0, chat.stderr
    answer = run_hooked(
        ["chat", "--model", str(trained_model), "--doc", str(document), "--embedding-model", str(minilm_model),
         "--max-tokens", "8", "--seed", "1", "When does the ferry leave?"], log, home,
    )  # fmt: skip
    assert answer.returncode == 0, answer.stderr
    assert "searched by meaning" in answer.stderr
    window = run_hooked(["--model", str(trained_model)], log, home, GPTOSS_DESKTOP_QUIT_AFTER_SHOWN="1")
    assert window.returncode == 0 and "Traceback" not in window.stderr, window.stderr
    assert not log.exists() or log.read_text() == ""
