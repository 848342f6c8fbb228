"""The conversation as the app knows it: the one source of truth for what was said.

A Transcript holds the messages of one conversation and the answer streaming in. The window
renders it, the history stores it, and the next prompt is built from it; nothing reads a widget
back to learn what was said. It is plain Python, so editing, regenerating and streaming are
tested without Qt. Every method runs on the thread that owns the transcript (the GUI thread in
the app).

Regenerate and edit keep what they replace. Every message names the one it follows (`parent`);
messages of one role that follow the same message are versions of each other ("‹ 2 / 3 ›"), and
each version carries what followed it. `messages` is the branch shown: from the first message,
at each step the version chosen last.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from ..conversation_settings import ConversationSettings
from ..documents.answer import DocumentEvent, SourcesCited
from ..documents.prompting import Source
from ..events import AnswerDelta, Citation, Done, Failed, ReasoningDelta, Stats, ToolApproval, ToolCall, ToolResult
from ..harmony import Conversation, Effort, Message
from ..prompt_record import PromptSent
from .answer_adapters import AnswerAdapter
from .store import MessageStats, State, StoredConversation, StoredMessage, new_uid
from .tool_steps import ToolStep


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
    #: False when the answer cited nothing and `sources` are the passages it was given.
    sources_cited: bool = True
    #: How the answer ended, for people ("" when it simply finished): Done's stop reason or Failed's message.
    ending: str = ""
    #: The message this one follows ("" for the first); versions of a message share it.
    parent: str = ""
    #: When this version was made or last shown: at each step the newest shows.
    chosen_at: float = 0.0
    #: The exact prompt the answer's model received, when the engine reported it (None: not known, or
    #: not loaded yet: the history keeps it apart, read when asked for).
    prompt: PromptSent | None = None
    #: The tools the answer called, in order, each with where in the reasoning it happened.
    steps: list[ToolStep] = field(default_factory=list)
    #: The LoRA adapters the answer was written with, at their scales (on `model`, its base).
    adapters: tuple[AnswerAdapter, ...] = ()
    #: What the answer cites of the documents the model browsed (`【cursor†Lx-Ly】` marks resolved), in order.
    citations: tuple[Citation, ...] = ()

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
                message.reasoning_seconds,
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
            sources_cited=message.sources_cited,
            parent=message.parent_uid,
            chosen_at=message.chosen_at,
            steps=list(message.tool_steps),
            adapters=message.adapters,
            citations=message.citations,
        )

    @property
    def files(self) -> list[str]:
        """Paths of the files its tool steps wrote, each once, in the order they were written."""
        return list(dict.fromkeys(f.path for step in self.steps for f in step.files))


def _open_step(answer: TranscriptMessage) -> int | None:
    """Where the step waiting for its result is (the last one, if it has none yet)."""
    last = len(answer.steps) - 1
    return last if last >= 0 and not answer.steps[last].finished else None


def _replace_open_step(answer: TranscriptMessage, **changes: object) -> None:
    index = _open_step(answer)
    if index is not None:
        answer.steps[index] = replace(answer.steps[index], **changes)  # type: ignore[arg-type]


def _take_result(answer: TranscriptMessage, result: ToolResult) -> None:
    """The open step gets its result (a result without a call, which the loop never sends, gets a step)."""
    if _open_step(answer) is None:
        answer.steps.append(ToolStep(result.recipient, "", len(answer.reasoning)))
    _replace_open_step(
        answer,
        summary=result.summary,
        output=result.output,
        model_text=result.model_text,
        status=result.status,
        seconds=result.seconds,
        files=result.files,
    )


def _end_steps(answer: TranscriptMessage, not_run: bool = False) -> None:
    """The answer ended: a step still open never got its result. `not_run`: the model called a tool the
    conversation does not offer (its answer ended there)."""
    index = _open_step(answer)
    if index is None:
        return
    step = answer.steps[index]
    if not_run:
        off = "Python is off in this conversation" if step.recipient == "python" else "no such tool here"
        answer.steps[index] = replace(step, summary=f"Not run: {off}", status="refused")
    else:
        answer.steps[index] = step.cut_short()


def _state(value: str) -> State:
    states: tuple[State, ...] = ("complete", "stopped", "interrupted", "error", "streaming")
    return next((state for state in states if state == value), "error")


def message_stats(stats: Stats) -> MessageStats:
    """What is stored of a finished answer's counts and timings."""
    seconds = stats.prefill_seconds + stats.generation_seconds
    return MessageStats(
        stats.prompt_tokens, stats.completion_tokens, stats.reasoning_tokens, seconds, stats.reasoning_seconds
    )


