"""Provenance facts of a generation run: code version, libraries, hardware (never the host name).

Why: a table's numbers are only re-checkable if meta.json says which code, libraries and
hardware produced them, and a resumed run must not mix chunks from different code. The *code
identity* that gates ``--resume`` is :func:`code_identity` (package version, generator
version, dataset preprocessing version); the git commit is recorded but does not gate, since
committing unrelated files must not invalidate a week-long run.
"""

from __future__ import annotations

import datetime as _dt
import functools
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

__all__ = [
    "GENERATOR_VERSION",
    "code_identity",
    "cpu_description",
    "git_commit",
    "library_versions",
    "source_sha256",
    "utc_iso",
]

#: Bump whenever what a family trains or how a chunk is laid out changes; runs and chunks made
#: by another generator version are refused on resume and merge.
GENERATOR_VERSION = 1

# Every module of this package is hashed into each chunk's provenance, so that a merge can tell
# when chunks came from different sources. A hand-kept list of "the modules that decide the
# numbers" went stale twice (new families and the trainer's split were missing from it).
_LIBRARIES = ("numpy", "pandas", "pyarrow", "scikit-learn", "torch", "ray", "tqdm")


def code_identity() -> dict[str, Any]:
    """What must be equal for two processes to contribute chunks to the same run."""
    import hpobench
    from hpobench.generate.datasets import PREPROCESSING_VERSION

    return {
        "hpobench": hpobench.__version__,
        "generator_version": GENERATOR_VERSION,
        "preprocessing_version": PREPROCESSING_VERSION,
    }


@functools.cache
def source_sha256() -> str:
    """sha256 over the source of every module of ``hpobench.generate``, in name order."""
    import hashlib

    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for path in sorted(here.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


@functools.cache
def git_commit() -> dict[str, Any] | None:
    """``{"commit": sha, "dirty": bool}`` of the checkout hpobench runs from, or ``None``."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        sha = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "hpobench"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": sha, "dirty": bool(status)}


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that shape the numbers (absent ones omitted)."""
    out = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


@functools.cache
def cpu_description() -> str:
    """``"cpu: <model name> (<n> logical cores)"`` from /proc/cpuinfo or ``platform``."""
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    model = model or platform.processor() or platform.machine() or "unknown"
    return f"cpu: {model} ({os.cpu_count() or 0} logical cores)"


def utc_iso(t: float) -> str:
    """``t`` (seconds since the epoch) as an ISO 8601 UTC timestamp to the second."""
    return _dt.datetime.fromtimestamp(t, tz=_dt.timezone.utc).isoformat(timespec="seconds")
