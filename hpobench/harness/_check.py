"""``check_optimizer``: the conformance kit for optimizers (run it on yours, as the tests run it
on every baseline).

Each check runs short studies on small synthetic tables built in memory (no files, no registry),
chosen to exercise what real suites will: a discrete grid with one fidelity step and a
minimised objective; a continuous/mixed space (nearest-configuration lookups) with a 9-step
fidelity, a maximised objective, diverged runs (NaN values), 4 asynchronous workers and resumes;
the same without resumes on 2 workers; and determinism (same seed, same trajectory digest).

Use it in pytest::

    from hpobench.harness import optimizer_checks
    import pytest

    @pytest.mark.parametrize("name, check", optimizer_checks(make_optimizer))
    def test_conformance(name, check):
        check()
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from hpobench._errors import OptimizerError
from hpobench.benchmark import TabularBenchmark
from hpobench.harness._contract import OptimizerFactory
from hpobench.harness._protocol import Protocol, Suite
from hpobench.harness._simulator import check_factory, run_study
from hpobench.harness._trajectory import RunStatus, Trajectory
from hpobench.space import Categorical, Float, Int, Ordinal, SearchSpace
from hpobench.table import MetricSpec
from hpobench.testing import make_benchmark

__all__ = ["check_optimizer", "optimizer_checks"]

_SUITE = Suite(name="conformance", patterns=("conformance/*",))


_LOSS_ONLY = {
    "valid_loss": MetricSpec("valid_loss", "minimize", "valid"),
    "runtime": MetricSpec("runtime", "minimize", "none"),
}


def _table(
    benchmark_id: str,
    space: SearchSpace,
    configs: dict[str, np.ndarray],
    n_steps: int,
    *,
    maximize: bool,
    diverge: float,
    seed: int,
) -> TabularBenchmark:
    """A synthetic table (:func:`hpobench.testing.make_benchmark`): a smooth landscape + seed
    noise, improving with fidelity."""
    return make_benchmark(
        benchmark_id=benchmark_id,
        space=space,
        configs=configs,
        n_steps=n_steps,
        maximize=maximize,
        metric_specs=None if maximize else _LOSS_ONLY,
        diverge=diverge,
        seed=seed,
    )


@functools.lru_cache(maxsize=1)
def _grid_benchmark() -> TabularBenchmark:
    space = SearchSpace(
        [
            Ordinal("width", (8, 16, 32, 64, 128, 256)),
            Categorical("act", ("relu", "tanh", "elu")),
            Int("depth", 1, 4),
        ]
    )
    grid = list(space.grid())
    configs = {name: np.asarray([c[name] for c in grid]) for name in space.names}
    return _table("conformance/grid-v1", space, configs, 1, maximize=False, diverge=0.0, seed=1)


@functools.lru_cache(maxsize=1)
def _mixed_benchmark() -> TabularBenchmark:
    space = SearchSpace(
        [
            Float("lr", 1e-4, 1.0, log=True),
            Float("momentum", 0.0, 0.99),
            Categorical("act", ("relu", "tanh")),
            Int("layers", 1, 3),
            Ordinal("batch", (16, 32, 64)),
        ]
    )
    rng = np.random.default_rng(2)
    sampled = space.sample_many(rng, 120)
    configs = {name: np.asarray([c[name] for c in sampled]) for name in space.names}
    return _table("conformance/mixed-v1", space, configs, 9, maximize=True, diverge=0.05, seed=2)


def _protocol(name: str, *, workers: int, resume: bool, base: float, cap: float) -> Protocol:
    return Protocol(
        name=name,
        suite=_SUITE,
        n_workers=workers,
        n_repetitions=1,
        budget_base=base,
        budget_per_sqrt_dim=0.0,
        max_evaluations_factor=cap,
        allow_resume=resume,
    )


def _run(factory: OptimizerFactory, bench: TabularBenchmark, protocol: Protocol, what: str,
         call_timeout: float | None) -> Trajectory:  # fmt: skip
    traj = run_study(bench, factory, protocol, 0, call_timeout=call_timeout)
    m = traj.meta
    if m.status is RunStatus.FAILED:
        raise OptimizerError(f"check {what!r} failed: the run ended with a fault: {m.stop_reason}")
    if m.n_evaluations == 0:
        raise OptimizerError(
            f"check {what!r} failed: the optimizer made no evaluation ({m.stop_reason}); ask() must "
            "propose something at the start of a run."
        )
    return traj


def optimizer_checks(
    factory: OptimizerFactory, *, call_timeout: float | None = 30.0
) -> list[tuple[str, Callable[[], None]]]:
    """``(name, check)`` pairs; each check raises ``OptimizerError`` saying what broke."""
    sf = _protocol("conformance-sf-v1", workers=1, resume=False, base=20.0, cap=1.0)
    mf4 = _protocol("conformance-mf4-v1", workers=4, resume=True, base=12.0, cap=20.0)
    mf2 = _protocol("conformance-mf2-v1", workers=2, resume=False, base=12.0, cap=20.0)

    def signature() -> None:
        check_factory(factory)

    def single_fidelity_serial() -> None:
        _run(factory, _grid_benchmark(), sf, "single_fidelity_serial", call_timeout)

    def multi_fidelity_async_resume() -> None:
        _run(factory, _mixed_benchmark(), mf4, "multi_fidelity_async_resume", call_timeout)

    def multi_fidelity_no_resume() -> None:
        _run(factory, _mixed_benchmark(), mf2, "multi_fidelity_no_resume", call_timeout)

    def deterministic() -> None:
        a = _run(factory, _mixed_benchmark(), mf4, "deterministic", call_timeout)
        b = _run(factory, _mixed_benchmark(), mf4, "deterministic", call_timeout)
        if a.digest() != b.digest():
            ea, eb = a.events, b.events
            n = min(len(ea), len(eb))
            diff = next((i for i in range(n) if not ea.iloc[i, :15].equals(eb.iloc[i, :15])), n)
            raise OptimizerError(
                "check 'deterministic' failed: two runs with the same seed must give the same "
                f"trajectory, but they differ from event {diff} on. Draw randomness only from "
                "numpy.random.default_rng(seed) and avoid iterating over sets or the wall clock."
            )

    return [
        ("signature", signature),
        ("single_fidelity_serial", single_fidelity_serial),
        ("multi_fidelity_async_resume", multi_fidelity_async_resume),
        ("multi_fidelity_no_resume", multi_fidelity_no_resume),
        ("deterministic", deterministic),
    ]


def check_optimizer(factory: OptimizerFactory, *, call_timeout: float | None = 30.0) -> None:
    """Run every conformance check on ``factory``; raise ``OptimizerError`` at the first failure.

    Passing means: the factory accepts ``(problem, seed)``; its optimizer runs through a serial
    single-fidelity study, a 4-worker multi-fidelity study with resumes allowed (continuous space,
    NaN results, maximisation) and a 2-worker one without, without exceptions, invalid
    suggestions or calls over ``call_timeout`` seconds, and proposes something; and it is
    deterministic given its seed.
    """
    for _, check in optimizer_checks(factory, call_timeout=call_timeout):
        check()
