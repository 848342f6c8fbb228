"""Errors in OpenAI's shape, the guard (Host, Origin, content type, API key), disconnects that cancel,
and the bounded queue; all over real HTTP to the app's server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from gptoss_desktop.core.api.server import ServeError, check_exposure
from tests.fixtures.api_server import Served
from tests.fixtures.polling import wait_until

QUESTION = [{"role": "user", "content": "What is 12 + 7?"}]
CONTEXT = 16384


def post(served: Served, body: object = None, **options: object) -> httpx.Response:
    options.setdefault("timeout", 30)
    return httpx.post(f"{served.url}/chat/completions", json=body, **options)  # type: ignore[arg-type]


def error_of(response: httpx.Response) -> dict[str, object]:
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    return error  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("body", "status", "param", "code"),
    [
        ({"model": "gpt-oss-tiny-harmony"}, 400, "messages", None),
        ({"messages": QUESTION}, 400, "model", "missing_required_parameter"),
        ({"model": "gpt-4o", "messages": QUESTION}, 404, "model", "model_not_found"),
        ({"model": "gpt-oss-tiny-harmony", "messages": QUESTION, "n": 2}, 400, "n", "unsupported_parameter"),
        (
            {"model": "gpt-oss-tiny-harmony", "messages": QUESTION, "temperature": 3},
            400,
            "temperature",
            "invalid_value",
        ),
        (
            {"model": "gpt-oss-tiny-harmony", "messages": QUESTION, "reasoning_effort": "huge"},
            400,
            "reasoning_effort",
            "invalid_value",
        ),
        (
            {"model": "gpt-oss-tiny-harmony", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
            400,
            "messages[0].content[0]",
            "unsupported_parameter",
        ),
        (
            {"model": "gpt-oss-tiny-harmony", "messages": [{"role": "assistant", "content": "hi"}]},
            400,
            "messages",
            "invalid_value",
        ),
        (
            {"model": "gpt-oss-tiny-harmony", "messages": QUESTION, "response_format": {"type": "yaml"}},
            400,
            "response_format.type",
            "unsupported_parameter",
        ),
    ],
)
def test_bad_requests_get_an_openai_error_naming_the_parameter(
    served: Served, body: dict[str, object], status: int, param: str, code: str | None
) -> None:
    response = post(served, body)
    assert response.status_code == status
    error = error_of(response)
    assert (error["param"], error["code"]) == (param, code)


def test_malformed_json_and_wrong_routes(served: Served) -> None:
    broken = post(served, content=b'{"model": "x", "messages": [', headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and error_of(broken)["code"] == "invalid_json"
    assert error_of(httpx.get(f"{served.url}/nothing/here"))["message"] == "Invalid URL (GET /v1/nothing/here)"
    assert httpx.get(f"{served.url}/chat/completions").status_code == 405


def test_a_prompt_longer_than_the_context_is_refused_not_cut(served: Served) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        served.client().chat.completions.create(
            model=served.model, messages=[{"role": "user", "content": "12 + 7 " * 2000}]
        )
    assert refused.value.code == "context_length_exceeded"
    assert "1024" in refused.value.message


def test_the_guard_refuses_other_hosts_web_pages_and_non_json(served: Served) -> None:
    body = {"model": served.model, "messages": QUESTION, "max_tokens": 1}
    rebound = post(served, body, headers={"Host": "attacker.example:8080"})
    assert rebound.status_code == 403 and error_of(rebound)["code"] == "host_not_allowed"
    page = post(served, body, headers={"Origin": "https://attacker.example"})
    assert page.status_code == 403 and error_of(page)["code"] == "origin_not_allowed"
    simple = post(served, content=b'{"model": "x"}', headers={"Content-Type": "text/plain"})
    assert simple.status_code == 415
    assert post(served, body, headers={"Host": "localhost"}).status_code == 200
    assert "access-control-allow-origin" not in {k.lower() for k in post(served, body).headers}


def test_an_api_key_is_required_when_set_and_needed_off_loopback(trained_model: Path, tmp_path: Path) -> None:
    with pytest.raises(ServeError, match="API key"):
        check_exposure("0.0.0.0", None)
    check_exposure("0.0.0.0", "secret")
    check_exposure("::1", None)
    served = Served(trained_model, tmp_path / "db.sqlite", api_key="secret")
    try:
        with pytest.raises(openai.AuthenticationError):
            served.client(api_key="wrong").models.list()
        assert httpx.get(f"{served.url}/models").status_code == 401
        assert [m.id for m in served.client(api_key="secret").models.list()] == [served.model]
        # With a key, the server may be reached by any name (it is the key that protects it).
        named = httpx.get(f"{served.url}/models", headers={"Host": "workstation.lan", "Authorization": "Bearer secret"})
        assert named.status_code == 200
    finally:
        served.stop()


def test_cors_only_for_the_origins_allowed(trained_model: Path, tmp_path: Path) -> None:
    served = Served(trained_model, tmp_path / "db.sqlite", cors_origins=("http://localhost:3000",))
    try:
        preflight = httpx.options(
            f"{served.url}/chat/completions",
            headers={
                "Origin": "http://localhost:3000",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"
        other = httpx.get(f"{served.url}/models", headers={"Origin": "http://evil.example"})
        assert other.status_code == 403
    finally:
        served.stop()


@pytest.fixture(scope="module")
def long_babbler(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tests' babbler with a 16k context: about 8 s of writing before the context is full, so a
    client on a loaded machine still disconnects long before the reply could end by itself."""
    from tests.fixtures.babbler import write_babbler

    return write_babbler(tmp_path_factory.mktemp("models") / "gpt-oss-tiny-babbler.gguf", context_length=CONTEXT)


