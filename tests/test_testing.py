"""hpobench.testing: synthetic tables users (and these tests) build optimizers' tests on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hpobench import ProtocolError, TabularBenchmark
from hpobench.harness import Protocol, Suggestion, Suite, check_optimizer, run_study
from hpobench.space import Float, Ordinal, SearchSpace
from hpobench.testing import DEFAULT_SPACE, make_benchmark, make_table, write_benchmark

PROTOCOL = Protocol(
    name="testing-v1",
    suite=Suite(name="synthetic", patterns=("synthetic/*",)),
    n_workers=2,
    n_repetitions=1,
    budget_base=10.0,
    budget_per_sqrt_dim=0.0,
    max_evaluations_factor=100.0,
    allow_resume=True,
)


class RandomSearch:
    def __init__(self, problem, seed):  # type: ignore[no-untyped-def]
        self.space, self.rng = problem.space, np.random.default_rng(seed)

    def ask(self) -> Suggestion:
        return Suggestion(self.space.sample(self.rng))

    def tell(self, suggestion, evaluation):  # type: ignore[no-untyped-def]
        pass


def test_same_arguments_same_table() -> None:
    a, b = make_table(seed=3), make_table(seed=3)
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.array_equal(a.data, make_table(seed=4).data, equal_nan=True)
    assert a.n_configs == len(list(DEFAULT_SPACE.grid())) and a.meta.reference_runtime > 0


def test_a_benchmark_runs_in_the_harness() -> None:
    bench = make_benchmark(maximize=True, diverge=0.1)
    assert isinstance(bench, TabularBenchmark) and bench.direction == "maximize"
    traj = run_study(bench, RandomSearch, PROTOCOL, 0)
    assert traj.meta.n_evaluations > 5 and traj.meta.backend_kind == "table"
    assert traj.digest() == run_study(make_benchmark(maximize=True, diverge=0.1),
                                      RandomSearch, PROTOCOL, 0).digest()  # fmt: skip
    check_optimizer(RandomSearch)


def test_continuous_space_and_custom_metrics(tmp_path: Path) -> None:
    space = SearchSpace([Float("lr", 1e-3, 1.0, log=True), Ordinal("w", (8, 16))])
    bench = make_benchmark(space=space, n_configs=12, n_steps=2, seed=1)
    assert bench.table.n_configs == 12 and bench.index.kind == "hash"
    runtime = np.ones((4, 4, 2)) * np.arange(1, 3)
    loss = np.zeros((4, 4, 2))
    written = write_benchmark(
        tmp_path / "t",
        benchmark_id="mine/custom-v1",
        configs={"width": [16, 32, 64, 128], "act": ["relu"] * 4, "depth": [1, 2, 3, 1]},
        n_steps=2,
        metrics={"valid_loss": loss, "test_loss": loss + 1, "runtime": runtime},
    )
    assert written.id == "mine/custom-v1" and written.reference_runtime == 2.0
    assert written.query({"width": 64, "act": "relu", "depth": 3}, fidelity=2, seed=2).metrics[
        "test_loss"
    ] == pytest.approx(1.0)


def test_bad_arguments_say_what_must_hold() -> None:
    with pytest.raises(ProtocolError, match="must not be a test-split metric"):
        run_study(make_benchmark(), RandomSearch,
                  Protocol(**{**PROTOCOL.to_dict(), "suite": PROTOCOL.suite, "objective": "test_loss"}), 0)  # fmt: skip
