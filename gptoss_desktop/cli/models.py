"""`gptoss-desktop models list|download|verify`: the first-run screen's choices, in a terminal.

Results go to stdout (the downloaded file's path alone, so scripts can use it); progress and
messages to stderr, redrawn on one line when stderr is a terminal.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.cancel import CancelFlag
from ..core.engine import ModelLoadError
from ..core.local.gguf_file import GGUFError, read_gguf
from ..core.local.header_checks import check_header
from ..core.local.load_probe import check_loads, known_problem
from ..core.local.machine import Machine, read_machine
from ..core.local.memory_plan import MemoryPlan, ModelShape, engine_plan, gpt_oss_20b
from ..core.models.catalog import DEFAULT_SOURCE, SOURCES, ModelSource, find_source
from ..core.models.discovery import FoundModel, SearchRoots, check_model, discover_models
from ..core.models.downloads import download, kept_bytes
from ..core.models.downloads.progress import Meter
from ..core.models.downloads.store import Destination, Folder, HubCache, find_cached, find_complete
from ..core.models.errors import DownloadError, DownloadStoppedError, HubUnreachableError, format_size
from ..core.models.hub_files import fetch_remote_file
from ..core.paths import app_paths
from ..core.settings import load_settings
from .progress import ProgressLine
from .terminal import clean

INTERRUPTED = 130
HASH_BLOCK = 4 << 20
# Blobs named by their own SHA-256: the Hugging Face cache (`blobs/<hex>`) and Ollama (`blobs/sha256-<hex>`).
_BLOB_NAME = re.compile(r"(?:sha256-)?([0-9a-f]{64})")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`models`: its options."""
    models = commands.add_parser("models", help="find, download and check model files without the window")
    models_commands = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    listing = models_commands.add_parser("list", help="model files on this computer, and the ones to download")
    listing.add_argument("--online", action="store_true", help="ask the hub for each download's size and fit")
    listing.add_argument("--json", action="store_true", help="print one JSON document")
    fetch = models_commands.add_parser("download", help="download a model file; run it again to resume")
    fetch.add_argument("--repo", metavar="R", help="hub repository (default: the recommended gpt-oss-20b)")
    fetch.add_argument("--file", metavar="F", help="GGUF file in that repository")
    fetch.add_argument("--to", metavar="FOLDER", help="download into FOLDER instead of the Hugging Face cache")
    verify = models_commands.add_parser("verify", help="check a model file: structure, SHA-256, memory")
    verify.add_argument("path", metavar="PATH", help="the GGUF file")


def run(args: argparse.Namespace) -> int:
    """Run one `models` action; the exit status is non-zero whenever it could not do what was asked."""
    actions: dict[str, Callable[[argparse.Namespace], int]] = {
        "list": run_list,
        "download": run_download,
        "verify": run_verify,
    }
    try:
        return actions[args.models_command](args)
    except KeyboardInterrupt:
        return INTERRUPTED


# list


@dataclass(frozen=True)
class _OnDisk:
    model: FoundModel
    plan: MemoryPlan | None
    problem: str | None


@dataclass(frozen=True)
class _Offer:
    source: ModelSource
    downloaded: Path | None
    size: int | None = None
    kept: int = 0
    plan: MemoryPlan | None = None
    error: str | None = None


def run_list(args: argparse.Namespace) -> int:
    """What is on disk (usable or why not), then the catalog; --online adds sizes and fit (exit 1 if the hub fails)."""
    roots = SearchRoots.from_environment()
    machine = read_machine()
    on_disk = [_vet(model, machine) for model in discover_models(roots, files=_remembered_model())]
    offers = [_offer(source, machine, args.online) for source in SOURCES]
    if args.json:
        print(json.dumps(_list_json(on_disk, offers, machine), indent=2))
    else:
        _print_list(on_disk, offers, roots, args.online)
    return 1 if any(offer.error for offer in offers) else 0


def _remembered_model() -> list[Path]:
    """The file the window last loaded, wherever it is, so it is listed even outside the usual stores."""
    remembered = load_settings(app_paths().settings_file).model_path
    return [Path(remembered)] if remembered and Path(remembered).is_file() else []


def _vet(model: FoundModel, machine: Machine) -> _OnDisk:
    if not model.usable:
        return _OnDisk(model, None, model.problem)
    try:
        info = read_gguf(model.path)
        check_header(info)
        plan = engine_plan(ModelShape.from_gguf(info), machine)
    except GGUFError as exc:
        return _OnDisk(model, None, str(exc))
    return _OnDisk(model, plan, known_problem(model.path))


def _offer(source: ModelSource, machine: Machine, online: bool) -> _Offer:
    downloaded = find_cached(source.repo_id, source.filename, source.revision, HubCache())
    if not online:
        return _Offer(source, downloaded)
    try:
        remote = fetch_remote_file(source.repo_id, source.filename, source.revision)
    except DownloadError as exc:
        return _Offer(source, downloaded, error=str(exc))
    plan = engine_plan(gpt_oss_20b(remote.size), machine)
    return _Offer(source, downloaded, remote.size, kept_bytes(remote), plan)


