"""A pytest plugin that makes Qt impossible to import, as if PySide6 were not installed.

`tools/run-tests -p tests.without_qt -p no:pytestqt tests/core` (CI runs it) proves the core runs
and is tested without Qt, as napari proves its model is: a core module that imported PySide6,
even indirectly, fails there.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

BLOCKED = ("PySide6", "shiboken6", "pytestqt")


class _NoQt:
    """A meta path finder that refuses every Qt module."""

    @staticmethod
    def find_spec(name: str, path: Sequence[str] | None = None, target: ModuleType | None = None) -> ModuleSpec | None:
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (Qt is blocked: core tests run without it)")
        return None


if any(name.split(".")[0] in BLOCKED for name in sys.modules):
    raise RuntimeError("Qt was imported before tests.without_qt could block it: load the plugin first (-p)")
sys.meta_path.insert(0, _NoQt())  # type: ignore[arg-type]


def pytest_addoption(parser: object) -> None:
    """pytest-qt's settings in pyproject stay known (and unused) while pytest-qt is not loaded."""
    for name in ("qt_api", "qt_log_level_fail", "qt_log_ignore"):
        parser.addini(name, "pytest-qt's, unused without Qt", type="linelist" if name == "qt_log_ignore" else "string")  # type: ignore[attr-defined]
