"""DEHB (Awad, Mallik & Hutter 2021): Hyperband whose rungs are filled by differential evolution,
one subpopulation per fidelity.

The schedule, synchronous rungs, the mapping onto the fidelity grid and the ``info`` record are
those of :mod:`baselines.hyperband`. What a rung evaluates follows the paper (and the ``dehb``
package) with its defaults, ``rand1`` mutation with ``mutation_factor = 0.5``, binomial crossover
with ``crossover_prob = 0.5``, ``eta = 3``:

* each rung fidelity ``b`` keeps a subpopulation of vectors in the unit cube, as large as the
  largest rung at ``b`` in any bracket, initialised uniformly at random, fitness ``inf``;
* during the first Hyperband iteration (the first ``s_max + 1`` brackets), rung ``i > 0`` promotes
  the best ``n_i`` of the previous rung, as successive halving does (resuming their trials);
* otherwise every evaluation is a DE trial: the next target of the subpopulation at ``b_i``
  (taken in turn), a mutant ``a + F * (b - c)`` of three distinct parents drawn from the parent
  pool, binomial crossover with the target (at least one coordinate from the mutant),
  coordinates outside [0, 1] redrawn uniformly. The parent pool of rung 0 is its own
  subpopulation; of rung ``i > 0``, the best ``n_i`` of the subpopulation one fidelity below
  (topped up from all subpopulations when it has fewer than three members, and with uniform
  random vectors when even all of them have fewer);
* selection: a result replaces its target when its loss is not worse.

Vectors decode to configurations with ``SearchSpace.decode`` (a categorical's interval of the
unit line picks its choice). DE trials are new configurations, so only promotions resume.

Where the ``dehb`` package (0.1.2) differs, measured against it in docs/baselines.md
("Multi-fidelity methods vs their reference libraries"): its bracket sizes are
``floor((s_max + 1) / (s + 1)) * eta**s`` (3 instead of Hyperband's 5 in bracket ``s = 1`` when
``s_max = 2``; ours are Li et al.'s); it tops up a parent pool of fewer than three with fresh
``rand1`` mutants of the global population rather than with members of it; its initial
vectors put a categorical value at the left edge of its interval (``index / n``) rather than
uniformly inside it; and it forces a crossover coordinate only when none crossed. During the
first iteration it promotes from the whole lower subpopulation (skipping vectors already at the
higher fidelity), not only from the previous rung.
"""

from __future__ import annotations

import numpy as np

from baselines._validation import check_real
from baselines.hyperband import Bracket, Done, Job, SynchronousHyperband
from hpobench.harness import Evaluation, Problem

__all__ = ["DEHB", "make_optimizer"]
__version__ = "1.0"


class DEHB(SynchronousHyperband):
    method = "dehb"

    def __init__(
        self,
        problem: Problem,
        seed: int,
        *,
        eta: float = 3.0,
        min_fidelity: int | float | None = None,
        mutation_factor: float = 0.5,
        crossover_prob: float = 0.5,
    ) -> None:
        super().__init__(problem, seed, eta=eta, min_fidelity=min_fidelity)
        m = self.method
        self.F = check_real(m, "mutation_factor", mutation_factor, low=0.0, high=2.0, low_open=True)
        self.CR = check_real(m, "crossover_prob", crossover_prob, low=0.0, high=1.0)
        self.d = len(problem.space)
        sizes: dict[int | float, int] = {}
        for bracket, fids in zip(self.schedule, self.rung_fidelities, strict=True):
            for n, f in zip(bracket.sizes, fids, strict=True):
                sizes[f] = max(sizes.get(f, 0), n)
        self.fidelities = sorted(sizes)
        self.pop = {f: self.rng.random((n, self.d)) for f, n in sorted(sizes.items())}
        self.fit = {f: np.full(n, np.inf) for f, n in sorted(sizes.items())}
        self.next_target = dict.fromkeys(self.fidelities, 0)
        self._brackets_started = 0

    def rung_jobs(self, bracket: Bracket, rung: int, previous: list[Done]) -> list[Job]:
        if rung == 0:
            self._brackets_started += 1
        first_iteration = self._brackets_started <= len(self.schedule)
        if rung > 0 and first_iteration:
            jobs = super().rung_jobs(bracket, rung, previous)
            return [Job(j.config, j.resume, (self._target(self._fid(rung)), j.payload[1]))
                    for j in jobs]  # fmt: skip
        f = self._fid(rung)
        pool = self._parent_pool(rung, bracket.sizes[rung])
        jobs = []
        for _ in range(bracket.sizes[rung]):
            target = self._target(f)
            vector = self._trial(self.pop[f][target], pool)
            jobs.append(Job(self.problem.space.decode(vector), None, (target, vector)))
        return jobs

    def _fid(self, rung: int) -> int | float:
        return self.rung_fidelities[self._bracket][rung]

    def _target(self, f: int | float) -> int:
        t = self.next_target[f]
        self.next_target[f] = (t + 1) % len(self.pop[f])
        return t

    def _parent_pool(self, rung: int, n: int) -> np.ndarray:
        if rung == 0:
            pool = self.pop[self._fid(0)]
        else:
            lower = self._fid(rung - 1)
            order = np.argsort(self.fit[lower], kind="stable")
            pool = self.pop[lower][order[:n]]
        if len(pool) < 3:
            everyone = np.concatenate([self.pop[f] for f in self.fidelities])
            n_extra = min(3 - len(pool), len(everyone))
            extra = everyone[self.rng.choice(len(everyone), size=n_extra, replace=False)]
            pool = np.concatenate([pool, extra])
        if len(pool) < 3:  # a schedule with fewer than three individuals in all: random parents
            pool = np.concatenate([pool, self.rng.random((3 - len(pool), self.d))])
        return pool

    def _trial(self, target: np.ndarray, pool: np.ndarray) -> np.ndarray:
        a, b, c = pool[self.rng.choice(len(pool), size=3, replace=False)]
        mutant = a + self.F * (b - c)
        cross = self.rng.random(self.d) < self.CR
        cross[self.rng.integers(self.d)] = True
        trial = np.where(cross, mutant, target)
        out = (trial < 0.0) | (trial > 1.0)
        trial[out] = self.rng.random(int(out.sum()))
        return trial

    def observe(self, job: Job, evaluation: Evaluation, loss: float) -> None:
        target, vector = job.payload  # every DEHB job carries its target and vector
        f = evaluation.fidelity
        if loss <= self.fit[f][target]:
            self.pop[f][target] = vector
            self.fit[f][target] = loss


def make_optimizer(
    problem: Problem,
    seed: int,
    *,
    eta: float = 3.0,
    min_fidelity: int | float | None = None,
    mutation_factor: float = 0.5,
    crossover_prob: float = 0.5,
) -> DEHB:
    """DEHB with the defaults of Awad et al. (2021) and the ``dehb`` package."""
    return DEHB(
        problem,
        seed,
        eta=eta,
        min_fidelity=min_fidelity,
        mutation_factor=mutation_factor,
        crossover_prob=crossover_prob,
    )
