"""The server engine against a scripted OpenAI-compatible server on 127.0.0.1: how each kind of server
returns reasoning, what each fault looks like to a person, and Stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from gptoss_desktop.core.cancel import CancelFlag
from gptoss_desktop.core.engine import ChatRequest
from gptoss_desktop.core.events import AnswerDelta, Done, EngineEvent, Failed, ReasoningDelta
from gptoss_desktop.core.harmony import Conversation, Message
from gptoss_desktop.core.harmony.tokens import HARMONY_TOKENS
from gptoss_desktop.core.remote.openai_engine import ServerEngine, ServerTimeouts
from gptoss_desktop.core.remote.server_errors import ServerUnavailableError
from tests.fixtures.llama_server import free_port
from tests.fixtures.sse_server import Reply, ScriptedServer, answers, delta


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as running:
        yield running


def ask(engine: ServerEngine, text: str = "What is 2 + 3?", effort: str = "medium", **kw: object) -> list[EngineEvent]:
    conversation = Conversation(messages=(Message("user", text),), effort=effort)  # type: ignore[arg-type]
    return list(engine.generate(ChatRequest(conversation), **kw))  # type: ignore[arg-type]


def shown(events: list[EngineEvent]) -> tuple[str, str]:
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    return reasoning, "".join(e.text for e in events if isinstance(e, AnswerDelta))


def connect(server: ScriptedServer, **kw: object) -> ServerEngine:
    return ServerEngine(server.url, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_in_its_own_field_stays_apart_from_the_answer(server: ScriptedServer, field: str) -> None:
    server.script = answers(
        delta(**{field: "Add 2 and 3."}),  # type: ignore[arg-type]
        delta(**{field: " Five."}),  # type: ignore[arg-type]
        delta("The answer"),
        delta(" is 5."),
        delta(finish_reason="stop"),
    )
    engine = connect(server)
    events = ask(engine)
    engine.close()
    assert shown(events) == ("Add 2 and 3. Five.", "The answer is 5.")
    done = events[-1]
    assert isinstance(done, Done) and done.stop_reason == "return"
    assert done.stats.completion_tokens == 4 and done.stats.reasoning_tokens == 2


def test_raw_harmony_in_content_is_parsed_even_when_chunks_split_control_strings(server: ScriptedServer) -> None:
    pieces = ["<|chan", "nel|>analysis<|mes", "sage|>Add. 2+3", "=5.<|end|><", "|start|>assistant<|channel|>fi"]
    pieces += ["nal<|message|>", "It is ", "5."]
    server.script = answers(*(delta(p) for p in pieces), delta(finish_reason="stop"))
    engine = connect(server)
    events = ask(engine)
    engine.close()
    reasoning, answer = shown(events)
    assert (reasoning, answer) == ("Add. 2+3=5.", "It is 5.")
    assert not any(token in reasoning + answer for token in HARMONY_TOKENS)


def test_a_plain_answer_with_angle_brackets_is_left_alone(server: ScriptedServer) -> None:
    server.script = answers(delta("Use <b>bold</b> or a <"), delta("| pipe."), delta(finish_reason="stop"))
    server.models = [{"id": "smollm2", "owned_by": "llamacpp"}]
    engine = connect(server)
    events = ask(engine)
    engine.close()
    assert shown(events) == ("", "Use <b>bold</b> or a <| pipe.")
    assert isinstance(events[-1], Done) and events[-1].stop_reason == "eos"


def test_effort_is_sent_the_ways_servers_read_it(server: ScriptedServer) -> None:
    server.models = [{"id": "gpt-oss-20b", "owned_by": "llamacpp"}]
    engine = connect(server)
    ask(engine, effort="high")
    engine.close()
    body = server.requests[-1]
    assert body["reasoning_effort"] == "high"
    assert body["chat_template_kwargs"] == {"reasoning_effort": "high"}
    assert body["stream"] is True and body["model"] == "gpt-oss-20b"
    assert body["messages"] == [{"role": "user", "content": "What is 2 + 3?"}]
    assert engine.info.effort_note == ""


def test_vllm_gets_reasoning_effort_only_and_a_non_gpt_oss_model_gets_none(server: ScriptedServer) -> None:
    server.models = [{"id": "openai/gpt-oss-120b", "owned_by": "vllm"}, {"id": "Qwen3-8B", "owned_by": "vllm"}]
    engine = connect(server)
    ask(engine, effort="low")
    engine.close()
    assert server.requests[-1]["reasoning_effort"] == "low" and "chat_template_kwargs" not in server.requests[-1]
    other = connect(server, model="Qwen3-8B")
    ask(other)
    other.close()
    assert not other.info.is_harmony
    assert "reasoning_effort" not in server.requests[-1]


def test_llama_cpp_python_is_said_to_ignore_the_effort(server: ScriptedServer) -> None:
    server.models = [{"id": "gpt-oss-20b", "owned_by": "me"}]
    engine = connect(server)
    engine.close()
    assert engine.info.server_kind == "llama-cpp-python"
    assert "does not pass the reasoning effort" in engine.info.effort_note


def test_a_server_that_refuses_chat_template_kwargs_is_asked_again_without(server: ScriptedServer) -> None:
    server.models = [{"id": "gpt-oss-20b", "owned_by": "someone"}]

    def strict(reply: Reply) -> None:
        if "chat_template_kwargs" in reply.body:
            reply.error(400, {"error": {"message": "Unrecognized request argument supplied: chat_template_kwargs"}})
        else:
            reply.stream([delta("5"), delta(finish_reason="stop")])

    server.script = strict
    engine = connect(server)
    first, second = ask(engine), ask(engine)
    engine.close()
    assert shown(first) == shown(second) == ("", "5")
    assert [("chat_template_kwargs" in r) for r in server.requests] == [True, False, False]
    assert all(r["reasoning_effort"] == "medium" for r in server.requests)


def test_history_keeps_answers_and_instructions_go_first(server: ScriptedServer) -> None:
    engine = connect(server)
    conversation = Conversation(
        messages=(
            Message("user", "What is 2 + 3?"),
            Message("assistant", "5", reasoning="Add."),
            Message("user", "Add 3 to that."),
        ),
        instructions="Answer with a number.",
    )
    list(engine.generate(ChatRequest(conversation)))
    engine.close()
    assert server.requests[-1]["messages"] == [
        {"role": "system", "content": "Answer with a number."},
        {"role": "user", "content": "What is 2 + 3?"},
        {"role": "assistant", "content": "5"},
        {"role": "user", "content": "Add 3 to that."},
    ]


def test_the_named_model_or_the_first_gpt_oss_one(server: ScriptedServer) -> None:
    server.models = [{"id": "llama-3-8b"}, {"id": "gpt-oss-20b"}, {"id": "gpt-oss-120b"}]
    engine = connect(server)
    named = connect(server, model="gpt-oss-120b")
    engine.close()
    named.close()
    assert (engine.info.name, named.info.name) == ("gpt-oss-20b", "gpt-oss-120b")


def test_an_unknown_model_names_the_ones_there_are(server: ScriptedServer) -> None:
    server.models = [{"id": "gpt-oss-20b"}, {"id": "qwen3"}]
    with pytest.raises(
        ServerUnavailableError, match=r"has no model named 'gpt-oss-120b'. It offers: gpt-oss-20b, qwen3"
    ):
        connect(server, model="gpt-oss-120b")


def test_a_model_gone_from_the_server_while_chatting_says_what_the_server_said(server: ScriptedServer) -> None:
    server.script = lambda reply: reply.error(404, {"error": {"message": "The model `gpt-oss-20b` does not exist."}})
    engine = connect(server)
    events = ask(engine)
    engine.close()
    assert len(events) == 1 and isinstance(events[0], Failed)
    assert "404" in events[0].message and "The model `gpt-oss-20b` does not exist." in events[0].message


def test_api_key_is_sent_and_its_absence_or_a_wrong_one_is_explained(server: ScriptedServer) -> None:
    server.api_key = "sekrit"
    with pytest.raises(ServerUnavailableError, match="asks for an API key"):
        connect(server)
    with pytest.raises(ServerUnavailableError, match="refused the API key"):
        connect(server, api_key="wrong")
    engine = connect(server, api_key="sekrit")
    assert shown(ask(engine)) == ("", "Hi.")
    engine.close()
    assert server.authorizations[-1] == "Bearer sekrit"


def test_forbidden_is_explained(server: ScriptedServer) -> None:
    server.script = lambda reply: reply.error(403, {"error": {"message": "no access to gpt-oss-20b"}})
    engine = connect(server)
    [failed] = ask(engine)
    engine.close()
    assert isinstance(failed, Failed)
    assert "does not allow this request (403 Forbidden)" in failed.message and "no access" in failed.message


def test_a_stream_dropped_mid_answer_keeps_what_came_and_says_so(server: ScriptedServer) -> None:
    server.script = lambda reply: reply.stream([delta(reasoning_content="Add."), delta("The answer is")], done=False)
    engine = connect(server)
    events = ask(engine)
    engine.close()
    assert shown(events) == ("Add.", "The answer is")
    assert isinstance(events[-1], Failed)
    assert "ended mid-answer; the answer so far is kept but incomplete" in events[-1].message


def test_a_malformed_event_stops_with_a_message_and_keeps_what_came(server: ScriptedServer) -> None:
    server.script = answers(delta("Five"), '{"choices": [{"delta": {"content": "!"', delta(" more"))
    engine = connect(server)
    events = ask(engine)
    engine.close()
    assert shown(events) == ("", "Five")
    assert isinstance(events[-1], Failed) and "not valid JSON" in events[-1].message
    assert "what came before is kept" in events[-1].message


def test_an_error_event_in_the_stream_is_shown(server: ScriptedServer) -> None:
    server.script = answers(delta("Fi"), {"error": {"message": "the context is full", "code": 500}})
    engine = connect(server)
    events = ask(engine)
    engine.close()
    assert shown(events) == ("", "Fi")
    assert isinstance(events[-1], Failed) and '"the context is full"' in events[-1].message


def test_connection_refused_is_explained() -> None:
    with pytest.raises(ServerUnavailableError, match=r"connection was refused\. Is the server running on that port"):
        ServerEngine(f"http://127.0.0.1:{free_port()}/v1")


def test_a_server_that_went_away_fails_the_request_clearly() -> None:
    with ScriptedServer() as first:
        engine = ServerEngine(first.url)
    events = ask(engine)
    engine.close()
    assert len(events) == 1 and isinstance(events[0], Failed) and "refused" in events[0].message


def test_silence_times_out_with_a_message(server: ScriptedServer) -> None:
    server.script = lambda reply: reply.stall()
    engine = connect(server, timeouts=ServerTimeouts(connect=2, read=0.3))
    [failed] = ask(engine)
    engine.close()
    assert isinstance(failed, Failed) and "sent nothing back in time" in failed.message


def stop_when_arrived(server: ScriptedServer, cancel: CancelFlag, stopped_at: list[float]) -> threading.Thread:
    def stop() -> None:
        server.arrived.wait(10)
        stopped_at.append(time.perf_counter())
        cancel.set()

    thread = threading.Thread(target=stop)
    thread.start()
    return thread


@pytest.mark.parametrize("headers_first", [False, True])
def test_stop_during_a_slow_first_byte_returns_at_once(server: ScriptedServer, headers_first: bool) -> None:
    if headers_first:
        server.script = lambda reply: reply.stream([], headers_only_then_wait=True)
    else:
        server.script = lambda reply: reply.stall()
    engine = connect(server)
    cancel = CancelFlag()
    stopped_at: list[float] = []
    stopper = stop_when_arrived(server, cancel, stopped_at)
    events = ask(engine, cancel=cancel)
    ended = time.perf_counter()
    stopper.join()
    engine.close()
    assert ended - stopped_at[0] < 0.5
    assert len(events) == 1 and isinstance(events[0], Done) and events[0].stop_reason == "cancelled"


def test_stop_mid_stream_keeps_what_came_and_closes_the_connection(server: ScriptedServer) -> None:
    def endless(reply: Reply) -> None:
        reply.stream([delta(reasoning_content="Thinking.")] + [delta(" more")] * 3, done=False)
        reply.stall()

    server.script = endless
    engine = connect(server)
    cancel = CancelFlag()
    events: list[EngineEvent] = []
    for event in engine.generate(ChatRequest(Conversation(messages=(Message("user", "go"),))), cancel):
        events.append(event)
        if isinstance(event, AnswerDelta):
            started = time.perf_counter()
            cancel.set()
    ended = time.perf_counter()
    engine.close()
    assert ended - started < 0.5
    assert shown(events)[0] == "Thinking." and shown(events)[1].startswith(" more")
    assert isinstance(events[-1], Done) and events[-1].stop_reason == "cancelled"


def test_a_long_conversation_is_trimmed_to_the_servers_context(server: ScriptedServer) -> None:
    engine = connect(server, context_size=1024)
    turns: list[Message] = []
    for n in range(40):
        turns += [Message("user", f"Question {n}: " + "word " * 40), Message("assistant", "Answer " * 20)]
    events = list(engine.generate(ChatRequest(Conversation(messages=(*turns, Message("user", "Last?"))))))
    engine.close()
    trimmed = events[0]
    assert type(trimmed).__name__ == "ContextTrimmed"
    sent = server.requests[-1]["messages"]
    assert sent[-1] == {"role": "user", "content": "Last?"} and len(sent) < 81
    assert engine.count_prompt_tokens(Conversation(messages=tuple(Message(**m) for m in sent))) <= 1024


def test_asking_a_closed_engine_says_so(server: ScriptedServer) -> None:
    engine = connect(server)
    engine.close()
    [failed] = ask(engine)
    assert isinstance(failed, Failed) and "disconnected from this conversation" in failed.message


def test_llama_servers_props_give_its_context_and_whether_its_template_reads_the_effort(server: ScriptedServer) -> None:
    server.models = [{"id": "gpt-oss-20b", "owned_by": "llamacpp"}]
    server.props = {"default_generation_settings": {"n_ctx": 16384}, "chat_template": "{{ messages }} no effort here"}
    deaf = connect(server)
    deaf.close()
    server.props["chat_template"] = "Reasoning: {{ reasoning_effort | default('medium') }}"
    hearing = connect(server)
    hearing.close()
    assert deaf.info.context_size == hearing.info.context_size == 16384 and deaf.info.context_known
    assert "does not pass the reasoning effort" in deaf.info.effort_note
    assert hearing.info.effort_honoured is True and hearing.info.effort_note == ""


def test_an_address_without_the_api_says_what_to_check(server: ScriptedServer) -> None:
    with pytest.raises(ServerUnavailableError, match=r"404 Not Found\)\. Check the address: it usually ends in /v1"):
        ServerEngine(server.url.removesuffix("/v1") + "/api/v1")


def test_an_address_that_moved_is_named_and_not_followed(server: ScriptedServer) -> None:
    server.moved_to = "https://gpu-box.example:8443/v1"
    with pytest.raises(ServerUnavailableError) as refused:
        connect(server)
    assert "has moved to https://gpu-box.example:8443/v1. Use that address instead" in str(refused.value)
    assert "OpenAI-compatible" not in str(refused.value)  # it is one, just elsewhere


def test_a_stream_closed_before_any_answer_says_what_may_be_wrong(server: ScriptedServer) -> None:
    server.script = lambda reply: reply.stream([], done=False)
    engine = connect(server)
    [failed] = ask(engine)
    engine.close()
    assert isinstance(failed, Failed) and "longer than the server's context, or the server failed" in failed.message


def test_a_server_that_never_lists_its_models_times_out_quickly(server: ScriptedServer) -> None:
    server.stall_models = True
    started = time.perf_counter()
    with pytest.raises(ServerUnavailableError, match="accepted the request but sent nothing back in time"):
        connect(server, timeouts=ServerTimeouts(connect=2, read=600, quick=0.3))
    assert time.perf_counter() - started < 5
