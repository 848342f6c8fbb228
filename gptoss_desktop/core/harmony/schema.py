"""A `# Tools` section, with each function's JSON Schema written as a TypeScript-like type.

This follows openai-harmony 0.0.8 (`json_schema_to_typescript` and `template_tools_section` in its
`src/encoding.rs`) quirk for quirk, because gpt-oss learned to call tools from that text: property
order as given, `?` for optional, string enums as unions, descriptions, titles and examples as
`//` lines, defaults as trailing comments, `oneOf` as a list of ` | ` variants, nested objects
indented by four spaces. Defaults are printed as serde_json prints them.
"""

from __future__ import annotations

import decimal
import json
import math
from collections.abc import Mapping, Sequence

from .tools import Function, ToolNamespace


def tools_section(namespaces: Sequence[ToolNamespace]) -> str:
    """`# Tools` and one `## name` block per namespace, sorted by name as openai-harmony sorts them."""
    sections = ["# Tools"]
    for namespace in sorted(namespaces, key=lambda n: n.name):
        lines = [f"## {namespace.name}\n"]
        for line in rust_lines(namespace.description or ""):
            lines.append(f"// {line}" if namespace.functions else line)
        if namespace.functions:
            lines.append(f"namespace {namespace.name} {{\n")
            for function in namespace.functions:
                lines += [f"// {line}" for line in rust_lines(function.description)]
                lines.append(_signature(function))
            lines.append(f"}} // namespace {namespace.name}")
        sections.append("\n".join(lines))
    return "\n\n".join(sections)


def _signature(function: Function) -> str:
    if function.parameters is None:
        return f"type {function.name} = () => any;\n"
    return f"type {function.name} = (_: {schema_to_typescript(function.parameters, '')}) => any;\n"


def schema_to_typescript(schema: object, indent: str) -> str:
    """The type openai-harmony writes for a JSON Schema (anything it does not understand is `any`)."""
    if not isinstance(schema, Mapping):
        return "any"
    one_of = schema.get("oneOf")
    if isinstance(one_of, list):
        return _top_level_one_of(one_of, indent)
    kind = schema.get("type")
    if isinstance(kind, list):
        names = ["number" if k == "integer" else k for k in kind if isinstance(k, str)]
        if names:
            return " | ".join(names)
    if not isinstance(kind, str):
        return "any"
    if kind == "object":
        return _object(schema, indent)
    if kind == "string":
        enum = schema.get("enum")
        values = [f'"{v}"' for v in enum if isinstance(v, str)] if isinstance(enum, list) else []
        return " | ".join(values) if values else "string"
    if kind in ("number", "integer"):
        return "number"
    if kind == "boolean":
        return "boolean"
    if kind == "array":
        return f"{schema_to_typescript(schema['items'], indent)}[]" if "items" in schema else "Array<any>"
    return "any"


def _top_level_one_of(variants: list[object], indent: str) -> str:
    out = ""
    for variant in variants:
        out += f"\n{indent} | "
        out += _nullable(variant, schema_to_typescript(variant, indent + "   "))
        comments = []
        description = _get(variant, "description")
        if isinstance(description, str):
            comments.append(description)
        if _has(variant, "default"):
            default = _get(variant, "default")
            if isinstance(default, str) and not _is_enum(variant):
                comments.append(f'default: "{default}"')
            else:  # an enum's string default too: serde_json prints the value, quoted
                comments.append(f"default: {json_value(default)}")
        if comments:
            out += " // " + " ".join(comments)
    return out


def _object(schema: Mapping[str, object], indent: str) -> str:
    out = ""
    description = schema.get("description")
    if isinstance(description, str):
        out += f"{indent}// {description}\n"
    out += "{\n"
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        required_list = schema.get("required")
        required = {r for r in required_list if isinstance(r, str)} if isinstance(required_list, list) else set()
        for key, value in properties.items():
            out += _property(str(key), value, key in required, indent)
    return out + f"{indent}}}"


