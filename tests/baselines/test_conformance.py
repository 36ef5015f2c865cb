"""Every registered baseline: the conformance kit, byte-for-byte determinism, bad input refused
at construction (a table of entry point, input, error class and words of the message)."""

from __future__ import annotations

import functools
import importlib
from typing import Any

import numpy as np
import pytest

from baselines import BaselineError, get_baseline, list_baselines
from hpobench import Categorical, Fidelity, Float, Ordinal, SearchSpace
from hpobench.harness import Problem, RunStatus, optimizer_checks, run_study
from hpobench.harness._check import _grid_benchmark, _mixed_benchmark, _protocol, _table


def _missing(name: str) -> list[str]:
    missing = []
    for module in get_baseline(name).requires:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    return missing


def _skip_unavailable(name: str) -> None:
    missing = _missing(name)
    if missing:
        pytest.skip(f"{name} needs {missing} (pip install 'hpobench[{get_baseline(name).extra}]')")


NAMES = list_baselines()
# A GP fit per trial makes optuna-gp ~50x slower per check than the rest; it runs the
# asynchronous check and the byte-for-byte determinism test on a smaller budget. The adapter
# itself runs every check through optuna-tpe and optuna-cmaes.
SLOW = {"optuna-gp"}
SLOW_CHECKS = {"signature", "multi_fidelity_async_resume"}
CASES = [
    pytest.param(name, check, id=f"{name}-{check}")
    for name in NAMES
    for check in (
        "signature",
        "single_fidelity_serial",
        "multi_fidelity_async_resume",
        "multi_fidelity_no_resume",
        "deterministic",
    )
    if name not in SLOW or check in SLOW_CHECKS
]


@pytest.mark.parametrize(("name", "check_name"), CASES)
def test_check_optimizer(name: str, check_name: str) -> None:
    _skip_unavailable(name)
    spec = get_baseline(name)
    checks = dict(optimizer_checks(spec.load()))
    if check_name == "single_fidelity_serial" and spec.multi_fidelity:
        # a multi-fidelity method refuses a single-fidelity task at construction (tested below)
        traj = run_study(_grid_benchmark(), spec.load(),
                         _protocol("t-sf-v1", workers=1, resume=False, base=5.0, cap=1.0), 0)  # fmt: skip
        assert traj.meta.status is RunStatus.FAILED
        assert "BaselineError" in traj.meta.stop_reason
        assert "multi-fidelity method" in traj.meta.stop_reason
        return
    checks[check_name]()


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=[pytest.mark.slow] if n in SLOW else []) for n in NAMES]
)
def test_short_run_is_byte_for_byte_deterministic(name: str) -> None:
    _skip_unavailable(name)
    factory = get_baseline(name).load()
    base, min_evaluations = 10.0, 8
    if name in SLOW:  # a small budget, and the GP fitted from the third trial on
        factory, base, min_evaluations = functools.partial(factory, n_startup_trials=2), 5.0, 3
    protocol = _protocol("t-det-v1", workers=2, resume=True, base=base, cap=20.0)
    a = run_study(_mixed_benchmark(), factory, protocol, 3)
    b = run_study(_mixed_benchmark(), factory, protocol, 3)
    assert a.meta.status is not RunStatus.FAILED, a.meta.stop_reason
    assert a.meta.n_evaluations >= min_evaluations
    assert a.to_bytes(include_timing=False) == b.to_bytes(include_timing=False)


def test_registry_defaults_are_the_signature_defaults() -> None:
    for name in NAMES:
        spec = get_baseline(name)
        assert dict(spec.defaults) == spec.signature_defaults(), name


# -- bad input ----------------------------------------------------------------------------------
def _problem(*, fidelities: tuple[int, ...] = (1, 3, 9, 27), space: Any = None) -> Problem:
    return Problem(
        space=space
        if space is not None
        else SearchSpace([Float("lr", 1e-4, 1.0, log=True), Ordinal("width", (8, 16, 32))]),
        fidelity=Fidelity("epoch", fidelities),
        objective="valid_loss",
        direction="minimize",
        n_workers=1,
        time_budget=100.0,
        max_evaluations=100,
        allow_resume=True,
    )


class _ConditionalSpace(SearchSpace):
    """A space with conditions (hpobench has none yet; a future or user space might)."""

    conditions = ("width is active only if lr > 0.1",)


class _UnknownType:
    name = "mystery"


def _space_with_unknown_type() -> SearchSpace:
    space = SearchSpace([Float("lr", 1e-4, 1.0)])
    object.__setattr__(space, "_hps", (*space.hyperparameters, _UnknownType()))
    return space


