"""Reading and writing files a person named, so that no path can hang, flood or destroy anything.

Where a file is expected, only a regular file is read: /dev/zero reports a size of 0 and
never ends, a FIFO blocks the open forever, a terminal waits for typing. Every write to a
path the person chose goes through `write_file`, which refuses to replace a device, a FIFO
or a symlink, respects a read-only file, and replaces the file only once the new one is
complete (a crash or a full disk leaves the old one as it was).
"""

from __future__ import annotations

import contextlib
import os
import stat
import uuid
from pathlib import Path
from typing import BinaryIO

#: Opened without waiting for a writer (a FIFO) or taking a terminal as the controlling one.
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)


class NotRegularFileError(OSError):
    """The path is a device, a FIFO, a socket or a folder, where a file was expected."""


class WriteRefusedError(OSError):
    """The path the person named must not be written: the message says why."""


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open `path` for reading if it is a regular file (links followed); NotRegularFileError otherwise.

    The check is made on the opened descriptor, so the file cannot be swapped for a device in between;
    opening never blocks (O_NONBLOCK), and blocking reads are restored once it is known to be a file.
    """
    descriptor = os.open(path, _READ_FLAGS)
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFileError(f"{path} is {kind_of(mode)}, not a file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
    except BaseException:
        os.close(descriptor)
        raise
    return os.fdopen(descriptor, "rb")


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; ValueError for a larger one."""
    with open_regular(path) as file:
        data = file.read(limit + 1)  # bounded even if the file grows after it was opened
    if len(data) > limit:
        raise ValueError(f"{Path(path).name} is larger than {limit} bytes")
    return data


def write_file(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to the path a person named, all or nothing; WriteRefusedError or OSError says why not.

    The one way the app writes where a person told it to. It refuses a device, a FIFO, a socket,
    a folder and a symlink (replacing the link would silently break what it points to, and
    writing through it would write somewhere the person did not name), refuses a read-only
    file, and writes a temporary file beside the target that replaces it once complete
    (keeping the old file's permissions).
    """
    target = Path(path)
    try:
        existing = os.lstat(target)
    except FileNotFoundError:
        existing = None
    if existing is not None:
        if stat.S_ISLNK(existing.st_mode):
            raise WriteRefusedError(f"{target} is a symbolic link; name the file itself")
        if not stat.S_ISREG(existing.st_mode):
            raise WriteRefusedError(f"{target} is {kind_of(existing.st_mode)}, not a file that can be replaced")
        if not os.access(target, os.W_OK) or not existing.st_mode & 0o222:
            raise WriteRefusedError(f"{target} is read-only")
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    # 0o666 lets the umask decide the permissions of a new file, as for any file the person saves.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if existing is not None:
            os.chmod(temporary, existing.st_mode & 0o7777)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
