"""A conversation as a Markdown or JSON file people can keep, share or feed to other tools.

What the app shows as plain text (the person's messages, the model's reasoning) goes into
fenced code blocks, verbatim, so no line of it can become a heading or close a block; answers
are Markdown already and go in as they are. The conversation is exported as the window shows
it (the versions chosen last); the other versions of a regenerated answer or an edited question
follow it, folded in Markdown, and in JSON every message names the one it follows, so the whole
tree can be rebuilt. An answer's tool steps go where they happened in its reasoning (their code and
output are part of it, exported with it); without the reasoning only what they did is said: one
line each, and the files they wrote. An answer written with LoRA adapters names them after its model, with
their scales ("gpt-oss-20b + French capitals ×1.0"). What a browsed answer cites (`【1†L2-L3】`) becomes a
Markdown footnote naming the document, page and lines, or saying why it is unverified. Pure functions: the
UI calls them on its storage thread, the CLI on its only one.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ..files import WriteRefusedError, write_file
from .answer_adapters import written_by
from .answer_citations import citation_json, footnotes
from .store import StoredConversation, StoredMessage
from .tool_steps import ToolStep, interleaved
from .transcript import Transcript

ExportFormat = Literal["md", "json"]
FORMATS: tuple[ExportFormat, ...] = ("md", "json")
JSON_FORMAT_NAME = "gptoss-desktop.conversation"
#: 2: messages carry their id and the id they follow; other versions listed apart. 3: answers' tool steps.
#: 4: the LoRA adapters an answer was written with. 5: what a browsed answer cites (`citations`).
JSON_VERSION = 5
UNTITLED = "Untitled conversation"

_NOTES = {
    "stopped": "*(stopped)*",
    "interrupted": "*(interrupted: the app closed before this answer was finished)*",
    "error": "*(ended with an error)*",
    "streaming": "*(still being written when exported)*",
}
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f<>:"/\\|?*]+')


class ExportError(Exception):
    """An export that could not be written; the message is for people."""


def export_markdown(conversation: StoredConversation, messages: list[StoredMessage], include_reasoning: bool) -> str:
    """Readable as plain text and rendered by GitHub; reasoning folded in <details> when included."""
    created = datetime.fromtimestamp(conversation.created_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"# {_one_line(conversation.title) or UNTITLED}", f"*Exported from gptoss-desktop. Started {created}.*"]
    shown, others = _branches(conversation, messages)
    for message in shown:
        versions = [message, *others.get(message.uid, [])]
        parts.append(
            _heading(message)
            + (f" · version {_version(message, versions)} of {len(versions)}" if len(versions) > 1 else "")
        )
        parts += _body(message, include_reasoning)
        if len(versions) > 1:
            parts.append(_other_versions(message, versions, include_reasoning))
    return "\n\n".join(parts) + "\n"


def _body(message: StoredMessage, include_reasoning: bool) -> list[str]:
    parts = []
    if message.role == "user":
        parts.append(_fenced(message.content))
    else:
        if include_reasoning and (message.reasoning.strip() or message.tool_steps):
            parts.append(_reasoning_markdown(message))
        elif message.tool_steps:
            parts.append("*Tools: " + "; ".join(_step_title(step) for step in message.tool_steps) + "*")
        content, notes = footnotes(message.content, message.citations)
        if content.strip():
            parts.append(_closed(content.strip("\n")))
        if notes:
            parts.append("\n".join(_one_line(note) for note in notes))
        if message.sources:
            parts.append(_sources_markdown(message))
        if any(step.files for step in message.tool_steps):
            parts.append(_files_markdown(message.tool_steps))
    if message.state in _NOTES:
        parts.append(_NOTES[message.state])
    return parts


def _other_versions(shown: StoredMessage, versions: list[StoredMessage], include_reasoning: bool) -> str:
    """The versions not shown, folded: what Regenerate or Edit replaced (or what replaced it)."""
    kind = "question" if shown.role == "user" else "answer"
    lines = [f"<details>\n<summary>Other versions of this {kind}</summary>"]
    for message in versions:
        if message is not shown:
            lines.append(f"**Version {_version(message, versions)}**")
            lines += _body(message, include_reasoning)
    return "\n\n".join(lines) + "\n\n</details>"


def _version(message: StoredMessage, versions: list[StoredMessage]) -> int:
    """Its number among its versions, counted in the order they were made."""
    return sorted(versions, key=lambda m: m.id).index(message) + 1


def _branches(
    conversation: StoredConversation, messages: list[StoredMessage]
) -> tuple[list[StoredMessage], dict[str, list[StoredMessage]]]:
    """The messages shown, and for each of them its other versions (oldest first)."""
    by_uid = {m.uid: m for m in messages}
    transcript = Transcript.from_stored(conversation, messages)
    shown = [by_uid[m.uid] for m in transcript.messages]
    others = {m.uid: [by_uid[v.uid] for v in transcript.versions(m.uid) if v.uid != m.uid] for m in transcript.messages}
    return shown, {uid: versions for uid, versions in others.items() if versions}


def export_json(conversation: StoredConversation, messages: list[StoredMessage], include_reasoning: bool) -> str:
    """Everything stored, for other tools (and a future import); `reasoning` keys only when included.

    `messages` is the conversation as shown; `other_versions` the messages that Regenerate and Edit
    replaced, and what followed them. Each message has an `id` and names the one it follows in `parent`.
    """
    shown, _ = _branches(conversation, messages)
    on_branch = {m.uid for m in shown}
    document = {
        "format": JSON_FORMAT_NAME,
        "version": JSON_VERSION,
        "title": conversation.title,
        "created_at": _iso(conversation.created_at),
        "updated_at": _iso(conversation.updated_at),
        "settings": _settings(conversation.settings),
        "messages": [_message_json(message, include_reasoning) for message in shown],
        "other_versions": [_message_json(m, include_reasoning) for m in messages if m.uid not in on_branch],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def export_text(
    conversation: StoredConversation, messages: list[StoredMessage], format: ExportFormat, include_reasoning: bool
) -> str:
    """The export in `format` ("md" or "json")."""
    exporter = export_json if format == "json" else export_markdown
    return exporter(conversation, messages, include_reasoning)


def suggested_filename(conversation: StoredConversation, format: ExportFormat) -> str:
    """A file name for a save dialog: the title, made safe on every OS."""
    stem = _one_line(_UNSAFE_FILENAME.sub(" ", conversation.title)).strip(" .")[:80].rstrip(" .")
    return f"{stem or f'conversation-{conversation.id}'}.{format}"


def write_export(path: Path, text: str) -> None:
    """Write `text` (UTF-8) all or nothing through the app's one writer of person-named paths: an existing
    file is replaced only once the new one is complete; a device, a FIFO, a symlink or a read-only file
    is refused (ExportError says why)."""
    try:
        write_file(path, text.encode("utf-8"))
    except WriteRefusedError as exc:
        raise ExportError(f"Did not write {path.name}: {exc}.") from exc
    except OSError as exc:
        raise ExportError(f"Could not write {path.name}: {exc.strerror or exc}") from exc


def _heading(message: StoredMessage) -> str:
    if message.role == "user":
        return "## You"
    details = [written_by(message.model, message.adapters) if message.adapters else _one_line(message.model or "")]
    if message.effort:
        details.append(f"{_one_line(message.effort)} effort")
    return " · ".join(["## Assistant", *(d for d in details if d)])


def _fenced(text: str, language: str = "text") -> str:
    """A code block no line of `text` can close: its fence is longer than any backtick run inside."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{fence}{language}\n{body}{fence}"


