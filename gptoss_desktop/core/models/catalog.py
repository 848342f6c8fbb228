"""Where gpt-oss-20b GGUF files are published on the Hugging Face hub.

Names only: sizes and SHA-256 are asked of the hub when they are needed (`fetch_remote_file`),
so nothing here can go stale when a publisher re-uploads. All three keep the
experts in MXFP4, so the choice barely changes the size (about 11.5–13.8 GB).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSource:
    """One GGUF file of one hub repository."""

    repo_id: str
    filename: str
    label: str
    note: str
    revision: str = "main"

    @property
    def publisher(self) -> str:
        return self.repo_id.split("/")[0]


DEFAULT_SOURCE = ModelSource(
    "ggml-org/gpt-oss-20b-GGUF",
    "gpt-oss-20b-mxfp4.gguf",
    "gpt-oss-20b MXFP4 (ggml-org)",
    "The llama.cpp project's own conversion; what llama-server's gpt-oss-20b preset downloads.",
)

SOURCES: tuple[ModelSource, ...] = (
    DEFAULT_SOURCE,
    ModelSource(
        "unsloth/gpt-oss-20b-GGUF",
        "gpt-oss-20b-Q4_K_M.gguf",
        "gpt-oss-20b Q4_K_M (unsloth)",
        "Unsloth's conversion; the repository also holds other quantisations.",
    ),
    ModelSource(
        "bartowski/openai_gpt-oss-20b-GGUF",
        "openai_gpt-oss-20b-MXFP4.gguf",
        "gpt-oss-20b MXFP4 (bartowski)",
        "bartowski's conversion, MXFP4 experts.",
    ),
)


#: Small embedding models for semantic search over documents (Edit ▸ Preferences ▸ Semantic search).
#: Fetched with the same machinery: `gptoss-desktop models download --repo R --file F`.
EMBEDDING_SOURCES: tuple[ModelSource, ...] = (
    ModelSource(
        "second-state/All-MiniLM-L6-v2-Embedding-GGUF",
        "all-MiniLM-L6-v2-Q8_0.gguf",
        "all-MiniLM-L6-v2 Q8_0 (second-state)",
        "sentence-transformers' all-MiniLM-L6-v2 (Apache-2.0), about 25 MB: English, 384 dimensions, "
        "the model the tests use (converted there from the same weights).",
    ),
    ModelSource(
        "ggml-org/bge-small-en-v1.5-Q8_0-GGUF",
        "bge-small-en-v1.5-q8_0.gguf",
        "bge-small-en-v1.5 Q8_0 (ggml-org)",
        "BAAI's bge-small-en-v1.5 (MIT), converted by the llama.cpp project: English, 384 dimensions.",
    ),
)
DEFAULT_EMBEDDING_SOURCE = EMBEDDING_SOURCES[0]


def find_source(repo_id: str, filename: str) -> ModelSource | None:
    """The catalog entry for a repo and file, if it is one of ours."""
    return next((s for s in SOURCES if s.repo_id == repo_id and s.filename == filename), None)
