"""The conversation as the app knows it: the one source of truth for what was said.

A Transcript holds the messages of one conversation and the answer streaming in. The window
renders it, the history stores it, and the next prompt is built from it; nothing reads a widget
back to learn what was said. It is plain Python, so editing, regenerating and streaming are
tested without Qt. Every method runs on the thread that owns the transcript (the GUI thread in
the app).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..conversation_settings import ConversationSettings
from ..documents.answer import DocumentEvent, SourcesCited
from ..documents.prompting import Source
from ..events import AnswerDelta, Done, Failed, ReasoningDelta, Stats
from ..harmony import Conversation, Effort, Message
from .store import MessageStats, State, StoredConversation, StoredMessage, new_uid


@dataclass
class TranscriptMessage:
    """One message: the person's, or an answer with its reasoning, how it ended and what it cited."""

    uid: str
    role: str  # "user" | "assistant"
    content: str = ""
    reasoning: str = ""
    state: State = "complete"
    effort: str | None = None
    model: str | None = None
    stats: MessageStats | None = None
    sources: tuple[Source, ...] = ()
    #: How the answer ended, for people ("" when it simply finished): Done's stop reason or Failed's message.
    ending: str = ""

    @property
    def streaming(self) -> bool:
        return self.state == "streaming"

    @classmethod
    def from_stored(cls, message: StoredMessage) -> TranscriptMessage:
        """A message as the history gives it back."""
        stats = None
        if message.completion_tokens is not None:
            stats = MessageStats(
                message.prompt_tokens or 0,
                message.completion_tokens,
                message.reasoning_tokens or 0,
                message.seconds or 0.0,
            )
        return cls(
            uid=message.uid,
            role=message.role,
            content=message.content,
            reasoning=message.reasoning,
            state=_state(message.state),
            effort=message.effort,
            model=message.model,
            stats=stats,
            sources=message.sources,
        )


def _state(value: str) -> State:
    states: tuple[State, ...] = ("complete", "stopped", "interrupted", "error", "streaming")
    return next((state for state in states if state == value), "error")


def message_stats(stats: Stats) -> MessageStats:
    """What is stored of a finished answer's counts and timings."""
    seconds = stats.prefill_seconds + stats.generation_seconds
    return MessageStats(stats.prompt_tokens, stats.completion_tokens, stats.reasoning_tokens, seconds)


@dataclass
class Transcript:
    """One conversation: its identity, settings and messages, oldest first.

    `uid` is "" until the conversation is stored (when its first message is sent, or a document
    is attached).
    """

    uid: str = ""
    settings: ConversationSettings = field(default_factory=ConversationSettings)
    messages: list[TranscriptMessage] = field(default_factory=list)

    @classmethod
    def from_stored(cls, record: StoredConversation, messages: list[StoredMessage]) -> Transcript:
        """A conversation as the history gives it back."""
        return cls(
            uid=record.uid,
            settings=ConversationSettings.from_json(record.settings),
            messages=[TranscriptMessage.from_stored(m) for m in messages],
        )

    # --- reading ---------------------------------------------------------------------------

    @property
    def answer(self) -> TranscriptMessage | None:
        """The answer being streamed now, if any."""
        last = self.messages[-1] if self.messages else None
        return last if last is not None and last.role == "assistant" and last.streaming else None

    def index_of(self, uid: str) -> int | None:
        """Where the message `uid` is, or None."""
        return next((i for i, m in enumerate(self.messages) if m.uid == uid), None)

    def find(self, uid: str) -> TranscriptMessage | None:
        """The message `uid`, or None."""
        index = self.index_of(uid)
        return self.messages[index] if index is not None else None

    @property
    def last_answer(self) -> TranscriptMessage | None:
        """The last message if it is an answer (what Regenerate writes again)."""
        last = self.messages[-1] if self.messages else None
        return last if last is not None and last.role == "assistant" else None

    def prompt(self, effort: Effort, date: str) -> Conversation:
        """What the model is given for the next answer: every message so far, answers without text left out
        (a failed or empty answer says nothing the model should read), the reasoning kept for the engine
        to drop as the format requires."""
        messages = tuple(
            Message("user", m.content) if m.role == "user" else Message("assistant", m.content, m.reasoning)
            for m in self.messages
            if (m.role == "user" or m.content) and not m.streaming
        )
        return Conversation(
            messages=messages, effort=effort, instructions=self.settings.instructions or None, date=date
        )

    # --- changing ----------------------------------------------------------------------------

    def add_user(self, text: str) -> TranscriptMessage:
        """What the person sent."""
        message = TranscriptMessage(new_uid(), "user", text)
        self.messages.append(message)
        return message

    def begin_answer(self, effort: str, model: str) -> TranscriptMessage:
        """An answer starts streaming (empty)."""
        message = TranscriptMessage(new_uid(), "assistant", state="streaming", effort=effort, model=model)
        self.messages.append(message)
        return message

    def apply(self, event: DocumentEvent) -> TranscriptMessage | None:
        """Take one event of the answer being streamed into it; the answer, or None when none streams."""
        answer = self.answer
        if answer is None:
            return None
        match event:
            case ReasoningDelta(text=text):
                answer.reasoning += text
            case AnswerDelta(text=text):
                answer.content += text
            case SourcesCited(sources=sources):
                answer.sources = tuple(sources)
            case Done(stop_reason=reason, stats=stats):
                answer.state = "stopped" if reason == "cancelled" else "complete"
                answer.stats = message_stats(stats)
                answer.ending = reason
            case Failed(message=text):
                answer.state = "error"
                answer.ending = text
            case _:
                pass  # notices and other channels do not change what was said
        return answer

    def stop_streaming(self) -> TranscriptMessage | None:
        """The answer being streamed ends where it is (the conversation is left, or the app closes)."""
        answer = self.answer
        if answer is not None:
            answer.state = "stopped"
            answer.ending = "cancelled"
        return answer

    def truncate_from(self, uid: str) -> list[TranscriptMessage]:
        """Drop the message `uid` and every later one (edit and resend, regenerate); what was dropped."""
        index = self.index_of(uid)
        if index is None:
            return []
        dropped, self.messages[index:] = self.messages[index:], []
        return dropped
