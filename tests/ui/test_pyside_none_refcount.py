"""Regression: PySide6 6.12.0 on Python 3.11 kills the process after many void-returning calls.

The project requires Python 3.12+, where None is immortal. This runs the calls
that crash the 3.11 combination, in a child process so a crash fails this test
instead of taking the suite down.
"""

from __future__ import annotations

import os
import subprocess
import sys

CALLS = 300_000

SCRIPT = f"""
import sys
from PySide6.QtGui import QGuiApplication, QTextCursor, QTextDocument
app = QGuiApplication([])
document = QTextDocument()
cursor = QTextCursor(document)
for i in range({CALLS} // 3):
    cursor.insertText("x")
    cursor.setPosition(0)
    cursor.movePosition(QTextCursor.MoveOperation.End)
    if i % 1000 == 999:
        document.clear()
print("survived", sys.getrefcount(None))
"""


def test_hundreds_of_thousands_of_void_calls_do_not_kill_the_process() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "survived" in result.stdout
    assert "none_dealloc" not in result.stderr
