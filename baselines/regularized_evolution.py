"""Regularized (aging) evolution (Real et al. 2019), asynchronous, at the maximal fidelity.

The population is the ``population_size`` most recently finished evaluations. Until it is full,
``ask`` proposes uniform random configurations; then it draws ``sample_size`` members uniformly,
takes the best and mutates one hyperparameter (a different value of a discrete one, a fresh
uniform draw of a continuous one). The oldest member dies when a new one arrives (aging).
Diverged runs (NaN) count as the worst.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from baselines._validation import BaselineError, check_int, check_space
from hpobench import Categorical, Config, Float, Int, Ordinal, SearchSpace
from hpobench.harness import Evaluation, Problem, Suggestion

__all__ = ["RegularizedEvolution", "make_optimizer"]
__version__ = "1.0"


class RegularizedEvolution:
    def __init__(
        self, problem: Problem, seed: int, *, population_size: int = 20, sample_size: int = 5
    ) -> None:
        check_space(problem.space, "regularized-evolution")
        check_int("regularized-evolution", "population_size", population_size, low=1)
        check_int("regularized-evolution", "sample_size", sample_size, low=1)
        if not sample_size <= population_size:
            raise BaselineError(
                f"`1 <= sample_size <= population_size` must hold, but got {sample_size=}, {population_size=}."
            )
        self.problem = problem
        self.space: SearchSpace = problem.space
        self.rng = np.random.default_rng(seed)
        self.population: deque[tuple[float, Config]] = deque(maxlen=population_size)
        self.population_size = population_size
        self.sample_size = sample_size

    def ask(self) -> Suggestion:
        if len(self.population) < self.population_size:
            return Suggestion(self.space.sample(self.rng))
        idx = self.rng.choice(len(self.population), size=self.sample_size, replace=False)
        parent = min((self.population[int(i)] for i in idx), key=lambda m: m[0])[1]
        return Suggestion(self._mutate(parent))

    def _mutate(self, parent: Config) -> Config:
        child = dict(parent)
        hp = self.space.hyperparameters[int(self.rng.integers(len(self.space)))]
        current = parent[hp.name]
        value: Any
        if isinstance(hp, (Ordinal, Categorical)):
            values = hp.values if isinstance(hp, Ordinal) else hp.choices
            others = [v for v in values if v != current]
            value = others[int(self.rng.integers(len(others)))] if others else current
        elif isinstance(hp, Int) and hp.high - hp.low < 64:
            others_i = [v for v in range(hp.low, hp.high + 1) if v != current]
            value = others_i[int(self.rng.integers(len(others_i)))]
        else:
            assert isinstance(hp, (Int, Float))
            value = hp.from_unit(float(self.rng.random()))
        child[hp.name] = value
        return child

    def tell(self, suggestion: Suggestion, evaluation: Evaluation) -> None:
        self.population.append((self.problem.loss(evaluation.value), dict(evaluation.config)))


def make_optimizer(
    problem: Problem, seed: int, *, population_size: int = 20, sample_size: int = 5
) -> RegularizedEvolution:
    """Regularized evolution with the paper's tournament selection and aging."""
    return RegularizedEvolution(
        problem, seed, population_size=population_size, sample_size=sample_size
    )
