"""Random search (Bergstra & Bengio 2012): uniform configurations at the maximal fidelity.

Configurations are drawn column-wise in chunks (one numpy call per hyperparameter per 256
configurations) from the same distributions as ``SearchSpace.sample``: uniform over the values
of ordinal, categorical and integer hyperparameters, uniform (log-uniform on a log scale) for
floats. It never waits: ``ask`` always proposes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from baselines._validation import check_int, check_space
from hpobench import Categorical, Float, Int, Ordinal, SearchSpace
from hpobench.harness import Evaluation, Problem, Suggestion

__all__ = ["RandomSearch", "make_optimizer"]
__version__ = "1.0"


def _column_sampler(hp: Any) -> Callable[[np.random.Generator, int], list[Any]]:
    if isinstance(hp, (Ordinal, Categorical)):
        values = hp.values if isinstance(hp, Ordinal) else hp.choices
        return lambda rng, n: [values[i] for i in rng.integers(len(values), size=n).tolist()]
    if isinstance(hp, Int) and not hp.log:
        return lambda rng, n: rng.integers(hp.low, hp.high + 1, size=n).tolist()
    assert isinstance(hp, (Int, Float))
    return lambda rng, n: [hp.from_unit(u) for u in rng.random(n).tolist()]


class RandomSearch:
    """Uniform random configurations at ``problem.fidelity.max``."""

    def __init__(self, space: SearchSpace, seed: int, *, chunk: int = 256) -> None:
        check_space(space, "random-search")
        check_int("random-search", "chunk", chunk, low=1)
        self._rng = np.random.default_rng(seed)
        self._names = space.names
        self._samplers = [_column_sampler(hp) for hp in space]
        self._chunk = chunk
        self._buffer: list[dict[str, Any]] = []

    def _refill(self) -> None:
        cols = [sample(self._rng, self._chunk) for sample in self._samplers]
        names = self._names
        self._buffer = [dict(zip(names, row, strict=True)) for row in zip(*cols, strict=True)]
        self._buffer.reverse()

    def ask(self) -> Suggestion:
        if not self._buffer:
            self._refill()
        return Suggestion(self._buffer.pop())

    def tell(self, suggestion: Suggestion, evaluation: Evaluation) -> None:
        pass


def make_optimizer(problem: Problem, seed: int, *, chunk: int = 256) -> RandomSearch:
    """Random search; ``chunk`` configurations are drawn per numpy call (same draws either way
    for a given chunk size)."""
    return RandomSearch(problem.space, seed, chunk=chunk)
