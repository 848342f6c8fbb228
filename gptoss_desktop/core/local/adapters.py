"""The LoRA adapters llama.cpp holds for one loaded model, and the set applied to its context.

llama.cpp loads an adapter once per model (`llama_adapter_lora_init`) and applies a set of them,
each with a scale, per context (`llama_set_adapters_lora`), adding their products at run time: a
conversation can switch adapters, or their strength, without reloading the model. What it has
already computed for the prompt (the KV cache) was computed under the previous set, so the engine
drops it whenever `apply` says the set changed. Engine thread only, like the context it changes.
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import llama_cpp

from ..engine import LoraAdapter
from .gguf_file import GGUFInfo
from .llama_log import logger as llama_logger
from .lora_file import AdapterError, LoraFile, check_lora_matches, read_lora
from .machine import Machine, read_machine
from .memory_plan import MemoryPlan, adapter_room

#: What the context has applied: (file, scale) for each adapter, sorted by file, scale 0 left out.
AppliedSet = tuple[tuple[Path, float], ...]
#: llama.cpp's handle of a loaded adapter (a `struct llama_adapter_lora *`).
type Handle = ctypes._Pointer[ctypes.c_void_p]


class _Opened:
    """One adapter llama.cpp has loaded: its handle and what its header said."""

    def __init__(self, handle: Handle, lora: LoraFile) -> None:
        self.handle = handle
        self.lora = lora


class ModelAdapters:
    """Adapters for one model: opened on first use (checked against the model first), freed with it."""

    def __init__(
        self,
        llama: llama_cpp.Llama,
        model: GGUFInfo,
        plan: MemoryPlan,
        machine: Callable[[], Machine] = read_machine,
    ) -> None:
        self._llama = llama
        self._model = model
        self._plan = plan
        self._machine = machine
        self._opened: dict[Path, _Opened] = {}
        self.applied: AppliedSet = ()

    def open(self, path: str | Path) -> LoraFile:
        """Check the adapter against the model and the memory left, then have llama.cpp load it (once).

        AdapterError says why not: not an adapter, made for another model, damaged, no room.
        """
        key = Path(path).expanduser().resolve()
        opened = self._opened.get(key)
        if opened is not None:
            return opened.lora
        lora = self.check(key)
        handle = _load(self._llama, key)
        self._opened[key] = _Opened(handle, lora)
        return lora

    def check(self, path: str | Path) -> LoraFile:
        """What `open` checks, without loading: the header against the model, and the memory left beside the
        adapters open now. AdapterError says why it would be refused."""
        key = Path(path).expanduser().resolve()
        opened = self._opened.get(key)
        if opened is not None:
            return opened.lora
        lora = read_lora(key)
        check_lora_matches(lora, self._model)
        in_use = sum(o.lora.tensor_bytes for o in self._opened.values())
        problem = adapter_room(self._plan, self._machine(), lora.tensor_bytes, in_use)
        if problem is not None:
            raise AdapterError(f"{key.name} {problem}.")
        return lora

    def apply(self, adapters: Sequence[LoraAdapter]) -> bool:
        """Make `adapters` the set the context applies; True when that changed what the model computes.

        Opens what is not open yet (AdapterError if one cannot be). An adapter at scale 0 changes
        nothing, so it is left out rather than computed for nothing.
        """
        paths = [Path(a.path).expanduser().resolve() for a in adapters]
        if len(set(paths)) != len(paths):
            raise AdapterError("The same adapter is chosen twice; choose each once, with one scale.")
        for path in paths:
            self.open(path)
        wanted: AppliedSet = tuple(sorted((p, a.scale) for p, a in zip(paths, adapters, strict=True) if a.scale > 0))
        if wanted == self.applied:
            return False
        handles = (llama_cpp.llama_adapter_lora_p_ctypes * max(1, len(wanted)))(
            *(self._opened[path].handle for path, _ in wanted)
        )
        scales = (ctypes.c_float * max(1, len(wanted)))(*(scale for _, scale in wanted))
        if llama_cpp.llama_set_adapters_lora(self._llama.ctx, handles, len(wanted), scales) != 0:
            self._clear()
            raise AdapterError("llama.cpp could not apply the adapters to the model; they are off for now.")
        self.applied = wanted
        return True

    def opened(self) -> list[LoraFile]:
        """The adapters llama.cpp holds for this model, in the order they were opened."""
        return [o.lora for o in self._opened.values()]

    def close(self) -> None:
        """Take the adapters off the context and free them; before the model is freed."""
        if self.applied:
            self._clear()
        for opened in self._opened.values():
            llama_cpp.llama_adapter_lora_free(opened.handle)
        self._opened.clear()

    def _clear(self) -> None:
        llama_cpp.llama_set_adapters_lora(self._llama.ctx, None, 0, None)
        self.applied = ()


def _load(llama: llama_cpp.Llama, path: Path) -> Handle:
    """llama.cpp's handle for the adapter at `path`; AdapterError with llama.cpp's own reason if it refused."""
    said: list[str] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = lambda record: said.append(record.getMessage())  # type: ignore[method-assign]
    llama_logger.addHandler(handler)
    try:
        handle: Handle | None = llama_cpp.llama_adapter_lora_init(llama.model, str(path).encode("utf-8"))
    finally:
        llama_logger.removeHandler(handler)
    if handle is None or not handle:
        reasons = [line.split(": ", 2)[-1] for line in said if "lora" in line.lower()]
        reason = f" ({reasons[-1][:300]})" if reasons else ""
        raise AdapterError(
            f"llama.cpp could not load {path.name}{reason}: the file is damaged, or was made by a tool this "
            "version of llama.cpp does not understand."
        )
    return handle
