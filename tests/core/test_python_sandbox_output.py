"""Reading what the kernel writes, untrusted: a cell's end found in a stream cut anywhere, output kept
within bounds, replies refused when they are not what the protocol says."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest

from gptoss_desktop.core.tools.output import BoundedOutput, OutputReader, ProtocolError, ReplyReader, cut_for_model


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    """A pipe; the reader under test owns (and closes) the reading end."""
    read, write = os.pipe()
    yield read, write
    with contextlib.suppress(OSError):
        os.close(write)


def write_in_pieces(fd: int, data: bytes, size: int) -> None:
    for start in range(0, len(data), size):
        os.write(fd, data[start : start + size])


@pytest.mark.parametrize("piece", [1, 2, 7, 33])
def test_a_cell_ends_at_its_marker_however_the_stream_is_cut(pipe: tuple[int, int], piece: int) -> None:
    read, write = pipe
    reader = OutputReader(read, limit=1 << 20)
    reader.start()
    reader.begin("abc123")
    write_in_pieces(write, "first cell: ünïcode\n".encode() + b"\x00abc123\x00" + b"stray line\n", piece)
    first = reader.end(timeout=30)
    reader.begin("def456")
    write_in_pieces(write, b"second\x00def45\x00" + b"\x00def456\x00", piece)  # a near miss first
    second = reader.end(timeout=30)
    os.close(write)
    reader.join(30)
    assert first.text() == "first cell: ünïcode\n"
    assert second.text() == "stray line\nsecond\x00def45\x00"


def test_output_of_a_killed_kernel_is_what_came_before_the_pipe_closed(pipe: tuple[int, int]) -> None:
    read, write = pipe
    reader = OutputReader(read, limit=1 << 20)
    reader.start()
    reader.begin("never")
    os.write(write, b"partial output \x00nev")
    os.close(write)
    assert reader.end(timeout=30).text() == "partial output \x00nev"
    reader.join(30)


def test_bounded_output_keeps_the_head_and_the_tail() -> None:
    output = BoundedOutput(limit=1000)
    for number in range(10_000):
        output.add(f"{number:>5}\n".encode())
    text = output.text()
    assert output.total == 60_000 and output.dropped == 59_000
    assert text.startswith("    0\n    1\n") and text.endswith(" 9998\n 9999\n")
    assert "[... 57.6 KiB of output left out; 58.6 KiB in all ...]" in text
    assert len(text) < 1100


def test_the_model_reads_whole_lines_from_each_end_and_how_much_is_missing() -> None:
    text = "".join(f"line {n}\n" for n in range(1000))
    cut = cut_for_model(text, 300)
    assert cut.startswith("line 0\nline 1\n") and cut.endswith("line 998\nline 999\n")
    head, note_and_tail = cut.split("[... ", 1)
    assert head.endswith("\n")
    assert note_and_tail.split("\n", 1)[0].endswith("lines) left out ...]")
    assert len(cut) < 360
    assert cut_for_model("short", 300) == "short"


def test_replies_that_break_the_protocol_are_reported_not_parsed(pipe: tuple[int, int]) -> None:
    read, write = pipe
    reader = ReplyReader(read, limit=1000)
    reader.start()
    os.write(write, b'{"id": 1, "value": "2"}\n[1, 2]\nnot json\n' + b"x" * 5000)
    reader.join(30)
    assert not reader.is_alive() and reader.eof
    replies = list(reader.replies)
    assert replies[0] == {"id": 1, "value": "2"}
    assert [str(r) for r in replies[1:]] == [
        "a reply that is not a JSON object",
        "a reply that is not JSON",
        "a reply longer than 1000 bytes",
    ]
    assert all(isinstance(r, ProtocolError) for r in replies[1:])
