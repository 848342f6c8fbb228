"""App settings stored as JSON in the config folder; unknown or broken values fall back to defaults."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Literal

from .harmony import EFFORTS, Effort
from .remote.profile import ServerProfile

Theme = Literal["system", "light", "dark"]
THEMES: tuple[Theme, ...] = ("system", "light", "dark")
MIN_FONT_SIZE = 8
MAX_FONT_SIZE = 32


def _is_font_size(value: object) -> bool:
    return value is None or (type(value) is int and MIN_FONT_SIZE <= value <= MAX_FONT_SIZE)


# One check per field: load_settings drops only the values that fail, and Settings refuses them.
_CHECKS: dict[str, Callable[[object], bool]] = {
    "model_path": lambda value: value is None or isinstance(value, str),
    "effort": lambda value: value in EFFORTS,
    "theme": lambda value: value in THEMES,
    "font_size": _is_font_size,
    "show_reasoning": lambda value: type(value) is bool,
    "embedding_model_path": lambda value: value is None or (isinstance(value, str) and value != ""),
    "servers": lambda value: isinstance(value, tuple) and all(isinstance(v, ServerProfile) for v in value),
    "api_enabled": lambda value: type(value) is bool,
    "api_port": lambda value: type(value) is int and 1 <= value <= 65535,
    "window_geometry": lambda value: value is None or (isinstance(value, str) and len(value) < 4096),
    "python_interpreter": lambda value: value is None or (isinstance(value, str) and 0 < len(value) < 4096),
    "adapters": lambda value: (
        isinstance(value, tuple)
        and len(set(value)) == len(value)
        and all(isinstance(v, str) and 0 < len(v) < 4096 for v in value)
    ),
}


@dataclass(frozen=True)
class Settings:
    """What the app remembers between runs.

    ``effort`` is the default reasoning effort of new conversations; ``font_size`` is in points,
    None meaning the system's size; ``show_reasoning`` says whether reasoning panels start open;
    ``embedding_model_path`` is the embedding GGUF that semantic search uses, None meaning off
    (documents are then searched by their words only); ``servers`` are the servers conversations
    can run on, offered beside this computer (their API keys live in the keyring, never here);
    ``api_enabled`` serves the loaded model to other programs (an OpenAI-compatible API on
    127.0.0.1:``api_port``), off unless switched on.
    ``window_geometry`` is where the window was and how large (Qt's saveGeometry, base64).
    ``python_interpreter`` is another Python for the python tool (one with pandas or matplotlib), run
    under the same sandbox; None means the app's own.
    ``adapters`` are the LoRA adapter files added (File ▸ Adapters…, or dropped), offered to every
    conversation; each conversation says which of them it applies, and how strongly.
    """

    model_path: str | None = None
    effort: Effort = "medium"
    theme: Theme = "system"
    font_size: int | None = None
    show_reasoning: bool = True
    embedding_model_path: str | None = None
    servers: tuple[ServerProfile, ...] = ()
    api_enabled: bool = False
    api_port: int = 8080
    window_geometry: str | None = None
    python_interpreter: str | None = None
    adapters: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not _CHECKS[f.name](value):
                raise ValueError(f"invalid setting {f.name}={value!r}")

    def with_changes(self, **changes: object) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


def load_settings(path: Path) -> Settings:
    """Read settings; a missing or damaged file gives defaults, a damaged field its own default."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Settings()
    if not isinstance(raw, dict):
        return Settings()
    servers = raw.get("servers")
    profiles = (ServerProfile.from_json(item) for item in (servers if isinstance(servers, list) else []))
    raw["servers"] = tuple(profile for profile in profiles if profile is not None)
    adapters = raw.get("adapters")
    if isinstance(adapters, list):  # a damaged entry is dropped, not the whole list
        raw["adapters"] = tuple(dict.fromkeys(a for a in adapters if isinstance(a, str) and 0 < len(a) < 4096))
    return Settings(**{k: v for k, v in raw.items() if k in _CHECKS and _CHECKS[k](v)})


def save_settings(path: Path, settings: Settings) -> None:
    """Write atomically, so a crash mid-write never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp", encoding="utf-8") as f:
        values = asdict(settings)
        values["servers"] = [server.to_json() for server in settings.servers]
        values["adapters"] = list(settings.adapters)
        json.dump(values, f, indent=2)
        tmp = Path(f.name)
    os.replace(tmp, path)
