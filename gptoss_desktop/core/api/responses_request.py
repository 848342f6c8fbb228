"""A Responses API request body, checked, and the conversation it continues."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..engine import ChatRequest
from ..harmony import Conversation, Effort, Message
from ..sampling import SamplingParams
from . import fields
from .errors import ApiError, invalid, unsupported
from .fields import JsonObject
from .formats import effort_of, grammar_for
from .response_store import Thread
from .tools import Tools, call_messages, parse_tools, result_message

NOT_OFFERED: dict[str, tuple[object, ...]] = {
    "background": (None, False),
    "conversation": (None,),
    "prompt": (None,),
    "top_logprobs": (None, 0),
    "truncation": (None, "disabled"),
}
INPUT_TEXT = ("input_text", "output_text", "text")


@dataclass(frozen=True)
class ResponseCall:
    """What the client asked for; `thread` is the conversation this reply will end."""

    body: JsonObject
    model: str
    previous_id: str | None
    stream: bool
    store: bool
    instructions: str | None
    input_instructions: str
    turns: tuple[Message, ...]
    effort: Effort
    sampling: SamplingParams
    grammar: str | None
    text_format: dict[str, Any]
    tools: Tools
    calls: dict[str, str]  # call id -> function name, of every call in the conversation

    def request(self) -> ChatRequest:
        parts = [p for p in (self.input_instructions, self.instructions or "") if p.strip()]
        conversation = Conversation(self.turns, effort=self.effort, instructions="\n\n".join(parts) or None)
        conversation = dataclasses.replace(conversation, functions=self.tools.functions)
        return ChatRequest(
            conversation,
            self.sampling,
            answer_grammar=self.grammar,
            call_grammars=self.tools.call_grammars,
            forced_call=self.tools.forced,
        )

    def thread(self, reply: Sequence[Message], calls: Mapping[str, str]) -> Thread:
        """The conversation once the reply's messages are added (what a later previous_response_id
        continues), with the ids of the calls it made."""
        return Thread(self.input_instructions, (*self.turns, *reply), {**self.calls, **calls})


def parse_response_call(body: JsonObject, previous: Thread | None) -> ResponseCall:
    """Check the body; `previous` is the stored conversation named by previous_response_id, if any."""
    model = fields.string(body, "model", required=True) or ""
    fields.refuse_unless_default(body, NOT_OFFERED)
    reasoning = fields.mapping(body, "reasoning") or {}
    text = fields.mapping(body, "text") or {}
    text_format = fields.mapping(text, "format", param="text.format")
    _, grammar = grammar_for(text_format, "text.format", None)
    calls = dict(previous.calls) if previous is not None else {}
    instructions_from_input, turns = _input(body.get("input"), calls)
    if previous is not None:
        instructions_from_input = "\n\n".join(p for p in (previous.instructions, instructions_from_input) if p)
        turns = (*previous.messages, *turns)
    if not turns or turns[-1].role not in ("user", "tool"):
        raise invalid("input", "the input must end with a user message or a function call's output.")
    temperature = fields.number(body, "temperature", 0.0, 2.0)
    top_p = fields.number(body, "top_p", 0.0, 1.0, low_open=True)
    sampling = SamplingParams(
        temperature=1.0 if temperature is None else temperature,
        top_p=1.0 if top_p is None else top_p,
        max_tokens=fields.integer(body, "max_output_tokens", low=1),
    )
    return ResponseCall(
        body=body,
        model=model,
        previous_id=fields.string(body, "previous_response_id"),
        stream=fields.boolean(body, "stream"),
        store=fields.boolean(body, "store", default=True),
        instructions=fields.string(body, "instructions"),
        input_instructions=instructions_from_input,
        turns=turns,
        effort=effort_of(reasoning.get("effort"), "reasoning.effort") or "medium",
        sampling=sampling,
        grammar=grammar,
        text_format=dict(text_format or {"type": "text"}),
        tools=parse_tools(body.get("tools"), body.get("tool_choice"), flat=True),
        calls=calls,
    )


def _input(value: Any, calls: dict[str, str]) -> tuple[str, tuple[Message, ...]]:
    """(instructions given as system or developer messages, the turns) of the `input` parameter;
    function calls' ids are added to `calls`."""
    if isinstance(value, str):
        return "", (Message("user", value),)
    if not isinstance(value, list) or not value:
        raise ApiError(400, "'input' must be a string or a non-empty list of input items.", param="input")
    instructions: list[str] = []
    turns: list[Message] = []
    for index, item in enumerate(value):
        param = f"input[{index}]"
        if not isinstance(item, dict):
            raise invalid(param, "each input item must be an object.")
        kind = item.get("type", "message")
        if kind == "reasoning":
            # Kept while its turn's calls go on; the renderer drops it once an answer follows.
            text = fields.text_content(item.get("content"), f"{param}.content", ("reasoning_text",))
            turns += call_messages(text, "", [])
            continue
        if kind == "function_call":
            name = fields.string(item, "name", required=True, param=f"{param}.name") or ""
            calls[str(item.get("call_id"))] = name
            turns += call_messages(
                "", "", [(name, fields.string(item, "arguments", param=f"{param}.arguments") or "{}")]
            )
            continue
        if kind == "function_call_output":
            called = calls.get(str(item.get("call_id")))
            if called is None:
                raise invalid(f"{param}.call_id", f"no function call with id {item.get('call_id')!r} came before.")
            turns.append(result_message(called, fields.text_content(item.get("output"), f"{param}.output", INPUT_TEXT)))
            continue
        if kind != "message":
            raise unsupported(f"{param}.type", f"{kind!r} items are not available on this server.")
        role = item.get("role")
        content = fields.text_content(item.get("content"), f"{param}.content", INPUT_TEXT)
        if role in ("system", "developer"):
            instructions.append(content)
        elif role in ("user", "assistant"):
            turns.append(Message(role, content))
        else:
            raise invalid(f"{param}.role", f"{role!r} is not a role; use system, developer, user or assistant.")
    return "\n\n".join(p for p in instructions if p.strip()), tuple(turns)
