"""The simulator's view of a benchmark: fast lookups it may use and the optimizer may not.

An oracle answers three questions for one task: the objective, curve and cumulative cost of
``(config, tuning seed, fidelity)``; the post-hoc test score of a configuration (the reported
metric averaged over the test seeds at full fidelity); and the task's reference runtime (median
full-fidelity runtime over all configurations and tuning seeds, the unit of the time budget).

Tabular benchmarks are answered straight from the table's float32 array. Their configurations
are looked up exactly when the table stores every configuration of the space; otherwise (a
continuous space, i.e. sampled LCBench-style configurations, or a sub-grid) the oracle queries
through ``TabularBenchmark(table, off_table="nearest")`` and the trajectory records the snapped
``config_id``. Any other :class:`~hpobench.benchmark.Benchmark` (a surrogate) is answered
through ``query``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from hpobench._errors import ProtocolError
from hpobench.benchmark import Benchmark, TabularBenchmark
from hpobench.space import Float, Int

__all__ = ["Oracle", "make_oracle"]

_REFERENCE_CACHE: dict[tuple[str, str, tuple[int, ...]], float] = {}


class Oracle:
    """Lookups for one task under one objective / reported metric (see the module docstring)."""

    bench: Benchmark
    lookup: str  # "exact", "nearest" or "query"
    objective: str
    reported_metric: str
    direction: str
    row: Callable[[Mapping[str, Any]], int]
    """Table row of a config (``ConfigError`` if invalid); ``-1`` without a table."""

    def __init__(self, bench: Benchmark, *, objective: str, reported_metric: str) -> None:
        self.bench = bench
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
        self.objective = objective
        self.reported_metric = reported_metric
        self.direction = metrics[objective].direction
        self.fidelity_values = bench.fidelity.values
        self.tuning_seeds = bench.tuning_seeds
        self.test_seeds = bench.test_seeds

    def lookup_row(
        self, row: int, config: Mapping[str, Any], seed_index: int, fidx: int
    ) -> tuple[float, float, np.ndarray]:
        """``(objective, cumulative cost, objective curve up to fidx)`` on tuning seed ``seed_index``."""
        raise NotImplementedError

    def test_score(self, row: int, config: Mapping[str, Any]) -> float:
        raise NotImplementedError

    def reference_runtime(self) -> float:
        raise NotImplementedError

    def stored_configs(self, rows: np.ndarray) -> dict[str, np.ndarray] | None:
        """Config columns of ``rows`` from the table when lookups are exact, else ``None``."""
        return None


def _covers_space(bench: TabularBenchmark) -> bool:
    space = bench.space
    if any(isinstance(hp, Float) for hp in space):
        return False
    size = 1
    for hp in space:
        size *= (hp.high - hp.low + 1) if isinstance(hp, Int) else len(hp.grid())
        if size > bench.table.n_configs:
            return False
    return size == bench.table.n_configs


class TabularOracle(Oracle):
    def __init__(self, bench: TabularBenchmark, *, objective: str, reported_metric: str) -> None:
        super().__init__(bench, objective=objective, reported_metric=reported_metric)
        missing = bench.table.meta.extra.get("missing")
        if isinstance(missing, Mapping) and missing.get("n_missing_cells"):
            raise ProtocolError(  # docs/tables.md: tables with NaN cells are for queries only
                f"{bench.id}: the harness needs every (configuration, seed, step) cell, but this "
                f"table was imported with missing='nan' and lacks {missing['n_missing_cells']} "
                "cells; re-import it with missing='drop' for protocol runs."
            )
        if _covers_space(bench):
            self.lookup = "exact"
            self._bench = bench
        else:
            self.lookup = "nearest"
            self._bench = (
                bench
                if bench.off_table == "nearest"
                else TabularBenchmark(bench.table, off_table="nearest")
            )
        table = bench.table
        self.table = table
        self._obj = table.metric(objective)  # [n_configs, n_seeds, n_steps] view
        self._cost = table.metric(table.meta.runtime_metric)
        self._rep = table.metric(reported_metric)
        self._tune_pos = [table.seed_index(s) for s in self.tuning_seeds]
        self._test_pos = np.asarray([table.seed_index(s) for s in self.test_seeds], dtype=np.int64)
        self._scores: dict[int, float] = {}
        self.row = self._bench.index.row if self.lookup == "exact" else self._bench.config_id

    def lookup_row(
        self, row: int, config: Mapping[str, Any], seed_index: int, fidx: int
    ) -> tuple[float, float, np.ndarray]:
        s = self._tune_pos[seed_index]
        return (
            self._obj.item(row, s, fidx),
            self._cost.item(row, s, fidx),
            self._obj[row, s, : fidx + 1],
        )

    def test_score(self, row: int, config: Mapping[str, Any]) -> float:
        score = self._scores.get(row)
        if score is None:
            vals = self._rep[row, self._test_pos, -1].astype(np.float64)
            score = self._scores[row] = float(vals.mean())
        return score

    def reference_runtime(self) -> float:
        key = (self.bench.id, self.table.meta.sha256, tuple(self._tune_pos))
        ref = _REFERENCE_CACHE.get(key)
        if ref is None:
            ref = float(np.nanmedian(self._cost[:, self._tune_pos, -1].astype(np.float64)))
            _REFERENCE_CACHE[key] = ref
        if not math.isfinite(ref) or ref <= 0:
            raise ProtocolError(
                f"{self.bench.id}: the median full-fidelity runtime must be a positive number to set "
                f"the time budget, but the table gives {ref!r}."
            )
        return ref

    def stored_configs(self, rows: np.ndarray) -> dict[str, np.ndarray] | None:
        if self.lookup != "exact":
            return None
        return {name: col[rows] for name, col in self.table.configs.items()}


class QueryOracle(Oracle):
    """Any benchmark, answered through ``query`` (for surrogates; slower)."""

    lookup = "query"

    def __init__(self, bench: Benchmark, *, objective: str, reported_metric: str) -> None:
        super().__init__(bench, objective=objective, reported_metric=reported_metric)
        self.row = self._validate

    def _validate(self, config: Mapping[str, Any]) -> int:
        self.bench.space.validate(config)
        return -1

    def lookup_row(
        self, row: int, config: Mapping[str, Any], seed_index: int, fidx: int
    ) -> tuple[float, float, np.ndarray]:
        r = self.bench.query(
            config, fidelity=self.fidelity_values[fidx], seed=self.tuning_seeds[seed_index]
        )
        curve = np.asarray(r.curve[self.objective], dtype=np.float32)
        curve.flags.writeable = False
        return float(r.metrics[self.objective]), float(r.cost), curve

    def test_score(self, row: int, config: Mapping[str, Any]) -> float:
        f = self.bench.fidelity.max
        vals = [
            self.bench.query(config, fidelity=f, seed=s).metrics[self.reported_metric]
            for s in self.test_seeds
        ]
        return float(np.mean(np.asarray(vals, dtype=np.float64)))

    def reference_runtime(self) -> float:
        meta_ref = self.bench.meta.extra.get("reference_runtime") if self.bench.meta.extra else None
        if isinstance(meta_ref, (int, float)) and meta_ref > 0:
            return float(meta_ref)
        rng = np.random.default_rng(0)
        configs = self.bench.space.sample_many(rng, 256)
        f = self.bench.fidelity.max
        costs = [
            self.bench.query(c, fidelity=f, seed=s).cost for c in configs for s in self.tuning_seeds
        ]
        return float(np.nanmedian(np.asarray(costs, dtype=np.float64)))


def make_oracle(bench: Benchmark, *, objective: str | None, reported_metric: str | None) -> Oracle:
    obj = objective if objective is not None else bench.objective
    rep = reported_metric if reported_metric is not None else bench.reported_metric
    if isinstance(bench, TabularBenchmark):
        return TabularOracle(bench, objective=obj, reported_metric=rep)
    return QueryOracle(bench, objective=obj, reported_metric=rep)
