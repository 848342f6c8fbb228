"""The catalog's embedding model comes down through the same downloads as gpt-oss, and loads as an Embedder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from gptoss_desktop.core.documents.embeddings import Embedder
from gptoss_desktop.core.models.catalog import DEFAULT_EMBEDDING_SOURCE
from gptoss_desktop.core.models.downloads import download
from tests.fixtures.hub_server import HubFile, HubRepo, HubServer, use_endpoint


@pytest.fixture
def hub(tmp_path: Path, minilm_model: Path) -> Iterator[HubServer]:
    """A hub-protocol server holding the embedding model under the catalog's repository and file name."""
    source = DEFAULT_EMBEDDING_SOURCE
    repos = {source.repo_id: HubRepo({source.filename: HubFile.from_path(minilm_model)})}
    with HubServer(repos) as server, use_endpoint(server.url, tmp_path / "hf"):
        yield server


def test_the_catalog_embedding_model_downloads_verified_and_embeds(hub: HubServer, minilm_model: Path) -> None:
    source = DEFAULT_EMBEDDING_SOURCE
    path = download(source.repo_id, source.filename, revision=source.revision)
    assert path.name == source.filename and path.read_bytes() == minilm_model.read_bytes()
    downloaded, original = Embedder(path), Embedder(minilm_model)
    try:
        assert downloaded.info.identity == original.info.identity  # the same vectors, wherever the file lives
        text = "Either party may terminate this tenancy."
        assert np.allclose(downloaded.embed_query(text), original.embed_query(text), atol=1e-6)
    finally:
        downloaded.close()
        original.close()
