"""What comes back from the sandbox, read without trusting it: bounded output and bounded reply lines.

Both readers are threads of their own (pipes cannot be waited on with a timeout on every system);
they end when the kernel's end of the pipe closes.
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from typing import Any


class BoundedOutput:
    """A cell's output as its first and last bytes, counting what fell between them."""

    def __init__(self, limit: int) -> None:
        self.head_limit = limit * 3 // 4
        self.tail_limit = limit - self.head_limit
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > 2 * self.tail_limit:  # trim now and then, not on every read
                del self.tail[: -self.tail_limit]

    @property
    def dropped(self) -> int:
        """Bytes written that are in neither end."""
        return self.total - len(self.head) - min(len(self.tail), self.tail_limit)

    def text(self) -> str:
        """The output as the window shows it, with a note where bytes were left out."""
        tail = bytes(self.tail[-self.tail_limit :]) if self.tail_limit else b""
        head = self.head.decode("utf-8", errors="replace")
        if not self.dropped:
            return (bytes(self.head) + tail).decode("utf-8", errors="replace")
        note = f"\n[... {_size(self.dropped)} of output left out; {_size(self.total)} in all ...]\n"
        return head + note + tail.decode("utf-8", errors="replace")


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KiB"
    return f"{count / 1024 / 1024:.1f} MiB"


def cut_for_model(text: str, limit: int) -> str:
    """The head and the tail of `text` within `limit` characters, and a note of what was left out."""
    if len(text) <= limit:
        return text
    head, tail = text[: limit * 2 // 3], text[len(text) - limit // 3 :]
    if "\n" in head[len(head) // 2 :]:  # end and start on whole lines when they are not too long
        head = head[: head.rindex("\n") + 1]
    if "\n" in tail[: len(tail) // 2]:
        tail = tail[tail.index("\n") + 1 :]
    middle = text[len(head) : len(text) - len(tail)]
    lines = middle.count("\n")
    return f"{head}[... {len(middle):,} characters ({lines:,} lines) left out ...]\n{tail}"


class OutputReader(threading.Thread):
    """Reads the kernel's output pipe into the current cell's BoundedOutput; a marker ends a cell."""

    def __init__(self, fd: int, limit: int) -> None:
        super().__init__(name="python-sandbox-output", daemon=True)
        self.fd = fd
        self.limit = limit
        self.condition = threading.Condition()
        self.current = BoundedOutput(limit)
        self.finished: BoundedOutput | None = None
        self.marker: bytes | None = None
        self.pending = b""
        self.eof = False

    def run(self) -> None:
        try:
            while data := os.read(self.fd, 1 << 16):
                with self.condition:
                    self._take(data)
        except OSError:
            pass
        finally:
            os.close(self.fd)
            with self.condition:
                self.eof = True
                self.condition.notify_all()

    def _take(self, data: bytes) -> None:
        if self.marker is None:
            self.current.add(data)
            return
        buffer = self.pending + data
        at = buffer.find(self.marker)
        if at >= 0:
            self.current.add(buffer[:at])
            self.finished, self.current = self.current, BoundedOutput(self.limit)
            self.current.add(buffer[at + len(self.marker) :])
            self.marker, self.pending = None, b""
            self.condition.notify_all()
            return
        keep = len(self.marker) - 1
        self.current.add(buffer[:-keep])
        self.pending = buffer[-keep:]

    def begin(self, marker: str) -> None:
        """A cell starts; its output ends with `marker` (what came since the last cell counts as its own)."""
        with self.condition:
            self.marker = b"\x00" + marker.encode() + b"\x00"
            self.finished = None

    def end(self, timeout: float) -> BoundedOutput:
        """The cell's output, once its marker came (or the pipe closed, or `timeout` passed)."""
        with self.condition:
            self.condition.wait_for(lambda: self.finished is not None or self.eof, timeout)
            if self.finished is not None:
                output, self.finished = self.finished, None
                return output
            output, self.current = self.current, BoundedOutput(self.limit)
            output.add(self.pending)
            self.marker, self.pending = None, b""
            return output

    def text_so_far(self) -> str:
        """What the kernel wrote that no cell took (e.g. why it failed to start)."""
        with self.condition:
            return self.current.text()


class ProtocolError(Exception):
    """The kernel sent something that is not a reply of the protocol."""


class ReplyReader(threading.Thread):
    """Reads the kernel's replies: lines of at most `limit` bytes, each a JSON object, or the kernel is broken."""

    def __init__(self, fd: int, limit: int) -> None:
        super().__init__(name="python-sandbox-replies", daemon=True)
        self.fd = fd
        self.limit = limit
        self.condition = threading.Condition()
        self.replies: deque[dict[str, Any] | ProtocolError] = deque()
        self.eof = False

    def run(self) -> None:
        buffer = b""
        try:
            while data := os.read(self.fd, 1 << 16):
                buffer += data
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    self._put(_parse(line))
                if len(buffer) > self.limit:
                    self._put(ProtocolError(f"a reply longer than {self.limit} bytes"))
                    return
        except OSError:
            pass
        finally:
            os.close(self.fd)
            with self.condition:
                self.eof = True
                self.condition.notify_all()

    def _put(self, reply: dict[str, Any] | ProtocolError) -> None:
        with self.condition:
            self.replies.append(reply)
            self.condition.notify_all()


def _parse(line: bytes) -> dict[str, Any] | ProtocolError:
    try:
        reply = json.loads(line)
    except ValueError:
        return ProtocolError("a reply that is not JSON")
    return reply if isinstance(reply, dict) else ProtocolError("a reply that is not a JSON object")
