"""Linux confinement of the Python kernel, applied by the kernel process to itself before any cell runs.

In order: (as root only) drop to `nobody`, after a private mount namespace has made the folders
the interpreter needs reachable for it; then new user, mount, network, PID, IPC and UTS
namespaces; a fork, so the kernel is PID 1 of its namespace (when it dies every process the code
started dies with it) while the first process stays outside as a small supervisor that watches
the app; private mounts (own /proc, empty read-only tmpfs over the homes, /run, /media, /var/tmp,
the working folder at /mnt/data, the session's temporary folder at /tmp); resource limits;
no capabilities; Landlock. Stdlib only, Python 3.9+: another interpreter may load this file.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import shutil
import signal
import socket
import sys
from typing import Any, NoReturn

try:
    from . import landlock
except ImportError:  # loaded as a plain file by another interpreter (kernel.py puts this folder on sys.path)
    import landlock  # type: ignore[no-redef, import-not-found]

NEWNS, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET = 0x20000, 0x4000000, 0x8000000, 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = (
    1, 2, 4, 8, 32, 4096, 16384, 1 << 18)  # fmt: skip
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 1, 4, 36
#: Read-only system folders; a missing one is skipped.
SYSTEM_READ = ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc", "/opt", "/nix/store",
               "/gnu/store", "/sys/devices/system/cpu")  # fmt: skip
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
#: Covered by an empty read-only tmpfs: where personal files, devices of the session and sockets live.
COVERED = ("/home", "/root", "/Users", "/run", "/var/run", "/media", "/var/tmp", "/srv")


class RefusedError(Exception):
    """The isolation the person asked for cannot be had here; the message says why."""


_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{what}: {os.strerror(number)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    def arg(text: str | None) -> bytes | None:
        return text.encode() if text is not None else None

    _check(_libc.mount(arg(source), arg(target), arg(fstype), ctypes.c_ulong(flags), arg(data)), f"mount {target}")


def python_paths() -> list[str]:
    """What this interpreter reads at run time: its prefixes, its executable's folder, sys.path, this folder."""
    frozen = getattr(sys, "_MEIPASS", None)
    candidates = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *sys.path, frozen,
                  os.path.dirname(sys.executable), os.path.dirname(os.path.realpath(sys.executable)),
                  os.path.dirname(os.path.abspath(__file__))]  # fmt: skip
    paths = {os.path.realpath(p) for p in candidates if p and os.path.exists(p)}
    return sorted(p for p in paths if p != "/")