def _property(key: str, value: object, required: bool, indent: str) -> str:
    out = ""
    mark = "" if required else "?"
    title = _get(value, "title")
    if isinstance(title, str):
        out += f"{indent}// {title}\n{indent}//\n"
    description = _get(value, "description")
    if not _has(value, "oneOf") and isinstance(description, str):
        out += f"{indent}// {description}\n"
    examples = _get(value, "examples")
    if isinstance(examples, list) and examples:
        out += f"{indent}// Examples:\n"
        out += "".join(f'{indent}// - "{e}"\n' for e in examples if isinstance(e, str))
    one_of = _get(value, "oneOf")
    if isinstance(one_of, list):
        return out + _property_one_of(key, value, one_of, mark, indent)
    out += f"{indent}{key}{mark}: "
    out += _nullable(value, schema_to_typescript(value, indent + "    ")) + ","
    if not _has(value, "oneOf") and _has(value, "default"):
        out += f" // default: {_default_text(value)}"
    return out + "\n"


def _property_one_of(key: str, value: object, variants: list[object], mark: str, indent: str) -> str:
    out = ""
    own = _get(value, "description")
    property_description = own if isinstance(own, str) else None
    first = _get(variants[0], "description") if variants else None
    described_above = property_description is not None and first != property_description
    if described_above:
        out += f"{indent}// {property_description}\n"
    if _has(value, "default"):
        out += f"{indent}// default: {_default_text(value)}\n"
    out += f"{indent}{key}{mark}:\n"
    for index, variant in enumerate(variants):
        out += f"{indent} | " + _nullable(variant, schema_to_typescript(variant, indent + "   "))
        comments = []
        description = _get(variant, "description")
        shown_above = index == 0 and described_above
        if not shown_above and isinstance(description, str) and description != property_description:
            comments.append(description)
        if _has(variant, "default"):
            comments.append(f"default: {_default_text(variant)}")
        if comments:
            out += " // " + " ".join(comments)
        out += "\n"
    return out + f"{indent},\n"


def _default_text(schema: object) -> str:
    """A property's default as openai-harmony comments it: quoted string, bare enum string, else JSON."""
    default = _get(schema, "default")
    if isinstance(default, str):
        return default if _is_enum(schema) else f'"{default}"'
    return json_value(default)


def _nullable(schema: object, text: str) -> str:
    if _get(schema, "nullable") is True and "null" not in text:
        return f"{text} | null"
    return text


def _is_enum(schema: object) -> bool:
    enum = _get(schema, "enum")
    return isinstance(enum, list) and bool(enum)


def _get(schema: object, key: str) -> object:
    return schema.get(key) if isinstance(schema, Mapping) else None


def _has(schema: object, key: str) -> bool:
    return isinstance(schema, Mapping) and key in schema


def json_value(value: object) -> str:
    """Compact JSON as serde_json writes it: no spaces, key order kept, UTF-8 as is, floats as Rust's ryu."""
    if isinstance(value, float):
        return _ryu(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json_value(str(k))}:{json_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(json_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _ryu(value: float) -> str:
    """A float the way serde_json (ryu) prints it: shortest digits, `1e20` rather than `1e+20`."""
    if not math.isfinite(value):
        return "null"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    # repr gives the shortest digits that round-trip, as ryu does; only the layout differs.
    exact = decimal.Decimal(repr(abs(value))).normalize()
    _, digit_tuple, k = exact.as_tuple()
    assert isinstance(k, int)
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + k  # value = 0.DIGITS x 10^point
    if k >= 0 and point <= 16:
        return f"{sign}{digits}{'0' * k}.0"
    if 0 < point <= 16:
        return f"{sign}{digits[:point]}.{digits[point:]}"
    if -5 < point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if len(digits) == 1:
        return f"{sign}{digits}e{point - 1}"
    return f"{sign}{digits[0]}.{digits[1:]}e{point - 1}"


def rust_lines(text: str) -> list[str]:
    """Rust's `str::lines()`: split after each `\n`, drop it and one `\r` before it; no empty last line."""
    pieces = text.split("\n")
    lines = [piece.removesuffix("\r") for piece in pieces[:-1]]
    if pieces[-1]:
        lines.append(pieces[-1])
    return lines
