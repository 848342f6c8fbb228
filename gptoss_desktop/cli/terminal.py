"""Text from outside (a model's answer, a server's error, a file or model name) made safe for a terminal.

An escape sequence in an answer can write the clipboard (OSC 52), retitle the window, clear the screen
or hide text; a C1 control does the same in one byte. Printed text keeps its letters, tabs and line
breaks and loses every control sequence; JSON output escapes the C1 controls that json.dumps leaves raw.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, screen clears
    r"|\x1b[\]PX^_].*?(?:\x07|\x1b\\|$)"  # OSC, DCS, SOS, PM, APC strings: titles, clipboard, hyperlinks
    r"|\x1b[ -/]*[0-~]?"  # other escapes (and a lone ESC)
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]",  # other C0 and C1 controls; \t and \n stay
    re.DOTALL,
)
_C1 = re.compile(r"[\x7f-\x9f]")


def clean(text: str) -> str:
    """`text` without terminal control sequences or control characters (tabs and line breaks kept)."""
    return _CONTROL.sub("", text)


def json_line(text: str) -> str:
    """A json.dumps result with the C1 controls escaped too (they can only stand inside its strings)."""
    return _C1.sub(lambda match: f"\\u{ord(match[0]):04x}", text)
