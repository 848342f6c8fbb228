"""What this computer has for a model: its memory, and on Apple Silicon what Metal may wire.

Read from the operating system with the standard library (plus sysctl and vm_stat on macOS), so
planning needs no extra dependency.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

GIB = 1 << 30
MIB = 1 << 20


@dataclass(frozen=True)
class Machine:
    """The memory this computer has; `available_ram` None when it could not be read."""

    total_ram: int
    available_ram: int | None
    apple_silicon: bool = False
    metal_working_set: int | None = None  # Metal's recommendedMaxWorkingSetSize, or iogpu.wired_limit_mb


def default_metal_working_set(total_ram: int) -> int:
    """Metal's default recommendedMaxWorkingSetSize: 2/3 of RAM (16 GB: 10.67 GiB), 3/4 above 36 GB."""
    return total_ram * 3 // 4 if total_ram > 36 * GIB else total_ram * 2 // 3


def parse_meminfo(text: str) -> int | None:
    """MemAvailable from Linux's /proc/meminfo, in bytes: what can be had without swapping."""
    match = re.search(r"^MemAvailable:\s+(\d+) kB", text, re.MULTILINE)
    return int(match[1]) * 1024 if match else None


def parse_vm_stat(text: str) -> int | None:
    """Free plus inactive pages from macOS's vm_stat, in bytes (what psutil calls available)."""
    page = re.search(r"page size of (\d+) bytes", text)
    counts = re.findall(r"^Pages (?:free|inactive):\s+(\d+)", text, re.MULTILINE)
    return sum(int(c) for c in counts) * int(page[1]) if page and len(counts) == 2 else None


def _command_output(args: list[str]) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=5, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def read_machine() -> Machine:
    """This computer's memory from the operating system: stdlib, plus sysctl and vm_stat on macOS."""
    if sys.platform == "win32":
        return _read_windows()
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if sys.platform == "darwin":
        apple = _command_output(["sysctl", "-n", "hw.optional.arm64"]) == "1"  # true under Rosetta too
        wired = _command_output(["sysctl", "-n", "iogpu.wired_limit_mb"])
        working_set = int(wired) * MIB if wired.isdigit() and int(wired) > 0 else default_metal_working_set(total)
        available = parse_vm_stat(_command_output(["vm_stat"]))
        return Machine(total, available, apple, working_set if apple else None)
    try:
        meminfo = Path("/proc/meminfo").read_text()
    except OSError:
        meminfo = ""
    return Machine(total, parse_meminfo(meminfo))


if sys.platform == "win32":
    import ctypes

    class _MemoryStatus(ctypes.Structure):
        _fields_ = [
            ("dwLength", ctypes.c_ulong),
            ("dwMemoryLoad", ctypes.c_ulong),
            ("ullTotalPhys", ctypes.c_ulonglong),
            ("ullAvailPhys", ctypes.c_ulonglong),
            ("ullTotalPageFile", ctypes.c_ulonglong),
            ("ullAvailPageFile", ctypes.c_ulonglong),
            ("ullTotalVirtual", ctypes.c_ulonglong),
            ("ullAvailVirtual", ctypes.c_ulonglong),
            ("ullAvailExtendedVirtual", ctypes.c_ulonglong),
        ]

    def _read_windows() -> Machine:
        status = _MemoryStatus()
        status.dwLength = ctypes.sizeof(status)
        if not ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
            raise OSError("GlobalMemoryStatusEx failed")
        return Machine(int(status.ullTotalPhys), int(status.ullAvailPhys))
