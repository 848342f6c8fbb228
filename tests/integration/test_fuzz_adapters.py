"""Damaged LoRA adapters applied to a loaded model: every scalar setting set to edge and absurd values,
tensors stored as other types, random header bytes. None may kill the process or escape as an exception;
each either works or fails the turn with a message, and the model answers without it afterwards."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.gguf_mutations import byte_flips, scalar_mutations, tensor_type_mutations, write_mutant
from tests.fixtures.lora_gguf import FRENCH_ADAPTER


@pytest.mark.slow
def test_damaged_adapters_fail_the_turn_with_a_message_and_never_the_app(trained_model: Path, tmp_path: Path) -> None:
    mutations = [
        *scalar_mutations(FRENCH_ADAPTER),
        *tensor_type_mutations(FRENCH_ADAPTER, blocks=("blk.0.",)),
        *byte_flips(FRENCH_ADAPTER, 80),
    ]
    cases = [
        {"name": m.name, "path": str(write_mutant(FRENCH_ADAPTER, m, tmp_path / f"case-{n}.gguf"))}
        for n, m in enumerate(mutations)
    ]
    assert len(cases) > 120
    runner = subprocess.run(
        [sys.executable, "-m", "tests.fixtures.lora_fuzz_runner", str(trained_model)],
        input="".join(json.dumps(case) + "\n" for case in cases),
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [json.loads(line) for line in runner.stdout.splitlines() if line.startswith("{")]
    if runner.returncode != 0:
        how = signal.Signals(-runner.returncode).name if runner.returncode < 0 else runner.returncode
        pytest.fail(f"{lines[-1] if lines else 'the runner'}: ended by {how}; {runner.stderr[-500:]}")
    reports = [line for line in lines if "name" in line]
    assert len(reports) == len(cases)
    problems = [
        f"{r['name']}: with {r['with']}, then without {r['without']}"
        for r in reports
        if r["without"] != "answered" or not (r["with"] == "answered" or r["with"].startswith("failed: "))
    ]
    assert problems == []
    refused = [r["with"] for r in reports if r["with"] != "answered"]
    assert len(refused) > len(cases) // 3  # most damage is seen, and said
    print(f"{len(cases)} damaged adapters: {len(refused)} refused with a message, the rest applied")
