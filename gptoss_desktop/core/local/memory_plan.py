"""Decide before loading whether a model fits this machine, and with what context and GPU offload.

A model that does not fit is refused with what to change: loading it anyway would
swap the laptop to a standstill. Sizes follow what llama.cpp (in llama-cpp-python
0.3.36) allocates and what a process really holds, measured on a full-size gpt-oss-20b
stand-in (bench/fullsize.py, docs/fullsize.md): the weights once (read into memory on the
CPU, where llama.cpp repacks the experts; mapped by Metal), an F16 KV cache, the part of
the compute buffer that is written, and the app itself.
Memory amounts shown to people are GiB written "GB", as task managers do.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from .gguf_file import CorruptGGUFError, GGUFInfo, SkippedArray
from .machine import GIB, MIB, Machine, default_metal_working_set

MIN_CONTEXT = 2048
PREFERRED_GPU_CONTEXT = 8192
KV_BYTES = 2  # F16 K and V, llama.cpp's default cache type
N_UBATCH = 512  # llama-cpp-python's default physical batch
#: Python, Qt and the app (the idle window holds 123 MiB), llama.cpp's runtime and a 201k-token
#: vocabulary (about 130 MiB more, measured with gpt-oss-20b's).
APP_OVERHEAD = 256 * MIB
FREE_MEMORY_MARGIN = 512 * MIB  # left free of what the machine reports available
GPU_MARGIN = 256 * MIB  # left free of Metal's working-set limit


@dataclass(frozen=True)
class ModelShape:
    """What the planner needs from a GGUF's metadata."""

    architecture: str
    block_count: int
    head_count: int
    head_count_kv: tuple[int, ...]  # per layer
    key_length: int
    value_length: int
    context_length: int  # trained
    sliding_window: int  # 0: none
    sliding_layers: tuple[bool, ...]  # per layer: uses the sliding window
    embedding_length: int
    vocab_size: int
    weight_bytes: int
    layer_bytes: tuple[int, ...]  # per layer
    output_bytes: int  # output head and norm: on the GPU only when every layer is

    @classmethod
    def from_gguf(cls, info: GGUFInfo) -> ModelShape:
        """Read the shape from a GGUF header (raises CorruptGGUFError if a required key is missing)."""
        arch = info.architecture
        if arch is None:
            raise CorruptGGUFError(f"{info.path.name} does not say which model architecture it holds.")
        n_layer = _plausible(info, f"{arch}.block_count", 100_000)
        n_head = _per_layer(info, f"{arch}.attention.head_count", n_layer)
        n_head_kv = _per_layer(info, f"{arch}.attention.head_count_kv", n_layer) or n_head
        if not n_head or min(n_head) < 1:
            _plausible(info, f"{arch}.attention.head_count", 100_000)
        n_embd = _plausible(info, f"{arch}.embedding_length", 1 << 24)
        key_length = info.get_int(f"{arch}.attention.key_length") or n_embd // max(n_head)
        window = info.get_int(f"{arch}.attention.sliding_window") or 0
        tokens = info.metadata.get("tokenizer.ggml.tokens")
        vocab = tokens.length if isinstance(tokens, SkippedArray) else len(tokens) if isinstance(tokens, tuple) else 0
        layer_bytes = [0] * n_layer
        output_bytes = 0
        for tensor in info.tensors:
            parts = tensor.name.split(".")
            if parts[0] == "blk" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < n_layer:
                layer_bytes[int(parts[1])] += tensor.n_bytes
            elif parts[0] != "token_embd":  # the input embedding always stays on the CPU
                output_bytes += tensor.n_bytes
        return cls(
            architecture=arch,
            block_count=n_layer,
            head_count=max(n_head),
            head_count_kv=n_head_kv,
            key_length=key_length,
            value_length=info.get_int(f"{arch}.attention.value_length") or key_length,
            context_length=_plausible(info, f"{arch}.context_length", 1 << 30),
            sliding_window=window,
            sliding_layers=_sliding_layers(info, arch, n_layer, window),
            embedding_length=n_embd,
            vocab_size=info.get_int(f"{arch}.vocab_size") or vocab,
            weight_bytes=info.tensor_data_size,
            layer_bytes=tuple(layer_bytes),
            output_bytes=output_bytes,
        )


