"""The layer rules import-linter cannot express: services use QtCore only."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "gptoss_desktop"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_services_use_qtcore_only() -> None:
    offenders = {
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in (PACKAGE / "services").rglob("*.py")
        for name in imported_modules(path)
        if name.startswith("PySide6") and name != "PySide6.QtCore"
    }
    assert offenders == set()


def test_the_check_sees_imports() -> None:
    modules = set().union(*(imported_modules(p) for p in (PACKAGE / "services").rglob("*.py")))
    assert "PySide6.QtCore" in modules
