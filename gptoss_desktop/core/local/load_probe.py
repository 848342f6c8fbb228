"""Load a model file in a child process before the app loads it: an abort inside llama.cpp costs a message.

llama.cpp checks much of a GGUF with assertions that abort the whole process (an expert count
of 1, a value length its kernels cannot take, a bias stored as F16), and no header check can
know them all. So a file the app has not loaded before is first loaded, and one token decoded,
in a child process; its verdict is remembered under the file's identity (device, inode, size,
modification time) in the app's cache, so each file is probed once. `models verify` says
"usable" only for a file that passed.

The child is `python -m gptoss_desktop.core.local.load_probe PATH` (the frozen app: itself with
PROBE_FLAG); it prints PROBE_OK and exits 0 when the model loaded and decoded. An embedding model
(semantic search) is probed the same way, loaded as the documents thread loads it and asked for
one vector (`... PATH --embedding POOLING`): a crafted one aborts llama.cpp just as easily.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engine import ModelLoadError
from ..files import write_file
from ..paths import app_paths

if TYPE_CHECKING:
    from .engine import LocalEngine

PROBE_FLAG = "--probe-model-load"
PROBE_OK = "gptoss-desktop: model loaded and decoded"
#: Tokens of the probe's context: enough to decode a few tokens, little memory.
PROBE_CONTEXT = 256
#: Seconds allowed to start and decode, plus one per this many bytes of file (mapping 12 GB from a slow disk).
PROBE_BASE_SECONDS = 60.0
PROBE_BYTES_PER_SECOND = 50e6
VERDICTS_FILE = "model-load-verdicts.json"
#: The most verdicts kept: one per file ever loaded.
MAX_VERDICTS = 200


class ModelCrashError(ModelLoadError):
    """llama.cpp aborted or failed loading the file in the child process: the app would have died."""


def file_identity(path: Path) -> str:
    """What makes a file the same file: a changed, replaced or rewritten file is probed again."""
    status = path.stat()
    return f"{status.st_dev}:{status.st_ino}:{status.st_size}:{status.st_mtime_ns}"


#: `embedding=` for an embedding model loaded with its file's own pooling type.
FILE_POOLING = -1


def check_loads(
    path: Path, *, timeout: float | None = None, verdicts: Path | None = None, embedding: int | None = None
) -> None:
    """Return if `path` loads in llama.cpp (probed once per file identity); ModelLoadError saying why not.

    `embedding`: probe it as an embedding model with this llama.cpp pooling type (FILE_POOLING: the
    file's own), as core/documents/embeddings.py loads it.

    Runs on any thread; blocks while the child loads the model (a second for small files, up to
    a minute or so for 12 GB on a slow disk, once).
    """
    path = Path(path)
    store = verdicts or app_paths().cache / VERDICTS_FILE
    identity = file_identity(path) + ("" if embedding is None else f":embedding:{embedding}")
    known = _read_verdicts(store)
    verdict = known.get(identity)
    if verdict is None:
        seconds = timeout or PROBE_BASE_SECONDS + path.stat().st_size / PROBE_BYTES_PER_SECOND
        found, about_the_file = _probe(path, seconds, embedding)
        if not about_the_file:  # timed out or could not start: ask again next time
            raise ModelLoadError(found or "")
        verdict = {"path": str(path), "problem": found}
        known[identity] = verdict
        _write_verdicts(store, known)
    problem = verdict.get("problem")
    if isinstance(problem, str):
        raise ModelCrashError(problem)


def known_problem(path: Path, verdicts: Path | None = None) -> str | None:
    """Why `path` did not load when it was last probed; None if it loaded or was never probed."""
    try:
        verdict = _read_verdicts(verdicts or app_paths().cache / VERDICTS_FILE).get(file_identity(path))
    except OSError:
        return None
    problem = verdict.get("problem") if verdict else None
    return problem if isinstance(problem, str) else None


def load_local_engine(
    path: str | os.PathLike[str], context_size: int | None = None, adapters: Sequence[str | os.PathLike[str]] = ()
) -> LocalEngine:
    """A LocalEngine for `path` once the header is sane, the model fits, and a child process loaded it.

    The way the app (not its tests) loads a model a person chose: ModelLoadError says why not.
    `adapters`: LoRA files requests will name; each is checked against the model before it loads,
    and the memory plan makes room for them.
    """
    from .engine import LocalEngine
    from .gguf_file import read_gguf
    from .header_checks import check_header
    from .lora_file import check_lora_matches, read_lora
    from .machine import read_machine
    from .memory_plan import ModelShape, engine_plan

    model = Path(path).expanduser()
    info = read_gguf(model)
    check_header(info)
    trained = info.get_int(f"{info.architecture}.context_length")
    if context_size is not None and trained and context_size > trained:
        raise ModelLoadError(
            f"{model.name} was trained for a context of {trained:,} tokens; {context_size:,} is more than it can use."
        )
    loras = [read_lora(adapter) for adapter in adapters]
    for lora in loras:
        check_lora_matches(lora, info)
    adapter_bytes = sum(lora.tensor_bytes for lora in loras)
    plan = engine_plan(ModelShape.from_gguf(info), read_machine(), context_size, adapter_bytes)
    if not plan.fits:  # said by LocalEngine too; checked here so a model too big is never probed
        with_adapters = " with its adapters" if loras else ""
        raise ModelLoadError(f"{model.name}{with_adapters} {plan.message}")
    check_loads(model)
    return LocalEngine(model, context_size=context_size, adapter_bytes=adapter_bytes)


def probe_command(path: Path, embedding: int | None = None) -> list[str]:
    """The child's command line: this module, or the frozen app given PROBE_FLAG."""
    extra = [] if embedding is None else ["--embedding", str(embedding)]
    if getattr(sys, "frozen", False):
        return [sys.executable, PROBE_FLAG, str(path), *extra]
    return [sys.executable, "-m", __name__, str(path), *extra]


def _probe(path: Path, timeout: float, embedding: int | None = None) -> tuple[str | None, bool]:
    """(None when the child loaded and decoded, else the problem; whether that is a verdict on the file)."""
    try:
        result = subprocess.run(
            probe_command(path, embedding),
            stdin=subprocess.DEVNULL,
            # ggml prints an abort's backtrace by attaching gdb where it is installed: seconds, a debugger
            # on the app's child, and nothing the verdict needs.
            env={**os.environ, "GGML_NO_BACKTRACE": "1"},
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return (
            f"Checking that llama.cpp can load {path.name} took over {timeout:.0f} s; "
            "is the disk very slow or the computer busy? Try again."
        ), False
    except OSError as exc:
        return f"The check of {path.name} could not start ({exc.strerror or exc}).", False
    if result.returncode == 0 and PROBE_OK in result.stdout:
        return None, True
    if result.returncode in (-signal.SIGKILL, -signal.SIGINT, -signal.SIGTERM):  # OOM killer, a person: not the file
        return f"The check of {path.name} was killed (out of memory?); close other programs and try again.", False
    if result.returncode < 0:
        try:
            how = signal.Signals(-result.returncode).name
        except ValueError:
            how = f"signal {-result.returncode}"
        return (
            f"llama.cpp crashed loading {path.name} ({how}): the file is damaged, or was made for another version "
            "of llama.cpp. It cannot be used; download it again."
        ), True
    said = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    reason = f" ({said[-1][:300]})" if said else ""
    return (
        f"llama.cpp could not load {path.name}{reason}: the file is damaged, truncated, or of a model type "
        "this version does not support."
    ), True


def _read_verdicts(store: Path) -> dict[str, dict[str, object]]:
    try:
        with store.open("rb") as file:
            data = json.loads(file.read(4 << 20))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}


def _write_verdicts(store: Path, verdicts: dict[str, dict[str, object]]) -> None:
    """Keep the newest MAX_VERDICTS; a cache that cannot be written only means probing again next time."""
    kept = dict(list(verdicts.items())[-MAX_VERDICTS:])
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        write_file(store, json.dumps(kept, indent=1).encode("utf-8"))
    except OSError:
        pass


def probe_main(path: str, embedding: int | None = None) -> int:
    """The child: load the model on the CPU, decode a few tokens (or make one vector), say so. An abort
    here is the verdict."""
    import llama_cpp

    from .llama_log import logger, route_llama_logs
    from .memory_plan import ENGINE_FLASH_ATTN

    errors: list[str] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = lambda record: errors.append(record.getMessage())  # type: ignore[method-assign]
    logger.addHandler(handler)
    route_llama_logs()
    try:
        if embedding is not None:
            pooling: dict[str, Any] = {} if embedding == FILE_POOLING else {"pooling_type": embedding}
            llama = llama_cpp.Llama(
                model_path=path, embedding=True, n_ctx=PROBE_CONTEXT, n_batch=PROBE_CONTEXT,
                n_ubatch=PROBE_CONTEXT, n_threads=1, verbose=False, **pooling,
            )  # fmt: skip
            llama.embed("Hello, world")
            llama.close()
            print(PROBE_OK, flush=True)
            return 0
        llama = llama_cpp.Llama(
            model_path=path,
            n_ctx=PROBE_CONTEXT,
            n_batch=PROBE_CONTEXT,
            n_threads=1,
            n_gpu_layers=0,
            swa_full=True,
            flash_attn=ENGINE_FLASH_ATTN,
            verbose=False,
        )
        tokens = llama.tokenize(b"Hello, world", add_bos=False, special=False)[:4] or [0]
        llama.eval(tokens)
        llama.close()
    except Exception as exc:  # the verdict: llama.cpp's own reason where it logged one
        reasons = [e.split("error loading model: ", 1)[1].strip() for e in errors if "error loading model: " in e]
        print(reasons[0] if reasons else f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(PROBE_OK, flush=True)
    return 0


def probe_args(argv: Sequence[str]) -> tuple[str, int | None] | None:
    """PATH [--embedding POOLING] of the child's command line; None if it is not that."""
    if len(argv) == 1:
        return argv[0], None
    if len(argv) == 3 and argv[1] == "--embedding" and argv[2].lstrip("-").isdigit():
        return argv[0], int(argv[2])
    return None


if __name__ == "__main__":
    parsed = probe_args(sys.argv[1:])
    sys.exit(probe_main(*parsed) if parsed else 2)
