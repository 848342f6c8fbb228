"""Smoke test of the frozen app: run it as a user would, with nothing of the build environment around it.

    python3 packaging/smoke_test.py dist/gptoss-desktop [--model tests/fixtures/gpt-oss-tiny-harmony.gguf]

Each run gets a fresh temporary home and working folder, QT_QPA_PLATFORM=offscreen, and an
environment built from scratch: no PYTHON* variables, no virtualenv, a PATH of system folders only,
so neither the source tree nor .venv can be imported. On Linux, as root, each run also happens in
a private mount namespace (unshare) where the Python that built the bundle, its virtualenv and its
base installation, are hidden under empty folders: the bundle must bring everything. Checks, in order:

  version  `--version` prints the version in pyproject.toml (package metadata made it into the bundle)
  chat     `chat --json` with the tiny trained gpt-oss answers 12 + 7 = 19 through the bundled llama.cpp
  docs     `chat --doc` reads a PDF (bundled PDFium) and a DOCX (python-docx, lxml) into the answer
  models   `models list --json` runs model discovery and the hub catalogue (huggingface_hub, offline)
  serve    `serve --port 0` starts the local API (Starlette on uvicorn); a chat completion over HTTP on
           127.0.0.1 answers 19; SIGTERM stops it with exit 0
  python   `tools python` runs a cell in the python tool's sandbox through the executable's hidden kernel
           mode: numpy and standard-library modules the app itself does not use, a file written, the
           sandbox's isolation (on Linux: no network, /mnt/data)
  window   the window opens offscreen and the process exits 0 by itself (GPTOSS_DESKTOP_QUIT_AFTER_SHOWN)
  x11      (where Xvfb is installed) the same on a real X server, through the bundled xcb plugin
  about    Help ▸ About shows the version, the icon, and each component's version and licence
  licences the licence texts the About dialog points to are in the bundle
  install  (Linux) install.sh puts program, menu entry and icons under a temporary prefix; the
           installed program runs; --uninstall removes them again

stderr must hold nothing but the offscreen platform's note about window-manager hints. Exits 0
when every check passes. It runs with any Python 3.11+ (not the bundled one) that has python-docx,
which it uses to write the test DOCX (the build environment has it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: What the offscreen platform plugin says about itself (it has no window manager); nothing else may appear.
OFFSCREEN_LIMITS = ("This plugin does not support propagateSizeHints()",)
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


def executable(bundle: Path) -> Path:
    """The app's program inside a one-folder bundle (or a macOS .app)."""
    for name in ("gptoss-desktop", "gptoss-desktop-cli.exe", "Contents/MacOS/gptoss-desktop"):
        candidate = bundle / name
        if candidate.is_file():
            return candidate
    raise SystemExit(f"no gptoss-desktop executable in {bundle}")


def clean_environment(home: Path, **extra: str) -> dict[str, str]:
    """An environment with nothing of the build's Python in it."""
    env = {
        "PATH": os.environ.get("SMOKE_PATH", SYSTEM_PATH),
        "HOME": str(home / "user"),
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
        "TMPDIR": str(home / "tmp"),
    }
    (home / "user").mkdir(parents=True, exist_ok=True)
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    if sys.platform == "win32":
        env["SYSTEMROOT"] = os.environ.get("SYSTEMROOT", r"C:\Windows")
    env.update(extra)
    return env


