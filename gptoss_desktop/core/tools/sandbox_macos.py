"""macOS confinement of the Python kernel: a Seatbelt profile (sandbox-exec), limits and a supervisor.

The app starts the kernel under `/usr/bin/sandbox-exec` with `profile()` (deny by default: no
network, reads only in system and Python folders and the working and temporary folders, writes only
in those two); the kernel then calls `confine()` on itself. Written carefully but not run by this
project's tests (they run on Linux): see docs/sandbox.md. Stdlib only, Python 3.9+.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import sys
from typing import Any, NoReturn

SANDBOX_EXEC = "/usr/bin/sandbox-exec"
#: Read-only system folders (the vnode paths: /etc and /var are links into /private).
SYSTEM_READ = ("/usr", "/System", "/Library", "/bin", "/sbin", "/private/etc", "/private/var/db/timezone",
               "/opt/homebrew", "/opt/local", "/Applications/Xcode.app")  # fmt: skip

_PROFILE = """(version 1)
(deny default)
(allow process-fork process-exec)
(allow signal (target same-sandbox))
(allow process-info* (target same-sandbox))
(allow sysctl-read)
(allow mach-lookup (global-name "com.apple.system.opendirectoryd.libinfo"))
(allow ipc-posix-sem ipc-posix-shm)
(allow file-read-metadata)
(allow file-read* file-write-data file-ioctl
  (literal "/dev/null") (literal "/dev/zero") (literal "/dev/random") (literal "/dev/urandom")
  (literal "/dev/dtracehelper"))
(allow file-read* (subpath "/private/var/select") {reads})
(allow file-read* file-write* (subpath (param "WORKDIR")) (subpath (param "TMPDIR")))
"""


def profile(read_roots: list[str]) -> str:
    """The SBPL profile; paths come in as parameters (`-D NAME=path`), never spliced into the text."""
    reads = " ".join(f'(subpath (param "READ{i}"))' for i in range(len(read_roots)))
    return _PROFILE.format(reads=reads)


def wrap(command: list[str], workdir: str, tmpdir: str, python_roots: list[str]) -> list[str]:
    """`command` run under sandbox-exec with the profile and its parameters."""
    roots = [r for r in dict.fromkeys([*SYSTEM_READ, *python_roots]) if os.path.exists(r)]
    roots = [os.path.realpath(r) for r in roots]
    params = [f"-DWORKDIR={os.path.realpath(workdir)}", f"-DTMPDIR={os.path.realpath(tmpdir)}"]
    params += [f"-DREAD{i}={root}" for i, root in enumerate(roots)]
    return [SANDBOX_EXEC, "-p", profile(roots), *params, *command]


def _count_processes(uid: int) -> int:
    """Processes of `uid` now: RLIMIT_NPROC on macOS counts every process of the user."""
    try:
        libproc = ctypes.CDLL("/usr/lib/libproc.dylib")
        pids = (ctypes.c_int * 8192)()
        size = libproc.proc_listpids(4, uid, pids, ctypes.sizeof(pids))  # PROC_UID_ONLY
        return max(int(size) // ctypes.sizeof(ctypes.c_int), 0)
    except (OSError, AttributeError):
        return 256


def _forward(pid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, number)


def supervise(child: int, app_pid: int) -> NoReturn:
    """Kill the kernel's process group when the app goes (kqueue), mirror the kernel's end."""
    if sys.platform != "darwin":
        raise OSError("kqueue is macOS's")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    signal.signal(signal.SIGINT, lambda *_: _forward(child, signal.SIGINT))
    queue = select.kqueue()
    try:
        queue.control(
            [
                select.kevent(pid, select.KQ_FILTER_PROC, select.KQ_EV_ADD, select.KQ_NOTE_EXIT)
                for pid in (child, app_pid)
            ],
            0,
        )
        app_gone = os.getppid() != app_pid
        while not app_gone:
            events = queue.control(None, 2)
            if any(event.ident == child for event in events):
                break
            app_gone = any(event.ident == app_pid for event in events)
    except OSError:
        app_gone = True
    if app_gone:
        os.killpg(child, signal.SIGKILL)
    _, status = os.waitpid(child, 0)
    if os.WIFSIGNALED(status):
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def confine(config: dict[str, Any], private_fds: list[int]) -> dict[str, Any]:
    """Limits, then a fork: the kernel gets a process group of its own and a supervisor watches the app."""
    import resource

    child = os.fork()
    if child:
        for fd in private_fds:
            os.close(fd)
        supervise(child, config["app_pid"])
    os.setsid()
    processes = config["processes"] + _count_processes(os.getuid())
    for kind, value in ((resource.RLIMIT_AS, config["memory"]), (resource.RLIMIT_NPROC, processes),
                        (resource.RLIMIT_FSIZE, config["file_size"]), (resource.RLIMIT_CORE, 0)):  # fmt: skip
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(kind, (value, value))
    return {
        "platform": "darwin",
        "user": f"uid {os.getuid()}",
        "network": "none: Seatbelt profile denies it",
        "files": "Seatbelt profile: reads in system and Python folders, writes in the working folder",
        "processes": "process group",
        "group": os.getpgid(0),
        "data_dir": os.path.realpath(config["workdir"]),
        "tmp_dir": os.path.realpath(config["tmpdir"]),
        "warnings": ["macOS does not enforce the memory limit (RLIMIT_AS)"],
    }
