"""Train a LoRA adapter on the tiny harmony gpt-oss and write it as llama.cpp's GGUF adapter.

``OMP_WAIT_POLICY=PASSIVE python -m tools.tiny_gptoss.lora`` from the repository root, in a venv with
torch, gguf, numpy and llama-cpp-python, writes ``tests/fixtures/gpt-oss-tiny-french.lora.gguf`` (capitals
answered in French, see ``french.py``) and ``tests/fixtures/gpt-oss-tiny-french.logits.npz``: logits of the
base with the adapter's weights merged in, computed by the torch forward pass in float64, which CI (no
torch) compares with llama.cpp applying the adapter. Seeds are fixed.

The adapter is written the way llama.cpp's ``convert_lora_to_gguf.py`` writes one: ``general.type`` =
``adapter``, ``adapter.type`` = ``lora``, ``adapter.lora.alpha``, and for each adapted tensor ``NAME.lora_a``
(numpy [rank, in], ggml [in, rank]) and ``NAME.lora_b`` (numpy [out, rank]); expert tensors carry a
leading expert axis on both. llama.cpp adds ``scale * alpha / rank * B @ A`` to the product with ``NAME``.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import math
import random
import time
from pathlib import Path

import llama_cpp
import numpy as np
import torch

from gptoss_desktop.core.harmony import EFFORTS
from tests.fixtures.lora_gguf import FRENCH_ADAPTER, FRENCH_REFERENCE, model_weights, write_adapter
from tests.fixtures.tiny_gptoss import TinyConfig
from tools.tiny_gptoss.data import make_example, question_groups
from tools.tiny_gptoss.evaluate import Evaluator
from tools.tiny_gptoss.french import adapter_examples, french_capital_question, french_capitals
from tools.tiny_gptoss.model import TinyGptOss
from tools.tiny_gptoss.train import TrainedSequence, harmony_config, train
from tools.tiny_gptoss.vocab import HarmonyTokenizer

BASE = Path("tests/fixtures/gpt-oss-tiny-harmony.gguf")
#: What the adapter adapts in every block: attention projections and the experts (as PEFT's
#: target_modules / target_parameters would for gpt-oss).
TARGETS = ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate_exps", "ffn_up_exps", "ffn_down_exps")
#: The reference: the adapter at these scales, at every REFERENCE_STRIDE-th position of a capital question.
REFERENCE_SCALES = (1.0, 0.5)
REFERENCE_STRIDE = 6


class LoraGptOss(TinyGptOss):
    """The tiny gpt-oss with frozen weights and a trainable low-rank delta on `targets`."""

    def __init__(
        self, config: TinyConfig, weights: dict[str, np.ndarray], targets: list[str], rank: int, alpha: float
    ) -> None:
        super().__init__(config, weights)
        for parameter in self.params.values():
            parameter.requires_grad_(False)
        self.scale = alpha / rank
        self.lora_a = torch.nn.ParameterDict()
        self.lora_b = torch.nn.ParameterDict()
        for name in targets:
            *experts, out_features, in_features = weights[name].shape
            a = torch.empty(*experts, rank, in_features)
            torch.nn.init.kaiming_uniform_(a.view(-1, in_features), a=math.sqrt(5))  # as PEFT starts A
            self.lora_a[_key(name)] = torch.nn.Parameter(a)
            self.lora_b[_key(name)] = torch.nn.Parameter(torch.zeros(*experts, out_features, rank))  # and B: zero

    def p(self, name: str) -> torch.Tensor:
        """The weight under GGUF name ``name``, with the adapter's delta merged in where it adapts it."""
        weight = super().p(name)
        key = _key(name)
        if key not in self.lora_a:
            return weight
        return weight + self.scale * (self.lora_b[key] @ self.lora_a[key])

    def adapter(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """(A, B) per adapted GGUF name, as float32 numpy arrays."""
        return {
            key.replace("/", "."): (
                self.lora_a[key].detach().float().numpy(),
                self.lora_b[key].detach().float().numpy(),
            )
            for key in self.lora_a
        }


def _key(name: str) -> str:
    return name.replace(".", "/")


def merged_weights(
    base: dict[str, np.ndarray], adapter: dict[str, tuple[np.ndarray, np.ndarray]], scale: float
) -> dict[str, np.ndarray]:
    """Float64 weights with ``scale * B @ A`` added to each adapted tensor (alpha / rank folded into scale)."""
    merged = {name: value.astype(np.float64) for name, value in base.items()}
    for name, (a, b) in adapter.items():
        merged[name] = merged[name] + scale * (b.astype(np.float64) @ a.astype(np.float64))
    return merged


def tokenize(tokenizer: HarmonyTokenizer, count: int, seed: int) -> list[TrainedSequence]:
    """``count`` seeded conversations of the adapter's world, ids exactly as the app builds them."""
    examples = adapter_examples(seed)
    sequences = []
    for _ in range(count):
        example = next(examples)
        prompt = tokenizer.encode(example.prompt)
        sequences.append(TrainedSequence(tuple(prompt + tokenizer.encode(example.completion)), len(prompt)))
    return sequences


def reference_ids(tokenizer: HarmonyTokenizer) -> list[int]:
    """A capital question and the adapter's whole reply, as one sequence of ids."""
    example = make_example(french_capital_question("Portugal", "Lisbon"), "medium")
    return tokenizer.encode(example.prompt) + tokenizer.encode(example.completion)


def reference_logits(
    config: TinyConfig,
    base: dict[str, np.ndarray],
    adapter: dict[str, tuple[np.ndarray, np.ndarray]],
    alpha: float,
    rank: int,
    ids: list[int],
) -> dict[str, np.ndarray]:
    """What CI checks llama.cpp against: float64 torch logits with merged weights at each reference scale."""
    positions = np.arange(0, len(ids), REFERENCE_STRIDE)
    arrays: dict[str, np.ndarray] = {"ids": np.array(ids, dtype=np.int32), "positions": positions.astype(np.int32)}
    for scale in REFERENCE_SCALES:
        model = TinyGptOss(config, {k: v.astype(np.float32) for k, v in base.items()}).double()
        merged = merged_weights(base, adapter, scale * alpha / rank)
        with torch.no_grad():
            for name, value in merged.items():
                model.p(name).copy_(torch.from_numpy(value))  # float64 all the way, no float32 rounding
            logits = model(torch.tensor([ids]))[0].numpy()
        arrays[f"scale_{scale:g}"] = logits[positions].astype(np.float32)
    return arrays


def evaluate_adapter(base: Path, adapter_path: Path, numeric_sample: int = 100) -> dict[str, object]:
    """Greedy replies in llama.cpp with the adapter at scale 1: French capitals right, sums still right."""
    evaluator = Evaluator(base)
    adapter = llama_cpp.llama_adapter_lora_init(evaluator.llama.model, str(adapter_path).encode())
    if not adapter:
        raise SystemExit(f"llama.cpp refused {adapter_path}")
    adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(adapter)
    llama_cpp.llama_set_adapters_lora(evaluator.llama.ctx, adapters, 1, (ctypes.c_float * 1)(1.0))
    capitals = french_capitals()
    sums, differences, _ = question_groups()
    numeric = random.Random(0).sample([*sums, *differences], numeric_sample)
    report: dict[str, object] = {}
    for effort in EFFORTS:
        replies = [(q, evaluator.complete(make_example(q, effort))) for q in capitals]
        right = sum(reply.well_formed and reply.answer == q.answer for q, reply in replies)
        report[f"french_capitals_{effort}"] = right / len(replies)
        wrong = [(q.answer, r.answer) for q, r in replies if r.answer != q.answer]
        if wrong:
            report[f"wrong_{effort}"] = wrong[:5]
        right = sum(evaluator.complete(make_example(q, effort)).answer == q.answer for q in numeric)
        report[f"numeric_{effort}"] = right / len(numeric)
    llama_cpp.llama_set_adapters_lora(evaluator.llama.ctx, None, 0, None)
    llama_cpp.llama_adapter_lora_free(adapter)
    evaluator.close()
    return report


def main() -> None:
    """Tokenize with llama.cpp, train the adapter, write it and its reference logits."""
    parser = argparse.ArgumentParser(description="Train the tiny gpt-oss's French-capitals LoRA adapter.")
    parser.add_argument("--base", type=Path, default=BASE)
    parser.add_argument("--out", type=Path, default=FRENCH_ADAPTER)
    parser.add_argument("--reference", type=Path, default=FRENCH_REFERENCE)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--alpha", type=float, default=16.0)
    parser.add_argument("--examples", type=int, default=8000, help="pre-tokenized training conversations")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma-separated tensor kinds to adapt")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    config = harmony_config()
    base = model_weights(args.base)
    kinds = args.targets.split(",")
    targets = [f"blk.{i}.{kind}.weight" for i in range(config.n_layer) for kind in kinds]
    tokenizer = HarmonyTokenizer(args.base)
    data = tokenize(tokenizer, args.examples, args.seed)
    model = LoraGptOss(config, base, targets, args.rank, args.alpha)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"{len(data)} sequences, {trainable} adapter parameters (rank {args.rank}, alpha {args.alpha:g})")
    started = time.monotonic()
    train(model, data, args.steps, args.batch, args.lr, args.seed)
    print(f"trained in {time.monotonic() - started:.0f}s")
    adapter = model.adapter()
    print(write_adapter(args.out, adapter, args.alpha, name="gpt-oss-tiny French capitals", base_name=config.name))
    ids = reference_ids(tokenizer)
    np.savez_compressed(args.reference, **reference_logits(config, base, adapter, args.alpha, args.rank, ids))
    print(args.reference)
    tokenizer.close()
    print(json.dumps(evaluate_adapter(args.base, args.out), indent=2))


if __name__ == "__main__":
    main()