def _topmost(paths: list[str]) -> list[str]:
    """The paths that are not inside another of them."""
    chosen: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(path == c or path.startswith(c.rstrip("/") + "/") for c in chosen):
            chosen.append(path)
    return chosen


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def cover(root: str, keep: list[str], binds: dict[str, int] | None = None) -> bool:
    """Hide `root` under an empty read-only tmpfs, keeping `keep` (paths under it) where they were.

    `binds` adds {name: O_PATH descriptor} as folders directly inside the tmpfs. False when `root`
    is no folder here. The kept paths are opened before the tmpfs hides them.
    """
    if os.path.islink(root) or not os.path.isdir(root):
        return False
    kept = [p for p in _topmost(keep) if _under(p, root) and p != root]
    if any(p == root for p in keep):
        return False
    fds = {p: os.open(p, os.O_PATH | os.O_CLOEXEC) for p in kept}
    try:
        _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=1m")
        targets = [(os.path.join(root, name), fd) for name, fd in (binds or {}).items()]
        for path, fd in [*fds.items(), *targets]:
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.makedirs(path, mode=0o755, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
                open(path, "a").close()  # a mount point for a file
            _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        _mount(None, root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    finally:
        for fd in fds.values():
            os.close(fd)
    return True


def _traversable(path: str, uid: int, gid: int) -> bool:
    """Whether `uid` may walk through every folder above `path` (and into `path` itself)."""
    parts = path.rstrip("/").split("/")
    for end in range(2, len(parts) + 1):
        st = os.stat("/".join(parts[:end]) or "/")
        bit = 0o100 if st.st_uid == uid else 0o010 if st.st_gid == gid else 0o001
        if not st.st_mode & bit:
            return False
    return True


def _sandbox_user() -> tuple[int, int]:
    try:
        import pwd

        entry = pwd.getpwnam("nobody")
        return entry.pw_uid, entry.pw_gid
    except (ImportError, KeyError):
        return 65534, 65534


def drop_root(writable: list[str], readable: list[str]) -> str:
    """As root: become `nobody`, so that the process limit binds (root ignores RLIMIT_NPROC).

    Folders `nobody` could not walk into are made reachable first, in a private mount namespace
    made while still root: the folder that blocks is covered by a tmpfs and the needed paths are
    bound back. The writable folders are handed to `nobody`.
    """
    uid, gid = _sandbox_user()
    for path in writable:
        os.chown(path, uid, gid)
    blocked: dict[str, list[str]] = {}
    for path in [*writable, *readable]:
        parts = path.rstrip("/").split("/")
        for end in range(2, len(parts) + 1):
            ancestor = "/".join(parts[:end])
            if ancestor != path and not _traversable(ancestor, uid, gid):
                blocked.setdefault(ancestor, []).append(path)
                break
    if blocked:
        _check(_libc.unshare(NEWNS), "unshare(mount namespace)")
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        for root in _topmost(list(blocked)):
            cover(root, [p for p in [*writable, *readable] if _under(p, root)])
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    _libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # so this process may write its own uid_map
    return f"nobody (uid {uid})"


def enter_namespaces() -> str | None:
    """New user, mount, network, PID, IPC and UTS namespaces; None, or why they could not be had."""
    uid, gid = os.geteuid(), os.getegid()
    if _libc.unshare(NEWUSER | NEWNS | NEWNET | NEWPID | NEWIPC | NEWUTS) != 0:
        number = ctypes.get_errno()
        return f"this system does not let programs make a user namespace ({os.strerror(number)})"
    try:
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as file:
                file.write(text)
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
    except OSError as exc:
        raise RefusedError(f"the user namespace is restricted on this system ({exc.strerror})") from None
    return None


def _forward(pid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, number)


def supervise(child: int, app_pid: int, group: bool, tmpdir: tuple[int, str]) -> NoReturn:
    """The first process, outside the kernel's PID namespace: kill the kernel when the app goes, mirror its end.

    It forwards SIGINT (an interrupted cell) and holds nothing the kernel uses. It watches the app
    through a pidfd rather than PR_SET_PDEATHSIG, which fires when the app's *thread* that started
    it ends. `group`: no PID namespace, so the supervisor is a child subreaper and, when the kernel
    ends, ends whatever the code started (its process group, and what came up to it as orphans).
    When the app went without closing the session (killed, crashed), it removes the session's
    temporary folder, which nobody else will: `tmpdir` is its name in a folder opened before the
    sandbox's mounts (which may show that folder read-only here).
    """
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    signal.signal(signal.SIGINT, lambda *_: _forward(child, signal.SIGINT))
    if group:
        _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    child_fd = os.pidfd_open(child)
    try:
        app_fd = os.pidfd_open(app_pid)
        gone = os.getppid() != app_pid
    except ProcessLookupError:
        app_fd, gone = child_fd, True
    while True:
        if gone:
            with contextlib.suppress(OSError):
                os.kill(child, signal.SIGKILL)
            break
        ready, _, _ = select.select([child_fd, app_fd], [], [])
        if child_fd in ready:
            break
        gone = True
    if group:
        with contextlib.suppress(OSError):  # not yet reaped, so the group's id still holds
            os.killpg(child, signal.SIGKILL)
        status = end_below().get(child, 0)
    else:
        _, status = os.waitpid(child, 0)
    if not gone and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and app_fd != child_fd:
        # The kernel ends by itself only when its requests pipe closes: the app closed the session
        # (and kills this process next) or is going; see which, briefly.
        gone = bool(select.select([app_fd], [], [], 2.0)[0])
    if gone:
        shutil.rmtree(tmpdir[1], dir_fd=tmpdir[0], ignore_errors=True)
    if os.WIFSIGNALED(status):
        with contextlib.suppress(OSError, ValueError):  # SIGKILL and SIGSTOP keep their default
            signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def end_below() -> dict[int, int]:
    """Kill every process below this one, again as orphans come up to it (a child subreaper), and reap
    them; their wait statuses. Without a PID namespace this is how a sandbox's processes all end."""
    statuses: dict[int, int] = {}
    for _ in range(1000):  # each round ends a generation that was being handed up here
        below = _live_below(os.getpid())
        for pid in below:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for pid in _children_of(os.getpid()):  # killed or ended: the wait returns at once
            with contextlib.suppress(ChildProcessError):
                statuses[pid] = os.waitpid(pid, 0)[1]
        if not below:
            break
    return statuses


def _children_of(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as file:
                found += [int(child) for child in file.read().split()]
    return found


def _live_below(pid: int) -> list[int]:
    """The processes below `pid` that have not ended, from /proc; where Landlock lets the kernel read only its
    own entry, its children, counted as running (and their children come up to it once they are killed)."""
    found: list[int] = []
    pending = _children_of(pid)
    while pending:
        below = pending.pop()
        try:
            with open(f"/proc/{below}/stat", "rb") as file:
                if file.read().rsplit(b")", 1)[1].split()[0] != b"Z":
                    found.append(below)
        except (OSError, IndexError):
            found.append(below)
        pending += _children_of(below)
    return found


def _fork_kernel(app_pid: int, tmpdir: tuple[int, str], private_fds: list[int], in_pid_namespace: bool) -> None:
    """Fork: the parent becomes the supervisor and never returns; the child (the kernel) returns."""
    alive_r, alive_w = os.pipe()
    child = os.fork()
    if child:
        os.close(alive_r)
        for fd in private_fds:
            os.close(fd)
        supervise(child, app_pid, group=not in_pid_namespace, tmpdir=tmpdir)
    os.close(alive_w)
    os.close(tmpdir[0])
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if select.select([alive_r], [], [], 0)[0]:  # the supervisor died before the line above
        os._exit(1)
    os.close(alive_r)
    if not in_pid_namespace:
        os.setsid()  # its own process group, which the supervisor and the app kill whole
        # Orphans of what the code starts come to the kernel, not to the system's first process (which in a
        # container may never reap them, and whose zombies would hold the sandbox user's process slots).
        _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def namespaces_work() -> str | None:
    """Try the namespaces in a throwaway child: a half-made user namespace cannot be left again."""
    child = os.fork()
    if child == 0:
        try:
            os._exit(0 if enter_namespaces() is None else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(child, 0)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return None
    return "this system does not let programs make user namespaces (or restricts what they may do)"


def private_mounts(workdir: str, tmpdir: str, keep: list[str], homes: list[str]) -> dict[str, Any]:
    """The kernel's view of the file system; says where the working and temporary folders are in it."""
    view: dict[str, Any] = {"data_dir": workdir, "tmp_dir": tmpdir, "proc": False, "covered": []}
    try:
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        view["proc"] = True
    except OSError:
        pass  # /proc is partly masked (a container): keep the old one, which Landlock then denies
    work_fd = os.open(workdir, os.O_PATH | os.O_CLOEXEC)
    tmp_fd = os.open(tmpdir, os.O_PATH | os.O_CLOEXEC)
    try:
        if cover("/mnt", [*keep, workdir], {"data": work_fd}):
            view["data_dir"] = "/mnt/data"
        others = [p for p in [*keep, workdir] if _under(p, "/tmp")]
        if not others:
            _mount(f"/proc/self/fd/{tmp_fd}", "/tmp", None, MS_BIND | MS_REC)
            view["tmp_dir"] = "/tmp"
        elif cover("/tmp", [*others, tmpdir]):
            view["covered"].append("/tmp")
    finally:
        os.close(work_fd)
        os.close(tmp_fd)
    for root in dict.fromkeys([*homes, *COVERED]):
        if os.path.isabs(root) and cover(root, [*keep, workdir, tmpdir]):
            view["covered"].append(root)
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m")
    return view


def _count_processes(uid: int) -> int:
    """Processes of `uid` now (RLIMIT_NPROC counts them all when there is no user namespace)."""
    count = 0
    for name in os.listdir("/proc"):
        try:
            if name.isdigit() and os.stat(f"/proc/{name}").st_uid == uid:
                count += 1
        except OSError:
            continue
    return count


def set_limits(memory: int, processes: int, file_size: int, own_namespace: bool) -> None:
    """Memory (address space), processes (counted in the user namespace), file size, no core files."""
    import resource

    extra = 0 if own_namespace else _count_processes(os.getuid())
    for kind, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_NPROC, processes + extra),
                        (resource.RLIMIT_FSIZE, file_size), (resource.RLIMIT_CORE, 0)):  # fmt: skip
        resource.setrlimit(kind, (value, value))


def drop_capabilities() -> None:
    """Give up the capabilities a new user namespace grants inside it (mounts are done)."""

    class Header(ctypes.Structure):
        _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))

    data = (ctypes.c_uint32 * 6)()
    _check(_libc.capset(ctypes.byref(Header(0x20080522, 0)), data), "capset")


