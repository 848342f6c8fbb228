"""The catalog of gpt-oss GGUF sources."""

from __future__ import annotations

from gptoss_desktop.core.models.catalog import DEFAULT_SOURCE, SOURCES, find_source

UNSLOTH = "unsloth/gpt-oss-20b-GGUF"


def test_the_default_is_llama_cpp_s_own_mxfp4_conversion() -> None:
    assert (DEFAULT_SOURCE.repo_id, DEFAULT_SOURCE.filename) == ("ggml-org/gpt-oss-20b-GGUF", "gpt-oss-20b-mxfp4.gguf")
    assert SOURCES[0] is DEFAULT_SOURCE
    assert {s.publisher for s in SOURCES} == {"ggml-org", "unsloth", "bartowski"}
    assert len({(s.repo_id, s.filename) for s in SOURCES}) == len(SOURCES)
    assert all(s.filename.endswith(".gguf") for s in SOURCES)


def test_find_source_knows_only_catalog_entries() -> None:
    bartowski = find_source("bartowski/openai_gpt-oss-20b-GGUF", "openai_gpt-oss-20b-MXFP4.gguf")
    assert bartowski is not None and bartowski.publisher == "bartowski"
    assert find_source("bartowski/openai_gpt-oss-20b-GGUF", "other.gguf") is None
