"""Conversations for screenshots: what a week of use looks like (written by hand, stored for real)."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path

from gptoss_desktop.core.history.store import MessageStats, Store

CSV_ANSWER = '''Here is a small, dependency-free way to do it with the standard library:

```python
import csv
from collections import defaultdict


def totals_by_month(path: str) -> dict[str, float]:
    """Sum the `amount` column per month (YYYY-MM) of a bank export."""
    totals: dict[str, float] = defaultdict(float)
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            totals[row["date"][:7]] += float(row["amount"])
    return dict(sorted(totals.items()))
```

How it works:

1. `csv.DictReader` maps each row to the header names, so column order does not matter.
2. `row["date"][:7]` keeps `2026-11` from `2026-11-03`.
3. A `defaultdict(float)` starts every month at `0.0`.

| Month | Total |
|---|---|
| 2026-09 | 1,240.50 |
| 2026-10 | 987.10 |

> If your bank writes amounts like `1.234,56`, replace the separators before calling `float`.
'''

CONVERSATIONS: list[tuple[str, list[tuple[str, str, str]]]] = [
    (
        "Monthly totals from a bank CSV",
        [
            ("user", "How do I sum the amounts per month in a CSV export from my bank, in Python?", ""),
            (
                "assistant",
                CSV_ANSWER,
                "The person wants per-month sums from a CSV. Standard library is enough: csv.DictReader, "
                "group by the YYYY-MM prefix of the date column, defaultdict(float). Mention decimal commas.",
            ),
            ("user", "Can you make it skip rows where the amount is empty?", ""),
            (
                "assistant",
                "Yes: check the field before converting it.\n\n```python\nfor row in csv.DictReader(f):\n"
                '    amount = row["amount"].strip()\n    if not amount:\n        continue  # pending or '
                'cancelled transactions\n    totals[row["date"][:7]] += float(amount)\n```\n\n'
                "Empty amounts usually mean **pending** transactions, so skipping them is what you want.",
                "Add a guard for empty strings before float().",
            ),
        ],
    ),
    (
        "Lighthouse trip packing list",
        [
            ("user", "Packing list for two days of walking along the coast to the lighthouse?", ""),
            (
                "assistant",
                "- Waterproof jacket and a warm layer\n- Walking shoes you have worn before\n"
                "- Water (1.5 l a day) and snacks\n- Map, phone, power bank\n- Sun cream: the wind hides the sun",
                "A short list; coastal weather changes fast.",
            ),
        ],
    ),
    (
        "Explain sliding window attention",
        [
            ("user", "What is sliding window attention, in two paragraphs?", ""),
            (
                "assistant",
                "Each token attends only to the previous *W* tokens instead of the whole context, so the cost "
                "per token stays flat as the text grows.\n\ngpt-oss alternates such layers (a window of 128 "
                "tokens) with full-attention layers, which keeps long-range recall while saving memory.",
                "Two paragraphs: definition, then how gpt-oss uses it.",
            ),
        ],
    ),
]


def write_demo_history(store: Store) -> None:
    """Store the demo conversations, oldest first, so the first one listed is the CSV one."""
    for title, messages in reversed(CONVERSATIONS):
        conversation = store.create_conversation(title)
        for role, content, reasoning in messages:
            if role == "user":
                store.add_message(conversation, "user", content)
                continue
            message = store.add_message(
                conversation, "assistant", state="streaming", effort="medium", model="gpt-oss-20b"
            )
            stats = MessageStats(200, 400, 60, 12.0, 4.2)
            store.update_message(message, content=content, reasoning=reasoning, state="complete", stats=stats)


#: How many days ago each demo conversation was last written to, so the list shows its day headings.
DAYS_AGO = {"Lighthouse trip packing list": 1, "Explain sliding window attention": 4}


def age_demo_history(database: Path) -> None:
    """Date the demo conversations back (Yesterday, Previous 7 days), as a week of use would have."""
    with closing(sqlite3.connect(database)) as db, db:
        for title, days in DAYS_AGO.items():
            db.execute(
                "UPDATE conversations SET updated_at = ?, created_at = ? WHERE title = ?",
                (time.time() - days * 86_400, time.time() - days * 86_400, title),
            )
