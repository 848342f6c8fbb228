"""`gptoss-desktop serve` as a person runs it (a real process), and a model without harmony served
through its own chat template."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import openai
import pytest

from tests.fixtures.api_server import Served


def serve(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gptoss_desktop", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_serve_prints_its_base_url_answers_and_stops_on_sigterm(trained_model: Path, app_home: Path) -> None:
    process = serve("--model", str(trained_model), "--port", "0", "--context", "1024", env={"SERVE_KEY": "k1"})
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=60)
        reply = client.responses.create(model="gpt-oss-tiny-harmony", input="What is 12 + 7?", temperature=0)
        assert reply.output_text == "19"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert f"at {base_url}" in stderr  # "gptoss-desktop: serving MODEL at URL"
    assert (app_home / "data" / "conversations.db").exists()  # the Responses API kept its reply there


def test_serve_refuses_other_addresses_without_a_key(trained_model: Path) -> None:
    exposed = serve("--model", str(trained_model), "--host", "0.0.0.0", "--port", "0")
    _, stderr = exposed.communicate(timeout=60)
    assert exposed.returncode == 1 and "API key" in stderr
    empty = serve("--model", str(trained_model), "--api-key-env", "NO_SUCH_VARIABLE_SET")
    _, stderr = empty.communicate(timeout=60)
    assert empty.returncode == 1 and "NO_SUCH_VARIABLE_SET holds no API key" in stderr


def test_serve_with_a_key_on_every_address(trained_model: Path) -> None:
    process = serve(
        "--model",
        str(trained_model),
        "--host",
        "0.0.0.0",
        "--port",
        "0",
        "--api-key-env",
        "KEY_VAR",
        env={"KEY_VAR": "s3"},
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        with_key = openai.OpenAI(base_url=base_url, api_key="s3", max_retries=0, timeout=60)
        assert [m.id for m in with_key.models.list()] == ["gpt-oss-tiny-harmony"]
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=base_url, api_key="nope", max_retries=0).models.list()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0


def test_a_model_without_harmony_is_served_through_its_chat_template(smollm2_model: Path, tmp_path: Path) -> None:
    served = Served(smollm2_model, tmp_path / "db.sqlite")
    try:
        client = served.client()
        reply = client.chat.completions.create(
            model=served.model,
            messages=[{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name a color."}],
            max_tokens=20,
            seed=1,
            reasoning_effort="high",
        )
        prompt = served.engine.prompts[-1]
        assert "<|im_start|>system\nYou are terse.<|im_end|>" in prompt
        assert "<|im_start|>user\nName a color.<|im_end|>\n<|im_start|>assistant\n" in prompt
        assert "Reasoning:" not in prompt
        message = reply.choices[0].message
        assert message.content and "reasoning_content" not in (message.model_extra or {})
        stream = client.chat.completions.create(
            model=served.model,
            messages=[{"role": "user", "content": "Name a color."}],
            max_tokens=20,
            seed=1,
            stream=True,
        )
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        tool = {"type": "function", "function": {"name": "get_time"}}
        with pytest.raises(openai.BadRequestError, match="Tool calls need a gpt-oss model"):
            client.chat.completions.create(
                model=served.model,
                messages=[{"role": "user", "content": "Time?"}],
                tools=[tool],  # type: ignore[list-item]
            )
    finally:
        served.stop()
