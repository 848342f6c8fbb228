"""One measurement on the full-size stand-in, in a process of its own (bench/fullsize.py starts it).

    python bench/fullsize_probe.py memory MODEL --ctx 8192 [--mmap 0|1] [--repack 0|1]
    python bench/fullsize_probe.py speed MODEL [--decode-rounds N]

Each run loads 12 GB, so it lives in a child the parent can kill, and prints one JSON line.
`memory` loads through the app's engine, evaluates a prompt and generates, then reads what the
process holds (/proc/self/status) beside the planner's prediction and llama.cpp's own buffer
sizes. `--mmap`/`--repack` override the engine's load parameters (use_mmap, use_extra_bufts) to
compare them. `speed` times load, prefill, the app's decode against the raw llama-cpp-python
loop, and a follow-up turn after a long history.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import llama_cpp

from gptoss_desktop.core.engine import ChatRequest
from gptoss_desktop.core.events import Done
from gptoss_desktop.core.harmony import Conversation, Message
from gptoss_desktop.core.local import engine as engine_module
from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.sampling import SamplingParams

PARAGRAPH = (
    "The committee met on Tuesday to review the quarterly figures. Revenue rose by 4.2 percent, "
    "driven mostly by the new service contracts in the northern region, while costs stayed flat. "
    "Several members asked whether the growth would last once the introductory discounts ended. "
)
BUFFER_LINE = re.compile(r"(\w+(?: \w+)?) (model|KV|compute|output) buffer size =\s+([\d.]+) MiB")


class LlamaLog(logging.Handler):
    """Keeps llama.cpp's buffer-size lines (the log is routed into Python logging by the engine)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.buffers: list[tuple[str, str, float]] = []

    def emit(self, record: logging.LogRecord) -> None:
        for match in BUFFER_LINE.finditer(record.getMessage()):
            self.buffers.append((match[1], match[2], float(match[3])))


def status() -> dict[str, int]:
    """VmRSS, RssAnon, RssFile, VmHWM in bytes."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM"):
            fields[key] = int(value.split()[0]) * 1024
    return fields


@contextmanager
def load_overrides(mmap: bool | None, repack: bool | None) -> Iterator[None]:
    """Load with other use_mmap / use_extra_bufts than the engine's, for comparison."""
    original_llama, original_load = llama_cpp.Llama, llama_cpp.llama_cpp.llama_model_load_from_file

    def llama(*args: Any, **kwargs: Any) -> llama_cpp.Llama:
        if mmap is not None:
            kwargs["use_mmap"] = mmap
        return original_llama(*args, **kwargs)

    def load(path: bytes, params: Any) -> Any:
        if repack is not None:
            params.use_extra_bufts = repack
        return original_load(path, params)

    engine_module.llama_cpp.Llama = llama  # type: ignore[misc]
    llama_cpp.llama_cpp.llama_model_load_from_file = load
    try:
        yield
    finally:
        engine_module.llama_cpp.Llama = original_llama  # type: ignore[misc]
        llama_cpp.llama_cpp.llama_model_load_from_file = original_load


def conversation(n_paragraphs: int, question: str = "Summarise the notes in one sentence.") -> Conversation:
    return Conversation(messages=(Message("user", PARAGRAPH * n_paragraphs + "\n\n" + question),), date="2026-12-04")


def run(engine: LocalEngine, conv: Conversation, max_tokens: int, seed: int = 1) -> Done:
    done = None
    for event in engine.generate(ChatRequest(conv, SamplingParams(max_tokens=max_tokens, seed=seed))):
        if isinstance(event, Done):
            done = event
    assert done is not None
    return done


def memory(model: Path, ctx: int, mmap: bool | None, repack: bool | None) -> dict[str, Any]:
    log = LlamaLog()
    logging.getLogger("gptoss_desktop.llama_cpp").addHandler(log)
    logging.getLogger("gptoss_desktop.llama_cpp").setLevel(logging.DEBUG)
    start = time.perf_counter()
    with load_overrides(mmap, repack):
        engine = LocalEngine(model, context_size=ctx)
    loaded = time.perf_counter() - start
    after_load = status()
    done = run(engine, conversation(6), max_tokens=16)
    plan = engine.plan
    return {
        "ctx": ctx,
        "mmap": mmap,
        "repack": repack,
        "load_s": round(loaded, 1),
        "after_load": after_load,
        "after_generation": status(),
        "prompt_tokens": done.stats.prompt_tokens,
        "completion_tokens": done.stats.completion_tokens,
        "prefill_tps": round(done.stats.prompt_tokens_evaluated / done.stats.prefill_seconds, 2),
        "decode_tps": round((done.stats.completion_tokens - 1) / done.stats.generation_seconds, 2),
        "plan": {
            "resident": plan.resident_bytes,
            "weights": plan.weight_bytes,
            "kv": plan.kv_cache_bytes,
            "compute": plan.compute_bytes,
            "message": plan.message,
        },
        "buffers_mib": log.buffers,
    }


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["memory", "speed"])
    parser.add_argument("model", type=Path)
    parser.add_argument("--ctx", type=int, default=8192)
    parser.add_argument("--mmap", type=int, choices=[0, 1])
    parser.add_argument("--repack", type=int, choices=[0, 1])
    parser.add_argument("--decode-rounds", type=int, help="speed: only decode, in this many rounds")
    args = parser.parse_args()
    flag = {None: None, 0: False, 1: True}
    if args.what == "memory":
        result = memory(args.model, args.ctx, flag[args.mmap], flag[args.repack])
    else:
        from bench.fullsize_speed import speed

        if args.decode_rounds:
            result = speed(args.model, flag[args.mmap], flag[args.repack], rounds=args.decode_rounds)
        else:
            result = speed(args.model, flag[args.mmap], flag[args.repack])
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