@pytest.fixture
def babbling(long_babbler: Path, tmp_path: Path) -> Iterator[Served]:
    """A server over the random-weight model that writes until stopped, with room for one waiting request."""
    served = Served(long_babbler, tmp_path / "db.sqlite", context=CONTEXT, max_waiting=1)
    yield served
    served.stop()


def test_a_streaming_client_that_disconnects_cancels_its_generation(babbling: Served) -> None:
    stream = babbling.client().chat.completions.create(
        model=babbling.model, messages=[{"role": "user", "content": "hi"}], stream=True, temperature=0
    )
    for count, _chunk in enumerate(stream):
        if count == 3:
            break
    stream.close()
    assert babbling.engine.endings.get(timeout=30) == "cancelled"


def test_a_waiting_client_that_gives_up_cancels_its_generation(babbling: Served) -> None:
    body = {"model": babbling.model, "messages": [{"role": "user", "content": "hi"}], "temperature": 0}
    with pytest.raises(httpx.ReadTimeout):
        post(babbling, body, timeout=httpx.Timeout(30, read=0.5))
    assert babbling.engine.endings.get(timeout=30) == "cancelled"


def test_a_full_queue_answers_429_and_the_queue_moves_on(babbling: Served) -> None:
    client = babbling.client()
    running = client.chat.completions.create(
        model=babbling.model, messages=[{"role": "user", "content": "hi"}], stream=True, temperature=0
    )
    next(iter(running))  # the first request is generating
    results: list[object] = []
    waiting = threading.Thread(
        target=lambda: results.append(
            client.chat.completions.create(
                model=babbling.model, messages=[{"role": "user", "content": "hi"}], max_tokens=3
            )
        )
    )
    waiting.start()
    wait_until(lambda: babbling.runner._jobs.qsize() == 1)
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model=babbling.model, messages=[{"role": "user", "content": "hi"}])
    assert refused.value.response.headers["retry-after"] == "1"
    running.close()
    waiting.join(timeout=30)
    assert not waiting.is_alive()
    reply = results[0]
    assert isinstance(reply, openai.types.chat.ChatCompletion) and reply.choices[0].finish_reason == "length"
