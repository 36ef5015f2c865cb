"""Checks every baseline runs once, in its constructor: the space, the fidelities, the settings.

A baseline refuses what it cannot do *before* the run starts (a clear :class:`BaselineError`
from the factory), never halfway through it. Messages say what must hold and what came, like
the rest of hpobench.
"""

from __future__ import annotations

import math
from typing import Any

from hpobench import Categorical, Float, HPOBenchError, Int, Ordinal, SearchSpace
from hpobench.harness import Problem

__all__ = [
    "BaselineError",
    "check_choice",
    "check_int",
    "check_real",
    "check_space",
    "require_fidelities",
]

_KNOWN = (Float, Int, Ordinal, Categorical)


class BaselineError(HPOBenchError, ValueError):
    """A baseline cannot run on this problem or with these settings (raised at construction)."""


def check_space(space: SearchSpace, method: str) -> None:
    """Every hyperparameter must be one of the four public types, without conditions."""
    if not isinstance(space, SearchSpace):
        raise BaselineError(
            f"{method}: problem.space must be a hpobench.SearchSpace, but got {type(space).__name__}."
        )
    conditions = getattr(space, "conditions", None)
    if conditions:
        raise BaselineError(
            f"{method}: the search space must have no conditions (conditional hyperparameters "
            f"are not supported), but it has {len(conditions)}."
        )
    for hp in space:
        if not isinstance(hp, _KNOWN):
            raise BaselineError(
                f"{method}: every hyperparameter must be Float, Int, Ordinal or Categorical, but "
                f"{getattr(hp, 'name', hp)!r} is a {type(hp).__name__}."
            )


def require_fidelities(problem: Problem, method: str) -> None:
    """A multi-fidelity method needs at least two fidelity values to choose among."""
    values = problem.fidelity.values
    if len(values) < 2:
        raise BaselineError(
            f"{method} is a multi-fidelity method: the problem must have at least 2 fidelity "
            f"values, but {problem.fidelity.name!r} has {list(values)}. Use a single-fidelity "
            "baseline (e.g. random-search, regularized-evolution) on this task."
        )


def check_real(
    method: str,
    name: str,
    value: Any,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a float inside the interval, else ``BaselineError`` naming the setting."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        above = value > low if low_open else value >= low
        below = value < high if high_open else value <= high
        ok = above and below
    if not ok:
        lo = f"{low} {'<' if low_open else '<='} " if math.isfinite(low) else ""
        hi = f" {'<' if high_open else '<='} {high}" if math.isfinite(high) else ""
        raise BaselineError(
            f"{method}: `{lo}{name}{hi}` (a finite number) must hold, but got {name}={value!r}."
        )
    return float(value)


def check_int(method: str, name: str, value: Any, *, low: int = 0, high: float = math.inf) -> int:
    """``value`` as an int with ``low <= value <= high``, else ``BaselineError``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        hi = f" <= {int(high)}" if math.isfinite(high) else ""
        raise BaselineError(
            f"{method}: `{low} <= {name}{hi}` (an integer) must hold, but got {name}={value!r}."
        )
    return value


def check_choice(method: str, name: str, value: Any, choices: tuple[Any, ...]) -> Any:
    """``value`` must be one of ``choices``."""
    if value not in choices:
        raise BaselineError(f"{method}: {name} must be one of {list(choices)}, but got {value!r}.")
    return value
