"""A model is first loaded in a child process: an abort inside llama.cpp is a message, and each file is
probed once."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from gptoss_desktop.core.engine import ModelLoadError
from gptoss_desktop.core.local.load_probe import ModelCrashError, check_loads, known_problem, load_local_engine
from tests.fixtures.gguf_mutations import scalar_mutations, write_mutant


def mutant(source: Path, name: str, target: Path) -> Path:
    (mutation,) = [m for m in scalar_mutations(source) if m.name == name]
    return write_mutant(source, mutation, target)


def test_a_file_that_aborts_llama_cpp_is_a_message_and_is_remembered(trained_model: Path, tmp_path: Path) -> None:
    """expert_count=1 aborts llama.cpp (a GGML_ASSERT): in the app's own process that killed it."""
    aborting = mutant(trained_model, "gpt-oss.expert_count=1", tmp_path / "aborts.gguf")
    verdicts = tmp_path / "verdicts.json"
    with pytest.raises(ModelCrashError, match=r"llama\.cpp crashed loading aborts\.gguf \(SIGABRT\)"):
        check_loads(aborting, verdicts=verdicts)
    (verdict,) = json.loads(verdicts.read_text()).values()
    assert verdict["path"] == str(aborting) and "SIGABRT" in verdict["problem"]
    assert known_problem(aborting, verdicts) == verdict["problem"]


def test_a_good_file_is_probed_once(trained_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    verdicts = tmp_path / "verdicts.json"
    check_loads(trained_model, verdicts=verdicts)
    assert known_problem(trained_model, verdicts) is None

    def no_child(*args: object, **kwargs: object) -> None:
        raise AssertionError("probed a second time")

    monkeypatch.setattr(subprocess, "run", no_child)
    check_loads(trained_model, verdicts=verdicts)


def test_a_changed_file_is_probed_again(trained_model: Path, tmp_path: Path) -> None:
    verdicts = tmp_path / "verdicts.json"
    copy = tmp_path / "model.gguf"
    copy.write_bytes(trained_model.read_bytes())
    check_loads(copy, verdicts=verdicts)
    mutant(trained_model, "gpt-oss.expert_count=1", tmp_path / "aborts.gguf").replace(copy)
    with pytest.raises(ModelCrashError):
        check_loads(copy, verdicts=verdicts)


def test_a_probe_that_times_out_is_not_a_verdict(trained_model: Path, tmp_path: Path) -> None:
    verdicts = tmp_path / "verdicts.json"
    with pytest.raises(ModelLoadError, match="took over 0 s"):
        check_loads(trained_model, timeout=0.001, verdicts=verdicts)
    assert not verdicts.exists()


def test_the_window_and_the_cli_load_through_the_probe(trained_model: Path, app_home: Path) -> None:
    engine = load_local_engine(trained_model, context_size=256)
    engine.close()
    (verdict,) = json.loads((app_home / "cache" / "model-load-verdicts.json").read_text()).values()
    assert verdict == {"path": str(trained_model), "problem": None}


def test_the_packaged_entry_point_runs_the_probe_child(trained_model: Path) -> None:
    """The frozen app has no `python -m`: it starts itself with PROBE_FLAG, which packaging/entry.py
    must turn into the probe (before it parses a command line that knows no such flag)."""
    import sys

    from gptoss_desktop.core.local.load_probe import PROBE_FLAG, PROBE_OK

    entry = Path(__file__).resolve().parents[2] / "packaging" / "entry.py"
    done = subprocess.run(
        [sys.executable, str(entry), PROBE_FLAG, str(trained_model)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and PROBE_OK in done.stdout, done.stderr
