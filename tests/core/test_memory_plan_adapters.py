"""The memory planner counts LoRA adapters: planned with the model, or weighed when added to a loaded one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from gptoss_desktop.core.local.engine import LocalEngine
from gptoss_desktop.core.local.lora_file import AdapterError, read_lora
from gptoss_desktop.core.local.machine import GIB, MIB, Machine
from gptoss_desktop.core.local.memory_plan import adapter_room, gpt_oss_20b, plan_memory
from tests.fixtures.lora_gguf import FRENCH_ADAPTER

GPT_OSS_20B = gpt_oss_20b(12_100_000_000)
#: A rank-16 adapter of gpt-oss-20b's attention in F16: 24 layers of q, k, v, o.
ATTENTION_ADAPTER = 24 * 2 * 16 * ((2880 + 4096) + 2 * (2880 + 512) + (4096 + 2880))


def test_an_adapter_is_planned_for_with_the_model() -> None:
    machine = Machine(32 * GIB, 30 * GIB)
    alone = plan_memory(GPT_OSS_20B, machine)
    with_adapter = plan_memory(GPT_OSS_20B, machine, adapter_bytes=ATTENTION_ADAPTER)
    assert with_adapter.resident_bytes == alone.resident_bytes + ATTENTION_ADAPTER
    assert with_adapter.adapter_bytes == ATTENTION_ADAPTER
    assert with_adapter.context_size == alone.context_size


def test_a_big_adapter_costs_context_where_memory_is_tight() -> None:
    machine = Machine(16 * GIB, 14 * GIB)
    alone = plan_memory(GPT_OSS_20B, machine)
    heavy = plan_memory(GPT_OSS_20B, machine, adapter_bytes=1 * GIB)
    assert alone.context_size is not None and heavy.context_size is not None
    assert heavy.context_size < alone.context_size


def test_an_adapter_that_leaves_no_room_is_refused_with_what_to_do() -> None:
    plan = plan_memory(GPT_OSS_20B, Machine(16 * GIB, 14 * GIB))
    busy = Machine(16 * GIB, 600 * MIB)  # the model is loaded; little is left
    assert adapter_room(plan, busy, 50 * MIB) is None
    assert adapter_room(plan, busy, 200 * MIB) == (
        "needs about 0.7 GB of free memory, 0.6 GB is free now; close other apps"
    )


def test_adapters_are_held_to_the_machine_s_ceiling() -> None:
    plan = plan_memory(GPT_OSS_20B, Machine(16 * GIB, 14 * GIB))
    message = adapter_room(plan, Machine(16 * GIB, 14 * GIB), 4 * GIB)
    assert message is not None and message.startswith("needs about 4 GB more than this computer can give the model")


def test_room_planned_for_adapters_is_used_first() -> None:
    plan = plan_memory(GPT_OSS_20B, Machine(32 * GIB, 30 * GIB), adapter_bytes=300 * MIB)
    nothing_free = Machine(32 * GIB, 0)
    assert adapter_room(plan, nothing_free, 200 * MIB) is None
    assert adapter_room(plan, nothing_free, 100 * MIB, in_use_bytes=200 * MIB) is None
    assert adapter_room(plan, nothing_free, 200 * MIB, in_use_bytes=200 * MIB) is not None


def test_on_a_mac_an_adapter_must_fit_beside_the_model_on_the_gpu() -> None:
    mac = Machine(32 * GIB, 30 * GIB, apple_silicon=True)
    plan = plan_memory(GPT_OSS_20B, mac)
    assert plan.n_gpu_layers == -1
    on_gpu = plan.weight_bytes + plan.kv_cache_bytes + plan.compute_bytes
    limit = replace(mac, metal_working_set=on_gpu + 256 * MIB + 100 * MIB)
    assert adapter_room(plan, limit, 50 * MIB) is None
    assert adapter_room(plan, limit, 150 * MIB) == (
        "does not fit in the GPU's memory beside the model; load the model with a smaller context"
    )


def test_the_engine_weighs_an_adapter_against_the_memory_left(
    trained_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lora = read_lora(FRENCH_ADAPTER)
    roomy = Machine(16 * GIB, 14 * GIB)
    engine = LocalEngine(trained_model, context_size=512, n_threads=1, machine=roomy)
    try:
        # The memory the machine has left is what lies outside: read "now" as just too little.
        monkeypatch.setattr(engine.adapters, "_machine", lambda: Machine(16 * GIB, 512 * MIB + lora.tensor_bytes - 1))
        with pytest.raises(AdapterError, match=r"^gpt-oss-tiny-french\.lora\.gguf needs about 0\.5 GB of free memory"):
            engine.open_adapter(FRENCH_ADAPTER)
        monkeypatch.setattr(engine.adapters, "_machine", lambda: roomy)
        assert engine.open_adapter(FRENCH_ADAPTER).tensor_bytes == lora.tensor_bytes
    finally:
        engine.close()
