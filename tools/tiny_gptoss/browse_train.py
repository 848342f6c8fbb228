"""Train the tiny gpt-oss that browses the person's documents, a third fixture beside the tool one.

From the repository root, in a venv with torch, gguf, numpy and llama-cpp-python (2 cores)::

    OMP_WAIT_POLICY=PASSIVE nice -n 10 python -m tools.tiny_gptoss.browse_train
    python -m tools.tiny_gptoss.browse_evaluate

It starts from the python-calling fixture (same shape; it has learned to copy what a question names
into a call and what a tool answers into the answer; the new words get fresh rows) and writes
``tests/fixtures/gpt-oss-tiny-browse.gguf``. The turns are built through the app's own index and
browser (browse_data.py); the loss counts what the model writes (the reasoning, the two calls, the
cited answer), not the prompt nor the pages. Seeds are fixed.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional

from tests.fixtures.tiny_gptoss import TinyConfig, build_vocab, write_gguf
from tools.tiny_gptoss.browse_data import Library, browse_vocabulary_words, held_out_worlds, random_examples
from tools.tiny_gptoss.fast_model import FastTinyGptOss, check
from tools.tiny_gptoss.tool_train import HARMONY_CONFIG, MaskedSequence, batch_tensors, batches, masked, start_weights
from tools.tiny_gptoss.train import learning_rate, tokenizer_for
from tools.tiny_gptoss.vocab import HarmonyTokenizer

BASE = Path("tests/fixtures/gpt-oss-tiny-tools.gguf")
OUT = Path("tests/fixtures/gpt-oss-tiny-browse.gguf")


def browse_config() -> TinyConfig:
    """The harmony fixture's shape, with the browsing turns' words added to the tool model's vocabulary."""
    return replace(HARMONY_CONFIG, words=browse_vocabulary_words(), name="gpt-oss-tiny-browse")


def tokenize(
    tokenizer: HarmonyTokenizer, count: int, seed: int, dense: float = 0.0, block: int = 6
) -> list[MaskedSequence]:
    """``count`` seeded turns as ids exactly as the app builds them, none asking a held-out question
    (`dense`, `block`: the share of documents full of hostile lines and at most how many, random_world)."""
    held_out = frozenset(world.key for world in held_out_worlds())
    with Library() as library:
        examples = random_examples(library, seed, held_out, dense, block)
        return [masked(tokenizer, next(examples).parts) for _ in range(count)]


def train(
    model: FastTinyGptOss,
    data: list[MaskedSequence],
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    checkpoint: Path | None = None,
    warmup: int = 100,
) -> None:
    """AdamW on the written tokens only (logits computed only there); loss every 25 steps, a checkpoint every 250.

    The loss on the answer's digits (the project, the access code, the cited line: copies from what was read)
    is printed beside the whole: it is what stays high until the model has learned to look.
    """
    tokens = build_vocab(model.config.words)[0]
    message = tokens.index("<|message|>")
    digits = torch.tensor([token.isdigit() for token in tokens])
    rng = random.Random(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.95))
    started = time.monotonic()
    stream = batches(data, batch_size, rng)
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, steps, lr, warmup)
        inputs, targets = batch_tensors(next(stream))
        where = targets != -100
        # The answer: what follows the last <|message|> of each row.
        positions = torch.arange(inputs.shape[1]).expand_as(inputs)
        last = torch.where(inputs == message, positions, -1).max(dim=1, keepdim=True).values
        copies = (positions >= last) & where & digits[targets.clamp(min=0)]
        losses = functional.cross_entropy(model.logits_at(inputs, where), targets[where], reduction="none")
        loss = losses.mean()
        copy_loss = losses[copies[where]].mean()
        optimizer.zero_grad(set_to_none=True)
        torch.autograd.backward(loss)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % 25 == 0 or step == steps - 1:
            print(f"step {step:5d}  loss {loss.item():.4f}  answer digits {copy_loss.item():.3f}  "
                  f"{time.monotonic() - started:7.1f}s", flush=True)  # fmt: skip
        if checkpoint is not None and step % 250 == 249:
            write_gguf(checkpoint, model.config, weights=model.gguf_weights(), f16=True)


def main() -> None:
    """Tokenize with llama.cpp, train from the tool fixture, export F16 GGUF."""
    parser = argparse.ArgumentParser(description="Train the tiny gpt-oss that browses documents.")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--base", type=Path, default=BASE, help="start from this model (the tool fixture, or an earlier run)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--examples", type=int, default=6000, help="pre-tokenized training turns")
    parser.add_argument("--dense", type=float, default=0.0, help="share of documents full of hostile lines")
    parser.add_argument("--dense-block", type=int, default=6, help="at most this many hostile lines in one")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--checkpoint", type=Path, help="write the model here every 500 steps too")
    parser.add_argument("--data", type=Path, help="keep the tokenized turns here (and read them back if there)")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    config = browse_config()
    n_vocab = len(build_vocab(config.words)[0])
    started = time.monotonic()
    if args.data and args.data.exists():
        stored = np.load(args.data, allow_pickle=False)
        data = [
            MaskedSequence(tuple(int(i) for i in ids), tuple(bool(t) for t in trained))
            for ids, trained in zip(
                np.split(stored["ids"], stored["ends"][:-1]),
                np.split(stored["trained"], stored["ends"][:-1]),
                strict=True,
            )
        ]
    else:
        with tempfile.TemporaryDirectory() as tmp:
            data = tokenize(tokenizer_for(config, Path(tmp)), args.examples, args.seed, args.dense, args.dense_block)
        if args.data:
            ends = np.cumsum([len(s.ids) for s in data])
            np.savez(
                args.data,
                ids=np.concatenate([s.ids for s in data]),
                trained=np.concatenate([s.trained for s in data]),
                ends=ends,
            )
    lengths = [len(s.ids) for s in data]
    print(f"vocab {n_vocab}, {len(data)} sequences, mean {np.mean(lengths):.0f} / max {max(lengths)} tokens")
    print(f"tokenized in {time.monotonic() - started:.0f}s", flush=True)
    model = FastTinyGptOss(config, start_weights(config, args.base, args.seed))
    print(f"{sum(p.numel() for p in model.parameters())} parameters; fast forward off by {check(model):.1e}")
    started = time.monotonic()
    train(model, data, args.steps, args.batch, args.lr, args.seed, args.checkpoint, args.warmup)
    print(f"trained in {time.monotonic() - started:.0f}s")
    print(write_gguf(args.out, config, weights=model.gguf_weights(), f16=True))


if __name__ == "__main__":
    main()