_COMMON_BAD: list[tuple[str, dict[str, Any], str]] = [
    ("space", {}, "must have no conditions"),
    ("unknown-type", {}, "must be Float, Int, Ordinal or Categorical"),
    ("not-a-space", {}, "must be a hpobench.SearchSpace"),
]

# (baseline, settings, words the message must contain); every one is a BaselineError
BAD_SETTINGS: list[tuple[str, dict[str, Any], str]] = [
    ("random-search", {"chunk": 0}, "1 <= chunk"),
    ("asha", {"eta": 1.0}, "1.0 < eta"),
    ("asha", {"eta": float("nan")}, "1.0 < eta"),
    ("async-hyperband", {"eta": "3"}, "1.0 < eta"),
    ("hyperband", {"eta": 1}, "1.0 < eta"),
    ("hyperband", {"min_fidelity": 5}, "min_fidelity must be None or one of"),
    ("successive-halving", {"eta": -2.0}, "1.0 < eta"),
    ("bohb", {"random_fraction": 1.5}, "random_fraction <= 1.0"),
    ("bohb", {"bandwidth_factor": 0.0}, "0.0 < bandwidth_factor"),
    ("bohb", {"top_n_percent": 100}, "top_n_percent <= 99"),
    ("bohb", {"num_samples": 0}, "1 <= num_samples"),
    ("bohb", {"min_bandwidth": 0.0}, "0.0 < min_bandwidth"),
    ("bohb", {"min_points_in_model": 2}, "min_points_in_model >= d \\+ 1 = 3"),
    ("dehb", {"mutation_factor": 0.0}, "0.0 < mutation_factor <= 2.0"),
    ("dehb", {"crossover_prob": 1.5}, "0.0 <= crossover_prob <= 1.0"),
    ("one-epoch-top-k", {"k": 0}, "1 <= k"),
    ("one-epoch-top-k", {"n_configs": 2}, "3 <= n_configs"),
    ("one-epoch-top-k", {"screen_fidelity": 27}, "screen_fidelity must be None or a fidelity"),
    ("optuna-tpe", {"n_startup_trials": -1}, "0 <= n_startup_trials"),
    ("optuna-gp", {"n_startup_trials": 1.5}, "0 <= n_startup_trials"),
    ("optuna-cmaes", {"n_startup_trials": None}, "0 <= n_startup_trials"),
    ("regularized-evolution", {"sample_size": 30}, "sample_size <= population_size"),
    ("regularized-evolution", {"population_size": 0}, "1 <= population_size"),
]


@pytest.mark.parametrize(("name", "settings", "words"), BAD_SETTINGS)
def test_bad_settings_fail_at_construction(name: str, settings: dict[str, Any], words: str) -> None:
    _skip_unavailable(name)
    with pytest.raises(BaselineError, match=words.replace("(", r"\(").replace(")", r"\)")):
        get_baseline(name).load()(_problem(), 0, **settings)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("what", "words"), [(w, m) for w, _, m in _COMMON_BAD])
def test_spaces_it_cannot_handle_fail_at_construction(name: str, what: str, words: str) -> None:
    _skip_unavailable(name)
    space: Any = {
        "space": _ConditionalSpace([Float("lr", 1e-4, 1.0)]),
        "unknown-type": _space_with_unknown_type(),
        "not-a-space": {"lr": (0.0, 1.0)},
    }[what]
    with pytest.raises(BaselineError, match=words):
        get_baseline(name).load()(_problem(space=space), 0)


@pytest.mark.parametrize("name", [n for n in NAMES if get_baseline(n).multi_fidelity])
def test_multi_fidelity_methods_refuse_a_single_fidelity(name: str) -> None:
    _skip_unavailable(name)
    with pytest.raises(BaselineError, match=r"is a multi-fidelity method.*at least 2 fidelity"):
        get_baseline(name).load()(_problem(fidelities=(27,)), 0)


@pytest.mark.parametrize("name", [n for n in NAMES if get_baseline(n).multi_fidelity])
def test_multi_fidelity_methods_run_on_two_fidelity_values(name: str) -> None:
    """R / r_min < eta: Hyperband's schedule degenerates to one bracket of one configuration."""
    _skip_unavailable(name)
    space = SearchSpace([Float("lr", 1e-3, 1.0, log=True), Categorical("a", ("x", "y"))])
    sampled = space.sample_many(np.random.default_rng(0), 50)
    configs = {n: np.asarray([c[n] for c in sampled]) for n in space.names}
    bench = _table("two/t-v1", space, configs, 2, maximize=False, diverge=0.1, seed=4)
    proto = _protocol("two-v1", workers=2, resume=True, base=10.0, cap=20.0)
    traj = run_study(bench, get_baseline(name).load(), proto, 0)
    assert traj.meta.status is not RunStatus.FAILED, traj.meta.stop_reason
    assert traj.meta.n_evaluations >= 3
