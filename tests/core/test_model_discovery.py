"""Finding gpt-oss GGUFs in fake Hugging Face, LM Studio and Ollama stores holding real tiny GGUF bytes."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import gguf
import pytest

from gptoss_desktop.core.models.discovery import (
    OLLAMA_MODEL_LAYER,
    FoundModel,
    SearchRoots,
    Source,
    check_model,
    discover_models,
)

HF_LABEL = "ggml-org/gpt-oss-20b-GGUF/gpt-oss-20b-mxfp4.gguf"
LMS_LABEL = "lmstudio-community/gpt-oss-20b-GGUF/gpt-oss-20b-MXFP4.gguf"


def small_gguf(path: Path, arch: str, **uint32: int) -> Path:
    """A complete GGUF with metadata only (no tensors) of any architecture."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), arch)
    for key, value in uint32.items():
        writer.add_uint32(key.replace("__", "."), value)
    writer.write_header_to_file(path)
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()
    return path


def put(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def hf_cache_file(hub: Path, repo_id: str, filename: str, data: bytes, commits: tuple[str, ...] = ("c0ffee",)) -> Path:
    """The hub library's layout: the blob named by its hash, one relative link per snapshot, refs/main."""
    repo = hub / f"models--{repo_id.replace('/', '--')}"
    sha = hashlib.sha256(data).hexdigest()
    put(repo / "blobs" / sha, data)
    for commit in commits:
        link = repo / "snapshots" / commit / filename
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(repo / "blobs" / sha, link.parent))
    put(repo / "refs" / "main", commits[-1].encode())
    return repo


def ollama_model(root: Path, name: str, data: bytes | None, *, blob: bool = True) -> Path:
    """A manifest at manifests/<host>/<namespace>/<model>/<tag> naming the weights blob by digest."""
    digest = hashlib.sha256(data or b"").hexdigest()
    if blob and data is not None:
        put(root / "blobs" / f"sha256-{digest}", data)
    layers = [
        {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + "1" * 64, "size": 10},
        {"mediaType": OLLAMA_MODEL_LAYER, "digest": f"sha256:{digest}", "size": len(data or b"")},
    ]
    manifest = {"schemaVersion": 2, "config": {}, "layers": layers}
    return put(root / "manifests" / name, json.dumps(manifest).encode())


@pytest.fixture
def roots(tmp_path: Path) -> SearchRoots:
    return SearchRoots(
        hf_cache=tmp_path / "hub",
        lm_studio=(tmp_path / "lmstudio", tmp_path / "old-lm-studio"),
        ollama=(tmp_path / "ollama",),
    )


def by_label(found: list[FoundModel]) -> dict[str, FoundModel]:
    return {m.label: m for m in found}


def test_finds_gpt_oss_in_every_store(tiny_model: Path, roots: SearchRoots) -> None:
    data = tiny_model.read_bytes()
    assert roots.hf_cache is not None
    hf_cache_file(roots.hf_cache, "ggml-org/gpt-oss-20b-GGUF", "gpt-oss-20b-mxfp4.gguf", data)
    put(roots.lm_studio[0] / LMS_LABEL, data)
    put(roots.lm_studio[1] / "unsloth/gpt-oss-20b-GGUF/gpt-oss-20b-Q4_K_M.gguf", data)
    ollama_model(roots.ollama[0], "registry.ollama.ai/library/gpt-oss/20b", data)

    found = discover_models(roots)
    assert {(m.label, m.source) for m in found} == {
        (HF_LABEL, Source.HF_CACHE),
        (LMS_LABEL, Source.LM_STUDIO),
        ("unsloth/gpt-oss-20b-GGUF/gpt-oss-20b-Q4_K_M.gguf", Source.LM_STUDIO),
        ("gpt-oss:20b", Source.OLLAMA),
    }
    assert all(m.usable and m.architecture == "gpt-oss" and m.size == len(data) for m in found)
    assert by_label(found)["gpt-oss:20b"].path.parent == roots.ollama[0] / "blobs"


