"""Reading a request's JSON fields with OpenAI-style errors that name the parameter at fault."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import ApiError, invalid, unsupported

JsonObject = Mapping[str, Any]


def parse_body(raw: bytes) -> JsonObject:
    """The request body as a JSON object, or a 400 saying what is wrong with it."""
    import json

    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            400, f"We could not parse the JSON body of your request: {exc}. Send valid JSON.", code="invalid_json"
        ) from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.", code="invalid_json")
    return body


def string(body: JsonObject, name: str, *, required: bool = False, param: str | None = None) -> str | None:
    """A string field (None when absent or null, unless required)."""
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError(
                400,
                f"Missing required parameter: '{param or name}'.",
                param=param or name,
                code="missing_required_parameter",
            )
        return None
    if not isinstance(value, str):
        raise invalid(param or name, f"expected a string, got {type(value).__name__}.")
    return value


def number(body: JsonObject, name: str, low: float, high: float, *, low_open: bool = False) -> float | None:
    """A number in [low, high] (or (low, high]), None when absent or null."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(name, f"expected a number, got {type(value).__name__}.")
    if value > high or value < low or (low_open and value == low):
        bracket = "(" if low_open else "["
        raise invalid(name, f"{value} is out of range; it must be in {bracket}{low}, {high}].")
    return float(value)


def integer(body: JsonObject, name: str, low: int | None = None) -> int | None:
    """An integer (at least `low`), None when absent or null."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(name, f"expected an integer, got {type(value).__name__}.")
    if low is not None and value < low:
        raise invalid(name, f"{value} is too small; the minimum is {low}.")
    return value


def boolean(body: JsonObject, name: str, default: bool = False) -> bool:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid(name, f"expected true or false, got {type(value).__name__}.")
    return value


def mapping(body: JsonObject, name: str, *, param: str | None = None) -> JsonObject | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid(param or name, f"expected an object, got {type(value).__name__}.")
    return value


def refuse_unless_default(body: JsonObject, defaults: Mapping[str, tuple[Any, ...]]) -> None:
    """Parameters this server does not offer are accepted only with a value that changes nothing."""
    for name, harmless in defaults.items():
        if name in body and body[name] not in harmless:
            raise unsupported(name, f"this server does not support it (got {body[name]!r}).")


def text_content(value: Any, param: str, part_types: tuple[str, ...]) -> str:
    """Message content given as a string or a list of text parts (images and audio are refused)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        raise invalid(param, "content must be a string or a list of content parts.")
    texts = []
    for index, part in enumerate(value):
        if not isinstance(part, dict) or not isinstance(part.get("text"), str) or part.get("type") not in part_types:
            kind = part.get("type") if isinstance(part, dict) else type(part).__name__
            raise unsupported(f"{param}[{index}]", f"only text content is supported, not {kind!r}.")
        texts.append(part["text"])
    return "".join(texts)
