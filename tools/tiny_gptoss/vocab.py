"""Token ids exactly as the app makes them, from llama.cpp's own tokenizer.

Training on ids from any other tokenizer would teach the model sequences that llama.cpp never
produces at inference. Specials are looked up by text; text is tokenized with ``special=False``.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from pathlib import Path

import llama_cpp

from gptoss_desktop.core.harmony import Segment, Special


class HarmonyTokenizer:
    """A vocab-only llama.cpp load with a per-text cache (a call costs tens of microseconds)."""

    def __init__(self, gguf_path: str | Path) -> None:
        self._llama = llama_cpp.Llama(model_path=str(gguf_path), vocab_only=True, verbose=False)
        self._vocab = llama_cpp.llama_model_get_vocab(self._llama.model)
        self._text_cache: dict[str, tuple[int, ...]] = {}
        self._special_cache: dict[str, int] = {}

    def close(self) -> None:
        """Free the llama.cpp vocabulary."""
        self._llama.close()

    def special(self, name: str) -> int:
        """The id of a control token such as ``<|start|>``, found by its text."""
        if name not in self._special_cache:
            ids = self._llama.tokenize(name.encode(), add_bos=False, special=True)
            if len(ids) != 1:
                raise KeyError(f"{name} is not a single token in this vocabulary")
            self._special_cache[name] = ids[0]
        return self._special_cache[name]

    def text(self, text: str) -> tuple[int, ...]:
        """Plain text as ordinary tokens, never control tokens."""
        if text not in self._text_cache:
            self._text_cache[text] = tuple(self._llama.tokenize(text.encode(), add_bos=False, special=False))
        return self._text_cache[text]

    def encode(self, segments: Sequence[Segment]) -> list[int]:
        """Segments to ids: each Special by its text, each Text through the tokenizer."""
        ids: list[int] = []
        for segment in segments:
            if isinstance(segment, Special):
                ids.append(self.special(segment.name))
            else:
                ids.extend(self.text(segment.text))
        return ids

    def piece(self, token: int) -> bytes:
        """Bytes of one token; ``Llama.detokenize`` gives b'' for pieces over 32 bytes."""
        size = 64
        while True:
            buffer = ctypes.create_string_buffer(size)
            n = llama_cpp.llama_token_to_piece(self._vocab, token, buffer, size, 0, True)
            if n >= 0:
                return buffer.raw[:n]
            size = -n

    def decode(self, tokens: Sequence[int]) -> str:
        """Ids back to text, control tokens spelled out (for reports)."""
        return b"".join(self.piece(t) for t in tokens).decode("utf-8", errors="replace")
