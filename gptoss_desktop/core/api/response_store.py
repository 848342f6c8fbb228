"""Responses API replies kept in the app's history database, for previous_response_id.

Each row holds the conversation up to and including that reply, so going on from it is one
read, and the reply as the client got it, for GET /v1/responses/{id}. Rows are written from the
server's worker threads, each call on a connection of its own (SQLite connections are per thread).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..harmony import Message
from ..history.migrations import migrate


@dataclass(frozen=True)
class Thread:
    """What a later response continues from: instructions given as input messages, the harmony
    messages so far (calls and their results included), and which function each call id named."""

    instructions: str
    messages: tuple[Message, ...]
    calls: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        messages = [{k: v for k, v in dataclasses.asdict(m).items() if v not in (None, "")} for m in self.messages]
        return json.dumps(
            {"instructions": self.instructions, "messages": messages, "calls": dict(self.calls)}, ensure_ascii=False
        )

    @staticmethod
    def from_json(text: str) -> Thread:
        data = json.loads(text)
        messages = tuple(Message(**{"content": "", **m}) for m in data["messages"])
        return Thread(data.get("instructions", ""), messages, data.get("calls", {}))


class ResponseStore:
    """The `api_responses` table of the history database at `path` (migrated on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as db:
            migrate(db)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, isolation_level=None, timeout=10.0)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            yield db

    def save(self, response: dict[str, Any], thread: Thread) -> None:
        """Keep a finished reply and the conversation it ends."""
        with self._connection() as db:
            db.execute(
                "INSERT OR REPLACE INTO api_responses (id, previous_id, model, conversation, response, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    response["id"],
                    response.get("previous_response_id"),
                    response["model"],
                    thread.to_json(),
                    json.dumps(response, ensure_ascii=False),
                    time.time(),
                ),
            )

    def thread(self, response_id: str) -> Thread | None:
        """The conversation a stored reply ends, or None."""
        with self._connection() as db:
            row = db.execute("SELECT conversation FROM api_responses WHERE id = ?", (response_id,)).fetchone()
        return Thread.from_json(row[0]) if row else None

    def response(self, response_id: str) -> dict[str, Any] | None:
        """The stored reply as the client got it, or None."""
        with self._connection() as db:
            row = db.execute("SELECT response FROM api_responses WHERE id = ?", (response_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def delete(self, response_id: str) -> bool:
        """Forget a reply; False if there was none."""
        with self._connection() as db:
            return db.execute("DELETE FROM api_responses WHERE id = ?", (response_id,)).rowcount > 0
