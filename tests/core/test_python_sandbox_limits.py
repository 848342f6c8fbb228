"""The python tool behaves like a notebook, and code that runs away is stopped with a clear message.

Each runaway (memory, processes, time, output, a crash, a lying kernel) is contained while the app
keeps answering: the next cell runs, with the earlier state when the kernel survived. Limits are
tight here so that each test takes about a second; cells that must finish get a generous time
limit of their own (the machine running the tests may be busy).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from gptoss_desktop.core.tools.python_tool import (
    RESTARTED,
    CellResult,
    PythonSession,
    SandboxOptions,
    SandboxUnavailableError,
)
from gptoss_desktop.core.tools.workspace import conversation_folder
from tests.fixtures.processes import fifo, read_fifo, sandbox_processes, still_running

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux sandbox")

# An interrupted cell normally answers at once; the long grace only matters on a busy machine.
TIGHT = SandboxOptions(timeout=1.5, grace=10, memory=512 << 20, processes=16, model_output=2000)
PROCESSES = "import os\nsum(name.isdigit() for name in os.listdir('/proc'))"


@pytest.fixture
def session() -> Iterator[PythonSession]:
    with PythonSession(conversation_folder(1), TIGHT) as session:
        session.run("kept = 'still here'")
        yield session


def last_line(result: CellResult) -> str:
    assert result.error is not None, result
    return result.error.rstrip("\n").splitlines()[-1]


def test_cells_share_state_and_show_output_value_and_traceback(session: PythonSession) -> None:
    first = session.run("import sys\nx = 41\nprint('to stdout')\nprint('to stderr', file=sys.stderr)\nx + 1")
    assert (first.output, first.value, first.error) == ("to stdout\nto stderr\n", "42", None)
    assert first.model_text == "to stdout\nto stderr\n42"
    failing = session.run("def f():\n    return 1 / 0\n\nf()")
    assert failing.value is None and failing.error is not None
    assert 'File "<cell 3>", line 2, in f' in failing.error and "return 1 / 0" in failing.error
    assert last_line(failing) == "ZeroDivisionError: division by zero"
    assert "kernel.py" not in failing.error
    assert session.run("x, _").value == "(41, 42)"
    assert session.run("import numpy as np\nnp.arange(4) * x").value == "array([  0,  41,  82, 123])"
    assert session.run("def broken(:").error is not None
    assert session.run("None").model_text == "(no output)"


def test_a_memory_bomb_gets_a_memory_error_and_the_kernel_lives(session: PythonSession) -> None:
    at_once = session.run("x = bytearray(10**10)")
    growing = session.run("chunks = []\nwhile True:\n    chunks.append(bytearray(10**7))", timeout=60)
    for result in (at_once, growing):
        assert result.error is not None and "MemoryError" in result.error
        assert result.error.endswith("(The sandbox allows 512 MiB of memory.)\n")
        assert not result.restarted
    assert session.run("del chunks\nkept").value == "'still here'"


def test_a_fork_bomb_is_held_to_the_process_limit(session: PythonSession) -> None:
    result = session.run("import os\nwhile True:\n    os.fork()", timeout=60)
    assert last_line(result) == "(The sandbox allows 16 processes and threads; the cell's others were ended.)"
    assert "BlockingIOError" in result.error if result.error else False
    assert session.run(PROCESSES).value == "1"  # the forked copies ended with the cell
    assert session.run("kept").value == "'still here'"


def test_a_fork_bomb_that_keeps_going_is_stopped_at_the_time_limit(session: PythonSession) -> None:
    result = session.run("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass")
    assert result.timed_out and not result.restarted
    assert last_line(result) == "Timed out after 1.5 s; the kernel's state is kept."
    assert session.run(PROCESSES).value == "1"  # every other process of the sandbox was killed
    assert session.run("kept").value == "'still here'"


def test_an_endless_loop_is_interrupted_at_the_time_limit(session: PythonSession) -> None:
    result = session.run("while True:\n    kept = kept")
    assert result.timed_out and not result.restarted and result.exit is None
    assert "KeyboardInterrupt" in (result.error or "")
    assert result.model_text.endswith("Timed out after 1.5 s; the kernel's state is kept.")
    assert session.run("kept", timeout=30).value == "'still here'"


def test_a_loop_that_ignores_the_interrupt_costs_the_kernel() -> None:
    with PythonSession(conversation_folder(1), replace(TIGHT, grace=1)) as session:
        session.run("kept = 'still here'")
        stubborn = (
            "while True:\n    try:\n        while True:\n            kept = kept\n    except KeyboardInterrupt:\n"
        )
        result = session.run(stubborn + "        ...")
        assert result.timed_out and result.restarted and result.exit is not None
        assert result.error == f"Timed out after 1.5 s. {RESTARTED}"
        assert last_line(session.run("kept")) == "NameError: name 'kept' is not defined"


def test_a_hundred_megabytes_of_output_are_cut_for_the_window_and_the_model(session: PythonSession) -> None:
    lines = "import sys\nfor i in range(100_000):\n    sys.stdout.write(f'{i:>9} ' + 'x' * 989 + '\\n')\n'done'"
    result = session.run(lines, timeout=60)
    assert result.output_bytes == 100_000_000 and result.value == "'done'"
    assert len(result.output.encode()) < 4.1 * 2**20
    assert result.output.startswith("        0 xxx") and result.output.rstrip().endswith("    99999 " + "x" * 989)
    assert "MiB of output left out; 95.4 MiB in all ..." in result.output
    assert len(result.model_text) < 2200
    assert result.model_text.startswith("        0 xxx") and result.model_text.endswith("'done'")
    assert "characters (" in result.model_text and "lines) left out ...]" in result.model_text
    assert session.run("kept").value == "'still here'"


def test_a_crash_restarts_the_kernel_with_a_note(session: PythonSession) -> None:
    crashed = session.run("import os\nos._exit(3)")
    assert crashed.restarted and crashed.exit == 3
    assert crashed.error == f"The kernel died (exit code 3). {RESTARTED}"
    again = session.run("kept")
    assert not again.restarted and last_line(again) == "NameError: name 'kept' is not defined"


def test_a_kernel_that_sends_garbage_is_replaced(session: PythonSession) -> None:
    """Code that writes to the kernel's own reply pipe cannot make the app believe or hold anything."""
    flood = "import contextlib, os\nfor fd in range(3, 20):\n    with contextlib.suppress(OSError):\n"
    flood += "        os.write(fd, b'\\xff' * 2**21)"
    result = session.run(flood)
    assert result.restarted and result.error is not None
    assert result.error.startswith("The kernel sent a reply the app cannot read (a reply longer than")
    assert session.run("1 + 1").value == "2"


