"""The python tool: one sandboxed, stateful Python kernel per conversation, as gpt-oss was trained to use.

`PythonSession.run(code)` runs a cell like a notebook (stdout, stderr, the last expression's value,
a traceback) and returns a `CellResult` with the text the model reads (`model_text`: head and tail,
a note of what was cut) beside the fuller output the window shows. The kernel is a separate
process (kernel.py) confined before it reads any code (docs/sandbox.md says how on each system);
nothing it sends is trusted (kernel_process.py). After a timeout the cell is interrupted; a kernel
that does not stop, crashes or misbehaves is killed with everything it started, and the next call
gets a fresh one, with a note the model reads.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import launch, workspace
from .kernel_process import DEFAULT_TIMEOUT, Isolation, KernelProcess, SandboxOptions, SandboxUnavailableError, ending
from .output import BoundedOutput, cut_for_model
from .workspace import WrittenFile

__all__ = [
    "DEFAULT_TIMEOUT", "RESTARTED", "CellResult", "Isolation", "PythonSession", "SandboxOptions",
    "SandboxUnavailableError", "WrittenFile",
]  # fmt: skip

RESTARTED = "The kernel was restarted; earlier state is lost."
INTERRUPT_AGAIN = 0.25  #: seconds between interrupts of a cell that goes on


@dataclass(frozen=True)
class CellResult:
    """One call of the tool."""

    output: str  #: stdout and stderr as written, for the window (cut with a note beyond `window_output`)
    value: str | None  #: repr of the last expression's value, as a notebook shows it
    error: str | None  #: the traceback, or what the sandbox did (timed out, stopped, crashed)
    model_text: str  #: what the model reads: note, output, value and error, head and tail within `model_output`
    timed_out: bool = False
    stopped: bool = False
    restarted: bool = False  #: the kernel's state was lost during or before this call
    exit: int | None = None  #: how the kernel process ended, when it did (negative: the signal)
    files: tuple[WrittenFile, ...] = ()  #: created or changed in the working folder
    seconds: float = 0.0
    output_bytes: int = 0  #: everything written, before any cut

    def to_json(self) -> dict[str, Any]:
        """The shape `gptoss-desktop tools python` prints."""
        return {
            "output": self.output, "value": self.value, "error": self.error, "timed_out": self.timed_out,
            "stopped": self.stopped, "restarted": self.restarted, "exit": self.exit,
            "files": [{"name": f.name, "path": str(f.path), "size": f.size} for f in self.files],
            "seconds": round(self.seconds, 3), "output_bytes": self.output_bytes, "model_text": self.model_text,
        }  # fmt: skip


class PythonSession:
    """One conversation's Python: a working folder and a kernel started on first use.

    `run` blocks the calling thread (the tool loop's) and serves one call at a time; `stop` and
    `close` may be called from any thread.
    """

    def __init__(self, workdir: Path, options: SandboxOptions | None = None) -> None:
        self.workdir = Path(workdir).resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.options = options or SandboxOptions()
        self._tmpdir: Path | None = None
        self._kernel: KernelProcess | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._stop = threading.Event()  # Stop for the call in progress or about to run, before its kernel exists

    def __enter__(self) -> PythonSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def isolation(self) -> Isolation | None:
        """What the running kernel applied (None before it started)."""
        kernel = self._kernel
        return kernel.isolation if kernel is not None else None

    def start(self) -> Isolation:
        """Start the kernel now (the first `run` does otherwise). Raises SandboxUnavailableError."""
        with self._lock:
            isolation = self._running_kernel().isolation
        assert isolation is not None
        return isolation

    def attach(self, files: Iterable[Path]) -> list[str]:
        """Put the person's files in the working folder, read-only; their names there (in `isolation.data_dir`)."""
        return workspace.attach(self.workdir, files)

    def stop(self) -> None:
        """Stop the call in progress (the person pressed Stop): interrupted, or the kernel killed."""
        self._stop.set()
        kernel = self._kernel
        if kernel is not None:
            with kernel.replies.condition:
                kernel.stopped = True
                kernel.replies.condition.notify_all()

    def close(self) -> None:
        """Stop any call, kill the kernel and everything it started, remove the temporary folder."""
        self._closed = True
        self.stop()
        with self._lock:
            if self._kernel is not None:
                self._kernel.kill()
                self._kernel = None
            if self._tmpdir is not None:
                shutil.rmtree(self._tmpdir, ignore_errors=True)
                self._tmpdir = None

    def run(self, code: str, timeout: float | None = None) -> CellResult:
        """Run one cell; `timeout` (seconds) replaces the session's limit for this call.

        Raises SandboxUnavailableError when a kernel cannot be started (the first call, or after a restart).
        """
        limit = timeout if timeout is not None else self.options.timeout
        with self._lock:
            if self._closed:
                raise RuntimeError("the session is closed")
            note = None
            if self._kernel is not None and self._kernel.dead():
                note = f"The kernel had stopped ({ending(self._kernel.kill())}). {RESTARTED}"
                self._kernel = None
            try:
                kernel = self._running_kernel()
                before = workspace.snapshot(self.workdir)
                started = time.monotonic()
                result = self._call(kernel, code, limit)
            finally:
                self._stop.clear()  # a Stop that came before this call (or during it) ends only this one
            result["seconds"] = time.monotonic() - started
            result["files"] = workspace.written_since(self.workdir, before)
        if note:
            result["restarted"] = True
        return self._finish(result, note)

    def _call(self, kernel: KernelProcess, code: str, limit: float) -> dict[str, Any]:
        """Send the cell, wait for its end (or interrupt it, or kill the kernel), collect its output."""
        if self._stop.is_set():  # Stop came before the code was sent (while the kernel started): it never runs
            return {"timed_out": False, "stopped": True, "value": None, "error": "Stopped before it ran.",
                    "output": BoundedOutput(0)}  # fmt: skip
        kernel.calls += 1
        marker = secrets.token_hex(16)
        with kernel.replies.condition:
            kernel.stopped = self._stop.is_set()  # Stop pressed just now: the wait below ends at once
        kernel.output.begin(marker)
        with contextlib.suppress(OSError):  # the kernel is gone: the wait below sees the pipe closed
            kernel.send({"id": kernel.calls, "code": code, "marker": marker, "cpu": limit * launch.MAX_THREADS})
        how, reply = kernel.wait_reply(time.monotonic() + limit, stoppable=True)
        result: dict[str, Any] = {"timed_out": how == "timeout", "stopped": how == "stopped"}
        if how in ("timeout", "stopped"):
            how, reply = self._interrupt(kernel)
            if how == "reply":
                what = f"Timed out after {limit:g} s" if result["timed_out"] else "Stopped"
                reply = {**reply, "error": f"{reply.get('error') or ''}{what}; the kernel's state is kept."}
            else:
                how = "timeout" if result["timed_out"] else "stopped"
        if how == "reply":
            if reply.get("runaway"):  # the process limit was hit: what the cell started goes
                kernel.kill_descendants()
            output = kernel.output.end(self.options.grace)
            return {**result, "value": reply.get("value"), "error": reply.get("error"), "output": output}
        exit_code = kernel.kill(wait=self.options.grace if how == "eof" else 0)
        self._kernel = None
        output = kernel.output.end(0)
        if how == "timeout":
            error = f"Timed out after {limit:g} s. {RESTARTED}"
        elif how == "stopped":
            error = f"Stopped. {RESTARTED}"
        elif how == "protocol":
            error = f"The kernel sent a reply the app cannot read ({reply.get('problem')}). {RESTARTED}"
        else:
            error = f"The kernel died ({ending(exit_code)}). {RESTARTED}"
        return {**result, "value": None, "error": error, "output": output, "restarted": True, "exit": exit_code}

    def _interrupt(self, kernel: KernelProcess) -> tuple[str, dict[str, Any]]:
        """Interrupt the cell until it stops or the grace period ends (as `wait_reply` says which).

        Again every quarter second: a KeyboardInterrupt that lands in a `__del__` (a file the cell
        just closed, say) is printed and dropped by Python, and the cell runs on.
        """
        end = time.monotonic() + self.options.grace
        while True:
            kernel.interrupt()
            how, reply = kernel.wait_reply(min(end, time.monotonic() + INTERRUPT_AGAIN), stoppable=False)
            if how != "timeout" or time.monotonic() >= end:
                return how, reply

    def _finish(self, result: dict[str, Any], note: str | None) -> CellResult:
        output: BoundedOutput = result.pop("output")
        text = output.text()
        parts = [note, text.rstrip("\n") or None, result.get("value"), (result.get("error") or "").rstrip("\n") or None]
        model_text = cut_for_model("\n".join(p for p in parts if p), self.options.model_output)
        return CellResult(output=text, model_text=model_text or "(no output)", output_bytes=output.total, **result)

    def _running_kernel(self) -> KernelProcess:
        if self._kernel is None:
            if self._tmpdir is None:
                self._tmpdir = Path(tempfile.mkdtemp(prefix="gptoss-python-")).resolve()
            self._kernel = KernelProcess.start(self.workdir, self._tmpdir, self.options)
        return self._kernel
