"""The hook the packaged app's smoke test uses: the real app opens its window, closes it cleanly and exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from gptoss_desktop.ui.app import QUIT_AFTER_SHOWN_ENV
from gptoss_desktop.ui.dialogs.about import COMPONENTS

#: What the offscreen platform plugin says about itself (no window manager), as in pyproject's qt_log_ignore.
OFFSCREEN_LIMITS = ("This plugin does not support propagateSizeHints()",)


def run_app(home: Path, hook: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", QUIT_AFTER_SHOWN_ENV: hook}
    done = subprocess.run(
        [sys.executable, "-m", "gptoss_desktop", "--home", str(home)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stderr.splitlines() if line not in OFFSCREEN_LIMITS] == []
    return done


def test_the_app_shows_its_window_and_exits_cleanly_when_asked(tmp_path: Path) -> None:
    done = run_app(tmp_path / "home", "1")
    # A first window is 1180x800, but never larger than the screen (the offscreen one is 800x800).
    assert done.stdout.strip() == "shown: gpt-oss desktop 800x800 visible"
    assert (tmp_path / "home" / "data" / "conversations.db").is_file(), "the window really started (its history)"


def test_asked_for_about_it_prints_what_the_about_dialog_shows(tmp_path: Path) -> None:
    lines = run_app(tmp_path / "home", "about").stdout.splitlines()
    assert lines[0] == "shown: gpt-oss desktop 800x800 visible"
    assert lines[1] == f"about: Version {version('gptoss-desktop')}, icon"
    assert f"about: llama.cpp (llama-cpp-python) | {version('llama-cpp-python')} | MIT" in lines
    assert len(lines) == 2 + len(COMPONENTS)


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_logout_and_ctrl_c_close_the_app_as_its_close_button_does(tmp_path: Path, number: signal.Signals) -> None:
    """A desktop session's logout (SIGTERM), Ctrl+C in the terminal and a closed terminal: every thread is
    stopped and the app exits 0, never "QThread: Destroyed while thread ... is still running"."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", QUIT_AFTER_SHOWN_ENV: "wait"}
    app = subprocess.Popen(
        [sys.executable, "-m", "gptoss_desktop", "--home", str(tmp_path / "home")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert app.stdout is not None
        assert app.stdout.readline().startswith("shown: gpt-oss desktop")  # the window is up, its threads running
        app.send_signal(number)
        _out, err = app.communicate(timeout=30)
    finally:
        app.kill()
    assert app.returncode == 0, err
    assert [line for line in err.splitlines() if line not in OFFSCREEN_LIMITS] == []
