"""Provenance recorded in every trajectory: code hash, package version, optimizer identity."""

from __future__ import annotations

import functools
import hashlib
import inspect
import sys
from pathlib import Path
from typing import Any

__all__ = ["code_sha256", "hpobench_version", "optimizer_identity"]


@functools.lru_cache(maxsize=1)
def code_sha256() -> str:
    """sha256 over the harness's and the benchmark core's source files (path + bytes, sorted).

    It identifies the code that decides a run's numbers; files of unrelated subpackages
    (generation, CLI, leaderboard) are left out so that their edits do not change it.
    """
    root = Path(__file__).resolve().parent.parent
    parts = ["harness", "benchmark", "space", "table"]
    files = sorted(p for part in parts for p in (root / part).rglob("*.py"))
    files += [root / "fidelity.py", root / "registry.py", root / "_errors.py"]
    h = hashlib.sha256()
    for f in files:
        if f.is_file():
            h.update(f.relative_to(root).as_posix().encode() + b"\0")
            h.update(f.read_bytes() + b"\0")
    return h.hexdigest()


def hpobench_version() -> str:
    import hpobench

    return str(getattr(hpobench, "__version__", "unknown"))


def optimizer_identity(factory: Any) -> tuple[str, str, str]:
    """``(name, version, source sha256)`` of an optimizer factory.

    name: ``getattr(factory, "optimizer_name")`` if set, else ``module:qualname`` (for a file
    loaded by path, the module is the file's stem). version: the factory's ``version`` attribute
    or its module's ``__version__`` (else ``""``). source sha256: the factory's
    ``optimizer_source_sha256`` attribute if set (a sandboxed factory, whose module is never
    imported here), else of the module's source file.
    """
    mod_name = getattr(factory, "__module__", None) or type(factory).__module__
    qual = getattr(factory, "__qualname__", None) or type(factory).__qualname__
    module = sys.modules.get(mod_name)
    display_mod = getattr(module, "__hpobench_display_name__", mod_name)
    name = getattr(factory, "optimizer_name", None) or f"{display_mod}:{qual}"
    version = getattr(factory, "version", None) or getattr(module, "__version__", None) or ""
    pinned = getattr(factory, "optimizer_source_sha256", None)  # e.g. a sandboxed factory's
    if isinstance(pinned, str):
        return str(name), str(version), pinned
    source_sha = ""
    text = getattr(module, "__hpobench_source__", None)
    if text is None and module is not None:
        try:
            text = inspect.getsource(module)
        except (OSError, TypeError):
            text = None
    if text is not None:
        source_sha = hashlib.sha256(text.encode()).hexdigest()
    return str(name), str(version), source_sha