def _print_list(on_disk: list[_OnDisk], offers: list[_Offer], roots: SearchRoots, online: bool) -> None:
    print("Model files on this computer:")
    if not on_disk:
        stores = [str(roots.hf_cache), *map(str, roots.lm_studio), *map(str, roots.ollama)]
        print(f"  none found (looked in {', '.join(stores)})")
    for entry in on_disk:
        model = entry.model
        status = "usable    " if entry.problem is None else "not usable"
        size = f", {format_size(model.size)}" if model.size else ""
        print(f"  {status}  {clean(model.label)}  ({model.source}{size})")
        print(f"              {clean(str(model.path))}")
        print(f"              {clean(entry.plan.message if entry.plan is not None else entry.problem or '')}")
    print()
    print("Can be downloaded (gptoss-desktop models download --repo REPO --file FILE):")
    for offer in offers:
        default = "  (the default)" if offer.source == DEFAULT_SOURCE else ""
        print(f"  {offer.source.label}{default}")
        print(f"      {offer.source.repo_id}  {offer.source.filename}")
        if offer.error is not None:
            print(f"      {clean(offer.error)}")
        elif offer.size is not None and offer.plan is not None:
            print(f"      {format_size(offer.size)}; {offer.plan.message}")
        if offer.kept and offer.downloaded is None:
            print(f"      paused: {format_size(offer.kept)} kept; `models download` resumes it")
        if offer.downloaded is not None:
            print(f"      already downloaded: {offer.downloaded}")
    if not online:
        print("\nSizes and whether each fits this computer: add --online (asks the hub).")


def _list_json(on_disk: list[_OnDisk], offers: list[_Offer], machine: Machine) -> dict[str, Any]:
    return {
        "machine": {"total_ram": machine.total_ram, "available_ram": machine.available_ram},
        "on_disk": [
            {
                "path": str(e.model.path),
                "source": str(e.model.source),
                "label": e.model.label,
                "size": e.model.size,
                "architecture": e.model.architecture,
                "usable": e.problem is None,
                "problem": e.problem,
                "plan": _plan_json(e.plan),
            }
            for e in on_disk
        ],
        "downloads": [
            {
                "label": o.source.label,
                "repo_id": o.source.repo_id,
                "filename": o.source.filename,
                "revision": o.source.revision,
                "default": o.source == DEFAULT_SOURCE,
                "downloaded": str(o.downloaded) if o.downloaded is not None else None,
                "size": o.size,
                "kept_bytes": o.kept,
                "plan": _plan_json(o.plan),
                "error": o.error,
            }
            for o in offers
        ],
    }