def _reasoning_markdown(message: StoredMessage) -> str:
    """The reasoning, folded, with each tool step where it happened: its summary, code and output."""
    calls = len(message.tool_steps)
    summary = "Reasoning" + (f" · {calls} tool call{'s' if calls != 1 else ''}" if calls else "")
    parts = [f"<details>\n<summary>{summary}</summary>"]
    for part in interleaved(message.reasoning, message.tool_steps):
        if isinstance(part, ToolStep):
            parts.append(f"**{_step_title(part)}**")
            parts.append(_fenced(part.arguments, "python" if part.recipient == "python" else "text"))
            if part.output:
                parts.append(_fenced(part.output))
        elif part.strip():
            parts.append(_fenced(part))
    return "\n\n".join(parts) + "\n\n</details>"


def _step_title(step: ToolStep) -> str:
    return _one_line(step.summary) or f"Called {step.recipient}"


def _files_markdown(steps: tuple[ToolStep, ...]) -> str:
    """The files the answer's code wrote: name, size and where they are on this computer."""
    lines = ["**Files written**", ""]
    for path, file in {f.path: f for step in steps for f in step.files}.items():
        lines.append(f"- {_one_line(file.name)} ({file.size:,} bytes): {_inline_code(_one_line(path))}")
    return "\n".join(lines)


