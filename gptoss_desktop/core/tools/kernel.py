"""The sandbox's Python kernel: runs cells like a notebook, one long-lived process per conversation.

Protocol (JSON lines): the app writes the configuration, then one request per cell, on the kernel's
stdin; the kernel answers on its stdout, first `{"ready": {...}}` (what isolation it applied) or
`{"refused": reason}` / `{"failed": reason}`, then one reply per cell. Everything the code prints
(and what its subprocesses write) goes to the kernel's stderr pipe, which the app reads as the
cell's output; a marker the app chose ends each cell's output there.

Started as `python -I -B kernel.py` (any Python 3.9+, stdlib only, e.g. another interpreter with
pandas), or by the frozen app's hidden mode. The sandbox is applied before the first cell is read.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import errno
import gc
import importlib
import io
import json
import linecache
import os
import signal
import sys
import traceback
from types import ModuleType
from typing import Any

#: Cut a reply's value and traceback here; the app bounds what it reads anyway.
MAX_TEXT = 64 * 1024


class Kernel:
    """The cell loop of the kernel process (its only thread, besides any the code starts)."""

    def __init__(self, requests: io.BufferedReader, replies: int, output: int, limits: dict[str, Any]) -> None:
        self.requests = requests
        self.replies = replies
        self.output = output
        self.limits = limits
        self.pid = os.getpid()
        self.running = False
        self.signalled = False
        self.count = 0
        self.namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
        if sys.platform != "win32":
            os.register_at_fork(after_in_child=self._forked)
        interrupt = getattr(signal, "SIGBREAK", signal.SIGINT)  # Windows: CTRL_BREAK_EVENT
        signal.signal(interrupt, self._interrupted)
        if interrupt != signal.SIGINT:
            signal.signal(signal.SIGINT, self._interrupted)

    def _interrupted(self, signum: int, frame: object) -> None:
        if self.running:
            self.signalled = True
            raise KeyboardInterrupt

    def _forked(self) -> None:
        """A process the code forked holds no end of the protocol."""
        for fd in (self.requests.fileno(), self.replies):
            with contextlib.suppress(OSError):
                os.close(fd)

    def send(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message) + "\n").encode()
        while data:
            data = data[os.write(self.replies, data) :]

    def serve(self) -> None:
        """Answer cells until the app closes the requests pipe."""
        while True:
            line = self.requests.readline()
            if not line:
                return
            request = json.loads(line)
            self.count += 1
            self._cpu_budget(float(request.get("cpu", 0)))
            _reap_strays()  # what ended since the last cell holds no process slot in this one
            reply = self.run(str(request["code"]))
            if os.getpid() != self.pid:  # a process the code forked came back here: it is done
                _flush()
                os._exit(0)
            _flush()
            _reap_strays()
            marker = str(request["marker"]).encode()
            os.write(self.output, b"\x00" + marker + b"\x00")
            reply["id"] = request["id"]
            self.send(reply)

    def run(self, code: str) -> dict[str, Any]:
        """One cell: statements, then the last expression's value; a traceback for what it raised."""
        filename = f"<cell {self.count}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        try:
            tree = ast.parse(code, filename, "exec")
        except (SyntaxError, ValueError) as exc:
            return {"value": None, "error": _cut("".join(traceback.format_exception_only(type(exc), exc)))}
        last = None
        tail = tree.body[-1] if tree.body else None
        if isinstance(tail, ast.Expr):
            last = ast.Expression(tail.value)
            tree.body.pop()
        try:
            self.running, self.signalled = True, False
            try:
                exec(compile(tree, filename, "exec"), self.namespace)
                value = eval(compile(last, filename, "eval"), self.namespace) if last is not None else None
            finally:
                self.running = False
        except KeyboardInterrupt as exc:
            if self.signalled:  # the app interrupted the cell (timeout, Stop): what the cell started goes too
                _stop_others()
            return {"value": None, "error": self._traceback(exc), "interrupted": self.signalled}
        except BaseException as exc:  # the code's exceptions, SystemExit included, end the cell only
            if _out_of_processes(exc):  # a fork bomb: end it here, not in the next cell
                _stop_others()
                return {"value": None, "error": self._traceback(exc), "runaway": True}
            return {"value": None, "error": self._traceback(exc)}
        if value is None:
            return {"value": None, "error": None}
        self.namespace["_"] = value
        try:
            return {"value": _cut(repr(value)), "error": None}
        except BaseException as exc:  # a __repr__ that raises
            return {"value": None, "error": self._traceback(exc)}

    def _traceback(self, exc: BaseException) -> str:
        """The traceback of the cell's own frames (not the kernel's), with a word on the sandbox's limit it met."""
        shown = traceback.TracebackException(type(exc), exc, exc.__traceback__)
        seen: set[int] = set()
        pending = [shown]
        while pending:
            current = pending.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            frames = [frame for frame in current.stack if frame.filename != _KERNEL_FILE]
            current.stack = traceback.StackSummary.from_list(frames)
            pending += [e for e in (current.__cause__, current.__context__) if e is not None]
        text = "".join(shown.format())
        if isinstance(exc, MemoryError):
            text += f"(The sandbox allows {self.limits['memory'] // 2**20} MiB of memory.)\n"
        elif _out_of_processes(exc):
            allowed = self.limits["processes"]
            text += f"(The sandbox allows {allowed} processes and threads; the cell's others were ended.)\n"
        return _cut(text)

    def _cpu_budget(self, seconds: float) -> None:
        """CPU time for this cell (and for each process it starts): a backstop behind the app's wall clock."""
        if seconds <= 0 or sys.platform == "win32":
            return
        import resource

        usage = resource.getrusage(resource.RUSAGE_SELF)
        soft = int(usage.ru_utime + usage.ru_stime + seconds) + 1
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.getrlimit(resource.RLIMIT_CPU)[1]))


