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


@pytest.mark.parametrize(
    ("mutation", "says"),
    [
        ("gpt-oss.block_count=3000", "llama.cpp crashed loading model.gguf (SIGABRT)"),
        ("gpt-oss.expert_count=1", "its setting gpt-oss.expert_count is 1, where it must be 2 to 256"),
        ("gpt-oss.attention.value_length=33", "gpt-oss.attention.value_length is 33, where it must equal the key"),
        ("gpt-oss.attention.layer_norm_rms_epsilon=nan", "layer_norm_rms_epsilon is nan"),
        ("gpt-oss.context_length=3", "gpt-oss.context_length is 3, where it must be 256 or more"),
    ],
)
def test_verify_calls_usable_only_what_loads(mutation: str, says: str, trained_model: Path, tmp_path: Path) -> None:
    from tests.fixtures.gguf_mutations import scalar_mutations, write_mutant

    (change,) = [m for m in scalar_mutations(trained_model) if m.name == mutation]
    model = write_mutant(trained_model, change, tmp_path / "model.gguf")
    for command in (["models", "verify", str(model)], ["chat", "--model", str(model), "hi"]):
        result = run_cli(*command, home=tmp_path / "home")
        assert "Usable." not in result.stdout
        assert_clean_failure(result, says=says)


def test_a_gpt_oss_header_without_tensors_is_not_usable(tmp_path: Path) -> None:
    import gguf

    writer = gguf.GGUFWriter(str(tmp_path / "empty.gguf"), "gpt-oss")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    result = run_cli("models", "verify", str(tmp_path / "empty.gguf"), home=tmp_path / "home")
    assert_clean_failure(result, says="it holds no weights")
