"""The python tool with a conversation on a server: the server's model calls it through OpenAI `tools`,
the code runs here in the sandbox, and the result goes back as a `tool` message (scripted server on
127.0.0.1, the real sandbox, the real tool loop)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gptoss_desktop.core.cancel import CancelFlag
from gptoss_desktop.core.engine import ChatRequest
from gptoss_desktop.core.events import AnswerDelta, Done, ToolCall, ToolResult
from gptoss_desktop.core.harmony import PYTHON, Conversation, Message
from gptoss_desktop.core.remote.openai_engine import ServerEngine
from gptoss_desktop.core.tools.loop import Toolbox, run_turn
from gptoss_desktop.core.tools.python_calls import PythonCalls
from gptoss_desktop.core.tools.python_tool import PythonSession
from tests.fixtures.sse_server import Reply, ScriptedServer, delta

CODE = "print(123 * 457)"
ARGUMENTS = json.dumps({"code": CODE})


def call_chunks() -> list[dict[str, Any]]:
    """What vLLM or llama-server --jinja stream when gpt-oss calls a function: name, then arguments in pieces."""
    arguments = json.dumps({"code": CODE})
    first = {"index": 0, "id": "chatcmpl-tool-1", "type": "function", "function": {"name": "python", "arguments": ""}}
    pieces = [first, {"index": 0, "function": {"arguments": arguments[:10]}}]
    pieces.append({"index": 0, "function": {"arguments": arguments[10:]}})
    chunks: list[dict[str, Any]] = [delta(reasoning_content="I should compute it.")]
    for piece in pieces:
        chunks.append({"choices": [{"index": 0, "delta": {"tool_calls": [piece]}, "finish_reason": None}]})
    chunks.append(delta(finish_reason="tool_calls"))
    return chunks


def script(reply: Reply) -> None:
    if any(m.get("role") == "tool" for m in reply.body["messages"]):
        reply.stream([delta(reasoning_content="It printed 56211."), delta("56211"), delta(finish_reason="stop")])
    else:
        reply.stream(call_chunks())


@pytest.fixture
def session(tmp_path: Path) -> Iterator[PythonSession]:
    with PythonSession(tmp_path / "work") as running:
        yield running


def turn(engine: ServerEngine, session: PythonSession) -> list[object]:
    conversation = Conversation((Message("user", "What is 123 * 457?"),), date="2026-12-04")
    toolbox = Toolbox(declarations=(PYTHON,), tools={"python": PythonCalls(session)})
    return list(run_turn(engine, ChatRequest(conversation), toolbox, CancelFlag()))


def test_the_servers_model_calls_python_and_the_code_runs_here(session: PythonSession) -> None:
    with ScriptedServer(script=script) as server:
        engine = ServerEngine(server.url)
        try:
            events = turn(engine, session)
        finally:
            engine.close()
    first, second = server.requests
    assert [tool["function"]["name"] for tool in first["tools"]] == ["python"]
    assert first["tools"][0]["function"]["description"] == PYTHON.description
    call = next(e for e in events if isinstance(e, ToolCall))
    assert (call.recipient, call.arguments, call.declared) == ("python", CODE, True)
    result = next(e for e in events if isinstance(e, ToolResult))
    assert result.status == "done" and result.output == "56211"
    assert second["messages"][1:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "python", "arguments": json.dumps({"code": CODE})},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "56211"},  # what the model reads of the cell
    ]
    assert "".join(e.text for e in events if isinstance(e, AnswerDelta)) == "56211"
    done = events[-1]
    assert isinstance(done, Done) and done.stop_reason == "return" and done.stats.tool_calls == 1


def test_a_server_that_refuses_tools_answers_without_them_from_then_on(session: PythonSession) -> None:
    def refuses_tools(reply: Reply) -> None:
        if "tools" in reply.body:
            reply.error(500, {"error": {"message": "tools param requires --jinja flag", "type": "server_error"}})
        else:
            reply.stream([delta("About 56,000."), delta(finish_reason="stop")])

    with ScriptedServer(script=refuses_tools) as server:
        engine = ServerEngine(server.url)
        try:
            events = turn(engine, session)
            assert engine.tools_refused
            turn(engine, session)
        finally:
            engine.close()
    assert [("tools" in body) for body in server.requests] == [True, False, False]
    assert "".join(e.text for e in events if isinstance(e, AnswerDelta)) == "About 56,000."
    assert not any(isinstance(e, ToolResult) for e in events)
