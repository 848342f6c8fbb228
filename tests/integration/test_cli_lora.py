"""`chat --lora FILE[:SCALE]` as a person runs it: real processes, the trained model and the committed adapter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.fixtures.lora_gguf import FRENCH_ADAPTER, random_pairs, write_adapter

QUESTION = "What is the capital of Portugal?"


def chat(model: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "gptoss_desktop", "chat", "--model", str(model), "--temperature", "0"]
    return subprocess.run([*command, "--effort", "low", "--json", *args], capture_output=True, text=True, timeout=120)


def answer(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[-1]["type"] == "done"
    return "".join(e["text"] for e in events if e["type"] == "answer")


def test_an_adapter_changes_the_answer(trained_model: Path) -> None:
    assert answer(chat(trained_model, QUESTION)) == "Lisbon"
    result = chat(trained_model, "--lora", str(FRENCH_ADAPTER), QUESTION)
    assert answer(result) == "La capitale est Lisbonne."
    assert "adapter gpt-oss-tiny French capitals (rank 8) at scale 1" in result.stderr


def test_at_scale_zero_the_answer_is_the_model_s_own(trained_model: Path) -> None:
    assert answer(chat(trained_model, "--lora", f"{FRENCH_ADAPTER}:0", QUESTION)) == "Lisbon"
    assert answer(chat(trained_model, "--lora", f"{FRENCH_ADAPTER}:1.0", QUESTION)) == "La capitale est Lisbonne."


def test_adapters_are_repeatable_and_a_colon_in_a_path_is_a_path(trained_model: Path, tmp_path: Path) -> None:
    odd = tmp_path / "v1:final.gguf"
    odd.write_bytes(FRENCH_ADAPTER.read_bytes())
    second = tmp_path / "second.gguf"
    write_adapter(second, random_pairs({"blk.0.attn_q.weight": (128, 128)}, rank=2), 4.0)  # nearly nothing at 0.01
    result = chat(trained_model, "--lora", str(odd), "--lora", f"{second}:0.01", QUESTION)
    assert answer(result) == "La capitale est Lisbonne."
    assert "at scale 0.01" in result.stderr


def test_an_adapter_for_another_model_is_refused_before_loading(trained_model: Path, tmp_path: Path) -> None:
    narrow = write_adapter(tmp_path / "narrow.gguf", random_pairs({"blk.0.attn_q.weight": (64, 64)}, rank=4), 8.0)
    result = chat(trained_model, "--lora", str(narrow), QUESTION)
    assert result.returncode == 1
    message = (
        "narrow.gguf does not fit gpt-oss-tiny-harmony: blk.0.attn_q.weight is 128 x 128 there, "
        "the adapter expects 64 x 64."
    )
    assert json.loads(result.stdout) == {"type": "error", "text": message}


def test_a_model_given_as_an_adapter_is_refused(trained_model: Path) -> None:
    result = chat(trained_model, "--lora", str(trained_model), QUESTION)
    assert result.returncode == 1
    assert "gpt-oss-tiny-harmony.gguf is a model, not a LoRA adapter" in json.loads(result.stdout)["text"]


def test_an_adapter_given_as_the_model_is_refused(trained_model: Path) -> None:
    result = chat(FRENCH_ADAPTER, QUESTION)
    assert result.returncode == 1
    assert "gpt-oss-tiny-french.lora.gguf is a LoRA adapter, not a model" in json.loads(result.stdout)["text"]


def test_a_scale_outside_0_to_2_is_a_usage_error(trained_model: Path) -> None:
    result = chat(trained_model, "--lora", f"{FRENCH_ADAPTER}:2.5", QUESTION)
    assert result.returncode == 2
    assert "An adapter's scale must be 0 to 2, not 2.5." in result.stderr


def test_the_same_adapter_twice_is_refused(trained_model: Path) -> None:
    result = chat(trained_model, "--lora", str(FRENCH_ADAPTER), "--lora", f"{FRENCH_ADAPTER}:0.5", QUESTION)
    assert result.returncode == 1
    assert "The same adapter is given twice with --lora" in result.stderr


def test_adapters_need_a_model_on_this_computer() -> None:
    command = [sys.executable, "-m", "gptoss_desktop", "chat", "--server", "http://127.0.0.1:9/v1"]
    result = subprocess.run(
        [*command, "--lora", str(FRENCH_ADAPTER), QUESTION], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "--lora changes a model on this computer: use it with --model, not --server." in result.stderr
