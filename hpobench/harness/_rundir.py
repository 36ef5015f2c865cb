"""The output directory of ``run_suite``: one writer at a time, and files that are what they say.

A run directory ``<out>/<protocol>/<family>/<task-vN>/rep-<r>.parquet`` is shared by reruns, so
what is already there decides what runs next. The rules (issue 8):

* **One writer.** :func:`locked` takes an exclusive, non-blocking ``flock`` on ``<out>/.hpobench.lock``
  for the whole suite; a second ``hpobench run`` on the same ``--out`` fails at once with
  ``ProtocolError`` naming the holder's pid, instead of both reporting success while overwriting
  each other's files. The lock is released by the kernel when the holder dies, so a killed run
  never leaves the directory locked.
* **Verified before skipped.** A finished file is skipped only after its full digest is checked
  (:meth:`Trajectory.read`): a flipped byte or an edited ``incumbent_test_score`` is redone (with a
  warning), never reported as a result.
* **The same optimizer code.** A file made by the same optimizer name but different source
  (``optimizer_source_sha256``) is *refused* by default (``OptimizerError``, listing how many and
  saying how to proceed); ``on_changed="redo"`` (``hpobench run --redo-changed``) redoes those runs
  instead. Another protocol or another optimizer name is always an error (use another ``--out``).
* **No leftovers.** Temp files of killed writers (``.rep-000.parquet.<pid>.<random>.tmp``, the
  pattern :func:`hpobench._atomic.write_atomic` uses; ``*.partial`` from older versions) are
  removed; with the lock held, no live writer can own one.
* **Honest I/O errors.** An empty ``--out``, an unwritable one or a full disk is an
  ``HPOBenchError`` naming the path, not a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from hpobench._atomic import write_atomic
from hpobench._errors import HPOBenchError, OptimizerError, ProtocolError, TrajectoryError
from hpobench.harness._protocol import Protocol
from hpobench.harness._trajectory import RunStatus, Trajectory, TrajectoryMeta

__all__ = [
    "LOCK_FILE",
    "ON_CHANGED",
    "Finished",
    "check_out_dir",
    "locked",
    "remove_temp_files",
    "scan",
    "write_run",
]

logger = logging.getLogger(__name__)

LOCK_FILE = ".hpobench.lock"
ON_CHANGED = ("refuse", "redo")


def check_out_dir(out: str | Path) -> Path:
    """``out`` as a writable directory (created), else ``ProtocolError`` saying why."""
    if not isinstance(out, (str, Path)) or not str(out).strip():
        raise ProtocolError(
            f"The output directory must be a non-empty path, but got {out!r} (an empty --out "
            "would write into the current directory)."
        )
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".hpobench-write-test-"):
            pass
    except OSError as e:
        raise ProtocolError(
            f"The output directory must be a writable directory, but {str(path)!r} is not: "
            f"{type(e).__name__}: {e}."
        ) from None
    return path


@contextlib.contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold the run directory's lock for the block; a held lock is a ``ProtocolError`` at once."""
    lock = out / LOCK_FILE
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise ProtocolError(f"Cannot create the lock file {str(lock)!r}: {e}.") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise ProtocolError(f"Cannot lock {str(lock)!r}: {e}.") from None
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise ProtocolError(
                f"{out} is in use by another hpobench run (pid {holder}); one output directory "
                "takes one run at a time. Wait for it to finish, or use another --out."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the flock


def remove_temp_files(path: Path) -> None:
    """Remove temp files of killed writers of ``path`` (call with the lock held)."""
    if not path.parent.is_dir():
        return
    for pattern in (f".{path.name}.*.tmp", f".{path.name}.*.partial"):
        for stale in path.parent.glob(pattern):
            logger.info("removing a killed writer's temp file %s", stale)
            stale.unlink(missing_ok=True)


@dataclass(frozen=True)
class Finished:
    """A verified finished run found in the directory."""

    benchmark_id: str
    repetition: int
    path: Path
    meta: TrajectoryMeta


def scan(
    paths: Iterable[tuple[str, int, Path]],
    protocol: Protocol,
    *,
    optimizer_name: str,
    optimizer_source_sha256: str,
    retry_failed: bool,
    on_changed: str,
) -> tuple[list[tuple[str, int]], list[Finished]]:
    """Split ``(benchmark_id, repetition, path)`` into runs to do and verified runs to skip."""
    if on_changed not in ON_CHANGED:
        raise ProtocolError(f"on_changed must be one of {ON_CHANGED}, but got {on_changed!r}.")
    todo: list[tuple[str, int]] = []
    done: list[Finished] = []
    changed: list[Path] = []
    for bid, r, path in paths:
        remove_temp_files(path)
        if not path.exists():
            todo.append((bid, r))
            continue
        try:
            meta = Trajectory.read(path).meta  # the digest too: a tampered file is not a result
        except TrajectoryError as e:
            logger.warning("%s fails verification (%s); redoing it", path, e)
            todo.append((bid, r))
            continue
        if meta.protocol.hash != protocol.hash:
            raise ProtocolError(
                f"{path} was produced under protocol {meta.protocol.name!r} (hash "
                f"{meta.protocol.hash[:12]}), but this run uses {protocol.name!r} (hash "
                f"{protocol.hash[:12]}); the same output directory must hold one protocol version. "
                "Use another --out."
            )
        if meta.optimizer_name != optimizer_name:
            raise OptimizerError(
                f"{path} holds a run of optimizer {meta.optimizer_name!r}, but this run is of "
                f"{optimizer_name!r}; use one output directory per optimizer (another --out)."
            )
        if meta.optimizer_source_sha256 != optimizer_source_sha256:
            changed.append(path)
            if on_changed == "redo":
                todo.append((bid, r))
            continue
        if meta.status is RunStatus.FAILED and retry_failed:
            todo.append((bid, r))
            continue
        done.append(Finished(bid, r, path, meta))
    if changed and on_changed == "refuse":
        raise OptimizerError(
            f"{len(changed)} finished run(s) in this output directory were made by other source "
            f"code of optimizer {optimizer_name!r} (optimizer_source_sha256 differs), e.g. "
            f"{changed[0]}; their results would be mixed with this code's. Redo them with "
            "--redo-changed (on_changed='redo'), or use another --out."
        )
    if changed:
        logger.warning("redoing %d run(s) made by changed optimizer code", len(changed))
    return todo, done


def write_run(path: Path, payload: bytes) -> None:
    """Write one trajectory atomically; an I/O failure (full disk) is an ``HPOBenchError``."""
    try:
        write_atomic(path, payload)
    except OSError as e:
        raise HPOBenchError(
            f"{path}: the trajectory must be written, but writing failed ({type(e).__name__}: "
            f"{e}); finished runs before it are kept, rerun the same command to go on."
        ) from None
