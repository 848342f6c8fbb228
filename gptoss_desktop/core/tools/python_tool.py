"""The python tool: one sandboxed, stateful Python kernel per conversation, as gpt-oss was trained to use.

`PythonSession.run(code)` runs a cell like a notebook (stdout, stderr, the last expression's value,
a traceback) and returns a `CellResult` with the text the model reads (`model_text`: head and tail,
a note of what was cut) beside the fuller output the window shows. The kernel is a separate
process (kernel.py) confined before it reads any code (docs/sandbox.md says how on each system);
nothing it sends is trusted: replies are bounded and checked, output is cut while it is read.
After a timeout the cell is interrupted; a kernel that does not stop, crashes or misbehaves is
killed with everything it started, and the next call gets a fresh one, with a note.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import launch, workspace
from .output import OutputReader, ProtocolError, ReplyReader, cut_for_model
from .workspace import WrittenFile

#: The time limit the model is told ("time out after 120.0 seconds").
DEFAULT_TIMEOUT = 120.0
RESTARTED = "The kernel was restarted; earlier state is lost."
_REPLY_LIMIT = 1 << 20


@dataclass(frozen=True)
class SandboxOptions:
    """Limits and choices for one session; the window's settings fill them in."""

    timeout: float = DEFAULT_TIMEOUT  #: wall-clock seconds per call
    memory: int = 2 << 30  #: bytes of address space per process (not enforced on macOS)
    processes: int = 64  #: processes and threads
    file_size: int = 1 << 30  #: bytes, largest file the code may write
    interpreter: Path | None = None  #: another Python (pandas, matplotlib); None: the app's own
    require_network_isolation: bool = True  #: False: run even where the network cannot be cut off
    window_output: int = 4 << 20  #: bytes of a cell's output kept for the window (head and tail)
    model_output: int = 4000  #: characters of a cell's result the model reads (head and tail)
    grace: float = 2.0  #: seconds an interrupted cell gets to stop before the kernel is killed
    start_timeout: float = 30.0
    landlock: bool = True  #: False only to test the fallback of kernels without it


@dataclass(frozen=True)
class Isolation:
    """What the sandbox applied, as the kernel reported it before any code ran."""

    platform: str
    network: str
    files: str
    processes: str
    user: str
    data_dir: str  #: the working folder as the code sees it (/mnt/data on Linux)
    tmp_dir: str
    python: str
    warnings: tuple[str, ...] = ()
    group: int | None = None  #: the kernel's process group, where it has no PID namespace

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "group"} | {"warnings": list(self.warnings)}


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


