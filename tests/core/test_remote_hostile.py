"""The server engine against a server that attacks it: every reply is bounded in memory and time, and
ends in a message, never a traceback, a hang or an echoed key."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

import pytest

from gptoss_desktop.core.engine import ChatRequest
from gptoss_desktop.core.events import AnswerDelta, EngineEvent, Failed
from gptoss_desktop.core.harmony import Conversation, Message
from gptoss_desktop.core.remote.openai_engine import ServerEngine, ServerTimeouts
from gptoss_desktop.core.remote.server_errors import ServerUnavailableError
from gptoss_desktop.core.sampling import SamplingParams
from tests.fixtures import hostile_server as attacks
from tests.fixtures.hostile_server import HostileServer

#: Python memory a reply may take at its peak: the limits are 8 MB for a whole reply, 4 MB for a line.
MEMORY_BOUND = 64 << 20
#: Bytes a client reads before giving up on a line that never ends.
SENT_BOUND = 32 << 20
QUICK = ServerTimeouts(connect=5.0, read=2.0, quick=2.0)


@pytest.fixture
def bounded_memory() -> Iterator[None]:
    tracemalloc.start()
    yield
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < MEMORY_BOUND, f"the client's memory peaked at {peak >> 20} MB"


def answer(server: HostileServer, *, key: str | None = None, context: int | None = None) -> list[EngineEvent]:
    engine = ServerEngine(server.url, api_key=key, context_size=context, timeouts=QUICK)
    try:
        request = ChatRequest(Conversation(messages=(Message("user", "hi"),)), SamplingParams(max_tokens=None))
        return list(engine.generate(request))
    finally:
        engine.close()


def failure(events: list[EngineEvent]) -> str:
    assert isinstance(events[-1], Failed), events[-3:]
    return events[-1].message


@pytest.mark.usefixtures("bounded_memory")
def test_a_line_that_never_ends_is_cut_off() -> None:
    with HostileServer(chat=attacks.huge_line) as server:
        assert "sent a line over 4 MB" in failure(answer(server))
    assert max(server.sent) < SENT_BOUND


@pytest.mark.usefixtures("bounded_memory")
def test_a_huge_model_list_is_refused() -> None:
    with HostileServer(models=attacks.huge_models) as server, pytest.raises(ServerUnavailableError) as refused:
        answer(server)
    assert "sent a reply over 8 MB" in str(refused.value)
    assert max(server.sent) < SENT_BOUND


@pytest.mark.usefixtures("bounded_memory")
def test_a_gzip_bomb_model_list_is_inflated_only_up_to_the_limit() -> None:
    attacks.gzip_bomb()  # made before the server is asked, not inside its 2 s
    with HostileServer(models=attacks.gzip_bomb_models) as server, pytest.raises(ServerUnavailableError) as refused:
        answer(server)
    assert "sent a reply over 8 MB" in str(refused.value)


@pytest.mark.usefixtures("bounded_memory")
def test_a_chunked_gzip_bomb_stream_is_inflated_only_up_to_the_line_limit() -> None:
    attacks.gzip_bomb(payload=b"data: ")
    with HostileServer(chat=attacks.gzip_bomb_stream) as server:
        assert "sent a line over 4 MB" in failure(answer(server))


@pytest.mark.usefixtures("bounded_memory")
def test_data_lines_that_never_end_an_event_are_cut_off() -> None:
    with HostileServer(chat=attacks.no_blank_lines) as server:
        assert "sent an event over 4 MB" in failure(answer(server))
    assert max(server.sent) < SENT_BOUND


def test_an_endless_answer_stops_past_the_context_and_keeps_what_came() -> None:
    with HostileServer(chat=attacks.endless_answer) as server:
        events = answer(server, context=256)
    assert "kept sending past the length of its context (256 tokens)" in failure(events)
    assert "what came before is kept" in failure(events)
    assert sum(isinstance(e, AnswerDelta) for e in events) > 256


def test_an_event_nested_100000_deep_is_a_message() -> None:
    with HostileServer(chat=attacks.deep_json) as server:
        assert "sent an event that is not valid JSON" in failure(answer(server))


def test_a_model_list_nested_100000_deep_is_a_message() -> None:
    with HostileServer(models=attacks.deep_models) as server, pytest.raises(ServerUnavailableError) as refused:
        answer(server)
    assert "did not answer like an OpenAI-compatible server" in str(refused.value)


def test_a_server_echoing_the_api_key_is_quoted_without_it() -> None:
    key = "sk-secret-0123456789"
    with HostileServer(chat=attacks.echo_key) as server:
        message = failure(answer(server, key=key))
    assert "refused the API key" in message and key not in message and "[API key]" in message


def test_an_api_key_with_a_line_break_is_refused_without_echoing_it() -> None:
    key = "sk-secret-0123456789\nX-Evil: 1"
    with HostileServer() as server, pytest.raises(ServerUnavailableError) as refused:
        answer(server, key=key)
    assert "holds a line break" in str(refused.value)
    assert "sk-secret" not in str(refused.value)
    assert server.sent == []  # nothing was sent with it


def test_a_redirect_on_chat_completions_is_named_and_not_followed() -> None:
    with HostileServer(chat=attacks.redirect) as server:
        message = failure(answer(server))
    assert "says the API has moved to https://elsewhere.example/v1" in message
    assert "closed the answer before it began" not in message


def test_a_slowloris_stream_is_cut_off_at_the_read_timeout() -> None:
    with HostileServer(chat=attacks.slowloris) as server:
        assert "sent no complete event for 2 s, only a trickle of bytes" in failure(answer(server))


def test_a_slowloris_model_list_is_cut_off_at_the_quick_timeout() -> None:
    with HostileServer(models=attacks.slowloris_models) as server, pytest.raises(ServerUnavailableError) as refused:
        answer(server)
    assert "took over 2 s to send a short reply" in str(refused.value)
