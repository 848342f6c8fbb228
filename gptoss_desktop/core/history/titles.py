"""Conversation titles made from the first message, so the list reads well without asking the model."""

from __future__ import annotations

import re

#: Long enough to tell conversations apart in the sidebar, short enough for one line.
MAX_TITLE = 48

_MARKUP = re.compile(r"[`*_#>\[\]]+")


def title_from(text: str) -> str:
    """The first line of `text` without Markdown marks, cut at a word boundary near MAX_TITLE."""
    line = next((line for line in text.splitlines() if line.strip()), "")
    words = " ".join(_MARKUP.sub(" ", line).split())
    if len(words) <= MAX_TITLE:
        return words
    cut = words.rfind(" ", 0, MAX_TITLE)
    return words[: cut if cut > MAX_TITLE // 2 else MAX_TITLE].rstrip(" ,.;:-") + "…"
