"""Train the tiny harmony gpt-oss on CPU and export it as the test fixture.

``OMP_WAIT_POLICY=PASSIVE python -m tools.tiny_gptoss.train --out tests/fixtures/gpt-oss-tiny-harmony.gguf``
from the repository root, in a venv with torch, gguf, numpy and llama-cpp-python. Seeds are fixed.
PASSIVE because on 2 shared cores, spinning OpenMP workers that get preempted make a step up to 10x slower.
"""

from __future__ import annotations

import argparse
import math
import random
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional

from tests.fixtures.tiny_gptoss import TinyConfig, build_vocab, random_weights, write_gguf
from tools.tiny_gptoss.data import random_examples, vocabulary_words
from tools.tiny_gptoss.model import TinyGptOss
from tools.tiny_gptoss.vocab import HarmonyTokenizer

HARMONY_CONFIG = TinyConfig(
    n_layer=3,
    n_embd=128,
    n_head=4,
    n_head_kv=2,
    head_dim=32,
    n_expert=4,
    n_expert_used=2,
    n_ff_exp=128,
    sliding_window=128,
    context_length=4096,
    name="gpt-oss-tiny-harmony",
)


@dataclass(frozen=True)
class TrainedSequence:
    """Prompt and completion ids; loss counts only from ``completion_start`` on."""

    ids: tuple[int, ...]
    completion_start: int


def harmony_config() -> TinyConfig:
    """The fixture's shape, with the corpus words merged into the vocabulary."""
    return replace(HARMONY_CONFIG, words=vocabulary_words())


def tokenizer_for(config: TinyConfig, directory: Path) -> HarmonyTokenizer:
    """llama.cpp's tokenizer for ``config``'s vocabulary (loaded from a throwaway GGUF)."""
    return HarmonyTokenizer(write_gguf(directory / "vocab.gguf", config))


def tokenize_examples(tokenizer: HarmonyTokenizer, count: int, seed: int) -> list[TrainedSequence]:
    """Pre-tokenize ``count`` seeded examples, ids exactly as the app would build them."""
    examples = random_examples(seed)
    sequences = []
    for _ in range(count):
        example = next(examples)
        prompt = tokenizer.encode(example.prompt)
        sequences.append(TrainedSequence(tuple(prompt + tokenizer.encode(example.completion)), len(prompt)))
    return sequences


def initial_weights(config: TinyConfig, n_vocab: int, seed: int) -> dict[str, np.ndarray]:
    """Random matrices; zero biases and sinks, unit norms, residual outputs scaled down by depth."""
    weights = random_weights(config, n_vocab, seed)
    residual_scale = 1.0 / math.sqrt(2 * config.n_layer)
    for name, value in weights.items():
        if name.endswith(".bias") or name.endswith("attn_sinks.weight"):
            value[...] = 0.0
        elif name.endswith("norm.weight"):
            value[...] = 1.0
        elif name.endswith(("attn_output.weight", "ffn_down_exps.weight")):
            value *= residual_scale
    return weights


def batch_tensors(batch: list[TrainedSequence]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded inputs and next-token targets; -100 marks prompt and padding."""
    length = max(len(s.ids) for s in batch) - 1
    inputs = torch.zeros((len(batch), length), dtype=torch.long)
    targets = torch.full((len(batch), length), -100, dtype=torch.long)
    for row, sequence in enumerate(batch):
        ids = torch.tensor(sequence.ids)
        inputs[row, : len(ids) - 1] = ids[:-1]
        start = sequence.completion_start - 1
        targets[row, start : len(ids) - 1] = ids[sequence.completion_start :]
    return inputs, targets


def batches(data: list[TrainedSequence], batch_size: int, rng: random.Random) -> Iterator[list[TrainedSequence]]:
    """Endless random batches of similar lengths (a pool of 8 batches sorted, then split): less padding."""
    pool_size = 8 * batch_size
    while True:
        pool = sorted(rng.sample(data, pool_size), key=lambda s: len(s.ids))
        chunks = [pool[i : i + batch_size] for i in range(0, pool_size, batch_size)]
        rng.shuffle(chunks)
        yield from chunks


def learning_rate(step: int, steps: int, peak: float, warmup: int = 100) -> float:
    """Linear warmup, then cosine decay to a tenth of the peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def train(model: TinyGptOss, data: list[TrainedSequence], steps: int, batch_size: int, lr: float, seed: int) -> None:
    """AdamW on completion tokens only; prints loss and elapsed time every 50 steps."""
    rng = random.Random(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.95))
    started = time.monotonic()
    stream = batches(data, batch_size, rng)
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, steps, lr)
        inputs, targets = batch_tensors(next(stream))
        logits = model(inputs)
        loss = functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
        optimizer.zero_grad(set_to_none=True)
        torch.autograd.backward(loss)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % 50 == 0 or step == steps - 1:
            print(f"step {step:5d}  loss {loss.item():.4f}  {time.monotonic() - started:7.1f}s", flush=True)


def main() -> None:
    """Tokenize with llama.cpp, train, export F16 GGUF."""
    parser = argparse.ArgumentParser(description="Train the tiny harmony gpt-oss fixture.")
    parser.add_argument("--out", type=Path, default=Path("tests/fixtures/gpt-oss-tiny-harmony.gguf"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--examples", type=int, default=40000, help="pre-tokenized training conversations")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    config = harmony_config()
    n_vocab = len(build_vocab(config.words)[0])
    with tempfile.TemporaryDirectory() as tmp:
        data = tokenize_examples(tokenizer_for(config, Path(tmp)), args.examples, args.seed)
    lengths = [len(s.ids) for s in data]
    print(f"vocab {n_vocab}, {len(data)} sequences, mean {np.mean(lengths):.0f} / max {max(lengths)} tokens")
    model = TinyGptOss(config, initial_weights(config, n_vocab, args.seed))
    print(f"{sum(p.numel() for p in model.parameters())} parameters")
    started = time.monotonic()
    train(model, data, args.steps, args.batch, args.lr, args.seed)
    print(f"trained in {time.monotonic() - started:.0f}s")
    print(write_gguf(args.out, config, weights=model.gguf_weights(), f16=True))


if __name__ == "__main__":
    main()
