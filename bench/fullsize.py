"""gpt-oss-20b at full size, on the stand-in: memory against the planner, and speed, in one run.

    python bench/fullsize.py [--model GGUF] [--contexts 4096,8192,16384,32768]

The stand-in (tools/gptoss_standin.py: the real architecture, tensor types and tokenizer, made-up
weights) is written to ~/.cache/gptoss-desktop/standin/ first if it is not there (about a minute).
Every load runs in a child process (bench/fullsize_probe.py), one at a time, and only when the
machine has the memory free: 12 GB of weights must never push the other work here into swap.

Memory: at each context the app's engine loads the model, evaluates a ~380-token prompt and
generates 16 tokens; the process's resident memory (anonymous and mapped) is compared with the
planner's prediction. Speed: load time, prefill tokens/s, the follow-up turn after a
~2,000-token first turn (tokens evaluated against tokens new since the first prompt), the
decode tokens/s of the app's whole pipeline (engine, worker thread, real window offscreen)
against the raw llama-cpp-python loop on the same loaded model, and the sampler's time per token
over the 201,088-entry vocabulary. The last line reads
`fullsize ratio=R decode_tps=T prefill_tps=P plan_error_pct=E`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gptoss_desktop.core.local.machine import read_machine  # noqa: E402
from tools.gptoss_standin import write_standin  # noqa: E402

DEFAULT_MODEL = Path.home() / ".cache" / "gptoss-desktop" / "standin" / "gpt-oss-20b-standin.gguf"
GIB = 1 << 30
NEEDED_FREE = 16 * GIB  # the ~13 GB a load holds, and room for everything else on the machine


def probe(*args: str) -> dict[str, Any]:
    """Run one measurement in a child and return its JSON line."""
    available = read_machine().available_ram or 0
    if available < NEEDED_FREE:
        raise SystemExit(f"only {available / GIB:.1f} GB of memory is free; a full-size load needs 16")
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "fullsize_probe.py"), *args],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
        cwd=ROOT,
    )
    if result.returncode != 0:
        raise SystemExit(f"probe {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def memory_table(model: Path, contexts: list[int]) -> float:
    """Print predicted against measured memory per context; returns the largest error in per cent."""
    print(
        f"{'context':>8} {'planned':>9} {'measured':>9} {'anon':>7} {'mapped':>7} {'error':>7}  llama.cpp buffers (MiB)"
    )
    errors = []
    for ctx in contexts:
        m = probe("memory", str(model), "--ctx", str(ctx))
        planned, held = m["plan"]["resident"], m["after_generation"]["VmRSS"]
        error = (planned - held) / held * 100
        errors.append(error)
        buffers = ", ".join(f"{name} {kind} {size:.0f}" for name, kind, size in m["buffers_mib"])
        print(
            f"{ctx:>8} {planned / GIB:>7.2f}GB {held / GIB:>7.2f}GB {m['after_generation']['RssAnon'] / GIB:>6.2f}G "
            f"{m['after_generation']['RssFile'] / GIB:>6.2f}G {error:>+6.1f}%  {buffers}  (load {m['load_s']} s)"
        )
    return max(errors, key=abs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--contexts", default="4096,8192,16384,32768")
    args = parser.parse_args()
    if not args.model.exists():
        print(f"writing the stand-in to {args.model} ...", flush=True)
        write_standin(args.model)
    contexts = [int(c) for c in args.contexts.split(",")]
    plan_error = memory_table(args.model, contexts)
    s = probe("speed", str(args.model))
    decode = statistics.median(s["decode_app_tps"])
    print(f"load {s['load_s']} s")
    print(f"prefill {s['first_prompt_tokens']} tokens at {s['prefill_tps']} tok/s")
    print(
        f"follow-up: prompt {s['followup_prompt_tokens']} tokens, {s['followup_new_tokens']} new since the first "
        f"prompt, {s['followup_evaluated']} evaluated"
    )
    print(
        f"decode raw {s['decode_raw_tps']} app {s['decode_app_tps']} (engine alone {s['decode_engine_tps']}, "
        f"service without a window {s['decode_service_tps']}) tok/s, ratio {s['ratio']} (median of {s['ratios']}; "
        f"engine alone {s['engine_ratio']}, service {s['service_ratio']})"
    )
    gui = [round(threads.get("gui", 0.0), 1) for threads in s["window_cpu_ms_per_token"]]
    print(f"window's GUI thread: {gui} ms of CPU per token")
    print(f"sampler over {s['n_vocab']} tokens: {s['sample_ms']} ms per token")
    print(
        f"fullsize ratio={s['ratio']:.3f} decode_tps={decode:.2f} prefill_tps={s['prefill_tps']:.2f} "
        f"plan_error_pct={plan_error:+.1f}"
    )


if __name__ == "__main__":
    main()
