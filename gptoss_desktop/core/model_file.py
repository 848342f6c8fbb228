"""Cheap checks on a model file before llama.cpp is asked to load it, for clear messages."""

from __future__ import annotations

from pathlib import Path

GGUF_MAGIC = b"GGUF"


class ModelLoadError(Exception):
    """A model could not be loaded; the message is meant for a person."""


def check_model_file(path: Path) -> None:
    """Raise ModelLoadError naming the problem if `path` cannot be a GGUF model."""
    if not path.exists():
        raise ModelLoadError(f"No model file at {path}.")
    if not path.is_file():
        raise ModelLoadError(f"{path} is a folder, not a model file.")
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise ModelLoadError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    if magic != GGUF_MAGIC:
        raise ModelLoadError(f"{path.name} is not a GGUF model file (it does not start with the GGUF signature).")