def test_stop_interrupts_the_running_cell(session: PythonSession) -> None:
    """Stop from another thread, once the cell is known to run (it opens a FIFO the test reads)."""
    started = fifo(conversation_folder(1) / "started")
    results: list[CellResult] = []
    worker = threading.Thread(
        target=lambda: results.append(
            session.run("open('started', 'w').write('yes')\nwhile True:\n    kept = kept", 60)
        )
    )
    worker.start()
    assert read_fifo(started, timeout=30) == "yes"
    session.stop()
    worker.join(30)
    assert not worker.is_alive()
    assert results[0].stopped and not results[0].timed_out and not results[0].restarted
    assert last_line(results[0]) == "Stopped; the kernel's state is kept."
    assert session.run("kept").value == "'still here'"


def test_an_interrupt_that_python_drops_is_sent_again(session: PythonSession) -> None:
    """A KeyboardInterrupt raised in a __del__ is printed and dropped by Python; the next one stops the cell."""
    started = fifo(conversation_folder(1) / "started")
    cell = (
        "import time\n"
        "class Slow:\n"
        "    def __del__(self):\n"
        "        open('started', 'w').write('yes')\n"
        "        time.sleep(30)\n"
        "x = Slow()\n"
        "del x\n"
        "while True:\n"
        "    kept = kept"
    )
    results: list[CellResult] = []
    worker = threading.Thread(target=lambda: results.append(session.run(cell, 60)))
    worker.start()
    assert read_fifo(started, timeout=30) == "yes"
    session.stop()
    worker.join(30)
    assert results[0].stopped and not results[0].restarted
    assert "Exception ignored in" in results[0].output and "KeyboardInterrupt" in results[0].output
    assert last_line(results[0]) == "Stopped; the kernel's state is kept."


def test_a_kernel_that_died_between_cells_is_restarted_with_a_note(session: PythonSession) -> None:
    going = fifo(conversation_folder(1) / "going")
    started = session.run("import os, threading\ndef later():\n    open('going', 'w').write('bye')\n    os._exit(5)\n"
                          "threading.Thread(target=later).start()")  # fmt: skip
    assert started.error is None
    sandbox = sandbox_processes(os.getpid())
    assert read_fifo(going, timeout=30) == "bye"
    assert still_running(sandbox, timeout=20) == []
    result = session.run("kept")
    assert result.restarted and result.exit is None
    assert result.model_text.startswith(f"The kernel had stopped (exit code 5). {RESTARTED}\nTraceback")
    assert last_line(result) == "NameError: name 'kept' is not defined"


def test_another_interpreter_runs_in_the_same_sandbox(tmp_path: Path) -> None:
    venv = tmp_path / "other-python"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    options = SandboxOptions(interpreter=venv / "bin" / "python")
    with PythonSession(conversation_folder(4), options) as session:
        result = session.run("import sys\nsys.prefix")
        isolation = session.isolation
    assert result.value == repr(str(venv))
    assert isolation is not None and isolation.network.startswith("none") and isolation.files.startswith("Landlock")


def test_an_interpreter_that_cannot_start_is_reported(tmp_path: Path) -> None:
    options = SandboxOptions(interpreter=tmp_path / "no-such-python")
    with PythonSession(conversation_folder(5), options) as session, pytest.raises(SandboxUnavailableError) as caught:
        session.run("1")
    assert "could not be started" in caught.value.reason and not caught.value.network_only
