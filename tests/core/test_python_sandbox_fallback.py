"""Where the system allows no user namespaces: the session refuses, says why, and runs weaker only when asked.

The app runs in a child process whose seccomp filter denies new user namespaces (a system such as
Ubuntu with AppArmor's restriction, or a container); the test sends it cells and reads the results.
"""

from __future__ import annotations

import json
import os
import pwd
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures import no_user_namespaces
from tests.fixtures.processes import descendants, still_running

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not no_user_namespaces.supported(), reason="Linux x86-64 or arm64"
)
ROOT = Path(__file__).resolve().parents[2]

APP = """
import json, sys
from pathlib import Path
from tests.fixtures.no_user_namespaces import forbid_user_namespaces
from gptoss_desktop.core.tools.python_tool import PythonSession, SandboxOptions, SandboxUnavailableError

forbid_user_namespaces()
try:
    with PythonSession(Path(sys.argv[1])) as refused:
        refused.start()
except SandboxUnavailableError as exc:
    print(json.dumps({"refused": exc.reason, "network_only": exc.network_only}), flush=True)
options = SandboxOptions(require_network_isolation=False, timeout=1.5, grace=10, processes=16)
session = PythonSession(Path(sys.argv[1]), options)
print(json.dumps(session.start().to_json()), flush=True)
for line in sys.stdin:
    print(json.dumps(session.run(json.loads(line)).to_json()), flush=True)
"""


class App:
    """The app in its own process, without user namespaces."""

    def __init__(self, workdir: Path) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", APP, str(workdir)], cwd=ROOT, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)  # fmt: skip
        self.refusal = self.read()
        self.isolation = self.read()

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, "the app ended"
        message: dict[str, Any] = json.loads(line)
        return message

    def run(self, code: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(code) + "\n")
        self.process.stdin.flush()
        return self.read()

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            assert stream is not None
            stream.close()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    app = App(tmp_path / "work")
    yield app
    app.close()


def test_the_session_refuses_and_says_why(app: App) -> None:
    assert app.refusal == {
        "refused": "the code cannot be cut off from the network: this system does not let programs make a user "
        "namespace (Operation not permitted)",
        "network_only": True,
    }


def test_asked_to_run_anyway_it_still_blocks_tcp_and_files(app: App) -> None:
    assert app.isolation["network"] == "TCP blocked by Landlock; other protocols open"
    assert app.isolation["processes"] == "process group"
    assert any("user namespaces" in warning for warning in app.isolation["warnings"])
    with socket.create_server(("127.0.0.1", 0)) as server:
        result = app.run(f"import socket\nsocket.create_connection(('127.0.0.1', {server.getsockname()[1]}))")
    assert result["error"].rstrip().endswith("PermissionError: [Errno 13] Permission denied")
    home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    with tempfile.NamedTemporaryFile("w", dir=home, prefix=".gptoss-sandbox-test-") as planted:
        os.chmod(planted.name, 0o644)
        read = app.run(f"open({planted.name!r}).read()")
    assert read["error"] is not None and "Error" in read["error"].splitlines()[-1]
    outside = Path("/var/tmp/.gptoss-sandbox-test")
    written = app.run(f"open({str(outside)!r}, 'w').write('x')")
    assert written["error"].rstrip().endswith("PermissionError: [Errno 13] Permission denied: " + repr(str(outside)))
    assert not outside.exists()


def test_runaway_processes_are_ended_without_a_pid_namespace(app: App) -> None:
    bomb = app.run("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass")
    assert bomb["timed_out"] and not bomb["restarted"]
    assert app.run("1 + 1")["value"] == "2"
    started = app.run("import subprocess\nsubprocess.Popen(['sleep', '600']).pid")
    assert started["error"] is None
    sandbox = descendants(app.process.pid)
    assert len(sandbox) == 3  # supervisor, kernel, sleep: the bomb's processes are gone
    app.process.kill()
    assert still_running(sandbox, timeout=20) == []


def test_what_the_code_detaches_stays_in_the_sandbox_and_ends_with_it(app: App) -> None:
    double_fork = (  # the pipe closes when the intermediate process has ended and sleep has started
        "import os\nr, w = os.pipe()\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
        "        os.execvp('sleep', ['sleep', '600'])\n    os._exit(0)\nos.close(w)\nos.wait()\nos.read(r, 1)\nNone"
    )
    detached = app.run(double_fork)
    assert detached["error"] is None
    sandbox = descendants(app.process.pid)
    commands = [Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0] for pid in sandbox]
    assert commands.count(b"sleep") == 1  # orphaned in a new session, it came back under the kernel
    app.process.kill()
    assert still_running(sandbox, timeout=20) == []
