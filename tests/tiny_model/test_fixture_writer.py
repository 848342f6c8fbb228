"""The random-weight fixture writer produces GGUFs that real llama.cpp loads and runs."""

from __future__ import annotations

import ctypes
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import gguf
import llama_cpp
import numpy as np
import pytest

from tests.fixtures.tiny_gptoss import (
    HARMONY_SPECIALS,
    TinyConfig,
    build_vocab,
    bytes_to_unicode,
    random_weights,
    write_gguf,
)

FIXTURE_SCRIPT = Path(__file__).parents[1] / "fixtures" / "tiny_gptoss.py"


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_gguf(tmp_path_factory.mktemp("tiny") / "tiny.gguf", TinyConfig(), seed=1)


@pytest.fixture(scope="module")
def llama(model_path: Path) -> Iterator[llama_cpp.Llama]:
    model = llama_cpp.Llama(model_path=str(model_path), n_ctx=512, n_threads=2, verbose=False)
    yield model
    model.close()


def piece(model: llama_cpp.Llama, token: int) -> bytes:
    buffer = ctypes.create_string_buffer(256)
    n = llama_cpp.llama_token_to_piece(llama_cpp.llama_model_get_vocab(model.model), token, buffer, 256, 0, True)
    assert n >= 0
    return buffer.raw[:n]


def test_vocab_has_every_byte_the_specials_and_merges_into_known_tokens() -> None:
    tokens, types, merges = build_vocab(("capital",))
    assert tokens[:256] == [bytes_to_unicode()[b] for b in range(256)]
    assert tokens[-len(HARMONY_SPECIALS) :] == list(HARMONY_SPECIALS)
    assert types[-len(HARMONY_SPECIALS) :] == [int(gguf.TokenType.CONTROL)] * len(HARMONY_SPECIALS)
    assert merges
    known = set(tokens)
    assert all(left in known and right in known and left + right in known for left, right in map(str.split, merges))
    assert "capital" in known
    assert len(tokens) == len(set(tokens)) == len(types)


def test_metadata_names_the_architecture_and_harmony_tokens(llama: llama_cpp.Llama) -> None:
    meta = llama.metadata
    assert meta["general.architecture"] == "gpt-oss"
    assert meta["general.name"] == "gpt-oss-tiny"
    assert meta["tokenizer.ggml.add_bos_token"] == "false"
    vocab = llama_cpp.llama_model_get_vocab(llama.model)
    assert piece(llama, llama_cpp.llama_vocab_bos(vocab)) == b"<|startoftext|>"
    assert piece(llama, llama_cpp.llama_vocab_eos(vocab)) == b"<|return|>"


def test_end_is_not_end_of_generation_but_return_and_call_are(llama: llama_cpp.Llama) -> None:
    vocab = llama_cpp.llama_model_get_vocab(llama.model)

    def is_eog(text: str) -> bool:
        (token,) = llama.tokenize(text.encode(), add_bos=False, special=True)
        return bool(llama_cpp.llama_vocab_is_eog(vocab, token))

    assert not is_eog("<|end|>")
    assert is_eog("<|return|>")
    assert is_eog("<|call|>")


def test_64_spaces_are_one_token_with_a_64_byte_piece(llama: llama_cpp.Llama) -> None:
    (token,) = llama.tokenize(b" " * 64, add_bos=False, special=False)
    assert piece(llama, token) == b" " * 64


def test_generates_tokens(llama: llama_cpp.Llama) -> None:
    prompt = llama.tokenize(b"What is the capital?", add_bos=False, special=False)
    generated = []
    for token in llama.generate(prompt, temp=0.0):
        generated.append(token)
        if len(generated) == 200:
            break
    assert len(generated) == 200


def test_f16_keeps_small_tensors_f32(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "f16.gguf", TinyConfig(), f16=True)
    types = {t.name: t.tensor_type for t in gguf.GGUFReader(path).tensors}
    assert types["blk.0.ffn_gate_exps.weight"] == gguf.GGMLQuantizationType.F16
    assert types["token_embd.weight"] == gguf.GGMLQuantizationType.F16
    for name in ("blk.0.ffn_gate_inp.weight", "blk.0.attn_sinks.weight", "blk.0.attn_q.bias", "output_norm.weight"):
        assert types[name] == gguf.GGMLQuantizationType.F32
    model = llama_cpp.Llama(model_path=str(path), n_ctx=64, logits_all=True, verbose=False)
    model.eval(model.tokenize(b"hello", add_bos=False))
    logits = model.scores[model.n_tokens - 1]
    assert np.isfinite(logits).all()
    assert logits.std() > 0
    model.close()


def test_given_weights_are_written_exactly(tmp_path: Path) -> None:
    config = TinyConfig(n_layer=1)
    weights = random_weights(config, len(build_vocab()[0]), seed=5)
    reader = gguf.GGUFReader(write_gguf(tmp_path / "w.gguf", config, weights=weights))
    for tensor in reader.tensors:
        np.testing.assert_array_equal(np.asarray(tensor.data).reshape(weights[tensor.name].shape), weights[tensor.name])


def test_missing_tensor_is_rejected(tmp_path: Path) -> None:
    config = TinyConfig(n_layer=1)
    weights = random_weights(config, len(build_vocab()[0]))
    del weights["blk.0.attn_sinks.weight"]
    with pytest.raises(ValueError, match="attn_sinks"):
        write_gguf(tmp_path / "bad.gguf", config, weights=weights)


def test_cli_is_deterministic_per_seed(tmp_path: Path) -> None:
    def run(name: str, seed: int) -> bytes:
        out = tmp_path / name
        subprocess.run([sys.executable, str(FIXTURE_SCRIPT), str(out), "--seed", str(seed)], check=True)
        return out.read_bytes()

    first = run("a.gguf", 3)
    assert first == run("b.gguf", 3)
    assert first != run("c.gguf", 4)