#: The kernel's own frames, left out of tracebacks (not __file__: the frozen app names its modules otherwise).
_KERNEL_FILE = Kernel.run.__code__.co_filename


def _stop_others() -> None:
    """End every other process of the sandbox, and reap them.

    As PID 1 of its own namespace, by killing everything there. Without a PID namespace (Linux) the
    kernel is a child subreaper, so what the code started stays below it however its parents end (a
    new session included): it kills that tree until none is left. On macOS the app ends the kernel's
    process group; on Windows the job object ends them when the kernel is killed.
    """
    if sys.platform == "win32":
        return
    if os.getpid() == 1:
        with contextlib.suppress(OSError):
            os.kill(-1, signal.SIGKILL)
        while True:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                return
    platform = _platform()
    if sys.platform == "linux" and platform is not None:
        platform.end_below()


def _out_of_processes(exc: BaseException) -> bool:
    return (isinstance(exc, BlockingIOError) and exc.errno == errno.EAGAIN) or "can't start new thread" in str(exc)


def _reap_strays() -> None:
    """Reap ended children nobody will wait for, which would hold process slots: copies of the kernel the
    code forked, and orphans (PID 1 inherits them); not those a live Popen or multiprocessing Process holds.
    Linux only (macOS has no waitid; Windows no zombies)."""
    if sys.platform != "linux":
        return
    try:
        if os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            return  # the usual case: nothing has ended
    except ChildProcessError:
        return
    held = set()
    for obj in gc.get_objects():
        popen = getattr(obj, "_popen", obj)  # a multiprocessing Process holds its Popen there
        if type(popen).__name__ == "Popen" and isinstance(getattr(popen, "pid", None), int):
            held.add(popen.pid)
    for pid in _children():
        try:
            if pid not in held and os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                os.waitpid(pid, 0)
        except ChildProcessError:
            continue


def _children() -> list[int]:
    """This process's children (from /proc; an empty list where it cannot be read)."""
    found: list[int] = []
    try:
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children") as file:
                found += [int(pid) for pid in file.read().split()]
    except OSError:
        pass
    return found


def _cut(text: str) -> str:
    if len(text) <= MAX_TEXT:
        return text
    return text[: MAX_TEXT // 2] + f"\n[... {len(text) - MAX_TEXT} characters left out ...]\n" + text[-MAX_TEXT // 2 :]


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()


def _platform() -> ModuleType | None:
    """This system's confinement module, whether this file runs in its package or alone."""
    name = {"linux": "sandbox_linux", "darwin": "sandbox_macos"}.get(sys.platform)
    if name is None:
        return None
    if __package__:
        return importlib.import_module(f"{__package__}.{name}")
    folder = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, folder)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(folder)


def _streams() -> tuple[io.BufferedReader, int, int]:
    """Keep private ends of the protocol; stdin becomes empty, stdout and stderr the output pipe."""
    requests = os.fdopen(os.dup(0), "rb")
    replies, output = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    os.close(devnull)
    for fd, name in ((1, "stdout"), (2, "stderr")):
        stream = io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding="utf-8", errors="backslashreplace",
                                  line_buffering=True, write_through=fd == 2)  # fmt: skip
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)
    sys.stdin = open(os.devnull)  # noqa: SIM115 (for the life of the process)
    return requests, replies, output


def main() -> int:
    """Set up the protocol, confine this process, then serve cells."""
    requests, replies, output = _streams()

    def answer(message: dict[str, Any]) -> None:
        os.write(replies, (json.dumps(message) + "\n").encode())

    if sys.version_info < (3, 9):  # noqa: UP036 (another interpreter may be older than the app's)
        answer({"failed": f"the sandbox needs Python 3.9 or newer, not {sys.version.split()[0]}"})
        return 3
    try:
        config = json.loads(requests.readline())
        platform = _platform()
        report: dict[str, Any] = {"platform": sys.platform, "warnings": []}
        if platform is not None:
            report = platform.confine(config, [requests.fileno(), replies, output])
    except Exception as exc:  # reported to the app, which then refuses to run code
        refused = type(exc).__name__ == "RefusedError"
        answer({"refused" if refused else "failed": str(exc) if refused else f"{type(exc).__name__}: {exc}"})
        return 3
    data, tmp = report.get("data_dir", config["workdir"]), report.get("tmp_dir", config["tmpdir"])
    os.environ.update(HOME=data, TMPDIR=tmp, TEMP=tmp, TMP=tmp, MPLCONFIGDIR=os.path.join(tmp, "matplotlib"))
    os.chdir(data)
    kernel = Kernel(requests, replies, output, config)
    kernel.send({"ready": report, "pid": os.getpid(), "python": sys.version.split()[0]})
    kernel.serve()
    _stop_others()  # the app closed the session (or is gone): nothing the code started outlives it
    return 0


if __name__ == "__main__":
    sys.exit(main())