@dataclass
class Transcript:
    """One conversation: its identity, settings and messages, oldest first.

    `uid` is "" until the conversation is stored (when its first message is sent, or a document
    is attached). `messages` is the branch shown; `every` holds every version of every message, in
    the order they were made.
    """

    uid: str = ""
    settings: ConversationSettings = field(default_factory=ConversationSettings)
    messages: list[TranscriptMessage] = field(default_factory=list)
    every: list[TranscriptMessage] = field(default_factory=list, repr=False)

    @classmethod
    def from_stored(cls, record: StoredConversation, messages: list[StoredMessage]) -> Transcript:
        """A conversation as the history gives it back, showing the versions chosen last."""
        transcript = cls(
            uid=record.uid,
            settings=ConversationSettings.from_json(record.settings),
            every=[TranscriptMessage.from_stored(m) for m in messages],
        )
        transcript.messages = transcript._branch_from("")
        return transcript

    # --- reading ---------------------------------------------------------------------------

    @property
    def answer(self) -> TranscriptMessage | None:
        """The answer being streamed now, if any."""
        last = self.messages[-1] if self.messages else None
        return last if last is not None and last.role == "assistant" and last.streaming else None

    def index_of(self, uid: str) -> int | None:
        """Where the message `uid` is on the branch shown, or None."""
        return next((i for i, m in enumerate(self.messages) if m.uid == uid), None)

    def find(self, uid: str) -> TranscriptMessage | None:
        """The message `uid`, shown or not, or None."""
        return next((m for m in self.every if m.uid == uid), None)

    @property
    def last_answer(self) -> TranscriptMessage | None:
        """The last message if it is an answer (what Regenerate writes again)."""
        last = self.messages[-1] if self.messages else None
        return last if last is not None and last.role == "assistant" else None

    def versions(self, uid: str) -> list[TranscriptMessage]:
        """The versions of message `uid` (itself among them), oldest first."""
        message = self.find(uid)
        if message is None:
            return []
        return [m for m in self.every if m.parent == message.parent and m.role == message.role]

    def version_of(self, uid: str) -> tuple[int, int]:
        """Which version message `uid` is, and how many there are: (2, 3) reads "2 / 3"."""
        versions = self.versions(uid)
        index = next((i for i, m in enumerate(versions) if m.uid == uid), 0)
        return index + 1, len(versions)

    def prompt(self, effort: Effort, date: str) -> Conversation:
        """What the model is given for the next answer: every message so far, answers without text left out
        (a failed or empty answer says nothing the model should read), the reasoning kept for the engine
        to drop as the format requires."""
        return Conversation(
            messages=self.prompt_messages(), effort=effort, instructions=self.settings.instructions or None, date=date
        )

    def prompt_messages(self, before: int | None = None) -> tuple[Message, ...]:
        """The shown messages (up to index `before`) as the model reads them."""
        return tuple(
            Message("user", m.content) if m.role == "user" else Message("assistant", m.content, m.reasoning)
            for m in self.messages[:before]
            if (m.role == "user" or m.content) and not m.streaming
        )

    # --- changing ----------------------------------------------------------------------------

    def add_user(self, text: str) -> TranscriptMessage:
        """What the person sent, after the last message shown."""
        return self._add(TranscriptMessage(new_uid(), "user", text))

    def begin_answer(self, effort: str, model: str, adapters: tuple[AnswerAdapter, ...] = ()) -> TranscriptMessage:
        """An answer starts streaming (empty), after the last message shown, written by `model` with `adapters`."""
        answer = TranscriptMessage(new_uid(), "assistant", state="streaming", effort=effort, model=model)
        answer.adapters = adapters
        return self._add(answer)

    def branch_before(self, uid: str) -> bool:
        """The branch shown now ends just before message `uid`, which is kept as a version: the next message
        added (an edited question, a regenerated answer) becomes another version of it. False if `uid` is not
        shown."""
        index = self.index_of(uid)
        if index is None:
            return False
        del self.messages[index:]
        return True

    def choose(self, uid: str) -> list[TranscriptMessage]:
        """Show the version `uid` (a message on any branch), with what followed it when it was shown last.
        Returns the messages now chosen, for the history to remember."""
        target = self.find(uid)
        if target is None:
            return []
        chain = [target]
        while chain[0].parent:
            parent = self.find(chain[0].parent)
            if parent is None:
                break
            chain.insert(0, parent)
        chosen = []
        for message in chain:
            if self._newest_after(message.parent) is not message:
                message.chosen_at = self._stamp()
                chosen.append(message)
        self.messages = self._branch_from("")
        return chosen

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
            case SourcesCited(sources=sources, cited=cited):
                answer.sources = tuple(sources)
                answer.sources_cited = cited
            case PromptSent():
                answer.prompt = event
            case ToolCall(recipient=recipient, arguments=arguments):
                answer.steps.append(ToolStep(recipient, arguments, len(answer.reasoning)))
            case ToolApproval():
                _replace_open_step(answer, status="waiting")
            case ToolResult():
                _take_result(answer, event)
            case Done(stop_reason=reason, stats=stats, citations=citations):
                answer.citations = citations
                answer.state = "stopped" if reason == "cancelled" else "complete"
                answer.stats = message_stats(stats)
                answer.ending = reason
                _end_steps(answer, not_run=reason == "call")
            case Failed(message=text):
                answer.state = "error"
                answer.ending = text
                _end_steps(answer)
            case _:
                pass  # notices and other channels do not change what was said
        return answer

    def stop_streaming(self) -> TranscriptMessage | None:
        """The answer being streamed ends where it is (the conversation is left, or the app closes)."""
        answer = self.answer
        if answer is not None:
            answer.state = "stopped"
            answer.ending = "cancelled"
            _end_steps(answer)
        return answer

    # --- the branches --------------------------------------------------------------------------

    def _add(self, message: TranscriptMessage) -> TranscriptMessage:
        message.parent = self.messages[-1].uid if self.messages else ""
        message.chosen_at = self._stamp()
        self.messages.append(message)
        self.every.append(message)
        return message

    def _newest_after(self, parent: str) -> TranscriptMessage | None:
        """The message shown after `parent` ("" for the start): the one chosen or made last."""
        newest = None
        for message in self.every:
            if message.parent == parent and (newest is None or message.chosen_at >= newest.chosen_at):
                newest = message
        return newest

    def _branch_from(self, parent: str) -> list[TranscriptMessage]:
        newest: dict[str, TranscriptMessage] = {}  # by parent: the message shown after it
        for message in self.every:
            shown = newest.get(message.parent)
            if shown is None or message.chosen_at >= shown.chosen_at:
                newest[message.parent] = message
        branch: list[TranscriptMessage] = []
        seen: set[str] = set()
        following = newest.get(parent)
        while following is not None and following.uid not in seen:  # a damaged history must not loop forever
            seen.add(following.uid)
            branch.append(following)
            following = newest.get(following.uid)
        return branch

    def _stamp(self) -> float:
        """Now, and always later than any version chosen before (clocks can be coarse or go back)."""
        latest = max((m.chosen_at for m in self.every), default=0.0)
        return max(time.time(), latest + 1e-6)
