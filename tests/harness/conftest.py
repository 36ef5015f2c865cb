"""Fixtures of the harness tests: small synthetic tables with known costs and seed markers.

Values are built so that leaks are visible: on test seeds the objective is ``>= 1000`` and the
test-split metric is ``>= 5000``; on tuning seeds every value is below 10. Runtime is
``step_cost * (step + 1)`` (cumulative), identical for every configuration and seed unless
``cost_by_config`` is set, so budgets and resume costs are exact.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from hpobench import registry
from hpobench.harness import Protocol, Suggestion, Suite
from hpobench.space import Categorical, Float, Int, Ordinal, SearchSpace
from hpobench.table import MetricSpec
from hpobench.testing import write_benchmark

GRID = SearchSpace(
    [
        Ordinal("width", (16, 32, 64, 128)),
        Categorical("act", ("relu", "tanh")),
        Int("depth", 1, 3),
    ]
)
CONTINUOUS = SearchSpace([Float("lr", 1e-4, 1.0, log=True), Ordinal("width", (16, 32, 64))])
METRICS = {
    "valid_loss": MetricSpec("valid_loss", "minimize", "valid"),
    "test_loss": MetricSpec("test_loss", "minimize", "test"),
    "runtime": MetricSpec("runtime", "minimize", "none"),
}
TUNING, TEST = (0, 1), (2, 3)
_ids = itertools.count()


def write_mf_table(
    directory: Path,
    benchmark_id: str,
    *,
    n_steps: int = 5,
    continuous: bool = False,
    step_cost: float = 10.0,
    cost_by_config: bool = False,
    nan_configs: int = 0,
) -> Path:
    space = CONTINUOUS if continuous else GRID
    sampled = space.sample_many(np.random.default_rng(0), 30) if continuous else list(space.grid())
    configs = {n: [c[n] for c in sampled] for n in space.names}
    n = len(sampled)
    rng = np.random.default_rng(1)
    base = rng.random(n)
    steps = np.arange(n_steps)
    seed_arr = np.arange(4)
    valid = (
        base[:, None, None]
        + 1.0 / (steps[None, None, :] + 1)
        + 0.01 * seed_arr[None, :, None]
        + np.where(np.isin(seed_arr, TEST), 1000.0, 0.0)[None, :, None]
    )
    if nan_configs:
        valid[:nan_configs, :, :] = np.nan
    per_config = (1.0 + np.arange(n) % 3) if cost_by_config else np.ones(n)
    runtime = (
        step_cost * per_config[:, None, None] * (steps[None, None, :] + 1) * np.ones((1, 4, 1))
    )
    metrics = {"valid_loss": valid, "test_loss": valid + 5000.0, "runtime": runtime}
    write_benchmark(
        directory,
        benchmark_id=benchmark_id,
        space=space,
        configs=configs,
        n_steps=n_steps,
        metrics=metrics,
        metric_specs=METRICS,
        seeds=(0, 1, 2, 3),
        tuning_seeds=TUNING,
        test_seeds=TEST,
        generation={"by": "tests/harness/conftest.py"},
    )
    return directory


def protocol(**kw: Any) -> Protocol:
    """A test protocol: by default 1 worker, 10 full evaluations of time, resume allowed."""
    d: dict[str, Any] = {
        "name": "test-v1",
        "suite": Suite(name="synth", patterns=("synth/*",)),
        "n_workers": 1,
        "n_repetitions": 2,
        "budget_base": 10.0,
        "budget_per_sqrt_dim": 0.0,
        "max_evaluations_factor": 100.0,
        "allow_resume": True,
    }
    d.update(kw)
    return Protocol(**d)


class Scripted:
    """Proposes the given suggestions in order (callables get the optimizer), then ``None``."""

    def __init__(self, script: list[Any]) -> None:
        self.script = list(script)
        self.told: list[tuple[Suggestion, Any]] = []

    def ask(self) -> Suggestion | None:
        if not self.script:
            return None
        item = self.script.pop(0)
        return item(self) if callable(item) else item

    def tell(self, suggestion: Suggestion, evaluation: Any) -> None:
        self.told.append((suggestion, evaluation))


class Random:
    """Seeded random search; records everything it is told."""

    def __init__(self, problem: Any, seed: int, fidelity: Any = None) -> None:
        self.problem = problem
        self.rng = np.random.default_rng(seed)
        self.fidelity = fidelity
        self.told: list[Any] = []

    def ask(self) -> Suggestion:
        f = self.fidelity
        if f == "random":
            f = self.problem.fidelity.values[int(self.rng.integers(len(self.problem.fidelity)))]
        return Suggestion(self.problem.space.sample(self.rng), fidelity=f)

    def tell(self, suggestion: Suggestion, evaluation: Any) -> None:
        self.told.append(evaluation)


@pytest.fixture
def mf(tmp_path: Path, user_registrations: None) -> SimpleNamespace:
    """Helpers; ``mf.table(**kw)`` writes and registers a table and returns its id."""

    def table(family: str = "synth", **kw: Any) -> str:
        k = next(_ids)
        bid = f"{family}/t{k}-v1"
        write_mf_table(tmp_path / f"t{k}", bid, **kw)
        registry.register(bid, path=tmp_path / f"t{k}")
        return bid

    return SimpleNamespace(
        table=table,
        protocol=protocol,
        Scripted=Scripted,
        Random=Random,
        GRID=GRID,
        CONTINUOUS=CONTINUOUS,
        write_mf_table=write_mf_table,
    )


def scripted_factory(
    script: list[Any], holder: list[Any] | None = None
) -> Callable[[Any, int], Scripted]:
    def factory(problem: Any, seed: int) -> Scripted:
        opt = Scripted(script)
        if holder is not None:
            holder.append(opt)
        return opt

    return factory


@pytest.fixture
def scripted() -> Callable[..., Callable[[Any, int], Scripted]]:
    return scripted_factory
