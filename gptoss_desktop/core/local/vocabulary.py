"""Token ids <-> text through llama.cpp's vocabulary, without its two traps.

- ``Llama.detokenize`` returns b'' for a token longer than 32 bytes (o200k has
  long whitespace tokens): pieces come from ``llama_token_to_piece`` with a
  buffer that grows.
- ``tokenize(special=False)`` still turns the text of user-defined tokens such
  as ``<|start|>`` into control tokens: plain text is cut inside every special
  token string before it is tokenized, so it can only ever become text.

Long texts are tokenized where the stack is deep enough (big_stack.py): a long run of one
character overflows llama.cpp's pre-tokenizer otherwise.
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Iterable

import llama_cpp

from ..harmony import Segment, Special
from .big_stack import tokenize_text

_SPECIAL_ATTRS = llama_cpp.LLAMA_TOKEN_ATTR_CONTROL | llama_cpp.LLAMA_TOKEN_ATTR_USER_DEFINED


class Vocabulary:
    """The vocabulary of a loaded model: specials by text, plain-text tokenizing, pieces."""

    def __init__(self, llama: llama_cpp.Llama) -> None:
        self._llama = llama
        self._vocab = llama_cpp.llama_model_get_vocab(llama.model)
        self._pieces: dict[int, bytes] = {}
        self.special_ids: dict[str, int] = {}
        for token in range(llama_cpp.llama_vocab_n_tokens(self._vocab)):
            if llama_cpp.llama_vocab_get_attr(self._vocab, token) & _SPECIAL_ATTRS:
                text = llama_cpp.llama_vocab_get_text(self._vocab, token).decode("utf-8", errors="replace")
                self.special_ids.setdefault(text, token)
        self.special_names = {token: text for text, token in self.special_ids.items()}
        strings = sorted((s for s in self.special_ids if len(s) > 1), key=len, reverse=True)
        self._special_pattern = re.compile("|".join(map(re.escape, strings))) if strings else None

    def is_special(self, token: int) -> bool:
        """True for control and user-defined tokens."""
        return token in self.special_names

    def is_end_of_generation(self, token: int) -> bool:
        """llama.cpp's own end-of-generation test (EOS, EOT, ...)."""
        return bool(llama_cpp.llama_vocab_is_eog(self._vocab, token))

    def piece(self, token: int) -> bytes:
        """The bytes of one ordinary token (b'' for control tokens), however long."""
        cached = self._pieces.get(token)
        if cached is not None:
            return cached
        size = 64
        while True:
            buffer = ctypes.create_string_buffer(size)
            n = llama_cpp.llama_token_to_piece(self._vocab, token, buffer, size, 0, False)
            if n >= 0:
                break
            size = -n
        self._pieces[token] = buffer.raw[:n]
        return self._pieces[token]

    def tokenize_plain(self, text: str) -> list[int]:
        """Tokens for `text` as plain text: no special token can come out of it."""
        ids: list[int] = []
        for part in self._split_specials(text):
            ids += tokenize_text(self._tokenize_part, part)
        if any(token in self.special_names for token in ids):
            # A vocabulary whose specials are not literal text runs: fall back to one character at a time.
            ids = [t for ch in text for t in self._llama.tokenize(ch.encode("utf-8"), add_bos=False, special=False)]
        return ids

    def _tokenize_part(self, text: str) -> list[int]:
        return self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    def _split_specials(self, text: str) -> Iterable[str]:
        """Cut `text` just inside every special token string, so none survives whole."""
        if self._special_pattern is None:
            return [text]
        parts: list[str] = []
        start = 0
        for match in self._special_pattern.finditer(text):
            cut = match.start() + 1
            parts.append(text[start:cut])
            start = cut
        parts.append(text[start:])
        return [p for p in parts if p]

    def encode(self, segments: Iterable[Segment]) -> list[int]:
        """Prompt ids: each control token by its id in this vocabulary, text as plain text."""
        ids: list[int] = []
        for segment in segments:
            if isinstance(segment, Special):
                try:
                    ids.append(self.special_ids[segment.name])
                except KeyError:
                    raise ValueError(f"the model's vocabulary has no {segment.name} token") from None
            else:
                ids += self.tokenize_plain(segment.text)
        return ids