class SandboxUnavailableError(Exception):
    """The kernel could not start confined as asked; `reason` is for the person.

    `network_only`: it would start with `require_network_isolation=False` (the window may offer that).
    """

    def __init__(self, reason: str, network_only: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.network_only = network_only


@dataclass
class _Kernel:
    process: subprocess.Popen[bytes]
    requests: int
    output: OutputReader
    replies: ReplyReader
    isolation: Isolation | None = None
    job: Any = None
    stopped: bool = False
    calls: int = field(default=0)

    def send(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message) + "\n").encode()
        while data:
            data = data[os.write(self.requests, data) :]

    def dead(self) -> bool:
        return self.process.poll() is not None or self.replies.eof


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
        self._kernel: _Kernel | None = None
        self._lock = threading.Lock()
        self._closed = False

    def __enter__(self) -> PythonSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def isolation(self) -> Isolation | None:
        """What the running kernel applied (None before it started)."""
        return self._kernel.isolation if self._kernel is not None else None

    def start(self) -> Isolation:
        """Start the kernel now (the first `run` does otherwise). Raises SandboxUnavailableError."""
        with self._lock:
            kernel = self._running_kernel()
            assert kernel.isolation is not None
            return kernel.isolation

    def attach(self, files: Iterable[Path]) -> list[str]:
        """Put the person's files in the working folder; their names there (under `isolation.data_dir`)."""
        return workspace.attach(self.workdir, files)

    def stop(self) -> None:
        """Stop the call in progress (the person pressed Stop): interrupted, or the kernel killed."""
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
                self._kill(self._kernel)
                self._kernel = None
            if self._tmpdir is not None:
                shutil.rmtree(self._tmpdir, ignore_errors=True)
                self._tmpdir = None

    def run(self, code: str, timeout: float | None = None) -> CellResult:
        """Run one cell; `timeout` (seconds) replaces the session's limit for this call."""
        limit = timeout if timeout is not None else self.options.timeout
        with self._lock:
            if self._closed:
                raise RuntimeError("the session is closed")
            note = None
            if self._kernel is not None and self._kernel.dead():
                note = f"The kernel had stopped ({_ending(self._kill(self._kernel))}). {RESTARTED}"
                self._kernel = None
            kernel = self._running_kernel()
            before = workspace.snapshot(self.workdir)
            started = time.monotonic()
            result = self._call(kernel, code, limit)
            result["seconds"] = time.monotonic() - started
            result["files"] = workspace.written_since(self.workdir, before)
        if note:
            result["restarted"] = True
        return self._finish(result, note)

    def _call(self, kernel: _Kernel, code: str, limit: float) -> dict[str, Any]:
        """Send the cell, wait for its end (or interrupt, or kill), collect its output."""
        kernel.calls += 1
        marker = secrets.token_hex(16)
        with kernel.replies.condition:
            kernel.stopped = False
        kernel.output.begin(marker)
        with contextlib.suppress(OSError):  # the kernel is gone: the wait below sees the pipe closed
            kernel.send({"id": kernel.calls, "code": code, "marker": marker, "cpu": limit * launch.MAX_THREADS})
        how, reply = self._await(kernel, time.monotonic() + limit, stoppable=True)
        result: dict[str, Any] = {"timed_out": how == "timeout", "stopped": how == "stopped"}
        if how in ("timeout", "stopped"):
            self._interrupt(kernel)
            _kill_descendants(kernel.process.pid)
            how, reply = self._await(kernel, time.monotonic() + self.options.grace, stoppable=False)
            if how == "reply":
                what = f"Timed out after {limit:g} s" if result["timed_out"] else "Stopped"
                reply = {**reply, "error": f"{reply.get('error') or ''}{what}; the kernel's state is kept."}
            else:
                how = "timeout" if result["timed_out"] else "stopped"
        if how == "reply":
            if reply.get("runaway"):  # the process limit was hit: what the cell started goes
                _kill_descendants(kernel.process.pid)
            output = kernel.output.end(self.options.grace)
            return {**result, "value": reply.get("value"), "error": reply.get("error"), "output": output}
        exit_code = self._kill(kernel, wait=self.options.grace if how == "eof" else 0)
        self._kernel = None
        output = kernel.output.end(0)
        if how == "timeout":
            error = f"Timed out after {limit:g} s. {RESTARTED}"
        elif how == "stopped":
            error = f"Stopped. {RESTARTED}"
        elif how == "protocol":
            error = f"The kernel sent a reply the app cannot read ({reply.get('problem')}). {RESTARTED}"
        else:
            error = f"The kernel died ({_ending(exit_code)}). {RESTARTED}"
        return {**result, "value": None, "error": error, "output": output, "restarted": True, "exit": exit_code}

    def _await(self, kernel: _Kernel, deadline: float, stoppable: bool) -> tuple[str, dict[str, Any]]:
        """Wait for this call's reply: ("reply", reply), or ("timeout" | "stopped" | "eof" | "protocol", {...})."""
        with kernel.replies.condition:
            while True:
                while kernel.replies.replies:
                    reply = kernel.replies.replies.popleft()
                    if isinstance(reply, ProtocolError):
                        return "protocol", {"problem": str(reply)}
                    if reply.get("id") != kernel.calls:
                        continue  # a late answer to an interrupted call
                    problem = _check_reply(reply)
                    return ("protocol", {"problem": problem}) if problem else ("reply", reply)
                if kernel.replies.eof:
                    return "eof", {}
                if stoppable and kernel.stopped:
                    return "stopped", {}
                left = deadline - time.monotonic()
                if left <= 0:
                    return "timeout", {}
                kernel.replies.condition.wait(left)

    def _finish(self, result: dict[str, Any], note: str | None) -> CellResult:
        output = result.pop("output")
        text = output.text()
        parts = [note, text.rstrip("\n") or None, result.get("value"), (result.get("error") or "").rstrip("\n") or None]
        model_text = cut_for_model("\n".join(p for p in parts if p), self.options.model_output)
        return CellResult(output=text, model_text=model_text or "(no output)", output_bytes=output.total, **result)

    def _running_kernel(self) -> _Kernel:
        if self._kernel is None:
            self._kernel = self._spawn()
        return self._kernel

    def _spawn(self) -> _Kernel:
        """Start a kernel and wait for its report. Raises SandboxUnavailableError."""
        options = self.options
        if sys.platform == "win32" and options.require_network_isolation:
            raise SandboxUnavailableError(
                "Windows offers no way to cut a program off the network here", network_only=True
            )
        if self._tmpdir is None:
            self._tmpdir = Path(tempfile.mkdtemp(prefix="gptoss-python-")).resolve()
        command = launch.kernel_command(options.interpreter)
        if sys.platform == "darwin":
            from .sandbox_macos import wrap

            command = wrap(command, str(self.workdir), str(self._tmpdir), launch.python_roots(options.interpreter))
        requests_r, requests_w = os.pipe()
        replies_r, replies_w = os.pipe()
        output_r, output_w = os.pipe()
        extra: dict[str, Any] = {"start_new_session": True}
        if sys.platform == "win32":
            extra = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.CREATE_NO_WINDOW}
        try:
            process = subprocess.Popen(command, stdin=requests_r, stdout=replies_w, stderr=output_w, cwd=self.workdir,
                                       env=launch.kernel_environment(), **extra)  # fmt: skip
        except OSError as exc:
            for fd in (requests_r, requests_w, replies_r, replies_w, output_r, output_w):
                os.close(fd)
            raise SandboxUnavailableError(f"the Python kernel could not be started: {exc}") from exc
        for fd in (requests_r, replies_w, output_w):
            os.close(fd)
        kernel = _Kernel(process, requests_w, OutputReader(output_r, options.window_output),
                         ReplyReader(replies_r, _REPLY_LIMIT))  # fmt: skip
        kernel.output.start()
        kernel.replies.start()
        try:
            if sys.platform == "win32":
                from .sandbox_windows import Job

                kernel.job = Job(options.memory, options.processes)
                kernel.job.add(process.pid)
            kernel.send(self._config())
            kernel.isolation = self._ready(kernel)
        except BaseException:
            self._kill(kernel)
            raise
        return kernel

    def _config(self) -> dict[str, Any]:
        o, homes = self.options, {str(Path.home()), os.path.expanduser("~")}
        if sys.platform != "win32":
            import pwd

            with contextlib.suppress(KeyError):
                homes.add(pwd.getpwuid(os.getuid()).pw_dir)
        return {
            "app_pid": os.getpid(), "workdir": str(self.workdir), "tmpdir": str(self._tmpdir), "memory": o.memory,
            "processes": o.processes, "file_size": o.file_size, "landlock": o.landlock, "homes": sorted(homes),
            "require_network_isolation": o.require_network_isolation,
        }  # fmt: skip

    def _ready(self, kernel: _Kernel) -> Isolation:
        """The kernel's first message: what it applied, or why it refused."""
        how, message = self._await_first(kernel)
        if how == "reply" and isinstance(message.get("ready"), dict):
            return _isolation(message, str(self.workdir))
        if how == "reply" and isinstance(message.get("refused"), str):
            raise SandboxUnavailableError(message["refused"][:2000], network_only=True)
        if how == "reply" and isinstance(message.get("failed"), str):
            raise SandboxUnavailableError(f"the sandbox could not be set up: {message['failed'][:2000]}")
        said = kernel.output.text_so_far().strip()[-2000:]
        raise SandboxUnavailableError("the Python kernel did not start" + (f": {said}" if said else f" ({how})"))

    def _await_first(self, kernel: _Kernel) -> tuple[str, dict[str, Any]]:
        deadline = time.monotonic() + self.options.start_timeout
        with kernel.replies.condition:
            kernel.replies.condition.wait_for(
                lambda: kernel.replies.replies or kernel.replies.eof, max(0.0, deadline - time.monotonic())
            )
            if not kernel.replies.replies:
                return ("eof" if kernel.replies.eof else "timeout"), {}
            first = kernel.replies.replies.popleft()
        return ("protocol", {}) if isinstance(first, ProtocolError) else ("reply", first)

    def _interrupt(self, kernel: _Kernel) -> None:
        try:
            if sys.platform == "win32":
                kernel.process.send_signal(signal.CTRL_BREAK_EVENT)
            else:
                os.kill(kernel.process.pid, signal.SIGINT)
        except OSError:
            pass

    def _kill(self, kernel: _Kernel, wait: float = 0) -> int | None:
        """Kill the kernel and everything it started (after `wait` seconds to end by itself); how it ended."""
        group = kernel.isolation.group if kernel.isolation is not None else None
        with contextlib.suppress(subprocess.TimeoutExpired):
            kernel.process.wait(wait)
        if kernel.job is not None:
            kernel.job.kill()
        elif sys.platform != "win32":
            with contextlib.suppress(OSError):
                os.kill(kernel.process.pid, signal.SIGKILL)
            if group is not None:
                with contextlib.suppress(OSError):
                    os.killpg(group, signal.SIGKILL)
        else:
            kernel.process.kill()
        code = kernel.process.wait()
        if kernel.job is not None:
            kernel.job.close()
        with contextlib.suppress(OSError):
            os.close(kernel.requests)
        kernel.output.join(10)
        kernel.replies.join(10)
        return code


