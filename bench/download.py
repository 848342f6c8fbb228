"""Download throughput of the app against curl, same file, same local hub-protocol server, same run.

    python bench/download.py [--mb 300] [--rounds 3]      (from the repo root, in the project's environment)

A file of random bytes is served by tests/fixtures/hub_server.py in its own process (sendfile, so
the server is never the bottleneck). Each round, alternating, curl fetches the resolve URL (the
same redirect the app follows) into a file, and the app runs `download()` into a fresh Hugging Face
cache: HEAD for the metadata, ranged GET, SHA-256 on a thread while writing, fsync, placing in the
cache layout. The best round of each is kept, so background load hits both alike. On loopback both are CPU-bound:
curl only copies bytes while the app also hashes them, so each round also times curl followed by a
SHA-256 of its output (what checking a curl download by hand costs). `--link-mb-s N` caps the
server like a real network link instead. The last line reads
`download ratio=R app_mb_s=X curl_mb_s=Y`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPO = "bench/gpt-oss-20b-GGUF"
FILE = "bench.gguf"


def make_file(path: Path, megabytes: int) -> None:
    block = 16 << 20
    with path.open("wb") as f:
        for start in range(0, megabytes << 20, block):
            f.write(os.urandom(min(block, (megabytes << 20) - start)))


def hash_seconds(path: Path) -> float:
    start = time.perf_counter()
    with path.open("rb") as f:
        hashlib.file_digest(f, "sha256")
    return time.perf_counter() - start


def curl_seconds(url: str, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run(["curl", "--silent", "--show-error", "--fail", "--location", "--output", str(out), url], check=True)
    return time.perf_counter() - start


def app_seconds(cache: Path) -> float:
    from gptoss_desktop.core.models.downloads import download
    from gptoss_desktop.core.models.downloads.store import HubCache

    start = time.perf_counter()
    download(REPO, FILE, destination=HubCache(cache))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=300, help="file size in MiB")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--link-mb-s", type=float, help="cap the server like a network link of this speed (MB/s)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="gptoss-bench-") as tmp:
        work = Path(tmp)
        served = work / FILE
        make_file(served, args.mb)
        link = ["--link-mb-s", str(args.link_mb_s)] if args.link_mb_s else []
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "fixtures" / "hub_server.py"), REPO, str(served), *link],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            endpoint = server.stdout.readline().strip()
            # huggingface_hub reads these once, at import: set them before anything imports it.
            os.environ.update(HF_ENDPOINT=endpoint, HF_HOME=str(work / "hf"), HF_HUB_DISABLE_TELEMETRY="1")
            sys.path.insert(0, str(ROOT))
            size_mb = served.stat().st_size / 1e6
            url = f"{endpoint}/{REPO}/resolve/main/{FILE}"
            app_best = curl_best = checked_best = float("inf")
            for round_number in range(1, args.rounds + 1):
                curl_s = curl_seconds(url, work / "curl.out")
                checked_s = curl_s + hash_seconds(work / "curl.out")
                (work / "curl.out").unlink()
                app_s = app_seconds(work / "cache")
                shutil.rmtree(work / "cache")
                curl_best, app_best, checked_best = (
                    min(curl_best, curl_s),
                    min(app_best, app_s),
                    min(checked_best, checked_s),
                )
                print(
                    f"round {round_number}: app {size_mb / app_s:.0f} MB/s, curl {size_mb / curl_s:.0f} MB/s, "
                    f"curl then sha256 {size_mb / checked_s:.0f} MB/s ({size_mb:.0f} MB file)"
                )
            print(f"app against curl then sha256: ratio={checked_best / app_best:.2f}")
        finally:
            assert server.stdin is not None
            server.stdin.close()
            server.wait(10)
    app_mb_s, curl_mb_s = size_mb / app_best, size_mb / curl_best
    print(f"download ratio={app_mb_s / curl_mb_s:.2f} app_mb_s={app_mb_s:.0f} curl_mb_s={curl_mb_s:.0f}")


if __name__ == "__main__":
    main()
