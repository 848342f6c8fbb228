"""The semantic-search setting survives a restart, a broken value falls back to off; the catalog names a model."""

from __future__ import annotations

import json
from pathlib import Path

from gptoss_desktop.core.models.catalog import DEFAULT_EMBEDDING_SOURCE, EMBEDDING_SOURCES, SOURCES
from gptoss_desktop.core.settings import Settings, load_settings, save_settings


def test_the_embedding_model_path_is_remembered(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    save_settings(path, Settings(embedding_model_path="/models/all-MiniLM-L6-v2-Q8_0.gguf"))
    assert load_settings(path).embedding_model_path == "/models/all-MiniLM-L6-v2-Q8_0.gguf"
    assert Settings().embedding_model_path is None  # off unless chosen


def test_a_broken_embedding_model_value_means_off(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    for broken in (42, "", ["a.gguf"]):
        path.write_text(json.dumps({"embedding_model_path": broken, "theme": "dark"}))
        loaded = load_settings(path)
        assert (loaded.embedding_model_path, loaded.theme) == (None, "dark")


def test_the_catalog_offers_small_embedding_models_apart_from_the_chat_models() -> None:
    assert DEFAULT_EMBEDDING_SOURCE.repo_id == "second-state/All-MiniLM-L6-v2-Embedding-GGUF"
    assert DEFAULT_EMBEDDING_SOURCE.filename == "all-MiniLM-L6-v2-Q8_0.gguf"
    assert all(s.filename.endswith(".gguf") for s in EMBEDDING_SOURCES)
    assert not set(EMBEDDING_SOURCES) & set(SOURCES)
