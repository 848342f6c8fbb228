"""The memory planner with gpt-oss-20b's real shape on 8, 16 and 32 GB machines, x86 and Apple Silicon."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

import gguf
import numpy as np
import pytest

from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.local.gguf_file import CorruptGGUFError, read_gguf
from gptoss_desktop.core.local.machine import (
    GIB,
    MIB,
    Machine,
    default_metal_working_set,
    parse_meminfo,
    parse_vm_stat,
    read_machine,
)
from gptoss_desktop.core.local.memory_plan import (
    ModelShape,
    Verdict,
    compute_bytes,
    gpt_oss_20b,
    kv_cache_bytes,
    plan_memory,
)

GPT_OSS_20B = gpt_oss_20b(12_100_000_000)  # the size of ggml-org's gpt-oss-20b-mxfp4.gguf


def fresh(total_gib: int, apple: bool = False) -> Machine:
    """A machine just after login: all but 2 GiB available."""
    return Machine(total_gib * GIB, (total_gib - 2) * GIB, apple_silicon=apple)


FITS, NO = Verdict.FITS, Verdict.DOES_NOT_FIT
# The engine loads with flash_attn=False. id: (machine, verdict, context offered, GPU layers, what the message says)
CASES = {
    "8 GB x86": (fresh(8), NO, None, 0, "needs a computer with about 14.6 GB of memory, this one has 8 GB"),
    "8 GB Mac": (fresh(8, apple=True), NO, None, 0, "this one has 8 GB; choose a smaller model"),
    "16 GB x86": (fresh(16), FITS, 4096, 0, "fits: 4k context, about 12.9 GB"),
    "16 GB Mac": (fresh(16, apple=True), FITS, 4096, 19, "fits: 4k context, 19 of 24 layers on the GPU"),
    "32 GB x86": (fresh(32), FITS, 65536, 0, "fits: 64k context, about 23.5 GB"),
    "32 GB Mac": (fresh(32, apple=True), FITS, 32768, -1, "fits: 32k context, all on the GPU, about 17.9 GB"),
}


@pytest.mark.parametrize(("machine", "verdict", "context", "gpu_layers", "says"), CASES.values(), ids=CASES.keys())
def test_gpt_oss_20b_on_common_machines(
    machine: Machine, verdict: Verdict, context: int | None, gpu_layers: int, says: str
) -> None:
    plan = plan_memory(GPT_OSS_20B, machine)
    assert (plan.verdict, plan.context_size, plan.n_gpu_layers) == (verdict, context, gpu_layers)
    assert says in plan.message
    assert plan.message.startswith(f"{verdict.value}:")
    if plan.fits:
        assert plan.resident_bytes <= machine.total_ram - 2 * GIB  # room left for the system: never swapping
        assert plan.resident_bytes > GPT_OSS_20B.weight_bytes


@pytest.mark.parametrize("flash_attn", [False, True])
def test_the_system_keeps_its_share_even_when_all_memory_is_free(flash_attn: bool) -> None:
    for total in range(12, 41):
        machine = Machine(total * GIB, total * GIB)
        plan = plan_memory(GPT_OSS_20B, machine, flash_attn=flash_attn)
        if plan.fits:
            assert plan.resident_bytes <= total * GIB - max(2 * GIB, total * GIB // 8), f"{total} GB"
        else:
            assert total <= 14 and "needs a computer with about" in plan.message


def test_a_16_gb_mac_cannot_hold_the_weights_in_metal() -> None:
    machine = fresh(16, apple=True)
    working_set = default_metal_working_set(machine.total_ram)
    assert 10.5e9 <= working_set <= 11.5e9  # 10.67 GiB, what Metal reports on 16 GB Macs
    assert working_set < GPT_OSS_20B.weight_bytes
    plan = plan_memory(GPT_OSS_20B, machine)
    assert 0 < plan.n_gpu_layers < 24
    raised = Machine(machine.total_ram, machine.available_ram, True, metal_working_set=14 * GIB)  # iogpu.wired_limit_mb
    assert plan_memory(GPT_OSS_20B, raised).n_gpu_layers == -1


@pytest.mark.parametrize(("total", "context"), [(16, 16384), (32, 131072)])
def test_flash_attention_buys_context(total: int, context: int) -> None:
    without = plan_memory(GPT_OSS_20B, fresh(total))
    plan = plan_memory(GPT_OSS_20B, fresh(total), flash_attn=True)
    assert plan.fits and plan.flash_attn
    assert plan.context_size == context > (without.context_size or 0)
    assert plan.context_size <= GPT_OSS_20B.context_length  # capped at the trained context, however much memory


def test_a_busy_machine_is_told_to_close_apps() -> None:
    plan = plan_memory(GPT_OSS_20B, Machine(16 * GIB, 8 * GIB))
    assert not plan.fits and plan.context_size is None
    assert plan.message == (
        "does not fit: needs about 13.1 GB of free memory, 8 GB is free now; close other apps or choose a smaller model"
    )


def test_never_shrinks_below_2048_tokens_of_context() -> None:
    needed_at_2k = plan_memory(GPT_OSS_20B, Machine(64 * GIB, 64 * GIB), max_context=2048).resident_bytes
    just_enough = Machine(64 * GIB, needed_at_2k + 512 * MIB)
    assert plan_memory(GPT_OSS_20B, just_enough).context_size == 2048
    short = Machine(64 * GIB, needed_at_2k + 512 * MIB - 1)
    plan = plan_memory(GPT_OSS_20B, short)
    assert (plan.verdict, plan.context_size) == (Verdict.DOES_NOT_FIT, None)


def test_unknown_free_memory_plans_from_total_memory() -> None:
    plan = plan_memory(GPT_OSS_20B, Machine(16 * GIB, None))
    assert plan.fits and plan.resident_bytes <= 14 * GIB


def test_max_context_caps_the_offer() -> None:
    assert plan_memory(GPT_OSS_20B, fresh(32), max_context=8192).context_size == 8192


def test_kv_cache_matches_the_published_arithmetic() -> None:
    # 2 (K, V) x 8 KV heads x 64 x 2 bytes = 2 KiB per layer per token, all 24 layers with swa_full
    assert kv_cache_bytes(GPT_OSS_20B, 32768) // 32768 == 48 * 1024
    assert kv_cache_bytes(GPT_OSS_20B, 32768) == 1536 * MIB
    # without swa_full: 12 full layers at 24 KiB/token (768 MiB at 32k) plus a fixed window cache
    fixed = kv_cache_bytes(GPT_OSS_20B, 32768, swa_full=False) - 768 * MIB
    assert 18 * MIB <= fixed <= 54 * MIB


def test_compute_buffer_grows_with_heads_only_without_flash_attention() -> None:
    # Measured in llama.cpp: n_head 4 adds 12 KiB per context token, n_head 16 adds 36 KiB; 2 KiB with FA.
    per_token = compute_bytes(GPT_OSS_20B, 2, flash_attn=False) - compute_bytes(GPT_OSS_20B, 1, flash_attn=False)
    assert per_token == 512 * 4 * (64 + 2)
    per_token_fa = compute_bytes(GPT_OSS_20B, 2, flash_attn=True) - compute_bytes(GPT_OSS_20B, 1, flash_attn=True)
    assert per_token_fa == 2048


def test_shape_from_the_tiny_gguf(tiny_model: Path) -> None:
    info = read_gguf(tiny_model)
    shape = ModelShape.from_gguf(info)
    assert (shape.architecture, shape.block_count, shape.context_length) == ("gpt-oss", 2, 2048)
    assert shape.sliding_layers == (True, False)  # even layers slide, odd ones attend to everything
    assert shape.head_count_kv == (2, 2) and shape.key_length == shape.value_length == 16
    embedding = next(t.n_bytes for t in info.tensors if t.name == "token_embd.weight")
    assert sum(shape.layer_bytes) + shape.output_bytes + embedding == sum(t.n_bytes for t in info.tensors)
    assert shape.weight_bytes == info.tensor_data_size


def test_shape_from_a_llama_gguf(smollm2_model: Path) -> None:
    shape = ModelShape.from_gguf(read_gguf(smollm2_model))
    assert shape.sliding_layers == (False,) * 30
    assert kv_cache_bytes(shape, 8192) // 8192 == 30 * 3 * (64 + 64) * 2
    assert shape.vocab_size == 49152


def test_a_gguf_of_gpt_oss_20b_shape_plans_like_the_published_numbers(tmp_path: Path) -> None:
    path = tmp_path / "gpt-oss-20b.gguf"
    writer = gguf.GGUFWriter(str(path), "gpt-oss")
    settings = {
        "block_count": 24,
        "context_length": 131072,
        "embedding_length": 2880,
        "attention.head_count": 64,
        "attention.head_count_kv": 8,
        "attention.key_length": 64,
        "attention.value_length": 64,
        "attention.sliding_window": 128,
        "vocab_size": 201088,
    }
    for key, value in settings.items():
        writer.add_uint32(f"gpt-oss.{key}", value)
    for i in range(24):  # ~12.1 GB of (sparse) weights, all in the layers
        writer.add_tensor_info(f"blk.{i}.ffn_up_exps.weight", (32, 2880, 2736), np.dtype(np.float16), 504299520)
    writer.write_header_to_file(path)
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()
    os.truncate(path, read_gguf(path, require_complete=False).expected_file_size)

    shape = ModelShape.from_gguf(read_gguf(path))
    assert shape.sliding_layers == tuple(i % 2 == 0 for i in range(24))
    for machine in (fresh(8), fresh(16), fresh(16, apple=True), fresh(32, apple=True)):
        ours, published = plan_memory(shape, machine), plan_memory(GPT_OSS_20B, machine)
        assert (ours.verdict, ours.context_size, ours.n_gpu_layers) == (
            published.verdict,
            published.context_size,
            published.n_gpu_layers,
        )


def test_a_damaged_count_is_refused_not_used(tiny_model: Path) -> None:
    info = read_gguf(tiny_model)
    damaged = replace(info, metadata={**info.metadata, "gpt-oss.block_count": 4_000_000_000})
    with pytest.raises(CorruptGGUFError, match=r"damaged: its setting gpt-oss\.block_count is 4000000000"):
        ModelShape.from_gguf(damaged)


def test_a_gguf_lacking_a_required_setting_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    writer = gguf.GGUFWriter(str(path), "gpt-oss")
    writer.add_uint32("gpt-oss.block_count", 2)
    writer.write_header_to_file(path)
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()
    with pytest.raises(CorruptGGUFError, match=r"lacks the setting gpt-oss\.attention\.head_count"):
        ModelShape.from_gguf(read_gguf(path))


def test_the_engine_loads_with_the_plan(tiny_model: Path) -> None:
    plan = plan_memory(ModelShape.from_gguf(read_gguf(tiny_model)), fresh(16))
    assert plan.fits and plan.context_size == 2048  # the tiny model's trained context
    engine = LocalEngine(tiny_model, context_size=plan.context_size, n_gpu_layers=plan.n_gpu_layers)
    try:
        assert engine.info.context_size == plan.context_size
    finally:
        engine.close()


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/meminfo")
def test_reads_this_machine() -> None:
    machine = read_machine()
    assert machine.total_ram > 512 * MIB
    assert machine.available_ram is not None and 0 < machine.available_ram <= machine.total_ram
    assert not machine.apple_silicon


def test_parses_linux_meminfo() -> None:
    text = "MemTotal:       16303412 kB\nMemFree:         1034208 kB\nMemAvailable:    9876544 kB\n"
    assert parse_meminfo(text) == 9876544 * 1024
    assert parse_meminfo("MemTotal: 1 kB\n") is None


def test_parses_macos_vm_stat() -> None:
    text = (
        "Mach Virtual Memory Statistics: (page size of 16384 bytes)\n"
        "Pages free:                               12345.\n"
        "Pages active:                            400000.\n"
        "Pages inactive:                          300000.\n"
        "Pages speculative:                         5000.\n"
    )
    assert parse_vm_stat(text) == (12345 + 300000) * 16384
    assert parse_vm_stat("garbage") is None
