"""The catalog of gpt-oss GGUF sources, and file listings read live from a local hub-protocol server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gptoss_desktop.core.models.catalog import DEFAULT_SOURCE, SOURCES, RepoGguf, find_source, list_ggufs
from gptoss_desktop.core.models.errors import RemoteNotFoundError
from tests.fixtures.hub_server import HubRepo, HubServer, use_endpoint

UNSLOTH = "unsloth/gpt-oss-20b-GGUF"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubServer]:
    """A repo served from a folder: two GGUFs (one in a subfolder) and a README."""
    repo = tmp_path / "repo"
    (repo / "F16").mkdir(parents=True)
    (repo / "gpt-oss-20b-Q4_K_M.gguf").write_bytes(b"GGUF" + bytes(60))
    (repo / "F16" / "gpt-oss-20b-F16.gguf").write_bytes(b"GGUF" + bytes(99))
    (repo / "README.md").write_text("# gpt-oss-20b\n")
    with HubServer({UNSLOTH: HubRepo.from_folder(repo)}) as server, use_endpoint(server.url, tmp_path / "hf"):
        yield server


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


def test_list_ggufs_reads_sizes_and_hashes_from_the_hub(hub: HubServer) -> None:
    files = hub.repos[UNSLOTH].files

    listed = list_ggufs(UNSLOTH)

    assert listed == [
        RepoGguf(name, files[name].size, files[name].sha256)
        for name in ("F16/gpt-oss-20b-F16.gguf", "gpt-oss-20b-Q4_K_M.gguf")
    ]
    assert hub.requests()[-1].path.startswith(f"/api/models/{UNSLOTH}")


def test_list_ggufs_of_a_missing_repo_says_so(hub: HubServer) -> None:
    with pytest.raises(RemoteNotFoundError, match="repository nobody/nothing was not found"):
        list_ggufs("nobody/nothing")
