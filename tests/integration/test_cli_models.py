"""`gptoss-desktop models` as a person runs it: real processes, a real hub-protocol server on 127.0.0.1.

huggingface_hub reads HF_ENDPOINT and friends when it is imported, so each child process gets them
in its environment; every path (app home, HOME, the Hugging Face cache) is under tmp_path.
"""

from __future__ import annotations

import io
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from gptoss_desktop.cli.progress import ProgressLine
from gptoss_desktop.core.models.catalog import DEFAULT_SOURCE, SOURCES
from gptoss_desktop.core.models.downloads.progress import Progress
from gptoss_desktop.core.models.downloads.store import HubCache, spot_for
from gptoss_desktop.core.models.errors import format_size
from gptoss_desktop.core.models.remote_file import RemoteFile
from tests.fixtures.hub_server import HubFile, HubRepo, HubServer
from tests.fixtures.polling import size_of, wait_until

ROOT = Path(__file__).resolve().parents[2]
REPO, FILE = DEFAULT_SOURCE.repo_id, DEFAULT_SOURCE.filename


@pytest.fixture
def hub(tiny_model: Path) -> Iterator[HubServer]:
    """Every catalog entry served as the tiny fixture GGUF."""
    served = HubFile.from_path(tiny_model)
    with HubServer({s.repo_id: HubRepo({s.filename: served}) for s in SOURCES}) as server:
        yield server


class Cli:
    """Runs `python -m gptoss_desktop --home ... models ...` with every path under tmp_path."""

    def __init__(self, tmp_path: Path, endpoint: str) -> None:
        self.home = tmp_path / "home"
        self.user = tmp_path / "user"
        self.hub_cache = tmp_path / "hf" / "hub"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
        env.pop("OLLAMA_MODELS", None)
        env.pop("XDG_CACHE_HOME", None)
        env.update(
            HOME=str(self.user),
            HF_ENDPOINT=endpoint,
            HF_HOME=str(tmp_path / "hf"),
            HF_HUB_CACHE=str(self.hub_cache),
            HF_HUB_DISABLE_TELEMETRY="1",
        )
        self.env = env

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "gptoss_desktop", "--home", str(self.home), "models", *args]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args), cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=60, check=False
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        """The CLI as a person's terminal runs it: Ctrl+C is heard even if pytest runs as a background job."""
        return subprocess.Popen(
            self.command(*args),
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_hear_ctrl_c,
        )


def _hear_ctrl_c() -> None:
    """A shell starts background jobs with SIGINT ignored, and Python keeps it so; undo that for the child."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def cli(tmp_path: Path, hub: HubServer) -> Cli:
    return Cli(tmp_path, hub.url)


def served(hub: HubServer) -> RemoteFile:
    """What the server says about the default file, as the app would read it."""
    repo = hub.repos[REPO]
    file = repo.files[FILE]
    return RemoteFile(REPO, FILE, "main", repo.commit, file.sha256, file.size, "")


def partial_file(cli: Cli, hub: HubServer) -> Path:
    return spot_for(served(hub), HubCache(cli.hub_cache)).partial


class Lines:
    """A child's output read on a thread, so a test can wait for a line with a deadline."""

    def __init__(self, stream: IO[str]) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.text = ""
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, needle: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            line = self._queue.get(timeout=max(deadline - time.monotonic(), 0.001))
            assert line is not None, f"{needle!r} never came; got:\n{self.text}"
            self.text += line

    def rest(self) -> str:
        """Everything, once the child has closed the stream."""
        self._thread.join(20)
        while (line := self._queue.get_nowait()) is not None:
            self.text += line
        return self.text


