"""Damaged model headers through `models verify` and `chat`: every scalar setting set to edge and absurd
values, tensors stored as other types, random header bytes. None may kill the process, show a traceback,
or be called usable and then fail to load."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.gguf_mutations import Mutation, byte_flips, scalar_mutations, tensor_type_mutations, write_mutant

#: Runner processes: one per core of the test machine.
RUNNERS = 2


def mutations(source: Path) -> Iterator[Mutation]:
    yield from scalar_mutations(source)
    yield from tensor_type_mutations(source)
    yield from byte_flips(source, 80)


def run_cases(cases: list[dict[str, str]], home: Path) -> tuple[list[dict[str, object]], list[str]]:
    """Each runner takes every RUNNERS-th case; (reports, crashes: the case each dead runner was on)."""
    runners = []
    home.mkdir(parents=True)
    for index in range(RUNNERS):
        share = home / f"cases-{index}.jsonl"
        share.write_text("".join(json.dumps(case) + "\n" for case in cases[index::RUNNERS]))
        with share.open() as stdin:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.fixtures.fuzz_runner", str(home / str(index))],
                stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
        runners.append(process)
    reports: list[dict[str, object]] = []
    crashes: list[str] = []
    for process in runners:
        stdout, stderr = process.communicate(timeout=600)
        lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
        reports += [line for line in lines if "name" in line]
        if process.returncode != 0:
            last = lines[-1].get("start") if lines else None
            how = signal.Signals(-process.returncode).name if process.returncode < 0 else process.returncode
            crashes.append(f"{last}: runner ended by {how}; {stderr[-500:]}")
    return reports, crashes


@pytest.mark.slow
def test_damaged_headers_get_messages_and_only_loadable_files_are_usable(trained_model: Path, tmp_path: Path) -> None:
    cases = []
    for number, mutation in enumerate(mutations(trained_model)):
        path = write_mutant(trained_model, mutation, tmp_path / f"case-{number}.gguf")
        cases.append({"name": mutation.name, "path": str(path)})
    assert len(cases) > 250
    reports, crashes = run_cases(cases, tmp_path / "homes")
    assert crashes == []
    assert len(reports) == len(cases)
    problems = []
    for report in reports:
        (verify_status, verify_out, verify_err), (chat_status, _chat_out, chat_err) = report["verify"], report["chat"]
        name = report["name"]
        if "Traceback" in verify_err + chat_err:
            problems.append(f"{name}: traceback\n{verify_err}{chat_err}")
        elif "Usable." in verify_out and (verify_status != 0 or chat_status != 0):
            problems.append(f"{name}: called usable, then chat failed ({chat_status}): {chat_err.strip()[-300:]}")
        elif "Usable." not in verify_out and (verify_status != 1 or "gptoss-desktop: " not in verify_err):
            problems.append(f"{name}: not usable without a message ({verify_status}): {verify_err[-300:]}")
        elif chat_status not in (0, 1) or (chat_status == 1 and "gptoss-desktop: " not in chat_err):
            problems.append(f"{name}: chat failed without a message ({chat_status}): {chat_err[-300:]}")
    assert problems == []
