"""Titles the sidebar shows for a new conversation."""

from __future__ import annotations

from gptoss_desktop.core.history.titles import MAX_TITLE, title_from


def test_a_short_question_is_its_own_title() -> None:
    assert title_from("What is 12 + 7?") == "What is 12 + 7?"


def test_the_first_non_empty_line_is_used_without_markdown_marks() -> None:
    assert title_from("\n\n## Fix **this** `code`\nlong traceback…") == "Fix this code"


def test_a_long_message_is_cut_at_a_word_and_says_so() -> None:
    title = title_from("Explain how the sliding window attention in gpt-oss interacts with the KV cache please")
    assert title.endswith("…") and len(title) <= MAX_TITLE + 1
    assert title == "Explain how the sliding window attention in…"


def test_one_endless_word_is_cut_anyway() -> None:
    assert title_from("x" * 200) == "x" * MAX_TITLE + "…"
