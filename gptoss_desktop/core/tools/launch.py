"""How the kernel process is started: which program, which arguments, which environment.

The frozen app has no `python` to start, so its own executable runs the kernel in a hidden mode
(`KERNEL_FLAG`, handled in packaging/entry.py before anything else is imported). Another
interpreter the person chose runs kernel.py as a file; the frozen app ships that file for it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: The frozen executable's hidden mode: be the sandbox's kernel (packaging/entry.py).
KERNEL_FLAG = "--python-kernel"
#: The kernel and the files it imports, shipped as files in the frozen app for another interpreter.
KERNEL_FILES = ("kernel.py", "sandbox_linux.py", "sandbox_macos.py", "landlock.py")
#: numpy and friends start a thread per core; each counts against the process limit.
MAX_THREADS = 4


def frozen() -> bool:
    """Running as the PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False))


def kernel_source() -> Path:
    """kernel.py on disk, for an interpreter other than the app's (its siblings are beside it)."""
    if frozen():
        return Path(getattr(sys, "_MEIPASS", "")) / "gptoss_desktop" / "core" / "tools" / "kernel.py"
    return Path(__file__).with_name("kernel.py")


def kernel_command(interpreter: Path | None) -> list[str]:
    """The kernel's command line: `interpreter` (or the app's own Python) in isolated mode."""
    if interpreter is None and frozen():
        return [sys.executable, KERNEL_FLAG]
    python = str(interpreter) if interpreter is not None else sys.executable
    return [python, "-I", "-B", str(kernel_source())]


def python_roots(interpreter: Path | None) -> list[str]:
    """Folders an interpreter reads from, found without running it (for the macOS profile)."""
    if interpreter is None:
        roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, getattr(sys, "_MEIPASS", sys.prefix)}
        return sorted(os.path.realpath(root) for root in roots)
    real = Path(os.path.realpath(interpreter))
    roots = {str(Path(interpreter).absolute().parent.parent), str(real.parent.parent)}
    config = Path(interpreter).absolute().parent.parent / "pyvenv.cfg"  # a virtual environment: its base too
    if config.is_file():
        for line in config.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "home" and value.strip():
                roots.add(str(Path(os.path.realpath(value.strip())).parent))
    roots.add(str(kernel_source().parent))
    return sorted(roots)


def kernel_environment() -> dict[str, str]:
    """A clean environment: nothing of the app's (no keys, no proxies, no PYTHON* variables)."""
    threads = str(max(1, min(MAX_THREADS, os.cpu_count() or 1)))
    env = {
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        **{name: threads for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")},
    }
    if sys.platform == "win32":
        root = os.environ.get("SYSTEMROOT", r"C:\Windows")
        env.update(SYSTEMROOT=root, PATH=rf"{root}\system32;{root}")
    else:
        env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    return env
