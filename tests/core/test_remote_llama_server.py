"""The server engine against a server this project did not write: llama-cpp-python's own
(`python -m llama_cpp.server`) serving the tiny gpt-oss (raw harmony comes back in `content`)
and SmolLM2 (a model that is not gpt-oss)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gptoss_desktop.core.cancel import CancelFlag
from gptoss_desktop.core.documents.answer import DocumentsUsed, PartRead, answer_with_documents
from gptoss_desktop.core.documents.types import Chunk, Passage
from gptoss_desktop.core.engine import ChatRequest
from gptoss_desktop.core.events import AnswerDelta, Done, EngineEvent, Failed, ReasoningDelta
from gptoss_desktop.core.harmony import Conversation, Message
from gptoss_desktop.core.harmony.tokens import HARMONY_TOKENS
from gptoss_desktop.core.remote.openai_engine import ServerEngine
from gptoss_desktop.core.remote.server_errors import ServerUnavailableError
from gptoss_desktop.core.sampling import SamplingParams
from tests.fixtures.llama_server import LlamaServer, with_chat_template

GREEDY = SamplingParams(temperature=0.0, max_tokens=200, seed=1)
QUICK = SamplingParams(temperature=0.0, max_tokens=24, seed=1)


@pytest.fixture(scope="module")
def babbler_server(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    model = with_chat_template(tiny_model, tmp_path_factory.mktemp("served") / "gpt-oss-babbler.gguf")
    server = LlamaServer(model, "gpt-oss-babbler")
    yield server
    server.stop()


def ask(engine: ServerEngine, text: str, cancel: CancelFlag | None = None) -> list[EngineEvent]:
    conversation = Conversation(messages=(Message("user", text),), effort="high")
    return list(engine.generate(ChatRequest(conversation, GREEDY), cancel))


def shown(events: list[EngineEvent]) -> tuple[str, str]:
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    return reasoning, "".join(e.text for e in events if isinstance(e, AnswerDelta))


def test_raw_harmony_from_the_server_comes_out_as_reasoning_and_answer(gpt_oss_server: LlamaServer) -> None:
    engine = ServerEngine(gpt_oss_server.url)
    try:
        sums, capital = ask(engine, "What is 2 + 3?"), ask(engine, "What is the capital of France?")
    finally:
        engine.close()
    assert engine.info.name == "gpt-oss-tiny" and engine.info.is_harmony
    assert engine.info.server_kind == "llama-cpp-python"
    reasoning, answer = shown(sums)
    assert "2 + 3" in reasoning and answer == "5"
    assert shown(capital)[1] == "Paris"
    for events in (sums, capital):
        text = "".join(shown(events))
        assert not any(token in text for token in HARMONY_TOKENS)
        done = events[-1]
        assert isinstance(done, Done) and done.stop_reason == "return"
        assert done.stats.prompt_tokens > 0 and 0 < done.stats.reasoning_tokens < done.stats.completion_tokens


def test_a_follow_up_uses_the_history(gpt_oss_server: LlamaServer) -> None:
    engine = ServerEngine(gpt_oss_server.url)
    first = Conversation(messages=(Message("user", "What is 2 + 3?"),), effort="high")
    answer = shown(list(engine.generate(ChatRequest(first, GREEDY))))[1]
    follow = Conversation(messages=(*first.messages, Message("assistant", answer), Message("user", "Add 3 to that.")))
    events = list(engine.generate(ChatRequest(follow, GREEDY)))
    engine.close()
    assert (answer, shown(events)[1]) == ("5", "8")


def test_stop_ends_the_stream_and_the_server_answers_the_next_request(babbler_server: LlamaServer) -> None:
    engine = ServerEngine(babbler_server.url)
    cancel = CancelFlag()
    events: list[EngineEvent] = []
    request = ChatRequest(Conversation(messages=(Message("user", "hi"),)), SamplingParams(max_tokens=1500, seed=3))
    for event in engine.generate(request, cancel):
        events.append(event)
        if len(events) == 5:
            cancel.set()
    done = events[-1]
    assert isinstance(done, Done) and done.stop_reason == "cancelled"
    assert done.stats.completion_tokens < 100
    again = list(engine.generate(ChatRequest(request.conversation, SamplingParams(max_tokens=8, seed=3))))
    engine.close()
    assert isinstance(again[-1], Done) and again[-1].stop_reason == "length"


def test_a_model_that_is_not_gpt_oss_answers_without_reasoning(smollm2_model: Path) -> None:
    server = LlamaServer(smollm2_model, "smollm2-135m-instruct")
    try:
        engine = ServerEngine(server.url)
        events = ask(engine, "What is the capital of France? Answer in one word.")
        engine.close()
    finally:
        server.stop()
    assert not engine.info.is_harmony and engine.info.effort_note == ""
    reasoning, answer = shown(events)
    assert reasoning == "" and "Paris" in answer
    assert isinstance(events[-1], Done) and events[-1].stop_reason == "eos"


def test_unknown_model_and_missing_key_are_explained_by_a_real_server(trained_model: Path) -> None:
    server = LlamaServer(trained_model, "gpt-oss-tiny", api_key="sekrit")
    try:
        with pytest.raises(ServerUnavailableError, match="asks for an API key"):
            ServerEngine(server.url)
        with pytest.raises(ServerUnavailableError, match="refused the API key"):
            ServerEngine(server.url, api_key="nope")
        with pytest.raises(ServerUnavailableError, match=r"no model named 'gpt-oss-20b'\. It offers: gpt-oss-tiny"):
            ServerEngine(server.url, api_key="sekrit", model="gpt-oss-20b")
        engine = ServerEngine(server.url, api_key="sekrit")
    finally:
        server.stop()
    events = ask(engine, "What is 2 + 3?")  # the server is gone now
    engine.close()
    assert len(events) == 1 and isinstance(events[0], Failed) and "refused" in events[0].message


class ListSource:
    """Passages from a list, searched by shared words (the SQLite index is tested on its own)."""

    def __init__(self, texts: list[str]) -> None:
        self.passages = [Passage("doc", "log.txt", Chunk(i, text, line_start=i + 1)) for i, text in enumerate(texts)]

    def all_passages(self) -> list[Passage]:
        return list(self.passages)

    def search(self, question: str, k: int) -> list[Passage]:
        words = set(question.lower().split())
        return sorted(self.passages, key=lambda p: -len(words & set(p.chunk.text.lower().split())))[:k]


@pytest.mark.parametrize(
    ("question", "strategy"), [("Summarize the log.", "map_reduce"), ("When did 7 fail?", "retrieve")]
)
def test_documents_larger_than_the_servers_context_are_answered_in_requests_that_fit(
    gpt_oss_server: LlamaServer, question: str, strategy: str
) -> None:
    """Token counts on a server are estimates; every request they plan must still fit its 2048 tokens."""
    texts = [f"Entry {n}: machine {n % 9} checked at {n}:00, pressure {n * 7 % 90} kPa, " * 6 for n in range(60)]
    engine = ServerEngine(gpt_oss_server.url, context_size=2048)
    conversation = Conversation(messages=(Message("user", question),), effort="low")
    events = list(answer_with_documents(engine, conversation, ListSource(texts), QUICK))
    engine.close()
    failures = [e for e in events if isinstance(e, Failed)]
    assert failures == []
    used = next(e for e in events if isinstance(e, DocumentsUsed))
    assert used.strategy == strategy
    if strategy == "map_reduce":
        assert [e.parts for e in events if isinstance(e, PartRead)][-1] > 1
    assert isinstance(events[-1], Done) and events[-1].stop_reason in ("return", "length")


def test_token_counts_come_from_the_servers_tokenizer(gpt_oss_server: LlamaServer, trained_model: Path) -> None:
    from gptoss_desktop.core.local.engine import LocalEngine

    text = "Entry 12: machine 3 checked at 12:00, pressure 84 kPa. " * 20
    engine = ServerEngine(gpt_oss_server.url)
    local = LocalEngine(trained_model, context_size=1024)
    try:
        assert engine.count_text_tokens(text) == local.count_text_tokens(text)
    finally:
        engine.close()
        local.close()
