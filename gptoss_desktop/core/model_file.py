"""What every model-file check shares: the GGUF signature and the error people see."""

from __future__ import annotations

GGUF_MAGIC = b"GGUF"


class ModelLoadError(Exception):
    """A model could not be loaded; the message is meant for a person."""
