"""Paths that are not files: devices and FIFOs where a model or a document is expected."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.integration.hostile import assert_clean_failure, run_cli


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "model.gguf"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("command", [["models", "verify"], ["chat", "hi", "--model"]])
def test_a_device_as_the_model_is_refused_without_reading_it(command: list[str], tmp_path: Path) -> None:
    result = run_cli(*command, "/dev/zero", home=tmp_path / "home")
    assert_clean_failure(result, says="/dev/zero is a device, not a file")


@pytest.mark.parametrize("command", [["models", "verify"], ["chat", "hi", "--model"]])
def test_a_fifo_as_the_model_is_refused_without_waiting_for_a_writer(
    command: list[str], fifo: Path, tmp_path: Path
) -> None:
    result = run_cli(*command, str(fifo), home=tmp_path / "home")
    assert_clean_failure(result, says="is a pipe (FIFO), not a file")


def test_a_device_as_the_embedding_model_only_turns_semantic_search_off(trained_model: Path, tmp_path: Path) -> None:
    document = tmp_path / "notes.txt"
    document.write_text("The tide table says high water is at noon.\n")
    result = run_cli(
        "chat", "--model", str(trained_model), "--doc", str(document), "--embedding-model", "/dev/zero",
        "--max-tokens", "4", "--seed", "1", "When is high water?", home=tmp_path / "home",
    )  # fmt: skip
    assert result.returncode == 1, result.stderr  # like cp: the answer came, but not all went well
    assert "/dev/zero is a device, not a file" in result.stderr
    assert "Answered from" in result.stderr


def test_a_fifo_as_a_document_is_refused_and_the_others_answer(trained_model: Path, fifo: Path, tmp_path: Path) -> None:
    document = tmp_path / "notes.txt"
    document.write_text("The tide table says high water is at noon.\n")
    result = run_cli(
        "chat", "--model", str(trained_model), "--doc", str(fifo), "--doc", str(document),
        "--max-tokens", "4", "--seed", "1", "When is high water?", home=tmp_path / "home",
    )  # fmt: skip
    assert "is a pipe (FIFO), not a document" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_hugging_face_snapshot_linked_to_a_device_is_listed_as_not_usable(tmp_path: Path) -> None:
    snapshot = tmp_path / "hf" / "hub" / "models--someone--gpt-oss-20b-GGUF" / "snapshots" / "abc"
    snapshot.mkdir(parents=True)
    (snapshot / "gpt-oss-20b.gguf").symlink_to("/dev/zero")
    result = run_cli(
        "models", "list", "--json", home=tmp_path / "home",
        env={"HF_HUB_CACHE": str(tmp_path / "hf" / "hub"), "HOME": str(tmp_path / "user")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (entry,) = json.loads(result.stdout)["on_disk"]
    assert not entry["usable"]
    assert "gpt-oss-20b.gguf is a device, not a file" in entry["problem"]
