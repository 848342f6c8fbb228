"""An answer's tool steps: what the model called, what came back, and where in its reasoning it happened.

A step remembers the length its answer's reasoning had when the call was made (`at`), so the
reasoning and the steps can be shown, stored and exported in the order they happened without the
reasoning text holding any mark of them. Steps are frozen: the transcript replaces one when its
result comes, and a snapshot can go to the storage thread as it is.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..events import ToolFile

#: How a step ended, as ToolResult says; "running" until it has (and "waiting" while the person decides).
STEP_STATUSES = ("running", "waiting", "done", "error", "declined", "stopped", "refused")


@dataclass(frozen=True)
class ToolStep:
    """One tool call of an answer and its result."""

    recipient: str  # "python", "browser.search", …
    arguments: str  # the code or JSON as the model wrote it
    at: int  # the answer's reasoning had this many characters when the call was made
    summary: str = ""  # "Ran Python · 0.4 s"; "" until the result came
    output: str = ""  # what the window shows of the result
    model_text: str = ""  # what the model read
    status: str = "running"
    seconds: float = 0.0
    files: tuple[ToolFile, ...] = ()

    @property
    def finished(self) -> bool:
        """True once the result came (or the step was cut short)."""
        return self.status not in ("running", "waiting")

    @property
    def tool_name(self) -> str:
        """The tool as people call it: "Python", "the browser", or the function's name."""
        namespace = self.recipient.split(".", 1)[0]
        return {"python": "Python", "browser": "the browser"}.get(namespace, self.recipient.removeprefix("functions."))

    def cut_short(self) -> ToolStep:
        """The step as it stays when its answer ended before the result came (stopped, the app closed)."""
        if self.finished:
            return self
        name = self.tool_name
        return replace(self, summary=f"{name[:1].upper()}{name[1:]}: stopped", status="stopped")


def interleaved(reasoning: str, steps: Sequence[ToolStep]) -> list[str | ToolStep]:
    """The reasoning cut where each step happened, the steps in between, in order; no empty text parts.

    An `at` beyond the reasoning (a damaged row) puts the step at the end; steps keep their own order.
    """
    parts: list[str | ToolStep] = []
    start = 0
    for step in steps:
        cut = min(max(step.at, start), len(reasoning))
        if cut > start:
            parts.append(reasoning[start:cut])
        parts.append(step)
        start = cut
    if start < len(reasoning):
        parts.append(reasoning[start:])
    return parts


def files_to_json(files: Sequence[ToolFile]) -> str:
    """The files a step wrote, as a database column holds them."""
    return json.dumps([{"name": f.name, "path": f.path, "size": f.size} for f in files], ensure_ascii=False)


def files_from_json(text: str | None) -> tuple[ToolFile, ...]:
    """What files_to_json wrote; anything damaged is left out rather than failing the conversation."""
    try:
        raw = json.loads(text or "[]")
    except (ValueError, TypeError):
        return ()
    if not isinstance(raw, list):
        return ()
    files = []
    for item in raw:
        if isinstance(item, dict):
            name, path, size = item.get("name"), item.get("path"), item.get("size")
            if isinstance(name, str) and isinstance(path, str) and type(size) is int and size >= 0:
                files.append(ToolFile(name, path, size))
    return tuple(files)


def step_from_row(row: Sequence[Any]) -> ToolStep:
    """A step as the store reads it: at, recipient, arguments, summary, output, model_text, status, seconds, files.

    A step stored while it ran (the app closed) comes back cut short; unknown values get defaults.
    """
    at, recipient, arguments, summary, output, model_text, status, seconds, files = row
    seconds = float(seconds) if isinstance(seconds, int | float) and math.isfinite(seconds) and seconds >= 0 else 0.0
    step = ToolStep(
        recipient=str(recipient or ""),
        arguments=str(arguments or ""),
        at=int(at) if isinstance(at, int) and at >= 0 else 0,
        summary=str(summary or ""),
        output=str(output or ""),
        model_text=str(model_text or ""),
        status=status if status in STEP_STATUSES else "error",
        seconds=seconds,
        files=files_from_json(files),
    )
    return step.cut_short()
