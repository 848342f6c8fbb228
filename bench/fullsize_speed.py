"""Speed on the full-size stand-in, one load (run in a child by bench/fullsize.py through fullsize_probe.py).

- load: seconds until the engine is ready;
- prefill: a first turn carrying a ~2,000-token document, tokens/s of prompt evaluation;
- follow-up: the next turn after it; how many tokens llama.cpp evaluated against the tokens
  that are new since the first prompt (the reply as history renders it, and the question);
- decode: the app's whole pipeline (engine, harmony parser, worker thread, batched updates into
  the real window's widgets, offscreen) against the raw llama-cpp-python loop on the same loaded
  model, prompt and seed, in alternating rounds; the engine alone, and the service with its worker
  thread but no window, are timed too;
- per token work that grows with the vocabulary: the sampler over all 201,088 candidates,
  timed alone.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from bench.fullsize_probe import conversation, load_overrides, run
from gptoss_desktop.core.engine import ChatRequest
from gptoss_desktop.core.events import Done
from gptoss_desktop.core.harmony import Conversation, Message
from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.sampling import SamplingParams

CONTEXT = 4096
#: Long enough that the turn's start (widgets, history) is not what is timed.
DECODE_TOKENS = 64
ROUNDS = 3


def _raw_decode(engine: LocalEngine, prompt: list[int], seed: int) -> float:
    """Tokens/s of the bare loop after the first token (the prompt is already cached)."""
    llama = engine._llama
    llama.set_seed(seed)
    times = []
    generator = llama.generate(prompt, top_k=0, top_p=1.0, min_p=0.0, temp=1.0, repeat_penalty=1.0)
    for _token in generator:
        times.append(time.perf_counter())
        if len(times) >= DECODE_TOKENS:
            break
    generator.close()
    return (len(times) - 1) / (times[-1] - times[0])


def _app_decode(engine: LocalEngine, conv: Conversation, seed: int) -> float:
    done = run(engine, conv, max_tokens=DECODE_TOKENS, seed=seed)
    return (done.stats.completion_tokens - 1) / done.stats.generation_seconds


def _vocabulary_work(engine: LocalEngine) -> dict[str, float]:
    """Milliseconds per token of sampling over the whole 201,088-entry logits row (llama.cpp's sampler).

    llama-cpp-python 0.3.36 samples inside llama.cpp and copies no logits to Python unless
    logits_all is on; its `scores` array (n_batch x n_vocab floats, 393 MiB) is allocated but
    never touched, so it stays virtual. What is left per token is the sampler itself.
    """
    llama = engine._llama
    start = time.perf_counter()
    for _ in range(20):
        llama.sample(top_k=0, top_p=1.0, min_p=0.0, temp=1.0, repeat_penalty=1.0)
    sample_ms = (time.perf_counter() - start) / 20 * 1000
    return {"n_vocab": llama.n_vocab(), "sample_ms": round(sample_ms, 3)}


def speed(model: Path, mmap: bool | None, repack: bool | None, rounds: int = ROUNDS) -> dict[str, Any]:
    start = time.perf_counter()
    with load_overrides(mmap, repack):
        engine = LocalEngine(model, context_size=CONTEXT)
    load_s = time.perf_counter() - start
    result: dict[str, Any] = {"load_s": round(load_s, 1)}
    if rounds == ROUNDS:
        result.update(_long_turns(engine))
    result.update(_decode(engine, rounds))
    return result


def _long_turns(engine: LocalEngine) -> dict[str, Any]:
    """Prefill of a ~2,000-token first turn, then what the follow-up turn evaluates."""
    first = conversation(40, "What did the committee decide?")
    first_prompt = engine.prompt_ids(first)
    done = run(engine, first, max_tokens=8)
    prefill_tps = done.stats.prompt_tokens_evaluated / done.stats.prefill_seconds
    reply = "The committee reviewed the figures."
    follow = Conversation(
        messages=(*first.messages, Message("assistant", reply), Message("user", "And the costs?")),
        date=first.date,
    )
    follow_prompt = engine.prompt_ids(follow)
    follow_done: Done | None = None
    for event in engine.generate(ChatRequest(follow, SamplingParams(max_tokens=4, seed=2))):
        if isinstance(event, Done):
            follow_done = event
    assert follow_done is not None
    return {
        "first_prompt_tokens": len(first_prompt),
        "prefill_tps": round(prefill_tps, 2),
        "followup_prompt_tokens": len(follow_prompt),
        "followup_new_tokens": len(follow_prompt) - len(first_prompt) + 1,  # and <|start|>assistant's
        "followup_evaluated": follow_done.stats.prompt_tokens_evaluated,
    }


def _decode(engine: LocalEngine, rounds: int) -> dict[str, Any]:
    """Alternating rounds: the raw loop, the whole app pipeline, the engine alone; then the sampler's cost."""
    short = conversation(1, "Say hi.")
    prompt = engine.prompt_ids(short)
    run(engine, short, max_tokens=1)  # cache the prompt for both loops
    vocabulary_work = _vocabulary_work(engine)
    from bench.fullsize_window import ServicePipeline, WindowPipeline

    window = WindowPipeline(engine)
    service = ServicePipeline(engine)
    raw, app, core, headless, cpu = [], [], [], [], []
    for round_ in range(rounds):
        seed = 10 + round_
        raw.append(_raw_decode(engine, prompt, seed=seed))
        tps, threads = window.decode(short, DECODE_TOKENS, seed=seed)
        app.append(tps)
        cpu.append(threads)
        core.append(_app_decode(engine, short, seed=seed))
        headless.append(service.decode(short, DECODE_TOKENS, seed=seed))
    service.close()
    window.close()
    ratios = [a / r for a, r in zip(app, raw, strict=True)]
    result = {
        "decode_raw_tps": [round(x, 2) for x in raw],
        "decode_app_tps": [round(x, 2) for x in app],
        "decode_engine_tps": [round(x, 2) for x in core],
        "decode_service_tps": [round(x, 2) for x in headless],
        "ratio": round(statistics.median(ratios), 3),
        "ratios": [round(x, 3) for x in ratios],
        "engine_ratio": round(statistics.median(c / r for c, r in zip(core, raw, strict=True)), 3),
        "service_ratio": round(statistics.median(h / r for h, r in zip(headless, raw, strict=True)), 3),
        "window_cpu_ms_per_token": cpu,
    }
    result.update(vocabulary_work)
    return result
