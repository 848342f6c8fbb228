"""Token ids <-> text through llama.cpp's vocabulary, without its two traps.

- ``Llama.detokenize`` returns b'' for a token longer than 32 bytes (o200k has
  long whitespace tokens): pieces come from ``llama_token_to_piece`` with a
  buffer that grows.
- ``tokenize(special=False)`` still turns the text of user-defined tokens such
  as ``<|start|>`` into control tokens: plain text is cut inside every special
  token string before it is tokenized, so it can only ever become text.

And one difference from the tokenizer gpt-oss was trained with: text holding combining marks
is tokenized as o200k does (marked_text.py). Long texts are tokenized where the stack is deep
enough (big_stack.py): a long run of one character overflows llama.cpp's pre-tokenizer otherwise.
"""

from __future__ import annotations

import ctypes
import os
import re
from collections.abc import Iterable
from pathlib import Path

import llama_cpp

from ..engine import ModelLoadError
from ..harmony import Segment, Special
from .big_stack import tokenize_text
from .gguf_file import read_gguf
from .llama_log import route_llama_logs
from .marked_text import PRE_TOKENIZER, has_mark, tokenize_marked

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
        self._o200k = llama.metadata.get("tokenizer.ggml.pre") == PRE_TOKENIZER
        self._ranks: dict[bytes, int] | None = None

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
        if self._o200k and has_mark(text):
            return tokenize_marked(text, self._byte_ranks(), self._tokenize_unmarked)
        return self._tokenize_unmarked(text)

    def _tokenize_part(self, text: str) -> list[int]:
        return self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    def _byte_ranks(self) -> dict[bytes, int]:
        """Each ordinary token's bytes -> its id (the rank, in a tiktoken vocabulary); built on first need, ~1 s."""
        if self._ranks is None:
            ranks: dict[bytes, int] = {}
            for token in range(llama_cpp.llama_vocab_n_tokens(self._vocab)):
                if llama_cpp.llama_vocab_get_attr(self._vocab, token) & llama_cpp.LLAMA_TOKEN_ATTR_NORMAL:
                    ranks.setdefault(self.piece(token), token)
            self._pieces.clear()  # filled on the way; only the generated tokens' pieces are worth keeping
            self._ranks = ranks
        return self._ranks

    def _tokenize_unmarked(self, text: str) -> list[int]:
        ids: list[int] = []
        for part in self._split_specials(text):
            ids += tokenize_text(self._tokenize_part, part)
        if any(token in self.special_names for token in ids):
            # A vocabulary whose specials are not literal text runs: fall back to one character at a time.
            ids = [t for ch in text for t in self._llama.tokenize(ch.encode("utf-8"), add_bos=False, special=False)]
        return ids

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


def open_vocabulary(model_path: str | os.PathLike[str]) -> Vocabulary:
    """A model file's vocabulary alone (llama.cpp's vocab_only load: no weights read, about a second for o200k).

    The header is checked first, so a file that is not a usable GGUF gets a message people can act on.
    """
    path = Path(model_path).expanduser()
    read_gguf(path)
    route_llama_logs()
    try:
        llama = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelLoadError(f"llama.cpp could not read the vocabulary of {path.name}.") from exc
    return Vocabulary(llama)