def _plausible(info: GGUFInfo, key: str, high: int) -> int:
    """A required count, refused when damage made it zero or absurd (it would size lists and divide)."""
    value = info.require_int(key)
    if not 0 < value <= high:
        raise CorruptGGUFError(f"{info.path.name} is damaged: its setting {key} is {value}.")
    return value


def _per_layer(info: GGUFInfo, key: str, n_layer: int) -> tuple[int, ...]:
    value = info.metadata.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * n_layer
    if isinstance(value, tuple) and len(value) == n_layer and all(isinstance(v, int) for v in value):
        return tuple(int(v) for v in value)
    return ()


def _sliding_layers(info: GGUFInfo, arch: str, n_layer: int, window: int) -> tuple[bool, ...]:
    pattern = info.metadata.get(f"{arch}.attention.sliding_window_pattern")
    if isinstance(pattern, tuple) and len(pattern) == n_layer:
        return tuple(bool(p) for p in pattern)
    if window and arch == "gpt-oss":  # llama.cpp: sliding window on even layers, full attention on odd
        return tuple(i % 2 == 0 for i in range(n_layer))
    return (False,) * n_layer


def gpt_oss_20b(file_size: int) -> ModelShape:
    """gpt-oss-20b's published architecture, for a verdict before its GGUF is downloaded.

    The per-layer split of the weights is unknown without the file: spread evenly,
    which is conservative for partial GPU offload.
    """
    n_layer = 24
    return ModelShape(
        architecture="gpt-oss",
        block_count=n_layer,
        head_count=64,
        head_count_kv=(8,) * n_layer,
        key_length=64,
        value_length=64,
        context_length=131072,
        sliding_window=128,
        sliding_layers=tuple(i % 2 == 0 for i in range(n_layer)),
        embedding_length=2880,
        vocab_size=201088,
        weight_bytes=file_size,
        layer_bytes=(file_size // n_layer,) * n_layer,
        output_bytes=0,
    )


class Verdict(StrEnum):
    FITS = "fits"
    DOES_NOT_FIT = "does not fit"


@dataclass(frozen=True)
class MemoryPlan:
    """How to load the model (context_size, n_gpu_layers), or why not to; sizes in bytes."""

    verdict: Verdict
    message: str
    context_size: int | None  # None when it does not fit
    n_gpu_layers: int  # -1: all layers and the output on the GPU; 0: CPU only
    resident_bytes: int  # expected memory in use while chatting (at the smallest context if it does not fit)
    kv_bytes_per_token: int
    kv_cache_bytes: int
    compute_bytes: int
    weight_bytes: int
    flash_attn: bool
    adapter_bytes: int = 0  # LoRA adapters planned for (resident beside the weights, on the GPU with them)

    @property
    def fits(self) -> bool:
        return self.verdict is Verdict.FITS


def kv_cache_bytes(model: ModelShape, n_ctx: int, *, swa_full: bool = True) -> int:
    return sum(_layer_kv_bytes(model, layer, n_ctx, swa_full) for layer in range(model.block_count))


def _layer_kv_bytes(model: ModelShape, layer: int, n_ctx: int, swa_full: bool) -> int:
    cells = n_ctx
    if model.sliding_layers[layer] and not swa_full:
        cells = min(n_ctx, -(-(model.sliding_window + N_UBATCH) // 256) * 256)  # llama.cpp pads to 256 cells
    return cells * model.head_count_kv[layer] * (model.key_length + model.value_length) * KV_BYTES


def compute_bytes(model: ModelShape, n_ctx: int, *, flash_attn: bool) -> int:
    """llama.cpp's compute buffer: logits and activations for a batch, plus attention scores over the context.

    Without flash attention the scores of all heads for a batch are materialised:
    measured at n_ubatch * 4 * (n_head + 2) bytes per context token (n_head 4 and 16),
    against n_ubatch * 4 with it. For gpt-oss-20b at 32k that is 4.1 GiB against 64 MiB.
    """
    per_token = N_UBATCH * 4 * (1 if flash_attn else model.head_count + 2)
    return N_UBATCH * 4 * (model.vocab_size + 16 * model.embedding_length) + per_token * n_ctx


def written_compute_bytes(model: ModelShape, n_ctx: int, *, flash_attn: bool) -> int:
    """The part of the compute buffer the CPU really writes, so the part that becomes resident.

    llama.cpp reserves logits for a whole batch (n_ubatch x n_vocab floats, 393 MiB for
    gpt-oss-20b) but computes them only for the tokens that need them, one per prompt: those
    pages are never touched. Measured at full size: with 383 prompt tokens the process held
    228-264 MiB beyond weights and KV at 4k-32k, against 410-435 MiB of buffer.
    """
    return compute_bytes(model, n_ctx, flash_attn=flash_attn) - N_UBATCH * 4 * model.vocab_size


def system_reserve(total_ram: int) -> int:
    """Memory left to the operating system and the desktop whatever is free right now."""
    return max(2 * GIB, total_ram // 8)


def context_steps(model: ModelShape, max_context: int | None = None) -> list[int]:
    """Context sizes to try, smallest first: powers of two from 2048 up to the trained context."""
    cap = min(model.context_length, max_context or model.context_length)
    if cap <= MIN_CONTEXT:
        return [cap]
    steps = [MIN_CONTEXT]
    while steps[-1] * 2 < cap:
        steps.append(steps[-1] * 2)
    return [*steps, cap]


def _gpu_layers(model: ModelShape, machine: Machine, n_ctx: int, swa_full: bool, compute: int) -> int:
    """How many layers Metal can hold: -1 for all (output too), else the last k layers, as llama.cpp offloads.

    `compute` is what the GPU holds beside the layers: the compute buffer and any adapters."""
    if not machine.apple_silicon:
        return 0
    limit = machine.metal_working_set or default_metal_working_set(machine.total_ram)
    budget = limit - GPU_MARGIN - compute
    per_layer = [model.layer_bytes[i] + _layer_kv_bytes(model, i, n_ctx, swa_full) for i in range(model.block_count)]
    if sum(per_layer) + model.output_bytes <= budget:
        return -1
    used, k = 0, 0
    for size in reversed(per_layer):
        if used + size > budget:
            break
        used, k = used + size, k + 1
    return k


def plan_memory(
    model: ModelShape,
    machine: Machine,
    *,
    flash_attn: bool = False,
    swa_full: bool = True,
    max_context: int | None = None,
    adapter_bytes: int = 0,
) -> MemoryPlan:
    """The largest context that fits with margins to spare, or a refusal saying what to change.

    `flash_attn` and `swa_full` must be what the engine will pass to llama.cpp; `adapter_bytes`, the
    LoRA adapters to be applied (llama.cpp keeps them where the weights they change are). On
    Apple Silicon a context of at least 8k that keeps every layer on the GPU wins
    over a larger one that would push layers to the slower CPU.
    """
    ceiling = machine.total_ram - system_reserve(machine.total_ram)
    budget = ceiling
    if machine.available_ram is not None:
        budget = min(ceiling, machine.available_ram - FREE_MEMORY_MARGIN)

    def plan_at(verdict: Verdict, n_ctx: int) -> MemoryPlan:
        kv = kv_cache_bytes(model, n_ctx, swa_full=swa_full)
        compute = compute_bytes(model, n_ctx, flash_attn=flash_attn)
        gpu_layers = _gpu_layers(model, machine, n_ctx, swa_full, compute + adapter_bytes)
        # Metal's buffers are wired whole; on the CPU only what is written becomes resident.
        held = compute if gpu_layers else written_compute_bytes(model, n_ctx, flash_attn=flash_attn)
        resident = model.weight_bytes + adapter_bytes + kv + held + APP_OVERHEAD
        context = n_ctx if verdict is Verdict.FITS else None
        return MemoryPlan(
            verdict,
            "",
            context,
            gpu_layers,
            resident,
            kv // n_ctx,
            kv,
            compute,
            model.weight_bytes,
            flash_attn,
            adapter_bytes,
        )

    steps = context_steps(model, max_context)
    fitting = [(n, plan) for n in steps if (plan := plan_at(Verdict.FITS, n)).resident_bytes <= budget]
    if not fitting:
        return _refusal(plan_at(Verdict.DOES_NOT_FIT, steps[0]), machine, ceiling)
    n_ctx, chosen = fitting[-1]
    on_gpu = [(n, plan) for n, plan in fitting if plan.n_gpu_layers < 0]
    if on_gpu and chosen.n_gpu_layers >= 0 and on_gpu[-1][0] >= min(PREFERRED_GPU_CONTEXT, n_ctx):
        n_ctx, chosen = on_gpu[-1]
    offload = _offload_text(model, machine, chosen.n_gpu_layers)
    return replace(chosen, message=f"fits: {_context_text(n_ctx)} context{offload}, about {_gb(chosen.resident_bytes)}")


def _refusal(plan: MemoryPlan, machine: Machine, ceiling: int) -> MemoryPlan:
    need = plan.resident_bytes
    if need > ceiling:
        computer = max(need + 2 * GIB, need * 8 // 7)  # the smallest total whose ceiling holds it
        message = (
            f"does not fit: needs a computer with about {_gb(computer)} of memory, this one has "
            f"{_gb(machine.total_ram)}; choose a smaller model"
        )
    else:
        message = (
            f"does not fit: needs about {_gb(need + FREE_MEMORY_MARGIN)} of free memory, "
            f"{_gb(machine.available_ram or 0)} is free now; close other apps or choose a smaller model"
        )
    return replace(plan, message=message, n_gpu_layers=0)


def _offload_text(model: ModelShape, machine: Machine, gpu_layers: int) -> str:
    if not machine.apple_silicon:
        return ""
    if gpu_layers < 0:
        return ", all on the GPU"
    if gpu_layers == 0:
        return ", on the CPU only (slower)"
    return f", {gpu_layers} of {model.block_count} layers on the GPU (slower)"


def _context_text(n_ctx: int) -> str:
    return f"{n_ctx // 1024}k" if n_ctx % 1024 == 0 else str(n_ctx)


def _gb(n: int) -> str:
    return f"{n / GIB:.1f}".removesuffix(".0") + " GB"


#: How the engine loads every model. Flash attention: without it llama.cpp's work buffer grows
#: ~132 KiB per context token for gpt-oss-20b (4 GiB at 32k); with it, 2 KiB.
ENGINE_FLASH_ATTN = True
#: The largest context offered by default: more costs memory for little use.
DEFAULT_MAX_CONTEXT = 32768


def engine_plan(
    model: ModelShape, machine: Machine, max_context: int | None = None, adapter_bytes: int = 0
) -> MemoryPlan:
    """The plan the engine loads with, so the window, the CLI and the engine give the same verdict."""
    return plan_memory(
        model,
        machine,
        flash_attn=ENGINE_FLASH_ATTN,
        max_context=max_context or DEFAULT_MAX_CONTEXT,
        adapter_bytes=adapter_bytes,
    )


def adapter_room(plan: MemoryPlan, machine: Machine, adapter_bytes: int, in_use_bytes: int = 0) -> str | None:
    """Why an adapter of `adapter_bytes` cannot be added to a model loaded as `plan`; None if it can.

    `in_use_bytes`: adapters added before. `machine` is read now, with the model and those adapters
    loaded: what is available already excludes them, so only what the plan did not set aside for
    adapters is weighed against it, under the same ceiling as a model, and on the GPU against what
    Metal can wire beside the model.
    """
    need = adapter_bytes - max(0, plan.adapter_bytes - in_use_bytes)
    if need <= 0:
        return None
    ceiling = machine.total_ram - system_reserve(machine.total_ram)
    if plan.resident_bytes + max(0, in_use_bytes - plan.adapter_bytes) + need > ceiling:
        return f"needs about {_gb(need)} more than this computer can give the model ({_gb(ceiling)} in all)"
    if machine.available_ram is not None and need > machine.available_ram - FREE_MEMORY_MARGIN:
        return (
            f"needs about {_gb(need + FREE_MEMORY_MARGIN)} of free memory, {_gb(machine.available_ram)} is free now; "
            "close other apps"
        )
    if machine.apple_silicon and plan.n_gpu_layers < 0:
        limit = machine.metal_working_set or default_metal_working_set(machine.total_ram)
        on_gpu = plan.weight_bytes + plan.kv_cache_bytes + plan.compute_bytes + max(in_use_bytes, plan.adapter_bytes)
        if on_gpu + need > limit - GPU_MARGIN:
            return "does not fit in the GPU's memory beside the model; load the model with a smaller context"
    return None