def hidden_pythons(keep: list[Path]) -> list[str]:
    """The build's Python folders to hide from the app (none of them may hold what the test needs)."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0 or shutil.which("unshare") is None:
        return []
    if subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False).returncode != 0:
        return []
    folders = {str(Path(p).resolve()) for p in (sys.prefix, sys.base_prefix)}
    return sorted(f for f in folders if not any(k.resolve().is_relative_to(f) for k in keep))


class Smoke:
    """Runs the checks and remembers what failed."""

    def __init__(self, bundle: Path, model: Path) -> None:
        self.bundle = bundle
        self.program = executable(bundle)
        self.model = model
        self.failures: list[str] = []
        self.scratch = Path(tempfile.mkdtemp(prefix="gptoss-smoke-"))
        self.hidden = hidden_pythons([bundle, model, ROOT / "tests"])

    def command(self, argv: list[str]) -> list[str]:
        """`argv`, run where the build's Python folders are empty (when that can be arranged)."""
        if not self.hidden:
            return argv
        mounts = " && ".join(f"mount -t tmpfs none '{folder}'" for folder in self.hidden)
        return ["unshare", "-m", "sh", "-c", f'{mounts} && exec "$0" "$@"', *argv]

    def run(
        self, name: str, args: list[str], timeout: float = 120, stdin: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """Run the frozen program in a fresh home and working folder; print its time."""
        work = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.scratch))
        started = time.monotonic()
        done = subprocess.run(
            self.command([str(self.program), "--home", str(work / "home"), *args]),
            cwd=work,
            input=stdin,
            env=clean_environment(work, **env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        print(f"  {name}: exit {done.returncode} in {time.monotonic() - started:.1f} s")
        noise = [line for line in done.stderr.splitlines() if line.strip() and line not in OFFSCREEN_LIMITS]
        self.expect(done.returncode == 0, f"{name}: exit code {done.returncode}")
        self.expect(not noise, f"{name}: stderr: " + " | ".join(noise[:10]))
        return done

    def expect(self, condition: bool, failure: str) -> None:
        if not condition:
            self.failures.append(failure)
            print(f"  FAIL {failure}")

    def check_version(self) -> None:
        expected = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
        done = self.run("version", ["--version"])
        self.expect(done.stdout.strip() == f"gptoss-desktop {expected}", f"version: printed {done.stdout.strip()!r}")

    def check_chat(self) -> None:
        args = ["chat", "--model", str(self.model), "--json", "--seed", "1", "--temperature", "0", "What is 12 + 7?"]
        done = self.run("chat", args)
        events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        answer = "".join(e["text"] for e in events if e.get("type") == "answer")
        finished = [e for e in events if e.get("type") == "done"]
        print(f"  chat: answer {answer!r}, {finished[0]['completion_tokens'] if finished else '?'} tokens")
        self.expect("19" in answer, f"chat: answer {answer!r} does not say 19")
        self.expect(bool(finished) and finished[0].get("stop_reason") is not None, "chat: no done event")
        self.expect(not [e for e in events if e.get("type") == "error"], "chat: an error event")

    def check_documents(self) -> None:
        sys.path.insert(0, str(ROOT))
        from tests.fixtures.documents import write_docx, write_pdf

        folder = Path(tempfile.mkdtemp(prefix="docs-", dir=self.scratch))
        pdf = write_pdf(folder / "notes.pdf", ["The warehouse opens at nine.", "The door code is 4417."])
        docx = write_docx(folder / "terms.docx")
        args = ["chat", "--model", str(self.model), "--json", "--seed", "1", "--temperature", "0"]
        done = self.run("docs", [*args, "--doc", str(pdf), "--doc", str(docx), "What is 12 + 7?"])
        events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        read = {e["file"]: e["chunks"] for e in events if e.get("type") == "document"}
        print(f"  docs: read {read}")
        self.expect(read.keys() == {"notes.pdf", "terms.docx"}, f"docs: read only {sorted(read)}")
        self.expect(not [e for e in events if e.get("type") in ("document_error", "error")], "docs: an error event")

    def check_models(self) -> None:
        done = self.run("models", ["models", "list", "--json"])
        try:
            listing = json.loads(done.stdout)
        except json.JSONDecodeError:
            listing = {}
        downloads = listing.get("downloads", [])
        print(f"  models: {len(downloads)} downloads offered, {len(listing.get('on_disk', []))} on disk")
        self.expect(any(d.get("default") for d in downloads), "models: no default download offered")

    def check_serve(self) -> None:
        work = Path(tempfile.mkdtemp(prefix="serve-", dir=self.scratch))
        argv = [str(self.program), "--home", str(work / "home"), "serve", "--model", str(self.model), "--port", "0"]
        started = time.monotonic()
        server = subprocess.Popen(
            self.command(argv), cwd=work, env=clean_environment(work), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        answer = ""
        try:
            assert server.stdout is not None
            base_url = server.stdout.readline().strip()
            print(f"  serve: listening at {base_url!r} after {time.monotonic() - started:.1f} s")
            self.expect(base_url.startswith("http://127.0.0.1:"), "serve: no address printed")
            if base_url.startswith("http://127.0.0.1:"):
                with urllib.request.urlopen(f"{base_url}/models", timeout=30) as response:
                    model = json.loads(response.read())["data"][0]["id"]
                body = {"model": model, "messages": [{"role": "user", "content": "What is 12 + 7?"}],
                        "temperature": 0, "seed": 1}  # fmt: skip
                request = urllib.request.Request(
                    f"{base_url}/chat/completions", data=json.dumps(body).encode(),
                    headers={"Content-Type": "application/json"},
                )  # fmt: skip
                with urllib.request.urlopen(request, timeout=120) as response:
                    reply = json.loads(response.read())
                answer = reply["choices"][0]["message"]["content"] or ""
        except (OSError, ValueError, KeyError, IndexError) as exc:
            self.expect(False, f"serve: request failed: {exc}")
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                _, errors = server.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                _, errors = server.communicate()
        print(f"  serve: answer {answer!r}, exit {server.returncode}")
        self.expect("19" in answer, f"serve: answer {answer!r} does not say 19")
        self.expect(server.returncode == 0, f"serve: exit code {server.returncode} after SIGTERM")
        noise = [line for line in errors.splitlines() if line.strip() and "gptoss-desktop: serving" not in line]
        self.expect(not noise, "serve: stderr: " + " | ".join(noise[:10]))

    def check_python(self) -> None:
        cell = (
            "import fractions, statistics, numpy as np\n"
            "open('result.txt', 'w').write(str(statistics.median([3, 1, 2])))\n"
            "x = fractions.Fraction(1, 3) + 1\n"
            "print(np.arange(3).sum())\n"
            "x"
        )
        done = self.run("python", ["tools", "python", "--timeout", "60"], stdin=cell)
        try:
            result = json.loads(done.stdout)
        except json.JSONDecodeError:
            result = {}
        isolation = result.get("isolation", {})
        print(
            f"  python: value {result.get('value')!r}, output {result.get('output')!r}, error {result.get('error')!r}"
        )
        print(f"  python: network {isolation.get('network')!r}, files {isolation.get('files')!r}")
        self.expect(result.get("value") == "Fraction(4, 3)" and result.get("output") == "3\n", "python: wrong result")
        self.expect([f.get("name") for f in result.get("files", [])] == ["result.txt"], "python: file not reported")
        if sys.platform.startswith("linux"):
            self.expect(isolation.get("data_dir") == "/mnt/data", "python: no /mnt/data")
            self.expect(str(isolation.get("network", "")).startswith("none"), "python: network not cut off")

    def check_window(self) -> None:
        done = self.run("window", [], GPTOSS_DESKTOP_QUIT_AFTER_SHOWN="1")
        shown = done.stdout.strip()
        print(f"  window: {shown!r}")
        self.expect(shown.startswith("shown: gpt-oss desktop ") and shown.endswith(" visible"), "window: not shown")

    def check_install(self) -> None:
        script = self.bundle / "install.sh"
        if not sys.platform.startswith("linux") or not script.is_file():
            return
        prefix = Path(tempfile.mkdtemp(prefix="prefix-", dir=self.scratch))
        env = clean_environment(prefix, PREFIX=str(prefix))
        done = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True, timeout=120, check=False)
        print(f"  install: exit {done.returncode}: {done.stdout.strip().splitlines()[:1]}")
        self.expect(done.returncode == 0 and not done.stderr.strip(), f"install: {done.stderr.strip()[:300]}")
        desktop = prefix / "share/applications/org.gptoss_desktop.GptossDesktop.desktop"
        icon = prefix / "share/icons/hicolor/256x256/apps/org.gptoss_desktop.GptossDesktop.png"
        program = prefix / "lib/gptoss-desktop/gptoss-desktop"
        self.expect(desktop.is_file() and f"Exec={program}" in desktop.read_text(), "install: no menu entry")
        self.expect(icon.is_file(), "install: no icon")
        version = subprocess.run(
            self.command([str(prefix / "bin/gptoss-desktop"), "--version"]),
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        self.expect(version.returncode == 0 and version.stdout.startswith("gptoss-desktop "), "install: does not run")
        subprocess.run(["sh", str(script), "--uninstall"], env=env, capture_output=True, timeout=60, check=False)
        self.expect(not program.exists() and not desktop.exists(), "install: --uninstall left files")

    def check_about(self) -> None:
        done = self.run("about", [], GPTOSS_DESKTOP_QUIT_AFTER_SHOWN="about")
        lines = [line.removeprefix("about: ") for line in done.stdout.splitlines() if line.startswith("about: ")]
        expected = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
        print(f"  about: {lines[0] if lines else 'nothing'}; {len(lines) - 1} components")
        self.expect(bool(lines) and lines[0] == f"Version {expected}, icon", f"about: shows {lines[:1]}")
        rows = [line.split(" | ") for line in lines[1:]]
        licences = {row[0]: row[2] for row in rows if len(row) == 3}
        self.expect(licences.get("Qt for Python (PySide6)") == "LGPL-3.0", "about: no Qt licence")
        self.expect(licences.get("llama.cpp (llama-cpp-python)") == "MIT", "about: no llama.cpp licence")
        self.expect(licences.get("gpt-oss weights") == "Apache-2.0", "about: no model licence")
        unknown = [row[0] for row in rows if len(row) == 3 and row[1] == "unknown"]
        self.expect(not unknown, f"about: versions unknown (metadata not bundled): {unknown}")

    def check_x11(self) -> None:
        xvfb = shutil.which("Xvfb")
        if xvfb is None or not sys.platform.startswith("linux"):
            print("  x11: skipped (no Xvfb)")
            return
        read, write = os.pipe()
        server = subprocess.Popen(
            [xvfb, "-displayfd", str(write), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
            pass_fds=(write,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write)
        try:
            with os.fdopen(read) as pipe:
                display = pipe.readline().strip()
            self.expect(display.isdigit(), "x11: Xvfb did not start")
            if display.isdigit():
                done = self.run(
                    "x11", [], QT_QPA_PLATFORM="xcb", DISPLAY=f":{display}", GPTOSS_DESKTOP_QUIT_AFTER_SHOWN="1"
                )
                print(f"  x11: {done.stdout.strip()!r} on display :{display}")
                self.expect(done.stdout.strip().endswith(" visible"), "x11: not shown")
        finally:
            server.terminate()
            server.wait(timeout=10)

    def check_licences(self) -> None:
        places = (self.bundle / "_internal", self.bundle / "Contents/Resources", self.bundle)
        root = next((place for place in places if (place / "licenses").is_dir()), None)
        self.expect(root is not None, "licences: no licenses/ folder in the bundle")
        if root is None:
            return
        folder = root / "licenses"
        for wanted in ("LGPL-3.0.txt", "llama.cpp-LICENSE.txt", "pypdfium2/BUILD_LICENSES/pdfium.txt"):
            self.expect((folder / wanted).is_file(), f"licences: {wanted} missing")
        count = sum(1 for path in folder.rglob("*") if path.is_file())
        print(f"  licences: {count} files in {folder.relative_to(self.bundle)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="dist/gptoss-desktop (or the .app on macOS)")
    parser.add_argument("--model", type=Path, default=ROOT / "tests" / "fixtures" / "gpt-oss-tiny-harmony.gguf")
    args = parser.parse_args()
    smoke = Smoke(args.bundle.resolve(), args.model.resolve())
    print(f"smoke test of {smoke.program}")
    if smoke.hidden:
        print(f"  hidden from the app: {', '.join(smoke.hidden)}")
    else:
        print("  the build's Python stays visible (hiding it needs Linux, root and unshare); PATH and cwd are clean")
    checks = (smoke.check_version, smoke.check_chat, smoke.check_documents, smoke.check_models, smoke.check_serve,
              smoke.check_python,
              smoke.check_window)  # fmt: skip
    try:
        for check in (*checks, smoke.check_about, smoke.check_x11, smoke.check_licences, smoke.check_install):
            check()
    finally:
        shutil.rmtree(smoke.scratch, ignore_errors=True)
    if smoke.failures:
        print(f"smoke test FAILED: {len(smoke.failures)} problem(s)")
        return 1
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
