"""A chat completions request body, checked and turned into the engine's ChatRequest."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..engine import ChatRequest
from ..harmony import Conversation, Message
from ..sampling import SamplingParams
from . import fields
from .errors import ApiError, invalid, unsupported
from .fields import JsonObject
from .formats import effort_of, grammar_for
from .tools import Tools, call_messages, parse_tools, result_message

#: Accepted only with a value that changes nothing.
NOT_OFFERED: dict[str, tuple[object, ...]] = {
    "n": (None, 1),
    "logprobs": (None, False),
    "top_logprobs": (None, 0),
    "logit_bias": (None, {}),
    "frequency_penalty": (None, 0, 0.0),
    "presence_penalty": (None, 0, 0.0),
    "audio": (None,),
    "modalities": (None, ["text"]),
    "prediction": (None,),
    "web_search_options": (None,),
    "functions": (None, []),
    "function_call": (None, "none", "auto"),
}
REASONING_FIELDS = ("reasoning_content", "reasoning")
MAX_STOPS = 4


@dataclass(frozen=True)
class ChatCall:
    """What the client asked for, ready for the engine thread."""

    model: str
    request: ChatRequest
    stream: bool
    include_usage: bool
    max_tokens: int | None
    response_format: str
    tools: Tools


def parse_chat(body: JsonObject) -> ChatCall:
    """Check every parameter the server uses; 400 with the parameter's name for anything it cannot do."""
    model = fields.string(body, "model", required=True) or ""
    fields.refuse_unless_default(body, NOT_OFFERED)
    tools = parse_tools(body.get("tools"), body.get("tool_choice"), flat=False)
    conversation = dataclasses.replace(_conversation(body), functions=tools.functions)
    sampling = _sampling(body)
    stream = fields.boolean(body, "stream")
    options = fields.mapping(body, "stream_options") or {}
    _, grammar = grammar_for(fields.mapping(body, "response_format"), "response_format", "json_schema")
    kind = (fields.mapping(body, "response_format") or {}).get("type", "text")
    return ChatCall(
        model=model,
        request=ChatRequest(
            conversation,
            sampling,
            stop=_stops(body),
            answer_grammar=grammar,
            call_grammars=tools.call_grammars,
            forced_call=tools.forced,
        ),
        stream=stream,
        include_usage=bool(options.get("include_usage")) and stream,
        max_tokens=sampling.max_tokens,
        response_format=str(kind),
        tools=tools,
    )


def _conversation(body: JsonObject) -> Conversation:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "'messages' must be a non-empty list of messages.", param="messages")
    effort = effort_of(body.get("reasoning_effort"), "reasoning_effort")
    reasoning = fields.mapping(body, "reasoning")
    if reasoning is not None:
        other = effort_of(reasoning.get("effort"), "reasoning.effort")
        if effort is not None and other is not None and other != effort:
            raise invalid("reasoning.effort", "it differs from reasoning_effort; give one of them.")
        effort = effort or other
    instructions: list[str] = []
    turns: list[Message] = []
    called: dict[str, str] = {}  # tool_call_id -> function name, from the assistant turns so far
    for index, message in enumerate(messages):
        param = f"messages[{index}]"
        if not isinstance(message, dict):
            raise invalid(param, "each message must be an object.")
        role = message.get("role")
        if role in ("system", "developer"):
            # gpt-oss's own system message is fixed (identity, date, effort): a client's system
            # prompt becomes the developer instructions, as OpenAI's harmony guide says.
            instructions.append(fields.text_content(message.get("content"), f"{param}.content", ("text",)))
        elif role == "user":
            turns.append(Message("user", fields.text_content(message.get("content"), f"{param}.content", ("text",))))
        elif role == "assistant":
            content = fields.text_content(message.get("content"), f"{param}.content", ("text", "refusal"))
            if message.get("tool_calls"):
                thought = next((str(message[k]) for k in REASONING_FIELDS if isinstance(message.get(k), str)), "")
                turns += call_messages(thought, content, _calls(message["tool_calls"], f"{param}.tool_calls", called))
            else:
                turns.append(Message("assistant", content))
        elif role == "tool":
            call = message.get("tool_call_id")
            if call not in called:
                raise invalid(f"{param}.tool_call_id", f"no earlier assistant message made the call {call!r}.")
            turns.append(
                result_message(called[call], fields.text_content(message.get("content"), f"{param}.content", ("text",)))
            )
        elif role == "function":
            raise unsupported(f"{param}.role", "the deprecated function role; use tool messages.")
        else:
            raise invalid(f"{param}.role", f"{role!r} is not a role; use system, developer, user, assistant or tool.")
    if not turns or turns[-1].role not in ("user", "tool"):
        raise invalid("messages", "the last message must be the user's (or a tool's result).")
    text = "\n\n".join(part for part in instructions if part.strip())
    return Conversation(tuple(turns), effort=effort or "medium", instructions=text or None)


def _calls(value: object, param: str, called: dict[str, str]) -> list[tuple[str, str]]:
    """(name, arguments) of an assistant message's tool calls, remembering their ids."""
    if not isinstance(value, list):
        raise invalid(param, "expected a list of tool calls.")
    calls = []
    for index, call in enumerate(value):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise invalid(f"{param}[{index}]", "a tool call needs a function with a name.")
        arguments = function.get("arguments") or "{}"
        if not isinstance(arguments, str):
            raise invalid(f"{param}[{index}].function.arguments", "expected a JSON string.")
        called[str(call.get("id"))] = function["name"]
        calls.append((function["name"], arguments))
    return calls


def _sampling(body: JsonObject) -> SamplingParams:
    limits = [fields.integer(body, name, low=1) for name in ("max_completion_tokens", "max_tokens")]
    seed = fields.integer(body, "seed")
    temperature = fields.number(body, "temperature", 0.0, 2.0)
    top_p = fields.number(body, "top_p", 0.0, 1.0, low_open=True)
    return SamplingParams(
        temperature=1.0 if temperature is None else temperature,
        top_p=1.0 if top_p is None else top_p,
        max_tokens=next((limit for limit in limits if limit is not None), None),
        seed=None if seed is None else seed & 0xFFFFFFFF,  # llama.cpp's seed is 32 bits
    )


def _stops(body: JsonObject) -> tuple[str, ...]:
    stop = body.get("stop")
    if stop is None:
        return ()
    stops = [stop] if isinstance(stop, str) else stop
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        raise invalid("stop", "expected a string or a list of strings.")
    if len(stops) > MAX_STOPS:
        raise invalid("stop", f"at most {MAX_STOPS} stop sequences.")
    return tuple(s for s in stops if s)
