"""Function tools between OpenAI's API and harmony: declared in the developer message, called on the
commentary channel as `functions.NAME`, answered by a `functions.NAME` tool message.

A request's `tool_choice` becomes the engine's rules: `none` declares nothing, `auto` lets the
model choose, a named function (or `required` with one function) is forced after the model has
reasoned. Arguments follow the function's schema as a grammar when it is forced or `strict`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from llama_cpp.llama_grammar import JSON_GBNF, json_schema_to_gbnf

from ..harmony import Function, Message, tool_call, tool_result
from .errors import invalid, unsupported

PREFIX = "functions."
CONTENT_TYPE = "<|constrain|>json"


def call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


@dataclass(frozen=True)
class Tools:
    """The functions a request declares and the rules for calling them."""

    functions: tuple[Function, ...] = ()
    call_grammars: tuple[tuple[str, str], ...] = ()
    forced: str | None = None

    def declared(self, recipient: str | None) -> str | None:
        """The function name a harmony recipient calls, if this request declared it."""
        if recipient is None or not recipient.startswith(PREFIX):
            return None
        name = recipient.removeprefix(PREFIX)
        return name if any(f.name == name for f in self.functions) else None


def parse_tools(tools: Any, choice: Any, *, flat: bool) -> Tools:
    """`tools` and `tool_choice` of a chat request (`flat` False: `{"type": "function", "function": {...}}`)
    or of a Responses request (`flat` True: the function's fields beside `type`)."""
    if not tools:
        if choice not in (None, "none", "auto"):
            raise invalid("tool_choice", "there are no tools to choose from.")
        return Tools()
    if not isinstance(tools, list):
        raise invalid("tools", "expected a list of tools.")
    functions: list[Function] = []
    strict: list[str] = []
    for index, tool in enumerate(tools):
        param = f"tools[{index}]"
        if not isinstance(tool, dict) or tool.get("type") != "function":
            kind = tool.get("type") if isinstance(tool, dict) else None
            raise unsupported(f"{param}.type", f"only function tools are available, not {kind!r}.")
        spec = tool if flat else tool.get("function")
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise invalid(f"{param}", "a function tool needs a name.")
        parameters = spec.get("parameters")
        if parameters is not None and not isinstance(parameters, dict):
            raise invalid(f"{param}.parameters", "expected a JSON Schema object.")
        try:
            functions.append(Function(spec["name"], str(spec.get("description") or ""), parameters))
        except ValueError as exc:
            raise invalid(f"{param}.name", str(exc)) from None
        if spec.get("strict"):
            strict.append(spec["name"])
    if len({f.name for f in functions}) != len(functions):
        raise invalid("tools", "two functions have the same name.")
    if choice == "none":
        return Tools()
    forced = _forced(choice, functions, flat)
    bound = {*strict, *([forced] if forced else [])}
    grammars = tuple((PREFIX + f.name, _grammar(f, index)) for index, f in enumerate(functions) if f.name in bound)
    return Tools(tuple(functions), grammars, PREFIX + forced if forced else None)


def _forced(choice: Any, functions: Sequence[Function], flat: bool) -> str | None:
    if choice in (None, "auto"):
        return None
    if choice == "required":
        if len(functions) == 1:
            return functions[0].name
        raise unsupported(
            "tool_choice", "'required' with several functions: name the one to call, as {'type': 'function', ...}."
        )
    named = choice.get("name") if flat and isinstance(choice, dict) else None
    if not flat and isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        named = choice["function"].get("name")
    if not isinstance(choice, dict) or choice.get("type") != "function" or not isinstance(named, str):
        raise unsupported("tool_choice", f"use none, auto, required or a named function, not {choice!r}.")
    if named not in {f.name for f in functions}:
        raise invalid("tool_choice", f"no tool named {named!r} was given.")
    return named


def _grammar(function: Function, index: int) -> str:
    if function.parameters is None:
        return JSON_GBNF
    try:
        return str(json_schema_to_gbnf(json.dumps(function.parameters)))
    except Exception as exc:  # the converter raises plain errors for schema features it lacks
        raise unsupported(f"tools[{index}].parameters", f"this schema cannot be turned into a grammar: {exc}") from None


def call_messages(reasoning: str, preamble: str, calls: Sequence[tuple[str, str]]) -> list[Message]:
    """An assistant turn that called functions, as it goes back into the prompt: its reasoning (kept
    while the turn goes on), any text it wrote before, then each call (name, arguments)."""
    messages = []
    if reasoning.strip():
        messages.append(Message("assistant", reasoning, channel="analysis"))
    if preamble.strip():
        messages.append(Message("assistant", preamble, channel="commentary"))
    for name, arguments in calls:
        messages.append(tool_call(PREFIX + name, arguments, channel="commentary", content_type=CONTENT_TYPE))
    return messages


def result_message(name: str, output: str) -> Message:
    """A function's output, from the function, on the commentary channel."""
    return tool_result(PREFIX + name, output, channel="commentary")