def test_download_lands_in_the_cache_then_list_and_verify_see_it_and_a_rerun_fetches_nothing(
    cli: Cli, hub: HubServer, tiny_model: Path
) -> None:
    first = cli.run("download")

    assert first.returncode == 0, first.stderr
    path = Path(first.stdout.strip())
    commit, sha256 = hub.repos[REPO].commit, hub.repos[REPO].files[FILE].sha256
    repo_folder = cli.hub_cache / "models--ggml-org--gpt-oss-20b-GGUF"
    assert path == repo_folder / "snapshots" / commit / FILE
    assert path.resolve() == repo_folder / "blobs" / sha256
    assert path.read_bytes() == tiny_model.read_bytes()
    size = format_size(tiny_model.stat().st_size)
    assert (
        f"gpt-oss-20b MXFP4 (ggml-org): {size} from {REPO}, into the Hugging Face cache ({cli.hub_cache})"
        in first.stderr
    )
    assert f"100% [################] {size} of {size}" in first.stderr
    assert "\r" not in first.stderr  # not a terminal: plain lines
    assert "SHA-256 checked against the hub's" in first.stderr

    listing = cli.run("list")
    assert listing.returncode == 0, listing.stderr
    assert f"usable      {REPO}/{FILE}  (Hugging Face cache, {size})\n              {path}\n" in listing.stdout
    assert f"already downloaded: {path}" in listing.stdout

    online = cli.run("list", "--json", "--online")
    assert online.returncode == 0, online.stderr
    report = json.loads(online.stdout)
    [on_disk] = report["on_disk"]
    assert on_disk["path"] == str(path) and on_disk["usable"] and on_disk["problem"] is None
    assert on_disk["source"] == "Hugging Face cache" and on_disk["architecture"] == "gpt-oss"
    assert on_disk["plan"]["message"].startswith(("fits: ", "does not fit: "))
    assert [d["repo_id"] for d in report["downloads"]] == [s.repo_id for s in SOURCES]
    default = report["downloads"][0]
    assert default["default"] and default["downloaded"] == str(path) and default["error"] is None
    assert default["size"] == tiny_model.stat().st_size and default["plan"] is not None

    verified = cli.run("verify", str(path.resolve()))  # the blob itself; the corrupted-copy test goes through a link
    assert verified.returncode == 0, verified.stderr
    assert "structure: complete GGUF, architecture gpt-oss" in verified.stdout
    assert f"SHA-256: matches the hash it is stored under ({sha256[:12]}...)" in verified.stdout
    assert verified.stdout.endswith("Usable.\n")

    again = cli.run("download")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == str(path)
    assert "already downloaded; nothing to do" in again.stderr
    assert len(hub.body_requests()) == 1


def test_verify_refuses_a_corrupted_blob_in_a_cache_layout(cli: Cli, hub: HubServer, tiny_model: Path) -> None:
    data = bytearray(tiny_model.read_bytes())
    sha256 = hub.repos[REPO].files[FILE].sha256
    data[-1] ^= 0xFF  # in the tensor data: the header still reads as a complete gpt-oss GGUF
    blob = cli.hub_cache / "models--someone--copy" / "blobs" / sha256
    blob.parent.mkdir(parents=True)
    blob.write_bytes(data)
    link = cli.hub_cache / "models--someone--copy" / "snapshots" / "c0ffee" / "model.gguf"
    link.parent.mkdir(parents=True)
    link.symlink_to(os.path.relpath(blob, link.parent))

    result = cli.run("verify", str(link))

    assert result.returncode == 1
    assert "structure: complete GGUF" in result.stdout and result.stdout.endswith("Not usable.\n")
    assert "model.gguf is corrupted: its bytes hash to" in result.stderr
    assert f"not to the SHA-256 it is stored under ({sha256[:12]}...," in result.stderr
    assert f"Delete {blob} and download it again." in result.stderr