def _kill_descendants(supervisor: int) -> None:
    """End every process under the kernel, leaving the kernel (the supervisor's only child) alive.

    Linux, from /proc: what a timed-out cell started stops using the CPU at once, so the kernel gets
    to answer the interrupt in time (it reaps them; in a PID namespace it also kills them itself).
    """
    if sys.platform != "linux":
        return  # macOS: they end with the kernel's process group, when it is killed
    children: dict[int, list[int]] = {}
    for name in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError, IndexError, ValueError):
            parent = int(Path(f"/proc/{name}/stat").read_bytes().rsplit(b")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(name))
    pending = [grandchild for child in children.get(supervisor, []) for grandchild in children.get(child, [])]
    while pending:
        pid = pending.pop()
        pending += children.get(pid, [])
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _check_reply(reply: dict[str, Any]) -> str | None:
    for key in ("value", "error"):
        if reply.get(key) is not None and not isinstance(reply.get(key), str):
            return f'"{key}" is not text'
    return None if isinstance(reply.get("interrupted", False), bool) else '"interrupted" is not true or false'


def _isolation(message: dict[str, Any], workdir: str) -> Isolation:
    report: dict[str, Any] = message["ready"]

    def text(key: str, default: str = "unknown") -> str:
        value = report.get(key)
        return value[:500] if isinstance(value, str) else default

    warnings = report.get("warnings")
    group = report.get("group")
    python = message.get("python")
    return Isolation(
        platform=text("platform"), network=text("network", "not isolated"), files=text("files", "not isolated"),
        processes=text("processes"), user=text("user"), data_dir=text("data_dir", workdir),
        tmp_dir=text("tmp_dir"), python=python if isinstance(python, str) else "unknown",
        warnings=tuple(w[:500] for w in warnings if isinstance(w, str)) if isinstance(warnings, list) else (),
        group=group if isinstance(group, int) and group > 1 else None,
    )  # fmt: skip


def _ending(code: int | None) -> str:
    """How a kernel ended, in words."""
    if code is None:
        return "still running"
    if code >= 0:
        return f"exit code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    if -code == getattr(signal, "SIGKILL", 9):
        return f"killed by {name}, perhaps out of memory"
    if -code == getattr(signal, "SIGXCPU", 24):
        return f"{name}: out of CPU time"
    return f"killed by {name}"
