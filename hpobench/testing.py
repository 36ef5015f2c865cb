"""Synthetic tables for testing optimizers and code built on hpobench.

A real table takes hours of training; these take milliseconds and are exact, so a test can
check what an optimizer did against values it knows. Everything is a pure function of its
arguments (explicit seeds, no global randomness); nothing is downloaded or registered.

>>> from hpobench.testing import make_benchmark
>>> bench = make_benchmark(n_steps=3, seed=1)
>>> r = bench.query(bench.config(0), fidelity=3, seed=0)
>>> bench.id, len(bench.fidelity), r.cost > 0
('synthetic/grid-v1', 3, True)

Use it with the harness (``run_study(make_benchmark(), my_factory, protocol, 0)``) or with the
conformance kit (:func:`hpobench.harness.check_optimizer`, which runs on such tables).

The default landscape: each configuration's final loss is its squared distance (in the unit
cube) to a centre drawn from ``seed``, plus ``1/step`` (learning improves with fidelity) plus
seed noise; ``diverge`` of the configurations are NaN everywhere (diverged runs); the runtime of
a step grows with the first hyperparameter, cumulative over steps. With ``maximize=True`` the
metrics are accuracies (``1 - loss``) and a test-split accuracy is added.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hpobench.benchmark import TabularBenchmark
from hpobench.fidelity import Fidelity
from hpobench.space import Categorical, Int, Ordinal, SearchSpace
from hpobench.table import MetricSpec, Table, TableMeta, reference_runtime, write_table

__all__ = [
    "DEFAULT_SPACE",
    "landscape",
    "make_benchmark",
    "make_meta",
    "make_table",
    "write_benchmark",
]

DEFAULT_SPACE = SearchSpace(
    [
        Ordinal("width", (16, 32, 64, 128)),
        Categorical("act", ("relu", "tanh")),
        Int("depth", 1, 3),
    ]
)
"""A small discrete space (24 configurations): the default of every builder."""

_LOSS_METRICS = {
    "valid_loss": MetricSpec("valid_loss", "minimize", "valid", "validation loss"),
    "test_loss": MetricSpec("test_loss", "minimize", "test", "test loss"),
    "runtime": MetricSpec("runtime", "minimize", "none", "cumulative seconds"),
}
_ACC_METRICS = {
    "valid_acc": MetricSpec("valid_acc", "maximize", "valid", "validation accuracy"),
    "test_acc": MetricSpec("test_acc", "maximize", "test", "test accuracy"),
    "runtime": MetricSpec("runtime", "minimize", "none", "cumulative seconds"),
}


def make_meta(
    *,
    benchmark_id: str = "synthetic/grid-v1",
    space: SearchSpace = DEFAULT_SPACE,
    n_steps: int = 5,
    metrics: Mapping[str, MetricSpec] | None = None,
    objective: str | None = None,
    reported_metric: str | None = None,
    seeds: Sequence[int] = (0, 1, 2, 3),
    tuning_seeds: Sequence[int] = (0, 1),
    test_seeds: Sequence[int] = (2, 3),
    **overrides: Any,
) -> TableMeta:
    """A valid :class:`~hpobench.table.TableMeta` for a synthetic task (epochs ``1..n_steps``).

    ``metrics`` defaults to ``valid_loss`` / ``test_loss`` / ``runtime``; ``objective`` and
    ``reported_metric`` default to its valid- and test-split metrics. Other keywords override
    any field of ``TableMeta``.
    """
    metrics = dict(_LOSS_METRICS if metrics is None else metrics)
    valid = [k for k, m in metrics.items() if m.split in ("valid", "train")]
    test = [k for k, m in metrics.items() if m.split == "test"]
    objective = objective if objective is not None else valid[0]
    kwargs: dict[str, Any] = {
        "id": benchmark_id,
        "description": "synthetic test table (hpobench.testing)",
        "space": space,
        "fidelity": Fidelity("epoch", tuple(range(1, n_steps + 1))),
        "metrics": metrics,
        "objective": objective,
        "reported_metric": reported_metric
        if reported_metric is not None
        else (test[0] if test else objective),
        "seeds": tuple(seeds),
        "tuning_seeds": tuple(tuning_seeds),
        "test_seeds": tuple(test_seeds),
        "dataset": {"name": "synthetic"},
        "generation": {"by": "hpobench.testing"},
        "citation": "none",
        "licence": "CC0-1.0",
    }
    kwargs.update(overrides)
    return TableMeta(**kwargs)


def _configs(
    space: SearchSpace,
    configs: Mapping[str, Sequence[Any]] | None,
    n_configs: int | None,
    seed: int,
) -> dict[str, np.ndarray]:
    if configs is not None:
        return {name: np.asarray(list(configs[name])) for name in space.names}
    if space.is_discrete and n_configs is None:
        grid = list(space.grid())
    else:
        grid = space.sample_many(
            np.random.default_rng(seed), 30 if n_configs is None else n_configs
        )
    return {name: np.asarray([c[name] for c in grid]) for name in space.names}


def landscape(
    space: SearchSpace,
    configs: Mapping[str, np.ndarray],
    *,
    n_seeds: int,
    n_steps: int,
    maximize: bool = False,
    diverge: float = 0.0,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """The default metrics (see the module docstring), each ``[n_configs, n_seeds, n_steps]``."""
    rng = np.random.default_rng(seed)
    n = len(next(iter(configs.values())))
    x = np.stack(
        [np.array([hp.to_unit(v) for v in np.asarray(configs[hp.name]).tolist()]) for hp in space],
        axis=1,
    )
    centre = rng.random(x.shape[1])
    final = ((x - centre) ** 2).sum(axis=1)
    steps = np.arange(1, n_steps + 1, dtype=np.float64)
    noise = 0.02 * rng.standard_normal((n, n_seeds, n_steps))
    loss = final[:, None, None] + 1.0 / steps[None, None, :] + noise
    loss[rng.random(n) < diverge] = np.nan
    per_step = 1.0 + 3.0 * x[:, :1, None] + 0.1 * rng.random((n, n_seeds, n_steps))
    runtime = np.cumsum(np.broadcast_to(per_step, (n, n_seeds, n_steps)), axis=2)
    if maximize:
        return {"valid_acc": 1.0 - loss, "test_acc": 1.0 - loss - 0.01, "runtime": runtime}
    return {"valid_loss": loss, "test_loss": loss + 0.01, "runtime": runtime}


def make_table(
    *,
    benchmark_id: str = "synthetic/grid-v1",
    space: SearchSpace = DEFAULT_SPACE,
    configs: Mapping[str, Sequence[Any]] | None = None,
    n_configs: int | None = None,
    n_steps: int = 5,
    metrics: Mapping[str, Any] | None = None,
    metric_specs: Mapping[str, MetricSpec] | None = None,
    maximize: bool = False,
    diverge: float = 0.0,
    seed: int = 0,
    **meta_overrides: Any,
) -> Table:
    """An in-memory :class:`~hpobench.table.Table`.

    Args:
        configs: hyperparameter columns; default: the full grid of a discrete ``space``, else
            ``n_configs`` (default 30) configurations sampled with ``seed``.
        metrics: your own values, name -> ``[n_configs, n_seeds, n_steps]`` (with a cumulative
            ``runtime``); default: :func:`landscape`.
        metric_specs: their specs (default: losses, or accuracies with ``maximize``).
        meta_overrides: passed to :func:`make_meta` (``seeds``, ``tuning_seeds``, ``objective``...).
    """
    cols = _configs(space, configs, n_configs, seed)
    specs = metric_specs if metric_specs is not None else (_ACC_METRICS if maximize else None)
    meta = make_meta(
        benchmark_id=benchmark_id, space=space, n_steps=n_steps, metrics=specs, **meta_overrides
    )
    n_seeds = len(meta.seeds)
    values = (
        dict(metrics)
        if metrics is not None
        else landscape(
            space,
            cols,
            n_seeds=n_seeds,
            n_steps=n_steps,
            maximize=maximize,
            diverge=diverge,
            seed=seed,
        )
    )
    names = tuple(meta.metrics)
    data = np.stack([np.asarray(values[k], dtype=np.float32) for k in names], axis=-1)
    n = len(next(iter(cols.values())))
    ref = reference_runtime(meta, data[..., names.index(meta.runtime_metric)])
    from dataclasses import replace

    meta = replace(meta, n_configs=n, reference_runtime=ref)
    return Table(meta=meta, configs=cols, data=data, metric_names=names)


def make_benchmark(**kwargs: Any) -> TabularBenchmark:
    """A :class:`~hpobench.benchmark.TabularBenchmark` over :func:`make_table` (same keywords),
    in memory: nothing is written or registered."""
    return TabularBenchmark(make_table(**kwargs))


def write_benchmark(directory: str | Path, **kwargs: Any) -> TabularBenchmark:
    """Write :func:`make_table` (same keywords) as a v1 table directory (``table.parquet`` +
    ``meta.json``) and load it back; register it with ``hpobench.register(id, path=directory)``."""
    table = make_table(**kwargs)
    metrics = {name: table.metric(name) for name in table.metric_names}
    write_table(directory, table.meta, dict(table.configs), metrics)
    return TabularBenchmark.from_directory(directory)