def _inline_code(text: str) -> str:
    """`text` as inline code, whatever backticks it holds."""
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{padding}{text}{padding}{ticks}"


def _closed(markdown: str) -> str:
    """`markdown`, with a code block left open (an answer stopped mid-code) closed, so later turns stay out of it."""
    open_fence: str | None = None
    for line in markdown.split("\n"):
        match = _FENCE.match(line)
        if open_fence is None:
            if match:
                open_fence = match.group(1)
        elif match and set(line.strip()) == {open_fence[0]} and len(match.group(1)) >= len(open_fence):
            open_fence = None
    return markdown if open_fence is None else f"{markdown}\n{open_fence}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _settings(stored: str) -> dict[str, Any]:
    """The settings column as an object; a damaged one exports as {} rather than failing the export."""
    try:
        settings = json.loads(stored)
    except (ValueError, TypeError):
        return {}
    return settings if isinstance(settings, dict) else {}


def _message_json(message: StoredMessage, include_reasoning: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": message.uid,
        "parent": message.parent_uid or None,
        "role": message.role,
        "content": message.content,
    }
    if include_reasoning:
        fields["reasoning"] = message.reasoning
    fields.update(
        state=message.state,
        effort=message.effort,
        model=message.model,
        prompt_tokens=message.prompt_tokens,
        completion_tokens=message.completion_tokens,
        reasoning_tokens=message.reasoning_tokens,
        seconds=message.seconds,
        created_at=_iso(message.created_at),
    )
    if message.adapters:
        fields["adapters"] = [{"name": a.name, "file": Path(a.path).name, "scale": a.scale} for a in message.adapters]
    if message.tool_steps:
        fields["tool_steps"] = [_step_json(step, include_reasoning) for step in message.tool_steps]
    if message.citations:
        fields["citations"] = [citation_json(citation) for citation in message.citations]
    if message.sources:
        fields["sources"] = [
            {"number": s.number, "document": s.document_name, "place": s.anchor, "snippet": s.snippet}
            for s in message.sources
        ]
        if not message.sources_cited:
            fields["sources_cited"] = False
    return fields


def _step_json(step: ToolStep, include_reasoning: bool) -> dict[str, Any]:
    """A tool step: what it did; its code, output and place in the reasoning only with the reasoning."""
    fields: dict[str, Any] = {"tool": step.recipient, "summary": step.summary, "status": step.status}
    fields["seconds"] = round(step.seconds, 3)
    if include_reasoning:
        fields["reasoning_offset"] = step.at  # where in the answer's reasoning the call was made
        fields.update(arguments=step.arguments, output=step.output, model_text=step.model_text)
    fields["files"] = [{"name": f.name, "path": f.path, "size": f.size} for f in step.files]
    return fields


def _sources_markdown(message: StoredMessage) -> str:
    """The cited sources as a list: number, document and place, and the start of the passage quoted."""
    lines = ["**Sources**" if message.sources_cited else "**Not cited; the answer was given**", ""]
    for source in message.sources:
        place = ", ".join(part for part in (_one_line(source.document_name), source.anchor) if part)
        lines.append(f"- [{source.number}] {place}: {_one_line(source.snippet)}")  # [n] as cited, not renumbered
    return "\n".join(lines)
