"""Function tools through the openai client: declared in harmony's developer message, a forced call after
free reasoning with arguments that follow their schema, and the round trip with the tool's output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest
from pydantic import BaseModel, Field

from gptoss_desktop.core.api.jobs import UNDECLARED_RETRIES, answer
from gptoss_desktop.core.cancel import CancelFlag
from gptoss_desktop.core.engine import ChatRequest
from gptoss_desktop.core.events import Done, ToolCall
from gptoss_desktop.core.harmony import Conversation, Message
from gptoss_desktop.core.harmony.tokens import HARMONY_TOKENS
from gptoss_desktop.core.sampling import SamplingParams
from tests.fixtures.api_server import RecordingEngine, Served

QUESTION = [{"role": "user", "content": "What is 12 + 7?"}]
PARAMETERS = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12}}, "required": ["city"]}
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {"name": "get_weather", "description": "Current weather.", "parameters": PARAMETERS},
    },
    {"type": "function", "function": {"name": "get_time", "description": "The time now."}},
]
FORCE_WEATHER = {"type": "function", "function": {"name": "get_weather"}}


def test_functions_are_declared_in_the_developer_message(served: Served) -> None:
    reply = served.client().chat.completions.create(model=served.model, messages=QUESTION, tools=TOOLS, temperature=0)
    prompt = served.engine.prompts[-1]
    assert "# Valid channels: analysis, commentary, final. Channel must be included for every message.\n" in prompt
    assert "Calls to these tools must go to the commentary channel: 'functions'.<|end|>" in prompt
    assert "<|start|>developer<|message|># Tools\n\n## functions\n\nnamespace functions {\n\n" in prompt
    assert "// Current weather.\ntype get_weather = (_: {\ncity: string,\n}) => any;" in prompt
    assert "type get_time = () => any;" in prompt
    assert reply.choices[0].finish_reason == "stop"  # the tiny model answers rather than calling


def test_tool_choice_none_declares_nothing(served: Served) -> None:
    served.client().chat.completions.create(
        model=served.model, messages=QUESTION, tools=TOOLS, tool_choice="none", max_tokens=5
    )
    assert "namespace functions" not in served.engine.prompts[-1]


def test_a_forced_call_then_its_output_round_trip(served: Served) -> None:
    client = served.client()
    weather = TOOLS[:1]  # with one function declared, the tiny model still reasons first (with two it does not)
    first = client.chat.completions.create(
        model=served.model, messages=QUESTION, tools=weather, tool_choice=FORCE_WEATHER, temperature=0
    )
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls
    assert calls is not None and len(calls) == 1 and calls[0].type == "function"
    assert calls[0].function.name == "get_weather"
    city = json.loads(calls[0].function.arguments)["city"]
    assert isinstance(city, str) and len(city) <= 12  # the schema's grammar held
    reasoning = (choice.message.model_extra or {})["reasoning_content"]
    assert reasoning  # it reasoned first, freely

    history = [*QUESTION, choice.message.model_dump(exclude_none=True)]
    history.append({"role": "tool", "tool_call_id": calls[0].id, "content": "sunny, 21 C"})
    second = client.chat.completions.create(model=served.model, messages=history, tools=weather, temperature=0)
    prompt = served.engine.prompts[-1]
    turn = (
        f"<|start|>assistant<|channel|>analysis<|message|>{reasoning}<|end|>"  # kept: the turn goes on
        f"<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json<|message|>"
        f"{calls[0].function.arguments}<|call|>"
        "<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>sunny, 21 C<|end|>"
        "<|start|>assistant"
    )
    assert prompt.endswith(turn)
    answer_text = second.choices[0].message.content or ""
    assert second.choices[0].finish_reason in ("stop", "length")
    assert not any(token in answer_text for token in HARMONY_TOKENS)


class GetWeather(BaseModel):
    """Current weather."""

    city: str = Field(max_length=12)


def test_a_streamed_strict_call_is_parsed_by_the_client(served: Served) -> None:
    tool = openai.pydantic_function_tool(GetWeather)  # strict, with the model's schema
    with served.client().chat.completions.stream(
        model=served.model, messages=QUESTION, tools=[tool], tool_choice="required", temperature=0
    ) as stream:
        kinds = {event.type for event in stream}
        final = stream.get_final_completion()
    assert "tool_calls.function.arguments.delta" in kinds
    call = final.choices[0].message.tool_calls
    assert final.choices[0].finish_reason == "tool_calls" and call is not None
    assert isinstance(call[0].function.parsed_arguments, GetWeather)


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice"),
        ({"tool_choice": "required"}, "tool_choice"),  # two functions: which one?
        ({"tools": [{"type": "custom", "custom": {"name": "x"}}]}, "tools[0].type"),
        (
            {"messages": [*QUESTION, {"role": "tool", "tool_call_id": "call_x", "content": "1"}]},
            "messages[1].tool_call_id",
        ),
    ],
)
def test_bad_tool_requests_name_the_parameter(served: Served, change: dict[str, Any], param: str) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        served.client().chat.completions.create(
            **{"model": served.model, "messages": QUESTION, "tools": TOOLS, **change}
        )
    assert refused.value.param == param


def test_a_forced_function_call_in_the_responses_api_and_its_output(served: Served) -> None:
    client = served.client()
    tools: list[Any] = [
        {"type": "function", "name": "get_weather", "description": "Current weather.", "parameters": PARAMETERS}
    ]
    with client.responses.stream(
        model=served.model, input="What is 12 + 7?", tools=tools, tool_choice="required", temperature=0
    ) as stream:
        kinds = [event.type for event in stream]
        first = stream.get_final_response()
    assert "response.function_call_arguments.delta" in kinds and "response.function_call_arguments.done" in kinds
    assert [item.type for item in first.output] == ["reasoning", "function_call"]
    call = first.output[1]
    assert call.type == "function_call" and call.name == "get_weather"
    assert isinstance(json.loads(call.arguments)["city"], str)
    second = client.responses.create(
        model=served.model,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 21 C"}],
        tools=tools,
        temperature=0,
    )
    result = "<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>sunny, 21 C<|end|>"
    assert served.engine.prompts[-1].endswith(f"{call.arguments}<|call|>{result}<|start|>assistant")
    assert second.status in ("completed", "incomplete")


def test_a_call_to_a_tool_nobody_declared_is_answered_with_an_error_the_model_reads(trained_model: Path) -> None:
    engine = RecordingEngine(trained_model, context_size=1024, n_threads=1)
    try:
        conversation = Conversation((Message("user", "What is 12 + 7?"),), date="2026-12-04")
        # The engine forces a call to `python`, which this request never declared (as models sometimes call it).
        request = ChatRequest(
            conversation,
            SamplingParams(temperature=0, max_tokens=600),
            call_grammars=(("python", 'root ::= "print(12 + 7)"'),),
            forced_call="python",
        )
        events = list(answer(request)(engine, CancelFlag()))
    finally:
        engine.close()
    assert not any(isinstance(e, ToolCall) for e in events)  # nothing for the client to run
    done = events[-1]
    assert isinstance(done, Done) and done.stop_reason == "return"
    assert len(engine.prompts) == 1 + UNDECLARED_RETRIES
    assert "Error: there is no tool named python." in engine.prompts[-1]
    assert "<|start|>python to=assistant<|channel|>commentary<|message|>Error:" in engine.prompts[-1]
