"""Structured output: a response format (JSON object, JSON schema) as a llama.cpp grammar for the answer.

The grammar binds only the answer (gpt-oss's final channel): the model reasons as it likes first,
which is what breaks servers that constrain the whole output (llama.cpp #15276, Ollama #11691).
"""

from __future__ import annotations

import json
from typing import Any

from llama_cpp.llama_grammar import JSON_GBNF, json_schema_to_gbnf

from ..harmony import EFFORTS, Effort
from .errors import invalid, unsupported
from .fields import JsonObject

#: OpenAI's other effort names, mapped to the nearest gpt-oss offers.
EFFORT_ALIASES: dict[str, Effort] = {"none": "low", "minimal": "low", "xhigh": "high", "max": "high"}


def effort_of(value: Any, param: str) -> Effort | None:
    """A reasoning effort given by a client (None when not given)."""
    if value is None:
        return None
    if value in EFFORTS:
        return value  # type: ignore[no-any-return]
    if value in EFFORT_ALIASES:
        return EFFORT_ALIASES[value]
    names = ", ".join((*EFFORTS, *EFFORT_ALIASES))
    raise invalid(param, f"{value!r} is not a reasoning effort; use one of {names}.")


def grammar_for(format_: JsonObject | None, param: str, schema_key: str | None) -> tuple[str, str | None]:
    """(format type, GBNF or None) for a chat `response_format` (schema under `json_schema`) or a
    Responses `text.format` (schema at the top level: `schema_key` None)."""
    if format_ is None:
        return "text", None
    kind = format_.get("type")
    if kind == "text":
        return "text", None
    if kind == "json_object":
        return "json_object", JSON_GBNF
    if kind != "json_schema":
        raise unsupported(f"{param}.type", f"use text, json_object or json_schema, not {kind!r}.")
    holder = format_.get(schema_key) if schema_key else format_
    where = f"{param}.{schema_key}" if schema_key else param
    if not isinstance(holder, dict):
        raise invalid(where, "a json_schema format needs its schema.")
    schema = holder.get("schema")
    if not isinstance(schema, dict):
        raise invalid(f"{where}.schema", "expected a JSON Schema object.")
    try:
        return "json_schema", json_schema_to_gbnf(json.dumps(schema))
    except Exception as exc:  # the converter raises plain errors for schema features it lacks
        raise unsupported(f"{where}.schema", f"this schema cannot be turned into a grammar: {exc}") from None
