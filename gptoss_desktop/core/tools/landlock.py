"""Landlock, Linux's unprivileged file and network access control, through its three system calls.

Runs inside the sandbox process before any of the model's code: a process restricts itself and
every process it later starts, for good. Stdlib only (ctypes), Python 3.9+, so that another
interpreter the person chose can load it as a plain file.
"""

from __future__ import annotations

import ctypes
import os

# The three system calls have the same numbers on every architecture (they came after 5.1).
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1

# File access rights, by the ABI version that brought them.
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR, MAKE_REG = 1 << 4, 1 << 5, 1 << 6, 1 << 7, 1 << 8
MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER = 1 << 13  # ABI 2
TRUNCATE = 1 << 14  # ABI 3
IOCTL_DEV = 1 << 15  # ABI 5
_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1}
# Network (ABI 4): TCP bind and connect; scopes (ABI 6): abstract Unix sockets and signals
# to processes outside the sandbox.
_NET_TCP = (1 << 0) | (1 << 1)
_SCOPES = (1 << 0) | (1 << 1)

#: Rights that make sense on a regular file (the kernel refuses directory rights on one).
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
READ = EXECUTE | READ_FILE | READ_DIR


class _RulesetAttr(ctypes.Structure):
    _fields_ = (("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64))  # fmt: skip


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def abi_version() -> int:
    """The Landlock ABI this kernel offers; 0 when it has none (before 5.13, or not enabled at boot)."""
    try:
        syscall = _libc().syscall
    except (OSError, AttributeError):
        return 0
    syscall.restype = ctypes.c_long
    version = syscall(
        ctypes.c_long(_CREATE_RULESET), None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION)
    )
    return max(int(version), 0)


def handled_fs(abi: int) -> int:
    """Every file access right ABI `abi` knows: all are denied unless a rule allows them."""
    return _FS_BY_ABI.get(abi, (1 << 16) - 1) if abi > 0 else 0


class Ruleset:
    """A ruleset being built: rules added by path, then enforced on this process for good."""

    def __init__(self, abi: int) -> None:
        self.abi = abi
        self.fs = handled_fs(abi)
        self._syscall = _libc().syscall
        self._syscall.restype = ctypes.c_long
        attr = _RulesetAttr(self.fs, _NET_TCP if abi >= 4 else 0, _SCOPES if abi >= 6 else 0)
        size = 24 if abi >= 6 else 16 if abi >= 4 else 8
        fd = self._syscall(
            ctypes.c_long(_CREATE_RULESET), ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0)
        )
        if fd < 0:
            raise self._error("landlock_create_ruleset")
        self.fd = int(fd)

    @property
    def blocks_tcp(self) -> bool:
        """TCP bind and connect are denied (no rule ever allows a port)."""
        return self.abi >= 4

    def allow(self, fd: int, rights: int, is_directory: bool) -> None:
        """Allow `rights` on what `fd` (an O_PATH descriptor) names and, for a folder, everything beneath it."""
        rights &= self.fs if is_directory else self.fs & FILE_RIGHTS
        if not rights:
            return
        attr = _PathBeneathAttr(rights, fd)
        done = self._syscall(ctypes.c_long(_ADD_RULE), ctypes.c_int(self.fd), ctypes.c_int(_RULE_PATH_BENEATH),
                             ctypes.byref(attr), ctypes.c_uint32(0))  # fmt: skip
        if done < 0:
            raise self._error("landlock_add_rule")

    def enforce(self) -> None:
        """Restrict this process and its future children (no_new_privs is set first, as required)."""
        if _libc().prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
            raise self._error("prctl(PR_SET_NO_NEW_PRIVS)")
        done = self._syscall(ctypes.c_long(_RESTRICT_SELF), ctypes.c_int(self.fd), ctypes.c_uint32(0))
        os.close(self.fd)
        if done < 0:
            raise self._error("landlock_restrict_self")

    @staticmethod
    def _error(call: str) -> OSError:
        number = ctypes.get_errno()
        return OSError(number, f"{call}: {os.strerror(number)}")
