"""Text with combining marks, tokenized as o200k (gpt-oss's tokenizer) does, not as llama.cpp does.

o200k's pre-tokenizer counts a combining mark (\\p{M}: decomposed accents, the vowel signs of
Devanagari and other Indic scripts) as part of a word. llama.cpp's `gpt-4o` pre-tokenizer (in
llama-cpp-python 0.3.36) starts a new piece at each mark, so such words came out as other and
more tokens than gpt-oss was trained on ("नमस्ते दुनिया": 9 tokens, o200k gives 5). For a
vocabulary whose pre-tokenizer is `gpt-4o`, text holding a mark is cut with o200k's own pattern
here; pieces without a mark still go to llama.cpp (together, in as few calls as possible), and
pieces with one are merged by byte pairs over the vocabulary's ranks, which for these tiktoken
vocabularies are the token ids.
"""

from __future__ import annotations

from collections.abc import Callable

import regex

#: o200k's pre-tokenizer (tiktoken's and openai-harmony's o200k_harmony pattern).
O200K_PATTERN = regex.compile(
    "|".join(
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
)
_MARK = regex.compile(r"\p{M}")
#: llama.cpp's name of the pre-tokenizer whose vocabularies get this treatment.
PRE_TOKENIZER = "gpt-4o"


def has_mark(text: str) -> bool:
    return _MARK.search(text) is not None


def byte_pair_merge(piece: bytes, ranks: dict[bytes, int]) -> list[int]:
    """tiktoken's merge: join the adjacent pair whose union ranks lowest until none is a token."""
    whole = ranks.get(piece)
    if whole is not None:
        return [whole]
    parts = [piece[i : i + 1] for i in range(len(piece))]
    while len(parts) > 1:
        best_rank, best = -1, -1
        for i in range(len(parts) - 1):
            rank = ranks.get(parts[i] + parts[i + 1])
            if rank is not None and (best < 0 or rank < best_rank):
                best_rank, best = rank, i
        if best < 0:
            break
        parts[best : best + 2] = [parts[best] + parts[best + 1]]
    return [ranks[part] for part in parts]


def tokenize_marked(text: str, ranks: dict[bytes, int], tokenize: Callable[[str], list[int]]) -> list[int]:
    """Tokens of `text` as o200k gives them; `tokenize` (llama.cpp) takes the runs without a mark."""
    ids: list[int] = []
    run_start = 0
    for match in O200K_PATTERN.finditer(text):
        if not has_mark(match[0]):
            continue
        if match.start() > run_start:
            ids += tokenize(text[run_start : match.start()])
        ids += byte_pair_merge(match[0].encode("utf-8"), ranks)
        run_start = match.end()
    if run_start < len(text):
        ids += tokenize(text[run_start:])
    return ids
