"""The one exception hierarchy of hpobench.

Every error raised on purpose by the library is an :class:`HPOBenchError`. Subclasses also
inherit from the closest built-in exception (``ValueError``, ``KeyError``, ...) so that callers
who catch built-ins keep working. Messages say what must hold and what arrived.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "BenchmarkNotFoundError",
    "ConfigError",
    "DatasetUnavailableError",
    "FidelityError",
    "HPOBenchError",
    "OptimizerError",
    "ProtocolError",
    "SeedError",
    "SurrogateError",
    "TableError",
    "TableIntegrityError",
    "TrajectoryError",
    "did_you_mean",
]


class HPOBenchError(Exception):
    """Base class of every error hpobench raises on purpose."""


class ConfigError(HPOBenchError, ValueError):
    """A configuration does not fit the search space (names, types, ranges, grid)."""


class FidelityError(HPOBenchError, ValueError):
    """A fidelity value is not one the benchmark answers for."""


class SeedError(HPOBenchError, ValueError):
    """A training seed is not in the table (or not allowed in this context)."""


class TableError(HPOBenchError, ValueError):
    """A table file is missing, malformed, or does not follow the v1 format."""


class TableIntegrityError(TableError):
    """A table file's checksum or schema does not match its metadata."""


class SurrogateError(HPOBenchError, ValueError):
    """A surrogate file is missing, truncated, of another format version, or for another table."""


class BenchmarkNotFoundError(HPOBenchError, KeyError):
    """No benchmark is registered under that id."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class ProtocolError(HPOBenchError, ValueError):
    """A protocol, suite or study setting is invalid."""


class OptimizerError(HPOBenchError, RuntimeError):
    """A user optimizer broke its contract (bad suggestion, exception, timeout)."""


class TrajectoryError(HPOBenchError, ValueError):
    """A trajectory file is unreadable, corrupted, or not of this format version."""


class DatasetUnavailableError(HPOBenchError, RuntimeError):
    """A dataset needed for table generation cannot be loaded (say which package to install)."""


def did_you_mean(name: str, candidates: Iterable[str], n: int = 3) -> str:
    """Return ``" Did you mean 'x'?"`` (or ``""``) for a misspelled ``name``."""
    matches = difflib.get_close_matches(str(name), list(candidates), n=n, cutoff=0.5)
    if not matches:
        return ""
    if len(matches) == 1:
        return f" Did you mean {matches[0]!r}?"
    return " Did you mean one of " + ", ".join(repr(m) for m in matches) + "?"
