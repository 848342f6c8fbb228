"""The same requests to llama-cpp-python's own server (a server this project did not write, serving the
same trained model through a harmony chat template) and to ours: the same shapes, field for field,
and the same tokens; where it leaks harmony into `content`, ours separates reasoning from answer."""

from __future__ import annotations

import json
from typing import Any

import httpx

from gptoss_desktop.core.harmony.completion import parse_completion
from gptoss_desktop.core.harmony.tokens import HARMONY_TOKENS
from tests.fixtures.api_server import Served
from tests.fixtures.llama_server import LlamaServer

QUESTION = [{"role": "user", "content": "What is 12 + 7?"}]


def shape(value: Any) -> Any:
    """Keys and value types, recursively: what a client's parser depends on."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def covers(ours: Any, theirs: Any, where: str = "") -> None:
    """Every field of theirs is in ours with the same type (null may stand for an absent object)."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), where
        for key, item in theirs.items():
            assert key in ours, f"{where}.{key} missing"
            covers(ours[key], item, f"{where}.{key}")
    elif isinstance(theirs, list) and theirs:
        assert isinstance(ours, list) and ours, where
        covers(ours[0], theirs[0], f"{where}[0]")
    elif theirs != "NoneType":
        assert ours == theirs, f"{where}: {ours} vs {theirs}"


def chunks(url: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    with httpx.stream("POST", f"{url}/chat/completions", json={**body, "stream": True}, timeout=60) as stream:
        lines = [line.removeprefix("data: ") for line in stream.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    return [json.loads(line) for line in lines[:-1]]


def test_a_completion_has_every_field_theirs_has_and_the_same_tokens(
    gpt_oss_server: LlamaServer, served: Served
) -> None:
    body = {"messages": QUESTION, "temperature": 0, "max_tokens": 200}
    theirs = httpx.post(
        f"{gpt_oss_server.url}/chat/completions", json={**body, "model": gpt_oss_server.alias}, timeout=60
    ).json()
    ours = httpx.post(f"{served.url}/chat/completions", json={**body, "model": served.model}, timeout=60).json()
    covers(shape(ours), shape(theirs))
    # The same prompt (their template renders what our renderer does) and the same reply...
    assert ours["usage"]["prompt_tokens"] == theirs["usage"]["prompt_tokens"]
    leaked = theirs["choices"][0]["message"]["content"]
    assert any(token in leaked for token in HARMONY_TOKENS)  # theirs: harmony as text in content
    parsed = parse_completion(leaked)
    message = ours["choices"][0]["message"]
    # ...which ours returns apart: the answer alone in content, the reasoning in both fields.
    assert message["content"] == parsed.answer == "19"
    assert message["reasoning_content"] == message["reasoning"] == parsed.reasoning


def test_stream_chunks_have_every_field_theirs_have(gpt_oss_server: LlamaServer, served: Served) -> None:
    body = {"messages": QUESTION, "temperature": 0, "max_tokens": 200}
    theirs = chunks(gpt_oss_server.url, {**body, "model": gpt_oss_server.alias})
    ours = chunks(served.url, {**body, "model": served.model})
    for mine, other in ((ours[0], theirs[0]), (ours[1], theirs[1]), (ours[-1], theirs[-1])):
        covers(
            shape({**mine, "choices": [{**mine["choices"][0], "delta": {}}]}),
            shape({**other, "choices": [{**other["choices"][0], "delta": {}}]}),
        )
    assert ours[0]["choices"][0]["delta"]["role"] == theirs[0]["choices"][0]["delta"]["role"] == "assistant"
    assert ours[-1]["choices"][0]["finish_reason"] == theirs[-1]["choices"][0]["finish_reason"] == "stop"
    streamed = "".join(c["choices"][0]["delta"].get("content") or "" for c in theirs)
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in ours) == parse_completion(streamed).answer


def test_the_model_list_has_their_fields(gpt_oss_server: LlamaServer, served: Served) -> None:
    theirs = httpx.get(f"{gpt_oss_server.url}/models").json()
    ours = httpx.get(f"{served.url}/models").json()
    theirs["data"][0].pop("permissions")  # llama-cpp-python's own addition, not in OpenAI's reference
    covers(shape(ours), shape(theirs))


def test_where_theirs_accepts_a_request_without_messages_ours_says_what_is_missing(
    gpt_oss_server: LlamaServer, served: Served
) -> None:
    theirs = httpx.post(
        f"{gpt_oss_server.url}/chat/completions", json={"model": gpt_oss_server.alias, "max_tokens": 1}, timeout=60
    )
    ours = httpx.post(f"{served.url}/chat/completions", json={"model": served.model, "max_tokens": 1}, timeout=60)
    assert theirs.status_code == 200  # it makes something up
    assert ours.status_code == 400 and ours.json()["error"]["param"] == "messages"
