"""The python tool's working folder: where the code writes, and where the person's attached files are put.

Attached files are copied in, read-only (the code never sees the originals, so it cannot change
them, and no rule has to open a path outside the folder); inside the sandbox the folder is `/mnt/data` where
the system allows it, the place the model was told about. After each call the folder is compared
with its state before: new and changed files are what the window lists.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..paths import app_paths

#: Stop listing a folder the code filled with more entries than a person could look at.
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class WrittenFile:
    """A file the code created or changed in the working folder."""

    name: str  #: relative to the working folder, with "/" between folders (as the code sees it under /mnt/data)
    path: Path  #: where it is on this computer, for the window to open
    size: int  #: bytes


def conversation_folder(conversation: int | str) -> Path:
    """The working folder of one conversation, under the app's data home (created on first use)."""
    folder = app_paths().data / "python" / f"conversation-{conversation}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


Snapshot = dict[str, tuple[int, int]]


def snapshot(folder: Path) -> Snapshot:
    """Size and modification time of every regular file under `folder` (symbolic links are not followed)."""
    found: Snapshot = {}
    pending = [folder]
    while pending and len(found) < MAX_ENTRIES:
        current = pending.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                pending.append(Path(entry.path))
            elif stat.S_ISREG(info.st_mode):
                name = Path(entry.path).relative_to(folder).as_posix()
                found[name] = (info.st_size, info.st_mtime_ns)
    return found


def written_since(folder: Path, before: Snapshot) -> tuple[WrittenFile, ...]:
    """Files new or changed since `before`, by name."""
    after = snapshot(folder)
    return tuple(
        WrittenFile(name, folder / name, size)
        for name, (size, mtime) in sorted(after.items())
        if before.get(name) != (size, mtime)
    )


def attach(folder: Path, files: Iterable[Path]) -> list[str]:
    """Copy the person's files into the working folder; their names there (a clash gets " (2)" and so on).

    A file already there with the same content and time keeps its name and is not copied again.
    """
    names = []
    for source in files:
        source = Path(source)
        info = source.stat()
        target = folder / source.name
        number = 2
        while target.exists() and not _same(target, info):
            target = folder / f"{source.stem} ({number}){source.suffix}"
            number += 1
        if not target.exists():
            partial = target.with_name(f".{target.name}.partial")
            shutil.copyfile(source, partial)
            os.utime(partial, ns=(info.st_atime_ns, info.st_mtime_ns))
            partial.chmod(0o444)  # a read-only copy, readable by the sandbox's user whoever that is
            partial.replace(target)
        names.append(target.name)
    return names


def _same(target: Path, info: os.stat_result) -> bool:
    mine = target.stat()
    return mine.st_size == info.st_size and mine.st_mtime_ns == info.st_mtime_ns
