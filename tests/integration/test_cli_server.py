"""`gptoss-desktop chat --server URL` as a person runs it: a real process against llama-cpp-python's
own server (and the scripted one for keys), printing the same events as the local path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from gptoss_desktop.core.documents.prompting import CITATION_INSTRUCTIONS
from gptoss_desktop.core.harmony.tokens import HARMONY_TOKENS
from tests.fixtures.llama_server import LlamaServer, free_port
from tests.fixtures.sse_server import ScriptedServer, answers, delta

NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gptoss_desktop", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **NO_KEYRING, **(env or {})},
    )


def events_of(result: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_json_events_from_a_server_are_those_of_the_local_path(
    gpt_oss_server: LlamaServer, trained_model: Path
) -> None:
    common = ("--json", "--temperature", "0", "--seed", "1", "--effort", "high", "What is 2 + 3?")
    remote = cli("chat", "--server", gpt_oss_server.url, *common)
    local = cli("chat", "--model", str(trained_model), *common)
    assert remote.returncode == 0, remote.stderr
    assert local.returncode == 0, local.stderr
    remote_events, local_events = events_of(remote), events_of(local)
    assert {e["type"] for e in remote_events} == {e["type"] for e in local_events} == {"reasoning", "answer", "done"}
    assert remote_events[-1].keys() == local_events[-1].keys()
    answer = "".join(str(e["text"]) for e in remote_events if e["type"] == "answer")
    reasoning = "".join(str(e["text"]) for e in remote_events if e["type"] == "reasoning")
    assert answer == "5" and "2 + 3" in reasoning
    assert not any(token in answer + reasoning for token in HARMONY_TOKENS)
    assert remote_events[-1]["stop_reason"] == "return"
    assert "gpt-oss-tiny runs on a server on this computer" in remote.stderr
    assert "does not pass the reasoning effort" in remote.stderr


def test_text_output_from_a_server_separates_reasoning_from_the_answer(gpt_oss_server: LlamaServer) -> None:
    result = cli("chat", "--server", gpt_oss_server.url, "--temperature", "0", "What is the capital of France?")
    assert result.returncode == 0, result.stderr
    reasoning, answer = result.stdout.split("[answer]\n")
    assert reasoning.startswith("[reasoning]\n") and "France" in reasoning
    assert answer.strip() == "Paris"


def test_documents_go_to_the_server_and_it_says_so(gpt_oss_server: LlamaServer, tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\n\nThe meeting is on Tuesday at ten.\n")
    result = cli(
        "chat",
        "--server",
        gpt_oss_server.url,
        "--context",
        "2048",
        "--doc",
        str(notes),
        "--json",
        "When is the meeting?",
    )
    assert result.returncode == 0, result.stderr
    types = [e["type"] for e in events_of(result)]
    assert types[:2] == ["document", "documents"] and types[-1] == "done"
    assert "passages of the documents are sent to that server" in result.stderr


def test_what_a_server_is_sent_for_documents_is_the_question_with_the_quoted_passage(tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\n\nThe meeting is on Tuesday at ten.\n")
    script = answers(delta("On Tuesday at ten [1]."), delta(finish_reason="stop"))
    with ScriptedServer(script=script) as server:
        result = cli("chat", "--server", server.url, "--doc", str(notes), "--json", "When is the meeting?")
    assert result.returncode == 0, result.stderr
    done = events_of(result)[-1]
    assert done["type"] == "done" and done["sources"][0]["document_name"] == "notes.md"  # type: ignore[index]
    [request] = server.requests
    system, question = request["messages"]
    assert system["role"] == "system" and system["content"] == CITATION_INSTRUCTIONS
    assert question["role"] == "user" and "Tuesday at ten" in question["content"]
    assert "When is the meeting?" in question["content"]


def test_errors_are_reported_with_a_non_zero_exit(gpt_oss_server: LlamaServer) -> None:
    refused = cli("chat", "--server", f"http://127.0.0.1:{free_port()}", "--json", "hi")
    assert refused.returncode == 1
    [event] = events_of(refused)
    assert event["type"] == "error" and "connection was refused" in str(event["text"])
    unknown = cli("chat", "--server", gpt_oss_server.url, "--server-model", "gpt-oss-120b", "--json", "hi")
    assert unknown.returncode == 1
    assert "It offers: gpt-oss-tiny" in str(events_of(unknown)[0]["text"])
    no_key = cli("chat", "--server", gpt_oss_server.url, "--api-key-env", "GPTOSS_TEST_NO_SUCH_VARIABLE", "hi")
    assert no_key.returncode == 1
    assert "GPTOSS_TEST_NO_SUCH_VARIABLE holds no API key" in no_key.stderr


def test_exactly_one_of_model_and_server(trained_model: Path) -> None:
    both = cli("chat", "--model", str(trained_model), "--server", "http://127.0.0.1:1", "hi")
    neither = cli("chat", "hi")
    assert both.returncode == neither.returncode == 2
    assert "not allowed with argument" in both.stderr
    assert "one of the arguments --model --server is required" in neither.stderr


def test_the_api_key_comes_from_the_named_environment_variable() -> None:
    script = answers(delta(reasoning_content="Add."), delta("5"), delta(finish_reason="stop"))
    with ScriptedServer(api_key="sk-test", script=script) as server:
        with_key = cli(
            "chat", "--server", server.url, "--api-key-env", "MY_KEY", "--json", "hi", env={"MY_KEY": "sk-test"}
        )
        without = cli("chat", "--server", server.url, "--json", "hi")
    assert with_key.returncode == 0, with_key.stderr
    assert [e["type"] for e in events_of(with_key)] == ["reasoning", "answer", "done"]
    assert "Bearer sk-test" in server.authorizations
    assert without.returncode == 1 and "asks for an API key" in str(events_of(without)[0]["text"])
