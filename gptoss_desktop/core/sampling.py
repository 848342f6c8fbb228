"""Sampling settings, defaulting to what OpenAI recommends for gpt-oss."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SamplingParams:
    """temperature 1.0 and top_p 1.0 (no top-k, no repeat penalty); seed None means a fresh one per request."""

    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.temperature < 1e6:  # also refuses NaN and infinity
            raise ValueError("temperature must be a number, 0 or more")
        if not 0 < self.top_p <= 1:
            raise ValueError("top_p must be in (0, 1]")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError("max_tokens must be at least 1")
