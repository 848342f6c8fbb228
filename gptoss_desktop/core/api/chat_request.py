"""A chat completions request body, checked and turned into the engine's ChatRequest."""

from __future__ import annotations

from dataclasses import dataclass

from ..engine import ChatRequest
from ..harmony import Conversation, Message
from ..sampling import SamplingParams
from . import fields
from .errors import ApiError, invalid, unsupported
from .fields import JsonObject
from .formats import effort_of, grammar_for

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


def parse_chat(body: JsonObject) -> ChatCall:
    """Check every parameter the server uses; 400 with the parameter's name for anything it cannot do."""
    model = fields.string(body, "model", required=True) or ""
    fields.refuse_unless_default(body, NOT_OFFERED)
    if body.get("tools"):
        raise unsupported("tools", "tool calls are not available on this server yet.")
    conversation = _conversation(body)
    sampling = _sampling(body)
    stream = fields.boolean(body, "stream")
    options = fields.mapping(body, "stream_options") or {}
    _, grammar = grammar_for(fields.mapping(body, "response_format"), "response_format", "json_schema")
    kind = (fields.mapping(body, "response_format") or {}).get("type", "text")
    return ChatCall(
        model=model,
        request=ChatRequest(conversation, sampling, stop=_stops(body), answer_grammar=grammar),
        stream=stream,
        include_usage=bool(options.get("include_usage")) and stream,
        max_tokens=sampling.max_tokens,
        response_format=str(kind),
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
            if message.get("tool_calls"):
                raise unsupported(f"{param}.tool_calls", "tool calls are not available on this server yet.")
            content = fields.text_content(message.get("content"), f"{param}.content", ("text", "refusal"))
            turns.append(Message("assistant", content))
        elif role in ("tool", "function"):
            raise unsupported(f"{param}.role", "tool results are not available on this server yet.")
        else:
            raise invalid(f"{param}.role", f"{role!r} is not a role; use system, developer, user or assistant.")
    if not turns or turns[-1].role != "user":
        raise invalid("messages", "the last message must be the user's (or a tool's result).")
    text = "\n\n".join(part for part in instructions if part.strip())
    return Conversation(tuple(turns), effort=effort or "medium", instructions=text or None)


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
