"""The models a server offers (`GET /v1/models`), the one to use, and what the server is.

Knowing the server matters for reasoning effort: each takes it its own way, and
llama-cpp-python's server drops fields it does not know, so the effort never reaches
the model there. The server is recognised by the `owned_by` it gives its models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

ServerKind = Literal["llama-server", "llama-cpp-python", "vllm", "ollama", "lm-studio", "unknown"]

_OWNERS: dict[str, ServerKind] = {
    "llamacpp": "llama-server",
    "me": "llama-cpp-python",
    "vllm": "vllm",
    "library": "ollama",
    "organization_owner": "lm-studio",
}
#: Servers known to pass `reasoning_effort` (or llama-server's `chat_template_kwargs`) to gpt-oss.
EFFORT_HONOURED: dict[ServerKind, bool | None] = {
    "llama-server": True,
    "llama-cpp-python": False,
    "vllm": True,
    "ollama": True,
    "lm-studio": True,
    "unknown": None,
}
_GPT_OSS = re.compile(r"gpt[-_ ]?oss", re.IGNORECASE)
#: Keys under which servers give a model's context length (vLLM, LM Studio, llama.cpp's meta).
_CONTEXT_KEYS = ("max_model_len", "context_length", "max_context_length", "n_ctx")


@dataclass(frozen=True)
class ServerModel:
    """One entry of `/v1/models`."""

    id: str
    owned_by: str = ""
    context_size: int | None = None

    @property
    def looks_gpt_oss(self) -> bool:
        """Its name says gpt-oss (the only thing a server tells about a model's kind)."""
        return bool(_GPT_OSS.search(self.id))


class ModelChoiceError(ValueError):
    """The named model is not there, or the server lists none; the message names what is."""


def parse_models(payload: object) -> list[ServerModel]:
    """The models in a `/v1/models` reply (`{"data": [{"id": …}, …]}`); malformed entries are skipped."""
    entries = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(entries, list):
        raise ValueError("the reply has no list of models")
    models = []
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            models.append(ServerModel(entry["id"], str(entry.get("owned_by") or ""), _context_of(entry)))
    return models


def choose_model(models: list[ServerModel], name: str | None, server: str) -> ServerModel:
    """The model named `name`, else the first gpt-oss-looking one, else the first one."""
    if not models:
        raise ModelChoiceError(f"{server[:1].upper()}{server[1:]} lists no models: load one on the server first.")
    if name:
        for model in models:
            if model.id == name:
                return model
        matches = [m for m in models if m.id.lower() == name.lower() or m.id.rsplit("/", 1)[-1] == name]
        if len(matches) == 1:
            return matches[0]
        available = ", ".join(m.id for m in models[:12]) + (" …" if len(models) > 12 else "")
        raise ModelChoiceError(f"{server[:1].upper()}{server[1:]} has no model named {name!r}. It offers: {available}.")
    return next((m for m in models if m.looks_gpt_oss), models[0])


def server_kind(models: list[ServerModel]) -> ServerKind:
    """Which server software this is, from the owner it gives its models."""
    for model in models:
        kind = _OWNERS.get(model.owned_by)
        if kind:
            return kind
    return "unknown"


def _context_of(entry: dict[str, object]) -> int | None:
    for holder in (entry, entry.get("meta")):
        if isinstance(holder, dict):
            for key in _CONTEXT_KEYS:
                value = holder.get(key)
                if isinstance(value, int) and value > 0:
                    return value
    return None


@dataclass(frozen=True)
class ServerProps:
    """What llama-server's `GET /props` adds: the context it was started with, and whether its chat
    template reads `reasoning_effort` at all (a gpt-oss template without it ignores the effort)."""

    context_size: int | None = None
    template_reads_effort: bool | None = None


def parse_props(payload: object) -> ServerProps:
    """The useful part of a `/props` reply; anything missing stays unknown."""
    if not isinstance(payload, dict):
        return ServerProps()
    settings = payload.get("default_generation_settings")
    n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
    template = payload.get("chat_template")
    return ServerProps(
        context_size=n_ctx if isinstance(n_ctx, int) and n_ctx > 0 else None,
        template_reads_effort=("reasoning_effort" in template) if isinstance(template, str) and template else None,
    )
