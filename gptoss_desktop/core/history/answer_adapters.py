"""Which LoRA adapters wrote an answer, and how strongly: kept with it, shown under it, exported with it.

An answer records the adapters its request carried (the conversation's set when it was written),
by name as the adapter's file calls itself, its path and its scale. Its base model is the answer's
`model`. Regenerating writes a new version with the set the conversation has then; this record
says what each version was written with.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from ..sqlite_transaction import write_transaction


@dataclass(frozen=True)
class AnswerAdapter:
    """One adapter an answer was written with."""

    name: str  # "French capitals": the adapter's general.name, or its file's stem
    path: str
    scale: float


def scale_text(scale: float) -> str:
    """×1.0, ×0.75, ×2.0: at least one decimal, so a scale reads as a strength."""
    text = f"{scale:.2f}".rstrip("0")
    return f"×{text}0" if text.endswith(".") else f"×{text}"


def written_by(model: str | None, adapters: Sequence[AnswerAdapter]) -> str:
    """ "gpt-oss-20b + French capitals ×1.0": the base model and each adapter at its scale."""
    names = [" ".join((model or "the model").split())]
    names += [f"{' '.join(a.name.split())} {scale_text(a.scale)}" for a in adapters]
    return " + ".join(names)


def write_adapters(db: sqlite3.Connection, message_id: int, adapters: Sequence[AnswerAdapter]) -> None:
    """Keep the adapters an answer was written with (replacing any kept before)."""
    with write_transaction(db):
        db.execute("DELETE FROM answer_adapters WHERE message_id = ?", (message_id,))
        db.executemany(
            "INSERT INTO answer_adapters (message_id, ordinal, name, path, scale) VALUES (?, ?, ?, ?, ?)",
            [(message_id, ordinal, a.name, a.path, a.scale) for ordinal, a in enumerate(adapters)],
        )


def read_adapters(db: sqlite3.Connection, conversation_id: int) -> dict[int, tuple[AnswerAdapter, ...]]:
    """The adapters of each answer of a conversation that had any, by message id; damaged rows left out."""
    rows = db.execute(
        "SELECT a.message_id, a.name, a.path, a.scale FROM answer_adapters a JOIN messages m ON m.id = a.message_id "
        "WHERE m.conversation_id = ? ORDER BY a.message_id, a.ordinal",
        (conversation_id,),
    )
    found: dict[int, list[AnswerAdapter]] = {}
    for message_id, name, path, scale in rows:
        if isinstance(scale, int | float) and math.isfinite(scale) and isinstance(name, str):
            found.setdefault(message_id, []).append(AnswerAdapter(name, str(path or ""), float(scale)))
    return {message_id: tuple(adapters) for message_id, adapters in found.items()}
