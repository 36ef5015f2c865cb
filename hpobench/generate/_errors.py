"""Errors of table generation, all subclasses of :class:`hpobench.HPOBenchError`.

They say what must hold, what was found, and what to do next (which command to run, which
package to install), because a generation run is usually long and unattended: a reader of the
log must be able to act on the message alone.
"""

from __future__ import annotations

from hpobench._errors import HPOBenchError

__all__ = ["ChunkError", "GenerationError", "RunMismatchError"]


class GenerationError(HPOBenchError, RuntimeError):
    """A generation run cannot proceed (missing extra, unwritable output, incomplete run)."""


class RunMismatchError(GenerationError):
    """An output directory belongs to another run (task, variant, code version, configs...)."""


class ChunkError(GenerationError):
    """A chunk file is missing, truncated, corrupted, or from another run."""
