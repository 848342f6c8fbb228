"""The kernel process seen from the app: started, confined, asked, interrupted, killed.

Its pipes are read by threads of their own (output.py); nothing it says is trusted: its first
message says what isolation it applied (before any code ran, so that one is believed), later
replies are checked field by field, and anything else ends it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import launch
from .output import OutputReader, ProtocolError, ReplyReader

#: The time limit the model is told ("time out after 120.0 seconds").
DEFAULT_TIMEOUT = 120.0
_REPLY_LIMIT = 1 << 20


@dataclass(frozen=True)
class SandboxOptions:
    """Limits and choices for one session; the window's settings fill them in."""

    timeout: float = DEFAULT_TIMEOUT  #: wall-clock seconds per call
    memory: int = 2 << 30  #: bytes of address space per process (Windows: all together; macOS: not enforced)
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


class SandboxUnavailableError(Exception):
    """The kernel could not start confined as asked; `reason` is for the person.

    `network_only`: it would start with `require_network_isolation=False` (the window may offer that).
    """

    def __init__(self, reason: str, network_only: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.network_only = network_only


class KernelProcess:
    """One kernel: its process, its pipes and their readers. Used by one PythonSession, under its lock."""

    def __init__(self, process: subprocess.Popen[bytes], requests: int, output: OutputReader, replies: ReplyReader):
        self.process = process
        self.requests = requests
        self.output = output
        self.replies = replies
        self.isolation: Isolation | None = None
        self.job: Any = None  # Windows: the job object
        self.stopped = False  # set by `stop()` from any thread, under replies.condition
        self.calls = 0

    @classmethod
    def start(cls, workdir: Path, tmpdir: Path, options: SandboxOptions) -> KernelProcess:
        """Start a kernel and wait for its report. Raises SandboxUnavailableError."""
        if sys.platform == "win32" and options.require_network_isolation:
            raise SandboxUnavailableError("Windows offers no way to cut a program off the network here", True)
        command = launch.kernel_command(options.interpreter)
        if sys.platform == "darwin":
            from .sandbox_macos import wrap

            command = wrap(command, str(workdir), str(tmpdir), launch.python_roots(options.interpreter))
        requests_r, requests_w = os.pipe()
        replies_r, replies_w = os.pipe()
        output_r, output_w = os.pipe()
        extra: dict[str, Any] = {"start_new_session": True}  # Ctrl+C in a terminal is not for the kernel
        if sys.platform == "win32":
            extra = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.CREATE_NO_WINDOW}
        try:
            process = subprocess.Popen(command, stdin=requests_r, stdout=replies_w, stderr=output_w, cwd=workdir,
                                       env=launch.kernel_environment(), **extra)  # fmt: skip
        except OSError as exc:
            for fd in (requests_r, requests_w, replies_r, replies_w, output_r, output_w):
                os.close(fd)
            raise SandboxUnavailableError(f"the Python kernel could not be started: {exc}") from exc
        for fd in (requests_r, replies_w, output_w):
            os.close(fd)
        kernel = cls(process, requests_w, OutputReader(output_r, options.window_output),
                     ReplyReader(replies_r, _REPLY_LIMIT))  # fmt: skip
        kernel.output.start()
        kernel.replies.start()
        try:
            if sys.platform == "win32":
                from .sandbox_windows import Job

                kernel.job = Job(options.memory, options.processes)
                kernel.job.add(process.pid)
            kernel.send(_config(workdir, tmpdir, options))
            kernel.isolation = kernel._ready(str(workdir), options.start_timeout)
        except BaseException:
            kernel.kill()
            raise
        return kernel

    def send(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message) + "\n").encode()
        while data:
            data = data[os.write(self.requests, data) :]

    def dead(self) -> bool:
        return self.process.poll() is not None or self.replies.eof

    def wait_reply(self, deadline: float, stoppable: bool) -> tuple[str, dict[str, Any]]:
        """This call's reply: ("reply", reply), or ("timeout" | "stopped" | "eof" | "protocol", {...})."""
        with self.replies.condition:
            while True:
                while self.replies.replies:
                    reply = self.replies.replies.popleft()
                    if isinstance(reply, ProtocolError):
                        return "protocol", {"problem": str(reply)}
                    if reply.get("id") != self.calls:
                        continue  # a late answer to an interrupted call
                    problem = _check_reply(reply)
                    return ("protocol", {"problem": problem}) if problem else ("reply", reply)
                if self.replies.eof:
                    return "eof", {}
                if stoppable and self.stopped:
                    return "stopped", {}
                left = deadline - time.monotonic()
                if left <= 0:
                    return "timeout", {}
                self.replies.condition.wait(left)

    def _ready(self, workdir: str, timeout: float) -> Isolation:
        """The kernel's first message: what it applied, or why it refused."""
        with self.replies.condition:
            self.replies.condition.wait_for(lambda: self.replies.replies or self.replies.eof, timeout)
            first = self.replies.replies.popleft() if self.replies.replies else None
        if isinstance(first, dict) and isinstance(first.get("ready"), dict):
            return _isolation(first, workdir)
        if isinstance(first, dict) and isinstance(first.get("refused"), str):
            raise SandboxUnavailableError(first["refused"][:2000], network_only=True)
        if isinstance(first, dict) and isinstance(first.get("failed"), str):
            raise SandboxUnavailableError(f"the sandbox could not be set up: {first['failed'][:2000]}")
        said = self.output.text_so_far().strip()[-2000:]
        how = "it sent something else" if first is not None else "it ended" if self.replies.eof else "it took too long"
        raise SandboxUnavailableError("the Python kernel did not start" + (f": {said}" if said else f" ({how})"))

    def interrupt(self) -> None:
        """KeyboardInterrupt in the running cell; on Linux, whatever the cell started is ended too."""
        with contextlib.suppress(OSError):
            if sys.platform == "win32":
                self.process.send_signal(signal.CTRL_BREAK_EVENT)
            else:
                os.kill(self.process.pid, signal.SIGINT)
        self.kill_descendants()

    def kill(self, wait: float = 0) -> int | None:
        """Kill the kernel and everything it started (after `wait` seconds to end by itself); how it ended."""
        group = self.isolation.group if self.isolation is not None else None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(wait)
        if self.job is not None:
            self.job.kill()
        elif sys.platform != "win32":
            with contextlib.suppress(OSError):
                os.kill(self.process.pid, signal.SIGKILL)
            if group is not None:
                with contextlib.suppress(OSError):
                    os.killpg(group, signal.SIGKILL)
        else:
            self.process.kill()
        code = self.process.wait()
        if self.job is not None:
            self.job.close()
        with contextlib.suppress(OSError):
            os.close(self.requests)
        self.output.join(10)
        self.replies.join(10)
        return code

    def kill_descendants(self) -> None:
        """End every process under the kernel, leaving the kernel (the supervisor's only child) alive.

        Linux, from /proc: what a timed-out cell started stops using the CPU at once, so the kernel gets
        to answer the interrupt in time (it reaps them; in a PID namespace it also kills them itself).
        """
        if sys.platform != "linux":
            return  # macOS: they end with the kernel's process group, when it is killed
        supervisor = self.process.pid
        for _ in range(100):  # again, until a look finds none running: a fork bomb forks while it is killed
            children: dict[int, list[int]] = {}
            for name in filter(str.isdigit, os.listdir("/proc")):
                with contextlib.suppress(OSError, IndexError, ValueError):
                    fields = Path(f"/proc/{name}/stat").read_bytes().rsplit(b")", 1)[1].split()
                    if fields[0] != b"Z":
                        children.setdefault(int(fields[1]), []).append(int(name))
            pending = [grandchild for child in children.get(supervisor, []) for grandchild in children.get(child, [])]
            if not pending:
                return
            while pending:
                pid = pending.pop()
                pending += children.get(pid, [])
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)


def _config(workdir: Path, tmpdir: Path, o: SandboxOptions) -> dict[str, Any]:
    """The kernel's first line: where it works, its limits, and where the homes to hide are."""
    homes = {str(Path.home()), os.path.expanduser("~")}
    if sys.platform != "win32":
        import pwd

        with contextlib.suppress(KeyError):
            homes.add(pwd.getpwuid(os.getuid()).pw_dir)
    return {
        "app_pid": os.getpid(), "workdir": str(workdir), "tmpdir": str(tmpdir), "memory": o.memory,
        "processes": o.processes, "file_size": o.file_size, "landlock": o.landlock, "homes": sorted(homes),
        "require_network_isolation": o.require_network_isolation,
    }  # fmt: skip


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


def ending(code: int | None) -> str:
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
