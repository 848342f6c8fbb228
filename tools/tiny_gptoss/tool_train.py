"""Train the tiny gpt-oss that calls python, a second fixture beside the harmony one.

From the repository root, in a venv with torch, gguf, numpy and llama-cpp-python, two stages
(about 25 and 12 minutes on 2 cores), then the measure through the app::

    OMP_WAIT_POLICY=PASSIVE nice -n 10 python -m tools.tiny_gptoss.tool_train --distribution wide \
        --out /tmp/tools-wide.gguf
    OMP_WAIT_POLICY=PASSIVE nice -n 10 python -m tools.tiny_gptoss.tool_train --base /tmp/tools-wide.gguf \
        --seed 1 --steps 1000 --lr 1e-3 --warmup 50 --examples 16000
    python -m tools.tiny_gptoss.tool_evaluate

The first stage starts from the harmony fixture's weights (same shape; the new tokens get fresh
rows) on all five operations with long operands; the second goes on from it on the narrow
distribution the fixture is measured on, and writes ``tests/fixtures/gpt-oss-tiny-tools.gguf``.
Seeds are fixed. The loss counts what the model writes (the analysis, the call, the final answer),
not the prompt nor the tool's answer. Mixing tool turns into the harmony model's own training
reached 20 % right calls; a model of its own on this narrow task does better.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import gguf
import numpy as np
import torch
from torch.nn import functional

from gptoss_desktop.core.harmony import Segment
from tests.fixtures.lora_gguf import model_weights
from tests.fixtures.tiny_gptoss import TinyConfig, build_vocab, write_gguf
from tools.tiny_gptoss.model import TinyGptOss
from tools.tiny_gptoss.tool_data import (
    DISTRIBUTIONS,
    NARROW,
    Distribution,
    held_out_questions,
    random_examples,
    tool_vocabulary_words,
)
from tools.tiny_gptoss.train import HARMONY_CONFIG, initial_weights, learning_rate, tokenizer_for
from tools.tiny_gptoss.vocab import HarmonyTokenizer

BASE = Path("tests/fixtures/gpt-oss-tiny-harmony.gguf")
OUT = Path("tests/fixtures/gpt-oss-tiny-tools.gguf")


@dataclass(frozen=True)
class MaskedSequence:
    """Token ids and, per id, whether the model is trained to write it."""

    ids: tuple[int, ...]
    trained: tuple[bool, ...]


def tools_config() -> TinyConfig:
    """The harmony fixture's shape, with the tool turns' words added to its vocabulary."""
    return replace(HARMONY_CONFIG, words=tool_vocabulary_words(), name="gpt-oss-tiny-tools")


def tokenize(
    tokenizer: HarmonyTokenizer, count: int, seed: int, distribution: Distribution = NARROW
) -> list[MaskedSequence]:
    """``count`` seeded turns as ids exactly as the app builds them, none with a held-out expression."""
    held_out = frozenset(q.expression for q in held_out_questions(distribution=distribution))
    examples = random_examples(seed, held_out, distribution)
    return [masked(tokenizer, next(examples).parts) for _ in range(count)]


def masked(tokenizer: HarmonyTokenizer, parts: Sequence[tuple[Sequence[Segment], bool]]) -> MaskedSequence:
    """A turn's parts as ids, each marked with whether the model writes it."""
    ids: list[int] = []
    trained: list[bool] = []
    for segments, written in parts:
        part = tokenizer.encode(segments)
        ids += part
        trained += [written] * len(part)
    return MaskedSequence(tuple(ids), tuple(trained))


def start_weights(config: TinyConfig, base: Path | None, seed: int) -> dict[str, np.ndarray]:
    """The base model's weights, token rows moved to this vocabulary's ids by their text; fresh rows for new tokens.

    The base is the harmony fixture, or an earlier run of this one (to train on from where it stopped).
    """
    tokens = build_vocab(config.words)[0]
    weights = initial_weights(config, len(tokens), seed)
    if base is None:
        return weights
    base_weights = model_weights(base)
    field = gguf.GGUFReader(base).get_field("tokenizer.ggml.tokens")
    if field is None:
        raise ValueError(f"{base} has no vocabulary")
    row = {token: i for i, token in enumerate(field.contents())}
    for name, value in base_weights.items():
        if name == "token_embd.weight":  # new tokens: embeddings as spread as the old ones
            fresh = weights[name] * (value.std() / weights[name].std())
        elif name == "output.weight":  # new tokens: zero rows, no logit pushed either way
            fresh = np.zeros_like(weights[name])
        else:
            weights[name] = value
            continue
        for i, token in enumerate(tokens):
            if token in row:
                fresh[i] = value[row[token]]
        weights[name] = fresh.astype(np.float32)
    return weights


