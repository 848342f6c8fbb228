"""SHA-256 of a download, computed on a thread of its own while the next bytes are received and written.

hashlib lets go of the GIL while it hashes, so where a download is bound by the processor
(loopback, a fast LAN, a slow laptop) hashing overlaps with receiving and writing instead of
adding to them: 1.3x the throughput on two cores (bench/download.py). Chunks are queued as
the immutable bytes objects they arrive as (no copy), and the queue is bounded, so a slow
hash holds the download back rather than filling memory.
"""

from __future__ import annotations

import hashlib
import queue
import threading

#: At most this many chunks wait to be hashed (each at most 1 MiB: a socket read, or a block of a kept file).
MAX_QUEUED = 32


class BackgroundHasher:
    """A SHA-256 fed with update() from one thread; hexdigest() waits for the chunks queued so far.

    Always close() it (or read hexdigest()): its thread ends only then.
    """

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._queue: queue.Queue[bytes | None] = queue.Queue(MAX_QUEUED)
        self._failure: Exception | None = None
        self._thread = threading.Thread(target=self._run, name="download-sha256")
        self._thread.start()

    def update(self, data: bytes) -> None:
        """Queue `data` (a bytes object, never a buffer that will be reused) to be hashed."""
        if not self._thread.is_alive():
            self._raise_failure()
            raise RuntimeError("update() after the hash was finished")
        self._queue.put(data)

    def hexdigest(self) -> str:
        """The digest of everything given to update()."""
        self.close()
        return self._hash.hexdigest()

    def close(self) -> None:
        """Hash what is queued and end the thread; further update() calls are refused. Re-raises an error
        the hashing met, so a failed hash is never taken for a corrupted download."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        self._raise_failure()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._failure is None:
                try:
                    self._hash.update(chunk)
                except Exception as exc:  # handed to the caller's thread by close()
                    self._failure = exc  # keep taking chunks, so update() never blocks on a full queue
