"""A model's name as people know it, not as a converter wrote it.

`general.name` is often made from a training run's folder ("Smollm2 135M 8k Lc100K Mix1 Ep2"); the
file name the publisher chose ("SmolLM2-135M-Instruct.Q4_1.gguf") reads better once the quantisation
is cut off. A file named by its hash (Ollama's blobs) or generically ("model.gguf") falls back to
the metadata.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

#: Quantisation and precision suffixes: "-Q4_K_M", ".Q4_1", "-mxfp4", "-F16", "-IQ3_XXS", "-BF16".
_QUANTISATION = re.compile(r"[-._](?:i?q\d[\w]*|mxfp4|f16|f32|bf16|fp16|fp32|ud)$", re.IGNORECASE)
_GENERIC = re.compile(r"^(?:sha256[-:][0-9a-f]{16,}|[0-9a-f]{32,}|(?:ggml-)?model|blob|data)$", re.IGNORECASE)


def readable_model_name(metadata: Mapping[str, object], path: Path) -> str:
    """The name to show for the model in `path` with this GGUF metadata."""
    stem = path.name.removesuffix(".gguf")
    while (cut := _QUANTISATION.sub("", stem)) != stem:
        stem = cut
    if stem and not _GENERIC.match(stem):
        return stem
    name = metadata.get("general.name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    parts = (metadata.get("general.basename"), metadata.get("general.size_label"))
    return " ".join(part for part in parts if isinstance(part, str) and part) or path.name
