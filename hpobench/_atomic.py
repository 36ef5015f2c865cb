"""Atomic file writes: a reader sees the old file or the complete new one, never a part.

Used by every writer of durable files (tables, trajectories, generation chunks), so that a
crash, SIGKILL or full disk mid-write leaves no half-written file under the final name.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_atomic"]


def write_atomic(path: str | Path, payload: bytes, *, tmp_suffix: str = ".tmp") -> None:
    """Write ``payload`` to ``path`` via a temp file in the same folder, fsync, then rename.

    The parent folder is created if needed; the file gets mode 0644. On any failure the temp file
    is removed and the exception propagates (callers turn ``OSError`` into their own error).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=tmp_suffix
    )
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable; not all filesystems allow fsync on a folder
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
