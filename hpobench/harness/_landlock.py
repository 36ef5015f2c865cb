"""Filesystem and signal isolation of the sandbox child with Linux Landlock (stdlib + ctypes only).

Landlock lets an unprivileged process give up rights for good: after :func:`restrict` the process
(and everything it starts) can read only beneath the paths of its rules and write nowhere but
the writable ones; rights can never be regained. It needs Linux >= 5.13 with Landlock enabled
(``/sys/kernel/security/lsm`` lists it); :func:`abi_version` says 0 where it is not.

The child imports this module by file path *before* anything else, so it must not import
hpobench (nor numpy): only the standard library.

Allow-lists are hierarchical, so "everything under ``/work/repo`` except ``/work/repo/data``" is
expressed by :func:`carve`: the protected path's ancestors get only ``READ_DIR`` (their entries
can be listed, their files not read) and every sibling on the way down gets the full rights.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterable, Sequence

__all__ = ["READ", "WRITE", "abi_version", "carve", "restrict"]

# Syscall numbers are the same on every architecture that has Landlock (generic table).
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_REMOVE_DIR, _REMOVE_FILE, _MAKE_CHAR, _MAKE_DIR, _MAKE_REG = 1 << 4, 1 << 5, 1 << 6, 1 << 7, 1 << 8
_MAKE_SOCK, _MAKE_FIFO, _MAKE_BLOCK, _MAKE_SYM = 1 << 9, 1 << 10, 1 << 11, 1 << 12
_REFER, _TRUNCATE, _IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | _TRUNCATE | _IOCTL_DEV
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1

READ = EXECUTE | READ_FILE | READ_DIR
"""Rights of a read-only rule (run and read files, list directories)."""
WRITE = READ | WRITE_FILE | _REMOVE_DIR | _REMOVE_FILE | _MAKE_DIR | _MAKE_REG | _TRUNCATE
"""Rights of a private scratch directory."""


def _handled(abi: int) -> int:
    """Every filesystem right the kernel's ABI knows: all of them are denied unless granted."""
    rights = (1 << 13) - 1  # ABI 1
    if abi >= 2:
        rights |= _REFER
    if abi >= 3:
        rights |= _TRUNCATE
    if abi >= 5:
        rights |= _IOCTL_DEV
    return rights


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def abi_version() -> int:
    """The kernel's Landlock ABI version, 0 where Landlock is unavailable (or not Linux)."""
    if os.uname().sysname != "Linux":
        return 0
    try:
        libc = _libc()
        v = libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0),
                         ctypes.c_uint32(_CREATE_RULESET_VERSION))  # fmt: skip
    except (OSError, AttributeError):
        return 0
    return max(int(v), 0)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def carve(allowed: Iterable[tuple[str, int]], protected: Iterable[str]) -> list[tuple[str, int]]:
    """Rules granting each ``(path, rights)`` in ``allowed`` except beneath any ``protected`` path.

    Paths are resolved (symlinks followed); missing ones are dropped. A protected path inside an
    allowed one splits it: the directories on the way down keep only ``READ_DIR`` (listing), and
    each other entry of those directories gets ``rights`` (files only their file rights).
    An allowed path inside a protected one is dropped. Pure apart from reading directories.
    """
    prot = sorted({os.path.realpath(p) for p in protected if os.path.exists(p)})
    rules: dict[str, int] = {}

    def add(path: str, rights: int) -> None:
        if not os.path.isdir(path):
            rights &= _FILE_ONLY
        rules[path] = rules.get(path, 0) | rights

    def grant(path: str, rights: int) -> None:
        if any(_inside(path, p) for p in prot):
            return
        inner = [p for p in prot if _inside(p, path)]
        if not inner:
            add(path, rights)
            return
        add(path, READ_DIR & rights)
        try:
            entries = sorted(os.scandir(path), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            grant(os.path.realpath(entry.path), rights)

    for path, rights in allowed:
        if path and os.path.exists(path):
            grant(os.path.realpath(path), rights)
    return sorted(rules.items())


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [
        ("allowed_access", ctypes.c_uint64),
        ("parent_fd", ctypes.c_int32),
    ]


def restrict(rules: Sequence[tuple[str, int]]) -> int:
    """Confine this process for good to ``rules`` (``(path, rights)`` pairs); return the ABI used.

    Also forbids signalling processes outside the sandbox and connecting to abstract Unix sockets
    outside it where the ABI has scopes (>= 6). Raises ``OSError`` where Landlock is unavailable
    or a syscall fails; the caller decides whether to go on unconfined.
    """
    abi = abi_version()
    if abi < 1:
        raise OSError("Landlock is not available in this kernel")
    libc = _libc()
    handled = _handled(abi)
    attr = _RulesetAttr(
        handled, 0, (_SCOPE_SIGNAL | _SCOPE_ABSTRACT_UNIX_SOCKET) if abi >= 6 else 0
    )
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else 8
    fd = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size),
                      ctypes.c_uint32(0))  # fmt: skip
    if fd < 0:
        e = ctypes.get_errno()
        raise OSError(e, f"landlock_create_ruleset: {os.strerror(e)}")
    try:
        for path, rights in rules:
            try:
                pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # vanished since carve(): nothing to grant
            try:
                rule = _PathBeneathAttr(rights & handled, pfd)
                if libc.syscall(_SYS_ADD_RULE, ctypes.c_int(fd), ctypes.c_int(_RULE_PATH_BENEATH),
                                ctypes.byref(rule), ctypes.c_uint32(0)) != 0:  # fmt: skip
                    e = ctypes.get_errno()
                    raise OSError(e, f"landlock_add_rule({path!r}): {os.strerror(e)}")
            finally:
                os.close(pfd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(e)}")
        if libc.syscall(_SYS_RESTRICT_SELF, ctypes.c_int(fd), ctypes.c_uint32(0)) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"landlock_restrict_self: {os.strerror(e)}")
    finally:
        os.close(fd)
    return abi