def apply_landlock(read: list[str], write: list[str], devices: list[str]) -> dict[str, Any]:
    """Reads only in `read`, writes only in `write` (and the harmless devices), no TCP from ABI 4."""
    abi = landlock.abi_version()
    if abi == 0:
        return {"landlock": 0}
    ruleset = landlock.Ruleset(abi)
    everything = ruleset.fs
    for paths, rights in ((read, landlock.READ), (write, everything), (devices, everything)):
        for path in paths:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                ruleset.allow(fd, rights, os.path.isdir(path))
            finally:
                os.close(fd)
    ruleset.enforce()
    return {"landlock": abi, "tcp_blocked": ruleset.blocks_tcp}


def confine(config: dict[str, Any], private_fds: list[int]) -> dict[str, Any]:
    """Apply everything; returns (in the kernel process) what was applied. Raises RefusedError."""
    workdir, tmpdir = os.path.realpath(config["workdir"]), os.path.realpath(config["tmpdir"])
    readable = [p for p in [*SYSTEM_READ, *python_paths()] if os.path.exists(p)]
    report: dict[str, Any] = {"platform": "linux", "user": f"uid {os.getuid()}", "warnings": []}
    tmp_parent = os.open(os.path.dirname(tmpdir), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    if os.geteuid() == 0:
        report["user"] = drop_root([workdir, tmpdir], python_paths())
    # Without the requirement, a failure must not leave this process in a half-made namespace: probe first.
    problem = None if config["require_network_isolation"] else namespaces_work()
    if problem is None:
        problem = enter_namespaces()
    if problem and config["require_network_isolation"]:
        raise RefusedError(f"the code cannot be cut off from the network: {problem}")
    _fork_kernel(config["app_pid"], (tmp_parent, os.path.basename(tmpdir)), private_fds, problem is None)
    view: dict[str, Any] = {"data_dir": workdir, "tmp_dir": tmpdir, "proc": False, "covered": []}
    if problem is None:
        homes = [h for h in config.get("homes", []) if isinstance(h, str)]
        view = private_mounts(workdir, tmpdir, readable, homes)
        socket.sethostname("sandbox")
        report["network"] = "none: own network namespace"
        report["processes"] = "own PID namespace"
    else:
        report["warnings"].append(problem)
        report["network"] = "not isolated"
        report["processes"] = "process group"
        report["group"] = os.getpgid(0)
    set_limits(config["memory"], config["processes"], config["file_size"], own_namespace=problem is None)
    if problem is None:
        drop_capabilities()
    read = [*readable, "/proc" if view["proc"] else f"/proc/{os.getpid()}"]  # the old /proc: this process only
    write = sorted({workdir, view["data_dir"], tmpdir, view["tmp_dir"]})
    shm = ["/dev/shm"] if problem is None and os.path.isdir("/dev/shm") else []
    applied = apply_landlock(read, write, [*DEVICES, *shm]) if config.get("landlock", True) else {"landlock": 0}
    if applied["landlock"]:
        report["files"] = (
            f"Landlock ABI {applied['landlock']}: reads in system and Python folders, writes in the working folder"
        )
        if problem is not None and applied.get("tcp_blocked"):
            report["network"] = "TCP blocked by Landlock; other protocols open"
    elif problem is None:
        report["files"] = "mount namespace: homes, /run, /media hidden; other files as the user may read them"
        report["warnings"].append("no Landlock in this kernel: writes are limited only by the user's permissions")
    else:
        report["files"] = "not isolated"
        report["warnings"].append("no Landlock and no user namespace: the code can read and write what the user can")
    report.update(view)
    return report
