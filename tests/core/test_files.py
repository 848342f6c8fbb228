"""The one writer of paths a person names, and the reader of files that must be files."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from gptoss_desktop.core.files import NotRegularFileError, WriteRefusedError, open_regular, read_regular, write_file


def special_files(tmp_path: Path) -> dict[str, Path]:
    """A FIFO, a symlink to a file, a dangling symlink, and (as root) a character device like /dev/null."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    real = tmp_path / "real.md"
    real.write_text("kept")
    link = tmp_path / "link.md"
    link.symlink_to(real)
    dangling = tmp_path / "dangling.md"
    dangling.symlink_to(tmp_path / "nowhere.md")
    found = {"fifo": fifo, "link": link, "dangling": dangling}
    if os.geteuid() == 0:
        device = tmp_path / "null"
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        found["device"] = device
    return found


@pytest.mark.parametrize("kind", ["fifo", "link", "dangling", "device"])
def test_write_refuses_what_it_would_replace_or_write_through(kind: str, tmp_path: Path) -> None:
    paths = special_files(tmp_path)
    if kind not in paths:
        pytest.skip("making a device node needs root")
    path = paths[kind]
    before = os.lstat(path)
    with pytest.raises(WriteRefusedError):
        write_file(path, b"new")
    after = os.lstat(path)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)
    assert (tmp_path / "real.md").read_text() == "kept"
    assert not list(tmp_path.glob(".*.tmp"))


def test_write_respects_a_read_only_file(tmp_path: Path) -> None:
    target = tmp_path / "export.md"
    target.write_text("old")
    target.chmod(0o444)
    with pytest.raises(WriteRefusedError, match="read-only"):
        write_file(target, b"new")
    assert target.read_text() == "old"


def test_write_creates_and_replaces_regular_files(tmp_path: Path) -> None:
    target = tmp_path / "export.md"
    write_file(target, b"one")
    write_file(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["export.md"]


def test_reading_a_fifo_neither_waits_nor_reads(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            open_regular(fifo)
        except BaseException as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():  # release the blocked open before failing, so no thread is left behind
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join()
    assert len(outcome) == 1 and isinstance(outcome[0], NotRegularFileError)


def test_read_regular_is_bounded() -> None:
    with pytest.raises(NotRegularFileError, match="/dev/zero is a device"):
        read_regular("/dev/zero", 10)


def test_read_regular_refuses_a_file_over_its_limit(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"x" * 11)
    assert read_regular(big, 11) == b"x" * 11
    with pytest.raises(ValueError, match="larger than 10 bytes"):
        read_regular(big, 10)