def test_truncated_and_foreign_files_are_reported_never_offered(tiny_model: Path, roots: SearchRoots) -> None:
    data = tiny_model.read_bytes()
    assert roots.hf_cache is not None
    hf_cache_file(roots.hf_cache, "ggml-org/gpt-oss-20b-GGUF", "gpt-oss-20b-mxfp4.gguf", data[: len(data) // 2])
    put(roots.lm_studio[0] / LMS_LABEL, data[:1000])
    put(roots.lm_studio[0] / "someone/repo/saved-error-page.gguf", b"<html><body>502 Bad Gateway</body></html>")
    ollama_model(roots.ollama[0], "registry.ollama.ai/library/gpt-oss/20b", data[:-4096])

    found = by_label(discover_models(roots))
    assert not any(m.usable for m in found.values())
    assert "gpt-oss-20b-mxfp4.gguf is incomplete: it holds 327.4 kB of 654.7 kB" in (found[HF_LABEL].problem or "")
    assert "is truncated or damaged" in (found[LMS_LABEL].problem or "")
    assert "not a GGUF model file" in (found["someone/repo/saved-error-page.gguf"].problem or "")
    assert "4.1 kB missing" in (found["gpt-oss:20b"].problem or "")


def test_other_models_are_left_out_unless_asked(smollm2_model: Path, roots: SearchRoots, tmp_path: Path) -> None:
    link = roots.lm_studio[0] / "bartowski/SmolLM2-GGUF/SmolLM2-135M-Instruct-Q4_1.gguf"
    link.parent.mkdir(parents=True)
    link.symlink_to(smollm2_model)
    put(roots.lm_studio[0] / "x/vision/mmproj-model-f16.gguf", small_gguf(tmp_path / "clip.gguf", "clip").read_bytes())
    llama = small_gguf(tmp_path / "l.gguf", "llama").read_bytes()
    ollama_model(roots.ollama[0], "registry.ollama.ai/library/llama3.2/1b", llama)

    assert discover_models(roots) == []
    found = by_label(discover_models(roots, include_other_models=True))
    assert found["bartowski/SmolLM2-GGUF/SmolLM2-135M-Instruct-Q4_1.gguf"].problem == (
        "bartowski/SmolLM2-GGUF/SmolLM2-135M-Instruct-Q4_1.gguf holds a llama model, not gpt-oss."
    )
    assert found["x/vision/mmproj-model-f16.gguf"].architecture == "clip"
    assert found["llama3.2:1b"].problem == "llama3.2:1b holds a llama model, not gpt-oss."


def test_ollamas_own_gpt_oss_conversion_is_explained(roots: SearchRoots, tmp_path: Path) -> None:
    ollamas_own = small_gguf(tmp_path / "g.gguf", "gptoss").read_bytes()
    ollama_model(roots.ollama[0], "registry.ollama.ai/library/gpt-oss/20b", ollamas_own)
    [found] = discover_models(roots)
    assert not found.usable
    assert "Ollama's own conversion of gpt-oss, which llama.cpp cannot load" in (found.problem or "")


def test_broken_ollama_entries_are_reported(roots: SearchRoots, tiny_model: Path) -> None:
    root = roots.ollama[0]
    ollama_model(root, "registry.ollama.ai/library/gpt-oss/20b", tiny_model.read_bytes(), blob=False)
    put(root / "manifests/registry.ollama.ai/library/gpt-oss/latest", b"{not json")
    put(root / "manifests/registry.ollama.ai/someone/gpt-oss/odd", json.dumps({"layers": [{"x": 1}]}).encode())
    evil = {"layers": [{"mediaType": OLLAMA_MODEL_LAYER, "digest": "sha256:../../../etc/passwd"}]}
    put(root / "manifests/hf.co/unsloth/gpt-oss-20b-GGUF/Q4_K_M", json.dumps(evil).encode())

    found = by_label(discover_models(roots))
    assert found["gpt-oss:20b"].problem == "Ollama's model file for gpt-oss:20b is missing."
    assert found["gpt-oss:latest"].problem == "Ollama's entry for gpt-oss:latest cannot be read."
    assert found["someone/gpt-oss:odd"].problem == "Ollama's entry for someone/gpt-oss:odd names no model file."
    assert found["hf.co/unsloth/gpt-oss-20b-GGUF:Q4_K_M"].problem == (
        "Ollama's entry for hf.co/unsloth/gpt-oss-20b-GGUF:Q4_K_M names no model file."
    )
    assert not any(m.usable for m in found.values())


def test_one_blob_in_several_snapshots_is_listed_once(tiny_model: Path, roots: SearchRoots) -> None:
    assert roots.hf_cache is not None
    repo = hf_cache_file(
        roots.hf_cache, "ggml-org/gpt-oss-20b-GGUF", "gpt-oss-20b-mxfp4.gguf", tiny_model.read_bytes(), ("aaa", "bbb")
    )
    put(repo / "blobs" / "f00d.incomplete", b"GGUF partial")  # an interrupted download: not in any snapshot
    [found] = discover_models(roots)
    assert found.usable and found.label == HF_LABEL
    assert found.path.parent.name == "bbb"  # refs/main's revision


def test_files_passed_in_are_always_reported(tiny_model: Path, smollm2_model: Path, roots: SearchRoots) -> None:
    found = discover_models(roots, files=[tiny_model, smollm2_model, roots.lm_studio[0] / "gone.gguf"])
    assert [(m.source, m.usable) for m in found] == [
        (Source.PICKED, True),
        (Source.PICKED, False),
        (Source.PICKED, False),
    ]
    assert found[1].problem == f"{smollm2_model.name} holds a llama model, not gpt-oss."
    assert "No model file at" in (found[2].problem or "")
    assert check_model(smollm2_model, architecture=None).usable


def test_a_split_model_is_offered_once_and_only_whole(roots: SearchRoots, tmp_path: Path) -> None:
    folder = roots.lm_studio[0] / "ggml-org/gpt-oss-120b-GGUF"
    first = small_gguf(folder / "gpt-oss-120b-mxfp4-00001-of-00002.gguf", "gpt-oss", split__count=2, split__no=0)
    [found] = discover_models(roots)
    assert (
        found.problem
        == f"{found.label} is the first of 2 parts, and gpt-oss-120b-mxfp4-00002-of-00002.gguf is missing."
    )
    small_gguf(folder / "gpt-oss-120b-mxfp4-00002-of-00002.gguf", "gpt-oss", split__count=2, split__no=1)
    [found] = discover_models(roots)
    assert found.usable and found.path == first


def test_usable_models_come_first(tiny_model: Path, roots: SearchRoots) -> None:
    put(roots.lm_studio[0] / "a/a/broken.gguf", b"GGUF")
    put(roots.lm_studio[0] / "b/b/good.gguf", tiny_model.read_bytes())
    assert [m.usable for m in discover_models(roots)] == [True, False]


@pytest.mark.parametrize(
    ("env", "hub"),
    [
        ({}, "home/.cache/huggingface/hub"),
        ({"XDG_CACHE_HOME": "/xdg"}, "/xdg/huggingface/hub"),
        ({"HF_HOME": "/hf"}, "/hf/hub"),
        ({"HF_HOME": "/hf", "HF_HUB_CACHE": "/cache"}, "/cache"),
    ],
)
def test_roots_follow_the_environment(tmp_path: Path, env: dict[str, str], hub: str) -> None:
    home = tmp_path / "home"
    roots = SearchRoots.from_environment(env, home=home)
    assert roots.hf_cache == (tmp_path / hub if hub.startswith("home") else Path(hub))
    assert roots.lm_studio == (home / ".lmstudio/models", home / ".cache/lm-studio/models")
    assert roots.ollama == (home / ".ollama/models",)
    assert SearchRoots.from_environment({"OLLAMA_MODELS": "/srv/ollama"}, home=home).ollama == (Path("/srv/ollama"),)
