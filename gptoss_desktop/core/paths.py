"""Every folder the app writes to, from one place.

platformdirs gives the per-OS defaults; the environment variable
``GPTOSS_DESKTOP_HOME`` (or ``--home DIR``) moves all of them under one folder, so
tests and screenshots never touch a real home.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "gptoss-desktop"
HOME_ENV = "GPTOSS_DESKTOP_HOME"


@dataclass(frozen=True)
class AppPaths:
    """Where data, settings, caches and downloaded models live."""

    data: Path
    config: Path
    cache: Path
    models: Path

    @property
    def settings_file(self) -> Path:
        """The app's settings (JSON)."""
        return self.config / "settings.json"

    @property
    def database(self) -> Path:
        """Conversations (SQLite)."""
        return self.data / "conversations.db"


def app_paths() -> AppPaths:
    """Paths for this process: under $GPTOSS_DESKTOP_HOME if set, else the OS defaults."""
    home = os.environ.get(HOME_ENV)
    if home:
        root = Path(home).expanduser().resolve()
        return AppPaths(root / "data", root / "config", root / "cache", root / "models")
    data = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    return AppPaths(
        data=data,
        config=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        cache=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        models=data / "models",
    )


def use_home(directory: str | os.PathLike[str]) -> None:
    """Move every app path under `directory` for the rest of this process (``--home``)."""
    os.environ[HOME_ENV] = str(Path(directory).expanduser().resolve())
