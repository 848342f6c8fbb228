"""Stop strings on streamed answer text: the answer ends just before the first of them.

A stop string can arrive split across tokens, so text that could still turn into
one is held back until the next piece settles it; nothing after a stop is ever let out.
"""

from __future__ import annotations

from collections.abc import Sequence


class StopText:
    """Feed answer text piece by piece; get back what may be shown, and whether a stop string came."""

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = tuple(s for s in stops if s)
        self._held = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """The part of the text so far that is sure to be shown; sets `stopped` at a stop string."""
        if self.stopped:
            return ""
        if not self._stops:
            return text
        held = self._held + text
        found = [index for index in (held.find(stop) for stop in self._stops) if index >= 0]
        if found:
            self.stopped = True
            self._held = ""
            return held[: min(found)]
        keep = self._longest_partial(held)
        self._held = held[len(held) - keep :] if keep else ""
        return held[: len(held) - keep]

    def flush(self) -> str:
        """The text held back when the answer ends without a stop string."""
        held, self._held = self._held, ""
        return "" if self.stopped else held

    def _longest_partial(self, text: str) -> int:
        """Length of the longest end of `text` that begins some stop string."""
        best = 0
        for stop in self._stops:
            for size in range(min(len(stop) - 1, len(text)), best, -1):
                if text.endswith(stop[:size]):
                    best = size
                    break
        return best