def test_verify_refuses_truncated_and_non_gguf_files_with_the_reason(
    cli: Cli, tmp_path: Path, tiny_model: Path
) -> None:
    truncated = tmp_path / "half.gguf"
    truncated.write_bytes(tiny_model.read_bytes()[: tiny_model.stat().st_size // 2])
    text = tmp_path / "notes.gguf"
    text.write_text("not a model")

    cut, fake = cli.run("verify", str(truncated)), cli.run("verify", str(text))

    assert (cut.returncode, fake.returncode) == (1, 1)
    assert cut.stdout.endswith("Not usable.\n") and fake.stdout.endswith("Not usable.\n")
    assert "gptoss-desktop: half.gguf is incomplete: it holds" in cut.stderr
    assert "gptoss-desktop: notes.gguf is not a GGUF model file" in fake.stderr


def test_download_of_a_missing_repo_or_file_fails_clearly(cli: Cli, hub: HubServer) -> None:
    no_repo = cli.run("download", "--repo", "someone/nothing", "--file", "x.gguf")
    no_file = cli.run("download", "--file", "missing.gguf")

    assert (no_repo.returncode, no_file.returncode) == (1, 1)
    assert "The repository someone/nothing was not found" in no_repo.stderr
    assert f"The repository {REPO} has no file 'missing.gguf'" in no_file.stderr
    assert no_repo.stdout == no_file.stdout == ""
    assert hub.body_requests() == []


def test_not_enough_disk_is_refused_before_downloading(cli: Cli, hub: HubServer, tmp_path: Path) -> None:
    # A file larger than the disk's free space, as the hub describes it: the real free-space probe refuses it.
    claimed = shutil.disk_usage(tmp_path).free * 4 + 10**12
    served_file = hub.repos[REPO].files[FILE]
    hub.repos[REPO].files[FILE] = HubFile(served_file.source, served_file.sha256, claimed)

    result = cli.run("download")

    assert result.returncode == 1
    assert f"Not enough free disk space for {FILE}: it needs {format_size(claimed)} more and only" in result.stderr
    assert "Free up" in result.stderr and "or choose another folder" in result.stderr
    assert hub.body_requests() == []
    assert not partial_file(cli, hub).exists()


def test_corrupted_bytes_from_the_server_are_deleted_and_reported(cli: Cli, hub: HubServer) -> None:
    hub.faults.corrupt_at = 1000

    result = cli.run("download")

    assert result.returncode == 1
    assert "was corrupted (its SHA-256 does not match the one the hub published) and was deleted" in result.stderr
    assert not partial_file(cli, hub).exists()
    assert not (cli.hub_cache / "models--ggml-org--gpt-oss-20b-GGUF" / "snapshots").exists()


def test_download_with_the_network_down_fails_clearly(cli: Cli, hub: HubServer) -> None:
    hub.stop()

    result = cli.run("download")

    assert result.returncode == 1
    assert f"Could not reach {hub.url}" in result.stderr and "Check the network connection" in result.stderr


def test_a_killed_download_resumes_where_it_stopped(cli: Cli, hub: HubServer) -> None:
    size = served(hub).size
    hub.faults.hold_after = size // 3
    partial = partial_file(cli, hub)
    child = cli.start("download")
    try:
        wait_until(lambda: size_of(partial) >= size // 3)
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=20)
        hub.release()
    assert child.returncode == -signal.SIGKILL
    kept = size_of(partial)

    result = cli.run("download")

    assert result.returncode == 0, result.stderr
    assert f"Resuming: {format_size(kept)} of {format_size(size)} were kept" in result.stderr
    resumed = hub.body_requests()[-1]
    assert resumed.range == f"bytes={kept}-" and resumed.body_bytes == size - kept < size
    assert Path(result.stdout.strip()).stat().st_size == size


def test_ctrl_c_pauses_and_the_same_command_resumes(cli: Cli, hub: HubServer) -> None:
    size = served(hub).size
    hub.faults.hold_after = size // 2
    partial = partial_file(cli, hub)
    with cli.start("download") as child:
        assert child.stderr is not None and child.stdout is not None
        errors = Lines(child.stderr)
        try:
            assert hub.wait_held(20)
            wait_until(lambda: size_of(partial) >= size // 2)
            child.send_signal(signal.SIGINT)
            errors.wait_for("Pausing...")
        finally:
            hub.release()
            child.wait(20)
        said, printed = errors.rest(), child.stdout.read()
    assert child.returncode == 130, said
    kept = size_of(partial)
    assert size // 2 <= kept < size
    assert f"Paused: {format_size(kept)} of {format_size(size)} are kept. Run the same command to resume." in said
    assert printed == ""

    result = cli.run("download")

    assert result.returncode == 0, result.stderr
    resumed = hub.body_requests()[-1]
    assert resumed.range == f"bytes={kept}-" and resumed.body_bytes == size - kept


def test_download_into_a_picked_folder(cli: Cli, hub: HubServer, tmp_path: Path, tiny_model: Path) -> None:
    folder = tmp_path / "my models"

    result = cli.run("download", "--to", str(folder))

    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == folder / FILE
    assert (folder / FILE).read_bytes() == tiny_model.read_bytes()
    assert f"into {folder}" in result.stderr
    verified = cli.run("verify", str(folder / FILE))
    assert verified.returncode == 0, verified.stderr
    assert "SHA-256: not checked" in verified.stdout


def test_list_names_what_is_wrong_with_an_unusable_file(cli: Cli, tiny_model: Path) -> None:
    broken = cli.user / ".lmstudio" / "models" / "someone" / "gpt-oss-20b-GGUF" / "broken.gguf"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(tiny_model.read_bytes()[:100_000])

    result = cli.run("list")

    assert result.returncode == 0, result.stderr
    assert f"not usable  someone/gpt-oss-20b-GGUF/broken.gguf  (LM Studio, 100.0 kB)\n              {broken}\n" in (
        result.stdout
    )
    assert "broken.gguf is incomplete: it holds 100.0 kB of" in result.stdout
    assert "add --online" in result.stdout


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_one_redrawn_line_on_a_terminal_and_occasional_lines_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    total, speed = 10_000_000_000, 50e6
    reports = [Progress("downloading", done, total, speed, (total - done) / speed) for done in range(0, total, 10**8)]
    terminal, log = FakeTerminal(), io.StringIO()
    for out in (terminal, log):
        line = ProgressLine(out, {"downloading": "Downloading"})
        for report in reports:
            line(report)
        line.end()

    assert terminal.getvalue().count("\r") == len(reports) and terminal.getvalue().count("\n") == 1
    assert "\rDownloading  50% [########........] 5.0 GB of 10.0 GB · 50.0 MB/s · 2 min left" in terminal.getvalue()
    assert "\r" not in log.getvalue()
    lines = log.getvalue().splitlines()
    assert len(lines) == 10  # one per tenth
    assert lines[1] == "Downloading  10% [#...............] 1.0 GB of 10.0 GB · 50.0 MB/s · 3 min left"
