"""App settings stored as JSON in the config folder; unknown or broken values fall back to defaults."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from .harmony import EFFORTS, Effort


@dataclass(frozen=True)
class Settings:
    """What the app remembers between runs."""

    model_path: str | None = None
    effort: Effort = "medium"

    def with_changes(self, **changes: object) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


def load_settings(path: Path) -> Settings:
    """Read settings; a missing or damaged file gives defaults rather than an error."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Settings()
    if not isinstance(raw, dict):
        return Settings()
    known = {f.name for f in fields(Settings)}
    values = {k: v for k, v in raw.items() if k in known}
    if values.get("effort") not in EFFORTS:
        values.pop("effort", None)
    if not isinstance(values.get("model_path"), (str, type(None))):
        values.pop("model_path", None)
    return Settings(**values)


def save_settings(path: Path, settings: Settings) -> None:
    """Write atomically, so a crash mid-write never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp", encoding="utf-8") as f:
        json.dump(asdict(settings), f, indent=2)
        tmp = Path(f.name)
    os.replace(tmp, path)
