"""Downloads over real HTTP from a local hub-protocol server; huggingface_hub itself is never mocked."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import huggingface_hub
import pytest

from gptoss_desktop.core.cancel import CancelFlag
from gptoss_desktop.core.models.downloads import (
    AccessDeniedError,
    AlreadyDownloadingError,
    DiskFullError,
    DownloadCorruptedError,
    DownloadStoppedError,
    HubUnreachableError,
    NotEnoughSpaceError,
    RemoteFile,
    RemoteNotFoundError,
    discard,
    download,
    fetch_remote_file,
    kept_bytes,
)
from gptoss_desktop.core.models.downloads import fetch as download_fetch
from gptoss_desktop.core.models.downloads.progress import Meter, Progress
from gptoss_desktop.core.models.downloads.store import Folder, HubCache, spot_for
from tests.fixtures.hub_server import HubFile, HubRepo, HubServer, use_endpoint
from tests.fixtures.polling import size_of, wait_until

REPO = "ggml-org/gpt-oss-20b-GGUF"
FILE = "gpt-oss-20b-mxfp4.gguf"
SIZE = 6 << 20
PAYLOAD = random.Random(4).randbytes(SIZE)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubServer]:
    """The server with one 6 MiB file, and huggingface_hub pointed at it through HF_ENDPOINT."""
    repos = {REPO: HubRepo({FILE: HubFile.from_bytes(PAYLOAD)}), "openai/gated": HubRepo({}, gated=True)}
    with HubServer(repos) as server, use_endpoint(server.url, tmp_path / "hf"):
        yield server


def remote() -> RemoteFile:
    return fetch_remote_file(REPO, FILE)


def partial_of() -> Path:
    return spot_for(remote(), HubCache()).partial


def test_full_download_lands_in_the_hugging_face_cache(hub: HubServer, tiny_model: Path) -> None:
    hub.repos[REPO].files[FILE] = HubFile.from_path(tiny_model)
    reports: list[Progress] = []

    path = download(REPO, FILE, on_progress=reports.append)

    commit, sha256 = hub.repos[REPO].commit, hub.repos[REPO].files[FILE].sha256
    repo_folder = Path(huggingface_hub.constants.HF_HUB_CACHE) / "models--ggml-org--gpt-oss-20b-GGUF"
    assert path == repo_folder / "snapshots" / commit / FILE
    assert os.readlink(path) == f"../../blobs/{sha256}"
    assert (repo_folder / "refs" / "main").read_text() == commit
    assert path.read_bytes() == tiny_model.read_bytes()
    assert huggingface_hub.try_to_load_from_cache(REPO, FILE) == str(path)
    assert list((repo_folder / "blobs").iterdir()) == [repo_folder / "blobs" / sha256]
    last = reports[-1]
    assert (last.stage, last.done, last.total, last.fraction) == ("downloading", path.stat().st_size, last.done, 1.0)
    assert len(hub.body_requests()) == 1


def test_dropped_connection_resumes_without_fetching_again(hub: HubServer) -> None:
    hub.faults.drop_after = SIZE // 2

    path = download(REPO, FILE)

    assert path.read_bytes() == PAYLOAD
    first, second = hub.body_requests()
    assert first.body_bytes == SIZE // 2
    assert second.range == f"bytes={SIZE // 2}-" and second.status == 206
    assert sum(r.body_bytes for r in hub.body_requests()) == SIZE


def test_killed_process_resumes_from_its_partial_file(hub: HubServer) -> None:
    hub.faults.hold_after = SIZE // 3
    partial = partial_of()
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from gptoss_desktop.core.models.downloads import download; download({REPO!r}, {FILE!r})",
        ],
        cwd=ROOT,
        env=dict(os.environ),
    )
    try:
        wait_until(lambda: size_of(partial) >= SIZE // 3)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        hub.release()
    assert child.returncode == -signal.SIGKILL
    kept = size_of(partial)
    assert kept == SIZE // 3

    path = download(REPO, FILE)

    assert path.read_bytes() == PAYLOAD
    resumed = hub.body_requests()[-1]
    assert resumed.range == f"bytes={kept}-"
    assert resumed.body_bytes == SIZE - kept


def test_corrupted_bytes_are_rejected_and_deleted(hub: HubServer) -> None:
    hub.faults.corrupt_at = SIZE // 2

    with pytest.raises(DownloadCorruptedError, match=r"corrupted .* and was deleted"):
        download(REPO, FILE)

    assert not partial_of().exists()
    assert huggingface_hub.try_to_load_from_cache(REPO, FILE) is None
    assert not (
        Path(huggingface_hub.constants.HF_HUB_CACHE) / "models--ggml-org--gpt-oss-20b-GGUF" / "snapshots"
    ).exists()


def test_not_enough_disk_is_refused_before_any_byte_is_fetched(hub: HubServer) -> None:
    asked: list[Path] = []

    def tiny_disk(folder: Path) -> int:
        asked.append(folder)
        return 1_500_000

    with pytest.raises(NotEnoughSpaceError) as refused:
        download(REPO, FILE, free_space=tiny_disk)

    assert "needs 6.3 MB more and only 1.5 MB is free" in str(refused.value)
    assert asked == [partial_of().parent]
    assert hub.body_requests() == []
    assert not partial_of().exists()


def test_a_complete_file_is_not_downloaded_again_and_serves_offline(hub: HubServer) -> None:
    first = download(REPO, FILE)
    assert len(hub.body_requests()) == 1

    assert download(REPO, FILE) == first
    assert len(hub.body_requests()) == 1

    hub.stop()
    assert download(REPO, FILE) == first


def pause_midway(hub: HubServer, at: int) -> DownloadStoppedError:
    """Start a download, pause it once `at` bytes are on disk, and return how it stopped."""
    hub.faults.hold_after = at
    cancel = CancelFlag()
    partial = partial_of()

    def pause_once_held() -> None:
        hub.wait_held()
        wait_until(lambda: size_of(partial) >= at)
        cancel.set()
        hub.release()

    pauser = threading.Thread(target=pause_once_held)
    pauser.start()
    try:
        with pytest.raises(DownloadStoppedError) as stopped:
            download(REPO, FILE, cancel=cancel)
    finally:
        pauser.join()
    return stopped.value


def test_pause_keeps_the_bytes_and_resume_fetches_only_the_rest(hub: HubServer) -> None:
    kept = pause_midway(hub, SIZE // 2).kept
    assert SIZE // 2 <= kept < SIZE and kept == size_of(partial_of()) == kept_bytes(remote())

    reports: list[Progress] = []
    path = download(REPO, FILE, on_progress=reports.append)

    assert path.read_bytes() == PAYLOAD
    resumed = hub.body_requests()[-1]
    assert resumed.range == f"bytes={kept}-" and resumed.body_bytes == SIZE - kept
    assert reports[0].stage == "checking" and reports[-1].stage == "downloading"


def test_pause_does_not_wait_for_a_stalled_link(hub: HubServer) -> None:
    """The server stops sending mid-file and never resumes (until the test ends): Pause still stops the
    download at once, with what arrived kept, instead of waiting out the read timeout."""
    hub.faults.hold_after = SIZE // 3
    cancel = CancelFlag()
    outcome: list[BaseException] = []

    def fetch() -> None:
        try:
            download(REPO, FILE, cancel=cancel)
        except BaseException as exc:
            outcome.append(exc)

    downloader = threading.Thread(target=fetch)
    downloader.start()
    try:
        assert hub.wait_held()
        wait_until(lambda: size_of(partial_of()) >= SIZE // 3)
        cancel.set()
        downloader.join(timeout=10)  # far below the 60 s the server holds the body for
        assert not downloader.is_alive()
    finally:
        hub.release()
        downloader.join()
    assert len(outcome) == 1 and isinstance(outcome[0], DownloadStoppedError)
    assert outcome[0].kept == SIZE // 3 == kept_bytes(remote())


def test_cancel_and_discard_deletes_the_kept_bytes(hub: HubServer) -> None:
    pause_midway(hub, SIZE // 4)
    assert kept_bytes(remote()) > 0

    assert discard(remote()) is True
    assert not partial_of().exists() and kept_bytes(remote()) == 0


def test_disk_full_while_writing_keeps_what_was_written(hub: HubServer) -> None:
    partial = partial_of()
    partial.parent.mkdir(parents=True)
    partial.symlink_to("/dev/full")  # every write there fails with ENOSPC, like a full disk

    with pytest.raises(DiskFullError, match=r"disk filled up .* kept: free up 6.3 MB and resume"):
        download(REPO, FILE)

    assert partial.is_symlink()
    assert huggingface_hub.try_to_load_from_cache(REPO, FILE) is None


def test_network_lost_mid_download_keeps_the_bytes_for_later(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(download_fetch, "RETRY_WAIT_S", (0.0,) * 6)  # the real back-off waits 23 s in all
    hub.faults.hold_after = SIZE // 2
    partial = partial_of()

    def cut_the_network() -> None:
        hub.wait_held()
        wait_until(lambda: size_of(partial) >= SIZE // 2)
        hub.stop()

    cutter = threading.Thread(target=cut_the_network)
    cutter.start()
    try:
        with pytest.raises(HubUnreachableError, match=r"kept failing .* 3.1 MB of 6.3 MB are kept; resume later"):
            download(REPO, FILE)
    finally:
        cutter.join()
    assert size_of(partial) == SIZE // 2


def test_missing_repo_file_gated_repo_and_no_network_have_clear_messages(hub: HubServer) -> None:
    with pytest.raises(RemoteNotFoundError, match="repository someone/nothing was not found"):
        download("someone/nothing", FILE)
    with pytest.raises(RemoteNotFoundError, match=f"{REPO} has no file 'missing.gguf'"):
        download(REPO, "missing.gguf")
    with pytest.raises(RemoteNotFoundError, match="has no revision 'v9'"):
        download(REPO, FILE, revision="v9")
    with pytest.raises(AccessDeniedError, match="openai/gated is gated: accept its conditions"):
        download("openai/gated", FILE)
    hub.stop()
    with pytest.raises(HubUnreachableError, match=r"Could not reach http://127\.0\.0\.1"):
        download(REPO, FILE)


def test_an_offline_computer_is_told_in_words_not_error_numbers(tmp_path: Path) -> None:
    """A name that cannot be looked up (no network, no DNS) used to read "[Errno -2] Name or service not known"."""
    with (
        use_endpoint("http://gptoss-desktop-test.invalid", tmp_path / "hf"),
        pytest.raises(HubUnreachableError) as caught,
    ):
        download(REPO, FILE)
    assert "Errno" not in str(caught.value)
    assert "this computer seems to be offline" in str(caught.value)


def test_a_picked_folder_gets_the_file_and_huggingface_hub_recognises_it(hub: HubServer, tmp_path: Path) -> None:
    folder = Folder(tmp_path / "my models")

    path = download(REPO, FILE, destination=folder)

    assert path == folder.path / FILE and path.read_bytes() == PAYLOAD
    assert sorted(p.name for p in folder.path.iterdir()) == [".cache", FILE]
    assert download(REPO, FILE, destination=folder) == path
    assert huggingface_hub.hf_hub_download(REPO, FILE, local_dir=folder.path) == str(path)
    assert len(hub.body_requests()) == 1


def test_a_server_that_ignores_range_makes_the_download_start_over_cleanly(hub: HubServer) -> None:
    pause_midway(hub, SIZE // 2)
    hub.faults.ignore_range = True

    path = download(REPO, FILE)

    assert path.read_bytes() == PAYLOAD
    assert hub.body_requests()[-1].status == 200


def test_sha256_comes_from_the_repo_tree_when_the_etag_is_not_one(hub: HubServer) -> None:
    hub.faults.git_etag = True

    assert remote().sha256 == hub.repos[REPO].files[FILE].sha256
    assert any(r.method == "POST" and "/paths-info/" in r.path for r in hub.requests())
    assert download(REPO, FILE).read_bytes() == PAYLOAD


def test_a_second_download_of_the_same_file_is_refused_while_one_runs(hub: HubServer) -> None:
    hub.faults.hold_after = SIZE // 2
    first = threading.Thread(target=download, args=(REPO, FILE))
    first.start()
    try:
        assert hub.wait_held()
        with pytest.raises(AlreadyDownloadingError, match="already being downloaded"):
            download(REPO, FILE)
    finally:
        hub.release()
        first.join()
    assert huggingface_hub.try_to_load_from_cache(REPO, FILE) is not None


def test_a_copy_already_in_the_picked_folder_is_checked_and_adopted(hub: HubServer, tmp_path: Path) -> None:
    folder = Folder(tmp_path / "models")
    folder.path.mkdir()
    (folder.path / FILE).write_bytes(PAYLOAD)
    reports: list[Progress] = []

    assert download(REPO, FILE, destination=folder, on_progress=reports.append) == folder.path / FILE

    assert hub.body_requests() == []
    assert reports[-1].stage == "checking" and reports[-1].done == SIZE


def test_a_different_file_of_the_same_size_in_the_picked_folder_is_replaced(hub: HubServer, tmp_path: Path) -> None:
    folder = Folder(tmp_path / "models")
    folder.path.mkdir()
    (folder.path / FILE).write_bytes(bytes(SIZE))

    assert download(REPO, FILE, destination=folder).read_bytes() == PAYLOAD
    assert len(hub.body_requests()) == 1


def test_meter_reports_speed_and_time_left_from_recent_bytes() -> None:
    now = [100.0]
    reports: list[Progress] = []
    meter = Meter(reports.append, clock=lambda: now[0])

    meter.start("downloading", total=1000, already=400)
    for _ in range(3):
        now[0] += 1.0
        meter.update(reports[-1].done + 50)
    meter.update(reports[-1].done + 50)  # within the report interval: dropped

    assert [r.done for r in reports] == [400, 450, 500, 550]
    assert reports[-1].bytes_per_second == pytest.approx(50.0)
    assert reports[-1].seconds_left == pytest.approx(9.0)
    assert reports[0].seconds_left is None
