"""`gptoss-desktop tools python < cell.py` as a person runs it: a real process, a real sandbox, JSON out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.scripted_tools import CallsPython

from .test_cli_browse import run_chat

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux sandbox")


def tools_python(home: Path, cell: str, *args: str) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "gptoss_desktop", "--home", str(home), "tools", "python", *args],
        input=cell,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert done.stderr == ""
    result: dict[str, Any] = json.loads(done.stdout)
    return done.returncode, result


def test_a_cell_runs_and_its_result_is_printed(tmp_path: Path) -> None:
    code, result = tools_python(tmp_path / "home", "import numpy as np\nprint('mean')\nnp.mean([1, 2, 3, 6])")
    assert code == 0
    assert {k: result[k] for k in ("output", "value", "error", "timed_out", "exit")} == {
        "output": "mean\n",
        "value": "np.float64(3.0)",
        "error": None,
        "timed_out": False,
        "exit": None,
    }
    assert result["model_text"] == "mean\nnp.float64(3.0)"
    assert result["isolation"]["data_dir"] == "/mnt/data"
    assert result["isolation"]["network"] == "none: own network namespace"


def test_files_attached_and_written_in_the_working_folder(tmp_path: Path) -> None:
    attached = tmp_path / "prices.csv"
    attached.write_text("item,price\ntea,3\ncake,4\n")
    work = tmp_path / "work"
    cell = "import csv\nrows = list(csv.DictReader(open('/mnt/data/prices.csv')))\n"
    cell += "open('/mnt/data/total.txt', 'w').write(str(sum(int(r['price']) for r in rows)))"
    code, result = tools_python(tmp_path / "home", cell, "--workdir", str(work), "--attach", str(attached))
    assert code == 0, result["error"]
    assert result["attached"] == ["prices.csv"]
    assert result["files"] == [{"name": "total.txt", "path": str(work / "total.txt"), "size": 1}]
    assert (work / "total.txt").read_text() == "7"


def test_a_cell_that_raises_or_times_out_exits_1(tmp_path: Path) -> None:
    code, result = tools_python(tmp_path / "home", "{}['missing']")
    assert code == 1 and result["error"].rstrip().endswith("KeyError: 'missing'")
    code, result = tools_python(tmp_path / "home", "while True:\n    pass", "--timeout", "1")
    assert code == 1 and result["timed_out"] is True
    assert "Timed out after 1 s" in result["error"].splitlines()[-1]


def test_a_sandbox_that_cannot_start_exits_2_with_the_reason(tmp_path: Path) -> None:
    code, result = tools_python(tmp_path / "home", "1", "--python", str(tmp_path / "no-python"))
    assert code == 2
    assert result["unavailable"] is True and result["network_only"] is False
    assert result["error"].startswith("the Python kernel could not be started: [Errno 2] No such file or directory")


def test_a_call_to_a_tool_nobody_declared_is_answered_and_the_model_goes_on(
    trained_model: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = CallsPython(trained_model, [["1 + 1"]], undeclared=True)  # gpt-oss calls python though no tool is given
    options = ["--json", "--temperature", "0", "--max-tokens", "30"]
    status, events, stderr = run_chat(monkeypatch, capsys, engine, *options, "What is 1 + 1?")
    assert status == 0, stderr
    (result,) = [e for e in events if e["type"] == "tool_result"]
    assert result["status"] == "refused" and result["model_text"].startswith("No such tool: python")
    done = events[-1]
    assert done["type"] == "done" and done["stop_reason"] in ("return", "length") and done["tool_calls"] == 1
