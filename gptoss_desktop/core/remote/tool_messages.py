"""Tools through the OpenAI API: a conversation with tool steps as chat messages, and the tools declared.

A server that runs gpt-oss with OpenAI `tools` (llama-server with `--jinja`, vLLM) renders them as
harmony functions itself. The app's python tool goes there as a function `python` taking `code`;
its calls come back as `tool_calls`, run here in the sandbox, and go back as `tool` messages. A
turn's reasoning is not sent (servers do not take it back), only its calls and their results.
"""

from __future__ import annotations

import json
from typing import Any

from ..harmony import PYTHON, Conversation, Message

#: The python tool as an OpenAI function: the same words the model reads as a builtin tool.
PYTHON_FUNCTION = "python"
_PYTHON_SCHEMA = {
    "type": "object",
    "properties": {"code": {"type": "string", "description": "The Python code to run, as one notebook cell."}},
    "required": ["code"],
}


def tool_declarations(conversation: Conversation) -> list[dict[str, Any]]:
    """The `tools` field for the conversation's declared tools (python, and developer functions)."""
    tools: list[dict[str, Any]] = []
    if any(namespace.name == PYTHON.name for namespace in conversation.tools):
        description = PYTHON.description or "Run Python code."
        tools.append(_function(PYTHON_FUNCTION, description, _PYTHON_SCHEMA))
    for function in conversation.functions:
        parameters = dict(function.parameters) if function.parameters else {"type": "object", "properties": {}}
        tools.append(_function(function.name, function.description, parameters))
    return tools


def _function(name: str, description: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}


def chat_messages(conversation: Conversation) -> list[dict[str, Any]]:
    """The conversation as chat messages: answers as they are, calls as `tool_calls`, results as `tool`
    messages answering the call before them; a turn's reasoning left out."""
    messages: list[dict[str, Any]] = []
    if conversation.instructions:
        messages.append({"role": "system", "content": conversation.instructions})
    calls = 0
    for message in conversation.messages:
        if message.role == "user":
            messages.append({"role": "user", "content": message.content})
        elif message.role == "tool":
            messages.append({"role": "tool", "tool_call_id": f"call_{calls}", "content": message.content})
        elif message.recipient is not None:
            calls += 1
            name, arguments = _call(message)
            messages.append(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": f"call_{calls}", "type": "function", "function": {"name": name, "arguments": arguments}}
                    ],
                }
            )
        elif message.is_final_answer:
            messages.append({"role": "assistant", "content": message.content})
    return messages


def _call(message: Message) -> tuple[str, str]:
    """A call's function name and JSON arguments, as the server knows them."""
    recipient = message.recipient or ""
    if recipient == PYTHON.name:
        return PYTHON_FUNCTION, json.dumps({"code": message.content})
    return recipient.removeprefix("functions."), message.content


def recipient_of(function: str, arguments: str) -> tuple[str, str, str | None]:
    """A returned call's harmony recipient, its arguments as the tool takes them, and its channel."""
    if function == PYTHON_FUNCTION:
        try:
            code = json.loads(arguments).get("code")
        except (ValueError, AttributeError):
            code = None
        return PYTHON.name, code if isinstance(code, str) else arguments, "analysis"
    return f"functions.{function}", arguments, "commentary"
