"""llama.cpp applying the committed adapter computes what torch computes with the adapter merged into the weights.

The reference (`gpt-oss-tiny-french.logits.npz`) holds float64 torch logits of the base with
`scale * alpha / rank * B @ A` added to each adapted matrix, for a capital question and the adapter's
reply, at scales 1 and 0.5 (`python -m tools.tiny_gptoss.lora` writes it). Here llama.cpp runs the
same weights widened to F32, with an F32 KV cache, and the app's own adapter code applies the file:
no torch needed, so CI runs it. Where torch is installed, the reference is recomputed too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import llama_cpp
import numpy as np
import pytest

from gptoss_desktop.core.engine import LoraAdapter
from gptoss_desktop.core.local.adapters import ModelAdapters
from gptoss_desktop.core.local.gguf_file import read_gguf
from gptoss_desktop.core.local.lora_file import read_lora
from gptoss_desktop.core.local.machine import read_machine
from gptoss_desktop.core.local.memory_plan import ModelShape, engine_plan
from tests.fixtures.lora_gguf import FRENCH_ADAPTER, FRENCH_REFERENCE, f32_copy, model_weights

TOLERANCE = 1e-3


class F32Model:
    """The trained model widened to F32 in llama.cpp, all logits kept, the app's adapters on its context."""

    def __init__(self, path: Path) -> None:
        self.llama = llama_cpp.Llama(
            model_path=str(path), n_ctx=512, n_batch=512, logits_all=True, type_k=0, type_v=0, verbose=False
        )
        info = read_gguf(path)
        self.adapters = ModelAdapters(self.llama, info, engine_plan(ModelShape.from_gguf(info), read_machine()))

    def logits(self, ids: list[int], scale: float | None) -> np.ndarray:
        """Logits at every position with the French adapter at `scale` (None: without it)."""
        self.adapters.apply([] if scale is None else [LoraAdapter(FRENCH_ADAPTER, scale)])
        self.llama.reset()
        self.llama.eval(ids)
        rows = np.ctypeslib.as_array(llama_cpp.llama_get_logits(self.llama.ctx), shape=(len(ids), self.llama.n_vocab()))
        return np.array(rows, dtype=np.float64)

    def close(self) -> None:
        self.adapters.close()
        self.llama.close()


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    with np.load(FRENCH_REFERENCE) as arrays:
        return {name: arrays[name] for name in arrays.files}


@pytest.fixture(scope="module")
def model(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[F32Model]:
    model = F32Model(f32_copy(trained_model, tmp_path_factory.mktemp("f32") / "trained-f32.gguf"))
    yield model
    model.close()


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_llama_cpp_with_the_adapter_equals_torch_with_merged_weights(
    model: F32Model, reference: dict[str, np.ndarray], scale: float
) -> None:
    ids, positions = reference["ids"].tolist(), reference["positions"]
    got = model.logits(ids, scale)[positions]
    difference = np.abs(got - reference[f"scale_{scale:g}"]).max()
    print(f"max-abs logit difference at scale {scale:g} over {len(positions)} positions: {difference:.2e}")
    assert difference < TOLERANCE


def test_the_comparison_sees_the_adapter(model: F32Model, reference: dict[str, np.ndarray]) -> None:
    """Without the adapter, or at another scale, the logits are far from the reference: the test can fail."""
    ids, positions = reference["ids"].tolist(), reference["positions"]
    assert np.abs(model.logits(ids, None)[positions] - reference["scale_1"]).max() > 100 * TOLERANCE
    assert np.abs(model.logits(ids, 0.5)[positions] - reference["scale_1"]).max() > 100 * TOLERANCE


def test_the_reference_is_what_torch_computes(trained_model: Path, reference: dict[str, np.ndarray]) -> None:
    """Guards the committed file: the float64 torch forward pass with merged weights gives it again."""
    pytest.importorskip("torch", reason="torch is a dev-only extra (pip install -e .[train]); CI has none")
    from tools.tiny_gptoss.lora import reference_logits
    from tools.tiny_gptoss.train import harmony_config

    lora = read_lora(FRENCH_ADAPTER)
    tensors = model_weights(FRENCH_ADAPTER)
    adapter = {name: (tensors[f"{name}.lora_a"], tensors[f"{name}.lora_b"]) for name in lora.pairs}
    ids = reference["ids"].tolist()
    again = reference_logits(harmony_config(), model_weights(trained_model), adapter, lora.alpha, lora.rank, ids)
    assert again.keys() == reference.keys()
    for name, value in reference.items():
        np.testing.assert_allclose(again[name], value, atol=1e-5)