def _plan_json(plan: MemoryPlan | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    return {
        "fits": plan.fits,
        "message": plan.message,
        "context_size": plan.context_size,
        "n_gpu_layers": plan.n_gpu_layers,
        "resident_bytes": plan.resident_bytes,
    }


# download


def run_download(args: argparse.Namespace) -> int:
    """Download (or resume) one file; Ctrl+C pauses, keeping the bytes for the next run."""
    try:
        source = _chosen_source(args.repo, args.file)
    except ValueError as exc:
        return _fail(str(exc))
    destination: Destination = Folder(Path(args.to).expanduser().resolve()) if args.to else HubCache()
    try:
        remote = fetch_remote_file(source.repo_id, source.filename, source.revision)
    except HubUnreachableError as exc:
        cached = find_cached(source.repo_id, source.filename, source.revision, destination)
        if cached is None:
            return _fail(str(exc))
        _say(f"{source.filename} is already downloaded (the hub could not be reached to look for a newer one).")
        print(cached)
        return 0
    except DownloadError as exc:
        return _fail(str(exc))
    found = find_complete(remote, destination)
    if found is not None:
        _say(f"{remote.filename} is already downloaded; nothing to do.")
        print(found)
        return 0

    where = (
        destination.path
        if isinstance(destination, Folder)
        else f"the Hugging Face cache ({destination.resolved_root()})"
    )
    _say(f"{source.label}: {format_size(remote.size)} from {source.repo_id}, into {where}")
    if find_source(source.repo_id, source.filename) is not None:
        _say(f"On this computer it {engine_plan(gpt_oss_20b(remote.size), read_machine()).message}")
    kept = kept_bytes(remote, destination)
    if kept:
        _say(f"Resuming: {format_size(kept)} of {format_size(remote.size)} were kept from an earlier attempt.")
    printer = ProgressLine(sys.stderr, {"checking": "Checking", "downloading": "Downloading"})
    cancel = CancelFlag()

    def fetch() -> Path:
        return download(
            source.repo_id,
            source.filename,
            revision=source.revision,
            destination=destination,
            on_progress=printer,
            cancel=cancel,
        )

    try:
        path = _in_background(fetch, cancel, printer)
    except (DownloadStoppedError, KeyboardInterrupt):
        printer.end()
        _say(
            f"Paused: {format_size(kept_bytes(remote, destination))} of {format_size(remote.size)} are kept. "
            "Run the same command to resume."
        )
        return INTERRUPTED
    except DownloadError as exc:
        printer.end()
        return _fail(str(exc))
    printer.end()
    _say(f"Done: {remote.filename}, SHA-256 checked against the hub's ({remote.sha256[:12]}...).")
    print(path)
    return 0


def _chosen_source(repo: str | None, filename: str | None) -> ModelSource:
    """The catalog entry asked for, or an ad-hoc one; the default source when neither is given."""
    if repo is None and filename is None:
        return DEFAULT_SOURCE
    if filename is None:
        known = next((s for s in SOURCES if s.repo_id == repo), None)
        if known is None:
            raise ValueError(f"{repo} is not in the catalog; say which file to download with --file.")
        return known
    repo = repo or DEFAULT_SOURCE.repo_id
    return find_source(repo, filename) or ModelSource(repo, filename, filename, "")


def _in_background(work: Callable[[], Path], cancel: CancelFlag, printer: ProgressLine) -> Path:
    """Run `work` on a thread so Ctrl+C reaches this one and pauses it through `cancel`.

    The thread is a daemon: a second Ctrl+C exits at once, and the partial file (written
    unbuffered, appended to) is as safe as after a kill.
    """
    outcome: list[Path | BaseException] = []
    finished = threading.Event()  # not Thread.join: before Python 3.13 a join cut short by Ctrl+C breaks later joins

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:
            outcome.append(exc)
        finally:
            finished.set()

    threading.Thread(target=run, name="model-download", daemon=True).start()
    try:
        while not finished.wait(0.5):  # a timed wait, so Ctrl+C is seen on Windows too
            pass
    except KeyboardInterrupt:
        printer.note("Pausing... (Ctrl+C again to quit at once; the bytes so far are kept either way)")
        cancel.set()
        while not finished.wait(0.5):
            pass
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


# verify


def run_verify(args: argparse.Namespace) -> int:
    """Structure, SHA-256 when the file's name is its hash, and the memory verdict; 0 only when usable."""
    path = Path(args.path).expanduser()
    print(f"Checking {clean(str(path))}")
    found = check_model(path)
    if found.problem is not None:
        return _unusable(found.problem)
    try:
        info = read_gguf(path)
        check_header(info)
        shape = ModelShape.from_gguf(info)
    except GGUFError as exc:
        return _unusable(str(exc))
    print(f"  structure: complete GGUF, architecture {found.architecture}, {format_size(found.size)}")
    expected = _named_sha256(path)
    if expected is None:
        print("  SHA-256: not checked (only a file stored under its hash, as in the Hugging Face cache, names it)")
    else:
        actual = _sha256(path)
        if actual != expected:
            return _unusable(
                f"{path.name} is corrupted: its bytes hash to {actual[:12]}..., not to the SHA-256 it is stored "
                f"under ({expected[:12]}..., the hash its publisher gave). Delete {path.resolve()} and download "
                "it again."
            )
        print(f"  SHA-256: matches the hash it is stored under ({expected[:12]}...)")
    plan = engine_plan(shape, read_machine())
    print(f"  memory: {plan.message}")
    if not plan.fits:
        return _unusable(f"{path.name} {plan.message}")
    try:
        check_loads(path)
    except ModelLoadError as exc:
        return _unusable(str(exc))
    print("  llama.cpp: loads it and decodes (tried in a separate process)")
    print("Usable.")
    return 0


def _named_sha256(path: Path) -> str | None:
    """The SHA-256 a blob is named by (following the snapshot link to it), None for other files."""
    real = path.resolve()
    match = _BLOB_NAME.fullmatch(real.name)
    return match[1] if match is not None and real.parent.name == "blobs" else None


def _sha256(path: Path) -> str:
    printer = ProgressLine(sys.stderr, {"checking": "SHA-256"})
    meter, hasher, done = Meter(printer), hashlib.sha256(), 0
    size = path.stat().st_size
    meter.start("checking", size)
    with path.open("rb") as f:
        while block := f.read(HASH_BLOCK):
            hasher.update(block)
            done += len(block)
            meter.update(done)
    meter.finish(done)
    printer.end()
    return hasher.hexdigest()


def _unusable(reason: str) -> int:
    print("Not usable.")
    return _fail(reason)


def _say(message: str) -> None:
    print(clean(message), file=sys.stderr, flush=True)


def _fail(message: str) -> int:
    print(f"gptoss-desktop: {clean(message)}", file=sys.stderr, flush=True)
    return 1
