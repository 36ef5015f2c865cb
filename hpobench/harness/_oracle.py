"""The simulator's view of a benchmark, through the :class:`~hpobench.benchmark.Benchmark`
interface only (so a table and a surrogate of a task run the same way).

The simulator asks ``bench.query_curve`` for the objective, objective curve and cumulative cost of
``(config, tuning seed, fidelity)``; the oracle checks the objective and reported metric once and
answers the rest: the post-hoc test score of a
configuration (:func:`score_on_test_seeds`); and the task's reference runtime (the unit of the
time budget, ``bench.reference_runtime``, stored in meta.json). A configuration the backend does
not store is answered as ``bench.query`` answers it (a table: the nearest stored configuration,
recorded as ``config_id``).

What it hands on to the optimizer is sealed: the curve is an owned float32 copy, never a view of
table memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from hpobench._errors import HPOBenchError, ProtocolError
from hpobench.benchmark import Benchmark

__all__ = ["Oracle", "make_oracle", "score_on_test_seeds"]


def score_on_test_seeds(
    bench: Benchmark, config: Mapping[str, Any], *, reported_metric: str | None = None
) -> float:
    """The test score of ``config``: ``reported_metric`` (default: the task's) averaged over the
    task's test seeds at full fidelity. This is how a run's incumbent is scored.

    >>> import hpobench
    >>> b = hpobench.make("fcnet/protein-v1")
    >>> round(score_on_test_seeds(b, b.table.config(0)), 6) > 0
    True
    """
    metric = bench.reported_metric if reported_metric is None else reported_metric
    if metric not in bench.metrics:
        raise ProtocolError(
            f"{bench.id}: the reported metric must be one of {list(bench.metrics)}, but got "
            f"{metric!r}."
        )
    f = bench.fidelity.max
    vals = [bench.query(config, fidelity=f, seed=s).metrics[metric] for s in bench.test_seeds]
    return float(np.mean(np.asarray(vals, dtype=np.float64)))


class Oracle:
    """Lookups for one task under one objective / reported metric (see the module docstring)."""

    def __init__(self, bench: Benchmark, *, objective: str, reported_metric: str) -> None:
        metrics = bench.metrics
        for what, name in (("objective", objective), ("reported metric", reported_metric)):
            if name not in metrics:
                raise ProtocolError(
                    f"{bench.id}: the {what} must be one of the table's metrics {list(metrics)}, "
                    f"but the protocol names {name!r}."
                )
        if metrics[objective].split == "test":
            raise ProtocolError(
                f"{bench.id}: the objective must not be a test-split metric (the optimizer would see "
                f"test data), but {objective!r} has split 'test'."
            )
        if not bench.tuning_seeds or not bench.test_seeds:
            raise ProtocolError(
                f"{bench.id}: a study needs at least one tuning seed and one test seed, but the table "
                f"declares tuning={list(bench.tuning_seeds)}, test={list(bench.test_seeds)}."
            )
        self.bench = bench
        self.backend = bench.backend
        self.objective = objective
        self.reported_metric = reported_metric
        self.direction = metrics[objective].direction
        self.fidelity_values = bench.fidelity.values
        self.tuning_seeds = bench.tuning_seeds
        self.test_seeds = bench.test_seeds
        missing = bench.meta.extra.get("missing")
        if isinstance(missing, Mapping) and missing.get("n_missing_cells"):
            raise ProtocolError(  # docs/tables.md: tables with NaN cells are for queries only
                f"{bench.id}: the harness needs every (configuration, seed, step) cell, but this "
                f"table was imported with missing='nan' and lacks {missing['n_missing_cells']} "
                "cells; re-import it with missing='drop' for protocol runs."
            )
        self._scores: dict[int, float] = {}

    def test_score(self, config_id: int, config: Mapping[str, Any]) -> float:
        """:func:`score_on_test_seeds` of ``config`` (cached per stored configuration)."""
        if config_id < 0:
            return score_on_test_seeds(self.bench, config, reported_metric=self.reported_metric)
        score = self._scores.get(config_id)
        if score is None:
            score = self._scores[config_id] = score_on_test_seeds(
                self.bench, config, reported_metric=self.reported_metric
            )
        return score

    def reference_runtime(self) -> float:
        try:
            return self.bench.reference_runtime
        except HPOBenchError as e:
            raise ProtocolError(f"cannot set the time budget: {e}") from None


def make_oracle(bench: Benchmark, *, objective: str | None, reported_metric: str | None) -> Oracle:
    obj = objective if objective is not None else bench.objective
    rep = reported_metric if reported_metric is not None else bench.reported_metric
    return Oracle(bench, objective=obj, reported_metric=rep)
