"""Sampling settings, and where a model's own defaults come from.

gpt-oss gets what OpenAI recommends (temperature 1.0, top_p 1.0, nothing else). Any other model
gets what its GGUF recommends (`general.sampling.*`, written by converters from the model's
generation config) and, for what it does not say, the chat defaults LM Studio starts from: the
full-distribution sampling gpt-oss is trained for makes small chat models write word salad.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class SamplingParams:
    """temperature 1.0 and top_p 1.0 with no top-k, min-p or repeat penalty (OpenAI's recommendation for
    gpt-oss); top_k 0 means off; seed None means a fresh one per request."""

    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int | None = None
    seed: int | None = None
    top_k: int = 0
    min_p: float = 0.0
    repeat_penalty: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= self.temperature < 1e6:  # also refuses NaN and infinity
            raise ValueError("temperature must be a number, 0 or more")
        if not 0 < self.top_p <= 1:
            raise ValueError("top_p must be in (0, 1]")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError("max_tokens must be at least 1")
        if self.top_k < 0:
            raise ValueError("top_k must be 0 (off) or more")
        if not 0 <= self.min_p <= 1:
            raise ValueError("min_p must be in [0, 1]")
        if self.repeat_penalty <= 0:
            raise ValueError("repeat_penalty must be more than 0")


#: What OpenAI recommends for gpt-oss.
GPT_OSS_SAMPLING = SamplingParams()
#: For chat models whose file recommends nothing: LM Studio's defaults.
CHAT_SAMPLING = SamplingParams(temperature=0.8, top_p=0.95, top_k=40, min_p=0.05, repeat_penalty=1.1)
#: The GGUF keys (llama.cpp's `general.sampling.*`) a model's recommendation is read from.
GGUF_SAMPLING_KEYS = {
    "temperature": "general.sampling.temp",
    "top_p": "general.sampling.top_p",
    "top_k": "general.sampling.top_k",
    "min_p": "general.sampling.min_p",
    "repeat_penalty": "general.sampling.penalty_repeat",
}


def model_sampling(metadata: Mapping[str, object], is_gpt_oss: bool) -> SamplingParams:
    """The sampling a conversation with this model starts from: OpenAI's for gpt-oss; for other models what
    their GGUF recommends, the rest from CHAT_SAMPLING. A value that is not a usable number is ignored."""
    if is_gpt_oss:
        return GPT_OSS_SAMPLING
    found: dict[str, float | int] = {}
    for name, key in GGUF_SAMPLING_KEYS.items():
        value = _number(metadata.get(key))
        if value is None:
            continue
        if name == "top_k":
            if value == int(value) and 0 <= value <= 1_000_000:
                found[name] = int(value)
        else:
            found[name] = value
    try:
        return replace(CHAT_SAMPLING, **found)  # type: ignore[arg-type]
    except ValueError:  # out of range (a top_p of 0, a negative temperature): the file's advice is not usable
        return CHAT_SAMPLING


def _number(value: object) -> float | None:
    """A finite number from metadata (llama-cpp-python gives strings, the gguf package numbers)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
