"""Rendering cost of a long streamed answer in the real chat view: GUI stalls and cost per token.

    python bench/render.py [--empty] [--curve]      (from the repo root, in the project's environment)

About 20k tokens of generated mixed Markdown (prose, lists, tables, quotes, code
blocks in several languages) go into `ChatView`'s assistant turn the way the
ChatService delivers them: one batch of tokens per 33 ms frame, driven by a timer
in the real event loop, the view shown at 920x760, offscreen, below an earlier exchange
that fills the window (--empty: start from an empty conversation). Measured:
- GUI stalls: a 5 ms probe timer's lateness (p99 and max);
- render cost per token: the GUI thread's CPU time between frames (update, layout,
  paint: all the work a frame caused) over the frame's tokens, for the first and the
  last 1k tokens, and their ratio (--curve: for every 1k); plus the time inside
  `append_answer` alone.
One-time costs are paid before measuring, as the app pays them while idle (LexerWarmUp
compiles the common lexers' regular expressions) or on its first answer.
Targets: p99 stall <= 16 ms, max stall <= 50 ms, last/first ratio <= 1.5.
The last line reads `render p99_stall_ms=S max_stall_ms=S last_first_ratio=R`.

`mixed_markdown` is also the answer the view's flat-cost test streams.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TOKENS = 20_000
TOKENS_PER_FRAME = 20
FRAME_MS = 33
PROBE_MS = 5
WINDOW = 1_000  # tokens at each end compared
PERIOD_SECTIONS = 8

_WORDS = (
    "model", "token", "cache", "layer", "stream", "answer", "window", "render", "block", "thread", "memory",
    "context", "prompt", "value", "result", "vector", "matrix", "kernel", "expert", "weight", "buffer", "queue",
    "signal", "widget", "layout", "table",
)  # fmt: skip
_CODE = {
    "python": (
        "def {a}({b}: int) -> int:",
        "    {a}_total = {b} * {n}",
        '    print(f"{a} {{ {b} }}")',
        "    return {a}_total  # {w}",
        "class {A}:",
        '    name = "{w}"',
        "for {b} in range({n}):",
        "    yield {b}",
    ),
    "javascript": (
        "function {a}({b}) {{",
        "  const {a}Total = {b} * {n};",
        "  return `{w} ${{{b}}}`;",
        "}}",
        "let {b} = [{n}, {n}, {n}].map((x) => x + 1);",
    ),
    "bash": ("for {b} in $(seq {n}); do", '  echo "{w} ${b}"', "done", "export {A}={n}  # {w}"),
    "json": ('{{"{a}": {n},', ' "{b}": "{w}",', ' "list": [{n}, true, null]}}'),
    "rust": ("fn {a}({b}: u32) -> u32 {{", '    println!("{w} {{}}", {b});', "    {b} * {n}", "}}"),
    "": ("{w} {a} {b} {n}", "  {A} -> {w}"),
}


def _words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(count))


def _prose(rng: random.Random) -> str:
    words = _words(rng, rng.randint(30, 70)).split()
    words[rng.randrange(len(words))] = f"**{rng.choice(_WORDS)}**"
    words[rng.randrange(len(words))] = f"`{rng.choice(_WORDS)}()`"
    words[rng.randrange(len(words))] = f"[{rng.choice(_WORDS)}](https://example.com/{rng.randint(1, 999)})"
    return " ".join(words).capitalize() + "."


def _code(rng: random.Random) -> str:
    language = rng.choice(sorted(_CODE))
    lines = []
    for _ in range(rng.randint(4, 14)):
        a, b, w = rng.choice(_WORDS), rng.choice(_WORDS), _words(rng, 2)
        template = rng.choice(_CODE[language])
        lines.append(template.format(a=a, b=b, w=w, A=a.capitalize(), n=rng.randint(2, 99)))
    return f"```{language}\n" + "\n".join(lines) + "\n```"


def _extra(rng: random.Random, kind: int) -> str:
    if kind == 0:
        return "\n".join(f"- {_words(rng, rng.randint(3, 9))}" for _ in range(rng.randint(3, 6)))
    if kind == 1:
        return "\n".join(f"{i}. {_words(rng, rng.randint(3, 9))}" for i in range(1, rng.randint(4, 7)))
    if kind == 2:
        rows = [f"| {_words(rng, 1)} | {rng.randint(1, 999)} | {_words(rng, 3)} |" for _ in range(rng.randint(3, 6))]
        return "| name | count | note |\n|---|---:|---|\n" + "\n".join(rows)
    return f"> {_words(rng, rng.randint(10, 25))}"


def _period(seed: int) -> list[str]:
    """One period of the answer: 8 sections, each heading, prose, a list/table/quote, prose and code, as tokens."""
    tokens: list[str] = []
    for section in range(1, PERIOD_SECTIONS + 1):
        rng = random.Random(seed * 1_000 + section)
        blocks = [f"## Section {section}: {_words(rng, 3)}", _prose(rng), _extra(rng, section % 4), _prose(rng)]
        text = "\n\n".join([*blocks, _code(rng)]) + "\n\n"
        start = 0
        while start < len(text):
            step = rng.choice((3, 4))
            tokens.append(text[start : start + step])
            start += step
    # Whole frames per period, so every repeat is cut into frames the same way.
    while len(tokens) % TOKENS_PER_FRAME:
        index = next(i for i, token in enumerate(tokens) if len(token) == 4)
        tokens[index : index + 1] = [tokens[index][:2], tokens[index][2:]]
    return tokens


def mixed_markdown(tokens: int = TOKENS, seed: int = 0) -> list[str]:
    """A deterministic Markdown answer of about `tokens` tokens of 3-4 characters, like a model's.

    It repeats one period of sections, and a long answer is cut at whole periods plus
    WINDOW tokens: its last 1k tokens are its first 1k again, so comparing their cost
    shows only what the answer's length adds, not what the text in each window happens to be.
    """
    period = _period(seed)
    count = tokens
    if tokens >= len(period) + WINDOW:
        count = round((tokens - WINDOW) / len(period)) * len(period) + WINDOW
    return [period[i % len(period)] for i in range(count)]


def main() -> None:
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from gptoss_desktop.ui.app import settle_garbage_collector
    from gptoss_desktop.ui.chat.chat_view import ChatView
    from gptoss_desktop.ui.chat.code_highlight import COMMON_LANGUAGES, warm_up_lexer
    from gptoss_desktop.ui.chat.markdown_view import StreamingMarkdownView
    from gptoss_desktop.ui.style import apply_style

    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    apply_style(app)
    tokens = mixed_markdown()
    # What the app pays once while idle (LexerWarmUp) or on its first answer stays out of the first 1k.
    for language in COMMON_LANGUAGES:
        warm_up_lexer(language)
    warm = StreamingMarkdownView()
    warm.append_text("".join(mixed_markdown(600, seed=1)))
    warm.finish()
    warm.deleteLater()

    view = ChatView()
    view.resize(920, 760)
    view.show()
    if "--empty" not in sys.argv:
        # An earlier exchange fills the window, so the first 1k tokens pay the same full-window
        # repaint per frame as the last (from an empty window they paint less until it fills).
        view.add_user_message("An earlier question.")
        earlier = view.add_assistant_turn(show_reasoning=True)
        earlier.append_answer("".join(mixed_markdown(1_500, seed=2)))
        earlier.finish(None)
    view.add_user_message("Write a long answer with code, lists and tables.")
    turn = view.add_assistant_turn(show_reasoning=True)
    settle_garbage_collector()  # as run_app does once the window is up
    loop = QEventLoop()
    frames: list[tuple[int, float, float]] = []  # (tokens in frame, seconds in append_answer, GUI CPU at start)
    stalls: list[float] = []
    probe, clock, ticker = QTimer(), QElapsedTimer(), QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    position = [0]

    def on_probe() -> None:
        stalls.append(max(0.0, clock.restart() - PROBE_MS))

    def on_frame() -> None:
        if position[0] >= len(tokens):
            frames.append((0, 0.0, time.thread_time()))
            ticker.stop()
            turn.finish(None)
            QTimer.singleShot(200, loop.quit)
            return
        batch = tokens[position[0] : position[0] + TOKENS_PER_FRAME]
        position[0] += len(batch)
        cpu = time.thread_time()
        start = time.perf_counter()
        turn.append_answer("".join(batch))
        frames.append((len(batch), time.perf_counter() - start, cpu))

    probe.timeout.connect(on_probe)
    ticker.timeout.connect(on_frame)
    probe.start(PROBE_MS)
    clock.start()
    ticker.start(FRAME_MS)
    loop.exec()
    probe.stop()
    view.close()

    # A frame's cost: GUI-thread CPU from its start to the next frame's (its layout and paint included).
    costs = [(n, append, frames[i + 1][2] - cpu) for i, (n, append, cpu) in enumerate(frames[:-1])]
    first, last = costs[: WINDOW // TOKENS_PER_FRAME], costs[-WINDOW // TOKENS_PER_FRAME :]

    def per_token_ms(window: list[tuple[int, float, float]], column: int) -> float:
        return 1000 * sum(row[column] for row in window) / sum(row[0] for row in window)

    first_cpu, last_cpu = per_token_ms(first, 2), per_token_ms(last, 2)
    first_append, last_append = per_token_ms(first, 1), per_token_ms(last, 1)
    if "--curve" in sys.argv:
        step = WINDOW // TOKENS_PER_FRAME
        for k in range(0, len(costs), step):
            print(f"  tokens {k * TOKENS_PER_FRAME:6d}+: {per_token_ms(costs[k : k + step], 2):.3f} ms per token")
    stalls.sort()
    p99 = stalls[int(0.99 * (len(stalls) - 1))]
    ratio = last_cpu / first_cpu
    answer = turn.answer
    print(
        f"tokens={len(tokens)} chars={len(answer.markdown_source())} frames={len(costs)} "
        f"code_blocks={len(answer.code_blocks())} document_blocks={answer.document().blockCount()}"
    )
    print(
        f"per token, GUI CPU:      first 1k {first_cpu:.3f} ms  last 1k {last_cpu:.3f} ms  ratio {ratio:.2f}"
        f"  (median frame {1000 * statistics.median(c[2] for c in costs):.2f} ms)"
    )
    print(
        f"per token, append only:  first 1k {first_append:.3f} ms  last 1k {last_append:.3f} ms  "
        f"ratio {last_append / first_append:.2f}"
    )
    print(f"stalls ({len(stalls)} probes of {PROBE_MS} ms): p50 {stalls[len(stalls) // 2]:.1f} ms  p99 {p99:.1f} ms")
    print(f"  max {stalls[-1]:.1f} ms  (targets: p99 <= 16, max <= 50, ratio <= 1.5)")
    print(f"render p99_stall_ms={p99:.1f} max_stall_ms={stalls[-1]:.1f} last_first_ratio={ratio:.2f}")


if __name__ == "__main__":
    main()
