"""LoRA adapters in GGUF: read one's header and check it against the model it would change.

An adapter (llama.cpp's `convert_lora_to_gguf.py` writes them) holds, for each weight matrix it
changes, two small matrices `NAME.lora_a` and `NAME.lora_b`; llama.cpp adds
`scale * alpha / rank * B @ A` to that matrix's product at run time, so one base model serves many
adapters. llama.cpp checks only part of this and trusts the rest: a wrong expert count, for one,
reaches its matrix kernels. So everything is checked here, before llama.cpp sees the file, and a
person gets the reason in words.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from ..engine import ModelLoadError
from .gguf_file import GGUFError, GGUFInfo, TensorInfo, read_gguf

#: ggml types llama.cpp multiplies an adapter's matrices in: F32, F16, Q8_0, BF16.
ADAPTER_TYPES = {0: "F32", 1: "F16", 8: "Q8_0", 30: "BF16"}
#: llama.cpp skips these in an adapter (norm vectors some tools add); they are allowed and ignored.
IGNORED_SUFFIX = "_norm.weight"
#: llama.cpp's key for an activated LoRA, which only turns on after given tokens.
ALORA_KEY = "adapter.alora.invocation_tokens"
MAX_RANK = 65536


class AdapterError(ModelLoadError):
    """A file cannot be used as a LoRA adapter for the loaded model; the message says why."""


@dataclass(frozen=True)
class LoraFile:
    """What an adapter's header says: the matrices it changes (A and B per base tensor) and its size."""

    path: Path
    name: str
    architecture: str
    alpha: float
    base_model: str | None  # the model it was trained on, when the file says so
    pairs: dict[str, tuple[TensorInfo, TensorInfo]]  # base tensor name -> (lora_a, lora_b)

    @property
    def rank(self) -> int:
        """The largest rank of its matrices (convert_lora_to_gguf writes one rank for all)."""
        return max(_rank(name, a, b) for name, (a, b) in self.pairs.items())

    @property
    def tensor_bytes(self) -> int:
        """Bytes llama.cpp allocates for it: every A and B, in the type stored."""
        return sum(a.n_bytes + b.n_bytes for a, b in self.pairs.values())


def is_adapter(info: GGUFInfo) -> bool:
    """True when a GGUF header is an adapter's rather than a model's."""
    return info.metadata.get("general.type") == "adapter"


def is_adapter_file(path: str | os.PathLike[str]) -> bool:
    """True when `path` is a GGUF whose header says it is an adapter (its weights are not read; a file whose
    header cannot be read is not one): tells a dropped adapter from a dropped model."""
    try:
        return is_adapter(read_gguf(Path(path).expanduser(), require_complete=False, max_array_items=0))
    except GGUFError:
        return False


def read_lora(path: str | os.PathLike[str]) -> LoraFile:
    """Read and check an adapter's header on its own (not yet against a model); AdapterError if unusable."""
    try:
        info = read_gguf(Path(path).expanduser())
    except GGUFError as exc:
        raise AdapterError(str(exc).replace("model file", "adapter file")) from None
    name = info.path.name
    if not is_adapter(info):
        raise AdapterError(
            f"{name} is a model, not a LoRA adapter: load it as the model, or choose an adapter (a GGUF made by "
            "convert_lora_to_gguf.py)."
        )
    kind = info.metadata.get("adapter.type")
    if kind != "lora":
        raise AdapterError(f"{name} is an adapter of type {kind!r}; only LoRA adapters can be used.")
    if ALORA_KEY in info.metadata:
        raise AdapterError(f"{name} is an activated LoRA (aLoRA), which turns on after given words; not supported.")
    architecture = info.architecture
    if architecture is None:
        raise AdapterError(f"{name} does not say which model architecture it was made for.")
    alpha = info.metadata.get("adapter.lora.alpha", 0.0)
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not math.isfinite(alpha) or alpha < 0:
        raise AdapterError(f"{name} is damaged: its LoRA alpha ({alpha}) is not a number of zero or more.")
    base = info.metadata.get("general.base_model.0.name")
    return LoraFile(
        path=info.path,
        name=info.name or info.path.stem,
        architecture=architecture,
        alpha=float(alpha),
        base_model=base if isinstance(base, str) else None,
        pairs=_pairs(info),
    )