def batch_tensors(batch: list[MaskedSequence]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded inputs and next-token targets; -100 where the model is not trained to write."""
    length = max(len(s.ids) for s in batch) - 1
    inputs = torch.zeros((len(batch), length), dtype=torch.long)
    targets = torch.full((len(batch), length), -100, dtype=torch.long)
    for row, sequence in enumerate(batch):
        ids = torch.tensor(sequence.ids)
        inputs[row, : len(ids) - 1] = ids[:-1]
        trained = torch.tensor(sequence.trained[1:])
        targets[row, : len(ids) - 1] = torch.where(trained, ids[1:], torch.full_like(ids[1:], -100))
    return inputs, targets


def batches(data: list[MaskedSequence], batch_size: int, rng: random.Random) -> Iterator[list[MaskedSequence]]:
    """Endless random batches of similar lengths (a pool of 8 batches sorted, then split): less padding."""
    pool_size = 8 * batch_size
    while True:
        pool = sorted(rng.sample(data, pool_size), key=lambda s: len(s.ids))
        chunks = [pool[i : i + batch_size] for i in range(0, pool_size, batch_size)]
        rng.shuffle(chunks)
        yield from chunks


def train(
    model: TinyGptOss,
    data: list[MaskedSequence],
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    checkpoint: Path | None = None,
    warmup: int = 100,
) -> None:
    """AdamW on the written tokens only; loss every 50 steps, a GGUF checkpoint every 500."""
    rng = random.Random(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.95))
    started = time.monotonic()
    stream = batches(data, batch_size, rng)
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, steps, lr, warmup)
        inputs, targets = batch_tensors(next(stream))
        logits = model(inputs)
        loss = functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
        optimizer.zero_grad(set_to_none=True)
        torch.autograd.backward(loss)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % 50 == 0 or step == steps - 1:
            print(f"step {step:5d}  loss {loss.item():.4f}  {time.monotonic() - started:7.1f}s", flush=True)
        if checkpoint is not None and step % 500 == 499:
            write_gguf(checkpoint, model.config, weights=model.gguf_weights(), f16=True)


def main() -> None:
    """Tokenize with llama.cpp, train from the harmony fixture, export F16 GGUF."""
    parser = argparse.ArgumentParser(description="Train the tiny gpt-oss that calls python.")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--base",
        default=str(BASE),
        help="start from this model: the harmony fixture, or an earlier run ('' for random)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--examples", type=int, default=24000, help="pre-tokenized training turns")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--distribution", choices=sorted(DISTRIBUTIONS), default="narrow", help="which questions (tool_data.py)"
    )
    parser.add_argument("--checkpoint", type=Path, help="write the model here every 500 steps too")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    config = tools_config()
    n_vocab = len(build_vocab(config.words)[0])
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        data = tokenize(tokenizer_for(config, Path(tmp)), args.examples, args.seed, DISTRIBUTIONS[args.distribution])
    lengths = [len(s.ids) for s in data]
    print(f"vocab {n_vocab}, {len(data)} sequences, mean {np.mean(lengths):.0f} / max {max(lengths)} tokens")
    print(f"tokenized in {time.monotonic() - started:.0f}s")
    base = Path(args.base) if args.base else None
    model = TinyGptOss(config, start_weights(config, base, args.seed))
    print(f"{sum(p.numel() for p in model.parameters())} parameters")
    started = time.monotonic()
    train(model, data, args.steps, args.batch, args.lr, args.seed, args.checkpoint, args.warmup)
    print(f"trained in {time.monotonic() - started:.0f}s")
    print(write_gguf(args.out, config, weights=model.gguf_weights(), f16=True))


if __name__ == "__main__":
    main()
