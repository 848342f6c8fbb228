"""What one conversation asks of the model: developer instructions, reasoning effort, sampling, tools.

Stored as JSON next to the conversation; damaged or unknown values fall back to defaults one field
at a time, so an old or hand-edited row never stops a conversation from opening. A sampling value
the person did not choose is None: the conversation then samples as the model it runs on advises
(ModelInfo.sampling), so a SmolLM2 conversation is not given gpt-oss's temperature.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Literal

from .engine import MAX_ADAPTER_SCALE, LoraAdapter
from .harmony import EFFORTS, Effort
from .remote.profile import ServerProfile
from .sampling import GPT_OSS_SAMPLING, SamplingParams

RECOMMENDED_SAMPLING = GPT_OSS_SAMPLING
MAX_TEMPERATURE = 2.0
MAX_TOP_K = 1000
MIN_REPEAT_PENALTY, MAX_REPEAT_PENALTY = 0.5, 2.0
#: Written into the JSON since sampling values may be None; JSON without it was written when every
#: conversation stored gpt-oss's 1.0 / 1.0, which were no one's choice.
FORMAT = 2
#: Sampling values that may be None ("the model's default").
SAMPLING_FIELDS = ("temperature", "top_p", "top_k", "min_p", "repeat_penalty")
MAX_TOKENS_LIMIT = 131_072  # gpt-oss's context length: no reply can be longer
MAX_SEED = 2**31 - 1  # what a Qt spin box can show; llama.cpp takes any 32-bit seed
#: Whether gpt-oss may run Python: after the person's Run ("ask", the default), at once, or never.
PythonChoice = Literal["ask", "run", "off"]
PYTHON_CHOICES: tuple[PythonChoice, ...] = ("ask", "run", "off")
#: How gpt-oss answers from the conversation's documents: it browses them itself (search, open, find, and
#: cites the lines), or it is given passages (the whole text, the best passages, or map-reduce).
DocumentsChoice = Literal["browse", "passages"]
DOCUMENTS_CHOICES: tuple[DocumentsChoice, ...] = ("browse", "passages")


def _is_number(value: object, low: float, high: float, *, low_open: bool = False) -> bool:
    if type(value) not in (int, float):
        return False
    number = float(value)  # type: ignore[arg-type]
    return math.isfinite(number) and (low < number if low_open else low <= number) and number <= high


def _is_optional_int(value: object, low: int, high: int) -> bool:
    return value is None or (type(value) is int and low <= value <= high)


def _are_adapters(value: object) -> bool:
    if not isinstance(value, tuple) or not all(isinstance(a, LoraAdapter) for a in value):
        return False
    return len({a.path for a in value}) == len(value)


def _adapters_from_json(value: object) -> tuple[LoraAdapter, ...]:
    """[{"path": …, "scale": …}, …] as stored; a damaged entry (or a second one of a file) is left out."""
    adapters: dict[str, LoraAdapter] = {}
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, dict):
            continue
        path, scale = item.get("path"), item.get("scale")
        if isinstance(path, str) and path and path not in adapters and _is_number(scale, 0.0, MAX_ADAPTER_SCALE):
            adapters[path] = LoraAdapter(Path(path), float(scale))  # type: ignore[arg-type]
    return tuple(adapters.values())


def _is_optional_number(value: object, low: float, high: float, *, low_open: bool = False) -> bool:
    return value is None or _is_number(value, low, high, low_open=low_open)


_CHECKS: dict[str, Callable[[object], bool]] = {
    "instructions": lambda value: isinstance(value, str),
    "effort": lambda value: value in EFFORTS,
    "temperature": lambda value: _is_optional_number(value, 0.0, MAX_TEMPERATURE),
    "top_p": lambda value: _is_optional_number(value, 0.0, 1.0, low_open=True),
    "top_k": lambda value: _is_optional_int(value, 0, MAX_TOP_K),
    "min_p": lambda value: _is_optional_number(value, 0.0, 1.0),
    "repeat_penalty": lambda value: _is_optional_number(value, MIN_REPEAT_PENALTY, MAX_REPEAT_PENALTY),
    "max_tokens": lambda value: _is_optional_int(value, 1, MAX_TOKENS_LIMIT),
    "seed": lambda value: _is_optional_int(value, 0, MAX_SEED),
    "server": lambda value: value is None or isinstance(value, ServerProfile),
    "documents_to_server": lambda value: isinstance(value, str),
    "python": lambda value: value in PYTHON_CHOICES,
    "python_without_network_isolation": lambda value: type(value) is bool,
    "adapters": _are_adapters,
    "documents": lambda value: value in DOCUMENTS_CHOICES,
}


@dataclass(frozen=True)
class ConversationSettings:
    """Instructions go in harmony's developer message; max_tokens and seed None mean no limit and a fresh seed;
    a sampling value None means the model's own default.

    ``server`` None means the conversation runs on this computer; ``documents_to_server`` is the
    address the person agreed to send this conversation's documents to ("" until they do).

    ``python`` says whether gpt-oss may run Python in the conversation's sandbox: "ask" (Run or Skip
    each call), "run" or "off"; ``python_without_network_isolation`` is the person's choice to run it
    where the system cannot cut it off from the network.

    ``adapters`` are the LoRA adapters this conversation's answers are written with, each at its scale
    (0 to 2), on the model on this computer; a file appears at most once.

    ``documents`` says how gpt-oss on this computer answers from the conversation's documents: "browse"
    (the default: its browser tool over them) or "passages" (chosen for it). Other models always get passages.
    """

    instructions: str = ""
    effort: Effort = "medium"
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    server: ServerProfile | None = None
    documents_to_server: str = ""
    top_k: int | None = None
    min_p: float | None = None
    repeat_penalty: float | None = None
    python: PythonChoice = "ask"
    python_without_network_isolation: bool = False
    adapters: tuple[LoraAdapter, ...] = ()
    documents: DocumentsChoice = "browse"

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not _CHECKS[f.name](value):
                raise ValueError(f"invalid conversation setting {f.name}={value!r}")

    def sampling(self, defaults: SamplingParams = RECOMMENDED_SAMPLING) -> SamplingParams:
        """The sampling part, as the engine takes it: what the person chose, the model's `defaults` elsewhere."""
        chosen = {name: getattr(self, name) for name in SAMPLING_FIELDS if getattr(self, name) is not None}
        return replace(defaults, max_tokens=self.max_tokens, seed=self.seed, **chosen)

    @property
    def sampling_chosen(self) -> bool:
        """True when the person set any sampling value (the model's defaults no longer apply whole)."""
        return any(getattr(self, name) is not None for name in (*SAMPLING_FIELDS, "max_tokens", "seed"))

    def reset_sampling(self) -> ConversationSettings:
        """A copy that samples as the model advises; instructions and effort are kept."""
        return replace(
            self, temperature=None, top_p=None, top_k=None, min_p=None, repeat_penalty=None, max_tokens=None, seed=None
        )

    def with_changes(self, **changes: object) -> ConversationSettings:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def documents_may_go_to_server(self) -> bool:
        """True when the person agreed to send documents to the server this conversation runs on now."""
        return self.server is not None and self.documents_to_server == self.server.base_url

    def to_json(self) -> str:
        """Compact JSON for a database column (a server as its profile: never a key)."""
        values = asdict(self)
        values["server"] = self.server.to_json() if self.server is not None else None
        values["adapters"] = [{"path": str(a.path), "scale": a.scale} for a in self.adapters]
        values["format"] = FORMAT
        return json.dumps(values, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes | None) -> ConversationSettings:
        """Read what to_json wrote; missing, damaged or unknown parts give defaults instead of errors."""
        if text is None:
            return cls()
        try:
            raw = json.loads(text)
        except (ValueError, TypeError):
            return cls()
        if not isinstance(raw, dict):
            return cls()
        raw["server"] = ServerProfile.from_json(raw.get("server"))
        raw["adapters"] = _adapters_from_json(raw.get("adapters"))
        values = {k: v for k, v in raw.items() if k in _CHECKS and _CHECKS[k](v)}
        for name in ("temperature", "top_p", "min_p", "repeat_penalty"):
            if values.get(name) is not None:
                values[name] = float(values[name])
        if raw.get("format") != FORMAT:  # written before per-model defaults: 1.0 was gpt-oss's, not a choice
            for name in ("temperature", "top_p"):
                if values.get(name) == getattr(RECOMMENDED_SAMPLING, name):
                    values[name] = None
        return cls(**values)
