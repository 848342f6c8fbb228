"""The python tool's sandbox keeps the code in: no network, no files outside its folder, nothing left behind.

Real kernel processes, real namespaces and Landlock (these tests run on Linux); each attack is a
cell the model could write, and each test checks what a person would notice.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gptoss_desktop.core.tools.python_tool import PythonSession, SandboxOptions
from gptoss_desktop.core.tools.workspace import conversation_folder
from tests.fixtures.processes import descendants, fifo, read_fifo, sandbox_processes, still_running

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux sandbox")


@pytest.fixture
def session() -> Iterator[PythonSession]:
    with PythonSession(conversation_folder(1), SandboxOptions(timeout=20)) as session:
        yield session


@pytest.fixture
def outside() -> Iterator[Path]:
    """A folder the sandbox can see and its user's permissions would open (mode 1777, a 0644 file in it),
    outside the homes, /tmp and the system folders: only Landlock stands in the way."""
    for parent in ("/var/lib", "/var/cache", "/var/local"):
        if os.access(parent, os.W_OK):
            break
    else:
        pytest.skip("needs a folder outside home and /tmp that this user may create (the suite runs as root in CI)")
    folder = Path(tempfile.mkdtemp(prefix="gptoss-sandbox-test-", dir=parent))
    folder.chmod(0o1777)
    (folder / "notes.txt").write_text("private notes")
    (folder / "notes.txt").chmod(0o644)
    yield folder
    shutil.rmtree(folder)


def test_a_network_connection_fails(session: PythonSession) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        result = session.run(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=5)")
        server.setblocking(False)
        with pytest.raises(BlockingIOError):
            server.accept()  # nothing came in
    assert result.error is not None and result.error.splitlines()[-1].startswith(("PermissionError", "OSError"))
    outside = session.run("import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=5)")
    assert outside.error is not None and "Error" in outside.error.splitlines()[-1]
    dns = session.run("import socket\nsocket.getaddrinfo('example.com', 80)")
    assert dns.error is not None and "gaierror" in dns.error
    assert session.isolation is not None and session.isolation.network.startswith("none")


def test_a_file_in_the_real_home_cannot_be_read(session: PythonSession) -> None:
    home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    with tempfile.NamedTemporaryFile("w", dir=home, prefix=".gptoss-sandbox-test-", suffix=".txt") as planted:
        planted.write("the person's secret")
        planted.flush()
        os.chmod(planted.name, 0o644)
        read = session.run(f"open({planted.name!r}).read()")
        listed = session.run(f"import os\nos.listdir({str(home)!r})")
    assert read.value is None and read.error is not None
    assert read.error.splitlines()[-1].startswith(("FileNotFoundError", "PermissionError"))
    assert "secret" not in read.output + read.model_text
    assert Path(planted.name).name not in (listed.value or "")


def test_landlock_refuses_what_the_user_permissions_would_allow(session: PythonSession, outside: Path) -> None:
    read = session.run(f"open({str(outside / 'notes.txt')!r}).read()")
    write = session.run(f"open({str(outside / 'new.txt')!r}, 'w').write('x')")
    assert read.error is not None and read.error.splitlines()[-1].startswith("PermissionError")
    assert write.error is not None and write.error.splitlines()[-1].startswith("PermissionError")
    assert not (outside / "new.txt").exists()
    assert session.isolation is not None and session.isolation.files.startswith("Landlock")


def test_without_landlock_the_home_stays_hidden_but_other_readable_files_are_not(outside: Path) -> None:
    """The stated fallback for kernels without Landlock: only the mount namespace hides things."""
    home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    with (
        PythonSession(conversation_folder(2), SandboxOptions(landlock=False)) as session,
        tempfile.NamedTemporaryFile("w", dir=home, prefix=".gptoss-sandbox-test-") as planted,
    ):
        os.chmod(planted.name, 0o644)
        read = session.run(f"open({str(outside / 'notes.txt')!r}).read()")
        in_home = session.run(f"open({planted.name!r}).read()")
        assert session.isolation is not None and "no Landlock" in " ".join(session.isolation.warnings)
    assert read.value == "'private notes'"
    assert in_home.error is not None and in_home.error.splitlines()[-1].startswith("FileNotFoundError")


def test_writes_land_in_the_working_folder_only_and_are_reported(session: PythonSession) -> None:
    result = session.run(
        "import os\n"
        "os.makedirs('/mnt/data/plots', exist_ok=True)\n"
        "open('/mnt/data/plots/a.csv', 'w').write('x,y\\n1,2\\n')\n"
        "open('b.txt', 'w').write('relative to the working folder')\n"
        "failed = []\n"
        "for path in ('/etc/gptoss-test', '/usr/gptoss-test', os.path.expanduser('~') + '/../x', '/var/tmp/x'):\n"
        "    try:\n"
        "        open(path, 'w').write('x')\n"
        "    except OSError as exc:\n"
        "        failed.append(type(exc).__name__)\n"
        "failed"
    )
    assert result.error is None, result.error
    assert result.value is not None and result.value.count("Error") == 4
    assert [(f.name, f.size) for f in result.files] == [("b.txt", 30), ("plots/a.csv", 8)]
    assert result.files[1].path == conversation_folder(1) / "plots" / "a.csv"
    assert result.files[1].path.read_text() == "x,y\n1,2\n"
    unchanged = session.run("open('/mnt/data/plots/a.csv').read()")
    assert unchanged.files == ()


def test_an_attached_file_can_be_read(session: PythonSession, tmp_path: Path) -> None:
    original = tmp_path / "elsewhere" / "sales.csv"
    original.parent.mkdir()
    original.write_text("month,total\nmay,12\n")
    original.chmod(0o600)
    assert session.attach([original]) == ["sales.csv"]
    result = session.run("open('/mnt/data/sales.csv').read().splitlines()[1]")
    assert result.value == "'may,12'"
    assert result.files == ()
    changed = session.run("open('/mnt/data/sales.csv', 'a').write('june,3\\n')")
    assert changed.error is not None and changed.error.splitlines()[-1].startswith("PermissionError")
    assert original.read_text() == "month,total\nmay,12\n"


APP = """
import sys
from pathlib import Path
from gptoss_desktop.core.tools.python_tool import PythonSession
session = PythonSession(Path(sys.argv[1]))
result = session.run(
    "import os, subprocess, time\\n"
    "background = subprocess.Popen(['sleep', '600'])\\n"
    "if os.fork() == 0:\\n"
    "    os.setsid()\\n"
    "    time.sleep(600)\\n"
    "background.pid"
)
print('ready' if result.error is None else result.error, flush=True)
sys.stdin.read()
"""


def test_killing_the_app_leaves_no_sandbox_process_or_folder(tmp_path: Path) -> None:
    temporary = Path(tempfile.mkdtemp(prefix="gptoss-test-tmp-", dir="/tmp"))  # one `nobody` can walk into
    temporary.chmod(0o1777)  # as /tmp is (as root the sandbox runs as nobody)
    app = subprocess.Popen([sys.executable, "-c", APP, str(tmp_path / "work")], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(temporary)})  # fmt: skip
    try:
        assert app.stdout is not None
        assert app.stdout.readline().strip() == "ready"
        sandbox = descendants(app.pid)
        assert len(sandbox) >= 4  # supervisor, kernel, `sleep`, the forked child
        assert [p.name[:14] for p in temporary.iterdir()] == ["gptoss-python-"]
        app.kill()
        assert still_running(sandbox, timeout=20) == []
        assert list(temporary.iterdir()) == []  # the session's temporary folder went with it
    finally:
        app.kill()
        app.wait()
        assert app.stdin is not None and app.stdout is not None
        app.stdin.close()
        app.stdout.close()
        shutil.rmtree(temporary, ignore_errors=True)


def test_closing_the_session_leaves_no_sandbox_process() -> None:
    session = PythonSession(conversation_folder(3))
    session.run("import subprocess\nsubprocess.Popen(['sleep', '600']).pid")
    sandbox = sandbox_processes(os.getpid())
    assert len(sandbox) >= 3
    session.close()
    assert still_running(sandbox, timeout=20) == []


def test_the_kernel_cannot_signal_the_app(session: PythonSession) -> None:
    result = session.run(f"import os, signal\nos.kill({os.getpid()}, signal.SIGTERM)")
    assert result.error is not None and result.error.splitlines()[-1].startswith(("ProcessLookupError", "Permission"))
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # and this process is still here to check


def test_stop_while_the_kernel_is_still_starting_stops_the_call(tmp_path: Path) -> None:
    starting, go = fifo(tmp_path / "starting"), fifo(tmp_path / "go")
    slow = tmp_path / "venv" / "bin" / "python"  # an interpreter that starts when the test lets it
    slow.parent.mkdir(parents=True)
    slow.write_text(f'#!/bin/sh\necho starting > {starting}\nread go < {go}\nexec {sys.executable} "$@"\n')
    slow.chmod(0o755)
    session = PythonSession(tmp_path / "work", SandboxOptions(interpreter=slow, timeout=60))
    results = []
    call = threading.Thread(target=lambda: results.append(session.run("while True:\n    pass")))
    try:
        call.start()
        assert read_fifo(starting, timeout=20) == "starting\n"
        session.stop()  # the person pressed Stop: there is no kernel to interrupt yet
        with open(go, "w") as release:
            release.write("go\n")
        call.join(30)
        assert not call.is_alive()  # not the 60 s the cell may run
        assert results[0].stopped and results[0].error == "Stopped before it ran."
        assert session.run("1 + 1").value == "2"  # the Stop was for that call only; the kernel is there
    finally:
        session.close()
        call.join(10)
