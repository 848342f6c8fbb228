"""The torch model that trains the harmony fixture computes what llama.cpp computes.

Random weights go to an F32 GGUF; llama.cpp (F32 KV cache, all logits) and the float64 torch
forward pass must agree within 1e-3 over 300 tokens, far past the 32-token sliding window.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is a dev-only extra (pip install -e .[train]); CI has none")
llama_cpp = pytest.importorskip("llama_cpp")

from tests.fixtures.tiny_gptoss import TinyConfig, build_vocab, random_weights, write_gguf  # noqa: E402
from tools.tiny_gptoss.model import TinyGptOss  # noqa: E402

N_TOKENS = 300
TOLERANCE = 1e-3


def llama_logits(path: Path, ids: list[int]) -> np.ndarray:
    """Logits of every position from real llama.cpp with an exact (F32) KV cache."""
    llama = llama_cpp.Llama(
        model_path=str(path), n_ctx=512, n_batch=512, logits_all=True, type_k=0, type_v=0, verbose=False
    )
    llama.eval(ids)
    logits = np.array(llama.scores[: len(ids)], dtype=np.float64)
    llama.close()
    return logits


def torch_logits(config: TinyConfig, weights: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    model = TinyGptOss(config, weights).double()
    with torch.no_grad():
        return np.asarray(model(torch.tensor([ids]))[0].numpy())


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> tuple[TinyConfig, dict[str, np.ndarray], list[int], np.ndarray]:
    config = TinyConfig()
    n_vocab = len(build_vocab()[0])
    weights = random_weights(config, n_vocab, seed=7)
    for layer in range(config.n_layer):
        # Larger expert inputs so the +-7 clamps of the SwiGLU are actually reached.
        for name in ("ffn_gate_exps", "ffn_up_exps"):
            weights[f"blk.{layer}.{name}.weight"] *= 6.0
    ids = np.random.default_rng(7).integers(0, n_vocab, N_TOKENS).tolist()
    path = write_gguf(tmp_path_factory.mktemp("equiv") / "random.gguf", config, weights=weights)
    return config, weights, ids, llama_logits(path, ids)


def test_logits_match_llama_cpp(case: tuple[TinyConfig, dict[str, np.ndarray], list[int], np.ndarray]) -> None:
    config, weights, ids, expected = case
    assert len(ids) > 4 * config.sliding_window
    difference = np.abs(torch_logits(config, weights, ids) - expected).max()
    print(f"max-abs logit difference over {N_TOKENS} tokens: {difference:.2e}")
    assert difference < TOLERANCE


def test_the_comparison_detects_a_wrong_window(
    case: tuple[TinyConfig, dict[str, np.ndarray], list[int], np.ndarray],
) -> None:
    config, weights, ids, expected = case
    wrong = torch_logits(TinyConfig(sliding_window=config.sliding_window - 1), weights, ids)
    assert np.abs(wrong - expected).max() > 100 * TOLERANCE
