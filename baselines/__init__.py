"""Baseline optimizers, written only against hpobench's public API, exactly as a user writes one.

Every baseline is a module with a factory ``make_optimizer(problem, seed, **settings)`` and is
registered by name (``baselines/_registry.py``), so it runs as

    hpobench run --optimizer hyperband --protocol mf-serial-v2 --out runs/hb
    hpobench run --optimizer baselines.hyperband:make_optimizer ...     # the same, by module
    hpobench baselines                                                   # names, defaults, papers

Each factory checks the problem and its settings at construction and raises a
:class:`BaselineError` (an ``HPOBenchError``) for what it cannot do. See docs/baselines.md.
"""

from baselines._registry import (
    BaselineNotFoundError,
    BaselineSpec,
    get_baseline,
    list_baselines,
    make_factory,
)
from baselines._validation import BaselineError

BASELINES: dict[str, str] = {name: get_baseline(name).entry_point for name in list_baselines()}
"""Baseline name -> ``"module:attr"`` spec for ``hpobench run --optimizer`` / ``run_suite``."""

__all__ = [
    "BASELINES",
    "BaselineError",
    "BaselineNotFoundError",
    "BaselineSpec",
    "get_baseline",
    "list_baselines",
    "make_factory",
]