def _pairs(info: GGUFInfo) -> dict[str, tuple[TensorInfo, TensorInfo]]:
    name = info.path.name
    halves: dict[str, dict[str, TensorInfo]] = {}
    for tensor in info.tensors:
        if tensor.name.endswith(IGNORED_SUFFIX):
            continue
        base, dot, half = tensor.name.rpartition(".")
        if not dot or half not in ("lora_a", "lora_b"):
            raise AdapterError(f"{name} holds a tensor {tensor.name}, which is not part of a LoRA (.lora_a, .lora_b).")
        if tensor.ggml_type not in ADAPTER_TYPES:
            raise AdapterError(
                f"{name} stores {tensor.name} as ggml type {tensor.ggml_type}; adapters must be F32, F16, BF16 or Q8_0."
            )
        halves.setdefault(base, {})[half] = tensor
    pairs: dict[str, tuple[TensorInfo, TensorInfo]] = {}
    for base, found in halves.items():
        if "lora_a" not in found or "lora_b" not in found:
            missing = "lora_b" if "lora_a" in found else "lora_a"
            raise AdapterError(f"{name} is damaged: {base} has no {missing} beside its other half.")
        pairs[base] = (found["lora_a"], found["lora_b"])
    if not pairs:
        raise AdapterError(f"{name} changes nothing: it holds no LoRA matrices.")
    for base, (a, b) in pairs.items():
        _rank(base, a, b, name)
    return pairs


def _dims(tensor: TensorInfo) -> tuple[int, int, int]:
    """ggml's first three dimensions (ne0, ne1, ne2), 1 where the tensor has fewer."""
    ne = (*tensor.shape, 1, 1, 1)
    return ne[0], ne[1], ne[2]


def _rank(base: str, a: TensorInfo, b: TensorInfo, file_name: str | None = None) -> int:
    """The rank shared by A and B; AdapterError when they disagree or it is absurd."""
    token_embd = base == "token_embd.weight"  # llama.cpp keeps this one's A transposed
    rank = _dims(a)[0] if token_embd else _dims(a)[1]
    if _dims(b)[0] != rank or not 1 <= rank <= MAX_RANK or len(a.shape) != len(b.shape):
        raise AdapterError(
            f"{file_name or 'The adapter'} is damaged: the two halves of {base} do not fit together "
            f"({list(a.shape)} and {list(b.shape)})."
        )
    return rank


def check_lora_matches(lora: LoraFile, model: GGUFInfo) -> None:
    """AdapterError unless `lora` was made for a model of `model`'s architecture and tensor shapes."""
    name, model_name = lora.path.name, model.name or model.path.name
    if lora.architecture != model.architecture:
        raise AdapterError(
            f"{name} was made for a {lora.architecture} model; {model_name} is {model.architecture or 'unknown'}."
        )
    tensors = {tensor.name: tensor for tensor in model.tensors}
    made_for = f" (it was made for {lora.base_model})" if lora.base_model else ""
    for base, (a, b) in lora.pairs.items():
        weight = tensors.get(base)
        if weight is None:
            raise AdapterError(f"{name} changes {base}, which {model_name} does not have{made_for}.")
        if len(weight.shape) < 2:
            raise AdapterError(f"{name} changes {base}, a vector; LoRA can change only weight matrices.")
        w0, w1, w2 = _dims(weight)
        a0, a1, a2 = _dims(a)
        _, b1, b2 = _dims(b)
        token_embd = base == "token_embd.weight"  # kept flipped: see _rank
        fits = (w0 == b1 and w1 == a1) if token_embd else (w0 == a0 and w1 == b1 and a2 == b2 == w2)
        if not fits or len(a.shape) > len(weight.shape):
            raise AdapterError(
                f"{name} does not fit {model_name}: {base} is {_shape_text(weight)} there, the adapter expects "
                f"{_expected_text(base, a, b)}{made_for}."
            )


def _shape_text(tensor: TensorInfo) -> str:
    return " x ".join(str(n) for n in tensor.shape)


def _expected_text(base: str, a: TensorInfo, b: TensorInfo) -> str:
    a0, a1, a2 = _dims(a)
    b1 = _dims(b)[1]
    dims = [b1, a1] if base == "token_embd.weight" else [a0, b1]
    if len(a.shape) > 2:
        dims.append(a2)
    return " x ".join(str(n) for n in dims)
