"""Any Optuna sampler as an hpobench optimizer (needs ``pip install 'hpobench[optuna]'``).

:class:`OptunaOptimizer` keeps an in-memory Optuna study and maps each ``ask`` to
``study.ask(distributions)`` and each ``tell`` to ``study.tell``, always at the maximal fidelity
(Optuna's samplers are single-fidelity). The space maps one to one: ``Float`` and ``Int`` to
``FloatDistribution`` / ``IntDistribution`` with their log flag, ``Ordinal`` to an
``IntDistribution`` over its value indices (so order is kept), ``Categorical`` to
``CategoricalDistribution``. Optuna minimises ``problem.loss``; a diverged run (NaN) is told as a
failed trial, which Optuna's samplers leave out of their models. Asynchronous workers work as
Optuna's ask/tell does: pending trials are known to the study (TPE's ``constant_liar``).

Optuna is imported only when an optimizer is built, and its log level is set to WARNING then
(Optuna logs every finished trial at INFO). Use it for any sampler::

    from baselines.optuna_adapter import sampler_factory
    import optuna
    make_optimizer = sampler_factory(lambda seed: optuna.samplers.QMCSampler(seed=seed))

or by name: ``optuna-tpe``, ``optuna-gp``, ``optuna-cmaes`` (Optuna's defaults, seeded).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

from baselines._validation import BaselineError, check_int, check_space
from hpobench import Categorical, Config, Float, Int, Ordinal
from hpobench.harness import Evaluation, OptimizerFactory, Problem, Suggestion

__all__ = [
    "OptunaOptimizer",
    "make_cmaes",
    "make_gp",
    "make_tpe",
    "sampler_factory",
]
__version__ = "1.0"


def _optuna(method: str) -> Any:
    try:
        import optuna
    except ImportError:
        raise BaselineError(
            f"{method} needs Optuna, but it is not installed: pip install 'hpobench[optuna]'."
        ) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


class OptunaOptimizer:
    """An Optuna sampler behind ``ask``/``tell``. ``sampler`` is any ``optuna.samplers.BaseSampler``."""

    def __init__(self, problem: Problem, sampler: Any, *, method: str = "optuna") -> None:
        check_space(problem.space, method)
        optuna = _optuna(method)
        if not isinstance(sampler, optuna.samplers.BaseSampler):
            raise BaselineError(
                f"{method}: sampler must be an optuna.samplers.BaseSampler, but got "
                f"{type(sampler).__name__}."
            )
        d = optuna.distributions
        self.problem = problem
        self._fail = optuna.trial.TrialState.FAIL
        self.distributions: dict[str, Any] = {}
        for hp in problem.space:
            if isinstance(hp, Float):
                self.distributions[hp.name] = d.FloatDistribution(hp.low, hp.high, log=hp.log)
            elif isinstance(hp, Int):
                self.distributions[hp.name] = d.IntDistribution(hp.low, hp.high, log=hp.log)
            elif isinstance(hp, Ordinal):
                self.distributions[hp.name] = d.IntDistribution(0, len(hp.values) - 1)
            elif isinstance(hp, Categorical):
                self.distributions[hp.name] = d.CategoricalDistribution(hp.choices)
        self.study = optuna.create_study(direction="minimize", sampler=sampler)
        self._trials: dict[Suggestion, Any] = {}

    def _config(self, params: dict[str, Any]) -> Config:
        return {
            hp.name: hp.values[params[hp.name]] if isinstance(hp, Ordinal) else params[hp.name]
            for hp in self.problem.space
        }

    def ask(self) -> Suggestion:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # experimental-feature and fallback notices
            trial = self.study.ask(self.distributions)
        s = Suggestion(self._config(trial.params))
        self._trials[s] = trial
        return s

    def tell(self, suggestion: Suggestion, evaluation: Evaluation) -> None:
        trial = self._trials.pop(suggestion)
        loss = self.problem.loss(evaluation.value)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if math.isinf(loss):
                self.study.tell(trial, state=self._fail)
            else:
                self.study.tell(trial, loss)


def sampler_factory(
    make_sampler: Callable[[int], Any], *, method: str = "optuna"
) -> OptimizerFactory:
    """An hpobench factory from ``make_sampler(seed) -> optuna sampler``."""

    def factory(problem: Problem, seed: int) -> OptunaOptimizer:
        return OptunaOptimizer(problem, make_sampler(seed), method=method)

    return factory


def make_tpe(problem: Problem, seed: int, *, n_startup_trials: int = 10) -> OptunaOptimizer:
    """Optuna's ``TPESampler`` with its defaults (multivariate, constant liar in Optuna 5)."""
    check_int("optuna-tpe", "n_startup_trials", n_startup_trials, low=0)
    optuna = _optuna("optuna-tpe")
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup_trials)
    return OptunaOptimizer(problem, sampler, method="optuna-tpe")


def make_gp(problem: Problem, seed: int, *, n_startup_trials: int = 10) -> OptunaOptimizer:
    """Optuna's ``GPSampler`` (GP with log expected improvement; needs torch and scipy)."""
    check_int("optuna-gp", "n_startup_trials", n_startup_trials, low=0)
    optuna = _optuna("optuna-gp")
    try:
        import torch  # noqa: F401
    except ImportError:
        raise BaselineError(
            'optuna-gp needs torch, but it is not installed: pip install "torch==2.13.0" '
            "--index-url https://download.pytorch.org/whl/cpu (the CPU build; a bare "
            "'hpobench[train]' install pulls the multi-GB CUDA build on Linux)."
        ) from None
    sampler = optuna.samplers.GPSampler(seed=seed, n_startup_trials=n_startup_trials)
    return OptunaOptimizer(problem, sampler, method="optuna-gp")


def make_cmaes(problem: Problem, seed: int, *, n_startup_trials: int = 1) -> OptunaOptimizer:
    """Optuna's ``CmaEsSampler`` (categorical hyperparameters are sampled independently by its
    random fallback, as Optuna does)."""
    check_int("optuna-cmaes", "n_startup_trials", n_startup_trials, low=0)
    optuna = _optuna("optuna-cmaes")
    try:
        import cmaes  # noqa: F401
    except ImportError:
        raise BaselineError(
            "optuna-cmaes needs the cmaes package, but it is not installed: "
            "pip install 'hpobench[optuna]'."
        ) from None
    sampler = optuna.samplers.CmaEsSampler(seed=seed, n_startup_trials=n_startup_trials)
    return OptunaOptimizer(problem, sampler, method="optuna-cmaes")
