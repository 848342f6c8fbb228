"""An embedding model (a small GGUF such as all-MiniLM-L6-v2) run by llama.cpp: text in, unit vectors out.

Semantic search compares a question with passages by the angle between their vectors, so a
question worded differently from the document ("end the lease" / "terminate the tenancy") still
finds it. One Embedder owns one llama.cpp context and is not thread-safe: each thread that embeds
(the documents thread for passages, the engine thread for questions) opens its own.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import llama_cpp
import numpy as np
import numpy.typing as npt

from ..engine import ModelLoadError
from ..local.big_stack import DIRECT_CHARS, PIECE_CHARS, run_with_stack
from ..local.engine import default_threads
from ..local.gguf_file import GGUFError, read_gguf
from ..local.llama_log import route_llama_logs
from ..local.load_probe import FILE_POOLING, check_loads
from .vectors import Cancel, Progress, Vectors

#: Tokens an embedding sees at most: a passage (about 1,200 characters, ~300 tokens) fits whole.
#: Longer texts are cut here; BERT-like models attend over the whole batch at once, so a larger
#: context costs memory quadratically for nothing.
MAX_CONTEXT = 512
#: Texts handed to llama.cpp per call: cancel is checked between calls (under a second for 4 passages here).
BATCH_TEXTS = 4

# llama.cpp's pooling types (enum llama_pooling_type): what turns a text's token vectors into one.
_POOLED = {1: "mean", 2: "cls", 3: "last"}
_POOLING_MEAN = 1
#: Encoder architectures that are embedding models even when an old conversion left out the pooling
#: key (llama.cpp would then return one vector per token); sentence-transformers' default is the mean.
_ENCODERS = frozenset({"bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2", "jina-bert-v3", "modern-bert"})
#: Models trained with a task prefix on each side (nomic-embed asks for these two).
_PREFIXES = {"nomic-bert": ("search_query: ", "search_document: ")}


class EmbeddingModelError(ModelLoadError):
    """A file that cannot be used as the embedding model; the message says why and what to do."""


@dataclass(frozen=True)
class EmbeddingModelInfo:
    """Which embedding model this is: `identity` (its file's SHA-256) keys the vectors it made."""

    path: Path
    identity: str
    name: str
    architecture: str
    dimensions: int
    context: int
    pooling: str


_identities: dict[tuple[str, int, int], str] = {}


def file_identity(path: Path) -> str:
    """The file's SHA-256 (remembered per path, size and modification time: ~0.1 s for 90 MB)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    identity = _identities.get(key)
    if identity is None:
        digest = hashlib.sha256()
        with path.open("rb") as file:
            while block := file.read(1 << 20):
                digest.update(block)
        identity = _identities[key] = digest.hexdigest()
    return identity


def check_embedding_model(path: Path) -> tuple[str, int | None, int]:
    """The architecture, pooling type to ask llama.cpp for (None: the file's own) and context of an
    embedding GGUF; raises EmbeddingModelError for anything else (a chat model, a damaged file)."""
    try:
        info = read_gguf(path)
    except GGUFError as exc:
        raise EmbeddingModelError(
            f"{exc} Semantic search is off; documents are still searched by their words."
        ) from exc
    architecture = info.architecture or "unknown"
    pooling = info.get_int(f"{architecture}.pooling_type")
    context = info.get_int(f"{architecture}.context_length") or MAX_CONTEXT
    if pooling in _POOLED:
        return architecture, None, context
    if pooling is None and architecture in _ENCODERS:
        return architecture, _POOLING_MEAN, context
    raise EmbeddingModelError(
        f"{path.name} is not an embedding model: it is a “{architecture}” model that makes no sentence "
        "vectors. Choose an embedding GGUF such as all-MiniLM-L6-v2. Semantic search is off; documents "
        "are still searched by their words."
    )


def normalized(vectors: npt.ArrayLike) -> Vectors:
    """Rows scaled to length 1 (a zero row stays zero), as float32."""
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim == 1:
        array = array[None, :]
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return np.divide(array, norms, out=np.zeros_like(array), where=norms > 0)


class Embedder:
    """One embedding model and its llama.cpp context; use it on one thread at a time."""

    def __init__(self, model_path: str | os.PathLike[str], n_threads: int | None = None) -> None:
        """Check that the file is an embedding model and loads without aborting llama.cpp (in a child
        process, once per file), then load it (a 25–90 MB file: well under a second)."""
        path = Path(model_path).expanduser()
        architecture, pooling, trained_context = check_embedding_model(path)
        try:
            check_loads(path, embedding=FILE_POOLING if pooling is None else pooling)
        except ModelLoadError as exc:
            raise EmbeddingModelError(
                f"{exc} Semantic search is off; documents are still searched by their words."
            ) from exc
        context = min(trained_context, MAX_CONTEXT)
        route_llama_logs()
        threads = n_threads or default_threads()[1]
        options: dict[str, Any] = {"pooling_type": pooling} if pooling is not None else {}
        try:
            self._llama = llama_cpp.Llama(
                model_path=str(path),
                embedding=True,
                n_ctx=context,
                n_batch=context,  # a text is cut to n_batch tokens; the whole batch is one ubatch
                n_ubatch=context,
                n_threads=threads,
                n_threads_batch=threads,
                verbose=False,
                **options,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise EmbeddingModelError(
                f"llama.cpp could not load {path.name} as an embedding model: the file is damaged or of a "
                "kind this version does not support. Semantic search is off; documents are still searched "
                "by their words."
            ) from exc
        pooled = int(self._llama.pooling_type())
        if pooled not in _POOLED:
            self._llama.close()
            raise EmbeddingModelError(f"{path.name} makes one vector per token, not per text: not an embedding model.")
        self._query_prefix, self._passage_prefix = _PREFIXES.get(architecture, ("", ""))
        self.info = EmbeddingModelInfo(
            path=path,
            identity=file_identity(path),
            name=str(self._llama.metadata.get("general.name") or path.stem),
            architecture=architecture,
            dimensions=int(self._llama.n_embd()),
            context=context,
            pooling=_POOLED[pooled],
        )

    def embed_passages(
        self, texts: Sequence[str], cancel: Cancel | None = None, progress: Progress | None = None
    ) -> Vectors | None:
        """Unit vectors of `texts`, one row each, in order; None once `cancel` is set (checked per batch).
        `progress(done, total)` is called after each batch."""
        rows: list[Vectors] = [np.zeros((0, self.info.dimensions), dtype=np.float32)]
        done = 0
        for batch in itertools.batched(texts, BATCH_TEXTS):
            if cancel is not None and cancel.is_set():
                return None
            rows.append(self._embed([self._passage_prefix + text for text in batch]))
            done += len(batch)
            if progress is not None:
                progress(done, len(texts))
        if cancel is not None and cancel.is_set():
            return None
        return np.concatenate(rows)

    def embed_query(self, text: str) -> Vectors:
        """The unit vector of a question, shape (dimensions,)."""
        vector: Vectors = self._embed([self._query_prefix + text])[0]
        return vector

    def _embed(self, texts: list[str]) -> Vectors:
        # llama.cpp tokenizes each text and cuts it to n_batch tokens (truncate=True); an empty text
        # still has its [CLS]/[SEP] tokens, so every text gets a row. Its tokenizer needs a deep stack for
        # long runs of one character: a long text is embedded where there is one, and cut to PIECE_CHARS
        # characters first (far more than n_batch tokens ever cover, so the vector is the same).
        longest = max(map(len, texts), default=0)
        if longest <= DIRECT_CHARS:
            return normalized(self._llama.embed(texts, normalize=False, truncate=True))
        cut = [text[:PIECE_CHARS] for text in texts]
        return normalized(
            run_with_stack(lambda: self._llama.embed(cut, normalize=False, truncate=True), min(longest, PIECE_CHARS))
        )

    def close(self) -> None:
        """Free the model and context now rather than at garbage collection."""
        self._llama.close()
