"""The download's SHA-256, hashed on its own thread: the same digest as hashing in line, and no thread left."""

from __future__ import annotations

import hashlib
import os
import threading

import pytest

from gptoss_desktop.core.models.downloads.hashing import MAX_QUEUED, BackgroundHasher


def hashing_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "download-sha256"]


def test_the_digest_is_that_of_every_chunk_in_order() -> None:
    chunks = [os.urandom(size) for size in (1, 65536, 0, 1 << 20, 7) * (MAX_QUEUED + 3)]  # more than the queue holds
    hasher = BackgroundHasher()
    for chunk in chunks:
        hasher.update(chunk)
    assert hasher.hexdigest() == hashlib.sha256(b"".join(chunks)).hexdigest()
    assert hashing_threads() == []


def test_closing_ends_the_thread_and_later_chunks_are_refused() -> None:
    hasher = BackgroundHasher()
    hasher.update(b"kept")
    hasher.close()
    assert hashing_threads() == []
    with pytest.raises(RuntimeError):
        hasher.update(b"late")
    assert hasher.hexdigest() == hashlib.sha256(b"kept").hexdigest()


def test_a_failure_while_hashing_is_raised_not_taken_for_a_wrong_digest() -> None:
    hasher = BackgroundHasher()
    hasher.update("text, not bytes")  # type: ignore[arg-type]  # what a bug upstream could hand over
    for _ in range(MAX_QUEUED + 2):  # the thread keeps taking chunks: a full queue never blocks the download
        hasher.update(b"more")
    with pytest.raises(TypeError):
        hasher.hexdigest()
    assert hashing_threads() == []
