"""The header values llama.cpp asserts on for gpt-oss, checked before it sees them.

llama.cpp trusts a GGUF's hyperparameters: an expert count of 1, a value length other than
the key length, a NaN epsilon or a bias stored as F16 reach a GGML_ASSERT in the loader or
in the compute graph, which aborts the process. These are refused here with a message; what
no check here foresees is caught by loading the file in a child process first (load_probe.py).
"""

from __future__ import annotations

import math

from .gguf_file import CorruptGGUFError, GGUFInfo

#: llama.cpp's LLAMA_MAX_EXPERTS (256 in the versions this app has shipped with).
MAX_EXPERTS = 256
#: Head sizes llama.cpp's attention kernels take (gpt-oss: 64).
MAX_HEAD_SIZE = 1024
#: The smallest trained context accepted: gpt-oss's sliding window alone is 128 tokens.
MIN_TRAINED_CONTEXT = 256
F32 = 0
_F32_ONLY = (".bias", "attn_sinks.weight", "_norm.weight")


def check_header(info: GGUFInfo) -> None:
    """Raise CorruptGGUFError when the header could not load, or would abort llama.cpp."""
    if info.metadata.get("general.type") == "adapter":
        raise CorruptGGUFError(
            f"{info.path.name} is a LoRA adapter, not a model: load the model it was made for, and apply the "
            "adapter to it (chat --model MODEL --lora ADAPTER)."
        )
    if not info.tensors and (info.get_int("split.count") or 1) == 1:
        raise CorruptGGUFError(f"{info.path.name} is damaged: it holds no weights (its tensor list is empty).")
    if info.architecture == "gpt-oss":
        _check_gpt_oss(info)


def _damaged(info: GGUFInfo, key: str, value: object, should: str) -> CorruptGGUFError:
    return CorruptGGUFError(f"{info.path.name} is damaged: its setting {key} is {value}, where it {should}.")


def _int_in(info: GGUFInfo, key: str, low: int, high: int, should: str) -> int:
    value = info.require_int(key)
    if not low <= value <= high:
        raise _damaged(info, key, value, should)
    return value


def _check_gpt_oss(info: GGUFInfo) -> None:
    arch = "gpt-oss"
    experts = _int_in(info, f"{arch}.expert_count", 2, MAX_EXPERTS, f"must be 2 to {MAX_EXPERTS}")
    _int_in(info, f"{arch}.expert_used_count", 1, experts, f"must be 1 to the expert count ({experts})")
    heads = _int_in(info, f"{arch}.attention.head_count", 1, 4096, "must be a positive count")
    kv_heads = _int_in(info, f"{arch}.attention.head_count_kv", 1, heads, f"must be 1 to the head count ({heads})")
    if heads % kv_heads:
        raise _damaged(info, f"{arch}.attention.head_count_kv", kv_heads, f"must divide the head count ({heads})")
    key_length = _int_in(info, f"{arch}.attention.key_length", 2, MAX_HEAD_SIZE, "must be a head size")
    if key_length % 2:
        raise _damaged(info, f"{arch}.attention.key_length", key_length, "must be even (rotary embedding)")
    _int_in(info, f"{arch}.attention.value_length", key_length, key_length, f"must equal the key length ({key_length})")
    _int_in(info, f"{arch}.context_length", MIN_TRAINED_CONTEXT, 1 << 24, f"must be {MIN_TRAINED_CONTEXT} or more")
    for key, low, high in (
        (f"{arch}.attention.layer_norm_rms_epsilon", 0.0, 1.0),
        (f"{arch}.rope.freq_base", 0.0, 1e12),
    ):
        value = info.metadata.get(key)
        if value is not None and not (isinstance(value, float) and math.isfinite(value) and low < value < high):
            raise _damaged(info, key, value, f"must be a number between {low:g} and {high:g}")
    for tensor in info.tensors:
        if tensor.name.endswith(_F32_ONLY) and tensor.ggml_type != F32:
            raise CorruptGGUFError(
                f"{info.path.name} is damaged: tensor {tensor.name} is stored as ggml type {tensor.ggml_type}, "
                "where llama.cpp needs 32-bit floats."
            )
