"""The hook the packaged app's smoke test uses: the real app opens its window, closes it cleanly and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gptoss_desktop.ui.app import QUIT_AFTER_SHOWN_ENV

#: What the offscreen platform plugin says about itself (no window manager), as in pyproject's qt_log_ignore.
OFFSCREEN_LIMITS = ("This plugin does not support propagateSizeHints()",)


def test_the_app_shows_its_window_and_exits_cleanly_when_asked(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", QUIT_AFTER_SHOWN_ENV: "1"}
    done = subprocess.run(
        [sys.executable, "-m", "gptoss_desktop", "--home", str(tmp_path / "home")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "shown: gpt-oss desktop 1120x760 visible"
    assert [line for line in done.stderr.splitlines() if line not in OFFSCREEN_LIMITS] == []
    assert (tmp_path / "home" / "data" / "conversations.db").is_file(), "the window really started (its history)"
